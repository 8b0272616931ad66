"""Decoder D: two linear layers from a feature map to node operations and adjacency.

Both layers act position-wise, so the same decoder reads the full N x N map e_hat and every
region-averaged n x n scale: that is what makes each scale a sub-architecture of its own.
Edges are read from the strict upper triangle only, because node order is topological.
Decoding takes the argmax and a 0.5 threshold and nothing else: outputs are never repaired.
"""

from __future__ import annotations

import torch
from torch import nn


class ArchitectureDecoder(nn.Module):
    def __init__(self, channels: int, num_node_types: int):
        super().__init__()
        self.op_head = nn.Linear(channels, num_node_types)
        self.edge_head = nn.Linear(channels, 1)

    def forward(self, feature_map: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C, n, n) -> op logits (B, n, types) and edge logits (B, n, n)."""
        diagonal = torch.diagonal(feature_map, dim1=2, dim2=3).transpose(1, 2)
        op_logits = self.op_head(diagonal)
        edge_logits = self.edge_head(feature_map.permute(0, 2, 3, 1)).squeeze(-1)
        return op_logits, edge_logits

    @torch.no_grad()
    def decode(self, feature_map: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Hard decision: op indices (B, n) and 0/1 strict-upper-triangular adjacency (B, n, n)."""
        op_logits, edge_logits = self(feature_map)
        upper = torch.ones_like(edge_logits, dtype=torch.bool).triu(diagonal=1)
        return op_logits.argmax(-1), ((edge_logits > 0) & upper).long()
