"""A graph-VAE architecture generator: the baseline of the paper's efficiency comparison (Fig. 4
left, "VAE-based, implemented by ourselves"), implemented here the same way.

Architectures are the package's ops-on-nodes DAGs. The encoder is a dense GIN (messages along
and against the edges) pooled to a Gaussian latent; the decoder is an MLP from the latent to
every node's operation and every upper-triangle edge, decoded by argmax and a 0.5 threshold.
It trains on architectures only (reconstruction + KL), and generates by decoding samples of
the prior, so its outputs are not repaired: an invalid decoding counts against its validity.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pnag_sampler.model.graph_tensors import dags_to_tensors, tensors_to_dags
from pnag_sampler.spaces.base import Dag


class GraphVAE(nn.Module):
    def __init__(self, node_types: Sequence[str], nodes: int, *, hidden: int = 64, latent: int = 16, layers: int = 3) -> None:
        super().__init__()
        self.node_types, self.nodes, self.latent = tuple(node_types), nodes, latent
        self.embed = nn.Embedding(len(node_types), hidden)
        self.position = nn.Parameter(torch.zeros(nodes, hidden))
        self.gin = nn.ModuleList(nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden)) for _ in range(layers))
        self.to_latent = nn.Linear(2 * hidden, 2 * latent)
        self.decoder = nn.Sequential(nn.Linear(latent, 4 * hidden), nn.ReLU(), nn.Linear(4 * hidden, 4 * hidden), nn.ReLU())
        self.op_head = nn.Linear(4 * hidden, nodes * len(node_types))
        self.edge_head = nn.Linear(4 * hidden, nodes * nodes)
        self.register_buffer("upper", torch.triu(torch.ones(nodes, nodes, dtype=torch.bool), diagonal=1))

    def encode(self, ops: torch.Tensor, adjacency: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        states = self.embed(ops) + self.position
        adjacency = adjacency.float()
        for layer in self.gin:
            states = states + layer(states + adjacency @ states + adjacency.transpose(1, 2) @ states)
        pooled = torch.cat([states.mean(dim=1), states.amax(dim=1)], dim=1)
        mean, log_variance = self.to_latent(pooled).chunk(2, dim=1)
        return mean, log_variance

    def decode(self, latent: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.decoder(latent)
        op_logits = self.op_head(hidden).view(-1, self.nodes, len(self.node_types))
        edge_logits = self.edge_head(hidden).view(-1, self.nodes, self.nodes)
        return op_logits, edge_logits

    def loss(self, ops: torch.Tensor, adjacency: torch.Tensor, beta: float) -> torch.Tensor:
        mean, log_variance = self.encode(ops, adjacency)
        latent = mean + torch.randn_like(mean) * torch.exp(0.5 * log_variance)
        op_logits, edge_logits = self.decode(latent)
        reconstruction = F.cross_entropy(op_logits.transpose(1, 2), ops) + F.binary_cross_entropy_with_logits(
            edge_logits[:, self.upper], adjacency[:, self.upper].float()
        )
        kl = -0.5 * torch.mean(torch.sum(1 + log_variance - mean.pow(2) - log_variance.exp(), dim=1))
        return reconstruction + beta * kl

    def fit(self, dags: Sequence[Dag], *, epochs: int = 10, batch_size: int = 256, beta: float = 0.01, seed: int = 0) -> list[float]:
        """Train on architectures only; returns the mean loss of each epoch."""
        torch.manual_seed(seed)
        ops, adjacency = dags_to_tensors(self.node_types, dags)
        optimizer = torch.optim.Adam(self.parameters(), lr=2e-3)
        rng = np.random.default_rng(seed)
        history = []
        self.train()
        for _ in range(epochs):
            losses = []
            for batch in np.array_split(rng.permutation(len(dags)), max(1, len(dags) // batch_size)):
                loss = self.loss(ops[batch], adjacency[batch], beta)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                losses.append(float(loss.detach()))
            history.append(float(np.mean(losses)))
        self.eval()
        return history

    @torch.no_grad()
    def generate(self, n: int, *, seed: int) -> list[Dag]:
        """Decode ``n`` samples of the prior (argmax operations, edges with probability > 0.5)."""
        generator = torch.Generator().manual_seed(seed)
        op_logits, edge_logits = self.decode(torch.randn(n, self.latent, generator=generator))
        return tensors_to_dags(self.node_types, op_logits.argmax(dim=-1), (edge_logits > 0) & self.upper)
