"""The benchmark harness: runs through each framework, failed evaluations, curves, the quick suite."""

import json
import subprocess
import sys

import numpy as np
import pytest

import pnag_sampler.harness.bench as bench
from pnag_sampler.errors import BenchmarkResultError, UnknownNameError
from pnag_sampler.generator import PNAG
from pnag_sampler.harness.bench import ALL_METHODS, QUICK, SUITE_PROBLEMS, _problems, suite
from pnag_sampler.harness.problems import FAILED, Problem, Run, held_out_weights, method_runners, pnag_weights
from pnag_sampler.harness.summaries import regret_over_clock, regret_summary


def test_every_listed_method_has_a_runner():
    assert sorted(ALL_METHODS) == sorted(method_runners())


def test_only_the_frameworks_of_the_asked_methods_are_imported():
    code = (
        "import sys; from pnag_sampler.harness.problems import method_runners; method_runners(['random', 'tpe']); "
        "print(sorted(m for m in ('nni', 'syne_tune', 'optuna') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.stdout.split() == ["['optuna']"], result.stderr[-2000:]
    with pytest.raises(UnknownNameError, match="st-nope"):
        method_runners(["random", "st-nope"])


def test_a_run_without_a_result_yet_ranks_last_and_keeps_its_regret_unknown():
    summary = regret_summary({"a": [[np.nan, 1.0], [2.0, 2.0]], "b": [[5.0, 5.0], [1.0, 1.0]]}, best=10.0, checkpoints=(1, 2))
    assert summary["a"]["average_rank_after"]["1"] == 1.5  # seed 0: a has no result (rank 2); seed 1: a is best (rank 1)
    assert summary["b"]["average_rank_after"]["1"] == 1.5
    assert np.isnan(summary["a"]["regret_after"]["1"]["mean"])


def test_suite_problems_are_named_by_problem_or_space():
    assert _problems("nb201") == [("nb201", "cifar10"), ("nb201", "cifar100"), ("nb201", "imagenet16")]
    assert _problems("nasbench_graph-cora,nasbench_graph_proteins") == [("nasbench_graph", "cora"), ("nasbench_graph_proteins", "proteins")]
    with pytest.raises(UnknownNameError, match="nb201-mnist"):
        _problems("nb201-mnist")


def _cheap_suite(out, methods, *, resume=False):
    return suite([("nb201", "cifar10")], methods, [0, 1], 6, out, jobs=1, progress=False, resume=resume)


def test_an_interrupted_suite_resumes_without_rerunning_finished_runs(tmp_path, monkeypatch):
    fresh = _cheap_suite(tmp_path / "fresh", ["random", "tpe"])
    real_run_jobs = bench.run_jobs

    def interrupted(jobs, **options):  # the suite is stopped after its third run
        for index, finished in enumerate(real_run_jobs(jobs, **options)):
            yield finished
            if index == 2:
                raise KeyboardInterrupt

    monkeypatch.setattr(bench, "run_jobs", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _cheap_suite(tmp_path / "cut", ["random", "tpe"])
    assert not (tmp_path / "cut" / "nb201-cifar10.json").exists()
    assert (tmp_path / "cut" / "nb201-cifar10.partial.json").exists()
    monkeypatch.setattr(bench, "run_jobs", real_run_jobs)
    resumed = _cheap_suite(tmp_path / "cut", ["random", "tpe"], resume=True)
    assert (resumed["runs"], resumed["reused_runs"]) == (1, 3)
    assert not (tmp_path / "cut" / "nb201-cifar10.partial.json").exists()
    expected, got = (json.loads((tmp_path / folder / "nb201-cifar10.json").read_text()) for folder in ("fresh", "cut"))
    for method in ("random", "tpe"):
        assert [r["rows"] for r in got["methods"][method]["runs"]] == [r["rows"] for r in expected["methods"][method]["runs"]]
    for method, row in fresh["problems"]["nb201-cifar10"]["methods"].items():
        resumed_row = resumed["problems"]["nb201-cifar10"]["methods"][method]
        assert (row["regret_after"], row["average_rank_after"]) == (resumed_row["regret_after"], resumed_row["average_rank_after"])


def test_resume_keeps_stored_methods_that_cover_every_seed_and_runs_only_new_ones(tmp_path):
    _cheap_suite(tmp_path, ["random"])
    summary = _cheap_suite(tmp_path, ["tpe"], resume=True)
    assert (summary["runs"], summary["reused_runs"]) == (2, 2)
    assert list(summary["problems"]["nb201-cifar10"]["methods"]) == ["random", "tpe"]
    again = suite([("nb201", "cifar10")], ["tpe"], [0, 1, 2], 6, tmp_path, jobs=1, progress=False, resume=True)
    assert list(again["problems"]["nb201-cifar10"]["methods"]) == ["tpe"]  # random lacks seed 2: not kept
    other = suite([("nasbench_graph", "cora")], ["random"], [0, 1, 2], 6, tmp_path, jobs=1, progress=False)
    assert list(other["problems"]) == ["nb201-cifar10", "nasbench_graph-cora"]  # the folder's problems, not only this one's
    assert other["previous"] is None and again["previous"]["reused_runs"] == 2


def test_rerun_runs_the_asked_methods_again_and_reuses_the_others(tmp_path):
    _cheap_suite(tmp_path, ["random", "tpe"])
    summary = suite([("nb201", "cifar10")], ["tpe"], [0, 1], 6, tmp_path, jobs=1, progress=False, resume=True, rerun=True)
    assert (summary["runs"], summary["reused_runs"], summary["rerun"]) == (2, 2, True)
    assert list(summary["problems"]["nb201-cifar10"]["methods"]) == ["random", "tpe"]


def test_resume_refuses_a_foreign_file_or_another_budget(tmp_path):
    _cheap_suite(tmp_path, ["random"])
    with pytest.raises(BenchmarkResultError, match="budget 6, not 7"):
        suite([("nb201", "cifar10")], ["random"], [0, 1], 7, tmp_path, jobs=1, progress=False, resume=True)
    (tmp_path / "nb201-cifar10.json").write_text('{"rows": [1, 2]}')
    with pytest.raises(BenchmarkResultError, match="not a result of `pnag bench`"):
        _cheap_suite(tmp_path, ["random"], resume=True)
    assert (tmp_path / "nb201-cifar10.json").read_text() == '{"rows": [1, 2]}'  # nothing lost


@pytest.mark.parametrize("space, task", SUITE_PROBLEMS)
def test_every_suite_problem_has_shipped_weights_that_never_saw_its_scores(space, task):
    weights = pnag_weights(Problem.of(space, task), ["pnag"], None)  # raises if not held out
    assert weights.endswith(f"{space}-without-{task}")


@pytest.mark.parametrize("space, task", [problem for problem in SUITE_PROBLEMS if problem[0].startswith("nasbench_graph")])
def test_nasbench_graph_folds_generate_conditioned_on_the_other_datasets_scores(space, task):
    model = PNAG.load(held_out_weights(space, task), space=space)
    conditioned = model.metadata["conditioned_stage2"]
    assert conditioned["tasks"] == model.metadata["training_set"]["tasks"] and task not in conditioned["tasks"]
    assert model.condition_layout.names == ("performance", "task")
    assert model.generation_defaults()["performance"] == 1.0  # pools under the top-performance condition, as NB201's


def test_pnag_searches_proteins_in_its_own_five_operation_table():
    problem = Problem.of("nasbench_graph_proteins", "proteins")
    run = method_runners(["pnag"])["pnag"](problem, 0, 8, held_out_weights(problem.space, "proteins"))
    assert FAILED not in run.rows and len(set(run.rows)) == 8


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
        [
            sys.executable,
            "-m",
            "pnag_sampler.cli",
            "bench",
            "suite",
            "--quick",
            "--methods",
            "all",
            "--jobs",
            "2",
            "--out",
            str(tmp_path),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
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


def test_the_uniform_pool_control_ranks_uniform_samples_with_pnags_held_out_surrogate(tmp_path, monkeypatch):
    """`surrogate+uniform` uses PNAG's held-out weights (checked like PNAG's) but never its
    generator: its candidates are uniform samples of the space."""
    from pnag_sampler.generator import PNAG

    def no_generator(*args, **kwargs):
        raise AssertionError("the control must not generate")

    monkeypatch.setattr(PNAG, "generate", no_generator)
    problem = Problem.of("nb201", "cifar10")
    assert pnag_weights(problem, ["surrogate+uniform"], None) == held_out_weights("nb201", "cifar10")
    out = _cheap_suite(tmp_path / "s", ["surrogate+uniform"])
    assert set(out["problems"]["nb201-cifar10"]["methods"]) == {"surrogate+uniform"}


def test_the_method_lists_are_exactly_the_runners_methods():
    from pnag_sampler.harness.methods import OPTUNA_METHODS, SYNE_TUNE_METHODS
    from pnag_sampler.harness.optuna_runs import sampler_factories
    from pnag_sampler.harness.syne_tune_runs import SCHEDULERS

    assert tuple(sampler_factories("nb201", None)) == OPTUNA_METHODS
    assert tuple(SCHEDULERS) == SYNE_TUNE_METHODS
