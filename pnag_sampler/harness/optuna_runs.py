"""Samplers side by side on a tabulated benchmark, as real Optuna studies in one storage.

Each (method, seed) is one study named ``<method>-seed<k>`` whose objective looks up the
validation score of the suggested architecture (what a search may see) and records the test
score as a user attribute (what we report). The storage is SQLite by default, so
``optuna-dashboard sqlite:///...`` opens every run.

PNAG's weights must never have seen the task's scores: shipped weights trained without the task,
or given weights checked against their recorded training set (``pnag_sampler.harness.problems``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import optuna
from tqdm import tqdm

from pnag_sampler.adapters.optuna import PNAGSampler, suggest_architecture
from pnag_sampler.errors import InvalidArchitectureError, UnknownNameError
from pnag_sampler.harness.methods import OPTUNA_METHODS
from pnag_sampler.harness.problems import FAILED, Problem, Run, pnag_weights

SamplerFactory = Callable[[int], optuna.samplers.BaseSampler]


def sampler_factories(space: str, weights: str | None) -> dict[str, SamplerFactory]:
    """The Optuna methods a comparison can run, by name: PNAG alone, as the initial design of
    TPE (10 trials, paper Fig. 1 a), and as the candidate pool of TPE's acquisition (Fig. 1 b);
    the control that ranks a uniform pool with PNAG's surrogate;
    Optuna's own samplers; and optuna-integration's BoTorchSampler. (TPE with a Hamming
    ``categorical_distance_func`` is not here: Optuna 5.0's TPESampler no longer has it.)"""
    pnag_weights = {space: weights}
    return {
        "pnag": lambda seed: PNAGSampler(seed=seed, weights=pnag_weights),
        "pnag-init+tpe": lambda seed: PNAGSampler(
            seed=seed,
            weights=pnag_weights,
            base_sampler=optuna.samplers.TPESampler(seed=seed),
            n_pnag_trials=10,
        ),
        "pnag+tpe": lambda seed: PNAGSampler(
            seed=seed,
            weights=pnag_weights,
            acquisition_sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=5),
        ),
        # the control: the same surrogate ranking a uniform pool of the same size
        "surrogate+uniform": lambda seed: PNAGSampler(seed=seed, weights=pnag_weights, candidate_source="uniform"),
        "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
        "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
        "tpe-multivariate": lambda seed: optuna.samplers.TPESampler(seed=seed, multivariate=True),
        "gp": lambda seed: optuna.samplers.GPSampler(seed=seed),
        "botorch": _botorch,
    }


def _botorch(seed: int) -> optuna.samplers.BaseSampler:
    try:
        from optuna_integration import BoTorchSampler
    except ImportError as error:  # the optional "bench" extra
        raise UnknownNameError("method 'botorch' needs optuna-integration and botorch: pip install 'pnag-sampler[bench]'") from error
    return BoTorchSampler(seed=seed, n_startup_trials=10)


def optimize(
    problem: Problem, sampler: optuna.samplers.BaseSampler, trials: int, *, storage: str | None = None, study_name: str | None = None
) -> Run:
    """One study on a problem: the objective returns the validation score of the suggested
    architecture and records its test score and table row as user attributes."""
    validation, test = problem.validation, problem.test

    def objective(trial: optuna.Trial) -> float:
        try:
            row = problem.benchmark.index(suggest_architecture(trial, problem.space))
        except InvalidArchitectureError:  # not in the table: a failed trial (NaN), one of the budget
            trial.set_user_attr("row", FAILED)
            return float("nan")
        trial.set_user_attr("test", float(test[row]))
        trial.set_user_attr("row", int(row))
        return float(validation[row])

    study = optuna.create_study(study_name=study_name, storage=storage, direction="maximize", sampler=sampler)
    start = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    seconds = time.perf_counter() - start
    rows = [t.user_attrs["row"] for t in sorted(study.trials, key=lambda t: t.number)]
    return Run.sequential(problem, rows, seconds)


def run_optuna(method: str, problem: Problem, seed: int, budget: int, weights: str | None) -> Run:
    """One seed of an Optuna method in an in-memory study (the harness's runner)."""
    return optimize(problem, sampler_factories(problem.space, weights)[method](seed), budget)


@dataclass
class Comparison:
    space: str
    task: str
    trials: int
    seeds: list[int]
    #: best_test[method][s][t]: test score of the best-by-validation trial among the first t+1 of seed s
    best_test: dict[str, list[list[float]]]
    seconds: dict[str, float]
    best_in_space_test: float
    storage: str

    def mean_best_test(self, method: str) -> list[float]:
        return np.mean(self.best_test[method], axis=0).tolist()

    def as_dict(self) -> dict:
        return {
            "space": self.space,
            "task": self.task,
            "trials": self.trials,
            "seeds": self.seeds,
            "storage": self.storage,
            "best_in_space_test": self.best_in_space_test,
            "methods": {
                method: {"mean_best_test": self.mean_best_test(method), "best_test": runs, "seconds": self.seconds[method]}
                for method, runs in self.best_test.items()
            },
        }


def compare(
    space: str,
    task: str,
    methods: list[str],
    *,
    trials: int,
    seeds: list[int],
    storage: str,
    weights: str | None = None,
    progress: bool = True,
) -> Comparison:
    problem = Problem.of(space, task)
    unknown = [m for m in methods if m not in OPTUNA_METHODS]
    if unknown:
        raise UnknownNameError(f"unknown methods {unknown}; known: {', '.join(OPTUNA_METHODS)}")
    held_out = pnag_weights(problem, methods, weights)
    factories = sampler_factories(problem.space, held_out)
    best_test: dict[str, list[list[float]]] = {m: [] for m in methods}
    seconds = {m: 0.0 for m in methods}
    say = (lambda line: tqdm.write(line, file=sys.stderr)) if progress else (lambda line: None)
    say(
        f"{problem.space} / {task}: {len(methods)} methods x {len(seeds)} seeds x {trials} trials"
        + (f"; PNAG weights trained without {task}: {held_out}" if held_out else "")
    )
    bar = tqdm(total=len(methods) * len(seeds), desc="studies", disable=not progress)
    for method in methods:
        for seed in seeds:
            bar.set_postfix_str(f"{method}, seed {seed}")
            run = optimize(
                problem, factories[method](seed), trials, storage=storage, study_name=f"{problem.space}-{task}-{method}-seed{seed}"
            )
            seconds[method] += run.seconds
            best_test[method].append(run.best_test(problem, trials))
            bar.update()
        final = float(np.mean([curve[-1] for curve in best_test[method]]))
        say(
            f"{method}: test score of the best-by-validation trial after {trials} trials {final:.2f} "
            f"(mean of {len(seeds)} seeds), {seconds[method] / (trials * len(seeds)):.3f} s per trial"
        )
    bar.close()
    return Comparison(problem.space, task, trials, list(seeds), best_test, seconds, float(problem.test.max()), storage)


def plot(comparison: Comparison, path: str) -> None:
    """Mean best-by-validation test score against trials, one line per method (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    steps = np.arange(1, comparison.trials + 1)
    for method, curves in comparison.best_test.items():
        runs = np.asarray(curves)
        mean = runs.mean(axis=0)
        (line,) = axes.plot(steps, mean, label=method)
        if len(runs) > 1:
            axes.fill_between(steps, runs.min(axis=0), runs.max(axis=0), color=line.get_color(), alpha=0.12)
    axes.axhline(comparison.best_in_space_test, color="grey", linestyle=":", label="best in space (test)")
    axes.set_xlabel("trials")
    axes.set_ylabel(f"test score of best-by-validation ({comparison.task})")
    axes.set_title(f"{comparison.space} / {comparison.task}, {len(comparison.seeds)} seeds (band: min-max)")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
