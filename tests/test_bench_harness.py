"""The benchmark harness: runs through each framework, failed evaluations, curves, the quick suite."""

import json
import subprocess
import sys

import numpy as np
import pytest

from pnag_sampler.bench import ALL_METHODS, QUICK
from pnag_sampler.harness import FAILED, Problem, Run, held_out_weights, method_runners
from pnag_sampler.summaries import regret_over_clock


def test_every_listed_method_has_a_runner():
    assert sorted(ALL_METHODS) == sorted(method_runners())


def test_sequential_runs_charge_the_tables_training_time_and_failures_cost_nothing():
    problem = Problem.of("nb201", "cifar10")
    run = Run.sequential(problem, [3, FAILED, 7], seconds=1.0)
    cost = problem.cost
    assert run.finished_at == pytest.approx([cost[3], cost[3], cost[3] + cost[7]])
    assert problem.cost_unit == "simulated training seconds"
    assert Problem.of("nasbench_graph", "cora").cost_unit == "evaluations"


def test_best_test_follows_validation_and_skips_failed_evaluations():
    problem = Problem.of("nb201", "cifar100")
    validation, test = problem.validation, problem.test
    low, high = int(np.argmin(validation)), int(np.argmax(validation))
    curve = Run([FAILED, low, high, low], [0, 1, 2, 3], 0.0).best_test(problem, 6)
    assert np.isnan(curve[0])
    assert curve[1:] == [test[low], test[high], test[high], test[high], test[high]]  # padded to the budget


def test_regret_over_the_clock_is_a_step_function_of_arrivals():
    regret = regret_over_clock([([1.0, 3.0], [60.0, 70.0])], best=73.0, grid=np.array([0.5, 1.0, 2.0, 3.0, 9.0]))
    assert np.isnan(regret[0, 0])
    assert regret[0, 1:].tolist() == [13.0, 13.0, 3.0, 3.0]


@pytest.mark.parametrize("method", ["nni-pnag-evolution", "st-pnag"])
def test_pnag_through_nni_and_syne_tune_is_reproducible_and_never_repeats(method):
    problem = Problem.of("nb201", "cifar10")
    runner = method_runners()[method]
    weights = held_out_weights("nb201", "cifar10")
    first, again = (runner(problem, 3, 12, weights) for _ in range(2))
    assert len(first.rows) == 12 and FAILED not in first.rows
    assert len(set(first.rows)) == 12  # Syne Tune: 4 workers, pending trials are not proposed twice
    assert first.rows == again.rows  # the seed fixes the run (Syne Tune: random_seed through its Tuner)
    assert first.finished_at == sorted(first.finished_at)


def test_quick_suite_runs_every_method_of_every_framework(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pnag_sampler.cli", "bench", "suite", "--quick", "--methods", "all", "--jobs", "2", "--out", str(tmp_path), "--json"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert summary["budget"] == QUICK["budget"] and len(summary["seeds"]) == QUICK["seeds"]
    for space, task in QUICK["problems"]:
        name = f"{space}-{task}"
        assert set(summary["problems"][name]["methods"]) == set(ALL_METHODS)  # held-out weights exist for both
        for plot in ("regret", "clock"):
            assert (tmp_path / f"{name}-{plot}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        problem = Problem.of(space, task)
        detail = json.loads((tmp_path / f"{name}.json").read_text())
        assert detail["weights"].endswith(f"{space}-without-{task}")
        for method, row in detail["methods"].items():
            for run, curve in zip(row["runs"], row["best_test"]):
                assert len(run["rows"]) == QUICK["budget"], method
                assert all(r == FAILED or 0 <= r < len(problem.benchmark) for r in run["rows"])
                assert curve == Run(run["rows"], run["finished_at"], 0.0).best_test(problem, QUICK["budget"])
                if method in ("pnag", "pnag-init+tpe", "pnag+tpe", "st-pnag"):
                    assert len(set(run["rows"])) == len(run["rows"]), method  # PNAG proposes each cell once
            regret_10 = [detail["best_in_space_test"] - curve[9] for curve in row["best_test"]]
            assert row["regret_after"]["10"]["mean"] == pytest.approx(np.mean(regret_10))
