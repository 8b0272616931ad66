"""PNAGSampler from OptunaHub on NAS-Bench-201 (CIFAR-100).

The vendored NAS-Bench-201 table of ``pnag-sampler`` stands in for training: each trial's
objective is the validation accuracy the table records for the suggested cell.
"""

from __future__ import annotations

from pathlib import Path

import optuna
import optunahub
from pnag_sampler.data import get_benchmark


test_local = True

if test_local:
    # Load this folder from a local checkout (the folder above samplers/ is the registry root).
    module = optunahub.load_local_module(
        package="samplers/pnag",
        registry_root=str(Path(__file__).resolve().parents[2]),
    )
else:
    # Load the package from the OptunaHub registry.
    module = optunahub.load_module(package="samplers/pnag")

PNAGSampler = module.PNAGSampler
suggest_architecture = module.suggest_architecture

table = get_benchmark("nb201")


def objective(trial: optuna.Trial) -> float:
    cell = suggest_architecture(trial, "nb201")  # canonical NB201 cell string
    return float(table.validation("cifar100")[table.index(cell)])


if __name__ == "__main__":
    study = optuna.create_study(direction="maximize", sampler=PNAGSampler(seed=0))
    study.optimize(objective, n_trials=20)
    print(f"best validation accuracy: {study.best_value:.2f}")
    print(f"best cell: {suggest_architecture(study.best_trial, 'nb201')}")
