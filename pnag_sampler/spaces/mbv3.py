"""The Once-for-All MobileNetV3 space (Cai et al., ICLR 2020), width multiplier 1.2.

A subnet is an input resolution and 5 stages of 2-4 layers, each layer with a kernel size and an
expand ratio. As a chain: one ``r<resolution>`` slot, then 20 layer slots (5 stages x 4), each
``k<kernel>_e<expand>``; the last two slots of a stage may be ``none`` (unused), and only after
the used ones, so a stage's depth is its number of used layers. Accuracy comes from OFA's
published predictor and latency from OFA's Samsung Note10 lookup tables (vendored, see
``pnag_sampler/data/ofa_mbv3/PROVENANCE.md``), never from this model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from pnag_sampler.spaces.base import Dag
from pnag_sampler.spaces.chain import UNUSED, DepthChainSpace
from pnag_sampler.spaces.mbv3_network import (
    DEPTHS,
    EXPAND_RATIOS,
    KERNEL_SIZES,
    MAX_DEPTH,
    NUM_STAGES,
    RESOLUTIONS,
    Layer,
    MobileNetV3Subnet,
)
from pnag_sampler.spaces.ofa_evaluators import SubnetSpec, note10_latency_ms, predicted_accuracies

#: what an unused layer's kernel and expand ratio are in the flat parameters and OFA specs
UNUSED_LAYER: Layer = (KERNEL_SIZES[0], EXPAND_RATIOS[0])


def _layer_token(kernel: int, expand: int) -> str:
    return f"k{kernel}_e{expand}"


def _parse_layer(text: str) -> Layer:
    kernel, expand = text[1:].split("_e")
    return int(kernel), int(expand)


LAYER_TOKENS = tuple(_layer_token(k, e) for k in KERNEL_SIZES for e in EXPAND_RATIOS)


class MobileNetV3Space(DepthChainSpace):
    """OFA's ``ofa_mbv3_d234_e346_k357_w1.2`` subnets at resolutions 160..224."""

    name = "mbv3"
    condition_measures = (("performance", "accuracy"), ("latency", "latency_ms"))
    #: slot 0 is the resolution, then 4 layer slots per stage
    depth_groups = tuple((f"stage {s}", tuple(range(1 + s * MAX_DEPTH, 1 + (s + 1) * MAX_DEPTH))) for s in range(NUM_STAGES))

    def __init__(self) -> None:
        min_depth = min(DEPTHS)
        super().__init__(
            [
                ("resolution", tuple(f"r{r}" for r in RESOLUTIONS)),
                *(
                    (f"stage{s}_layer{layer}", LAYER_TOKENS if layer < min_depth else (*LAYER_TOKENS, UNUSED))
                    for s in range(NUM_STAGES)
                    for layer in range(MAX_DEPTH)
                ),
            ]
        )

    @staticmethod
    def _stage_tokens(tokens: Sequence[str]) -> list[Sequence[str]]:
        layers = tokens[1:]
        return [layers[s * MAX_DEPTH : (s + 1) * MAX_DEPTH] for s in range(NUM_STAGES)]

    # -- the subnet's own terms -----------------------------------------------------------------
    def subnet(self, dag: Dag) -> tuple[int, list[list[Layer]]]:
        """(resolution, the used (kernel, expand) layers of each of the 5 stages)."""
        tokens = self.tokens(dag)
        stages = [[_parse_layer(t) for t in layers if t != UNUSED] for layers in self._stage_tokens(tokens)]
        return int(tokens[0][1:]), stages

    def from_subnet(self, resolution: int, stages: Sequence[Sequence[Layer]]) -> Dag:
        tokens = [f"r{resolution}"]
        for layers in stages:
            tokens += [_layer_token(*layer) for layer in layers] + [UNUSED] * (MAX_DEPTH - len(layers))
        return self.from_tokens(tokens)

    def ofa_spec(self, dag: Dag) -> SubnetSpec:
        """OFA's (ks, e, d, r) description, unused layers filled with the smallest choices."""
        resolution, stages = self.subnet(dag)
        layers = [layer for used in stages for layer in (*used, *[UNUSED_LAYER] * (MAX_DEPTH - len(used)))]
        return SubnetSpec(
            kernel_sizes=tuple(k for k, _ in layers),
            expand_ratios=tuple(e for _, e in layers),
            depths=tuple(len(used) for used in stages),
            resolution=resolution,
        )

    # -- strings: "224;k3_e4,k5_e6;k7_e3,k3_e3,k5_e4;...": resolution, then the 5 stages ----------
    def to_string(self, dag: Dag) -> str:
        resolution, stages = self.subnet(dag)
        return ";".join([str(resolution), *(",".join(_layer_token(*layer) for layer in layers) for layers in stages)])

    def from_string(self, text: str) -> Dag:
        expected = "'<resolution>;<stage 1 layers>;...;<stage 5 layers>', layers as k<kernel>_e<expand> joined by ','"
        if not isinstance(text, str) or text.count(";") != NUM_STAGES:
            raise self._parse_error(text, expected)
        resolution, *stages = text.split(";")
        try:
            parsed = [[_parse_layer(t) for t in stage.split(",")] if stage else [] for stage in stages]
            return self.from_subnet(int(resolution), parsed)
        except ValueError:
            raise self._parse_error(text, expected) from None

    # -- flat parameters: OFA's resolution, depth per stage, kernel and expand per layer --------
    def parameter_choices(self) -> dict[str, tuple[str, ...]]:
        choices = {"resolution": tuple(str(r) for r in RESOLUTIONS)}
        for s in range(NUM_STAGES):
            choices[f"stage{s}_depth"] = tuple(str(d) for d in DEPTHS)
            for layer in range(MAX_DEPTH):
                choices[f"stage{s}_layer{layer}"] = LAYER_TOKENS
        return choices

    def to_params(self, dag: Dag) -> dict[str, str]:
        """Layers past a stage's depth are unused; their entries hold the smallest choices."""
        resolution, stages = self.subnet(dag)
        params = {"resolution": str(resolution)}
        for s, layers in enumerate(stages):
            params[f"stage{s}_depth"] = str(len(layers))
            for layer in range(MAX_DEPTH):
                params[f"stage{s}_layer{layer}"] = _layer_token(*(layers[layer] if layer < len(layers) else UNUSED_LAYER))
        return params

    def from_params(self, params: dict[str, Any]) -> Dag:
        checked = self.checked_params(params)
        stages = [
            [_parse_layer(checked[f"stage{s}_layer{layer}"]) for layer in range(int(checked[f"stage{s}_depth"]))] for s in range(NUM_STAGES)
        ]
        return self.from_subnet(int(checked["resolution"]), stages)

    # -- modules and measures -------------------------------------------------------------------
    def build_module(self, dag: Dag, num_classes: int = 1000) -> MobileNetV3Subnet:
        """The subnet; it takes images of its own resolution (any size runs: global pooling)."""
        return MobileNetV3Subnet(self.subnet(dag)[1], num_classes=num_classes)

    def build_sub_module(self, dag: Dag, num_classes: int = 1000) -> MobileNetV3Subnet:
        """A shorter chain's layers in order, split evenly over the 5 stages (a stage left
        without layers is left out); its resolution tokens set no module weights."""
        layers = [_parse_layer(t) for t in self.sub_tokens(dag) if t.startswith("k")]
        stages = [[layers[i] for i in part] for part in np.array_split(np.arange(len(layers)), NUM_STAGES)]
        return MobileNetV3Subnet(stages, num_classes=num_classes)

    def example_input(self, batch_size: int = 2) -> torch.Tensor:
        """Random 224x224 RGB images, the largest resolution of the space."""
        return torch.randn(batch_size, 3, max(RESOLUTIONS), max(RESOLUTIONS))

    def measures(self, dags: Sequence[Dag]) -> dict[str, np.ndarray]:
        """OFA's predicted ImageNet top-1 (fraction) and Note10 latency (ms) from its tables."""
        specs = [self.ofa_spec(d) for d in dags]
        return {
            "accuracy": predicted_accuracies(specs),
            "latency_ms": np.array([note10_latency_ms(spec) for spec in specs]),
        }
