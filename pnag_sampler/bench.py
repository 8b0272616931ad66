"""``pnag bench search``: search methods on a benchmark table, one JSON object out.

For each method and seed, a real Optuna study (in memory) selects by validation score and
reports the test score of its best-by-validation architecture after every evaluation; the
JSON holds, per method, ``mean_best_test`` (the mean over seeds, ``budget`` numbers), the
regret to the space's best test score after 1, 5, 10, 20, 50 and 100 evaluations (those within
the budget; mean and 95% interval over seeds) and the method's average rank there. PNAG's
weights must be held out from the dataset (shipped ``<space>-without-<dataset>`` or
``--weights``), as in ``pnag study``.
"""

from __future__ import annotations

import argparse
import json

import optuna

from pnag_sampler.adapters.optuna_study import METHODS, compare
from pnag_sampler.spaces import SPACE_NAMES
from pnag_sampler.summaries import plot_regret, regret_summary


def _handle(args: argparse.Namespace) -> int:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    comparison = compare(
        args.space, args.dataset, [m for m in args.methods.split(",") if m],
        trials=args.budget, seeds=list(range(args.seed, args.seed + args.seeds)),
        storage=None, weights=args.weights, progress=not args.json,
    )
    result = comparison.as_dict()
    result.pop("storage")
    summary = regret_summary(comparison.best_test, comparison.best_in_space_test)
    for method, row in result["methods"].items():
        row.update(summary[method])
    result["dataset"] = result.pop("task")
    result["budget"] = result.pop("trials")
    if args.plot:
        title = f"{comparison.space} / {comparison.task}, {len(comparison.seeds)} seeds (band: 95% CI)"
        plot_regret(comparison.best_test, comparison.best_in_space_test, title, args.plot)
        result["plot"] = args.plot
    if args.json:
        print(json.dumps(result))
    else:
        for method, row in result["methods"].items():
            cells = "   ".join(
                f"@{k}: {cell['mean']:.4g} ± {cell['ci95']:.2g} (rank {row['average_rank_after'][k]:.2f})"
                for k, cell in row["regret_after"].items()
            )
            print(f"{method:<18} regret {cells}")
    return 0


def add_bench_parser(commands) -> None:
    bench = commands.add_parser("bench", help="benchmark search methods on tabulated benchmarks")
    kinds = bench.add_subparsers(dest="bench_command", required=True)
    search = kinds.add_parser("search", help="best-by-validation test score per evaluation, per method")
    search.add_argument("--space", required=True, choices=SPACE_NAMES)
    search.add_argument("--dataset", required=True, help="a task of the space's table, e.g. cifar100 or cora")
    search.add_argument("--methods", default="pnag,random,tpe", help=f"comma-separated: {', '.join(METHODS)}")
    search.add_argument("--budget", type=int, default=20, help="evaluations per run")
    search.add_argument("--seeds", type=int, default=3, help="number of seeds per method")
    search.add_argument("--seed", type=int, default=0, help="first seed")
    search.add_argument("--weights", help="PNAG checkpoint trained without the dataset's scores")
    search.add_argument("--plot", help="write regret vs evaluations (mean, 95%% CI band) to this PNG")
    search.add_argument("--json", action="store_true")
    search.set_defaults(handler=_handle)
