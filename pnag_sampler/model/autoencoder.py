"""Stage 1 of PNAG: encoder E, multi-scale quantizer (MSQ) and decoder D with the SCC loss.

Loss (paper Eq. 7, with likelihood terms for the discrete architecture's free choices: the
types of nodes with several allowed types and the edges the space leaves free):
    CE(ops) + BCE(edges) of D(e_hat), also from tokens with a few random replacements
                                                           ||Arc - Arc_hat||
  + ||sg(e) - e_hat||^2 + beta ||e - sg(e_hat)||^2          ||e - e_hat||   (VQ form)
  + mean_n CE/BCE(D(RAA(e, n)), coarsened Arc)             e decodes at every scale
  + lambda * sum_{t <= k} ( ||e - e_hat_t||^2 + CE/BCE(D(RAA(e_hat_t, n_t)), coarsened Arc) )
The last line is the step-wise consistency constraint on the first k steps: every prefix of the
scale sequence must already be close to the input, and decode to the input's coarsened
sub-architecture. k = 0 switches it off, k = T applies it to every step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from pnag_sampler.model.decoder import ArchitectureDecoder
from pnag_sampler.model.encoder import GraphEncoder
from pnag_sampler.model.quantizer import MultiScaleQuantizer
from pnag_sampler.model.scales import coarsen_architecture
from pnag_sampler.spaces.structure import Structure


@dataclass(frozen=True)
class AutoencoderConfig:
    num_nodes: int
    num_node_types: int
    channels: int = 32
    hidden: int = 64
    encoder_layers: int = 3
    #: shared codebook size V. The paper sets V to the number of structural elements; with
    #: that (7 for NB201) stage 1 reconstructs almost no held-out cell, so the default is 64
    #: (docs: Benchmarks, codebook ablation).
    codebook_size: int = 64
    beta: float = 0.25
    scc_weight: float = 1.0
    #: SCC on the first k steps; None = all T steps
    scc_steps: int | None = None
    #: share of code indices replaced at random in an extra reconstruction term, so that the
    #: decoder tolerates the few off tokens that sampling yields (docs: Benchmarks, token noise)
    token_noise: float = 0.05
    #: node counts of the scales, coarse to fine, ending at num_nodes; None = every n = 3 .. N.
    #: Long chains (MobileNetV3's 23 nodes) take a subset, as VAR does: every scale n costs the
    #: transformer n * n tokens, and all of 3 .. 23 would be 4,319 tokens per architecture.
    scales: tuple[int, ...] | None = None
    #: width of the decoder's position embeddings and heads
    decoder_hidden: int = 64
    #: initial size of the vector the encoder adds where an edge exists. In a long chain only
    #: N - 1 of N (N - 1) / 2 pairs are edges, and a faint edge signal is lost to quantization
    #: (DARTS probes: edge recall 0.47 at 0.1 after 640 steps, 0.81 at 3.0 after 960)
    edge_signal: float = 0.1

    def __post_init__(self) -> None:
        if self.scales is not None:
            object.__setattr__(self, "scales", tuple(int(n) for n in self.scales))  # a JSON list
        resolved = self.resolved_scales
        if resolved[0] < 3 or resolved[-1] != self.num_nodes or any(a >= b for a, b in zip(resolved, resolved[1:])):
            raise ValueError(f"scales must increase from at least 3 to num_nodes={self.num_nodes}, got {list(resolved)}")

    @property
    def resolved_scales(self) -> tuple[int, ...]:
        return tuple(range(3, self.num_nodes + 1)) if self.scales is None else self.scales

    @property
    def num_steps(self) -> int:
        return len(self.resolved_scales)

    @property
    def resolved_scc_steps(self) -> int:
        steps = self.num_steps if self.scc_steps is None else self.scc_steps
        if not 0 <= steps <= self.num_steps:
            raise ValueError(f"scc_steps must be in 0..{self.num_steps}, got {steps}")
        return steps


def reconstruction_loss(
    op_logits: torch.Tensor, edge_logits: torch.Tensor, ops: torch.Tensor, adjacency: torch.Tensor, structure: Structure
) -> torch.Tensor:
    """Cross-entropy of the free nodes' types (over every type, so that the raw argmax learns
    the vocabulary too) plus BCE of the free edges; fixed structure costs nothing."""
    nodes, edges = structure.free_nodes.to(ops.device), structure.free_edges.to(ops.device)
    loss = op_logits.new_zeros(())
    if bool(nodes.any()):
        loss = loss + F.cross_entropy(op_logits[:, nodes].flatten(0, 1), ops[:, nodes].flatten())
    if bool(edges.any()):
        loss = loss + F.binary_cross_entropy_with_logits(edge_logits[:, edges], adjacency[:, edges].float())
    return loss


class ArchitectureAutoencoder(nn.Module):
    """Stage 1; ``structures`` holds the space's structure at every scale, coarse to fine."""

    def __init__(self, config: AutoencoderConfig, structures: Sequence[Structure]):
        super().__init__()
        if [s.num_nodes for s in structures] != list(config.resolved_scales):
            raise ValueError(f"one structure per scale {list(config.resolved_scales)} is needed")
        self.config = config
        self.structures = tuple(structures)
        self.encoder = GraphEncoder(
            config.num_node_types, config.num_nodes, config.channels, config.hidden, config.encoder_layers, config.edge_signal
        )
        self.quantizer = MultiScaleQuantizer(
            config.num_nodes, config.channels, config.codebook_size, config.beta, scales=config.resolved_scales
        )
        self.decoder = ArchitectureDecoder(config.channels, config.num_node_types, config.resolved_scales, config.decoder_hidden)

    @property
    def scales(self) -> tuple[int, ...]:
        return self.quantizer.scales

    def losses(self, ops: torch.Tensor, adjacency: torch.Tensor) -> dict[str, torch.Tensor]:
        """All loss terms for a batch; ``total`` is what training minimises."""
        e = self.encoder(ops, adjacency)
        quantized = self.quantizer(e)
        full = self.structures[-1]
        reconstruction = reconstruction_loss(*self.decode_map(quantized.e_hat, -1), ops, adjacency, full)
        if self.config.token_noise > 0:
            noisy_e_hat = self.quantizer.maps_from_indices(self.corrupt(quantized.indices))[-1]
            reconstruction = reconstruction + reconstruction_loss(*self.decode_map(noisy_e_hat, -1), ops, adjacency, full)
        targets = self.scale_targets(ops, adjacency)
        # e itself must decode, region-averaged to every scale, to the coarsened architecture:
        # then each e_hat_t that approximates e at its scale decodes to a valid sub-architecture
        multiscale = sum(
            (self.scale_loss(self.quantizer.pool(e, n), targets, t) for t, n in enumerate(self.scales[:-1])),
            e.new_zeros(()),
        ) / max(1, len(self.scales) - 1)
        scc = e.new_zeros(())
        for step in range(self.config.resolved_scc_steps):
            partial = quantized.partial_maps[step]
            scc = scc + F.mse_loss(partial, e.detach())
            if step < len(self.scales) - 1:
                scc = scc + self.scale_loss(self.quantizer.pool(partial, self.scales[step]), targets, step)
        scc = self.config.scc_weight * scc
        total = reconstruction + multiscale + quantized.vq_loss + scc
        return {"total": total, "reconstruction": reconstruction, "multiscale": multiscale, "vq": quantized.vq_loss, "scc": scc}

    def scale_targets(self, ops: torch.Tensor, adjacency: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The (ops, adjacency) each scale decodes to: the coarsened architecture."""
        return [coarsen_architecture(ops, adjacency, structure) for structure in self.structures]

    def scale_loss(self, feature_map: torch.Tensor, targets: list[tuple[torch.Tensor, torch.Tensor]], step: int) -> torch.Tensor:
        return reconstruction_loss(*self.decode_map(feature_map, step), *targets[step], self.structures[step])

    def decode_map(self, feature_map: torch.Tensor, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The decoder's logits for the map of scale ``step``, scoring that scale's free edges."""
        return self.decoder(feature_map, self.structures[step].free_edges)

    def corrupt(self, indices: list[torch.Tensor]) -> list[torch.Tensor]:
        """Each code replaced by a random one with probability ``token_noise``: the decoder
        learns to read the few off tokens that sampling yields."""
        noisy = []
        for codes in indices:
            replace = torch.rand(codes.shape, device=codes.device) < self.config.token_noise
            noisy.append(torch.where(replace, torch.randint_like(codes, self.config.codebook_size), codes))
        return noisy

    @torch.no_grad()
    def tokenize(self, ops: torch.Tensor, adjacency: torch.Tensor) -> list[torch.Tensor]:
        """Architectures -> code indices per scale, the transformer's training targets."""
        return self.quantizer(self.encoder(ops, adjacency)).indices

    def scale_maps(self, indices: list[torch.Tensor]) -> list[torch.Tensor]:
        """Code indices per scale -> the map the decoder reads at each scale: e_hat_t
        region-averaged to n_t x n_t (the last one is e_hat itself at N x N)."""
        maps = self.quantizer.maps_from_indices(indices)
        return [self.quantizer.pool(m, n) for m, n in zip(maps, self.scales)]

    @torch.no_grad()
    def decoder_logits(self, indices: list[torch.Tensor]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Code indices per scale -> (op logits, edge logits) of every sub-architecture g_t."""
        return [self.decode_map(m, step) for step, m in enumerate(self.scale_maps(indices))]
