"""Multi-scale sub-architecture quantization (MSQ, paper Sec. 3.3 and Algorithm 1).

For scales n = 3 .. N the residual feature map is region-averaged to n x n, every vector is
replaced by its nearest entry of ONE shared codebook, the quantized map is interpolated back to
N x N and accumulated into e_hat, and subtracted from the residual. The accumulated map after
step t, e_hat_t, is what the step-wise consistency constraint (SCC) compares with e, and what
the decoder reads (region-averaged to n_t x n_t) as the t-th sub-architecture.

Gradients follow VAR's quantizer: indices are chosen without gradient, the codebook learns from
``||sg(e) - e_hat||`` and the encoder from the commitment term ``beta * ||e - sg(e_hat)||`` and the
straight-through copy of e_hat that the decoder reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from pnag_sampler.model.scales import apply_both_sides, interpolation_matrix, pooling_matrix


@dataclass
class Quantized:
    """Everything one MSQ pass produces for a batch."""

    #: code indices per scale, each (B, n, n)
    indices: list[torch.Tensor]
    #: accumulated reconstruction after each step, each (B, C, N, N), differentiable w.r.t. the codebook
    partial_maps: list[torch.Tensor]
    #: final e_hat with a straight-through gradient to the encoder
    e_hat: torch.Tensor
    #: ||sg(e) - e_hat||^2 + beta ||e - sg(e_hat)||^2 on the final map (Eq. 7, second term)
    vq_loss: torch.Tensor


class MultiScaleQuantizer(nn.Module):
    """One shared codebook used at every scale (by default n = 3 .. N)."""

    def __init__(self, num_nodes: int, channels: int, codebook_size: int, beta: float = 0.25, *, scales: tuple[int, ...] | None = None):
        super().__init__()
        self.num_nodes = num_nodes
        self.channels = channels
        self.beta = beta
        self.scales: tuple[int, ...] = tuple(range(3, num_nodes + 1)) if scales is None else tuple(scales)
        self.codebook = nn.Embedding(codebook_size, channels)
        nn.init.uniform_(self.codebook.weight, -0.5, 0.5)  # the encoder's output lies in (-1, 1)
        for n in self.scales:
            self.register_buffer(f"pool_{n}", pooling_matrix(num_nodes, n), persistent=False)
            self.register_buffer(f"interp_{n}", interpolation_matrix(num_nodes, n), persistent=False)

    @property
    def codebook_size(self) -> int:
        return self.codebook.num_embeddings

    def pool(self, feature_map: torch.Tensor, scale: int) -> torch.Tensor:
        """Region-average an N x N map to ``scale`` x ``scale`` (RAA)."""
        return apply_both_sides(getattr(self, f"pool_{scale}"), feature_map)

    def interpolate(self, feature_map: torch.Tensor, scale: int) -> torch.Tensor:
        """Interpolate a ``scale`` x ``scale`` map back to N x N."""
        return apply_both_sides(getattr(self, f"interp_{scale}"), feature_map)

    def nearest_codes(self, feature_map: torch.Tensor) -> torch.Tensor:
        """Index of the nearest codebook vector for every position: (B, C, n, n) -> (B, n, n)."""
        batch, channels, n, _ = feature_map.shape
        flat = feature_map.permute(0, 2, 3, 1).reshape(-1, channels)
        codebook = self.codebook.weight
        distances = flat.pow(2).sum(1, keepdim=True) - 2.0 * flat @ codebook.t() + codebook.pow(2).sum(1)[None, :]
        return distances.argmin(dim=1).view(batch, n, n)

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """Codebook vectors for indices: (B, n, n) -> (B, C, n, n)."""
        return self.codebook(indices).permute(0, 3, 1, 2)

    def upsampled_codes(self, indices: torch.Tensor) -> torch.Tensor:
        """Codebook lookup of one scale's indices, interpolated to N x N (network-free)."""
        return self.interpolate(self.lookup(indices), indices.shape[-1])

    def forward(self, e: torch.Tensor) -> Quantized:
        indices: list[torch.Tensor] = []
        with torch.no_grad():
            residual = e.detach().clone()
            for n in self.scales:
                codes = self.nearest_codes(self.pool(residual, n))
                indices.append(codes)
                residual -= self.upsampled_codes(codes)
        partial_maps = []
        e_hat = torch.zeros_like(e)
        for codes in indices:
            e_hat = e_hat + self.upsampled_codes(codes)
            partial_maps.append(e_hat)
        vq_loss = F.mse_loss(e_hat, e.detach()) + self.beta * F.mse_loss(e, e_hat.detach())
        e_hat_st = e_hat.detach() + e - e.detach()
        return Quantized(indices, partial_maps, e_hat_st, vq_loss)

    def maps_from_indices(self, indices: list[torch.Tensor]) -> list[torch.Tensor]:
        """Accumulated maps e_hat_t after each step, from code indices alone (generation path)."""
        maps = []
        e_hat = None
        for codes in indices:
            upsampled = self.upsampled_codes(codes)
            e_hat = upsampled if e_hat is None else e_hat + upsampled
            maps.append(e_hat)
        return maps
