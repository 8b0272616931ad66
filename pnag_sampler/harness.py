"""The benchmark harness: search methods of three frameworks on one tabulated problem.

A :class:`Problem` is a table and a task: searches see the validation score, reports use the
test score, and NB201's training time is the simulated cost of an evaluation. Every method runs
through its own framework (an Optuna study, an NNI strategy on NNI's sequential engine, a Syne
Tune tuner on the simulator backend with several workers) and gives back a :class:`Run`: the
table rows in the order their results arrived, the simulated clock at each result, and the
wall-clock seconds the run took (the table lookups are free, so this is the method's own
suggestion time). Curves and summaries are computed here, the same way for every method.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable

import numpy as np

from pnag_sampler.data import benchmark_for_task
from pnag_sampler.data.benchmark import Benchmark
from pnag_sampler.errors import CheckpointError, UnknownNameError
from pnag_sampler.generator import PNAG
from pnag_sampler.pretraining import training_set_of


@dataclass(frozen=True)
class Problem:
    space: str
    task: str
    benchmark: Benchmark = field(repr=False)

    @classmethod
    def of(cls, space: str, task: str) -> "Problem":
        benchmark = benchmark_for_task(space, task)
        return cls(benchmark.space.name, task, benchmark)

    @property
    def validation(self) -> np.ndarray:
        return self.benchmark.validation(self.task)

    @property
    def test(self) -> np.ndarray:
        return self.benchmark.test(self.task)

    @property
    def cost(self) -> np.ndarray:
        """Simulated seconds per evaluation: the table's training time where it has one, else 1."""
        if "train_time" in self.benchmark.cost_names(self.task):
            return self.benchmark.cost("train_time", self.task)
        return np.ones(len(self.benchmark))

    @property
    def cost_unit(self) -> str:
        return "simulated training seconds" if "train_time" in self.benchmark.cost_names(self.task) else "evaluations"


#: the row of an evaluation that gave no result: an architecture the table lacks (NAS-Bench-
#: Graph excludes its 9 all-skip cells), which any method but PNAG can propose
FAILED = -1


@dataclass
class Run:
    #: table rows in the order their results arrived (FAILED: no result)
    rows: list[int]
    #: the simulated clock when each result arrived (sequential methods: the summed costs)
    finished_at: list[float]
    #: wall-clock seconds of the whole run
    seconds: float

    @classmethod
    def sequential(cls, problem: Problem, rows: list[int], seconds: float) -> "Run":
        """A run whose evaluations ran one after another (a failed one costs nothing)."""
        rows_array = np.asarray(rows, dtype=np.int64)
        costs = np.where(rows_array == FAILED, 0.0, problem.cost[np.maximum(rows_array, 0)])
        return cls(rows, np.cumsum(costs).tolist(), seconds)

    def _scores(self, table: np.ndarray, failed: float) -> np.ndarray:
        rows = np.asarray(self.rows, dtype=np.int64)
        return np.where(rows == FAILED, failed, table[np.maximum(rows, 0)])

    def best_test(self, problem: Problem, budget: int) -> list[float]:
        """Test score of the best-by-validation architecture after each of ``budget`` results
        (a run that ended early, e.g. an exhausted space, keeps its last value; NaN until the
        first result)."""
        if not self.rows:
            raise ValueError("the run evaluated nothing")
        validation, test = self._scores(problem.validation, -np.inf), self._scores(problem.test, np.nan)
        best = np.maximum.accumulate(validation)
        chosen = [int(np.flatnonzero(validation[: t + 1] == best[t])[0]) for t in range(len(self.rows))]
        curve = test[chosen][:budget].tolist()
        return curve + curve[-1:] * (budget - len(curve))


#: (problem, seed, budget, weights) -> Run
Runner = Callable[[Problem, int, int, "str | None"], Run]


def method_runners() -> dict[str, Runner]:
    """Every method by name. The frameworks are imported here, when a benchmark runs, not when
    this module is (``pnag study`` and the rest of the CLI do not load NNI or Syne Tune); the
    harness needs the ``bench`` extra."""
    from pnag_sampler.adapters.nni_study import NNI_METHODS, run_nni
    from pnag_sampler.adapters.optuna_study import OPTUNA_METHODS, run_optuna
    from pnag_sampler.adapters.syne_tune_study import SYNE_TUNE_METHODS, run_syne_tune

    runners: dict[str, Runner] = {}
    for names, run in ((OPTUNA_METHODS, run_optuna), (NNI_METHODS, run_nni), (SYNE_TUNE_METHODS, run_syne_tune)):
        for name in names:
            runners[name] = functools.partial(run, name)
    return runners


def uses_pnag(method: str) -> bool:
    return "pnag" in method


def require_known(methods: list[str], known: list[str]) -> None:
    unknown = [m for m in methods if m not in known]
    if unknown:
        raise UnknownNameError(f"unknown methods {unknown}; known: {', '.join(known)}")


# -- held-out weights -----------------------------------------------------------------------------
def held_out_weights(space: str, task: str) -> str:
    """Shipped weights of ``space`` trained without ``task``'s scores (folder path)."""
    folder = resources.files("pnag_sampler") / "weights" / f"{space}-without-{task}"
    if not folder.is_dir():
        raise CheckpointError(
            f"no shipped {space} weights trained without '{task}'; train them with "
            f"`pnag train --space {space} --tasks <the other tasks> --out DIR` and pass --weights DIR"
        )
    return str(Path(str(folder)))


def check_held_out(weights: str, space: str, task: str) -> None:
    """Refuse weights whose recorded training set used ``task``'s scores (or is unknown)."""
    model = PNAG.load(weights, space=space)
    training_set = training_set_of(model)
    if training_set is None:
        raise CheckpointError(f"{weights}: no training set recorded, so it cannot be shown to be held out from '{task}'")
    if task in training_set.resolved_tasks():
        raise CheckpointError(f"{weights} was trained on '{task}' scores; a comparison on '{task}' needs held-out weights")


def pnag_weights(problem: Problem, methods: list[str], weights: str | None) -> str | None:
    """Held-out weights for the problem's PNAG methods (shipped ``<space>-without-<task>`` or
    ``weights``, checked against their recorded training set); None if no method needs them."""
    if not any(uses_pnag(m) for m in methods):
        return None
    weights = weights or held_out_weights(problem.space, problem.task)
    check_held_out(weights, problem.space, problem.task)
    return weights


# -- running many (method, seed) runs ------------------------------------------------------------
def _run_one(job: tuple[str, str, str, int, int, "str | None"]) -> tuple[str, int, Run]:
    method, space, task, seed, budget, weights = job
    return method, seed, method_runners()[method](Problem.of(space, task), seed, budget, weights)


def _single_threaded() -> None:
    import torch

    torch.set_num_threads(1)


def run_all(problem: Problem, methods: list[str], seeds: list[int], budget: int, weights: str | None, *,
            jobs: int = 1, progress: bool = True) -> dict[str, list[Run]]:
    """Every (method, seed) run, in ``jobs`` processes (1: in this one); runs[method][i] is seed i's."""
    from concurrent.futures import ProcessPoolExecutor

    from tqdm.auto import tqdm

    require_known(methods, list(method_runners()))
    work = [(m, problem.space, problem.task, s, budget, weights) for m in methods for s in seeds]
    bar = tqdm(total=len(work), desc=f"{problem.space}/{problem.task}", disable=not progress)
    done: dict[tuple[str, int], Run] = {}
    if jobs <= 1:
        for job in work:
            method, seed, run = _run_one(job)
            done[method, seed] = run
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=jobs, initializer=_single_threaded) as pool:
            for method, seed, run in pool.map(_run_one, work):
                done[method, seed] = run
                bar.update()
    bar.close()
    return {m: [done[m, s] for s in seeds] for m in methods}


def first_best(run: Run, problem: Problem) -> int:
    """Index of the result at which the run's final best-by-validation architecture arrived."""
    validation = run._scores(problem.validation, -np.inf)
    return int(np.flatnonzero(validation == validation.max())[0])
