"""The scripts in examples/ run end to end, as a user runs them (small budgets)."""

import json
import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).parents[1] / "examples"


def run(script: str, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return result


def test_nb201_study_example():
    assert "best validation" in run("optuna_nb201.py", "--trials", "3").stdout


def test_custom_space_example_trains_real_models_with_pnag_and_tpe():
    out = json.loads(run("optuna_custom_space.py", "--trials", "5", "--seeds", "1", "--epochs", "1", "--json").stdout)
    for name in ("pnag", "tpe"):
        (run_,) = out["samplers"][name]["runs"]
        assert 0.1 < run_["best_validation"] <= 1.0  # better than chance on 10 classes after one epoch
        assert set(run_["params"]) == {"activation", "width", "depth", "dropout", "lr", "optimizer"}


def test_distributed_example_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'nb201.db'}"
    out = run("optuna_distributed.py", "--storage", url, "--workers", "2", "--trials", "8").stdout
    complete, cells = re.search(r"(\d+) complete trials from 2 workers, (\d+) distinct cells", out).groups()
    assert int(complete) == 8
    assert int(cells) >= 7  # as in the storage tests: a rare concurrent claim can repeat one cell


def test_ray_tune_runs_pnag_through_optuna_search_on_a_local_cluster():
    """Ray pickles the searcher and the sampler in it; 2 trials run at a time; every one of the
    20 trials completes with a distinct cell."""
    printed = run("ray_tune_nb201.py", "--trials", "20", "--concurrent", "2", "--json").stdout
    out = json.loads(printed.strip().splitlines()[-1])  # Ray prints its own tables before it
    assert out["trials"] == out["completed"] == out["distinct_cells"] == 20
