"""A user's hyperparameter space as a PNAG search space, known only at run time.

Frameworks hand us spaces we have never seen: categorical, integer and float parameters, on a
linear or log scale, with or without a step. Each becomes one operation node of a chain
``input -> p_1 -> ... -> p_k -> output``. A parameter's values fall into *groups*:

- a categorical parameter has one group per choice;
- a numeric parameter with at most ``max_levels`` grid values has one group per value;
- any other numeric parameter is cut into ``max_levels`` equal bins of its (log) range, and a
  group decodes to a value drawn uniformly in its bin (for a stepped parameter, a grid value
  drawn among those in the bin; a bin narrower than the step holds none and decodes to the
  nearest grid value, which belongs to a neighbouring group).

All parameters share one vocabulary of ``max_levels`` level tokens (the node operations), and
a parameter's groups each own an equal share of the levels, so every token is valid at every
node. The chain's wiring is fixed, so the generator, its scales and the surrogate work
unchanged. This space describes hyperparameters, not a network: the user's objective builds
the model, so there is no module to build here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pnag_sampler.errors import InvalidArchitectureError, PNAGError
from pnag_sampler.spaces.base import INPUT, OUTPUT, Dag, SearchSpace
from pnag_sampler.spaces.structure import wiring_states

DEFAULT_MAX_LEVELS = 16


@dataclass(frozen=True)
class Parameter:
    """One hyperparameter, framework-neutral: ``choices`` for a categorical one, else a range."""

    name: str
    choices: tuple[Any, ...] | None = None
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    step: float | None = None
    integer: bool = False

    def __post_init__(self) -> None:
        if self.choices is not None:
            if len(self.choices) == 0:
                raise ValueError(f"parameter '{self.name}' has no choices")
            return
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low > self.high:
            raise ValueError(f"parameter '{self.name}': need finite low <= high, got [{self.low}, {self.high}]")
        if self.log and self.low <= 0:
            raise ValueError(f"parameter '{self.name}': a log scale needs low > 0, got {self.low}")
        if self.step is not None and self.step <= 0:
            raise ValueError(f"parameter '{self.name}': step must be positive, got {self.step}")

    @property
    def grid_step(self) -> float | None:
        """Spacing of the values this parameter can take, None if continuous."""
        if self.choices is not None:
            return None
        return self.step if self.step is not None else (1.0 if self.integer else None)

    @property
    def grid_size(self) -> int | None:
        """Number of values on the grid, None if continuous."""
        step = self.grid_step
        if step is None:
            return None
        return int(math.floor((self.high - self.low) / step + 1e-9)) + 1


class _Groups:
    """How one parameter's values map to its groups (a choice, a grid value or a bin) and back."""

    def __init__(self, parameter: Parameter, max_levels: int) -> None:
        self.parameter = parameter
        grid = parameter.grid_size
        if parameter.choices is not None:
            self.count, self.binned = len(parameter.choices), False
        elif grid is not None and grid <= max_levels:
            self.count, self.binned = grid, False
        else:
            self.count, self.binned = max_levels, True

    def _grid(self) -> tuple[float, int]:
        """The grid's step and size: only asked of a numeric parameter with a grid."""
        step, size = self.parameter.grid_step, self.parameter.grid_size
        assert step is not None and size is not None
        return step, size

    def _transform(self, value: float) -> float:
        return math.log(value) if self.parameter.log else value

    def _inverse(self, value: float) -> float:
        return math.exp(value) if self.parameter.log else value

    def group_of(self, value: Any) -> int:
        p = self.parameter
        if p.choices is not None:
            for index, choice in enumerate(p.choices):
                if choice == value or (choice is value):
                    return index
            raise InvalidArchitectureError(f"parameter '{p.name}' = {value!r} is not one of {list(p.choices)}")
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(value):
            raise InvalidArchitectureError(f"parameter '{p.name}' = {value!r} is not a finite number")
        if not p.low <= value <= p.high:
            raise InvalidArchitectureError(f"parameter '{p.name}' = {value!r} is outside [{p.low}, {p.high}]")
        if not self.binned:  # high need not lie on the grid: its nearest grid value may be past the end
            return min(self.count - 1, int(round((value - p.low) / self._grid()[0])))
        low, high = self._transform(p.low), self._transform(p.high)
        position = (self._transform(float(value)) - low) / (high - low) if high > low else 0.0
        return min(self.count - 1, int(position * self.count))

    def value_of(self, group: int, rng: np.random.Generator) -> Any:
        """A value of ``group``: the choice or grid value, or a value drawn in the bin."""
        p = self.parameter
        if p.choices is not None:
            return p.choices[group]
        if not self.binned:
            return self._typed(p.low + group * self._grid()[0])
        low, high = self._transform(p.low), self._transform(p.high)
        width = (high - low) / self.count
        step = p.grid_step
        if step is None:
            value = self._inverse(low + (group + float(rng.random())) * width)
            return self._typed(min(p.high, max(p.low, value)))
        # a stepped parameter: a grid value whose own group is this one, uniformly
        first = math.ceil((self._inverse(low + group * width) - p.low) / step - 1e-9)
        grid_size = self._grid()[1]
        last = min(math.floor((self._inverse(low + (group + 1) * width) - p.low) / step + 1e-9), grid_size - 1)
        while first <= last and self.group_of(self._grid_value(first)) < group:
            first += 1
        while last >= first and self.group_of(self._grid_value(last)) > group:
            last -= 1
        if first > last:  # a bin narrower than the step holds no grid value: take the nearest
            centre = self._inverse(low + (group + 0.5) * width)
            return self._grid_value(min(grid_size - 1, max(0, round((centre - p.low) / step))))
        return self._grid_value(int(rng.integers(first, last + 1)))

    def _grid_value(self, index: int) -> int | float:
        return self._typed(self.parameter.low + index * self._grid()[0])

    def _typed(self, value: float) -> int | float:
        return int(round(value)) if self.parameter.integer else float(value)


class ParameterSpace(SearchSpace):
    """A chain of hyperparameters; ``name`` is for messages, not a registry key.

    Every node's operation is one of ``max_levels`` shared levels, and level ``l`` of a parameter
    with ``c`` groups means group ``floor(l * c / max_levels)``: each choice, grid value or bin
    owns an equal share of the levels. So every level is meaningful for every parameter (no
    level is invalid), and the canonical string names groups, not levels: two level tuples that
    mean the same configuration are the same architecture, as isomorphic cells are in NB201.
    """

    def __init__(self, parameters: Sequence[Parameter], *, max_levels: int = DEFAULT_MAX_LEVELS, name: str = "parameters") -> None:
        if not parameters:
            raise ValueError("a parameter space needs at least one parameter")
        names = [p.name for p in parameters]
        if len(set(names)) != len(names):
            raise ValueError(f"parameter names must be unique, got {names}")
        if max_levels < 2:
            raise ValueError(f"max_levels must be at least 2, got {max_levels}")
        self.name = name
        self.parameters = tuple(parameters)
        self._groups = tuple(_Groups(p, max_levels) for p in parameters)
        # a categorical with more choices than max_levels widens the vocabulary, so that every
        # group keeps at least one level of its own
        self.operations = tuple(f"level{i}" for i in range(max(max_levels, *(g.count for g in self._groups))))
        self.num_nodes = len(parameters) + 2
        self._wiring = tuple((i, i + 1) for i in range(self.num_nodes - 1))

    @property
    def is_finite(self) -> bool:
        """True when every group is one value, so a group tuple is one configuration."""
        return not any(g.binned for g in self._groups)

    @property
    def size(self) -> int:
        """Number of distinct group tuples (configurations, when the space is finite)."""
        return math.prod(g.count for g in self._groups)

    def _group(self, node_op: str, groups: _Groups) -> int:
        return self.operations.index(node_op) * groups.count // len(self.operations)

    def _first_level(self, group: int, groups: _Groups) -> int:
        return -(-group * len(self.operations) // groups.count)

    # -- validity -----------------------------------------------------------------------------
    def edge_states(self) -> np.ndarray:
        return wiring_states(self.num_nodes, self._wiring)

    def _space_problem(self, dag: Dag) -> str | None:
        if dag.edges != self._wiring:
            return "the wiring must be the chain input -> parameters in order -> output"
        return None

    # -- strings and flat parameters -----------------------------------------------------------
    def to_string(self, dag: Dag) -> str:
        self.require_valid(dag)
        return ",".join(str(self._group(op, g)) for op, g in zip(dag.ops[1:-1], self._groups))

    def from_string(self, text: str) -> Dag:
        if not isinstance(text, str):
            raise InvalidArchitectureError(f"expected a string of {len(self.parameters)} comma-separated groups, got {type(text).__name__}")
        parts = text.split(",")
        if len(parts) != len(self.parameters) or not all(part.isdigit() for part in parts):
            raise InvalidArchitectureError(f"expected {len(self.parameters)} comma-separated groups, got {text!r}")
        return self._dag([int(part) for part in parts])

    def _dag(self, groups: Sequence[int]) -> Dag:
        """The canonical architecture (first level of each group) of a group tuple."""
        for group, g in zip(groups, self._groups):
            if not 0 <= group < g.count:
                raise InvalidArchitectureError(f"parameter '{g.parameter.name}' has {g.count} groups, got group {group}")
        ops = (INPUT, *(self.operations[self._first_level(group, g)] for group, g in zip(groups, self._groups)), OUTPUT)
        return self.require_valid(Dag(ops, self._wiring))

    def parameter_choices(self) -> dict[str, tuple[str, ...]]:
        return {p.name: self.operations for p in self.parameters}

    def to_params(self, dag: Dag) -> dict[str, str]:
        self.require_valid(dag)
        return {p.name: op for p, op in zip(self.parameters, dag.ops[1:-1])}

    def from_params(self, params: dict[str, Any]) -> Dag:
        checked = self.checked_params(params)
        ops = (INPUT, *(checked[p.name] for p in self.parameters), OUTPUT)
        return self.require_valid(Dag(ops, self._wiring))

    # -- the user's values -------------------------------------------------------------------
    def from_values(self, values: Mapping[str, Any]) -> Dag:
        """The canonical architecture of a configuration the user's framework evaluated."""
        missing = [p.name for p in self.parameters if p.name not in values]
        if missing:
            raise InvalidArchitectureError(f"configuration lacks parameters {missing}")
        return self._dag([g.group_of(values[g.parameter.name]) for g in self._groups])

    def to_values(self, dag: Dag, rng: np.random.Generator) -> dict[str, Any]:
        """A configuration of this architecture (a binned group draws its value in the bin)."""
        self.require_valid(dag)
        return {g.parameter.name: g.value_of(self._group(op, g), rng) for op, g in zip(dag.ops[1:-1], self._groups)}

    # -- sampling ------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, n: int) -> list[Dag]:
        """Uniform over configurations (groups); each group shown at a uniformly chosen level
        of its own, so training data covers every level token."""
        columns = []
        for g in self._groups:
            group = (rng.random(n) * g.count).astype(int)
            first = np.array([self._first_level(k, g) for k in range(g.count + 1)])
            span = first[group + 1] - first[group]
            columns.append(first[group] + (rng.random(n) * span).astype(int))
        ops = np.array(self.operations)[np.stack(columns, axis=1)]
        return [self.require_valid(Dag((INPUT, *row, OUTPUT), self._wiring)) for row in ops.tolist()]

    # -- modules: none, the objective builds the model -----------------------------------------
    def _no_module(self) -> PNAGError:
        return PNAGError("a parameter space describes hyperparameters, not a network; the objective builds the model")

    def build_module(self, dag: Dag, **options: Any):
        raise self._no_module()

    def build_sub_module(self, dag: Dag, **options: Any):
        raise self._no_module()

    def example_input(self, batch_size: int = 2):
        raise self._no_module()
