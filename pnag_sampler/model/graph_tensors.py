"""Batches of ``Dag`` <-> tensors (node-type indices and dense adjacency)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from pnag_sampler.spaces.base import Dag


def dags_to_tensors(node_types: Sequence[str], dags: Sequence[Dag]) -> tuple[torch.Tensor, torch.Tensor]:
    """-> ops (B, N) long, adjacency (B, N, N) long. All DAGs must have the same node count."""
    index = {name: i for i, name in enumerate(node_types)}
    ops = torch.tensor([[index[op] for op in dag.ops] for dag in dags], dtype=torch.long)
    adjacency = torch.from_numpy(np.stack([dag.adjacency() for dag in dags]))
    return ops, adjacency


def tensors_to_dags(node_types: Sequence[str], ops: torch.Tensor, adjacency: torch.Tensor) -> list[Dag]:
    """Inverse of ``dags_to_tensors``; reads only the strict upper triangle."""
    ops_np = ops.cpu().numpy()
    adjacency_np = adjacency.cpu().numpy()
    return [Dag.from_matrix([node_types[i] for i in row], matrix) for row, matrix in zip(ops_np, adjacency_np)]
