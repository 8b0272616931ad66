"""NAS-Bench-Graph (Qin et al., NeurIPS 2022) as an ops-on-nodes DAG, with a real PyG GNN.

An architecture has 4 operation nodes; ``link[k]`` is the single source of op node ``k + 1``
(0 = the input, ``m`` = op node ``m``) and the output node sums every op node that no other op
node reads. Only the 9 link patterns of the benchmark (``nas_bench_graph.link_list``) are
valid, and "all four ops are skip" is excluded (the benchmark has no such row).

Canonical string: ``link=0,0,1,2|ops=gcn,gat,sage,fc`` (the link pattern, then the ops of op
nodes 1..4). Different (link, ops) pairs can be the same architecture, e.g. two parallel
branches listed in either order. ``to_string`` maps every pair to the representative that the
benchmark itself tabulates (the decoded ``Arch.valid_hash()``), so canonical strings
correspond one-to-one to the table's keys. That equivalence is the benchmark's, and it is a
little coarser than "same DAG up to reordering the op nodes": of the 35,910 such classes,
the benchmark merges some that differ only in where a ``skip`` sits (e.g. a ``skip`` branch
beside other branches counts as a ``skip`` in front of them) into 26,206 keys; it never splits
a class. ``from_string`` accepts any well-formed valid pair, canonical or not.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import cached_property, partial
from typing import Any

import numpy as np
import torch
from nas_bench_graph import Arch, gnn_list, gnn_list_proteins, link_list
from torch import nn

from pnag_sampler.errors import InvalidArchitectureError
from pnag_sampler.spaces.base import INPUT, OUTPUT, Dag, DagCell, SearchSpace, require_positive
from pnag_sampler.spaces.structure import ABSENT, FREE

Link = tuple[int, ...]
Ops = tuple[str, ...]

LINKS: tuple[Link, ...] = tuple(tuple(link) for link in link_list)
#: the link patterns as they appear in strings and parameters, e.g. "0,0,1,2"
LINK_TEXTS = tuple(",".join(map(str, link)) for link in LINKS)
#: every operation of the benchmark, in the order its keys encode them
ALL_OPERATIONS: Ops = tuple(gnn_list)
#: the registered spaces: name -> operations (PROTEINS was only benchmarked on 5 of the ops)
GRAPH_SPACES: dict[str, Ops] = {
    "nasbench_graph": ALL_OPERATIONS,
    "nasbench_graph_proteins": tuple(gnn_list_proteins),
}
NUM_OP_NODES = 4
NUM_NODES = NUM_OP_NODES + 2
PARAM_NAMES = ("link", *(f"op{k}" for k in range(1, NUM_OP_NODES + 1)))


# -- benchmark keys ----------------------------------------------------------------------------
def benchmark_key(link: Link, ops: Ops) -> int:
    """The key under which NAS-Bench-Graph tabulates (an equivalent of) this architecture."""
    return Arch(list(link), list(ops)).valid_hash()


def _encode(link: Link, ops: Ops) -> int:
    """Inverse of ``decode_key``: the benchmark's base-10 digits (link index, 4 op indices)."""
    key = LINKS.index(link)
    for op in ops:
        key = key * (len(ALL_OPERATIONS) + 1) + ALL_OPERATIONS.index(op)
    return key


def decode_key(key: int) -> tuple[Link, Ops]:
    """The (link, ops) pair a benchmark key stands for."""
    base = len(ALL_OPERATIONS) + 1
    digits = []
    for _ in range(NUM_OP_NODES):
        key, digit = divmod(key, base)
        digits.append(digit)
    return LINKS[key], tuple(ALL_OPERATIONS[d] for d in reversed(digits))


def format_arch(link: Link, ops: Ops) -> str:
    return f"link={LINK_TEXTS[LINKS.index(link)]}|ops={','.join(ops)}"


def _leaves(link: Link) -> list[int]:
    """Op nodes that no other op node reads: the output node's inputs."""
    return [node for node in range(1, NUM_OP_NODES + 1) if node not in link]


def _dag(link: Link, ops: Ops) -> Dag:
    edges = [(src, node) for node, src in enumerate(link, start=1)]
    edges += [(leaf, NUM_NODES - 1) for leaf in _leaves(link)]
    return Dag((INPUT, *ops, OUTPUT), tuple(sorted(edges)))


# -- modules ------------------------------------------------------------------------------------
class GraphOp(nn.Module):
    """One op node: a message-passing or node-wise layer, then ReLU (skip is a bare identity)."""

    def __init__(self, layer: nn.Module, uses_edges: bool, activate: bool) -> None:
        super().__init__()
        self.layer = layer
        self.uses_edges = uses_edges
        self.activate = activate

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        out = self.layer(x, edge_index) if self.uses_edges else self.layer(x)
        return torch.relu(out) if self.activate else out


def _make_op(op: str, hidden: int) -> GraphOp:
    # PyG takes ~2 s to import; only graph modules need it, so NB201 users never pay for it.
    from torch_geometric import nn as gnn

    if op == "skip":
        return GraphOp(nn.Identity(), uses_edges=False, activate=False)
    if op == "fc":
        return GraphOp(nn.Linear(hidden, hidden), uses_edges=False, activate=True)
    convs = {
        # two heads as in the benchmark; averaged so that any hidden size works
        "gat": lambda: gnn.GATConv(hidden, hidden, heads=2, concat=False),
        "gcn": lambda: gnn.GCNConv(hidden, hidden),
        "gin": lambda: gnn.GINConv(nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden))),
        "cheb": lambda: gnn.ChebConv(hidden, hidden, K=2),
        "sage": lambda: gnn.SAGEConv(hidden, hidden),
        "arma": lambda: gnn.ARMAConv(hidden, hidden),
        "graph": lambda: gnn.GraphConv(hidden, hidden),
    }
    return GraphOp(convs[op](), uses_edges=True, activate=True)


class GraphNetwork(nn.Module):
    """Node classifier: linear pre-processing, the DAG cell at ``hidden`` width, linear head.

    ``forward`` takes a torch_geometric ``Data`` (``x``, ``edge_index``) and returns per-node
    logits of shape ``(num_nodes, num_classes)``.
    """

    def __init__(self, cell: Dag, in_channels: int, hidden: int, num_classes: int) -> None:
        super().__init__()
        require_positive(in_channels=in_channels, hidden=hidden, num_classes=num_classes)
        self.pre = nn.Linear(in_channels, hidden)
        self.cell = DagCell(cell, partial(_make_op, hidden=hidden))
        self.classifier = nn.Linear(hidden, num_classes)

    def forward(self, data: Any) -> torch.Tensor:
        return self.classifier(self.cell(self.pre(data.x), data.edge_index))


# -- the space ---------------------------------------------------------------------------------
class NasBenchGraphSpace(SearchSpace):
    """The NAS-Bench-Graph cells over ``operations`` (all 9 ops, or the 5 of PROTEINS)."""

    num_nodes = NUM_NODES

    def __init__(self, name: str, operations: Sequence[str]) -> None:
        self.name = name
        self.operations = tuple(operations)

    def _space_problem(self, dag: Dag) -> str | None:
        link = []
        for node in range(1, NUM_OP_NODES + 1):
            sources = dag.predecessors(node)
            if len(sources) != 1:
                return f"op node {node} must have exactly one input, got {sources}"
            link.append(sources[0])
        if tuple(link) not in LINKS:
            return f"link {link} is not one of the benchmark's patterns {[list(pattern) for pattern in LINKS]}"
        expected, got = _leaves(tuple(link)), sorted(dag.predecessors(NUM_NODES - 1))
        if got != expected:
            return f"the output must read exactly the op nodes no other op node reads, {expected}; got {got}"
        if set(dag.ops[1:-1]) == {"skip"}:
            return "all four operations are 'skip' (the identity), which the benchmark excludes"
        return None

    # -- structure ------------------------------------------------------------------------------
    def edge_states(self) -> np.ndarray:
        """Each op node reads one earlier node and the output reads the leaves: every forward
        edge but input -> output is free; the links decide which are present."""
        states = np.triu(np.full((NUM_NODES, NUM_NODES), FREE), k=1)
        states[0, NUM_NODES - 1] = ABSENT
        return states

    @cached_property
    def _link_adjacency(self) -> torch.Tensor:
        """(links, N, N) adjacency of every link pattern."""
        return torch.stack([torch.from_numpy(_dag(link, ("skip",) * NUM_OP_NODES).adjacency()) for link in LINKS])

    def project(self, op_logits: torch.Tensor, edge_logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The best link pattern by edge logits and the best operations by op logits, which
        are independent; where the best operations are all ``skip``, the cheapest single change
        to another operation (the benchmark has no all-skip cell)."""
        log_probs = self.structure.masked_ops(op_logits)[:, 1:-1]
        ops = log_probs.argmax(-1)
        if "skip" in self.operations:
            skip = self.node_types.index("skip")
            all_skip = (ops == skip).all(1)
            if bool(all_skip.any()):
                best_other, other_type = log_probs.index_fill(2, torch.tensor([skip]), -torch.inf).max(-1)
                node = (log_probs[..., skip] - best_other).argmin(1)
                rows = all_skip.nonzero().squeeze(1)
                ops[rows, node[rows]] = other_type[rows, node[rows]]
        patterns = self._link_adjacency.to(edge_logits.device)
        best = (edge_logits[:, None] * patterns).sum((2, 3)).argmax(1)
        ends = ops.new_tensor([self.node_types.index(INPUT), self.node_types.index(OUTPUT)]).expand(len(ops), 2)
        return torch.cat([ends[:, :1], ops, ends[:, 1:]], 1), patterns[best]

    def _link_and_ops(self, dag: Dag) -> tuple[Link, Ops]:
        self.require_valid(dag)
        link = tuple(dag.predecessors(node)[0] for node in range(1, NUM_OP_NODES + 1))
        return link, dag.ops[1:-1]

    def _checked_dag(self, link: Link, ops: Ops) -> Dag:
        return self.require_valid(_dag(link, ops))

    # -- strings --------------------------------------------------------------------------------
    def to_string(self, dag: Dag) -> str:
        return format_arch(*decode_key(benchmark_key(*self._link_and_ops(dag))))

    def from_string(self, text: str) -> Dag:
        if not isinstance(text, str):
            raise InvalidArchitectureError(f"a {self.name} string must be a str, got {type(text).__name__}")
        link_part, sep, ops_part = text.partition("|")
        if not (sep and link_part.startswith("link=") and ops_part.startswith("ops=")):
            raise InvalidArchitectureError(f"{self.name} string {text!r} must look like 'link=0,0,1,2|ops=gcn,gat,sage,fc'")
        link_text = link_part.removeprefix("link=")
        ops = tuple(ops_part.removeprefix("ops=").split(","))
        if link_text not in LINK_TEXTS:
            raise InvalidArchitectureError(f"{self.name} string {text!r}: link {link_text!r} is not one of {list(LINK_TEXTS)}")
        if len(ops) != NUM_OP_NODES:
            raise InvalidArchitectureError(f"{self.name} string {text!r}: expected {NUM_OP_NODES} ops, got {len(ops)}")
        return self._checked_dag(LINKS[LINK_TEXTS.index(link_text)], ops)

    def string_of_key(self, key: int) -> str:
        """Canonical string of a benchmark table key (keys are already canonical)."""
        return format_arch(*decode_key(key))

    # -- parameters -----------------------------------------------------------------------------
    def parameter_choices(self) -> dict[str, tuple[str, ...]]:
        return {"link": LINK_TEXTS, **{name: self.operations for name in PARAM_NAMES[1:]}}

    def to_params(self, dag: Dag) -> dict[str, str]:
        link, ops = self._link_and_ops(dag)
        return dict(zip(PARAM_NAMES, (LINK_TEXTS[LINKS.index(link)], *ops)))

    def from_params(self, params: dict[str, Any]) -> Dag:
        link_text, *ops = self.checked_params(params).values()
        return self._checked_dag(LINKS[LINK_TEXTS.index(link_text)], tuple(ops))

    # -- sampling -------------------------------------------------------------------------------
    @cached_property
    def _unique(self) -> tuple[Dag, ...]:
        return tuple(
            _dag(link, ops)
            for link in LINKS
            for ops in itertools.product(self.operations, repeat=NUM_OP_NODES)
            if set(ops) != {"skip"} and benchmark_key(link, ops) == _encode(link, ops)
        )

    def unique_architectures(self) -> list[Dag]:
        """One canonical DAG per distinct architecture, in benchmark key order."""
        return list(self._unique)

    def sample(self, rng: np.random.Generator, n: int) -> list[Dag]:
        """``n`` draws, uniform over the distinct architectures (not over (link, ops) pairs)."""
        return [self._unique[i] for i in rng.integers(len(self._unique), size=n)]

    # -- modules --------------------------------------------------------------------------------
    def build_module(self, dag: Dag, in_channels: int = 16, hidden: int = 32, num_classes: int = 4) -> GraphNetwork:
        return GraphNetwork(self.require_valid(dag), in_channels, hidden, num_classes)

    def build_sub_module(self, dag: Dag, in_channels: int = 16, hidden: int = 32, num_classes: int = 4) -> GraphNetwork:
        return GraphNetwork(self.require_sub_architecture(dag), in_channels, hidden, num_classes)

    def example_input(self, batch_size: int = 2) -> Any:
        """``batch_size`` random 8-node graphs (a ring plus chords, 16 features per node),
        batched into one disconnected graph as PyG does; matches the default ``in_channels``.
        """
        from torch_geometric.data import Batch, Data  # lazy, as in _make_op

        nodes = 8
        ring = torch.arange(nodes)
        src = torch.cat([ring, ring[::2]])
        dst = torch.cat([(ring + 1) % nodes, (ring[::2] + 3) % nodes])
        edge_index = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
        graphs = [Data(x=torch.randn(nodes, 16), edge_index=edge_index) for _ in range(batch_size)]
        return Batch.from_data_list(graphs)
