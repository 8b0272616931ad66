"""Summaries of search runs: intervals, regret at checkpoints, average ranks."""

import numpy as np
import pytest
from scipy.stats import t as student_t

from pnag_sampler.harness.summaries import interval, regret_summary


def test_interval_is_the_mean_and_the_t_half_width():
    values = [1.0, 2.0, 4.0, 5.0]
    cell = interval(values)
    assert cell["mean"] == 3.0
    assert cell["ci95"] == pytest.approx(student_t.ppf(0.975, 3) * np.std(values, ddof=1) / 2)
    assert np.isnan(interval([7.0])["ci95"])


def test_regret_and_ranks_at_the_checkpoints_within_the_budget():
    curves = {  # two seeds, 6 evaluations each
        "a": [[90, 95, 95, 95, 99, 99], [80, 80, 96, 96, 96, 96]],
        "b": [[99, 99, 99, 99, 99, 99], [70, 70, 70, 70, 97, 97]],
    }
    summary = regret_summary(curves, best=100.0, checkpoints=(1, 5, 10))
    assert set(summary["a"]["regret_after"]) == {"1", "5"}  # 10 is beyond the budget
    assert summary["a"]["regret_after"]["1"]["mean"] == 15.0 and summary["b"]["regret_after"]["1"]["mean"] == 15.5
    # after 1: b wins seed 0, a wins seed 1. After 5: regrets 1 and 1 (a tie: 1.5 each) on
    # seed 0, then a 4 against b 3 on seed 1
    assert summary["a"]["average_rank_after"]["1"] == summary["b"]["average_rank_after"]["1"] == 1.5
    assert summary["a"]["average_rank_after"]["5"] == 1.75
    assert summary["b"]["average_rank_after"]["5"] == 1.25
