"""The one read-only interface to a tabular benchmark (a table of measured architectures)."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from functools import cached_property

import numpy as np

from pnag_sampler.errors import UnknownNameError
from pnag_sampler.spaces.base import Dag, SearchSpace


def read_only(values: np.ndarray) -> np.ndarray:
    """Mark a cached column read-only: every caller shares it, so nobody may change it."""
    values.setflags(write=False)
    return values


class Benchmark(abc.ABC):
    """Measured results for every tabulated architecture of ``space``, one row each.

    Search methods must select on ``validation`` (and may be charged a ``cost``);
    reports use ``test``. Every array is float64, aligned with ``architectures``, and
    read-only because it is cached and shared (copy it to modify it). Names are checked here,
    once, so that every benchmark reports an unknown task or cost the same way.
    """

    def __init__(self, name: str, space: SearchSpace, tasks: Sequence[str]) -> None:
        self.name = name
        self.space = space
        self.tasks = tuple(tasks)

    # -- what each table provides (names already checked) ----------------------------------------
    @abc.abstractmethod
    def _load_strings(self) -> list[str]:
        """Canonical strings of the rows, in row order."""

    @abc.abstractmethod
    def _validation(self, task: str) -> np.ndarray: ...

    @abc.abstractmethod
    def _test(self, task: str) -> np.ndarray: ...

    @abc.abstractmethod
    def _cost_names(self, task: str) -> tuple[str, ...]: ...

    @abc.abstractmethod
    def _cost(self, name: str, task: str) -> np.ndarray: ...

    # -- rows ------------------------------------------------------------------------------------
    @cached_property
    def _strings(self) -> tuple[str, ...]:
        return tuple(self._load_strings())

    @cached_property
    def _rows(self) -> dict[str, int]:
        return {text: row for row, text in enumerate(self._strings)}

    @cached_property
    def _architectures(self) -> tuple[Dag, ...]:
        return tuple(self.space.from_string(text) for text in self._strings)

    def __len__(self) -> int:
        return len(self._strings)

    def strings(self) -> list[str]:
        """Canonical strings (``space.to_string``) of every row, in row order."""
        return list(self._strings)

    def architectures(self) -> list[Dag]:
        """Every tabulated architecture, in row order."""
        return list(self._architectures)

    def index(self, arch: Dag | str) -> int:
        """Row of an architecture, given as a DAG or a string of the space (any equivalent form).

        Raises InvalidArchitectureError for anything that is not an architecture of the space,
        and UnknownNameError for a valid architecture that the table does not hold.
        """
        dag = arch if isinstance(arch, Dag) else self.space.from_string(arch)
        text = self.space.to_string(dag)
        if text not in self._rows:
            raise UnknownNameError(f"{text!r} is not tabulated in benchmark {self.name}")
        return self._rows[text]

    # -- columns -----------------------------------------------------------------------------------
    def validation(self, task: str) -> np.ndarray:
        """The score a search method may see while searching (higher is better)."""
        return self._validation(self._checked_task(task))

    def test(self, task: str) -> np.ndarray:
        """The score to report for a found architecture (higher is better)."""
        return self._test(self._checked_task(task))

    def cost_names(self, task: str) -> tuple[str, ...]:
        return self._cost_names(self._checked_task(task))

    def cost(self, name: str, task: str) -> np.ndarray:
        names = self.cost_names(task)
        if name not in names:
            raise UnknownNameError(f"unknown cost {name!r} for {self.name} task {task!r}; known costs: {', '.join(names)}")
        return self._cost(name, task)

    def condition_costs(self) -> tuple[str, ...]:
        """Costs a generator trained on this table can be conditioned on (budgets): only costs
        that rank architectures alike on every task, since the generator must understand a
        budget on a task it never saw. None by default."""
        return ()

    def _checked_task(self, task: str) -> str:
        if task not in self.tasks:
            raise UnknownNameError(f"unknown task {task!r} for benchmark {self.name}; known tasks: {', '.join(self.tasks)}")
        return task

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, tasks={self.tasks})"
