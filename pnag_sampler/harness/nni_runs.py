"""NNI's strategies on a tabulated problem, for the benchmark harness.

The model space is ``pnag_sampler.adapters.nni.ArchitectureModelSpace`` (one
``nni.choice`` per slot, no network built); the evaluator is a ``FunctionalEvaluator`` that
reports the architecture's validation score with ``nni.report_final_result``; the strategy runs
on NNI's ``SequentialExecutionEngine`` with ``max_model_count`` as the budget. Regularized
evolution uses a population of 10 and tournaments of 3 (NAS-Bench-201's REA setting), so that
evolution starts after 10 of the 100 evaluations; PNAG's evolution keeps that and only replaces
how the initial population is drawn.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time

# before the first nni import, as in pnag_sampler.adapters.nni: otherwise nni.nas imports
# pytorch_lightning (a `pnag bench` process may import this module first)
os.environ.setdefault("NNI_FRAMEWORK", "none")

from nni.nas.evaluator import FunctionalEvaluator  # noqa: E402  (after NNI_FRAMEWORK)
from nni.nas.execution import SequentialExecutionEngine  # noqa: E402
from nni.nas.space import RawFormatModelSpace  # noqa: E402
from nni.nas.strategy import RegularizedEvolution  # noqa: E402

from pnag_sampler.adapters.nni import ArchitectureModelSpace, PNAGEvolution, nni  # noqa: E402
from pnag_sampler.harness.problems import FAILED, Problem, Run

POPULATION, TOURNAMENT = 10, 3


def run_nni(method: str, problem: Problem, seed: int, budget: int, weights: str | None) -> Run:
    validation = problem.validation
    rows: list[int] = []

    def evaluate(model: ArchitectureModelSpace) -> None:
        if model.architecture is None:  # not in the table: no result, NNI marks the model failed
            rows.append(FAILED)
            return
        row = problem.benchmark.index(model.architecture)
        rows.append(int(row))
        nni.report_final_result(float(validation[row]))

    if method == "nni-evolution":
        strategy = RegularizedEvolution(seed=seed, population_size=POPULATION, sample_size=TOURNAMENT, dedup=True)
    elif method == "nni-pnag-evolution":
        strategy = PNAGEvolution(seed=seed, population_size=POPULATION, sample_size=TOURNAMENT, dedup=True, weights=weights)
    else:
        raise ValueError(f"not an NNI method: {method!r}")
    model_space = RawFormatModelSpace.from_model(ArchitectureModelSpace(problem.space, build_network=False), FunctionalEvaluator(evaluate))
    logging.getLogger("nni").setLevel(logging.WARNING)
    start = time.perf_counter()
    with _nni_home():
        strategy(model_space, SequentialExecutionEngine(max_model_count=budget))
    return Run.sequential(problem, rows, time.perf_counter() - start)


class _nni_home:
    """NNI may write ``~/nni-experiments``; a serverless benchmark run keeps it in a temp HOME."""

    def __enter__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="pnag-nni-")
        self._previous = os.environ.get("HOME")
        os.environ["HOME"] = self._folder.name

    def __exit__(self, *exc: object) -> None:
        if self._previous is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = self._previous
        self._folder.cleanup()
