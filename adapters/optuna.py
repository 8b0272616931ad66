"""Optuna adapter: :class:`PNAGSampler` and :func:`suggest_architecture`.

An architecture of a built-in space is suggested as one categorical parameter per slot, named
``"<space>/<slot>"`` (for NB201: ``"nb201/1<-0"`` ... ``"nb201/3<-2"``). When PNAGSampler is asked
for the first of them in a trial, it proposes a whole architecture with the pretrained generator
(zero-shot on the first trial, ranked by a surrogate refit on the study's results later), stores
it in the trial's system attributes, and answers every slot from it. Nothing lives only in this
process: evaluated and pending architectures are read back from the study's storage on every
proposal, so several processes can share one study.

Parameters that belong to no built-in space go to an independent sampler (RandomSampler by
default), with one warning per parameter, as Optuna's GPSampler does. With ``base_sampler`` set,
PNAG designs only the first ``n_pnag_trials`` trials and then hands the study over (the paper's
Fig. 1: PNAG replaces the random initial design of another sampler).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Sequence

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from pnag_sampler.errors import InvalidArchitectureError
from pnag_sampler.generator import PNAG
from pnag_sampler.search import GuidedSearch
from pnag_sampler.spaces import SPACE_NAMES, get_space
from pnag_sampler.spaces.base import SearchSpace

_ARCH_ATTR = "pnag:architecture:{space}"
_CLAIM_ATTEMPTS = 5
_CLAIM_SETTLE_SECONDS = 0.2
_CONSTRAINTS_ATTR = "constraints"  # Optuna's key: a tuple from constraints_func, or "constraints:<name>"


def _is_feasible(trial: FrozenTrial) -> bool:
    """Feasible when every constraint value (either way Optuna stores them) is <= 0."""
    values = list(trial.system_attrs.get(_CONSTRAINTS_ATTR) or ())
    values += [v for k, v in trial.system_attrs.items() if k.startswith(_CONSTRAINTS_ATTR + ":")]
    return all(v <= 0.0 for v in values)


def _param_name(space: SearchSpace, slot: str) -> str:
    return f"{space.name}/{slot}"


def suggest_architecture(trial: optuna.trial.BaseTrial, space: str) -> str:
    """Suggest an architecture of a built-in space on ``trial``; returns its canonical string.

    Works with any Optuna sampler; with :class:`PNAGSampler` the architecture is generated.
    """
    search_space = get_space(space)
    params = {
        slot: trial.suggest_categorical(_param_name(search_space, slot), list(choices))
        for slot, choices in search_space.parameter_choices().items()
    }
    return search_space.to_string(search_space.from_params(params))


def _space_of_param(name: str) -> SearchSpace | None:
    prefix, _, slot = name.partition("/")
    if prefix in SPACE_NAMES and slot in get_space(prefix).parameter_choices():
        return get_space(prefix)
    return None


class PNAGSampler(BaseSampler):
    """Sampler that generates architectures of built-in spaces with PNAG.

    Example:
        .. code-block:: python

            import optuna
            from pnag_sampler import PNAGSampler, suggest_architecture
            from pnag_sampler.data import get_benchmark

            table = get_benchmark("nb201")

            def objective(trial):
                cell = suggest_architecture(trial, "nb201")
                return table.validation("cifar100")[table.index(cell)]

            study = optuna.create_study(direction="maximize", sampler=PNAGSampler(seed=0))
            study.optimize(objective, n_trials=10)

    Args:
        seed: Seed of the generator's candidate pools and of the independent sampler.
        n_startup_trials: Trials proposed in the generator's own order (most frequently
            generated first) before the surrogate ranks candidates by expected improvement.
        pool_size: Candidates generated per pool round.
        cfg_scale: Classifier-free guidance weight towards the top-performance condition.
        weights: Checkpoint folder per space name, instead of the shipped weights.
        independent_sampler: Sampler for parameters of no built-in space (default RandomSampler).
        base_sampler: If given, the sampler that takes over after ``n_pnag_trials`` trials.
        n_pnag_trials: Number of trials PNAG designs before handing over to ``base_sampler``.
        warn_independent_sampling: Warn once per parameter that goes to the independent sampler.
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        n_startup_trials: int = 3,
        pool_size: int = 512,
        cfg_scale: float = 2.0,
        weights: dict[str, str] | None = None,
        independent_sampler: BaseSampler | None = None,
        base_sampler: BaseSampler | None = None,
        n_pnag_trials: int = 10,
        warn_independent_sampling: bool = True,
    ) -> None:
        if n_startup_trials < 0 or n_pnag_trials < 0:
            raise ValueError("n_startup_trials and n_pnag_trials must be non-negative")
        self._search_seed = seed if seed is not None else int.from_bytes(os.urandom(4), "little")
        self._n_startup_trials = n_startup_trials
        self._pool_size = pool_size
        self._cfg_scale = cfg_scale
        self._weights = dict(weights or {})
        self._independent_sampler = independent_sampler or RandomSampler(seed=seed)
        self._base_sampler = base_sampler
        self._n_pnag_trials = n_pnag_trials
        self._warn_independent_sampling = warn_independent_sampling
        self._warned_params: set[str] = set()
        self._searches: dict[str, GuidedSearch] = {}
        self._proposed: dict[tuple[int, str], dict[str, Any]] = {}
        # n_jobs > 1 shares this object between threads; pools and proposals are built under it
        self._lock = threading.Lock()

    # -- hand-over to a base sampler ------------------------------------------------------
    def _handed_over(self, trial: FrozenTrial) -> bool:
        return self._base_sampler is not None and trial.number >= self._n_pnag_trials

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        self._raise_error_if_multi_objective(study)
        if self._handed_over(trial):
            return self._base_sampler.infer_relative_search_space(study, trial)
        return {}

    def sample_relative(self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        self._raise_error_if_multi_objective(study)
        if self._handed_over(trial):
            return self._base_sampler.sample_relative(study, trial, search_space)
        return {}

    def sample_independent(self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution) -> Any:
        self._raise_error_if_multi_objective(study)
        if self._handed_over(trial):
            return self._base_sampler.sample_independent(study, trial, param_name, param_distribution)
        space = _space_of_param(param_name)
        if space is not None and isinstance(param_distribution, CategoricalDistribution):
            _, _, slot = param_name.partition("/")
            expected = tuple(space.parameter_choices()[slot])
            if tuple(param_distribution.choices) == expected:
                return self._architecture_params(study, trial, space)[slot]
        if self._warn_independent_sampling and param_name not in self._warned_params:
            self._warned_params.add(param_name)
            optuna.logging.get_logger(__name__).warning(
                f"PNAGSampler samples parameter '{param_name}' (trial {trial.number}) with "
                f"{type(self._independent_sampler).__name__}: it belongs to no built-in architecture "
                f"space (use suggest_architecture(trial, space) with one of {list(SPACE_NAMES)})."
            )
        return self._independent_sampler.sample_independent(study, trial, param_name, param_distribution)

    # -- architecture proposals ----------------------------------------------------------
    def _search(self, space: SearchSpace) -> GuidedSearch:
        if space.name not in self._searches:
            folder = self._weights.get(space.name)
            model = PNAG.load(folder, space=space.name) if folder else PNAG.pretrained(space.name)
            self._searches[space.name] = GuidedSearch(
                model, seed=self._search_seed, pool_size=self._pool_size, cfg_scale=self._cfg_scale,
                min_support=self._n_startup_trials,
            )
        return self._searches[space.name]

    def _architecture_params(self, study: Study, trial: FrozenTrial, space: SearchSpace) -> dict[str, Any]:
        key = (trial._trial_id, space.name)
        with self._lock:
            if key not in self._proposed:
                attr = _ARCH_ATTR.format(space=space.name)
                stored = study._storage.get_trial(trial._trial_id).system_attrs.get(attr)
                if stored is None:
                    stored = self._propose(study, trial, space)
                    study._storage.set_trial_system_attr(trial._trial_id, attr, stored)
                self._proposed[key] = space.to_params(space.from_string(stored))
            return self._proposed[key]

    def _propose(self, study: Study, trial: FrozenTrial, space: SearchSpace) -> str:
        """The best unclaimed candidate, claimed in the trial's system attributes.

        Workers sharing a study can pick the same candidate at the same moment, and storage has
        no compare-and-swap. Two rules keep them apart: a trial skips one ranked candidate for
        every running lower-numbered trial whose claim is not visible yet (that trial is about to
        take one of the first ranks), and after claiming (with a short pause while other trials
        run) it moves on if a lower-numbered trial holds the same candidate.
        """
        others = self._other_trials(study, trial)
        evaluated, claimed = self._history(study, space, others)
        attr = _ARCH_ATTR.format(space=space.name)
        in_flight = sum(1 for t in others if t.state == TrialState.RUNNING and t.number < trial.number and attr not in t.system_attrs)
        for _ in range(_CLAIM_ATTEMPTS):
            ranked = self._search(space).propose(evaluated, claimed, n=in_flight + 1)
            choice = ranked[min(in_flight, len(ranked) - 1)]
            study._storage.set_trial_system_attr(trial._trial_id, attr, choice)
            if any(t.state == TrialState.RUNNING for t in others):
                time.sleep(_CLAIM_SETTLE_SECONDS)
                others = self._other_trials(study, trial)
            if not any(t.number < trial.number and t.system_attrs.get(attr) == choice for t in others):
                break
            claimed.add(choice)
        return choice

    @staticmethod
    def _other_trials(study: Study, trial: FrozenTrial) -> list[FrozenTrial]:
        return [t for t in study._storage.get_all_trials(study._study_id, deepcopy=False) if t._trial_id != trial._trial_id]

    def _history(self, study: Study, space: SearchSpace, others: list[FrozenTrial]) -> tuple[dict[str, float], set[str]]:
        """Of ``others``: evaluated architectures (score: higher is better) and all others claimed."""
        attr = _ARCH_ATTR.format(space=space.name)
        sign = 1.0 if study.direction == StudyDirection.MAXIMIZE else -1.0
        evaluated: dict[str, float] = {}
        claimed: set[str] = set()
        for other in others:
            text = other.system_attrs.get(attr) or self._architecture_from_params(space, other.params)
            if text is None:
                continue
            claimed.add(text)
            if other.state == TrialState.COMPLETE and other.value is not None and _is_feasible(other):
                score = sign * other.value
                evaluated[text] = max(score, evaluated.get(text, -float("inf")))
        return evaluated, claimed - set(evaluated)

    @staticmethod
    def _architecture_from_params(space: SearchSpace, params: dict[str, Any]) -> str | None:
        slots = {slot: params.get(_param_name(space, slot)) for slot in space.parameter_choices()}
        if any(value is None for value in slots.values()):
            return None
        try:
            return space.to_string(space.from_params(slots))
        except InvalidArchitectureError:
            return None

    # -- bookkeeping hooks ---------------------------------------------------------------
    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        sampler = self._base_sampler if self._handed_over(trial) else self._independent_sampler
        sampler.before_trial(study, trial)

    def after_trial(self, study: Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None) -> None:
        for key in [k for k in self._proposed if k[0] == trial._trial_id]:
            del self._proposed[key]
        sampler = self._base_sampler if self._handed_over(trial) else self._independent_sampler
        sampler.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._independent_sampler.reseed_rng()
        if self._base_sampler is not None:
            self._base_sampler.reseed_rng()
