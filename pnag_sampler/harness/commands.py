"""The harness's commands (``pnag demo``, ``pnag study``, ``pnag bench``) as argument parsers.

Parsers only: each handler is named as ``"module:function"`` and imported when its command
runs, so ``pnag --help`` and argument errors never import torch, Optuna or a framework.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import Any

from pnag_sampler.harness.methods import ALL_METHODS, OPTUNA_METHODS, QUICK, SUITE_METHODS
from pnag_sampler.spaces import SPACE_NAMES

Handler = Callable[[argparse.Namespace], int]


def _later(target: str) -> Handler:
    """A handler that imports ``"module:function"`` when called."""
    module, name = target.split(":")

    def handler(args: argparse.Namespace) -> int:
        return getattr(importlib.import_module(module), name)(args)

    return handler


def add_demo_parser(commands: Any) -> None:
    demo = commands.add_parser("demo", help="generate for a task and compare with real scores and random architectures")
    demo.add_argument("--space", default="nb201", choices=SPACE_NAMES)
    demo.add_argument("--task", default="cifar100")
    demo.add_argument("-n", type=int, default=10)
    demo.add_argument("--cfg-scale", type=float, default=2.0)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--json", action="store_true")
    demo.set_defaults(handler=_later("pnag_sampler.harness.demo:handle"))


def add_study_parser(commands: Any) -> None:
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
    study.set_defaults(handler=_later("pnag_sampler.harness.study:handle"))


def add_bench_parser(commands: Any) -> None:
    bench = commands.add_parser("bench", help="benchmark search methods on tabulated benchmarks")
    kinds = bench.add_subparsers(dest="bench_command", required=True)
    methods_help = f"comma-separated, or 'all': {', '.join(ALL_METHODS)}"

    search_parser = kinds.add_parser("search", help="every method on one problem: curves, regret, ranks, raw runs")
    search_parser.add_argument("--space", required=True, choices=SPACE_NAMES)
    search_parser.add_argument("--dataset", required=True, help="a task of the space's table, e.g. cifar100 or cora")
    search_parser.add_argument("--methods", default="pnag,surrogate+uniform,random,tpe", help=methods_help)
    search_parser.add_argument("--budget", type=int, default=20, help="evaluations per run")
    search_parser.add_argument("--seeds", type=int, default=3, help="number of seeds per method")
    search_parser.add_argument("--seed", type=int, default=0, help="first seed")
    search_parser.add_argument("--weights", help="PNAG checkpoint trained without the dataset's scores")
    search_parser.add_argument("--jobs", type=int, default=1, help="runs in parallel processes")
    search_parser.add_argument("--plot", help="write regret vs evaluations (mean, 95%% CI band) to this PNG")
    search_parser.add_argument("--clock-plot", help="with --plot: also regret vs the simulated clock, to this PNG")
    search_parser.add_argument("--out", help="also write the JSON to this file")
    search_parser.add_argument("--json", action="store_true")
    search_parser.set_defaults(handler=_later("pnag_sampler.harness.bench:handle_search"))

    suite_parser = kinds.add_parser("suite", help="every problem (NB201, NAS-Bench-Graph): JSON, plots and a summary per problem")
    suite_parser.add_argument("--methods", default=",".join(SUITE_METHODS), help=f"{methods_help} (default: all but botorch, st-botorch)")
    suite_parser.add_argument("--budget", type=int, default=100)
    suite_parser.add_argument("--seeds", type=int, default=10)
    suite_parser.add_argument("--seed", type=int, default=0, help="first seed")
    suite_parser.add_argument("--jobs", type=int, default=2, help="runs in parallel processes")
    suite_parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{len(QUICK['problems'])} problems, {QUICK['seeds']} seeds, budget {QUICK['budget']}: a smoke run",
    )
    suite_parser.add_argument("--problems", help="comma-separated problems (e.g. nb201-cifar10) or spaces (nb201); default: all 12")
    suite_parser.add_argument("--out", default="benchmarks/results/bench", help="folder for the JSON files and plots")
    suite_parser.add_argument(
        "--resume",
        action="store_true",
        help="reuse the runs that --out's JSON files hold (also of methods not asked for, if they cover "
        "every seed); run only the missing ones, then rewrite every summary and plot",
    )
    suite_parser.add_argument(
        "--rerun",
        action="store_true",
        help="with --resume: run the asked methods again instead of reusing their stored runs (e.g. after new weights)",
    )
    suite_parser.add_argument("--json", action="store_true")
    suite_parser.set_defaults(handler=_later("pnag_sampler.harness.bench:handle_suite"))
