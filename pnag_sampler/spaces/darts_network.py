"""The DARTS evaluation network (``NetworkCIFAR`` of Liu et al., DARTS, ICLR 2019).

A DARTS cell reads the outputs of the two previous cells, ``c_{k-2}`` and ``c_{k-1}``, and
computes intermediate nodes, each the sum of one or two operations applied to earlier states.
A cell is given here as a ``CellSpec``, the ``(operation, source)`` pairs of a DARTS
genotype in order: pairs ``2j`` and ``2j + 1`` feed node ``j`` (state ``2 + j``). An odd-length
spec lets its last entry feed the last node alone, so every prefix of a genotype is a smaller
valid cell; this is how sub-architectures of a DARTS cell are built and trained.

The network stacks ``layers`` such cells on a 3x3 stem, with reduction cells (stride 2, doubled
channels) at ``layers // 3`` and ``2 * layers // 3``, exactly as the official evaluation code
does, so the parameter counts match the paper (3.3M for DARTS (second order) at C=36, 20 cells).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

import torch
from torch import nn

from pnag_sampler.errors import InvalidArchitectureError
from pnag_sampler.spaces.base import require_positive

PRIMITIVES: tuple[str, ...] = (
    "none",
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)

#: a cell as ``(operation, source)`` pairs; see the module docstring for the wiring
CellSpec = tuple[tuple[str, int], ...]

STEM_MULTIPLIER = 3


def validate_cell_spec(spec: Sequence[Sequence[object]], name: str = "cell") -> CellSpec:
    """Return ``spec`` as a ``CellSpec``, or raise if it is not a valid DARTS cell.

    Lists (as genotypes come from JSON) are accepted and turned into tuples. A source must
    name a state that exists when its node is computed: the two cell inputs or an earlier node.
    """
    if isinstance(spec, str) or not isinstance(spec, Sequence) or len(spec) == 0:
        raise InvalidArchitectureError(f"{name} must be a non-empty sequence of (op, source) pairs")
    pairs = []
    for k, entry in enumerate(spec):
        if isinstance(entry, str) or not isinstance(entry, Sequence) or len(entry) != 2:
            raise InvalidArchitectureError(f"{name} entry {k} is not an (op, source) pair: {entry!r}")
        op, source = entry
        if op not in PRIMITIVES:
            raise InvalidArchitectureError(f"{name} entry {k} has operation {op!r}, not one of {list(PRIMITIVES)}")
        node = k // 2
        if isinstance(source, bool) or not isinstance(source, int) or not 0 <= source < 2 + node:
            raise InvalidArchitectureError(
                f"{name} entry {k} feeds node {node} (state {2 + node}) from source {source!r}; "
                f"it must be an integer in 0..{1 + node} (the cell inputs or an earlier node)"
            )
        pairs.append((op, source))
    return tuple(pairs)


# -- operations -----------------------------------------------------------------------------
class _Zero(nn.Module):
    """The ``none`` operation: zeros of the (possibly strided) input shape."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x[:, :, :: self.stride, :: self.stride])


class FactorizedReduce(nn.Module):
    """Halve the resolution with two 1x1 stride-2 convs on pixel grids offset by one.

    Used where a skip connection must reduce, so no input pixel is simply dropped. The second
    conv takes the odd remainder of ``c_out``, which equals DARTS's ``c_out // 2`` for the even
    widths DARTS uses and keeps odd widths working.
    """

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.relu = nn.ReLU()
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out - c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


def _relu_conv_bn(c_in: int, c_out: int) -> nn.Sequential:
    """The 1x1 ReLU-conv-BN that brings a cell input to the cell's width."""
    return nn.Sequential(nn.ReLU(), nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out))


def _dil_conv(channels: int, kernel: int, stride: int, dilation: int) -> nn.Sequential:
    """ReLU, depthwise (dilated) conv, pointwise conv, BN: one half of a separable conv."""
    return nn.Sequential(
        nn.ReLU(),
        nn.Conv2d(
            channels,
            channels,
            kernel,
            stride=stride,
            padding=dilation * (kernel - 1) // 2,
            dilation=dilation,
            groups=channels,
            bias=False,
        ),
        nn.Conv2d(channels, channels, 1, bias=False),
        nn.BatchNorm2d(channels),
    )


def _sep_conv(channels: int, kernel: int, stride: int) -> nn.Sequential:
    """DARTS's separable conv: the depthwise-pointwise block twice, striding only in the first."""
    return nn.Sequential(
        *_dil_conv(channels, kernel, stride, dilation=1),
        *_dil_conv(channels, kernel, 1, dilation=1),
    )


_OPS: dict[str, Callable[[int, int], nn.Module]] = {
    "none": lambda c, stride: _Zero(stride),
    "max_pool_3x3": lambda c, stride: nn.MaxPool2d(3, stride=stride, padding=1),
    "avg_pool_3x3": lambda c, stride: nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False),
    "skip_connect": lambda c, stride: nn.Identity() if stride == 1 else FactorizedReduce(c, c),
    "sep_conv_3x3": lambda c, stride: _sep_conv(c, 3, stride),
    "sep_conv_5x5": lambda c, stride: _sep_conv(c, 5, stride),
    "dil_conv_3x3": lambda c, stride: _dil_conv(c, 3, stride, dilation=2),
    "dil_conv_5x5": lambda c, stride: _dil_conv(c, 5, stride, dilation=2),
}


# -- cell and network -----------------------------------------------------------------------
class DartsCell(nn.Module):
    """One DARTS cell of a fixed ``CellSpec``; its output concatenates all its nodes.

    ``reduction`` makes the operations on the two cell inputs stride 2; ``reduction_prev``
    means ``c_{k-2}`` has twice the resolution of ``c_{k-1}``, so it is reduced when
    preprocessed.
    """

    def __init__(
        self,
        spec: CellSpec,
        c_prev_prev: int,
        c_prev: int,
        channels: int,
        *,
        reduction: bool,
        reduction_prev: bool,
    ) -> None:
        super().__init__()
        spec = validate_cell_spec(spec)
        self.reduction = reduction
        self.preprocess0 = FactorizedReduce(c_prev_prev, channels) if reduction_prev else _relu_conv_bn(c_prev_prev, channels)
        self.preprocess1 = _relu_conv_bn(c_prev, channels)
        self.ops = nn.ModuleList(_OPS[op](channels, 2 if reduction and source < 2 else 1) for op, source in spec)
        self.sources = tuple(source for _, source in spec)
        self.multiplier = (len(spec) + 1) // 2

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for first in range(0, len(self.ops), 2):
            entries = range(first, min(first + 2, len(self.ops)))
            states.append(sum(self.ops[k](states[self.sources[k]]) for k in entries))
        return torch.cat(states[2:], dim=1)


class AuxiliaryHeadCIFAR(nn.Module):
    """DARTS's auxiliary classifier for 8x8 feature maps (the tower after the second reduction).

    It only adds a training loss; it is not part of the evaluated model or its parameter count.
    """

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(),
            nn.AvgPool2d(5, stride=3, count_include_pad=False),  # 8x8 -> 2x2
            nn.Conv2d(channels, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(),
            nn.Conv2d(128, 768, 2, bias=False),  # 2x2 -> 1x1
            nn.BatchNorm2d(768),
            nn.ReLU(),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


class DartsNetwork(nn.Module):
    """The DARTS CIFAR evaluation network for a normal and a reduction ``CellSpec``.

    ``forward`` returns the logits, or ``(logits, aux_logits)`` in training mode when
    ``auxiliary`` is set, so a training loop can add the auxiliary loss as DARTS does.
    """

    def __init__(
        self,
        normal: CellSpec,
        reduce: CellSpec,
        *,
        channels: int = 36,
        layers: int = 20,
        num_classes: int = 10,
        auxiliary: bool = False,
    ) -> None:
        super().__init__()
        require_positive(channels=channels, layers=layers, num_classes=num_classes)
        if layers < 3:
            raise InvalidArchitectureError(f"layers must be at least 3 so the network has both reduction cells, got {layers}")
        normal = validate_cell_spec(normal, "normal cell")
        reduce = validate_cell_spec(reduce, "reduction cell")
        self.reduction_layers = (layers // 3, 2 * layers // 3)
        self.auxiliary_layer = 2 * layers // 3
        c_stem = STEM_MULTIPLIER * channels
        self.stem = nn.Sequential(nn.Conv2d(3, c_stem, 3, padding=1, bias=False), nn.BatchNorm2d(c_stem))
        c_prev_prev, c_prev, c_cell = c_stem, c_stem, channels
        reduction_prev = False
        widths: list[int] = []  # output channels of each cell
        self.cells = nn.ModuleList()
        for i in range(layers):
            reduction = i in self.reduction_layers
            if reduction:
                c_cell *= 2
            cell = DartsCell(
                reduce if reduction else normal,
                c_prev_prev,
                c_prev,
                c_cell,
                reduction=reduction,
                reduction_prev=reduction_prev,
            )
            self.cells.append(cell)
            reduction_prev = reduction
            c_prev_prev, c_prev = c_prev, cell.multiplier * c_cell
            widths.append(c_prev)
        self.auxiliary_head = AuxiliaryHeadCIFAR(widths[self.auxiliary_layer], num_classes) if auxiliary else None
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        s0 = s1 = self.stem(x)
        aux_logits = None
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1)
            if i == self.auxiliary_layer and self.auxiliary_head is not None and self.training:
                aux_logits = self.auxiliary_head(s1)
        logits = self.classifier(self.global_pooling(s1).flatten(1))
        return logits if aux_logits is None else (logits, aux_logits)


def parameter_count(module: nn.Module, *, exclude_auxiliary: bool = True) -> int:
    """Number of parameters of ``module``, by default without any auxiliary head.

    DARTS reports model sizes without the auxiliary tower, which only exists for training.
    """
    excluded = {id(p) for m in module.modules() if exclude_auxiliary and isinstance(m, AuxiliaryHeadCIFAR) for p in m.parameters()}
    return sum(p.numel() for p in module.parameters() if id(p) not in excluded)


@cache
def _operation_parameters(op: str, channels: int, stride: int) -> int:
    return parameter_count(_OPS[op](channels, stride))


@cache
def _frame_parameters(normal_nodes: int, reduce_nodes: int, channels: int, layers: int, num_classes: int) -> int:
    """Parameters of everything but the cell operations (stem, preprocessing, classifier); they
    depend on the cells only through their node counts, so all-``none`` cells stand in."""
    with torch.device("meta"):
        frame = DartsNetwork(
            (("none", 0),) * (2 * normal_nodes),
            (("none", 0),) * (2 * reduce_nodes),
            channels=channels,
            layers=layers,
            num_classes=num_classes,
        )
    return parameter_count(frame)


def network_parameter_count(normal: CellSpec, reduce: CellSpec, *, channels: int = 36, layers: int = 20, num_classes: int = 10) -> int:
    """``parameter_count(DartsNetwork(normal, reduce, ...))`` without building the network.

    Building a 20-cell network takes about 0.25 s; summing cached per-operation counts takes
    microseconds, which is what labelling thousands of training architectures needs.
    """
    normal, reduce = validate_cell_spec(normal, "normal cell"), validate_cell_spec(reduce, "reduction cell")
    total = _frame_parameters((len(normal) + 1) // 2, (len(reduce) + 1) // 2, channels, layers, num_classes)
    width = channels
    for i in range(layers):
        reduction = i in (layers // 3, 2 * layers // 3)
        width *= 2 if reduction else 1
        for op, source in reduce if reduction else normal:
            total += _operation_parameters(op, width, 2 if reduction and source < 2 else 1)
    return total
