"""NAS-Bench-Graph results, read from the tables shipped with the ``nas-bench-graph`` package.

The package stores one dict per dataset, keyed by ``Arch.valid_hash()``; rows here are those
keys in ascending order (the same keys, so the same rows, for every dataset of a space) and
are exposed through the space's canonical strings. Scores are accuracies as fractions
(validation = ``valid_perf``, test = ``perf``); costs are ``latency`` (inference time as stored
by the benchmark, in seconds) and ``params`` (millions of parameters, the benchmark's ``para``).

PROTEINS was only benchmarked on 5 operations, so it forms its own space and benchmark,
``nasbench_graph_proteins``; the other 8 datasets share the 9-operation ``nasbench_graph``.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from nas_bench_graph import light_read

from pnag_sampler.data import GRAPH_TASKS
from pnag_sampler.data.benchmark import Benchmark, read_only
from pnag_sampler.spaces import get_space
from pnag_sampler.spaces.nasbench_graph import NasBenchGraphSpace

_COST_FIELDS = {"latency": "latency", "params": "para"}


@cache
def _table(dataset: str) -> dict[int, dict[str, float]]:
    return light_read(dataset)


@cache
def _keys(dataset: str) -> tuple[int, ...]:
    return tuple(sorted(_table(dataset)))


@cache
def _field(dataset: str, field: str) -> np.ndarray:
    table = _table(dataset)
    return read_only(np.array([table[key][field] for key in _keys(dataset)], dtype=np.float64))


class NasBenchGraphBenchmark(Benchmark):
    """Every distinct NAS-Bench-Graph architecture of one space, on that space's datasets."""

    space: NasBenchGraphSpace

    def __init__(self, name: str) -> None:
        super().__init__(name, get_space(name), GRAPH_TASKS[name])

    def _load_strings(self) -> list[str]:
        return [self.space.string_of_key(key) for key in _keys(self.tasks[0])]

    def _validation(self, task: str) -> np.ndarray:
        return _field(task, "valid_perf")

    def _test(self, task: str) -> np.ndarray:
        return _field(task, "perf")

    def _cost_names(self, task: str) -> tuple[str, ...]:
        return tuple(_COST_FIELDS)

    def _cost(self, name: str, task: str) -> np.ndarray:
        return _field(task, _COST_FIELDS[name])
