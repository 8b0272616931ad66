"""The OptunaHub registry package in package/samplers/pnag loads through optunahub and runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
import yaml

import pnag_sampler
from pnag_sampler.data import get_benchmark

optunahub = pytest.importorskip("optunahub")

REPO = Path(__file__).resolve().parents[1]
REGISTRY_ROOT = REPO / "package"
PACKAGE_DIR = REGISTRY_ROOT / "samplers" / "pnag"

# The keys the registry's header check (optunahub-registry/header_confirm.py) requires, non-empty.
REQUIRED_KEYS = ("author", "title", "description", "tags", "optuna_versions", "license")


def _load():
    return optunahub.load_local_module(package="samplers/pnag", registry_root=str(REGISTRY_ROOT))


def test_package_layout():
    for name in ("README.md", "__init__.py", "example.py", "LICENSE"):
        assert (PACKAGE_DIR / name).is_file(), name


def test_module_reexports_the_pip_package():
    module = _load()
    assert module.PNAGSampler is pnag_sampler.PNAGSampler
    assert module.suggest_architecture is pnag_sampler.suggest_architecture
    assert set(module.__all__) == {"PNAGSampler", "suggest_architecture"}


def test_study_through_the_hub_module():
    module = _load()
    table = get_benchmark("nb201")
    validation = table.validation("cifar100")
    cells = []

    def objective(trial: optuna.Trial) -> float:
        cell = module.suggest_architecture(trial, "nb201")
        cells.append(cell)
        return float(validation[table.index(cell)])

    study = optuna.create_study(direction="maximize", sampler=module.PNAGSampler(seed=0))
    study.optimize(objective, n_trials=3)

    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 3
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert len(set(cells)) == 3
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 3


def test_readme_front_matter():
    text = (PACKAGE_DIR / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    front, _, body = text[len("---\n") :].partition("\n---\n")
    assert body, "front matter is not closed by a '---' line"
    meta = yaml.safe_load(front)
    assert isinstance(meta, dict)
    for key in REQUIRED_KEYS:
        assert meta.get(key) not in (None, ""), key
    # a package under package/samplers/ must carry the tag "sampler"
    assert "sampler" in [str(tag).lower() for tag in meta["tags"]]
    assert all(isinstance(v, str) for v in meta["optuna_versions"])
    assert optuna.__version__ in meta["optuna_versions"]
    # the registry strips HTML from README.md; the template's sections are present
    assert "<" not in body.replace("<-", "")
    for section in ("## Abstract", "## APIs", "## Installation", "## Example"):
        assert section in body, section
    assert "pip install torch==2.13.0" in body and "pip install pnag-sampler" in body


def test_example_runs():
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    result = subprocess.run(
        [sys.executable, str(PACKAGE_DIR / "example.py")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "best validation accuracy:" in result.stdout
    assert "Trial 19 finished" in result.stderr  # Optuna's log: all 20 trials ran
