"""Seconds per ``ask`` + ``tell`` of PNAGSampler next to Optuna's samplers, in one run.

    python benchmarks/optuna_overhead.py [--at 10 100 300] [--calls 41] [--repeats 3] [--seed 0] [--json]

For each sampler and each history size N, a study is pre-filled with the same N completed
trials (uniformly random NB201 cells, or random configurations of a 6-parameter mixed space,
scored from the vendored table / a fixed function), then ``calls`` ask + tell rounds are timed,
the samplers taking turns within each round (so that drift of the machine falls on all alike;
GP, whose calls take tenths of a second, is timed after the others, alone).
The whole measurement is repeated (``--repeats``, new studies, an empty pool cache each time);
medians pool the repeats' rounds, and each repeat's own ratio is kept to show the spread.
The first round is reported apart (median over repeats): it includes one-off work (PNAG loads
its weights and generates the part of its first pool that the N trials open, all of it from 12
on, in an empty pool cache; a user's space is TPE's). Each sampler also runs a whole ``--end-to-end``-trial study from scratch: its seconds per trial include all of it.
Results go to benchmarks/results/optuna_overhead.json; ratios are against TPESampler.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import tempfile
import time
from pathlib import Path

import optuna
import torch

from pnag_sampler import PNAGSampler, suggest_architecture
from pnag_sampler.data import get_benchmark
from pnag_sampler.files import write_json
from pnag_sampler.harness.problems import held_out_weights

RESULTS = Path(__file__).parent / "results" / "optuna_overhead.json"
SAMPLERS = {
    # the NB201 objective is CIFAR-100: PNAG uses the weights that never saw its scores
    "pnag": lambda seed: PNAGSampler(seed=seed, weights={"nb201": held_out_weights("nb201", "cifar100")}),
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
    "gp": lambda seed: optuna.samplers.GPSampler(seed=seed),
}


def nb201_objective(trial: optuna.Trial) -> float:
    table = get_benchmark("nb201")
    return float(table.validation("cifar100")[table.index(suggest_architecture(trial, "nb201"))])


def mixed_objective(trial: optuna.Trial) -> float:
    """A 6-parameter space of the kinds users write: log float, stepped int, categorical."""
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    width = trial.suggest_int("width", 16, 512, step=16)
    depth = trial.suggest_int("depth", 1, 8)
    dropout = trial.suggest_float("dropout", 0.0, 0.5)
    act = trial.suggest_categorical("act", ["relu", "gelu", "tanh"])
    optimizer = trial.suggest_categorical("optimizer", ["adam", "sgd"])
    return (math.log10(lr) + 3) ** 2 + (width / 256 - 1) ** 2 + (depth - 4) ** 2 / 8 + dropout + (act != "gelu") + (optimizer == "sgd")


OBJECTIVES = {"nb201": nb201_objective, "mixed": mixed_objective}


def prefilled_study(space: str, n: int, seed: int, sampler: optuna.samplers.BaseSampler) -> optuna.Study:
    """A study holding ``n`` completed random trials of ``space`` (the same for every sampler)."""
    source = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed), direction="maximize" if space == "nb201" else "minimize")
    source.optimize(OBJECTIVES[space], n_trials=n)
    study = optuna.create_study(sampler=sampler, direction=source.direction)
    study.add_trials(source.trials)
    return study


def time_call(study: optuna.Study, objective) -> float:
    """Seconds of one ask + tell."""
    start = time.perf_counter()
    trial = study.ask()
    study.tell(trial, objective(trial))
    return time.perf_counter() - start


def time_interleaved(studies: dict[str, optuna.Study], objective, calls: int) -> dict[str, list[float]]:
    """Each study's first ask + tell, then ``calls`` rounds of one ask + tell per study, the
    order rotating every round: a slower or busier stretch of the machine falls on every
    sampler alike, so their ratios hold even when absolute times drift."""
    names = list(studies)
    seconds = {name: [time_call(studies[name], objective)] for name in names}
    for round_index in range(calls):
        for name in names[round_index % len(names) :] + names[: round_index % len(names)]:
            seconds[name].append(time_call(studies[name], objective))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--at", type=int, nargs="+", default=[10, 100, 300])
    parser.add_argument("--calls", type=int, default=41)
    parser.add_argument("--repeats", type=int, default=3, help="whole measurements, each with new studies and an empty pool cache")
    parser.add_argument("--end-to-end", type=int, default=100, help="trials of the from-scratch study per sampler")
    parser.add_argument("--spaces", nargs="+", default=list(OBJECTIVES), choices=list(OBJECTIVES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    load = os.getloadavg()[0]
    rows = []
    for space in args.spaces:
        for n in args.at:
            runs: dict[str, list[list[float]]] = {name: [] for name in SAMPLERS}
            for _ in range(args.repeats):
                os.environ["PNAG_CACHE_DIR"] = tempfile.mkdtemp(prefix="pnag-pools-")  # each repeat generates its own pools
                studies = {name: prefilled_study(space, n, args.seed, make(args.seed)) for name, make in SAMPLERS.items()}
                # GP runs alone: its tenths of a second of multithreaded work between the others'
                # calls would flush the caches they rely on, which no sampler of a real study meets
                timed = time_interleaved({name: study for name, study in studies.items() if name != "gp"}, OBJECTIVES[space], args.calls)
                timed |= time_interleaved({"gp": studies["gp"]}, OBJECTIVES[space], args.calls)
                for name, seconds in timed.items():
                    runs[name].append(seconds)
            for name, seconds_per_repeat in runs.items():
                later = [s for seconds in seconds_per_repeat for s in seconds[1:]]
                rows.append(
                    {
                        "space": space,
                        "completed_trials": n,
                        "sampler": name,
                        "first_call_seconds": statistics.median(seconds[0] for seconds in seconds_per_repeat),
                        "median_seconds": statistics.median(later),
                        "mean_seconds": statistics.fmean(later),
                        "median_seconds_per_repeat": [statistics.median(seconds[1:]) for seconds in seconds_per_repeat],
                    }
                )
                print(
                    f"{space:>6} n={n:<4} {name:<7} first {rows[-1]['first_call_seconds']:8.3f}s  median {rows[-1]['median_seconds']:8.4f}s",
                    flush=True,
                )
    end_to_end = []
    os.environ["PNAG_CACHE_DIR"] = tempfile.mkdtemp(prefix="pnag-pools-")  # from scratch: no pool of the rounds above
    for space in args.spaces:
        for name, make in SAMPLERS.items():
            study = optuna.create_study(sampler=make(args.seed), direction="maximize" if space == "nb201" else "minimize")
            start = time.perf_counter()
            study.optimize(OBJECTIVES[space], n_trials=args.end_to_end)
            end_to_end.append(
                {
                    "space": space,
                    "sampler": name,
                    "trials": args.end_to_end,
                    "seconds_per_trial": (time.perf_counter() - start) / args.end_to_end,
                    "best_value": study.best_value,
                }
            )
            print(
                f"{space:>6} end-to-end {name:<7} {end_to_end[-1]['seconds_per_trial']:8.4f}s/trial best {study.best_value:.4f}", flush=True
            )
    for row in end_to_end:
        tpe = next(r for r in end_to_end if r["sampler"] == "tpe" and r["space"] == row["space"])
        row["ratio_to_tpe"] = row["seconds_per_trial"] / tpe["seconds_per_trial"]
    for row in rows:
        tpe = next(
            r for r in rows if r["sampler"] == "tpe" and r["space"] == row["space"] and r["completed_trials"] == row["completed_trials"]
        )
        row["median_ratio_to_tpe"] = row["median_seconds"] / tpe["median_seconds"]
        row["ratio_to_tpe_per_repeat"] = [a / b for a, b in zip(row["median_seconds_per_repeat"], tpe["median_seconds_per_repeat"])]
    results = {
        "load_average_at_start": load,
        "calls": args.calls,
        "repeats": args.repeats,
        "seed": args.seed,
        "threads": args.threads,
        "optuna": optuna.__version__,
        "torch": torch.__version__,
        "rows": rows,
        "end_to_end": end_to_end,
    }
    write_json(args.out, results)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
