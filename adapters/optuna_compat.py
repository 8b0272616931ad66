"""Every use of Optuna's private API, in one place, checked against the installed Optuna.

A sampler plugin needs a few things Optuna does not expose publicly: the storage and ids
behind a study and a trial (to read and claim trials across processes, as Optuna's own
samplers do), the cached trial list, the multi-objective guard of ``BaseSampler``, and, to let
another sampler score PNAG's candidate pool (the paper's Fig. 1 b), the internals of its
acquisition:

- TPESampler: log l(x) - log g(x) from its own Parzen estimators;
- GPSampler: its acquisition (log EI and friends), through ``_optimize_acqf``, the method
  GPSampler documents as the one to override for another optimiser; it is overridden on a
  shallow copy, never on the user's sampler.

``missing_private_api`` lists what the installed Optuna lacks; a test fails on it, naming
each piece, so an Optuna release that moves one is caught at once.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, GPSampler, TPESampler
from optuna.storages import BaseStorage
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

SUPPORTED_ACQUISITION_SAMPLERS = (TPESampler, GPSampler)


def storage_key(study: Study) -> tuple[BaseStorage, int]:
    """The storage object and the study's id in it: what identifies one study in one process."""
    return study._storage, study._study_id


def all_trials(study: Study) -> list[FrozenTrial]:
    """Every trial of the study straight from its storage (no copies)."""
    return study._storage.get_all_trials(study._study_id, deepcopy=False)


def other_trials(study: Study, trial: FrozenTrial) -> list[FrozenTrial]:
    """Every trial of the study but ``trial``, in order, straight from its storage (no copies)."""
    own = trial._trial_id
    return [other for other in all_trials(study) if other._trial_id != own]


def completed_trials(study: Study) -> list[FrozenTrial]:
    """Completed trials through the study's cache (cheap enough to call on every ask)."""
    return study._get_trials(deepcopy=False, states=(TrialState.COMPLETE,), use_cache=True)


def trial_id(trial: FrozenTrial) -> int:
    return trial._trial_id


def stored_system_attrs(study: Study, trial: FrozenTrial) -> dict[str, Any]:
    """The trial's system attributes as stored now (another process may have written them)."""
    return study._storage.get_trial(trial._trial_id).system_attrs


def set_system_attr(study: Study, trial: FrozenTrial, key: str, value: Any) -> None:
    study._storage.set_trial_system_attr(trial._trial_id, key, value)


def raise_if_multi_objective(sampler: BaseSampler, study: Study) -> None:
    sampler._raise_error_if_multi_objective(study)


def check_supported(sampler: BaseSampler) -> None:
    if not isinstance(sampler, SUPPORTED_ACQUISITION_SAMPLERS):
        raise ValueError(
            f"acquisition_sampler must be a TPESampler or a GPSampler (their acquisition functions can "
            f"score a given pool), got {type(sampler).__name__}"
        )


def acquisition_values(
    sampler: BaseSampler,
    study: Study,
    trial: FrozenTrial,
    search_space: dict[str, BaseDistribution],
    pool: Sequence[dict[str, Any]],
) -> np.ndarray | None:
    """One acquisition value per pool member (higher is better), or None while the sampler is
    still in its own startup phase (it has no model yet)."""
    if isinstance(sampler, TPESampler):
        return _tpe_values(sampler, study, search_space, pool)
    assert isinstance(sampler, GPSampler)  # check_supported accepted it when the sampler was set
    return _gp_values(sampler, study, trial, search_space, pool)


def _tpe_values(
    sampler: TPESampler, study: Study, search_space: dict[str, BaseDistribution], pool: Sequence[dict[str, Any]]
) -> np.ndarray | None:
    from optuna.samplers._tpe.sampler import _split_trials, default_gamma

    trials = study._get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED), use_cache=False)
    if len(trials) < sampler._n_startup_trials:
        return None
    gamma = sampler._gamma or default_gamma
    split_arguments: tuple[Any, ...] = (study, trials, gamma(len(trials)))
    if "constraints_enabled" in inspect.signature(_split_trials).parameters:  # Optuna < 5.0
        split_arguments += (sampler._constraints_func is not None,)
    below, above = _split_trials(*split_arguments)
    mpe_below = sampler._build_parzen_estimator(study, search_space, below, handle_below=True)
    mpe_above = sampler._build_parzen_estimator(study, search_space, above, handle_below=False)
    samples = {
        name: np.asarray([distribution.to_internal_repr(member[name]) for member in pool]) for name, distribution in search_space.items()
    }
    return sampler._compute_acquisition_func(samples, mpe_below, mpe_above)


def _gp_values(
    sampler: GPSampler, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution], pool: Sequence[dict[str, Any]]
) -> np.ndarray | None:
    scored: list[np.ndarray] = []

    def score_pool(acqf: Any, best_params: Any) -> np.ndarray:
        normalized = acqf.search_space.get_normalized_params(list(pool), list(pool))
        values = acqf.eval_acqf_no_grad(normalized)
        scored.append(values)
        return normalized[int(np.argmax(values))]

    scorer = copy.copy(sampler)  # the user's own sampler object keeps its method
    scorer._optimize_acqf = score_pool  # type: ignore[method-assign]  # deliberate: overridden on the copy only
    scorer.sample_relative(study, trial, search_space)
    return scored[0] if scored else None


def missing_private_api() -> list[str]:
    """The private pieces above that the installed Optuna lacks (empty when all are there)."""
    missing = []
    study = optuna.create_study()
    trial = study.ask()
    frozen = study._storage.get_trial(trial._trial_id) if hasattr(study, "_storage") and hasattr(trial, "_trial_id") else None
    for owner, name in (
        (study, "_storage"),
        (study, "_study_id"),
        (study, "_get_trials"),
        (trial, "_trial_id"),
        (frozen, "_trial_id"),
        (BaseSampler, "_raise_error_if_multi_objective"),
        (TPESampler(), "_n_startup_trials"),
        (TPESampler(), "_gamma"),
        (TPESampler, "_build_parzen_estimator"),
        (TPESampler, "_compute_acquisition_func"),
        (GPSampler, "_optimize_acqf"),
    ):
        if owner is None or not hasattr(owner, name):
            missing.append(f"{getattr(owner, '__name__', type(owner).__name__)}.{name}")
    try:
        from optuna.samplers._tpe.sampler import _split_trials, default_gamma  # noqa: F401
    except ImportError:
        missing.append("optuna.samplers._tpe.sampler._split_trials / default_gamma")
    if "use_cache" not in inspect.signature(Study._get_trials).parameters:
        missing.append("Study._get_trials(use_cache=...)")
    if hasattr(GPSampler, "_optimize_acqf") and list(inspect.signature(GPSampler._optimize_acqf).parameters)[1:] != ["acqf", "best_params"]:
        missing.append("GPSampler._optimize_acqf(acqf, best_params)")
    return missing
