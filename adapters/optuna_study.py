"""Samplers side by side on a tabulated benchmark, as real Optuna studies in one storage.

Each (method, seed) is one study named ``<method>-seed<k>`` whose objective looks up the
validation score of the suggested architecture (what a search may see) and records the test
score as a user attribute (what we report). The storage is SQLite by default, so
``optuna-dashboard sqlite:///...`` opens every run.

PNAG's weights must never have seen the task's scores: :func:`held_out_weights` finds shipped
weights trained without the task, and any weights given are checked against their recorded
training set.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

import numpy as np
import optuna
from tqdm import tqdm

from pnag_sampler.adapters.optuna import PNAGSampler, suggest_architecture
from pnag_sampler.data import benchmark_for_task
from pnag_sampler.errors import CheckpointError, UnknownNameError
from pnag_sampler.generator import PNAG
from pnag_sampler.pretraining import training_set_of

SamplerFactory = Callable[[int], optuna.samplers.BaseSampler]


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


def sampler_factories(space: str, weights: str | None) -> dict[str, SamplerFactory]:
    """The methods a comparison can run, by name."""
    return {
        "pnag": lambda seed: PNAGSampler(seed=seed, weights={space: weights}),
        "pnag+tpe": lambda seed: PNAGSampler(
            seed=seed, weights={space: weights}, acquisition_sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=5),
        ),
        "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
        "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
        "tpe-multivariate": lambda seed: optuna.samplers.TPESampler(seed=seed, multivariate=True),
        "gp": lambda seed: optuna.samplers.GPSampler(seed=seed),
    }


METHODS = tuple(sampler_factories("", ""))


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
            "space": self.space, "task": self.task, "trials": self.trials, "seeds": self.seeds,
            "storage": self.storage, "best_in_space_test": self.best_in_space_test,
            "methods": {
                method: {"mean_best_test": self.mean_best_test(method), "best_test": runs, "seconds": self.seconds[method]}
                for method, runs in self.best_test.items()
            },
        }


def _best_by_validation(study: optuna.Study) -> list[float]:
    best_value, best_test, curve = -np.inf, np.nan, []
    for trial in sorted(study.trials, key=lambda t: t.number):
        if trial.state == optuna.trial.TrialState.COMPLETE and trial.value > best_value:
            best_value, best_test = trial.value, trial.user_attrs["test"]
        curve.append(best_test)
    return curve


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
    benchmark = benchmark_for_task(space, task)
    space_name = benchmark.space.name
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise UnknownNameError(f"unknown methods {unknown}; known: {', '.join(METHODS)}")
    if any(m.startswith("pnag") for m in methods):
        weights = weights or held_out_weights(space_name, task)
        check_held_out(weights, space_name, task)
    factories = sampler_factories(space_name, weights)
    validation, test = benchmark.validation(task), benchmark.test(task)

    def objective(trial: optuna.Trial) -> float:
        row = benchmark.index(suggest_architecture(trial, space_name))
        trial.set_user_attr("test", float(test[row]))
        return float(validation[row])

    best_test: dict[str, list[list[float]]] = {m: [] for m in methods}
    seconds = {m: 0.0 for m in methods}
    bar = tqdm(total=len(methods) * len(seeds), desc="studies", disable=not progress)
    for method in methods:
        for seed in seeds:
            study = optuna.create_study(
                study_name=f"{space_name}-{task}-{method}-seed{seed}", storage=storage,
                direction="maximize", sampler=factories[method](seed), load_if_exists=False,
            )
            study.optimize(objective, n_trials=trials)
            seconds[method] += sum((t.datetime_complete - t.datetime_start).total_seconds() for t in study.trials)
            best_test[method].append(_best_by_validation(study))
            bar.update()
    bar.close()
    return Comparison(space_name, task, trials, list(seeds), best_test, seconds, float(test.max()), storage)


def plot(comparison: Comparison, path: str) -> None:
    """Mean best-by-validation test score against trials, one line per method (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    steps = np.arange(1, comparison.trials + 1)
    for method, runs in comparison.best_test.items():
        runs = np.asarray(runs)
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
