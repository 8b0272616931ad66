"""Scores -> rank quantiles: the unit-free performance that generator and surrogate learn."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from pnag_sampler.errors import InvalidScoreError


def performance_quantiles(scores: Mapping[str, np.ndarray]) -> np.ndarray:
    """Mean over tasks of each architecture's rank quantile (0 = worst, 1 = best) in that task.

    Quantiles, not raw scores, make tasks with different accuracy ranges comparable, and make
    ``performance=1.0`` mean "the best there is" on any task.
    """
    from scipy.stats import rankdata  # training only: keeps scipy.stats out of a search's start

    if not scores:
        raise ValueError("need the scores of at least one task")
    quantiles = []
    for task, values in scores.items():
        values = np.asarray(values, dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise InvalidScoreError(f"task '{task}': score #{bad[0]} is {values[bad[0]]}; scores must be finite")
        quantiles.append((rankdata(values) - 1) / max(1, len(values) - 1))
    return np.mean(quantiles, axis=0)
