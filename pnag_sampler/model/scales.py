"""Region averaging (RAA) and interpolation between an N-node feature map and n-node scales.

A scale with n nodes keeps the input as its first node and the output as its last; the N-2
operation nodes are split into n-2 contiguous regions (node order is a topological order, so
regions stay in topological order). Region averaging and interpolation are fixed linear maps,
precomputed once as matrices, so a whole batch moves between scales with two matrix products.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from pnag_sampler.spaces.base import SearchSpace
from pnag_sampler.spaces.structure import ABSENT, FREE, PRESENT, Structure, full_structure


def regions(num_nodes: int, scale: int) -> list[list[int]]:
    """Original node indices grouped into ``scale`` regions: [input], n-2 op groups, [output]."""
    if not 3 <= scale <= num_nodes:
        raise ValueError(f"scale must be in 3..{num_nodes}, got {scale}")
    middle = np.array_split(np.arange(1, num_nodes - 1), scale - 2)
    return [[0], *[group.tolist() for group in middle], [num_nodes - 1]]


def membership_matrix(num_nodes: int, scale: int) -> torch.Tensor:
    """0/1 matrix (scale x num_nodes): entry (r, i) is 1 when node i lies in region r."""
    matrix = torch.zeros(scale, num_nodes)
    for r, nodes in enumerate(regions(num_nodes, scale)):
        matrix[r, nodes] = 1.0
    return matrix


def pooling_matrix(num_nodes: int, scale: int) -> torch.Tensor:
    """Region-averaging matrix (scale x num_nodes); rows sum to 1."""
    member = membership_matrix(num_nodes, scale)
    return member / member.sum(dim=1, keepdim=True)


def interpolation_matrix(num_nodes: int, scale: int) -> torch.Tensor:
    """Linear interpolation (num_nodes x scale) between region centres; rows sum to 1."""
    centres = np.array([np.mean(nodes) for nodes in regions(num_nodes, scale)])
    matrix = torch.zeros(num_nodes, scale)
    for node in range(num_nodes):
        upper = int(np.searchsorted(centres, node, side="left"))
        if centres[min(upper, scale - 1)] == node:
            matrix[node, upper] = 1.0
            continue
        lower = upper - 1
        weight = (node - centres[lower]) / (centres[upper] - centres[lower])
        matrix[node, lower] = 1.0 - weight
        matrix[node, upper] = weight
    return matrix


def apply_both_sides(matrix: torch.Tensor, feature_map: torch.Tensor) -> torch.Tensor:
    """``matrix @ F @ matrix.T`` on every channel: (B, C, a, a) -> (B, C, m, m)."""
    return torch.einsum("ix,bcxy,jy->bcij", matrix, feature_map, matrix)


def coarsen_architecture(ops: torch.Tensor, adjacency: torch.Tensor, structure: Structure) -> tuple[torch.Tensor, torch.Tensor]:
    """The sub-architecture with ``structure.num_nodes`` nodes that a full architecture implies.

    Region r takes the most frequent of its nodes' operations that the scale's structure allows
    there (ties: the earlier node type), and regions r < s are joined when any edge joins their
    nodes. Because regions are contiguous in topological order, every region of a valid
    architecture lies on an input-output path, so the coarsened DAG is valid too: these are the
    targets each scale is trained to decode to.
    ops (B, N) -> (B, scale); adjacency (B, N, N) -> (B, scale, scale).
    """
    num_nodes, scale = ops.shape[1], structure.num_nodes
    member = membership_matrix(num_nodes, scale).to(adjacency.device)
    counts = member @ torch.nn.functional.one_hot(ops, structure.vocabulary.shape[1]).float()
    coarse_ops = counts.masked_fill(~structure.vocabulary.to(counts.device), -1.0).argmax(-1)
    linked = apply_both_sides(member, adjacency[:, None].float())[:, 0] > 0
    coarse_adjacency = (linked & torch.ones_like(linked).triu(diagonal=1)).long()
    return coarse_ops, coarse_adjacency


def coarsen_structure(structure: Structure, scale: int, limit: list[tuple[str, ...]] | None, node_types: Sequence[str]) -> Structure:
    """What a full structure fixes at ``scale`` nodes: an operation region may carry any
    operation that a full architecture's nodes may, within ``limit`` (a space's rule for
    sub-architectures), so the structure admits exactly what the space's sub-architecture
    check does; a pair of regions is joined for sure when a fixed edge joins their nodes,
    never when no edge may, else free."""
    member = membership_matrix(structure.num_nodes, scale).bool()
    middle = structure.vocabulary[1:-1].any(0)
    vocabulary = torch.stack([structure.vocabulary[0], *[middle] * (scale - 2), structure.vocabulary[-1]])
    if limit is not None:
        vocabulary &= full_structure(tuple(node_types), limit, np.zeros((scale, scale))).vocabulary
    edges = torch.full((scale, scale), ABSENT, dtype=torch.int8)
    for r in range(scale):
        for t in range(r + 1, scale):
            states = structure.edges[member[r]][:, member[t]]
            edges[r, t] = PRESENT if bool((states == PRESENT).any()) else ABSENT if bool((states == ABSENT).all()) else FREE
    return Structure(vocabulary, edges)


def scale_structures(space: SearchSpace, scales: Sequence[int]) -> list[Structure]:
    """The structure of every generated scale of ``space``, coarse to fine. A coarse scale
    with free edges enumerates its valid edge patterns here, so that a space whose scales
    cannot be projected fails when its model is built, not when it generates."""
    structures = [
        space.structure if n == space.num_nodes else coarsen_structure(space.structure, n, space.sub_node_vocabulary(n), space.node_types)
        for n in scales
    ]
    for structure in structures[:-1]:
        if bool(structure.free_edges.any()):
            structure.edge_patterns()
    return structures
