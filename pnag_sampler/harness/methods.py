"""Every benchmark method and problem by name: cheap to list, so the command line can offer
them without importing a framework (each runner module is imported only when one of its
methods runs; a test checks that these names are exactly the runners')."""

from __future__ import annotations

from typing import TypedDict

from pnag_sampler.data import GRAPH_TASKS, HPOLIB_TASKS

OPTUNA_METHODS = ("pnag", "pnag-init+tpe", "pnag+tpe", "surrogate+uniform", "random", "tpe", "tpe-multivariate", "gp", "botorch")
NNI_METHODS = ("nni-evolution", "nni-pnag-evolution")
SYNE_TUNE_METHODS = ("st-random", "st-rea", "st-rea+pnag-init", "st-bore", "st-kde", "st-botorch", "st-pnag")
ALL_METHODS = (
    "pnag",
    "pnag-init+tpe",
    "pnag+tpe",
    "surrogate+uniform",
    "random",
    "tpe",
    "tpe-multivariate",
    "gp",
    "botorch",
    "nni-evolution",
    "nni-pnag-evolution",
    "st-pnag",
    "st-random",
    "st-rea",
    "st-rea+pnag-init",
    "st-bore",
    "st-kde",
    "st-botorch",
)
#: the suite's default: every method but the two BoTorch-based ones, which take about 280 s
#: (Optuna) and 90 s (Syne Tune) per 100-evaluation run here, 60x the rest together
SUITE_METHODS = tuple(m for m in ALL_METHODS if m not in ("botorch", "st-botorch"))
SUITE_PROBLEMS = (
    *(("nb201", task) for task in ("cifar10", "cifar100", "imagenet16")),
    *(("nasbench_graph", task) for task in GRAPH_TASKS["nasbench_graph"]),
    ("nasbench_graph_proteins", "proteins"),
    *(("hpolib", task) for task in HPOLIB_TASKS),
)


class QuickRun(TypedDict):
    """The smoke run of ``bench suite --quick``."""

    problems: tuple[tuple[str, str], ...]
    seeds: int
    budget: int


QUICK = QuickRun(problems=(("nb201", "cifar10"), ("nasbench_graph", "cora")), seeds=2, budget=10)


def uses_pnag(method: str) -> bool:
    """Whether a method needs PNAG's weights (the uniform-pool control uses its surrogate)."""
    return "pnag" in method or "surrogate+uniform" in method
