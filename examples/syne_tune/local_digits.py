"""PNAGSearcher with Syne Tune's local backend: real training scripts, several workers.

    python examples/syne_tune/local_digits.py [--trials 8] [--workers 2] [--seed 0] [--json]

Each trial runs train_digits.py as its own process (a torch MLP on scikit-learn's digits);
PNAGSearcher proposes its configurations (a random start, then an online PNAG) and never hands
out a configuration that another worker is still training.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from pnag_sampler.adapters.syne_tune import PNAGSearcher
from syne_tune import StoppingCriterion, Tuner
from syne_tune.backend import LocalBackend
from syne_tune.config_space import choice, loguniform, randint, uniform
from syne_tune.experiments import load_experiment
from syne_tune.optimizer.schedulers.single_objective_scheduler import SingleObjectiveScheduler

CONFIG_SPACE = {
    "lr": loguniform(1e-4, 1e-1),
    "hidden": randint(8, 128),
    "dropout": uniform(0.0, 0.5),
    "activation": choice(["relu", "tanh", "gelu"]),
    "epochs": 3,  # a constant: passed to every trial, not searched
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.getLogger("syne_tune").setLevel(logging.WARNING)

    scheduler = SingleObjectiveScheduler(
        CONFIG_SPACE,
        metric="validation_accuracy",
        do_minimize=False,
        searcher=PNAGSearcher(CONFIG_SPACE, random_seed=args.seed),
    )
    tuner = Tuner(
        trial_backend=LocalBackend(entry_point=str(Path(__file__).with_name("train_digits.py"))),
        scheduler=scheduler,
        stop_criterion=StoppingCriterion(max_num_trials_completed=args.trials),
        n_workers=args.workers,
        sleep_time=0.5,
    )
    tuner.run()
    frame = load_experiment(tuner.name).results
    final = frame.sort_values("epoch").groupby("trial_id").last()
    best = final.loc[final["validation_accuracy"].idxmax()]
    result = {
        "trials": int(final.shape[0]),
        "configs": final[[f"config_{k}" for k in CONFIG_SPACE if k != "epochs"]].astype(str).agg("|".join, axis=1).tolist(),
        "best_validation_accuracy": float(best["validation_accuracy"]),
        "best_config": {k: best[f"config_{k}"] for k in CONFIG_SPACE if k != "epochs"},
    }
    print(
        json.dumps(result, default=str)
        if args.json
        else f"{result['trials']} trials, best validation accuracy {result['best_validation_accuracy']:.4f}: {result['best_config']}"
    )


if __name__ == "__main__":
    main()
