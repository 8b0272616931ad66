"""PNAG over any framework's space: configurations in, configurations out.

Optuna, NNI and Syne Tune each describe spaces and results their own way; their adapters turn
them into ``pnag_sampler.spaces.parameters.Parameter`` lists, (configuration, score)
pairs with higher scores better, and pending configurations, and ask one of two searches what
to try next (``configuration_search`` picks it, for every adapter in one place):

- ``ArchitectureConfigurationSearch`` when the parameters are exactly a built-in space's
  slots under canonical names (``"<space>/<slot>"``, what ``suggest_architecture``,
  ``architecture_config_space`` and ``ArchitectureModelSpace`` produce): the shipped (or given)
  weights and the guided search loop;
- ``ConfigurationSearch`` for any other space: Optuna's TPE (``search.tpe``), or, given an
  online training budget, a random start and then PNAG learned online.

Nothing here remembers results between calls except the online model itself, so an adapter can
rebuild the history from its framework's own records (storage, state dicts).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from pnag_sampler.data import BENCHMARK_NAMES, get_benchmark
from pnag_sampler.errors import InvalidArchitectureError, InvalidScoreError, UnknownNameError
from pnag_sampler.generator import PNAG
from pnag_sampler.search.guided import GuidedSearch
from pnag_sampler.search.online import OnlineSearch
from pnag_sampler.search.options import SearchOptions
from pnag_sampler.search.tpe import TPEConfigurations
from pnag_sampler.spaces import SPACE_NAMES, get_space
from pnag_sampler.spaces.base import SearchSpace
from pnag_sampler.spaces.parameters import Parameter, ParameterSpace

Configuration = dict[str, Any]
#: TPE proposals tried per call before an unseen configuration is drawn uniformly (finite spaces)
TPE_DRAWS = 8
#: scores candidate configurations with another optimiser's acquisition; None = not ready yet
Ranker = Callable[[list[Configuration]], "np.ndarray | None"]


class ConfigurationSearch:
    """A user's space: TPE's proposals, or with ``options.online_training``, uniform random
    configurations for the first ``n_startup`` results and then PNAG's online model."""

    def __init__(self, parameters: Sequence[Parameter], options: SearchOptions, *, name: str = "parameters") -> None:
        self.space = ParameterSpace(parameters, name=name)
        self.options = options
        self._rng = np.random.default_rng(options.seed)
        self._online: OnlineSearch | None = None
        self._tpe = TPEConfigurations(parameters, seed=options.drawn_seed) if options.online_training is None else None

    def reseed(self, seed: int | None = None) -> None:
        """New randomness for values drawn inside bins, for the random start and for TPE."""
        self._rng = np.random.default_rng(seed)
        if self._tpe is not None:
            self._tpe.reseed()

    def key(self, configuration: Mapping[str, Any]) -> str | None:
        """The canonical (group) string of a configuration, None if it does not fit this space."""
        try:
            return self.space.to_string(self.space.from_values(configuration))
        except InvalidArchitectureError:
            return None

    def in_startup(self, results: int) -> bool:
        """Still in the random start of the online model (TPE keeps its own start)."""
        return self._tpe is None and results < max(1, self.options.n_startup)

    def propose(
        self,
        evaluated: Sequence[tuple[Mapping[str, Any], float]],
        pending: Sequence[Mapping[str, Any]] = (),
        *,
        rank: Ranker | None = None,
    ) -> Configuration | None:
        """The next configuration; None when a finite space has nothing left to try.

        ``evaluated`` holds (configuration, score) with higher scores better; a NaN or infinite
        score is rejected naming its configuration (adapters drop failed trials before)."""
        best: dict[str, float] = {}
        for configuration, score in evaluated:
            if not math.isfinite(score):
                raise InvalidScoreError(f"the score of {dict(configuration)} is {score}; scores must be finite")
            key = self.key(configuration)
            if key is not None:
                best[key] = max(score, best.get(key, -math.inf))
        seen = set(best) | {k for k in map(self.key, pending) if k is not None}
        if self.space.is_finite and len(seen) >= self.space.size:
            return None
        if self._tpe is not None:
            # in a finite space a search never repeats itself: TPE draws again, a few times,
            # when its proposal was evaluated or is pending, then an unseen configuration is drawn
            for _ in range(TPE_DRAWS):
                configuration = self._tpe.propose(evaluated)
                if not self.space.is_finite or self.key(configuration) not in seen:
                    return configuration
            return self._random_unseen(seen)
        if self.in_startup(len(evaluated)):
            return self._random_unseen(seen)
        if self._online is None:
            self._online = OnlineSearch(self.space, self.options)
        search = self._online.search(best, n_results=len(evaluated))
        drawn: dict[str, Configuration] = {}

        def values_of(text: str) -> Configuration:
            if text not in drawn:
                drawn[text] = self.space.to_values(self.space.from_string(text), self._rng)
            return drawn[text]

        if rank is not None:
            candidates = search.candidates(seen)
            if candidates:
                values = rank([values_of(text) for text in candidates])
                if values is not None:  # best first; a NaN acquisition value sorts last
                    return values_of(candidates[int(np.argsort(-np.asarray(values), kind="stable")[0])])
        return values_of(search.propose(best, seen - set(best))[0])

    @property
    def refits(self) -> int:
        """How many times the online model's stage 2 was fit so far."""
        return 0 if self._online is None else self._online.refits

    def _random_unseen(self, seen: set[str]) -> Configuration:
        for _ in range(100):
            dag = self.space.sample(self._rng, 1)[0]
            if not self.space.is_finite or self.space.to_string(dag) not in seen:
                return self.space.to_values(dag, self._rng)
        return self.space.to_values(dag, self._rng)  # a nearly exhausted space: accept a repeat


def canonical_choices(space: str) -> dict[str, tuple[str, ...]]:
    """A built-in space's slots as ``{"<space>/<slot>": choices}``."""
    search_space = get_space(space)
    return {f"{search_space.name}/{slot}": tuple(ops) for slot, ops in search_space.parameter_choices().items()}


def builtin_space_of(parameters: Sequence[Parameter]) -> SearchSpace | None:
    """The built-in space whose canonical slots these parameters are, with the same choices in
    the same order; None for any other space."""
    given = {p.name: p.choices for p in parameters}
    for name in SPACE_NAMES:
        if given == canonical_choices(name):
            return get_space(name)
    return None


class ArchitectureConfigurationSearch:
    """``ConfigurationSearch``'s interface over a built-in space: configurations in and
    out, the pretrained generator and its surrogate (zero-shot first, then few-shot) inside."""

    def __init__(self, space: SearchSpace, options: SearchOptions, *, weights: str | None = None) -> None:
        self.space = space
        self.guided = GuidedSearch(PNAG.from_weights(space.name, weights), options)
        #: a table enumerates the space, so its size tells when every architecture was tried
        self._size = len(get_benchmark(space.name)) if space.name in BENCHMARK_NAMES else None

    def key(self, configuration: Mapping[str, Any]) -> str | None:
        """The canonical architecture string of a configuration, None if it is not one."""
        try:
            params = {slot: configuration.get(f"{self.space.name}/{slot}") for slot in self.space.parameter_choices()}
            return self.space.to_string(self.space.from_params(params))
        except InvalidArchitectureError:
            return None

    def configuration(self, text: str) -> Configuration:
        return {f"{self.space.name}/{slot}": op for slot, op in self.space.to_params(self.space.from_string(text)).items()}

    def propose(
        self, evaluated: Sequence[tuple[Mapping[str, Any], float]], pending: Sequence[Mapping[str, Any]] = ()
    ) -> Configuration | None:
        """The next configuration (higher scores are better); None once a tabulated space is exhausted."""
        best: dict[str, float] = {}
        for configuration, score in evaluated:
            text = self.key(configuration)
            if text is not None:
                best[text] = max(score, best.get(text, -math.inf))
        seen = {t for t in map(self.key, pending) if t is not None}
        if self._size is not None and len(set(best) | seen) >= self._size:
            return None
        return self.configuration(self.guided.propose(best, seen - set(best))[0])

    def initial(self, n: int) -> list[Configuration]:
        """``n`` distinct configurations best-first by the zero-shot ranking (no result yet)."""
        return [self.configuration(t) for t in self.guided.propose({}, (), n=n)]


def configuration_search(
    parameters: Sequence[Parameter],
    options: SearchOptions,
    *,
    name: str,
    weights: str | None = None,
) -> ArchitectureConfigurationSearch | ConfigurationSearch:
    """The pretrained search for a built-in space's canonical slots, else PNAG learned online
    over the user's parameters. ``weights`` only applies to a built-in space."""
    space = builtin_space_of(parameters)
    if space is not None:
        return ArchitectureConfigurationSearch(space, options, weights=weights)
    if weights is not None:
        raise UnknownNameError(f"weights were given, but the {name} is not a built-in architecture space's canonical slots")
    return ConfigurationSearch(parameters, options, name=name)
