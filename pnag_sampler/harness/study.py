"""``pnag study``: the README's main job, PNAGSampler beside Optuna's samplers.

Runs real Optuna studies on a vendored benchmark table with PNAG weights that never saw the
task's scores, writes them to one SQLite file (open it with optuna-dashboard), a PNG plot and a
JSON summary, and prints the best test score by trial count.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import optuna

from pnag_sampler.files import replaced_atomically, write_json
from pnag_sampler.harness.optuna_runs import compare, plot

REPORT_AT = (1, 2, 5, 10, 20, 50, 100)


def _print_table(result: dict) -> None:
    at = [t for t in REPORT_AT if t <= result["trials"]]
    print(
        f"{result['space']} / {result['task']}: test score of the best-by-validation trial, "
        f"mean over {len(result['seeds'])} seeds (best in the space: {result['best_in_space_test']:.2f})"
    )
    print(f"{'method':<18}" + "".join(f"{f'@{t}':>9}" for t in at) + f"{'s/trial':>10}")
    for method, row in result["methods"].items():
        curve = row["mean_best_test"]
        per_trial = row["seconds"] / (result["trials"] * len(result["seeds"]))
        print(f"{method:<18}" + "".join(f"{curve[t - 1]:>9.2f}" for t in at) + f"{per_trial:>10.3f}")
    print(f"studies: {result['storage']}  (optuna-dashboard {result['storage']})")
    print(f"plot: {result['plot']}  ({result['wall_seconds']:.0f} s in all)")


def handle(args: argparse.Namespace) -> int:
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line per trial would bury the table
    out = Path(args.out)
    started = time.perf_counter()
    with replaced_atomically(out / "studies.db") as scratch:
        comparison = compare(
            args.space,
            args.task,
            [m for m in args.methods.split(",") if m],
            trials=args.trials,
            seeds=list(range(args.seed, args.seed + args.seeds)),
            storage=f"sqlite:///{scratch}",
            weights=args.weights,
            progress=not args.json,
        )
    comparison.storage = f"sqlite:///{out / 'studies.db'}"
    with replaced_atomically(out / "studies.png") as staging:
        plot(comparison, str(staging))
    result = {**comparison.as_dict(), "plot": str(out / "studies.png"), "wall_seconds": round(time.perf_counter() - started, 1)}
    write_json(out / "studies.json", result)
    if args.json:
        print(json.dumps(result))
    else:
        _print_table(result)
    return 0
