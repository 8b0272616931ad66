"""Graph encoder E: an architecture DAG -> feature map e in R^{C x N x N} (paper Sec. 3.3).

Nodes are embedded from their operation and position, refined by GIN message passing along the
DAG's edges in both directions (a node's meaning depends on what feeds it and what it feeds),
and every pair (i, j) gets the vector ``tanh(A h_i + B h_j + a_ij w)``: the diagonal carries the node,
the off-diagonal entries carry whether the edge exists. The decoder reads ops from the diagonal
and edges from the upper triangle.
"""

from __future__ import annotations

import torch
from torch import nn


def _mlp(width: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width))


class GINConv(nn.Module):
    """Graph isomorphism network layer (Xu et al., ICLR 2019): ``nn((1 + eps) x_i + sum of x_j
    over edges j -> i)``. It is PyG's ``GINConv`` with a fixed ``eps``, written out in torch with
    the same sum order and parameter names (tested equal bit for bit), so that loading a model
    to generate and rank does not import PyG (seconds and 160 MB)."""

    eps: torch.Tensor

    def __init__(self, mlp: nn.Module, eps: float = 0.0):
        super().__init__()
        self.nn = mlp
        self.register_buffer("eps", torch.full((1,), eps))

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        """x (nodes, width), edge_index (2, edges) of (source, target) rows -> (nodes, width)."""
        source, target = edge_index
        messages = x[source]
        summed = x.new_zeros(x.shape).scatter_add_(0, target[:, None].expand_as(messages), messages)
        return self.nn(summed + (1 + self.eps) * x)


def batched_edge_index(adjacency: torch.Tensor) -> torch.Tensor:
    """Dense (B, N, N) 0/1 adjacency -> PyG edge_index over the B*N stacked nodes."""
    batch, src, dst = adjacency.nonzero(as_tuple=True)
    offset = batch * adjacency.shape[1]
    return torch.stack([src + offset, dst + offset])


class NodeEncoder(nn.Module):
    """Node states of a batch of DAGs: operation and position embeddings refined by GIN message
    passing along the edges in both directions. Shared by the graph encoder (stage 1) and the
    performance predictor, which pool the same kind of states differently."""

    def __init__(self, num_node_types: int, num_nodes: int, hidden: int = 64, layers: int = 3):
        super().__init__()
        self.op_embedding = nn.Embedding(num_node_types, hidden)
        self.position_embedding = nn.Embedding(num_nodes, hidden)
        self.forward_convs = nn.ModuleList(GINConv(_mlp(hidden)) for _ in range(layers))
        self.backward_convs = nn.ModuleList(GINConv(_mlp(hidden)) for _ in range(layers))
        self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(layers))

    def node_states(self, ops: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        """ops (B, N) node-type indices, adjacency (B, N, N) 0/1 -> (B, N, hidden)."""
        batch, num_nodes = ops.shape
        positions = torch.arange(num_nodes, device=ops.device)
        h = (self.op_embedding(ops) + self.position_embedding(positions)).reshape(batch * num_nodes, -1)
        edges = batched_edge_index(adjacency)
        reverse = edges.flip(0)
        for forward_conv, backward_conv, norm in zip(self.forward_convs, self.backward_convs, self.norms):
            h = norm(h + torch.relu(forward_conv(h, edges) + backward_conv(h, reverse)))
        return h.view(batch, num_nodes, -1)


class GraphEncoder(NodeEncoder):
    def __init__(self, num_node_types: int, num_nodes: int, channels: int, hidden: int = 64, layers: int = 3, edge_signal: float = 0.1):
        super().__init__(num_node_types, num_nodes, hidden, layers)
        self.source_projection = nn.Linear(hidden, channels)
        self.target_projection = nn.Linear(hidden, channels)
        self.edge_vector = nn.Parameter(torch.randn(channels) * edge_signal)

    def forward(self, ops: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        """ops (B, N) node-type indices, adjacency (B, N, N) 0/1 -> e (B, C, N, N)."""
        h = self.node_states(ops, adjacency)
        source = self.source_projection(h)  # (B, N, C)
        target = self.target_projection(h)
        pairs = source[:, :, None, :] + target[:, None, :, :]
        pairs = pairs + adjacency[..., None].to(pairs.dtype) * self.edge_vector
        # tanh bounds e so that one small codebook can follow it at every scale
        return torch.tanh(pairs).permute(0, 3, 1, 2).contiguous()
