"""What spaces fix and leave free, and decoding as the most likely valid architecture."""

import itertools

import numpy as np
import pytest
import torch

from pnag_sampler.model.graph_tensors import dags_to_tensors, tensors_to_dags
from pnag_sampler.model.scales import scale_structures
from pnag_sampler.spaces import SPACE_NAMES, get_space
from pnag_sampler.spaces.base import Dag
from pnag_sampler.spaces.structure import Structure


def _logits(structure: Structure, batch: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    n, types = structure.vocabulary.shape
    return torch.randn(batch, n, types, generator=generator) * 3, torch.randn(batch, n, n, generator=generator) * 3


def _scores(structure: Structure, op_logits, edge_logits, ops, adjacency) -> torch.Tensor:
    """Log-likelihood of (ops, adjacency) under the logits: each node's type among its allowed
    types, each free edge on or off."""
    log_probs = structure.masked_ops(op_logits).gather(2, ops[..., None]).squeeze(-1).sum(1)
    signs = adjacency.float() * 2 - 1
    edges = torch.nn.functional.logsigmoid(edge_logits * signs)[:, structure.free_edges].sum(1)
    return log_probs + edges


def _structures(name):
    space = get_space(name)
    return space, scale_structures(space, space.generation_scales or range(3, space.num_nodes + 1))


@pytest.mark.parametrize("name", SPACE_NAMES)
def test_projection_is_valid_at_every_scale_and_keeps_raw_valid_samples(name):
    space, structures = _structures(name)
    for structure in structures:
        full = structure.num_nodes == space.num_nodes
        op_logits, edge_logits = _logits(structure, 300, seed=structure.num_nodes)
        ops, adjacency = (space.project if full else structure.project)(op_logits, edge_logits)
        check = space.problem if full else space.sub_architecture_problem
        assert [check(d) for d in tensors_to_dags(space.node_types, ops, adjacency)] == [None] * 300
        raw_ops, raw_adjacency = structure.raw(op_logits, edge_logits)
        for i, dag in enumerate(tensors_to_dags(space.node_types, raw_ops, raw_adjacency)):
            if check(dag) is None:
                assert torch.equal(ops[i], raw_ops[i]) and torch.equal(adjacency[i], raw_adjacency[i])


@pytest.mark.parametrize("name", SPACE_NAMES)
def test_projection_scores_at_least_every_valid_architecture(name):
    """The projection is the most likely valid architecture: no valid architecture of the
    space (here 2,000 random ones) scores higher under the same logits."""
    space, structures = _structures(name)
    structure = structures[-1]
    op_logits, edge_logits = _logits(structure, 20, seed=1)
    best = _scores(structure, op_logits, edge_logits, *space.project(op_logits, edge_logits))
    ops, adjacency = dags_to_tensors(space.node_types, space.sample(np.random.default_rng(0), 2000))
    for i in range(20):
        others = _scores(structure, op_logits[i].expand(2000, -1, -1), edge_logits[i].expand(2000, -1, -1), ops, adjacency)
        assert float(others.max()) <= float(best[i]) + 1e-4


@pytest.mark.parametrize("name", ["nasbench_graph", "nasbench_graph_proteins"])
def test_nasbench_graph_projection_is_exact(name):
    """Brute force over every valid (link, ops) pair of the space."""
    space = get_space(name)
    structure = space.structure
    every = [
        d
        for d in (
            Dag.from_matrix(("input", *ops, "output"), link.numpy())
            for link in space._link_adjacency
            for ops in itertools.product(space.operations, repeat=4)
        )
        if space.problem(d) is None
    ]
    ops, adjacency = dags_to_tensors(space.node_types, every)
    op_logits, edge_logits = _logits(structure, 5, seed=2)
    op_logits[:, 1:-1, space.node_types.index("skip")] += 20  # the best ops would be all skip
    best = _scores(structure, op_logits, edge_logits, *space.project(op_logits, edge_logits))
    for i in range(5):
        scores = _scores(structure, op_logits[i].expand(len(every), -1, -1), edge_logits[i].expand(len(every), -1, -1), ops, adjacency)
        assert float(scores.max()) == pytest.approx(float(best[i]), abs=1e-4)


def test_structures_say_what_is_fixed():
    nb201 = get_space("nb201").structure
    assert not nb201.free_edges.any() and nb201.free_nodes.tolist() == [False] + [True] * 6 + [False]
    graph = get_space("nasbench_graph").structure
    assert int(graph.free_edges.sum()) == 14  # every forward edge but input -> output
    mbv3 = get_space("mbv3")
    assert not mbv3.structure.free_edges.any()
    # a coarse DARTS scale allows only sources that a shorter cell has
    darts, structures = _structures("darts")
    coarse = structures[1]
    allowed = [darts.node_types[t] for t in coarse.vocabulary[1].nonzero().squeeze(1)]
    assert allowed and all(int(t.rpartition("~")[2]) <= 1 for t in allowed)


def test_operations_only_check_ignores_edges():
    """DiffusionNAG's check (the paper's Table 6) looks at operations only; ours at the edges too."""
    space = get_space("nb201")
    dag = space.sample(np.random.default_rng(0), 1)[0]
    extra = Dag(dag.ops, tuple(sorted({*dag.edges, (0, 7)})))
    assert space.operations_problem(extra) is None
    assert "wiring" in space.problem(extra)
    assert "holds 'output'" in space.operations_problem(Dag(dag.ops[:3] + ("output",) + dag.ops[4:], dag.edges))


@pytest.mark.parametrize("name", ["darts", "mbv3", "autoformer", "autoformer-base"])
def test_shipped_chain_weights_deliver_valid_chains_at_every_scale(name):
    """Each scale of what the shipped chain generators deliver is a chain the space can build;
    under the checkpoint's own settings the decoder's raw output is mostly valid too."""
    from pnag_sampler.generator import PNAG

    model = PNAG.pretrained(name)
    generation = model.generate(40, seed=0, **model.generation_defaults())
    assert generation.valid == [True] * 40
    for scale in generation.sub_architectures[:-1]:
        assert [model.space.sub_architecture_problem(d) for d in scale] == [None] * 40
    assert np.mean([p is None for p in generation.raw_problems]) >= 0.5
