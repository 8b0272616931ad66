"""Decoder D: a feature map of any generated scale -> node-type and edge logits.

The same decoder reads the full N x N map e_hat and every region-averaged n x n scale, which is
what makes each scale a sub-architecture of its own. It knows which position it reads: every
scale has a learned embedding per (i, j) added before two small MLP heads, so a fixed wiring or
a slot's vocabulary is not a coin it can lose. It scores node types on the diagonal and only the
edges the space leaves free, which is also what keeps decoding cheap. The decoder only scores; what it may choose (the
space's free nodes and edges) and how a score becomes an architecture (raw argmax or the most
likely valid one) is the ``pnag_sampler.spaces.structure.Structure``'s business.
"""

from __future__ import annotations

import torch
from torch import nn


def _head(hidden: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, outputs))


class ArchitectureDecoder(nn.Module):
    def __init__(self, channels: int, num_node_types: int, scales: tuple[int, ...], hidden: int = 64):
        super().__init__()
        self.input_projection = nn.Linear(channels, hidden)
        self.positions = nn.ParameterDict({str(n): nn.Parameter(torch.randn(n, n, hidden) * 0.02) for n in scales})
        self.op_head = _head(hidden, num_node_types)
        self.edge_head = _head(hidden, 1)

    def forward(self, feature_map: torch.Tensor, free_edges: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C, n, n) -> op logits (B, n, types) and edge logits (B, n, n), the latter only at
        ``free_edges`` (n, n) bool (zero elsewhere: fixed edges are never scored)."""
        n = feature_map.shape[-1]
        positions = self.positions[str(n)]  # (n, n, hidden)
        features = feature_map.permute(0, 2, 3, 1)  # (B, n, n, C)
        diagonal = torch.diagonal(features, dim1=1, dim2=2).transpose(1, 2)  # (B, n, C)
        op_logits = self.op_head(self.input_projection(diagonal) + torch.diagonal(positions).T)
        edge_logits = feature_map.new_zeros(feature_map.shape[0], n, n)
        if bool(free_edges.any()):
            free = free_edges.to(feature_map.device)
            edge_logits[:, free] = self.edge_head(self.input_projection(features[:, free]) + positions[free]).squeeze(-1)
        return op_logits, edge_logits
