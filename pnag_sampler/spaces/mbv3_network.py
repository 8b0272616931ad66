"""The Once-for-All MobileNetV3 space (``ofa_mbv3_d234_e346_k357_w1.2``) as real torch modules.

OFA (Cai et al., ICLR 2020; mit-han-lab/once-for-all, MIT) trains one super-network and reads
sub-networks out of it. This module builds any such sub-network as a plain, standalone
``nn.Module`` (written from scratch to the published architecture, not copied), so that a
generated architecture can be instantiated, counted and run without the OFA package.

The macro structure is fixed; only the 5 stages vary::

    stem      3x3 conv, stride 2, 3 -> 24, BN, h_swish
              MBConv 24 -> 24, kernel 3, expand 1, ReLU, residual
    stage s   0..4 MBConv layers (kernel, expand ratio) -> STAGE_WIDTHS[s]; the first layer has
              STAGE_STRIDES[s] and no residual, the others stride 1 and a residual
    head      1x1 conv 192 -> 1152, BN, h_swish; global average pool;
              1x1 conv 1152 -> 1536 (no BN), h_swish; linear 1536 -> num_classes

The widths are OFA's base MobileNetV3 widths times 1.2, rounded to multiples of 8.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import torch
from torch import nn

from pnag_sampler.errors import InvalidArchitectureError
from pnag_sampler.spaces.base import require_positive

KERNEL_SIZES: tuple[int, ...] = (3, 5, 7)
EXPAND_RATIOS: tuple[int, ...] = (3, 4, 6)
#: layers per stage in the search space (a network may also leave a stage shorter or empty)
DEPTHS: tuple[int, ...] = (2, 3, 4)
RESOLUTIONS: tuple[int, ...] = (160, 176, 192, 208, 224)
STAGE_WIDTHS: tuple[int, ...] = (32, 48, 96, 136, 192)
STAGE_STRIDES: tuple[int, ...] = (2, 2, 2, 1, 2)
STAGE_ACTIVATIONS: tuple[str, ...] = ("relu", "relu", "h_swish", "h_swish", "h_swish")
STAGE_SE: tuple[bool, ...] = (False, True, False, True, True)
NUM_STAGES = len(STAGE_WIDTHS)
MAX_DEPTH = max(DEPTHS)
STEM_WIDTH = 24
FINAL_EXPAND_WIDTH = 1152
FEATURE_MIX_WIDTH = 1536
#: squeeze-excite bottleneck: channels // SE_REDUCTION, rounded to a multiple of 8
SE_REDUCTION = 4

#: one MBConv layer: (kernel size, expand ratio)
Layer = tuple[int, int]


def make_divisible(value: float, divisor: int = 8) -> int:
    """``value`` rounded to the nearest multiple of ``divisor``, never more than 10% below it.

    The MobileNet family rounds every channel count this way (hardware prefers multiples of
    8); the exact rule matters because OFA's latency tables are keyed by these widths.
    """
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _activation(name: str) -> nn.Module:
    # torch's Hardswish is OFA's h_swish exactly: x * relu6(x + 3) / 6
    return nn.ReLU(inplace=True) if name == "relu" else nn.Hardswish(inplace=True)


def _conv_bn_act(c_in: int, c_out: int, kernel: int, *, stride: int = 1, groups: int = 1, act: str | None) -> nn.Sequential:
    """Conv (same padding, no bias: BN supplies it), BN, then the activation if any."""
    layers: list[nn.Module] = [
        nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c_out),
    ]
    if act is not None:
        layers.append(_activation(act))
    return nn.Sequential(*layers)


class SqueezeExcite(nn.Module):
    """Channel attention as in OFA's MBConv: mean-pool, 1x1 reduce, ReLU, 1x1 expand, h_sigmoid.

    The bottleneck width is ``make_divisible(channels // 4, 8)``, as in OFA, so that parameter
    counts match the published sub-networks.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        mid = make_divisible(channels // SE_REDUCTION, 8)
        self.reduce = nn.Conv2d(channels, mid, 1)
        self.act = nn.ReLU(inplace=True)
        self.expand = nn.Conv2d(mid, channels, 1)
        self.gate = nn.Hardsigmoid(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = x.mean(dim=(2, 3), keepdim=True)
        return x * self.gate(self.expand(self.act(self.reduce(scale))))


class MBConv(nn.Module):
    """Inverted-residual block: 1x1 expand, kxk depthwise, optional SE, 1x1 linear projection.

    With ``expand_ratio == 1`` there is no expansion conv (the stem block). The middle width is
    ``make_divisible(c_in * expand_ratio, 8)`` as in OFA's dynamic layers.
    """

    def __init__(
        self,
        c_in: int,
        c_out: int,
        *,
        kernel: int,
        expand_ratio: int,
        stride: int,
        act: str,
        use_se: bool,
        residual: bool,
    ) -> None:
        super().__init__()
        if residual and (stride != 1 or c_in != c_out):
            raise InvalidArchitectureError("a residual MBConv needs stride 1 and c_in == c_out")
        self.residual = residual
        self.mid_channels = c_in if expand_ratio == 1 else make_divisible(c_in * expand_ratio, 8)
        mid = self.mid_channels
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(_conv_bn_act(c_in, mid, 1, act=act))
        layers.append(_conv_bn_act(mid, mid, kernel, stride=stride, groups=mid, act=act))
        if use_se:
            layers.append(SqueezeExcite(mid))
        layers.append(_conv_bn_act(mid, c_out, 1, act=None))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return x + out if self.residual else out


def _checked_int(value: object, allowed: tuple[int, ...], what: str) -> int:
    """``value`` as an int if it is an integer in ``allowed``; else a clear error."""
    try:
        as_int = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        as_int = None
    if as_int is None or isinstance(value, bool) or as_int not in allowed:
        raise InvalidArchitectureError(f"{what} must be one of {allowed}, got {value!r}")
    return as_int


def _is_list(value: object) -> bool:
    """A list or tuple-like of items (a string is a sequence too, but never a layer list)."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def validate_stages(stages: Sequence[Sequence[Layer]]) -> tuple[tuple[Layer, ...], ...]:
    """The stages as plain int tuples, or ``InvalidArchitectureError`` saying what is wrong.

    Exactly 5 stages of 0..4 ``(kernel, expand ratio)`` layers each. Checked up front because
    torch would otherwise fail deep inside a conv with an unrelated shape error, or not at all.
    """
    if not _is_list(stages):
        raise InvalidArchitectureError(f"stages must be a sequence of {NUM_STAGES} layer lists")
    if len(stages) != NUM_STAGES:
        raise InvalidArchitectureError(f"MobileNetV3 needs exactly {NUM_STAGES} stages, got {len(stages)}")
    checked: list[tuple[Layer, ...]] = []
    for s, stage in enumerate(stages):
        if not _is_list(stage):
            raise InvalidArchitectureError(f"stage {s} must be a list of (kernel, expand) pairs")
        if len(stage) > MAX_DEPTH:
            raise InvalidArchitectureError(f"stage {s} has {len(stage)} layers; at most {MAX_DEPTH} are allowed")
        layers: list[Layer] = []
        for j, layer in enumerate(stage):
            if not _is_list(layer) or len(layer) != 2:
                raise InvalidArchitectureError(f"stage {s} layer {j} must be a (kernel, expand ratio) pair, got {layer!r}")
            kernel = _checked_int(layer[0], KERNEL_SIZES, f"stage {s} layer {j} kernel size")
            expand = _checked_int(layer[1], EXPAND_RATIOS, f"stage {s} layer {j} expand ratio")
            layers.append((kernel, expand))
        checked.append(tuple(layers))
    return tuple(checked)


class MobileNetV3Subnet(nn.Module):
    """One OFA MobileNetV3 (w1.2) sub-network, built from its 5 stages of (kernel, expand) layers.

    An empty stage is left out entirely (the next stage reads the previous width), which is how
    architectures smaller than the space's minimum depth of 2 are expressed. The input is any
    square image batch ``(N, 3, r, r)``; the space uses r in ``RESOLUTIONS``.
    """

    def __init__(self, stages: Sequence[Sequence[Layer]], *, num_classes: int = 1000) -> None:
        super().__init__()
        require_positive(num_classes=num_classes)
        self.stages: tuple[tuple[Layer, ...], ...] = validate_stages(stages)
        self.stem = nn.Sequential(
            _conv_bn_act(3, STEM_WIDTH, 3, stride=2, act="h_swish"),
            MBConv(
                STEM_WIDTH,
                STEM_WIDTH,
                kernel=3,
                expand_ratio=1,
                stride=1,
                act="relu",
                use_se=False,
                residual=True,
            ),
        )
        blocks: list[nn.Module] = []
        c_in = STEM_WIDTH
        for s, stage in enumerate(self.stages):
            for j, (kernel, expand) in enumerate(stage):
                first = j == 0
                block = MBConv(
                    c_in,
                    STAGE_WIDTHS[s],
                    kernel=kernel,
                    expand_ratio=expand,
                    stride=STAGE_STRIDES[s] if first else 1,
                    act=STAGE_ACTIVATIONS[s],
                    use_se=STAGE_SE[s],
                    residual=not first,
                )
                blocks.append(block)
                c_in = STAGE_WIDTHS[s]
        self.blocks = nn.Sequential(*blocks)
        self.final_expand = _conv_bn_act(c_in, FINAL_EXPAND_WIDTH, 1, act="h_swish")
        # OFA's feature-mix layer has neither BN nor a bias: it runs on a 1x1 pooled map
        self.feature_mix = nn.Sequential(
            nn.Conv2d(FINAL_EXPAND_WIDTH, FEATURE_MIX_WIDTH, 1, bias=False),
            _activation("h_swish"),
        )
        self.classifier = nn.Linear(FEATURE_MIX_WIDTH, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.final_expand(self.blocks(self.stem(images)))
        x = self.feature_mix(x.mean(dim=(2, 3), keepdim=True))
        return self.classifier(torch.flatten(x, 1))


__all__ = [
    "DEPTHS",
    "EXPAND_RATIOS",
    "KERNEL_SIZES",
    "Layer",
    "MBConv",
    "MobileNetV3Subnet",
    "RESOLUTIONS",
    "STAGE_ACTIVATIONS",
    "STAGE_SE",
    "STAGE_STRIDES",
    "STAGE_WIDTHS",
    "SqueezeExcite",
    "make_divisible",
    "validate_stages",
]
