"""PNAG over a user's parameter space, for any framework: configurations in, configurations out.

Optuna, NNI and Syne Tune each describe spaces and results their own way; their adapters turn
them into :class:`~pnag_sampler.spaces.parameters.Parameter` lists, (configuration, score)
pairs with higher scores better, and pending configurations, and ask this object what to try
next. Nothing here remembers results between calls except the online model itself, so an
adapter can rebuild the history from its framework's own records (storage, state dicts).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from pnag_sampler.errors import InvalidArchitectureError, InvalidScoreError
from pnag_sampler.online import OnlineSearch, OnlineTraining
from pnag_sampler.spaces.parameters import Parameter, ParameterSpace

Configuration = dict[str, Any]
#: scores candidate configurations with another optimiser's acquisition; None = not ready yet
Ranker = Callable[[list[Configuration]], "np.ndarray | None"]


class ConfigurationSearch:
    """Uniform random configurations for the first ``n_startup`` results, then PNAG's online model."""

    def __init__(
        self,
        parameters: Sequence[Parameter],
        *,
        seed: int | None = None,
        n_startup: int = 3,
        pool_size: int = 256,
        cfg_scale: float = 2.0,
        training: OnlineTraining | None = None,
        name: str = "parameters",
    ) -> None:
        self.space = ParameterSpace(parameters, name=name)
        self.seed = seed if seed is not None else int(np.random.SeedSequence().entropy % 2**31)
        self.n_startup = n_startup
        self.pool_size = pool_size
        self.cfg_scale = cfg_scale
        self.training = training or OnlineTraining()
        self._rng = np.random.default_rng(self.seed)
        self._online: OnlineSearch | None = None

    def reseed(self, seed: int | None = None) -> None:
        """New randomness for values drawn inside bins and for the random start."""
        self._rng = np.random.default_rng(seed)

    def key(self, configuration: Mapping[str, Any]) -> str | None:
        """The canonical (group) string of a configuration, None if it does not fit this space."""
        try:
            return self.space.to_string(self.space.from_values(configuration))
        except InvalidArchitectureError:
            return None

    def in_startup(self, results: int) -> bool:
        return results < max(1, self.n_startup)

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
        if self.in_startup(len(evaluated)):
            return self._random_unseen(seen)
        if self._online is None:
            self._online = OnlineSearch(
                self.space, seed=self.seed, pool_size=self.pool_size, cfg_scale=self.cfg_scale,
                min_support=self.n_startup, training=self.training,
            )
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
