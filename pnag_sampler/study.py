"""``pnag study``: the README's main job, PNAGSampler beside Optuna's samplers.

Runs real Optuna studies on a vendored benchmark table with PNAG weights that never saw the
task's scores, writes them to one SQLite file (open it with optuna-dashboard), a PNG plot and a
JSON summary, and prints the best test score by trial count.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import optuna

from pnag_sampler.adapters.optuna_study import OPTUNA_METHODS, compare, plot
from pnag_sampler.files import replaced_atomically, write_json
from pnag_sampler.spaces import SPACE_NAMES

REPORT_AT = (1, 2, 5, 10, 20, 50, 100)


def _print_table(result: dict) -> None:
    at = [t for t in REPORT_AT if t <= result["trials"]]
    print(f"{result['space']} / {result['task']}: test score of the best-by-validation trial, "
          f"mean over {len(result['seeds'])} seeds (best in the space: {result['best_in_space_test']:.2f})")
    print(f"{'method':<18}" + "".join(f"{f'@{t}':>9}" for t in at) + f"{'s/trial':>10}")
    for method, row in result["methods"].items():
        curve = row["mean_best_test"]
        per_trial = row["seconds"] / (result["trials"] * len(result["seeds"]))
        print(f"{method:<18}" + "".join(f"{curve[t - 1]:>9.2f}" for t in at) + f"{per_trial:>10.3f}")
    print(f"studies: {result['storage']}  (optuna-dashboard {result['storage']})")
    print(f"plot: {result['plot']}")


def _handle(args: argparse.Namespace) -> int:
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line per trial would bury the table
    out = Path(args.out)
    with replaced_atomically(out / "studies.db") as scratch:
        comparison = compare(
            args.space, args.task, [m for m in args.methods.split(",") if m],
            trials=args.trials, seeds=list(range(args.seed, args.seed + args.seeds)),
            storage=f"sqlite:///{scratch}", weights=args.weights, progress=not args.json,
        )
    comparison.storage = f"sqlite:///{out / 'studies.db'}"
    with replaced_atomically(out / "studies.png") as staging:
        plot(comparison, str(staging))
    result = {**comparison.as_dict(), "plot": str(out / "studies.png")}
    write_json(out / "studies.json", result)
    if args.json:
        print(json.dumps(result))
    else:
        _print_table(result)
    return 0


def add_study_parser(commands) -> None:
    study = commands.add_parser("study", help="PNAGSampler beside Optuna's samplers on a benchmark table (main job)")
    study.add_argument("--space", default="nb201", choices=SPACE_NAMES)
    study.add_argument("--task", default="cifar100")
    study.add_argument("--methods", default="pnag,pnag+tpe,random,tpe", help=f"comma-separated: {', '.join(OPTUNA_METHODS)}")
    study.add_argument("--trials", type=int, default=20)
    study.add_argument("--seeds", type=int, default=5, help="number of seeds per method")
    study.add_argument("--seed", type=int, default=0, help="first seed")
    study.add_argument("--weights", help="PNAG checkpoint trained without the task (default: the shipped held-out one)")
    study.add_argument("--out", default="pnag-study", help="folder for studies.db, studies.png, studies.json")
    study.add_argument("--json", action="store_true")
    study.set_defaults(handler=_handle)
