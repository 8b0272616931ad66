"""Configurations of a built-in architecture space, searched with its pretrained generator.

NNI and Syne Tune describe a space as named choices. When those choices are exactly a
built-in space's slots under canonical names (``"<space>/<slot>"``, what Optuna's
``suggest_architecture``, :func:`~pnag_sampler.adapters.syne_tune.architecture_config_space`
and :class:`~pnag_sampler.adapters.nni.ArchitectureModelSpace` produce), the adapters search it
with the shipped (or given) weights through the guided search loop instead of learning the
space online. :func:`configuration_search` makes that choice for every adapter in one place.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from pnag_sampler.configurations import Configuration, ConfigurationSearch
from pnag_sampler.data import BENCHMARK_NAMES, get_benchmark
from pnag_sampler.errors import InvalidArchitectureError, UnknownNameError
from pnag_sampler.generator import PNAG
from pnag_sampler.online import OnlineTraining
from pnag_sampler.search import GuidedSearch
from pnag_sampler.spaces import SPACE_NAMES, get_space
from pnag_sampler.spaces.base import SearchSpace
from pnag_sampler.spaces.parameters import Parameter


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
    """:class:`ConfigurationSearch`'s interface over a built-in space: configurations in and
    out, the pretrained generator and its surrogate (zero-shot first, then few-shot) inside."""

    def __init__(self, space: SearchSpace, *, weights: str | None = None, seed: int | None = None,
                 pool_size: int = 256, cfg_scale: float = 2.0, min_support: int = 3) -> None:
        self.space = space
        seed = seed if seed is not None else int(np.random.SeedSequence().entropy % 2**31)
        self.guided = GuidedSearch(PNAG.from_weights(space.name, weights), seed=seed, pool_size=pool_size,
                                   cfg_scale=cfg_scale, min_support=min_support)
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

    def propose(self, evaluated: Sequence[tuple[Mapping[str, Any], float]],
                pending: Sequence[Mapping[str, Any]] = ()) -> Configuration | None:
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
    *,
    name: str,
    weights: str | None = None,
    seed: int | None = None,
    n_startup: int = 3,
    pool_size: int = 256,
    cfg_scale: float = 2.0,
    training: OnlineTraining | None = None,
) -> ArchitectureConfigurationSearch | ConfigurationSearch:
    """The pretrained search for a built-in space's canonical slots, else PNAG learned online
    over the user's parameters. ``weights`` only applies to a built-in space."""
    space = builtin_space_of(parameters)
    if space is not None:
        return ArchitectureConfigurationSearch(space, weights=weights, seed=seed, pool_size=pool_size,
                                               cfg_scale=cfg_scale, min_support=n_startup)
    if weights is not None:
        raise UnknownNameError(f"weights were given, but the {name} is not a built-in architecture space's canonical slots")
    return ConfigurationSearch(parameters, seed=seed, n_startup=n_startup, pool_size=pool_size,
                               cfg_scale=cfg_scale, training=training, name=name)
