"""Syne Tune 0.16: PNAGSearcher through Tuner (simulator and local backends) and on its own."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pnag_sampler.adapters.syne_tune import PNAGSearcher, architecture_config_space, pnag_points_to_evaluate
from syne_tune.config_space import choice, randint, uniform

from pnag_sampler.errors import UnsupportedParameterError

EXAMPLES = Path(__file__).parents[1] / "examples" / "syne_tune"


def run(tmp_path, script: str, *args: str) -> dict:
    env = {**os.environ, "HOME": str(tmp_path)}  # Syne Tune writes ~/syne-tune
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args, "--json"], capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads([line for line in result.stdout.splitlines() if line.startswith("{")][-1])


def test_simulator_backend_with_four_workers(tmp_path):
    out = run(tmp_path, "simulated_nb201.py", "--trials", "16", "--workers", "4")
    for name in ("pnag", "rea", "rea+pnag-init"):
        row = out["results"][name]
        assert row["trials"] >= 12 and 0 < row["its_test"] <= 100
    assert out["results"]["pnag"]["distinct_cells"] == out["results"]["pnag"]["trials"]  # pending never handed out twice


def test_local_backend_runs_real_training_scripts(tmp_path):
    out = run(tmp_path, "local_digits.py", "--trials", "4", "--workers", "2")
    assert out["trials"] >= 4 and len(set(out["configs"])) == len(out["configs"])
    assert 0.1 < out["best_validation_accuracy"] <= 1.0


def test_points_to_evaluate_come_first_and_errors_are_not_retried():
    space = {"a": choice([1, 2, 3]), "b": randint(0, 1), "c": 7}
    searcher = PNAGSearcher(space, points_to_evaluate=[{"a": 3, "b": 1}], random_seed=0)
    first = searcher.suggest()
    assert first == {"a": 3, "b": 1}
    second = searcher.suggest()
    searcher.on_trial_error(1)  # trial 1 = the second suggestion
    searcher.on_trial_complete(0, first, 0.5)
    rest = [searcher.suggest() for _ in range(4)]
    pairs = [(c["a"], c["b"]) for c in [first, second, *rest]]
    assert len(set(pairs)) == 6  # all 3 x 2 configurations, each once
    assert searcher.suggest() is None  # exhausted


def test_builtin_space_uses_the_pretrained_generator():
    space = architecture_config_space("nb201")
    points = pnag_points_to_evaluate("nb201", 5, seed=0)
    assert len({json.dumps(p, sort_keys=True) for p in points}) == 5
    searcher = PNAGSearcher(space, random_seed=0)
    assert searcher.suggest() == points[0]  # zero-shot: the generator's first choice


def test_unsupported_domain_names_the_parameter():
    with pytest.raises(UnsupportedParameterError, match="'x'"):
        PNAGSearcher({"x": uniform(0.0, 1.0).quantized(0.1)})


FAILING_SCRIPT = """
import argparse, sys
from syne_tune import Reporter
parser = argparse.ArgumentParser()
parser.add_argument("--x", type=int)
parser.add_argument("--st_checkpoint_dir")
args, _ = parser.parse_known_args()
if args.x == 2:
    sys.exit("this configuration crashes")
Reporter()(score=float(args.x))
"""


def test_a_crashing_trial_is_reported_through_the_tuner_and_never_retried(tmp_path, monkeypatch):
    from syne_tune import StoppingCriterion, Tuner
    from syne_tune.backend import LocalBackend
    from syne_tune.optimizer.schedulers.single_objective_scheduler import SingleObjectiveScheduler

    monkeypatch.setenv("SYNETUNE_FOLDER", str(tmp_path / "syne-tune"))
    monkeypatch.chdir(tmp_path)  # LocalBackend probes for GPUs into ./std.out
    script = tmp_path / "trial.py"
    script.write_text(FAILING_SCRIPT)
    space = {"x": choice([1, 2, 3, 4, 5])}
    searcher = PNAGSearcher(space, points_to_evaluate=[{"x": 2}], random_seed=0)
    Tuner(
        trial_backend=LocalBackend(entry_point=str(script)),
        scheduler=SingleObjectiveScheduler(space, metric="score", do_minimize=False, searcher=searcher),
        stop_criterion=StoppingCriterion(max_num_trials_started=5),
        n_workers=2,
        sleep_time=0.2,
        max_failures=5,
    ).run()
    assert searcher._failed == [{"x": 2}]  # the Tuner passed the crash to on_trial_error
    tried = [config["x"] for config in searcher._suggested]
    assert tried[0] == 2 and sorted(tried) == [1, 2, 3, 4, 5]  # points_to_evaluate first; the crash is never retried


def test_finite_ranges_and_the_seed():
    from syne_tune.config_space import finrange

    space = {"width": finrange(16, 64, 4), "depth": randint(1, 3)}
    first, again = (PNAGSearcher(space, random_seed=7) for _ in range(2))
    configs = [first.suggest() for _ in range(3)]
    assert configs == [again.suggest() for _ in range(3)]
    assert all(c["width"] in (16.0, 32.0, 48.0, 64.0) and 1 <= c["depth"] <= 3 for c in configs)
