"""AutoFormer's Vision Transformer spaces (Chen et al., ICCV 2021): Tiny and Base.

A subnet is an embedding width, a depth, and per layer a head count and an MLP ratio. As a
chain: one ``embed<E>`` slot, then one slot per layer up to the largest depth, each holding
``h<heads>_m<ratio>`` or ``none``; layers past the smallest depth may be ``none``, and only at
the end (the depth is the number of used layers). Nothing here can measure accuracy (that needs
ImageNet training); parameters and multiply-accumulates are exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from pnag_sampler.spaces.base import Dag
from pnag_sampler.spaces.chain import UNUSED, DepthChainSpace
from pnag_sampler.spaces.vit_network import AutoFormerRanges, AutoFormerViT, Block, vit_flops, vit_parameters

IMAGE_SIZE = 224


def _layer_token(heads: int, ratio: float) -> str:
    return f"h{heads}_m{ratio}"


def _parse_layer(text: str) -> Block:
    heads, ratio = text[1:].split("_m")
    return int(heads), float(ratio)


def _embed_token(width: int) -> str:
    return f"embed{width}"


class AutoFormerSpace(DepthChainSpace):
    """One AutoFormer range (Tiny or Base); modules are the ViT at 224x224, 1000 classes."""

    condition_measures = (("params", "params_m"),)

    def __init__(self, name: str, ranges: AutoFormerRanges) -> None:
        self.name = name
        self.ranges = ranges
        layers = tuple(_layer_token(h, r) for h in ranges.heads for r in ranges.mlp_ratios)
        min_depth, max_depth = min(ranges.depths), max(ranges.depths)
        super().__init__(
            [
                ("embed_dim", tuple(_embed_token(e) for e in ranges.embed_dims)),
                *((f"layer{i}", layers if i < min_depth else (*layers, UNUSED)) for i in range(max_depth)),
            ]
        )
        self.depth_groups = (("the layers", tuple(range(1, 1 + max_depth))),)

    # -- validity -------------------------------------------------------------------------------
    def _sub_token_problem(self, tokens: Sequence[str]) -> str | None:
        return None  # any shorter chain builds: its layers in order, the first width given

    # -- the subnet's own terms -----------------------------------------------------------------
    def subnet(self, dag: Dag) -> tuple[int, list[Block]]:
        """(embedding width, [(heads, MLP ratio) per used layer])."""
        tokens = self.tokens(dag)
        return int(tokens[0][len("embed") :]), [_parse_layer(t) for t in tokens[1:] if t != UNUSED]

    def from_subnet(self, embed_dim: int, blocks: Sequence[Block]) -> Dag:
        padding = max(self.ranges.depths) - len(blocks)
        return self.from_tokens(
            [_embed_token(embed_dim), *(_layer_token(int(h), float(r)) for h, r in blocks), *[UNUSED] * max(0, padding)]
        )

    # -- strings: "192:h3_m3.5,h4_m4.0,..." ----------------------------------------------------
    def to_string(self, dag: Dag) -> str:
        embed_dim, blocks = self.subnet(dag)
        return f"{embed_dim}:" + ",".join(_layer_token(h, r) for h, r in blocks)

    def from_string(self, text: str) -> Dag:
        expected = "'<embed dim>:h<heads>_m<mlp ratio>,...' with one entry per layer"
        if not isinstance(text, str) or text.count(":") != 1:
            raise self._parse_error(text, expected)
        width, _, layers = text.partition(":")
        try:
            blocks = [_parse_layer(t) for t in layers.split(",")]
            embed_dim = int(width)
        except ValueError:
            raise self._parse_error(text, expected) from None
        if len(blocks) not in self.ranges.depths:
            raise self._parse_error(text, f"a depth in {list(self.ranges.depths)}, got {len(blocks)} layers")
        return self.from_subnet(embed_dim, blocks)

    # -- flat parameters: depth, then heads and ratio for every layer slot ----------------------
    def parameter_choices(self) -> dict[str, tuple[str, ...]]:
        choices = {"embed_dim": tuple(str(e) for e in self.ranges.embed_dims), "depth": tuple(str(d) for d in self.ranges.depths)}
        for i in range(max(self.ranges.depths)):
            choices[f"layer{i}_heads"] = tuple(str(h) for h in self.ranges.heads)
            choices[f"layer{i}_mlp_ratio"] = tuple(str(r) for r in self.ranges.mlp_ratios)
        return choices

    def to_params(self, dag: Dag) -> dict[str, str]:
        """Layers past the depth are unused; their entries repeat the last used layer's."""
        embed_dim, blocks = self.subnet(dag)
        params = {"embed_dim": str(embed_dim), "depth": str(len(blocks))}
        for i in range(max(self.ranges.depths)):
            heads, ratio = blocks[min(i, len(blocks) - 1)]
            params.update({f"layer{i}_heads": str(heads), f"layer{i}_mlp_ratio": str(ratio)})
        return params

    def from_params(self, params: dict[str, Any]) -> Dag:
        checked = self.checked_params(params)
        blocks = [(int(checked[f"layer{i}_heads"]), float(checked[f"layer{i}_mlp_ratio"])) for i in range(int(checked["depth"]))]
        return self.from_subnet(int(checked["embed_dim"]), blocks)

    # -- modules and measures -------------------------------------------------------------------
    def build_module(self, dag: Dag, num_classes: int = 1000) -> AutoFormerViT:
        embed_dim, blocks = self.subnet(dag)
        return AutoFormerViT(embed_dim, blocks, image_size=IMAGE_SIZE, num_classes=num_classes)

    def build_sub_module(self, dag: Dag, num_classes: int = 1000) -> AutoFormerViT:
        """A shorter chain's layers in order, at its first embedding width (the smallest of the
        range if it has none)."""
        tokens = self.sub_tokens(dag)
        widths = [int(t[len("embed") :]) for t in tokens if t.startswith("embed")]
        blocks = [_parse_layer(t) for t in tokens if t.startswith("h")]
        embed_dim = widths[0] if widths else min(self.ranges.embed_dims)
        return AutoFormerViT(embed_dim, blocks, image_size=IMAGE_SIZE, num_classes=num_classes)

    def example_input(self, batch_size: int = 2) -> torch.Tensor:
        return torch.randn(batch_size, 3, IMAGE_SIZE, IMAGE_SIZE)

    def measures(self, dags: Sequence[Dag]) -> dict[str, np.ndarray]:
        """Parameters (millions) and multiply-accumulates (G) at 224x224 and 1000 classes."""
        subnets = [self.subnet(d) for d in dags]
        return {
            "params_m": np.array([vit_parameters(e, b) / 1e6 for e, b in subnets]),
            "macs_g": np.array([vit_flops(e, b, image_size=IMAGE_SIZE) / 1e9 for e, b in subnets]),
        }
