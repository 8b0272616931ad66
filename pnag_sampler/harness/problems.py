"""The benchmark harness: search methods of three frameworks on one tabulated problem.

A ``Problem`` is a table and a task: searches see the validation score, reports use the
test score, and NB201's training time is the simulated cost of an evaluation. Every method runs
through its own framework (an Optuna study, an NNI strategy on NNI's sequential engine, a Syne
Tune tuner on the simulator backend with several workers) and gives back a ``Run``: the
table rows in the order their results arrived, the simulated clock at each result, and the
wall-clock seconds the run took (the table lookups are free, so this is the method's own
suggestion time). Curves and summaries are computed here, the same way for every method.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from pnag_sampler.data import benchmark_for_task
from pnag_sampler.data.benchmark import Benchmark
from pnag_sampler.errors import CheckpointError, UnknownNameError
from pnag_sampler.generator import PNAG
from pnag_sampler.harness.methods import NNI_METHODS, OPTUNA_METHODS, SYNE_TUNE_METHODS, uses_pnag
from pnag_sampler.pretraining import training_set_of


@dataclass(frozen=True)
class Problem:
    space: str
    task: str
    benchmark: Benchmark = field(repr=False)

    @classmethod
    def of(cls, space: str, task: str) -> Problem:
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
    def sequential(cls, problem: Problem, rows: list[int], seconds: float) -> Run:
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

#: each framework's methods, module and runner, by method-name prefix (the first prefix a name
#: starts with wins)
_FRAMEWORKS = (
    ("nni-", NNI_METHODS, "pnag_sampler.harness.nni_runs", "run_nni"),
    ("st-", SYNE_TUNE_METHODS, "pnag_sampler.harness.syne_tune_runs", "run_syne_tune"),
    ("", OPTUNA_METHODS, "pnag_sampler.harness.optuna_runs", "run_optuna"),
)


def method_runners(methods: Iterable[str] | None = None) -> dict[str, Runner]:
    """The runners of ``methods`` by name (None: every method of every framework).

    A framework is imported here, when a benchmark runs, and only if one of the methods needs
    it: ``pnag study`` and the rest of the CLI load neither NNI nor Syne Tune, and a run of
    Optuna's methods does not need them installed. The harness needs the ``bench`` extra."""
    wanted = None if methods is None else list(methods)
    runners: dict[str, Runner] = {}
    for prefix, names, module_name, runner_attribute in _FRAMEWORKS:
        mine = None if wanted is None else [m for m in wanted if m.startswith(prefix) and m not in runners]
        if mine == []:
            continue
        require_known(mine or [], list(names))
        module = importlib.import_module(module_name)
        for name in names if mine is None else mine:
            runners.setdefault(name, functools.partial(getattr(module, runner_attribute), name))
    return runners


def require_known(methods: list[str], known: list[str]) -> None:
    unknown = [m for m in methods if m not in known]
    if unknown:
        raise UnknownNameError(f"unknown methods {unknown}; known: {', '.join(known)}")


# -- held-out weights -----------------------------------------------------------------------------
def held_out_weights(space: str, task: str) -> str:
    """Shipped weights of ``space`` trained without ``task``'s scores (folder path), from the
    separate ``pnag-sampler-heldout`` package (kept out of the core wheel)."""
    try:
        from pnag_sampler_heldout import weights_folder
    except ImportError:
        raise CheckpointError(
            "the held-out weights that benchmarks use are a separate package; from a clone (no download): "
            "pip install ./benchmarks/heldout_weights, or pass --weights DIR"
        ) from None
    folder = weights_folder() / f"{space}-without-{task}"
    if not folder.is_dir():
        raise CheckpointError(
            f"no shipped {space} weights trained without '{task}'; train them with "
            f"`pnag train --space {space} --tasks <the other tasks> --out DIR` and pass --weights DIR"
        )
    return str(folder)


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


# -- running many (method, problem, seed) runs -----------------------------------------------------
@dataclass(frozen=True)
class Job:
    method: str
    space: str
    task: str
    seed: int
    budget: int
    weights: str | None


def _run_job(job: Job) -> Run:
    runner = method_runners([job.method])[job.method]
    return runner(Problem.of(job.space, job.task), job.seed, job.budget, job.weights)


def _single_threaded() -> None:
    import torch

    torch.set_num_threads(1)


def run_jobs(jobs: Sequence[Job], *, workers: int = 1, progress: bool = True, desc: str = "runs") -> Iterator[tuple[Job, Run]]:
    """Run the jobs in ``workers`` processes (1: in this one), started in the order given, and
    yield each (job, run) as it finishes. One pool serves every job, so no worker waits for
    the slowest run of one problem before the next problem starts. A failing run stops the
    rest: queued jobs are cancelled rather than run to the end before the error is raised."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm.auto import tqdm

    method_runners({job.method for job in jobs})  # unknown names fail before anything runs
    with tqdm(total=len(jobs), desc=desc, disable=not progress) as bar:
        if workers <= 1:
            for job in jobs:
                yield job, _run_job(job)
                bar.update()
            return
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_single_threaded)
        try:
            futures = {pool.submit(_run_job, job): job for job in jobs}
            for future in as_completed(futures):
                yield futures[future], future.result()
                bar.update()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def run_all(
    problem: Problem, methods: list[str], seeds: list[int], budget: int, weights: str | None, *, jobs: int = 1, progress: bool = True
) -> dict[str, list[Run]]:
    """Every (method, seed) run on one problem, in ``jobs`` processes; runs[method][i] is seed i's."""
    work = [Job(m, problem.space, problem.task, s, budget, weights) for m in methods for s in seeds]
    done = {
        (job.method, job.seed): run for job, run in run_jobs(work, workers=jobs, progress=progress, desc=f"{problem.space}/{problem.task}")
    }
    return {m: [done[m, s] for s in seeds] for m in methods}


def first_best(run: Run, problem: Problem) -> int:
    """Index of the result at which the run's final best-by-validation architecture arrived."""
    validation = run._scores(problem.validation, -np.inf)
    return int(np.flatnonzero(validation == validation.max())[0])
