"""NAS-Bench-201 as an ops-on-nodes DAG, with the standard NB201 macro network.

An NB201 cell has 4 feature nodes and an operation on each of its 6 edges ``i -> j``. In the
ops-on-nodes form every cell edge becomes an operation node, numbered in the order of the
official cell string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``::

    DAG node   0      1       2       3       4       5       6       7
    meaning    input  (0->1)  (0->2)  (1->2)  (0->3)  (1->3)  (2->3)  output

The op node of cell edge ``i -> j`` reads cell node ``i``: the input if ``i == 0``, else the sum
of the op nodes of the edges entering ``i``; the output node sums the edges entering cell
node 3. This wiring is the same for every cell, so a cell is fully given by its 6 operations.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import torch
from torch import nn

from pnag_sampler.errors import InvalidArchitectureError
from pnag_sampler.spaces.base import INPUT, OUTPUT, Dag, DagCell, SearchSpace, require_positive
from pnag_sampler.spaces.structure import wiring_states

OPERATIONS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: cell edges (from cell node, to cell node) in official string order; op node k+1 is edge k
CELL_EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
NUM_NODES = len(CELL_EDGES) + 2
#: the flat parameter names, e.g. "2<-1" for the operation on cell edge 1 -> 2
PARAM_NAMES = tuple(f"{dst}<-{src}" for src, dst in CELL_EDGES)


def _entering(cell_node: int) -> list[int]:
    """Op nodes of the cell edges that end in ``cell_node``."""
    return [k + 1 for k, (_, dst) in enumerate(CELL_EDGES) if dst == cell_node]


def _fixed_wiring() -> tuple[tuple[int, int], ...]:
    edges = [(src, k + 1) for k, (cell_src, _) in enumerate(CELL_EDGES) for src in ([0] if cell_src == 0 else _entering(cell_src))]
    edges += [(src, NUM_NODES - 1) for src in _entering(3)]
    return tuple(sorted(edges))


WIRING = _fixed_wiring()


# -- modules ------------------------------------------------------------------------------------
class _Zero(nn.Module):
    """The ``none`` operation: the edge is absent, so it contributes zeros to the sum."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)


def _relu_conv_bn(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.ReLU(),
        nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(c_out),
    )


_OP_FACTORIES: dict[str, Callable[[int], nn.Module]] = {
    "none": lambda channels: _Zero(),
    "skip_connect": lambda channels: nn.Identity(),
    "nor_conv_1x1": lambda channels: _relu_conv_bn(channels, channels, 1),
    "nor_conv_3x3": lambda channels: _relu_conv_bn(channels, channels, 3),
    "avg_pool_3x3": lambda channels: nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
}


def _make_op(op: str, channels: int) -> nn.Module:
    """The NB201 module for one operation node at ``channels`` channels."""
    return _OP_FACTORIES[op](channels)


class ResidualReduction(nn.Module):
    """NB201's ResNet block between stages: halves the resolution, doubles the channels."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = _relu_conv_bn(c_in, c_out, 3, stride=2)
        self.conv_b = _relu_conv_bn(c_out, c_out, 3)
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, stride=2), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class NB201Network(nn.Module):
    """The NB201 macro network with ``cell`` (any valid DAG over the NB201 ops) as every cell:
    stem, three stages of ``cells_per_stage`` cells at C, 2C, 4C channels joined by
    ``ResidualReduction``, then BN-ReLU, global average pooling and a linear classifier.
    """

    def __init__(self, cell: Dag, channels: int, cells_per_stage: int, num_classes: int) -> None:
        super().__init__()
        require_positive(channels=channels, cells_per_stage=cells_per_stage, num_classes=num_classes)
        self.stem = nn.Sequential(nn.Conv2d(3, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))
        layers: list[nn.Module] = []
        for stage in range(3):
            width = channels * 2**stage
            if stage:
                layers.append(ResidualReduction(width // 2, width))
            make_op = partial(_make_op, channels=width)
            layers += [DagCell(cell, make_op) for _ in range(cells_per_stage)]
        self.cells = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(width, num_classes),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.cells(self.stem(images)))


# -- the space ---------------------------------------------------------------------------------
class NB201Space(SearchSpace):
    """The 15,625 NAS-Bench-201 cells (5 operations on 6 edges, fixed wiring)."""

    name = "nb201"
    operations = OPERATIONS
    num_nodes = NUM_NODES

    def _space_problem(self, dag: Dag) -> str | None:
        if tuple(sorted(dag.edges)) == WIRING:
            return None
        edges = set(dag.edges)
        return (
            f"NB201 cells have the fixed wiring {list(WIRING)}; missing edges "
            f"{sorted(set(WIRING) - edges)}, unexpected edges {sorted(edges - set(WIRING))}"
        )

    def edge_states(self) -> np.ndarray:
        """Every cell has the same wiring: no edge is free."""
        return wiring_states(NUM_NODES, WIRING)

    def _cell(self, cell_ops: tuple[str, ...]) -> Dag:
        return Dag((INPUT, *cell_ops, OUTPUT), WIRING)

    # -- strings --------------------------------------------------------------------------------
    def to_string(self, dag: Dag) -> str:
        """The official NB201 string, e.g. ``|nor_conv_3x3~0|+|none~0|skip_connect~1|+|...|``."""
        ops = self.require_valid(dag).ops
        groups = []
        for cell_node in (1, 2, 3):
            entries = [f"{ops[k]}~{CELL_EDGES[k - 1][0]}" for k in _entering(cell_node)]
            groups.append("|" + "|".join(entries) + "|")
        return "+".join(groups)

    def from_string(self, text: str) -> Dag:
        if not isinstance(text, str):
            raise InvalidArchitectureError(f"an NB201 string must be a str, got {type(text).__name__}")
        groups = text.split("+")
        if len(groups) != 3:
            raise InvalidArchitectureError(f"NB201 string {text!r} must have 3 '+'-separated groups, got {len(groups)}")
        cell_ops: list[str] = []
        for cell_node, group in enumerate(groups, start=1):
            if len(group) < 2 or group[0] != "|" or group[-1] != "|":
                raise InvalidArchitectureError(f"NB201 string {text!r}: group {group!r} must start and end with '|'")
            entries = group[1:-1].split("|")
            if len(entries) != cell_node:
                raise InvalidArchitectureError(
                    f"NB201 string {text!r}: group {cell_node} must list {cell_node} edge(s) into node {cell_node}, got {len(entries)}"
                )
            for src, entry in enumerate(entries):
                op, sep, source = entry.partition("~")
                if sep != "~" or source != str(src):
                    raise InvalidArchitectureError(f"NB201 string {text!r}: entry {entry!r} must be '<op>~{src}'")
                if op not in OPERATIONS:
                    raise InvalidArchitectureError(f"NB201 string {text!r}: unknown operation {op!r}, expected one of {list(OPERATIONS)}")
                cell_ops.append(op)
        return self._cell(tuple(cell_ops))

    # -- parameters -----------------------------------------------------------------------------
    def parameter_choices(self) -> dict[str, tuple[str, ...]]:
        return {name: OPERATIONS for name in PARAM_NAMES}

    def to_params(self, dag: Dag) -> dict[str, str]:
        ops = self.require_valid(dag).ops
        return {name: ops[k + 1] for k, name in enumerate(PARAM_NAMES)}

    def from_params(self, params: dict[str, Any]) -> Dag:
        return self._cell(tuple(self.checked_params(params).values()))

    # -- sampling and modules -------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, n: int) -> list[Dag]:
        choices = rng.integers(len(OPERATIONS), size=(n, len(CELL_EDGES)))
        return [self._cell(tuple(OPERATIONS[i] for i in row)) for row in choices]

    def build_module(self, dag: Dag, channels: int = 16, cells_per_stage: int = 5, num_classes: int = 10) -> NB201Network:
        return NB201Network(self.require_valid(dag), channels, cells_per_stage, num_classes)

    def build_sub_module(self, dag: Dag, channels: int = 16, cells_per_stage: int = 5, num_classes: int = 10) -> NB201Network:
        return NB201Network(self.require_sub_architecture(dag), channels, cells_per_stage, num_classes)

    def example_input(self, batch_size: int = 2) -> torch.Tensor:
        """A batch of random 32x32 RGB images, the CIFAR input size NB201 was trained on."""
        return torch.randn(batch_size, 3, 32, 32)
