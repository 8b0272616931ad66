"""Syne Tune's searchers on a tabulated problem, for the benchmark harness.

Each run is a real ``Tuner`` on the simulator backend (``UserBlackboxBackend`` over
``pnag_sampler.adapters.syne_tune.tabular_blackbox``, ``SimulatorCallback``) with
``WORKERS`` workers, so results arrive in simulated time (NB201: the table's training time) and
a searcher proposes while other trials are still running. The run stops after ``budget``
completed trials; the results are recorded in arrival order by a tuner callback. Syne Tune's
output folder is a temporary one.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

from syne_tune import StoppingCriterion, Tuner
from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend
from syne_tune.optimizer.baselines import BORE, REA, TPE, BOTorch, RandomSearch
from syne_tune.optimizer.schedulers.single_objective_scheduler import SingleObjectiveScheduler
from syne_tune.tuner_callback import TunerCallback

from pnag_sampler.adapters.syne_tune import PNAGSearcher, architecture_config_space, pnag_points_to_evaluate, tabular_blackbox
from pnag_sampler.errors import InvalidArchitectureError
from pnag_sampler.harness.problems import FAILED, Problem, Run

WORKERS = 4
POPULATION, TOURNAMENT = 10, 3  # as NNI's REA in the harness
METRIC = "validation_error"

SchedulerFactory = Callable[[dict, int, "str | None", str], Any]  # (config space, seed, weights, space) -> scheduler

SCHEDULERS: dict[str, SchedulerFactory] = {
    "st-random": lambda cs, seed, weights, space: RandomSearch(cs, metrics=[METRIC], random_seed=seed),
    "st-rea": lambda cs, seed, weights, space: REA(cs, metric=METRIC, random_seed=seed, population_size=POPULATION, sample_size=TOURNAMENT),
    "st-rea+pnag-init": lambda cs, seed, weights, space: REA(
        cs,
        metric=METRIC,
        random_seed=seed,
        population_size=POPULATION,
        sample_size=TOURNAMENT,
        points_to_evaluate=pnag_points_to_evaluate(space, POPULATION, seed=seed, weights=weights),
    ),
    "st-bore": lambda cs, seed, weights, space: BORE(cs, metric=METRIC, random_seed=seed),
    "st-kde": lambda cs, seed, weights, space: TPE(cs, metric=METRIC, random_seed=seed),
    "st-botorch": lambda cs, seed, weights, space: BOTorch(cs, metric=METRIC, random_seed=seed),
    "st-pnag": lambda cs, seed, weights, space: SingleObjectiveScheduler(
        cs,
        metric=METRIC,
        do_minimize=True,
        searcher=PNAGSearcher(cs, random_seed=seed, weights=weights),
    ),
}


class _ArrivalOrder(TunerCallback):
    """Records each trial's result (configuration and simulated time) as it arrives."""

    def __init__(self) -> None:
        self.results: list[tuple[dict, float]] = []

    def on_trial_result(self, trial, status, result, decision) -> None:
        self.results.append((dict(trial.config), float(result["st_tuner_time"])))


def run_syne_tune(method: str, problem: Problem, seed: int, budget: int, weights: str | None) -> Run:
    config_space = architecture_config_space(problem.space)
    scheduler = SCHEDULERS[method](config_space, seed, weights, problem.space)
    arrivals = _ArrivalOrder()
    logging.getLogger("syne_tune").setLevel(logging.WARNING)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pnag-syne-tune-") as folder:
        previous = os.environ.get("SYNETUNE_FOLDER")
        os.environ["SYNETUNE_FOLDER"] = folder
        try:  # Syne Tune prints its progress; a --json caller's stdout must stay one JSON object
            with contextlib.redirect_stdout(io.StringIO()):
                Tuner(
                    trial_backend=UserBlackboxBackend(
                        blackbox=tabular_blackbox(problem.space, problem.task), elapsed_time_attr="elapsed_time"
                    ),
                    scheduler=scheduler,
                    stop_criterion=StoppingCriterion(max_num_trials_completed=budget),
                    n_workers=WORKERS,
                    sleep_time=0,
                    callbacks=[SimulatorCallback(), arrivals],
                    results_update_interval=10**6,
                    print_update_interval=10**6,
                    save_tuner=False,
                ).run()
        finally:
            if previous is None:
                os.environ.pop("SYNETUNE_FOLDER", None)
            else:
                os.environ["SYNETUNE_FOLDER"] = previous
    seconds = time.perf_counter() - start
    # in simulated-time order: the simulator may report two results of one polling interval
    # out of order, and the curves against the clock read the times as sorted
    results = sorted(arrivals.results, key=lambda result: result[1])[:budget]
    return Run([_row(problem, config) for config, _ in results], [t for _, t in results], seconds)


def _row(problem: Problem, config: dict) -> int:
    space = problem.benchmark.space
    try:
        dag = space.from_params({slot: config[f"{space.name}/{slot}"] for slot in space.parameter_choices()})
    except InvalidArchitectureError:
        return FAILED
    return int(problem.benchmark.index(space.to_string(dag)))
