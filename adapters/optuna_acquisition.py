"""Rank PNAG's candidate pool with another Optuna sampler's acquisition function.

The paper's Fig. 1 (b): a model-based sampler normally maximises its acquisition over random
candidates (TPE draws them from its "good" density, GPSampler from random and local search).
Here the candidates are PNAG's generated pool and the sampler only scores them:

- TPESampler: log l(x) - log g(x) from its own Parzen estimators;
- GPSampler: its acquisition (log EI and friends), through ``_optimize_acqf``, the method
  GPSampler documents as the one to override for another optimiser.

Both use Optuna internals; ``optuna==5.0.0`` is pinned for that reason and a test runs both.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, GPSampler, TPESampler
from optuna.samplers._tpe.sampler import _split_trials, default_gamma
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

SUPPORTED = (TPESampler, GPSampler)


def check_supported(sampler: BaseSampler) -> None:
    if not isinstance(sampler, SUPPORTED):
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
    return _gp_values(sampler, study, trial, search_space, pool)


def _tpe_values(sampler: TPESampler, study: Study, search_space, pool) -> np.ndarray | None:
    trials = study._get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED), use_cache=False)
    if len(trials) < sampler._n_startup_trials:
        return None
    gamma = sampler._gamma or default_gamma
    below, above = _split_trials(study, trials, gamma(len(trials)))
    mpe_below = sampler._build_parzen_estimator(study, search_space, below, handle_below=True)
    mpe_above = sampler._build_parzen_estimator(study, search_space, above, handle_below=False)
    samples = {
        name: np.asarray([distribution.to_internal_repr(member[name]) for member in pool])
        for name, distribution in search_space.items()
    }
    return sampler._compute_acquisition_func(samples, mpe_below, mpe_above)


def _gp_values(sampler: GPSampler, study: Study, trial: FrozenTrial, search_space, pool) -> np.ndarray | None:
    scored: list[np.ndarray] = []

    def score_pool(acqf, best_params):
        normalized = acqf.search_space.get_normalized_params(list(pool), list(pool))
        values = acqf.eval_acqf_no_grad(normalized)
        scored.append(values)
        return normalized[int(np.argmax(values))]

    sampler._optimize_acqf = score_pool
    try:
        sampler.sample_relative(study, trial, search_space)
    finally:
        del sampler._optimize_acqf
    return scored[0] if scored else None
