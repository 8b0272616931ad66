"""AutoFormer Vision Transformer subnets as plain torch modules, with analytic cost counts.

AutoFormer (Chen et al., ICCV 2021) searches ViTs whose blocks differ in their number of
attention heads and MLP ratio while sharing one embedding width. Two details set its subnets
apart from a textbook ViT and are kept here on purpose:

* the query/key/value width of a block is ``heads * 64`` and does *not* follow ``embed_dim``
  (the paper's "Q-K-V dim"), so attention has its own width and needs an output projection
  back to ``embed_dim`` even when the two happen to agree;
* every block may pick its own ``(heads, mlp_ratio)``, so a subnet is an embedding width plus a
  list of blocks, and the depth is just the length of that list.

An empty list of blocks is allowed: a generator that grows a network layer by layer produces
such smaller sub-architectures, and they must still run (patch embedding -> norm -> head).
The network is built from scratch and always fresh (no supernet weight sharing).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real

import torch
from torch import nn
from torch.nn import functional as F

from pnag_sampler.errors import InvalidArchitectureError
from pnag_sampler.spaces.base import require_positive

#: width of one attention head; fixed in AutoFormer, so Q-K-V width = heads * HEAD_DIM
HEAD_DIM = 64
#: RGB images
IN_CHANNELS = 3

#: one transformer block: (number of heads, MLP ratio)
Block = tuple[int, float]


@dataclass(frozen=True)
class AutoFormerRanges:
    """The choices of one AutoFormer search space (paper Table 1).

    Frozen so the module-level constants cannot be changed by accident by one user of them.
    """

    embed_dims: tuple[int, ...]
    depths: tuple[int, ...]
    heads: tuple[int, ...]
    mlp_ratios: tuple[float, ...]


TINY = AutoFormerRanges(embed_dims=(192, 216, 240), depths=(12, 13, 14), heads=(3, 4), mlp_ratios=(3.5, 4.0))
BASE = AutoFormerRanges(embed_dims=(528, 576, 624), depths=(14, 15, 16), heads=(8, 9, 10), mlp_ratios=(3.0, 3.5, 4.0))


# -- validation ---------------------------------------------------------------------------------
def _checked_blocks(embed_dim: int, blocks: Sequence[Block]) -> list[tuple[int, int]]:
    """Validate ``blocks`` and return ``(heads, mlp hidden width)`` per block.

    The module and ``vit_flops`` both go through here, so they can never disagree on what
    a block means (in particular on how the MLP width is rounded).
    """
    require_positive(embed_dim=embed_dim)
    if isinstance(blocks, (str, bytes)) or not isinstance(blocks, Sequence):
        raise InvalidArchitectureError(f"blocks must be a sequence of (heads, mlp_ratio) pairs, got {blocks!r}")
    checked: list[tuple[int, int]] = []
    for index, block in enumerate(blocks):
        if isinstance(block, (str, bytes)) or not isinstance(block, Sequence) or len(block) != 2:
            raise InvalidArchitectureError(f"block {index} must be a (heads, mlp_ratio) pair, got {block!r}")
        heads, ratio = block
        require_positive(**{f"heads of block {index}": heads})
        if isinstance(ratio, bool) or not isinstance(ratio, Real) or not math.isfinite(ratio):
            raise InvalidArchitectureError(f"mlp ratio of block {index} must be a finite number, got {ratio!r}")
        if ratio <= 0:
            raise InvalidArchitectureError(f"mlp ratio of block {index} must be > 0, got {ratio}")
        hidden = round(ratio * embed_dim)
        if hidden < 1:  # a tiny positive ratio would give an MLP with no units
            raise InvalidArchitectureError(f"mlp ratio {ratio} of block {index} gives no MLP units at embed_dim {embed_dim}")
        checked.append((heads, hidden))
    return checked


def _num_patches(image_size: int, patch_size: int, num_classes: int) -> int:
    """Patches per image; rejects sizes where the patch grid would silently drop pixels."""
    require_positive(image_size=image_size, patch_size=patch_size, num_classes=num_classes)
    if image_size % patch_size:
        raise InvalidArchitectureError(f"image_size {image_size} is not divisible by patch_size {patch_size}")
    return (image_size // patch_size) ** 2


# -- modules ------------------------------------------------------------------------------------
class _Attention(nn.Module):
    """Multi-head self-attention whose Q-K-V width is ``heads * 64``, not ``embed_dim``."""

    def __init__(self, embed_dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        width = heads * HEAD_DIM
        self.qkv = nn.Linear(embed_dim, 3 * width)
        self.proj = nn.Linear(width, embed_dim)  # back to the residual stream's width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, _ = x.shape
        # (batch, tokens, 3, heads, 64) -> three (batch, heads, tokens, 64) tensors
        q, k, v = self.qkv(x).view(batch, tokens, 3, self.heads, HEAD_DIM).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)  # fused kernel; scale 1/sqrt(64)
        return self.proj(out.transpose(1, 2).reshape(batch, tokens, self.heads * HEAD_DIM))


class _TransformerBlock(nn.Module):
    """Pre-norm block: ``x + attn(ln(x))`` then ``x + mlp(ln(x))`` (stable without warm-up)."""

    def __init__(self, embed_dim: int, heads: int, hidden: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(embed_dim)
        self.attn = _Attention(embed_dim, heads)
        self.norm2 = nn.LayerNorm(embed_dim)
        self.mlp = nn.Sequential(nn.Linear(embed_dim, hidden), nn.GELU(), nn.Linear(hidden, embed_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class AutoFormerViT(nn.Module):
    """One AutoFormer subnet: ``embed_dim`` shared by all blocks, ``(heads, ratio)`` per block.

    Layout: Conv2d patch embedding -> prepend class token -> add learned position embedding ->
    ``len(blocks)`` pre-norm transformer blocks -> LayerNorm -> linear head on the class token.
    Input is ``(batch, 3, image_size, image_size)``; output is ``(batch, num_classes)`` logits.
    Bad sizes raise ``InvalidArchitectureError`` here, before torch can fail later with
    an unrelated shape error.
    """

    def __init__(
        self,
        embed_dim: int,
        blocks: Sequence[Block],
        *,
        image_size: int = 224,
        patch_size: int = 16,
        num_classes: int = 1000,
    ) -> None:
        super().__init__()
        checked = _checked_blocks(embed_dim, blocks)
        num_patches = _num_patches(image_size, patch_size, num_classes)
        self.embed_dim = embed_dim
        self.image_size = image_size
        self.patch_embed = nn.Conv2d(IN_CHANNELS, embed_dim, patch_size, stride=patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, embed_dim))
        self.blocks = nn.ModuleList(_TransformerBlock(embed_dim, heads, hidden) for heads, hidden in checked)
        self.norm = nn.LayerNorm(embed_dim)
        self.head = nn.Linear(embed_dim, num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        """ViT/DeiT-style init (truncated normal, std 0.02) so fresh subnets train sensibly."""
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.dim() != 4 or images.shape[1:] != (IN_CHANNELS, self.image_size, self.image_size):
            raise ValueError(
                f"expected images of shape (batch, {IN_CHANNELS}, {self.image_size}, {self.image_size}), got {tuple(images.shape)}"
            )
        x = self.patch_embed(images).flatten(2).transpose(1, 2)  # (batch, patches, embed)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x)[:, 0])


# -- costs --------------------------------------------------------------------------------------
def parameter_count(module: nn.Module) -> int:
    """Number of scalars in all parameters of ``module`` (trainable or not; shared ones once)."""
    return sum(p.numel() for p in module.parameters())


def vit_flops(
    embed_dim: int,
    blocks: Sequence[Block],
    *,
    image_size: int = 224,
    patch_size: int = 16,
    num_classes: int = 1000,
) -> int:
    """Multiply-accumulates (MACs) of one forward pass of ``AutoFormerViT`` on one image.

    Analytic, so it costs nothing and is exact for the matrix products, which dominate. With
    ``P`` patches, ``T = P + 1`` tokens, ``E = embed_dim`` and per block ``d = heads * 64`` and
    ``m`` MLP units, it counts:

    * patch embedding: ``P * E * 3 * patch_size**2``;
    * per block: Q-K-V ``T * E * 3d``; attention scores ``T * T * d``; attention-weighted values
      ``T * T * d``; output projection ``T * d * E``; MLP ``2 * T * E * m``;
    * head: ``E * num_classes`` (class token only).

    Not counted (each linear in ``T * E`` and small): biases, LayerNorms, GELU, softmax, the
    attention scaling, residual and position-embedding additions. Following the usual ViT
    convention one MAC is reported as one "FLOP"; multiply by 2 for floating-point operations.
    """
    checked = _checked_blocks(embed_dim, blocks)
    patches = _num_patches(image_size, patch_size, num_classes)
    tokens = patches + 1
    total = patches * embed_dim * IN_CHANNELS * patch_size**2
    for heads, hidden in checked:
        width = heads * HEAD_DIM
        total += tokens * embed_dim * 3 * width  # q, k, v
        total += 2 * tokens * tokens * width  # q @ k^T and weights @ v
        total += tokens * width * embed_dim  # output projection
        total += 2 * tokens * embed_dim * hidden  # MLP in and out
    return total + embed_dim * num_classes


def vit_parameters(embed_dim: int, blocks: Sequence[Block], *, num_classes: int = 1000, image_size: int = 224, patch_size: int = 16) -> int:
    """``parameter_count(AutoFormerViT(...))`` in closed form: building Base subnets takes
    seconds each, and labelling training architectures needs thousands."""
    e = embed_dim
    patches = (image_size // patch_size) ** 2
    total = 3 * patch_size * patch_size * e + e + e + (patches + 1) * e + 2 * e + e * num_classes + num_classes
    for heads, ratio in blocks:
        qkv, hidden = heads * HEAD_DIM, round(ratio * e)
        total += 4 * e + e * 3 * qkv + 3 * qkv + qkv * e + e + e * hidden + hidden + hidden * e + e
    return total


__all__ = [
    "BASE",
    "HEAD_DIM",
    "TINY",
    "AutoFormerRanges",
    "AutoFormerViT",
    "Block",
    "parameter_count",
    "vit_flops",
    "vit_parameters",
]
