"""Search spaces: strings, parameters, validity, sampling and real torch modules."""

from __future__ import annotations

import copy
import itertools
import pickle
from collections import Counter

import numpy as np
import pytest
import torch

from pnag_sampler.errors import InvalidArchitectureError, UnknownNameError
from pnag_sampler.spaces import SPACE_NAMES, Dag, SearchSpace, get_space
from pnag_sampler.spaces.base import DagCell
from pnag_sampler.spaces.nasbench_graph import ALL_OPERATIONS, LINK_TEXTS, LINKS, benchmark_key
from pnag_sampler.spaces.nb201 import OPERATIONS as NB201_OPS
from pnag_sampler.spaces.nb201 import WIRING

NB201_EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
NB201_KEYS = ["1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2"]
GRAPH_KEYS = ["op1", "op2", "op3", "op4"]


@pytest.fixture(scope="module")
def nb201() -> SearchSpace:
    return get_space("nb201")


@pytest.fixture(scope="module")
def graph() -> SearchSpace:
    return get_space("nasbench_graph")


@pytest.fixture(scope="module")
def proteins() -> SearchSpace:
    return get_space("nasbench_graph_proteins")


def graph_dag(link: tuple[int, ...], ops: tuple[str, ...]) -> Dag:
    """A NAS-Bench-Graph DAG written out by hand: op node k+1 reads link[k]."""
    leaves = [node for node in range(1, 5) if node not in link]
    edges = [(src, node) for node, src in enumerate(link, start=1)] + [(leaf, 5) for leaf in leaves]
    return Dag(("input", *ops, "output"), tuple(sorted(edges)))


# -- registry -------------------------------------------------------------------------------------
def test_registry_names_and_caching() -> None:
    assert SPACE_NAMES == ("nb201", "nasbench_graph", "nasbench_graph_proteins", "darts", "mbv3", "autoformer", "autoformer-base", "hpolib")
    for name in SPACE_NAMES:
        assert get_space(name) is get_space(name)
        assert get_space(name).name == name


def test_unknown_space_lists_known_names() -> None:
    with pytest.raises(UnknownNameError, match="known spaces: nb201, nasbench_graph"):
        get_space("nb101")


def test_a_dag_travels_without_its_kept_hash() -> None:
    dag = Dag(("input", "conv", "output"), ((0, 1), (1, 2)))
    hash(dag)  # kept on the instance from now on
    state = dag.__getstate__()
    assert state == {"ops": dag.ops, "edges": dag.edges}  # a string's hash differs in another process
    copied = pickle.loads(pickle.dumps(dag))
    assert copied == dag and hash(copied) == hash(dag) and {dag: 1}[copied] == 1
    assert copy.deepcopy(dag) == dag


# -- DagCell semantics ----------------------------------------------------------------------------
def test_dag_cell_sums_predecessors() -> None:
    # input -> a (x2), input -> b (x3), a -> b; output = a + b
    dag = Dag(("input", "a", "b", "output"), ((0, 1), (0, 2), (1, 2), (1, 3), (2, 3)))
    scale = {"a": 2.0, "b": 3.0}

    class Scale(torch.nn.Module):
        def __init__(self, factor: float) -> None:
            super().__init__()
            self.factor = factor

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.factor * x

    cell = DagCell(dag, lambda op: Scale(scale[op]))
    x = torch.ones(3)
    a = 2 * x
    b = 3 * (x + a)
    assert torch.allclose(cell(x), a + b)


# -- NB201 ----------------------------------------------------------------------------------------
def test_nb201_every_cell_round_trips(nb201: SearchSpace) -> None:
    strings = set()
    for ops in itertools.product(NB201_OPS, repeat=6):
        dag = nb201.from_params(dict(zip(nb201.parameter_choices(), ops)))
        text = nb201.to_string(dag)
        assert nb201.from_string(text) == dag
        strings.add(text)
    assert len(strings) == 15_625


def test_nb201_string_layout(nb201: SearchSpace) -> None:
    dag = nb201.from_string(NB201_EXAMPLE)
    assert dag.ops == (
        "input",
        "nor_conv_3x3",
        "nor_conv_3x3",
        "avg_pool_3x3",
        "skip_connect",
        "nor_conv_3x3",
        "skip_connect",
        "output",
    )
    assert dag.edges == WIRING
    assert WIRING == ((0, 1), (0, 2), (0, 4), (1, 3), (1, 5), (2, 6), (3, 6), (4, 7), (5, 7), (6, 7))
    assert nb201.to_string(dag) == NB201_EXAMPLE
    assert nb201.to_params(dag) == {
        "1<-0": "nor_conv_3x3",
        "2<-0": "nor_conv_3x3",
        "2<-1": "avg_pool_3x3",
        "3<-0": "skip_connect",
        "3<-1": "nor_conv_3x3",
        "3<-2": "skip_connect",
    }


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "3 '\\+'-separated groups"),
        ("|none~0|+|none~0|none~1|", "3 '\\+'-separated groups"),
        (NB201_EXAMPLE + "+|none~0|", "3 '\\+'-separated groups"),
        ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "must start and end with '\\|'"),
        ("|none~0|+|none~0|none~1|+", "must start and end with '\\|'"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "must list 2 edge"),
        ("|none~0|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "must list 1 edge"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "must be '<op>~0'"),
        ("|none~0|+|none~0|none~1|+|none~0|none~2|none~1|", "must be '<op>~1'"),
        ("|none-0|+|none~0|none~1|+|none~0|none~1|none~2|", "must be '<op>~0'"),
        ("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|x", "must start and end"),
        ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown operation 'conv'"),
        (" " + NB201_EXAMPLE, "must start and end"),
    ],
)
def test_nb201_from_string_rejects_malformed(nb201: SearchSpace, text: str, reason: str) -> None:
    with pytest.raises(InvalidArchitectureError, match=reason):
        nb201.from_string(text)


def test_nb201_from_string_rejects_non_strings(nb201: SearchSpace) -> None:
    with pytest.raises(InvalidArchitectureError, match="must be a str"):
        nb201.from_string(None)  # type: ignore[arg-type]


def test_nb201_params(nb201: SearchSpace) -> None:
    choices = nb201.parameter_choices()
    assert list(choices) == NB201_KEYS
    assert all(values == NB201_OPS for values in choices.values())
    for dag in nb201.sample(np.random.default_rng(0), 50):
        assert nb201.from_params(nb201.to_params(dag)) == dag


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"1<-0": "none"}, "missing \\['2<-0'"),
        ({**dict.fromkeys(NB201_KEYS, "none"), "4<-0": "none"}, "unexpected \\['4<-0'\\]"),
        (dict.fromkeys(NB201_KEYS, "conv"), "'1<-0' = 'conv'"),
    ],
)
def test_nb201_from_params_rejects(nb201: SearchSpace, params: dict, reason: str) -> None:
    with pytest.raises(InvalidArchitectureError, match=reason):
        nb201.from_params(params)


def test_nb201_invalid_dags_have_reasons(nb201: SearchSpace) -> None:
    good = nb201.from_string(NB201_EXAMPLE)
    assert nb201.is_valid(good) and nb201.problem(good) is None

    rewired = Dag(good.ops, tuple(e for e in WIRING if e != (1, 5)) + ((0, 5),))
    assert not nb201.is_valid(rewired)
    assert "missing edges [(1, 5)], unexpected edges [(0, 5)]" in nb201.problem(rewired)

    extra = Dag(good.ops, tuple(sorted(WIRING + ((0, 7),))))
    assert "unexpected edges [(0, 7)]" in nb201.problem(extra)

    wrong_op = Dag(good.ops[:3] + ("gcn",) + good.ops[4:], WIRING)
    assert "node 3 has operation 'gcn'" in nb201.problem(wrong_op)

    short = Dag(("input", "none", "output"), ((0, 1), (1, 2)))
    assert "have 8 nodes, got 3" in nb201.problem(short)

    with pytest.raises(InvalidArchitectureError, match="not a valid nb201 architecture"):
        nb201.to_string(rewired)
    with pytest.raises(InvalidArchitectureError, match="expected a Dag, got str"):
        nb201.to_params(NB201_EXAMPLE)  # type: ignore[arg-type]


def test_nb201_sample_is_uniform(nb201: SearchSpace) -> None:
    dags = nb201.sample(np.random.default_rng(1), 4000)
    assert len(dags) == 4000 and all(nb201.is_valid(d) for d in dags)
    counts = Counter(op for d in dags for op in d.ops[1:-1])
    for op in NB201_OPS:  # 24,000 draws, each op expected 4,800 times (sd ~62)
        assert abs(counts[op] - 4800) < 400
    assert nb201.sample(np.random.default_rng(1), 5) == nb201.sample(np.random.default_rng(1), 5)


def test_nb201_small_forward(nb201: SearchSpace) -> None:
    dag = nb201.from_string(NB201_EXAMPLE)
    model = nb201.build_module(dag, channels=4, cells_per_stage=1, num_classes=7)
    out = model(nb201.example_input(3))
    assert out.shape == (3, 7) and torch.isfinite(out).all()


def test_nb201_default_network_matches_official_parameter_counts(nb201: SearchSpace) -> None:
    # the official NB201 parameter counts of these cells (params_cifar10: 0.802426, 0.073306 M)
    dag = nb201.from_string(NB201_EXAMPLE)
    model = nb201.build_module(dag)
    assert sum(p.numel() for p in model.parameters()) == 802_426
    model.eval()
    with torch.no_grad():
        assert model(nb201.example_input(2)).shape == (2, 10)
    all_none = nb201.from_params(dict.fromkeys(nb201.parameter_choices(), "none"))
    assert sum(p.numel() for p in nb201.build_module(all_none).parameters()) == 73_306


def test_nb201_sub_modules(nb201: SearchSpace) -> None:
    three = Dag(("input", "nor_conv_3x3", "output"), ((0, 1), (1, 2)))
    five = Dag(
        ("input", "nor_conv_1x1", "avg_pool_3x3", "skip_connect", "output"),
        ((0, 1), (0, 2), (1, 3), (2, 3), (2, 4), (3, 4)),
    )
    for dag in (three, five):
        model = nb201.build_sub_module(dag, channels=4, cells_per_stage=1)
        assert model(nb201.example_input(2)).shape == (2, 10)
    with pytest.raises(InvalidArchitectureError, match="not a valid nb201"):
        nb201.build_module(five)
    dangling = Dag(("input", "nor_conv_1x1", "skip_connect", "output"), ((0, 1), (0, 2), (1, 3)))
    with pytest.raises(InvalidArchitectureError, match="node 2 does not reach the output"):
        nb201.build_sub_module(dangling)
    with pytest.raises(InvalidArchitectureError, match="'gcn', not one of"):
        nb201.build_sub_module(Dag(("input", "gcn", "output"), ((0, 1), (1, 2))))


def test_nb201_rejects_bad_sizes(nb201: SearchSpace) -> None:
    dag = nb201.from_string(NB201_EXAMPLE)
    with pytest.raises(InvalidArchitectureError, match="channels must be a positive integer"):
        nb201.build_module(dag, channels=0)
    with pytest.raises(InvalidArchitectureError, match="cells_per_stage must be a positive"):
        nb201.build_sub_module(dag, cells_per_stage=1.5)


# -- NAS-Bench-Graph ------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "count"), [("nasbench_graph", 26_206), ("nasbench_graph_proteins", 2_021)])
def test_graph_unique_architectures_are_canonical(name: str, count: int) -> None:
    space = get_space(name)
    dags = space.unique_architectures()
    strings = [space.to_string(d) for d in dags]
    assert len(dags) == count and len(set(strings)) == count
    for dag, text in zip(dags, strings):
        assert space.from_string(text) == dag


def test_graph_spaces_operations(graph: SearchSpace, proteins: SearchSpace) -> None:
    assert graph.operations == ("gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip")
    assert proteins.operations == ("gcn", "sage", "arma", "fc", "skip")
    assert graph.num_nodes == proteins.num_nodes == 6


def test_graph_string_format(graph: SearchSpace) -> None:
    dag = graph_dag((0, 0, 1, 2), ("gcn", "gat", "sage", "fc"))
    assert dag.edges == ((0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 5))
    assert graph.from_string("link=0,0,1,2|ops=gcn,gat,sage,fc") == dag
    assert graph.to_string(graph.from_string("link=0,1,2,3|ops=gcn,gat,sage,fc")) == ("link=0,1,2,3|ops=gcn,gat,sage,fc")


def test_graph_equivalent_dags_share_a_string(graph: SearchSpace) -> None:
    # four parallel branches: any order is the same computation
    strings = {graph.to_string(graph_dag((0, 0, 0, 0), ops)) for ops in itertools.permutations(("sage", "gcn", "gat", "gin"))}
    assert strings == {"link=0,0,0,0|ops=gat,gcn,gin,sage"}
    # the two chains of link 0,0,1,2 (1->3 and 2->4) swapped
    chains = graph_dag((0, 0, 1, 2), ("gcn", "gat", "sage", "fc"))
    swapped = graph_dag((0, 0, 1, 2), ("gat", "gcn", "fc", "sage"))
    assert graph.to_string(chains) == graph.to_string(swapped)
    # the benchmark also merges some skip placements that differ under "output = sum of
    # leaves": a skip branch beside other branches is moved in front of them
    assert graph.to_string(graph_dag((0, 0, 0, 0), ("skip", "fc", "sage", "gcn"))) == ("link=0,1,1,1|ops=skip,gcn,sage,fc")
    # different computations keep different strings
    chain = graph_dag((0, 1, 2, 3), ("gcn", "gat", "sage", "fc"))
    reordered = graph_dag((0, 1, 2, 3), ("gat", "gcn", "sage", "fc"))
    assert graph.to_string(chain) != graph.to_string(reordered)


def test_graph_strings_match_benchmark_keys(graph: SearchSpace) -> None:
    """Every (link, ops) pair canonicalises to the pair its benchmark key encodes."""
    for link in LINKS:
        for ops in itertools.product(("gcn", "skip", "fc"), repeat=4):
            if set(ops) == {"skip"}:
                continue
            text = graph.to_string(graph_dag(link, ops))
            canonical = graph.from_string(text)
            assert benchmark_key(link, ops) == benchmark_key(tuple(canonical.predecessors(n)[0] for n in range(1, 5)), canonical.ops[1:-1])


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "must look like"),
        ("0,0,1,2|gcn,gat,sage,fc", "must look like"),
        ("ops=gcn,gat,sage,fc|link=0,0,1,2", "must look like"),
        ("link=0,0,1,2,ops=gcn,gat,sage,fc", "must look like"),
        ("link=0,0,0,2|ops=gcn,gat,sage,fc", "link '0,0,0,2' is not one of"),
        ("link=0, 0, 1, 2|ops=gcn,gat,sage,fc", "link '0, 0, 1, 2' is not one of"),
        ("link=0,0,1,2|ops=gcn,gat,sage", "expected 4 ops, got 3"),
        ("link=0,0,1,2|ops=gcn,gat,sage,fc,fc", "expected 4 ops, got 5"),
        ("link=0,0,1,2|ops=gcn,gat,sage,conv", "'conv', not one of"),
        ("link=0,0,1,2|ops=gcn,gat,sage,fc|x", "'fc\\|x', not one of"),
        ("link=0,0,1,2|ops=skip,skip,skip,skip", "all four operations are 'skip'"),
    ],
)
def test_graph_from_string_rejects_malformed(graph: SearchSpace, text: str, reason: str) -> None:
    with pytest.raises(InvalidArchitectureError, match=reason):
        graph.from_string(text)


def test_proteins_rejects_ops_outside_its_subset(proteins: SearchSpace) -> None:
    with pytest.raises(InvalidArchitectureError, match="'gat', not one of"):
        proteins.from_string("link=0,0,1,2|ops=gcn,gat,sage,fc")
    assert proteins.to_string(proteins.from_string("link=0,0,0,0|ops=fc,arma,sage,gcn")) == ("link=0,0,0,0|ops=gcn,sage,arma,fc")


def test_graph_params(graph: SearchSpace, proteins: SearchSpace) -> None:
    choices = graph.parameter_choices()
    assert list(choices) == ["link", "op1", "op2", "op3", "op4"]
    assert choices["link"] == tuple(",".join(map(str, link)) for link in LINKS) == LINK_TEXTS
    assert len(choices["link"]) == 9 and choices["op1"] == ALL_OPERATIONS
    assert proteins.parameter_choices()["op4"] == proteins.operations
    for link in LINKS:
        dag = graph_dag(link, ("gin", "cheb", "skip", "arma"))
        params = graph.to_params(dag)
        assert params["link"] == ",".join(map(str, link))
        assert graph.from_params(params) == dag
    with pytest.raises(InvalidArchitectureError, match="'link' = '0,0,0,2'"):
        graph.from_params({"link": "0,0,0,2", **dict.fromkeys(GRAPH_KEYS, "gcn")})
    with pytest.raises(InvalidArchitectureError, match="missing \\['op4'\\]"):
        graph.from_params({"link": "0,0,0,0", "op1": "gcn", "op2": "gcn", "op3": "gcn"})
    with pytest.raises(InvalidArchitectureError, match="'op1' = 'gat'"):
        proteins.from_params({"link": "0,0,0,0", **dict.fromkeys(GRAPH_KEYS, "gcn"), "op1": "gat"})
    with pytest.raises(InvalidArchitectureError, match="all four operations are 'skip'"):
        graph.from_params({"link": "0,0,0,0", **dict.fromkeys(GRAPH_KEYS, "skip")})


def test_graph_invalid_dags_have_reasons(graph: SearchSpace) -> None:
    ops = ("input", "gcn", "gat", "sage", "fc", "output")
    unlisted_link = graph_dag((0, 0, 0, 2), ops[1:-1])
    assert "link [0, 0, 0, 2] is not one of" in graph.problem(unlisted_link)
    two_inputs = Dag(ops, ((0, 1), (0, 2), (0, 3), (1, 3), (1, 4), (2, 5), (3, 5), (4, 5)))
    assert "op node 3 must have exactly one input, got [0, 1]" in graph.problem(two_inputs)
    bad_output = Dag(ops, ((0, 1), (0, 2), (1, 3), (2, 4), (1, 5), (3, 5), (4, 5)))
    assert graph.problem(bad_output).endswith("the output must read exactly the op nodes no other op node reads, [3, 4]; got [1, 3, 4]")
    input_to_output = Dag(ops, ((0, 1), (0, 2), (0, 5), (1, 3), (2, 4), (3, 5), (4, 5)))
    assert "got [0, 3, 4]" in graph.problem(input_to_output)
    unknown_op = graph_dag((0, 0, 1, 2), ("gcn", "conv", "fc", "fc"))
    assert "'conv', not one of" in graph.problem(unknown_op)
    assert not graph.is_valid(graph_dag((0, 0, 0, 0), ("skip",) * 4))


def test_graph_sample_is_uniform_over_unique(graph: SearchSpace) -> None:
    unique = set(graph.unique_architectures())
    dags = graph.sample(np.random.default_rng(0), 3000)
    assert all(d in unique for d in dags)
    assert len(set(dags)) > 2800  # 3,000 draws from 26,206 hit ~2,840 distinct
    # link patterns appear as often as among the unique architectures (not 1/9 each)
    expected = Counter(graph.to_params(d)["link"] for d in unique)
    seen = Counter(graph.to_params(d)["link"] for d in dags)
    for link, count in expected.items():
        assert abs(seen[link] / 3000 - count / len(unique)) < 0.03


def test_graph_forward_covers_every_operation(graph: SearchSpace) -> None:
    data = graph.example_input(3)
    assert data.x.shape == (24, 16) and data.num_graphs == 3
    every_op = (("gat", "gcn", "gin", "cheb"), ("sage", "arma", "graph", "fc"))
    for ops in (*every_op, ("skip", "gcn", "skip", "fc")):
        for link in ((0, 1, 2, 3), (0, 0, 1, 1)):
            model = graph.build_module(graph_dag(link, ops), hidden=8, num_classes=3)
            out = model(data)
            assert out.shape == (24, 3) and torch.isfinite(out).all()
    out.sum().backward()


def test_graph_sub_modules(graph: SearchSpace) -> None:
    data = graph.example_input(1)
    three = Dag(("input", "gcn", "output"), ((0, 1), (1, 2)))
    five = Dag(
        ("input", "sage", "skip", "gat", "output"),
        ((0, 1), (0, 2), (0, 4), (1, 3), (2, 3), (3, 4)),
    )
    for dag in (three, five):
        assert graph.build_sub_module(dag, in_channels=16, hidden=8).forward(data).shape == (8, 4)
    with pytest.raises(InvalidArchitectureError, match="not a valid nasbench_graph"):
        graph.build_module(five)
    with pytest.raises(InvalidArchitectureError, match="hidden must be a positive integer"):
        graph.build_sub_module(three, hidden=-1)
    with pytest.raises(InvalidArchitectureError, match="'conv3x3', not one of"):
        graph.build_sub_module(Dag(("input", "conv3x3", "output"), ((0, 1), (1, 2))))


@pytest.mark.parametrize("name", SPACE_NAMES)
def test_neighbours_differ_in_one_parameter_and_are_valid(name: str) -> None:
    space = get_space(name)
    (dag,) = space.sample(np.random.default_rng(0), 1)
    params = space.to_params(dag)
    neighbours = space.neighbours(dag)
    strings = [space.to_string(other) for other in neighbours]
    assert neighbours and len(set(strings)) == len(strings) and space.to_string(dag) not in strings
    for other in neighbours:
        assert space.is_valid(other)
    if name == "nb201":  # every slot is free: each neighbour changes exactly one operation
        assert len(neighbours) == sum(len(choices) - 1 for choices in space.parameter_choices().values())
        assert all(sum(a != b for a, b in zip(space.to_params(other).values(), params.values())) == 1 for other in neighbours)
