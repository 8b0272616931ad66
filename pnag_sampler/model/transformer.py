"""Stage 2 of PNAG: a GPT-2-style decoder-only transformer that predicts the next scale.

Tokens are the MSQ code indices of all scales, n = 3 .. N, laid out coarse to fine. The input
of scale t+1 is the accumulated map e_hat_t region-averaged to n_{t+1} x n_{t+1} (as in VAR);
the first scale starts from learned start tokens. Attention is block-causal: a token sees every
token of its own and coarser scales. Every LayerNorm is adaptive (AdaLN): its shift, scale and
a residual gate come from the condition embedding, so the target performance (and later task
and cost terms) steer every layer. A learned null condition replaces the condition with
probability ``condition_dropout`` in training, which enables classifier-free guidance.
Generation runs one forward step per scale with a key/value cache.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class TransformerConfig:
    scales: tuple[int, ...]
    codebook_size: int
    channels: int
    condition_dim: int
    width: int = 64
    depth: int = 3
    heads: int = 4
    mlp_ratio: float = 4.0
    condition_dropout: float = 0.1

    @property
    def tokens_per_scale(self) -> tuple[int, ...]:
        return tuple(n * n for n in self.scales)

    @property
    def sequence_length(self) -> int:
        return sum(self.tokens_per_scale)


class CachedSelfAttention(nn.Module):
    """Multi-head self-attention with an optional key/value cache for scale-by-scale decoding."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.projection = nn.Linear(width, width)
        self.cache: tuple[torch.Tensor, torch.Tensor] | None = None
        self.caching = False

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        batch, length, width = x.shape
        q, k, v = self.qkv(x).view(batch, length, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        if self.caching:
            if self.cache is not None:
                k = torch.cat([self.cache[0], k], dim=2)
                v = torch.cat([self.cache[1], v], dim=2)
            self.cache = (k, v)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.projection(out.transpose(1, 2).reshape(batch, length, width))


class AdaLNBlock(nn.Module):
    """Pre-norm transformer block whose norms are modulated by the condition (shift, scale, gate)."""

    def __init__(self, width: int, heads: int, mlp_ratio: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(width, elementwise_affine=False)
        self.attention = CachedSelfAttention(width, heads)
        self.norm2 = nn.LayerNorm(width, elementwise_affine=False)
        hidden = int(width * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, width))
        modulation = nn.Linear(width, 6 * width)
        nn.init.zeros_(modulation.weight)
        nn.init.zeros_(modulation.bias)
        self.modulation = nn.Sequential(nn.SiLU(), modulation)

    def forward(self, x: torch.Tensor, condition: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        shift1, scale1, gate1, shift2, scale2, gate2 = self.modulation(condition)[:, None, :].chunk(6, dim=-1)
        x = x + (1 + gate1) * self.attention(self.norm1(x) * (1 + scale1) + shift1, mask)
        return x + (1 + gate2) * self.mlp(self.norm2(x) * (1 + scale2) + shift2)


class ScaleTransformer(nn.Module):
    # registered buffers (see ``__init__``)
    scale_ids: torch.Tensor
    block_causal_mask: torch.Tensor

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = config
        width = config.width
        self.condition_embedding = nn.Sequential(nn.Linear(config.condition_dim, width), nn.SiLU(), nn.Linear(width, width))
        self.null_condition = nn.Parameter(torch.zeros(width))
        self.input_projection = nn.Linear(config.channels, width)
        self.start_tokens = nn.Parameter(torch.randn(config.tokens_per_scale[0], width) * 0.02)
        self.position_embedding = nn.Parameter(torch.randn(config.sequence_length, width) * 0.02)
        self.scale_embedding = nn.Embedding(len(config.scales), width)
        self.blocks = nn.ModuleList(AdaLNBlock(width, config.heads, config.mlp_ratio) for _ in range(config.depth))
        self.final_norm = nn.LayerNorm(width, elementwise_affine=False)
        self.final_modulation = nn.Sequential(nn.SiLU(), nn.Linear(width, 2 * width))
        self.head = nn.Linear(width, config.codebook_size)
        scale_ids = torch.cat([torch.full((t,), i) for i, t in enumerate(config.tokens_per_scale)])
        self.register_buffer("scale_ids", scale_ids, persistent=False)
        self.register_buffer("block_causal_mask", scale_ids[:, None] >= scale_ids[None, :], persistent=False)

    # -- condition --------------------------------------------------------------------------
    def embed_condition(self, condition: torch.Tensor, drop: torch.Tensor | None = None) -> torch.Tensor:
        """(B, condition_dim) -> (B, width); rows where ``drop`` is True use the null condition."""
        embedded = self.condition_embedding(condition)
        if drop is not None:
            embedded = torch.where(drop[:, None], self.null_condition.expand_as(embedded), embedded)
        return embedded

    # -- token inputs ----------------------------------------------------------------------
    def _embed_tokens(self, inputs: torch.Tensor, start: int) -> torch.Tensor:
        length = inputs.shape[1]
        return inputs + self.position_embedding[start : start + length] + self.scale_embedding(self.scale_ids[start : start + length])

    def _logits(self, x: torch.Tensor, condition: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        for block in self.blocks:
            x = block(x, condition, mask)
        shift, scale = self.final_modulation(condition)[:, None, :].chunk(2, dim=-1)
        return self.head(self.final_norm(x) * (1 + scale) + shift)

    def forward(self, scale_inputs: list[torch.Tensor], condition: torch.Tensor, drop: torch.Tensor | None = None) -> torch.Tensor:
        """Teacher forcing. ``scale_inputs[t]`` is (B, C, n_{t+1}, n_{t+1}) for t = 0..T-2: the
        accumulated map after scale t, region-averaged to the next scale. -> logits (B, L, V)."""
        batch = condition.shape[0]
        start = self.start_tokens.expand(batch, -1, -1)
        following = [self.input_projection(m.flatten(2).transpose(1, 2)) for m in scale_inputs]
        x = self._embed_tokens(torch.cat([start, *following], dim=1), 0)
        return self._logits(x, self.embed_condition(condition, drop), self.block_causal_mask)

    # -- generation -------------------------------------------------------------------------
    def set_caching(self, enabled: bool) -> None:
        for block in self.blocks:
            assert isinstance(block, AdaLNBlock)
            block.attention.caching = enabled
            block.attention.cache = None

    def step_logits(self, inputs: torch.Tensor, start: int, condition_embedding: torch.Tensor) -> torch.Tensor:
        """Logits for one scale's tokens given the cache of the coarser scales.

        ``inputs`` (B, n*n, width) are already projected; ``start`` is the scale's first position.
        """
        return self._logits(self._embed_tokens(inputs, start), condition_embedding, None)


def filter_logits(logits: torch.Tensor, top_k: int | None, top_p: float | None) -> torch.Tensor:
    """Top-k then nucleus (top-p) filtering; filtered entries become -inf."""
    if top_k is not None and 0 < top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, -math.inf)
    if top_p is not None and 0.0 < top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cumulative = sorted_logits.softmax(-1).cumsum(-1)
        remove = cumulative - sorted_logits.softmax(-1) > top_p
        sorted_logits = sorted_logits.masked_fill(remove, -math.inf)
        logits = torch.full_like(logits, -math.inf).scatter(-1, order, sorted_logits)
    return logits
