"""Optuna adapter: ``PNAGSampler`` and ``suggest_architecture``.

An architecture of a built-in space is suggested as one categorical parameter per slot, named
``"<space>/<slot>"`` (for NB201: ``"nb201/1<-0"`` ... ``"nb201/3<-2"``); HPOLib's FCNet (``hpolib``),
which users write as their own calls, is its nine typed ``suggest_*`` calls under the
hyperparameters' names and ranges. When PNAGSampler is asked
for the first of them in a trial, it proposes a whole architecture with the pretrained generator
(zero-shot on the first trial, ranked by a surrogate that adapts to the study's results), stores
it in the trial's system attributes, and answers every slot from it. Nothing lives only in this
process: evaluated and pending architectures are read back from the study's storage on every
proposal, so several processes can share one study.

Any other parameters (a user's own space, which no checkpoint knows) go to the independent
sampler, by default Optuna's TPESampler: PNAG has learned nothing about such a space, TPE was
better than PNAG learned online on most seeds measured at a 500th of the cost (docs:
Benchmarks), and the default never makes a user's space worse than TPE. With an
``online_training`` budget they are modelled instead: the parameters every completed trial has
(Optuna's intersection search space, as GPSampler uses) become a
``pnag_sampler.spaces.parameters.ParameterSpace``; an online PNAG learns its structure from
samples of it and its conditional generator from the completed trials. Parameters outside that
set (conditional or dynamic ones) still go to the independent sampler, with one warning per
parameter, as Optuna's GPSampler does.

Two ways to combine PNAG with another sampler (the paper's Fig. 1), one argument each:
``base_sampler`` lets PNAG design the first ``n_pnag_trials`` trials and then hands the study over
(PNAG replaces the random initial design); ``acquisition_sampler`` (TPESampler or GPSampler)
scores PNAG's generated candidate pool with its acquisition function (PNAG replaces the random
candidates the acquisition is maximised over).
"""

from __future__ import annotations

import functools
import math
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers import BaseSampler, TPESampler
from optuna.search_space import IntersectionSearchSpace
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState
from pnag_sampler.adapters import optuna_compat as compat

from pnag_sampler.errors import InvalidArchitectureError
from pnag_sampler.search.options import OnlineTraining, SearchOptions
from pnag_sampler.search.tpe import optuna_distribution
from pnag_sampler.spaces import HYPERPARAMETER_NAMES, SPACE_NAMES, get_space
from pnag_sampler.spaces.base import Dag, SearchSpace
from pnag_sampler.spaces.parameters import Parameter

if TYPE_CHECKING:
    from pnag_sampler.search.configurations import ConfigurationSearch
    from pnag_sampler.search.guided import GuidedSearch

_ARCH_ATTR = "pnag:architecture:{space}"
#: when a trial began ranking candidates for a space (wall-clock seconds): orders concurrent claims
_RANKING_ATTR = "pnag:ranking:{space}"
#: set when the objective itself failed (not the worker): that trial's cell is never proposed again
_OBJECTIVE_FAILED_ATTR = "pnag:objective_failed"
#: a trial still ranking after this long died doing it: it no longer holds a rank back
_RANKING_STALE_SECONDS = 60.0
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

    Works with any Optuna sampler; with ``PNAGSampler`` the architecture is generated. A space
    with a hyperparameter form (``hpolib``) is suggested as the typed ``suggest_*`` calls a user
    writes, under their own names (the values: ``get_space(space).configuration``).
    """
    search_space = get_space(space)
    params = {name: suggest_parameter(trial, name, distribution) for name, distribution in _trial_distributions(search_space).items()}
    return search_space.to_string(_architecture_of_values(search_space, params))


def suggest_parameter(trial: optuna.trial.BaseTrial, name: str, distribution: BaseDistribution) -> Any:
    """``trial.suggest_*`` of one distribution (its public call, whichever kind it is)."""
    if isinstance(distribution, CategoricalDistribution):
        return trial.suggest_categorical(name, list(distribution.choices))
    if isinstance(distribution, IntDistribution):
        return trial.suggest_int(name, distribution.low, distribution.high, step=distribution.step, log=distribution.log)
    assert isinstance(distribution, FloatDistribution)  # the three kinds _trial_distributions makes
    return trial.suggest_float(name, distribution.low, distribution.high, step=distribution.step, log=distribution.log)


@functools.cache
def _trial_distributions(space: SearchSpace) -> dict[str, BaseDistribution]:
    """The trial parameters an architecture of ``space`` is suggested as: its hyperparameters
    where it has them, else one categorical per slot named ``"<space>/<slot>"``."""
    if space.hyperparameters:
        return {p.name: optuna_distribution(p) for p in space.hyperparameters}
    return {_param_name(space, slot): CategoricalDistribution(list(c)) for slot, c in space.parameter_choices().items()}


def _trial_values(space: SearchSpace, dag: Dag) -> dict[str, Any]:
    """An architecture as the values of ``_trial_distributions``."""
    if space.hyperparameters:
        return space.configuration(dag)
    return {_param_name(space, slot): value for slot, value in space.to_params(dag).items()}


def _architecture_of_values(space: SearchSpace, params: dict[str, Any]) -> Dag:
    """The architecture that a trial's values of ``_trial_distributions`` describe."""
    if space.hyperparameters:
        return space.from_configuration(params)
    slots = space.parameter_choices()
    missing = [_param_name(space, slot) for slot in slots if _param_name(space, slot) not in params]
    if missing:
        raise InvalidArchitectureError(f"the trial lacks the {space.name} parameters {missing}")
    return space.from_params({slot: params[_param_name(space, slot)] for slot in slots})


def _written_as(space: SearchSpace, study: Study, trial: FrozenTrial) -> bool:
    """Whether no trial of the study (this one included) gives a name of the space's
    hyperparameters another distribution: a study that shares some of HPOLib's names but not
    all of its ranges is the user's own space, on every parameter and every trial."""
    if not space.hyperparameters:
        return True
    expected = _trial_distributions(space)
    return all(
        expected[name] == distribution
        for other in (trial, *compat.all_trials(study))
        for name, distribution in other.distributions.items()
        if name in expected
    )


def _space_of_param(name: str, distribution: BaseDistribution) -> SearchSpace | None:
    """The built-in space whose architecture a parameter is part of: a slot ``"<space>/<slot>"``
    with that slot's choices, or a space's own hyperparameter with its declared distribution."""
    prefix, _, slot = name.partition("/")
    space_name = prefix if slot and prefix in SPACE_NAMES else HYPERPARAMETER_NAMES.get(name)
    if space_name is None:
        return None  # a user's own parameter: no space is built (that would import torch)
    space = get_space(space_name)
    return space if _same_distribution(_trial_distributions(space).get(name), distribution) else None


def _same_distribution(expected: BaseDistribution | None, given: BaseDistribution) -> bool:
    """Optuna's equality of distributions, which compares categorical choices one by one
    (NaN-aware): equal tuples of choices settle it first, as every ask asks about each slot."""
    if isinstance(expected, CategoricalDistribution) and type(given) is CategoricalDistribution and expected.choices == given.choices:
        return True
    return expected == given


class _FinishedLead:
    """A study's leading run of finished trials, folded once: its length, the best score per
    evaluated architecture, every architecture held, and the trials by the architecture their
    claim names."""

    def __init__(self) -> None:
        self.count = 0
        self.evaluated: dict[str, float] = {}
        self.held: set[str] = set()
        self.holders: dict[str, list[FrozenTrial]] = {}


def _fold(entry: tuple[str | None, float | None], evaluated: dict[str, float], held: set[str]) -> None:
    """Add one trial's (architecture, score) to the best score per architecture and to every
    architecture held."""
    text, score = entry
    if text is None:
        return
    held.add(text)
    if score is not None:
        evaluated[text] = max(score, evaluated.get(text, -math.inf))


def _only_architectures(trials: list[FrozenTrial]) -> bool:
    """Whether there are trials and each parameter of theirs belongs to a built-in space."""
    return bool(trials) and all(_space_of_param(name, d) is not None for t in trials for name, d in t.distributions.items())


def _parameter(name: str, distribution: BaseDistribution) -> Parameter:
    """The framework-neutral form of one Optuna distribution."""
    if isinstance(distribution, CategoricalDistribution):
        return Parameter(name, choices=tuple(distribution.choices))
    if isinstance(distribution, IntDistribution):
        step = None if distribution.log else distribution.step
        return Parameter(name, low=distribution.low, high=distribution.high, log=distribution.log, step=step, integer=True)
    if isinstance(distribution, FloatDistribution):
        return Parameter(name, low=distribution.low, high=distribution.high, log=distribution.log, step=distribution.step)
    raise ValueError(f"PNAGSampler cannot model parameter '{name}' with {type(distribution).__name__}")


def _space_key(search_space: dict[str, BaseDistribution]) -> tuple:
    return tuple((name, repr(distribution)) for name, distribution in search_space.items())


class PNAGSampler(BaseSampler):
    """Sampler that generates architectures (and configurations of any space) with PNAG.

    Example:
        ```python
        import optuna
        from pnag_sampler import PNAGSampler, suggest_architecture
        from pnag_sampler.data import get_benchmark

        table = get_benchmark("nb201")

        def objective(trial):
            cell = suggest_architecture(trial, "nb201")
            return table.validation("cifar100")[table.index(cell)]

        study = optuna.create_study(direction="maximize", sampler=PNAGSampler(seed=0))
        study.optimize(objective, n_trials=10)
        ```

    Args:
        seed: Seed of the generator's candidate pools, of values drawn inside a level's bin and
            of the independent sampler.
        n_startup_trials: Built-in spaces whose weights carry no task-aware surrogate (DARTS,
            MobileNetV3, AutoFormer): trials proposed in the generator's own order (most
            frequently generated first) before a ridge surrogate ranks candidates by expected
            improvement (None: 3); with one (NB201, NAS-Bench-Graph) it ranks from the first
            trial (zero-shot). A user's space: the default TPESampler's ``n_startup_trials``
            (None: TPE's own default), or with ``online_training`` the completed trials sampled
            by the independent sampler before PNAG's online model takes over (None: 3).
        pool_size: Candidates generated per pool round; None: 512 for a built-in space, 256 for
            PNAG learned online (it regenerates pools after every refit).
        cfg_scale: Classifier-free guidance weight towards the top-performance condition; None:
            the checkpoint's recorded sampling setting where it has one (DARTS, MobileNetV3,
            AutoFormer), else 2.0. A value given here always wins.
        weights: Checkpoint folder per space name, instead of the shipped weights.
        independent_sampler: Sampler for parameters PNAG does not model: a user's own
            parameters unless ``online_training`` is given, and conditional ones (default
            ``TPESampler(seed=seed)``, with ``n_startup_trials`` if given).
        base_sampler: If given, the sampler that takes over after ``n_pnag_trials`` trials.
        n_pnag_trials: Number of trials PNAG designs before handing over to ``base_sampler``.
        acquisition_sampler: A TPESampler or GPSampler whose acquisition function ranks PNAG's
            candidate pool (instead of PNAG's own surrogate), once that sampler has a model.
        online_training: None (default): a user's space goes to ``independent_sampler``. An
            ``OnlineTraining`` budget: PNAG learns the space online within it (minutes of
            training per study; see docs: Benchmarks, "Users' own spaces").
        warn_independent_sampling: Warn once per parameter that goes to the independent sampler.
        candidate_source: ``"generated"`` (PNAG) or ``"uniform"``: rank uniform samples of a
            built-in space with the same surrogate instead of generated candidates, the control
            that shows what the generator adds.
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        n_startup_trials: int | None = None,
        pool_size: int | None = None,
        cfg_scale: float | None = None,
        weights: dict[str, str] | None = None,
        independent_sampler: BaseSampler | None = None,
        base_sampler: BaseSampler | None = None,
        n_pnag_trials: int = 10,
        acquisition_sampler: BaseSampler | None = None,
        online_training: OnlineTraining | None = None,
        warn_independent_sampling: bool = True,
        candidate_source: str = "generated",
    ) -> None:
        try:
            self._options = SearchOptions(
                seed=seed,
                n_startup=3 if n_startup_trials is None else n_startup_trials,
                pool_size=pool_size,
                cfg_scale=cfg_scale,
                candidate_source=candidate_source,
                online_training=online_training,
                owner="PNAGSampler",
            )
        except ValueError as error:  # name the argument as the user wrote it
            raise ValueError(str(error).replace(": n_startup ", ": n_startup_trials ")) from None
        if isinstance(n_pnag_trials, bool) or not isinstance(n_pnag_trials, int) or n_pnag_trials < 0:
            raise ValueError(f"PNAGSampler: n_pnag_trials must be an integer >= 0, got {n_pnag_trials!r}")
        if base_sampler is not None and acquisition_sampler is not None:
            raise ValueError("give base_sampler (PNAG as initial design) or acquisition_sampler (PNAG as candidate pool), not both")
        if acquisition_sampler is not None:
            compat.check_supported(acquisition_sampler)
        self._weights = dict(weights or {})
        #: the default TPE's relative search space is what every completed trial shares
        self._relative_space_is_shared = independent_sampler is None
        if independent_sampler is None:
            independent_sampler = (
                TPESampler(seed=seed) if n_startup_trials is None else TPESampler(seed=seed, n_startup_trials=n_startup_trials)
            )
        self._independent_sampler = independent_sampler
        self._base_sampler = base_sampler
        self._n_pnag_trials = n_pnag_trials
        self._acquisition_sampler = acquisition_sampler
        self._warn_independent_sampling = warn_independent_sampling
        self._warned_params: set[str] = set()
        self._searches: dict[str, GuidedSearch] = {}
        self._configuration_searches: dict[tuple, ConfigurationSearch] = {}
        self._intersection = IntersectionSearchSpace()
        self._proposed: dict[tuple[int, str], dict[str, Any]] = {}
        self._strings: dict[tuple, str | None] = {}
        #: the trial values of each architecture proposed (parsing and checking a string costs more than a proposal's lookups)
        self._values: dict[tuple[str, str], dict[str, Any]] = {}
        self._finished: dict[tuple[str, int], tuple[str | None, float | None]] = {}
        self._finished_owner: tuple[Any, int] | None = None
        #: per space: the study's leading run of finished trials, folded once
        self._leads: dict[str, _FinishedLead] = {}
        # n_jobs > 1 shares this object between threads; pools and proposals are built under it
        self._lock = threading.RLock()

    # -- pickling (Ray Tune sends the sampler to its searcher; joblib.dump(study) carries it) --
    def __getstate__(self) -> dict[str, Any]:
        """Everything but what belongs to one process: the lock, the loaded models and their
        pools (a pure function of weights and seed, rebuilt on first use) and the cache of one
        storage object's finished trials."""
        state = self.__dict__.copy()
        del state["_lock"]
        state.update(_searches={}, _configuration_searches={}, _finished={}, _leads={}, _finished_owner=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    # -- hand-over to a base sampler ------------------------------------------------------
    def _handed_over(self, trial: FrozenTrial) -> BaseSampler | None:
        """The base sampler if it has taken over by this trial, else None."""
        if self._base_sampler is not None and trial.number >= self._n_pnag_trials:
            return self._base_sampler
        return None

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        compat.raise_if_multi_objective(self, study)
        if (base := self._handed_over(trial)) is not None:
            return base.infer_relative_search_space(study, trial)
        if self._options.online_training is None:  # a user's space is the independent sampler's
            if self._relative_space_is_shared and _only_architectures(compat.completed_trials(study)[-1:]):
                return {}  # what every trial shares holds no user parameter (no intersection computed)
            relative = self._independent_sampler.infer_relative_search_space(study, trial)
            return {name: distribution for name, distribution in relative.items() if _space_of_param(name, distribution) is None}
        return {
            name: distribution
            for name, distribution in self._intersection.calculate(study).items()
            if not distribution.single() and _space_of_param(name, distribution) is None
        }

    def sample_relative(self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        compat.raise_if_multi_objective(self, study)
        if (base := self._handed_over(trial)) is not None:
            return base.sample_relative(study, trial, search_space)
        if not search_space:
            return {}
        if self._options.online_training is None:
            return self._independent_sampler.sample_relative(study, trial, search_space)
        with self._lock:
            return self._sample_configuration(study, trial, search_space)

    def sample_independent(self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution) -> Any:
        compat.raise_if_multi_objective(self, study)
        if (base := self._handed_over(trial)) is not None:
            return base.sample_independent(study, trial, param_name, param_distribution)
        space = _space_of_param(param_name, param_distribution)
        # a trial already holding a proposal was checked when it got it: each trial reads the study once
        if space is not None and ((compat.trial_id(trial), space.name) in self._proposed or _written_as(space, study, trial)):
            return self._architecture_params(study, trial, space)[param_name]
        if self._options.online_training is not None and self._warn_independent_sampling and param_name not in self._warned_params:
            if len(compat.completed_trials(study)) >= max(1, self._options.n_startup):
                self._warned_params.add(param_name)
                optuna.logging.get_logger(__name__).warning(
                    f"PNAGSampler samples parameter '{param_name}' (trial {trial.number}) with "
                    f"{type(self._independent_sampler).__name__}: it is not in every completed trial "
                    f"(a conditional or dynamic parameter), so PNAG's model of the space does not cover it."
                )
        return self._independent_sampler.sample_independent(study, trial, param_name, param_distribution)

    # -- ranking candidates ----------------------------------------------------------------
    def _ranked(
        self,
        search: GuidedSearch,
        study: Study,
        trial: FrozenTrial,
        evaluated: dict[str, float],
        pending: set[str],
        n: int,
        to_params: Callable[[str], dict[str, Any]],
        search_space: dict[str, BaseDistribution],
    ) -> list[str]:
        """The ``n`` best candidates: by ``acquisition_sampler`` when set and ready, else by
        PNAG's own surrogate. ``to_params`` turns a candidate string into a parameter dict."""
        if self._acquisition_sampler is not None:
            candidates = search.candidates(set(evaluated) | pending)
            if candidates:
                values = compat.acquisition_values(
                    self._acquisition_sampler,
                    study,
                    trial,
                    search_space,
                    [to_params(c) for c in candidates],
                )
                if values is not None:
                    order = np.argsort(-np.asarray(values), kind="stable")
                    return [candidates[i] for i in order[:n]]
        return search.propose(evaluated, pending, n=n)

    # -- a user's space ----------------------------------------------------------------------
    def _sample_configuration(self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        key = _space_key(search_space)
        if key not in self._configuration_searches:
            from pnag_sampler.search.configurations import ConfigurationSearch

            self._configuration_searches[key] = ConfigurationSearch(
                [_parameter(name, d) for name, d in search_space.items()],
                self._options,
                name="optuna search space",
            )
        search = self._configuration_searches[key]
        sign = 1.0 if study.direction == StudyDirection.MAXIMIZE else -1.0
        evaluated: list[tuple[dict[str, Any], float]] = []
        pending: list[dict[str, Any]] = []
        conditional = False  # some trial has parameters beyond the modelled ones (a dynamic space)
        for other in compat.all_trials(study):
            conditional = conditional or not other.params.keys() <= search_space.keys()
            if compat.trial_id(other) == compat.trial_id(trial) or not search_space.keys() <= other.params.keys():
                continue
            usable = other.state == TrialState.COMPLETE and other.value is not None and math.isfinite(other.value)
            if usable and _is_feasible(other):
                evaluated.append((other.params, sign * other.value))
            else:
                pending.append(other.params)  # running, failed, pruned or infeasible: never again
        if search.in_startup(len(evaluated)):
            return {}
        rank = None
        if self._acquisition_sampler is not None:
            rank = lambda configurations: compat.acquisition_values(  # noqa: E731
                self._acquisition_sampler,
                study,
                trial,
                search_space,
                configurations,
            )
        proposal = search.propose(evaluated, pending, rank=rank)
        if proposal is None and conditional:
            # every combination of the modelled parameters was tried, but the parameters they
            # decide on were not: sample everything independently, so every branch is visited again
            self._warned_params.update(search_space)  # no "conditional parameter" warning for these
            return {}
        if proposal is None:  # a finite space, every configuration tried: repeat the best, as for architectures
            warnings.warn("every configuration of the search space was tried already; repeating the best one", stacklevel=1)
            proposal = {name: value for name, value in max(evaluated, key=lambda e: e[1])[0].items() if name in search_space}
        return proposal

    # -- architecture proposals ----------------------------------------------------------
    def _search(self, space: SearchSpace) -> GuidedSearch:
        if space.name not in self._searches:
            from pnag_sampler.generator import PNAG
            from pnag_sampler.search.guided import GuidedSearch

            model = PNAG.from_weights(space.name, self._weights.get(space.name))
            self._searches[space.name] = GuidedSearch(model, self._options)
        return self._searches[space.name]

    def _architecture_params(self, study: Study, trial: FrozenTrial, space: SearchSpace) -> dict[str, Any]:
        key = (compat.trial_id(trial), space.name)
        with self._lock:
            if key not in self._proposed:
                attr = _ARCH_ATTR.format(space=space.name)
                stored = compat.stored_system_attrs(study, trial).get(attr)
                if stored is None:
                    stored = self._propose(study, trial, space)
                    compat.set_system_attr(study, trial, attr, stored)
                values = self._values.get((space.name, stored))
                if values is None:
                    values = self._values[space.name, stored] = _trial_values(space, space.from_string(stored))
                self._proposed[key] = values
            return self._proposed[key]

    def _propose(self, study: Study, trial: FrozenTrial, space: SearchSpace) -> str:
        """The best unclaimed candidate, claimed in the trial's system attributes.

        Workers sharing a study can pick the same candidate at the same moment, and storage has
        no compare-and-swap. Each trial first records when it began ranking; trials that began
        earlier (ties: the lower number) go first. Three rules keep them apart: a trial skips one
        ranked candidate for every trial ahead of it that is ranking now and has not claimed yet
        (it is about to take one of the first ranks); just before claiming it reads the claims
        again and ranks anew if its choice was taken meanwhile; and after claiming (with a pause
        while other trials run, longer when the storage is slow to write) it moves on if a trial
        ahead of it holds the same candidate. A running trial that is not ranking (its objective
        has not suggested the architecture yet, or its worker died) holds nothing back.
        """
        attr, ranking_attr = _ARCH_ATTR.format(space=space.name), _RANKING_ATTR.format(space=space.name)
        started = time.time()
        compat.set_system_attr(study, trial, ranking_attr, started)
        others = compat.other_trials(study, trial)
        evaluated, claimed = self._history(study, space, others)
        lead = self._leads[space.name]

        def ahead(other: FrozenTrial) -> bool:
            began = other.system_attrs.get(ranking_attr)
            return began is None or (began, other.number) < (started, trial.number)

        def ranking_ahead(trials: list[FrozenTrial]) -> int:
            """Trials ahead of this one that are ranking now and have not claimed yet."""
            return sum(
                1
                for t in trials
                if t.state == TrialState.RUNNING
                and attr not in t.system_attrs
                and ranking_attr in t.system_attrs
                and ahead(t)
                and started - t.system_attrs[ranking_attr] < _RANKING_STALE_SECONDS
            )

        distributions = _trial_distributions(space)

        def trial_params(text: str) -> dict[str, Any]:
            return _trial_values(space, space.from_string(text))

        # the leading finished trials neither run nor rank: only the trials after them are read
        # again (they lead a refreshed ``others`` too)
        for attempt in range(_CLAIM_ATTEMPTS):
            in_flight = ranking_ahead(others[lead.count :])
            ranked = self._ranked(self._search(space), study, trial, evaluated, claimed, in_flight + 1, trial_params, distributions)
            choice = ranked[min(in_flight, len(ranked) - 1)]
            if any(t.state == TrialState.RUNNING for t in others[lead.count :]):
                others = compat.other_trials(study, trial)  # what others claimed while this trial ranked
                held = {t.system_attrs[attr] for t in others[lead.count :] if attr in t.system_attrs and not t.state.is_finished()}
                if choice in held and attempt < _CLAIM_ATTEMPTS - 1:
                    claimed |= held
                    continue
            writing = time.perf_counter()
            compat.set_system_attr(study, trial, attr, choice)
            if any(t.state == TrialState.RUNNING for t in others[lead.count :]):
                # others' claims take as long to land as this one did: wait for several of them
                time.sleep(max(_CLAIM_SETTLE_SECONDS, 3 * (time.perf_counter() - writing)))
                others = compat.other_trials(study, trial)
            holders = [*lead.holders.get(choice, ()), *others[lead.count :]]
            if not any(t.system_attrs.get(attr) == choice and ahead(t) for t in holders):
                break
            claimed.add(choice)
        return choice

    def _history(self, study: Study, space: SearchSpace, others: list[FrozenTrial]) -> tuple[dict[str, float], set[str]]:
        """Of ``others``: evaluated architectures (score: higher is better) and all others claimed.

        A finished trial never changes, so what it contributes is read once per process (the
        cache belongs to one study of one storage object, held so that its id is never reused),
        and the leading run of finished trials is folded once: each call reads only the trials
        after it (``_leads``). The asking trial is running, so it is never in that run."""
        owner = compat.storage_key(study)
        if self._finished_owner is None or self._finished_owner[0] is not owner[0] or self._finished_owner[1] != owner[1]:
            self._finished.clear()
            self._leads.clear()
            self._finished_owner = owner
        sign = 1.0 if study.direction == StudyDirection.MAXIMIZE else -1.0
        lead = self._leads.setdefault(space.name, _FinishedLead())
        attr = _ARCH_ATTR.format(space=space.name)
        while lead.count < len(others) and others[lead.count].state.is_finished():
            finished = others[lead.count]
            _fold(self._trial_entry(space, finished, sign), lead.evaluated, lead.held)
            if (holding := finished.system_attrs.get(attr)) is not None:
                lead.holders.setdefault(holding, []).append(finished)
            lead.count += 1
        evaluated, held = dict(lead.evaluated), set(lead.held)
        for other in others[lead.count :]:
            key = (space.name, compat.trial_id(other))
            entry = self._finished.get(key) or self._trial_entry(space, other, sign)
            if other.state.is_finished():
                self._finished[key] = entry
            _fold(entry, evaluated, held)
        return evaluated, held - set(evaluated)

    def _trial_entry(self, space: SearchSpace, trial: FrozenTrial, sign: float) -> tuple[str | None, float | None]:
        """(architecture string or None, score if it is a usable result else None). A failed
        trial whose objective did not fail itself died with its worker (Optuna's heartbeat
        failed it): its cell was never evaluated, so it is released (None)."""
        if trial.state == TrialState.FAIL and not trial.system_attrs.get(_OBJECTIVE_FAILED_ATTR):
            return None, None
        text = trial.system_attrs.get(_ARCH_ATTR.format(space=space.name)) or self._architecture_from_params(space, trial.params)
        if trial.state == TrialState.COMPLETE and trial.value is not None and math.isfinite(trial.value) and _is_feasible(trial):
            return text, sign * trial.value
        return text, None

    def _architecture_from_params(self, space: SearchSpace, params: dict[str, Any]) -> str | None:
        """The canonical string of a trial's architecture parameters (memoised: history is
        re-read on every proposal), None if the trial has no complete architecture of ``space``."""
        names = tuple(_trial_distributions(space))
        key = (space.name, tuple(params.get(name) for name in names))
        if key not in self._strings:
            try:
                text = space.to_string(_architecture_of_values(space, params))
            except InvalidArchitectureError:
                text = None
            self._strings[key] = text
        return self._strings[key]

    # -- bookkeeping hooks ---------------------------------------------------------------
    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        base = self._handed_over(trial)
        sampler = base if base is not None else self._independent_sampler
        sampler.before_trial(study, trial)

    def after_trial(self, study: Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None) -> None:
        proposed_here = any(key[0] == compat.trial_id(trial) for key in self._proposed)
        if state == TrialState.FAIL and proposed_here:  # the objective failed in this live worker
            compat.set_system_attr(study, trial, _OBJECTIVE_FAILED_ATTR, True)
        with self._lock:
            for key in [k for k in self._proposed if k[0] == compat.trial_id(trial)]:
                del self._proposed[key]
        base = self._handed_over(trial)
        sampler = base if base is not None else self._independent_sampler
        sampler.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        for search in self._configuration_searches.values():
            search.reseed()
        self._independent_sampler.reseed_rng()
        for sampler in (self._base_sampler, self._acquisition_sampler):
            if sampler is not None:
                sampler.reseed_rng()
