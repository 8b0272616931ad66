"""Summaries of search runs: means with 95% intervals, regret at checkpoints, average ranks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
from scipy.stats import rankdata
from scipy.stats import t as student_t

#: evaluation counts at which search curves are summarised (those within the budget)
CHECKPOINTS = (1, 5, 10, 20, 50, 100)


def interval(values: Sequence[float] | np.ndarray) -> dict[str, float]:
    """Mean and the half-width of its 95% t-interval (NaN with a single value)."""
    array = np.asarray(values, dtype=np.float64)
    if len(array) < 2:
        return {"mean": float(array.mean()), "ci95": float("nan")}
    half = student_t.ppf(0.975, len(array) - 1) * array.std(ddof=1) / np.sqrt(len(array))
    return {"mean": float(array.mean()), "ci95": float(half)}


def regret_summary(curves: Mapping[str, Sequence[Sequence[float]]], best: float, checkpoints: Sequence[int] = CHECKPOINTS) -> dict:
    """``curves[method][seed][t]``: the score reported after t+1 evaluations (higher is better).

    Per method, the regret to ``best`` after each checkpoint within the budget (mean and 95%
    interval over seeds) and the method's average rank among the methods there (1 = lowest
    regret; per seed, ties averaged, then averaged over seeds). A run with no result yet (its
    first evaluations failed: NaN) ranks below every run with one; its regret mean stays NaN."""
    regrets = {method: best - np.asarray(runs, dtype=np.float64) for method, runs in curves.items()}
    budget = min(r.shape[1] for r in regrets.values())
    seeds = min(r.shape[0] for r in regrets.values())
    at = [k for k in checkpoints if k <= budget]
    methods = list(regrets)
    ranks = {
        k: np.mean([rankdata(np.nan_to_num([regrets[m][s, k - 1] for m in methods], nan=np.inf)) for s in range(seeds)], axis=0) for k in at
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

    figure, axes = plt.subplots(figsize=(7, 4.5))
    bands = {}
    for method, runs in curves.items():
        regret = best - np.asarray(runs, dtype=np.float64)
        cells = [interval(regret[:, t]) for t in range(regret.shape[1])]
        bands[method] = (np.arange(1, regret.shape[1] + 1), np.array([c["mean"] for c in cells]), np.array([c["ci95"] for c in cells]))
    _draw_bands(axes, bands, "evaluations", title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _draw_bands(axes, bands: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]], xlabel: str, title: str) -> None:
    """One line per method (x, mean, 95% half-width) with its band; up to 20 distinct colours;
    the y range follows the means, so a wide interval from few seeds does not flatten them."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    colormap = plt.get_cmap("tab20")
    assert isinstance(colormap, ListedColormap)  # tab20 is a listed (qualitative) colormap
    # matplotlib types ``colors`` as any ArrayLike; a listed colormap's is a sequence of colours
    colours = cast("Sequence[Any]", colormap.colors)
    for index, (method, (x, mean, half)) in enumerate(bands.items()):
        colour = colours[index % len(colours)]
        axes.plot(x, mean, label=method, color=colour, linestyle="-" if index < len(colours) else "--")
        half = np.nan_to_num(half)
        axes.fill_between(x, mean - half, mean + half, color=colour, alpha=0.12)
    top = max((np.nanmax(mean) for _, mean, _ in bands.values() if np.any(np.isfinite(mean))), default=1.0)
    axes.set_ylim(0.0, 1.1 * top if top > 0 else 1.0)
    axes.set_xscale("log")
    axes.set_xlabel(xlabel)
    axes.set_ylabel("regret of the best-by-validation architecture (test)")
    axes.set_title(title)
    axes.legend(fontsize="small", ncol=2)


def regret_over_clock(runs: Sequence[tuple[Sequence[float], Sequence[float]]], best: float, grid: np.ndarray) -> np.ndarray:
    """``runs``: (finished_at, best_test after each result) per seed -> regret[seed, g] at each
    clock value of ``grid`` (NaN before a seed's first result)."""
    regret = np.full((len(runs), len(grid)), np.nan)
    for s, (finished_at, curve) in enumerate(runs):
        arrived = np.searchsorted(np.asarray(finished_at, dtype=np.float64), grid, side="right")
        known = arrived > 0
        regret[s, known] = best - np.asarray(curve, dtype=np.float64)[arrived[known] - 1]
    return regret


def plot_regret_over_clock(
    curves: Mapping[str, Sequence[tuple[Sequence[float], Sequence[float]]]], best: float, unit: str, title: str, path: str
) -> None:
    """Regret against the simulated clock, mean over the seeds that have a result by then, with
    its 95% interval as a band (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times = [t for runs in curves.values() for finished_at, _ in runs for t in finished_at]
    grid = np.geomspace(max(min(times), 1e-9), max(times), 200)
    figure, axes = plt.subplots(figsize=(7, 4.5))
    bands = {}
    for method, runs in curves.items():
        regret = regret_over_clock(runs, best, grid)
        cells = [
            interval(column[~np.isnan(column)]) if np.any(~np.isnan(column)) else {"mean": np.nan, "ci95": np.nan} for column in regret.T
        ]
        bands[method] = (grid, np.array([c["mean"] for c in cells]), np.array([c["ci95"] for c in cells]))
    _draw_bands(axes, bands, unit, title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
