"""Syne Tune on the vendored NB201 table (simulator backend, several workers).

    python examples/syne_tune/simulated_nb201.py [--task cifar100] [--trials 30] [--workers 4] [--seed 0] [--json]

Three schedulers over the same blackbox (``UserBlackboxBackend`` + ``BlackboxTabular`` built
from our table, ``SimulatorCallback``, simulated training time from the table): PNAGSearcher,
Syne Tune's regularized evolution (REA), and REA whose initial points come from PNAG
(``pnag_points_to_evaluate``). Each reports the best validation accuracy it found and the
test accuracy of that architecture.
"""

from __future__ import annotations

import argparse
import json
import logging

from pnag_sampler.adapters.syne_tune import PNAGSearcher, architecture_config_space, pnag_points_to_evaluate, tabular_blackbox
from syne_tune import StoppingCriterion, Tuner
from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend
from syne_tune.experiments import load_experiment
from syne_tune.optimizer.baselines import REA
from syne_tune.optimizer.schedulers.single_objective_scheduler import SingleObjectiveScheduler


def schedulers(config_space: dict, seed: int) -> dict:
    metric = "validation_error"
    return {
        "pnag": SingleObjectiveScheduler(
            config_space, metric=metric, do_minimize=True, searcher=PNAGSearcher(config_space, random_seed=seed)
        ),
        "rea": REA(config_space, metric=metric, random_seed=seed, population_size=10, sample_size=5),
        "rea+pnag-init": REA(
            config_space,
            metric=metric,
            random_seed=seed,
            population_size=10,
            sample_size=5,
            points_to_evaluate=pnag_points_to_evaluate("nb201", 10, seed=seed),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="cifar100")
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.getLogger("syne_tune").setLevel(logging.WARNING)

    blackbox = tabular_blackbox("nb201", args.task)
    config_space = architecture_config_space("nb201")
    results = {}
    for name, scheduler in schedulers(config_space, args.seed).items():
        tuner = Tuner(
            trial_backend=UserBlackboxBackend(blackbox=blackbox, elapsed_time_attr="elapsed_time"),
            scheduler=scheduler,
            stop_criterion=StoppingCriterion(max_num_trials_started=args.trials),
            n_workers=args.workers,
            sleep_time=0,
            callbacks=[SimulatorCallback()],
            results_update_interval=600,
        )
        tuner.run()
        frame = load_experiment(tuner.name).results
        best = frame.loc[frame["validation_error"].idxmin()]
        results[name] = {
            "trials": int(frame["trial_id"].nunique()),
            "distinct_cells": int(frame[[f"config_{k}" for k in config_space]].drop_duplicates().shape[0]),
            "best_validation": float(100 - best["validation_error"]),
            "its_test": float(100 - best["test_error"]),
        }
    if args.json:
        print(json.dumps({"task": args.task, "trials": args.trials, "workers": args.workers, "results": results}))
        return
    for name, row in results.items():
        print(
            f"{name:>14}: {row['trials']} trials ({row['distinct_cells']} distinct), best validation {row['best_validation']:.2f}, test {row['its_test']:.2f}"
        )


if __name__ == "__main__":
    main()
