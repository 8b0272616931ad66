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


def plot_regret(curves: Mapping[str, Sequence[Sequence[float]]], best: float, title: str, path: str) -> None:
    """Regret after every evaluation, mean over seeds with its 95% interval as a band (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for method, runs in curves.items():
        regret = best - np.asarray(runs, dtype=np.float64)
        cells = [interval(regret[:, t]) for t in range(regret.shape[1])]
        mean = np.array([c["mean"] for c in cells])
        half = np.nan_to_num(np.array([c["ci95"] for c in cells]))
        steps = np.arange(1, len(mean) + 1)
        (line,) = axes.plot(steps, mean, label=method)
        axes.fill_between(steps, mean - half, mean + half, color=line.get_color(), alpha=0.15)
    axes.set_xscale("log")
    axes.set_xlabel("evaluations")
    axes.set_ylabel("regret of the best-by-validation architecture (test)")
    axes.set_title(title)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
