"""Summaries of search runs: means with 95% intervals, regret at checkpoints, average ranks."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from scipy.stats import rankdata
from scipy.stats import t as student_t

#: evaluation counts at which search curves are summarised (those within the budget)
CHECKPOINTS = (1, 5, 10, 20, 50, 100)


def interval(values: Sequence[float]) -> dict[str, float]:
    """Mean and the half-width of its 95% t-interval (NaN with a single value)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return {"mean": float(values.mean()), "ci95": float("nan")}
    half = student_t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return {"mean": float(values.mean()), "ci95": float(half)}


def regret_summary(curves: Mapping[str, Sequence[Sequence[float]]], best: float, checkpoints: Sequence[int] = CHECKPOINTS) -> dict:
    """``curves[method][seed][t]``: the score reported after t+1 evaluations (higher is better).

    Per method, the regret to ``best`` after each checkpoint within the budget (mean and 95%
    interval over seeds) and the method's average rank among the methods there (1 = lowest
    regret; per seed, ties averaged, then averaged over seeds)."""
    regrets = {method: best - np.asarray(runs, dtype=np.float64) for method, runs in curves.items()}
    budget = min(r.shape[1] for r in regrets.values())
    seeds = min(r.shape[0] for r in regrets.values())
    at = [k for k in checkpoints if k <= budget]
    methods = list(regrets)
    ranks = {
        k: np.mean([rankdata([regrets[m][s, k - 1] for m in methods]) for s in range(seeds)], axis=0)
        for k in at
    }
    return {
        method: {
            "regret_after": {str(k): interval(regrets[method][:, k - 1]) for k in at},
            "average_rank_after": {str(k): float(ranks[k][i]) for k in at},
        }
        for i, method in enumerate(methods)
    }
