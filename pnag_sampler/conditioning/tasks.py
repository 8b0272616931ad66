"""Generation for a task: "a few architectures for MY task, likely the best, within my budget".

A task is known to the model either by name (a task of the space's table: one it was trained on
is described by 50 of its tabulated results, any other is unseen and gets the prior) or by a
support set of (architecture, score) pairs the user has evaluated. The task-aware surrogate
turns it into the embedding the generator is conditioned on, and ranks what was generated, so
the first architecture returned is the model's best guess. Budgets are conditions too; whether
each architecture meets them is measured afterwards (budgets.measured_constraints).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pnag_sampler.conditioning.budgets import budget_conditions
from pnag_sampler.data import benchmark_for_task
from pnag_sampler.errors import InvalidArchitectureError, PNAGError
from pnag_sampler.generator import PNAG, Generation
from pnag_sampler.pretraining import TrainingSet, training_set_of
from pnag_sampler.spaces.base import Dag
from pnag_sampler.surrogates.meta import Support, require_finite_support

#: tabulated results that describe a task the model was trained on
KNOWN_TASK_SUPPORT = 50


@dataclass
class RankedGeneration:
    generation: Generation
    #: the valid generated architectures, best-first by the surrogate (generation order without one)
    architectures: list[Dag]
    #: the surrogate's predicted rank quantile in the task of each, or None without a surrogate
    predicted: list[float] | None
    #: "seen", "unseen" (zero-shot prior), "support" (user's results) or None (no task)
    task_kind: str | None
    support_size: int
    #: the keyword arguments ``PNAG.generate`` got (the task embedding as a list)
    options: dict[str, Any]


def read_support(model: PNAG, path: str | Path) -> Support:
    """A JSON object {architecture string: score} -> support pairs; one clear error for a
    malformed file, architecture or score (naming it)."""
    try:
        entries = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PNAGError(f"cannot read the support set {path}: {error}") from None
    if not isinstance(entries, dict):
        raise PNAGError(f"{path}: a support set is a JSON object {{architecture: score}}")
    support = []
    for text, score in entries.items():
        if not isinstance(score, (int, float)) or isinstance(score, bool):
            raise PNAGError(f"{path}: the score of {text} is {score!r}, not a number")
        try:
            support.append((model.space.from_string(text), float(score)))
        except InvalidArchitectureError as error:
            raise InvalidArchitectureError(f"{path}: {error}") from None
    require_finite_support(model.space, support)
    return support


def task_support(model: PNAG, task: str | None, support: Support = ()) -> tuple[Support, str | None]:
    """The support set that describes the task, and what kind of knowledge it is."""
    if support:
        require_finite_support(model.space, support)
        return list(support), "support"
    if task is None:
        return [], None
    benchmark = benchmark_for_task(model.space.name, task)  # unknown task: one clear error
    recorded = training_set_of(model)
    if isinstance(recorded, TrainingSet) and task in recorded.resolved_tasks():
        rows = np.random.default_rng(0).choice(recorded.rows(), KNOWN_TASK_SUPPORT, replace=False)
        scores = benchmark.validation(task)
        every = benchmark.architectures()
        return [(every[r], float(scores[r])) for r in rows], "seen"
    return [], "unseen"


def generate_for_task(
    model: PNAG,
    n: int,
    *,
    task: str | None = None,
    support: Support = (),
    budgets: Mapping[str, float] | None = None,
    seed: int | None = None,
    **options: Any,
) -> RankedGeneration:
    """``n`` architectures for a task (a name or a support set; neither: any task) under cost
    ``budgets`` (condition fields -> limits, e.g. ``{"latency_ms:pixel3": 5.0}``), ranked
    best-first by the surrogate. ``options`` go to ``PNAG.generate``."""
    pairs, kind = task_support(model, task, support)
    surrogate = model.surrogate
    if kind is not None and surrogate is None:
        raise PNAGError(f"these {model.space.name} weights have no task-aware surrogate; retrain them with `pnag train`")
    if kind is not None and surrogate is not None and "task" in model.condition_layout.names:  # surrogate: checked above
        options["task"] = surrogate.task_embedding(pairs).tolist()
    if budgets:
        options["costs"] = {**options.get("costs", {}), **budget_conditions(model, budgets, task)}
    generation = model.generate(n, seed=seed, **options)
    valid = list(generation.architectures)  # delivered: the most likely valid architectures
    predicted = None
    if surrogate is not None:
        mean, _ = surrogate.predict(valid, pairs) if valid else (np.zeros(0), None)
        order = np.argsort(-mean, kind="stable")
        valid, predicted = [valid[i] for i in order], [float(mean[i]) for i in order]
    return RankedGeneration(generation, valid, predicted, kind, len(pairs), options)
