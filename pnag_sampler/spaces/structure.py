"""What a space fixes and what it leaves free, and the most likely valid DAG under given scores.

A ``Structure`` says, for DAGs of one size, which node types each node may carry and which
edges are fixed present, fixed absent or free. The decoder predicts only the free choices, and
decoding picks the highest-scoring DAG that the structure and the DAG rules allow (every node on
an input-output path). Spaces with rules across slots (NAS-Bench-Graph's links, MobileNetV3's
unused layers, DARTS's input pairs) refine this projection for their full architectures.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

#: edge states in ``Structure.edges``
ABSENT, PRESENT, FREE = 0, 1, -1
#: exact edge projection enumerates 2**free patterns; more free edges need a space's own rule
MAX_ENUMERATED_EDGES = 16


@dataclass(frozen=True, eq=False)
class Structure:
    """Allowed node types and edge states of the DAGs of one size of a space."""

    #: (n, T) bool: node types node i may carry
    vocabulary: torch.Tensor
    #: (n, n) int8, strict upper triangle: PRESENT, ABSENT or FREE (lower triangle ABSENT)
    edges: torch.Tensor

    @property
    def num_nodes(self) -> int:
        return int(self.vocabulary.shape[0])

    @cached_property
    def free_edges(self) -> torch.Tensor:
        """(n, n) bool: the edges the decoder predicts."""
        return self.edges == FREE

    @cached_property
    def free_nodes(self) -> torch.Tensor:
        """(n,) bool: nodes with more than one allowed type, whose type the decoder predicts."""
        return self.vocabulary.sum(1) > 1

    @cached_property
    def fixed_types(self) -> torch.Tensor:
        """(n,) the type of each node with exactly one allowed type (free nodes: 0)."""
        return torch.where(self.free_nodes, 0, self.vocabulary.long().argmax(1))

    def fill(self, ops: torch.Tensor, free_edges: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Fixed nodes and edges from the structure, free ones from ``ops`` (B, n) and the
        bool ``free_edges`` (B, n, n) -> ops (B, n), 0/1 adjacency (B, n, n)."""
        ops = torch.where(self.free_nodes, ops, self.fixed_types)
        adjacency = torch.where(self.free_edges, free_edges, self.edges == PRESENT)
        return ops, adjacency.long()

    def raw(self, op_logits: torch.Tensor, edge_logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The decoder's unconstrained output: argmax over every node type, every free edge
        present where its logit is positive, fixed structure from the space."""
        return self.fill(op_logits.argmax(-1), edge_logits > 0)

    def masked_ops(self, op_logits: torch.Tensor) -> torch.Tensor:
        """(B, n, T) log-probabilities over each node's allowed types (others -inf)."""
        return op_logits.masked_fill(~self.vocabulary, -torch.inf).log_softmax(-1)

    def project(self, op_logits: torch.Tensor, edge_logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The most likely DAG that the structure allows and whose every node lies on an
        input-output path: node types and edges are independent given the logits, so the best
        allowed type per node and the best valid pattern of the free edges."""
        ops = self.masked_ops(op_logits).argmax(-1)
        return self.fill(ops, self.best_edges(edge_logits))

    def best_edges(self, edge_logits: torch.Tensor) -> torch.Tensor:
        """(B, n, n) bool free edges of the highest-scoring valid pattern: a pattern scores the
        sum of its present edges' logits (log p(on) - log p(off), up to a constant)."""
        free = self.free_edges
        batch = edge_logits.shape[0]
        if not bool(free.any()):
            return torch.zeros(batch, *free.shape, dtype=torch.bool, device=edge_logits.device)
        patterns = self.edge_patterns().to(edge_logits.device)
        scores = edge_logits[:, free] @ patterns.T.float()
        best = patterns[scores.argmax(1)]
        chosen = torch.zeros(batch, *free.shape, dtype=torch.bool, device=edge_logits.device)
        chosen[:, free] = best
        return chosen

    def edge_patterns(self) -> torch.Tensor:
        """(P, free) bool: every setting of the free edges that gives a valid DAG (enumerated
        once; raises when the free edges are too many to enumerate)."""
        return self._valid_patterns

    @cached_property
    def _valid_patterns(self) -> torch.Tensor:
        free = self.free_edges.numpy()
        count = int(free.sum())
        if count > MAX_ENUMERATED_EDGES:
            raise NotImplementedError(f"{count} free edges are too many to enumerate; the space must project its own architectures")
        bits = (np.arange(2**count)[:, None] >> np.arange(count)) & 1
        adjacency = np.broadcast_to((self.edges == PRESENT).numpy(), (len(bits), *free.shape)).copy()
        adjacency[:, free] = bits.astype(bool)
        patterns = bits[every_node_on_a_path(adjacency)]
        if len(patterns) == 0:
            raise ValueError("the structure admits no valid DAG")
        return torch.from_numpy(patterns.astype(bool))


def every_node_on_a_path(adjacency: np.ndarray) -> np.ndarray:
    """(P, n, n) bool upper-triangular DAGs -> (P,) bool: every node is reachable from node 0
    and reaches node n - 1 (node order is topological)."""
    count, n, _ = adjacency.shape
    reached = np.zeros((count, n), dtype=bool)
    reached[:, 0] = True
    for node in range(1, n):
        reached[:, node] = (reached[:, :node] & adjacency[:, :node, node]).any(1)
    reaches = np.zeros((count, n), dtype=bool)
    reaches[:, n - 1] = True
    for node in range(n - 2, -1, -1):
        reaches[:, node] = (reaches[:, node + 1 :] & adjacency[:, node, node + 1 :]).any(1)
    return np.asarray((reached & reaches).all(1))


def wiring_states(num_nodes: int, wiring: tuple[tuple[int, int], ...]) -> np.ndarray:
    """Edge states of a fixed wiring: its edges PRESENT, every other ABSENT."""
    states = np.full((num_nodes, num_nodes), ABSENT)
    for src, dst in wiring:
        states[src, dst] = PRESENT
    return states


def full_structure(node_types: tuple[str, ...], node_vocabulary: list[tuple[str, ...]], edges: np.ndarray) -> Structure:
    """A structure from each node's allowed type names and an (n, n) array of edge states."""
    index = {name: i for i, name in enumerate(node_types)}
    vocabulary = torch.zeros(len(node_vocabulary), len(node_types), dtype=torch.bool)
    for node, allowed in enumerate(node_vocabulary):
        vocabulary[node, [index[name] for name in allowed]] = True
    states = torch.as_tensor(np.triu(edges, k=1), dtype=torch.int8)
    return Structure(vocabulary, states)
