"""PNAGSampler inside Ray Tune: Ray's ``OptunaSearch`` with PNAG as its Optuna sampler.

    python examples/ray_tune_nb201.py [--trials 20] [--concurrent 2] [--seed 1] [--json]

A local Ray cluster (head on 127.0.0.1) runs the trials, several at a time; the vendored
NAS-Bench-201 table stands in for training. Ray pickles the searcher, and with it the sampler.
Needs ``pip install "ray[tune]"`` (the ``ray`` extra).
"""

from __future__ import annotations

import argparse
import json
import tempfile

import ray
from ray import tune
from ray.tune.search.optuna import OptunaSearch

from pnag_sampler import PNAGSampler, get_space, suggest_architecture
from pnag_sampler.data import get_benchmark


def define_space(trial) -> None:
    """Optuna's define-by-run space: one categorical per NB201 slot (``"nb201/<slot>"``)."""
    suggest_architecture(trial, "nb201")


def train(config: dict) -> dict:
    space = get_space("nb201")
    params = config["nb201"]  # Ray nests "nb201/<slot>" keys as config["nb201"][slot]
    cell = space.to_string(space.from_params({slot: params[slot] for slot in space.parameter_choices()}))
    table = get_benchmark("nb201")
    return {"accuracy": float(table.validation("cifar100")[table.index(cell)]), "cell": cell}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--concurrent", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    search = OptunaSearch(space=define_space, sampler=PNAGSampler(seed=args.seed), metric="accuracy", mode="max")
    with tempfile.TemporaryDirectory() as folder:
        ray.init(num_cpus=args.concurrent, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
        try:
            tuner = tune.Tuner(
                train,
                tune_config=tune.TuneConfig(search_alg=search, num_samples=args.trials, max_concurrent_trials=args.concurrent),
                run_config=tune.RunConfig(storage_path=folder, verbose=0),
            )
            results = tuner.fit()
        finally:
            ray.shutdown()
    rows = [(result.metrics.get("cell"), result.metrics.get("accuracy"), result.error is None) for result in results]
    summary = {
        "trials": len(rows),
        "completed": sum(ok for _, _, ok in rows),
        "distinct_cells": len({cell for cell, _, _ in rows if cell is not None}),
        "best_accuracy": max(accuracy for _, accuracy, ok in rows if ok),
    }
    print(json.dumps(summary) if args.json else "\n".join(f"{key}: {value}" for key, value in summary.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
