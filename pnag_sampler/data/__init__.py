"""Tabular benchmarks by name: measured scores and costs for every architecture of a space.

Each benchmark is named after its search space. ``benchmark_for_task`` finds the table that
holds a task for a space, which matters for NAS-Bench-Graph: PROTEINS lives in the 5-operation
sub-space ``nasbench_graph_proteins``, so asking ``nasbench_graph`` for it returns that table.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from pnag_sampler.errors import UnknownNameError
from pnag_sampler.lazy import lazy_exports

if TYPE_CHECKING:
    from pnag_sampler.data.benchmark import Benchmark

#: benchmark (= space) name -> the datasets tabulated in it
GRAPH_TASKS: dict[str, tuple[str, ...]] = {
    "nasbench_graph": ("cora", "citeseer", "pubmed", "cs", "physics", "photo", "computers", "arxiv"),
    "nasbench_graph_proteins": ("proteins",),
}
#: the regression datasets of HPOLib's FCNet tables (benchmark and space ``hpolib``)
HPOLIB_TASKS: tuple[str, ...] = ("naval_propulsion", "parkinsons_telemonitoring", "protein_structure", "slice_localization")


def _nb201() -> Benchmark:
    from pnag_sampler.data.nb201 import NB201Benchmark

    return NB201Benchmark()


def _graph(name: str) -> Callable[[], Benchmark]:
    def build() -> Benchmark:
        from pnag_sampler.data.nasbench_graph import NasBenchGraphBenchmark

        return NasBenchGraphBenchmark(name)

    return build


def _hpolib() -> Benchmark:
    from pnag_sampler.data.hpolib import HPOLibBenchmark

    return HPOLibBenchmark()


_FACTORIES: dict[str, Callable[[], Benchmark]] = {"nb201": _nb201, **{name: _graph(name) for name in GRAPH_TASKS}, "hpolib": _hpolib}
BENCHMARK_NAMES: tuple[str, ...] = tuple(_FACTORIES)
#: the benchmarks that can answer a task asked of a space: its own, then its sub-spaces'
_TABLES_OF_SPACE: dict[str, tuple[str, ...]] = {
    "nb201": ("nb201",),
    "nasbench_graph": ("nasbench_graph", "nasbench_graph_proteins"),
    "nasbench_graph_proteins": ("nasbench_graph_proteins",),
    "hpolib": ("hpolib",),
}


def get_benchmark(name: str) -> Benchmark:
    """The benchmark of space ``name``; loaded lazily, one shared instance per name."""
    if name not in _FACTORIES:
        raise UnknownNameError(f"unknown benchmark {name!r}; known benchmarks: {', '.join(BENCHMARK_NAMES)}")
    return _build(name)


@cache
def _build(name: str) -> Benchmark:
    return _FACTORIES[name]()


def benchmark_for_task(space_name: str, task: str) -> Benchmark:
    """The benchmark that tabulates ``task`` for architectures of space ``space_name``.

    Its ``space`` may be a sub-space of ``space_name`` (NAS-Bench-Graph's PROTEINS).
    """
    if space_name not in _TABLES_OF_SPACE:
        raise UnknownNameError(f"no benchmark for space {space_name!r}; spaces with benchmarks: {', '.join(_TABLES_OF_SPACE)}")
    candidates = [get_benchmark(name) for name in _TABLES_OF_SPACE[space_name]]
    for benchmark in candidates:
        if task in benchmark.tasks:
            return benchmark
    known = [t for benchmark in candidates for t in benchmark.tasks]
    raise UnknownNameError(f"unknown task {task!r} for space {space_name}; known tasks: {', '.join(known)}")


__all__ = ["BENCHMARK_NAMES", "GRAPH_TASKS", "HPOLIB_TASKS", "Benchmark", "benchmark_for_task", "get_benchmark"]
__getattr__, _ = lazy_exports(__name__, {"Benchmark": "pnag_sampler.data.benchmark"})
