"""PNAG for a space seen for the first time, learned while the search runs.

Stage 1 needs no scores: the autoencoder learns the space's structure from uniform samples of
it, once. Stage 2 is refit on the evaluated configurations whenever their number has grown by
``refit_growth`` (2x: after 3, 6, 12, 24, ... results), continuing from its previous weights,
so the cost of learning stays a small share of a long search. The samples stay in every refit under the null condition, so
the generator keeps knowing the whole space while it learns where the good part is.

Given the seed, the model depends on the results at each refit point, so two processes that
share a study hold the same model only if they refit at the same result counts (processes
joining late refit at other counts; proposals stay valid, they just differ).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import torch
from scipy.stats import rankdata

from pnag_sampler.generator import PNAG
from pnag_sampler.search import GuidedSearch, require_finite_scores
from pnag_sampler.spaces.parameters import ParameterSpace


@dataclass(frozen=True)
class OnlineTraining:
    """How much an online model learns; small, because it runs inside ``ask``."""

    #: uniform samples of the space that stage 1 learns the structure from
    structure_samples: int = 2048
    autoencoder_epochs: int = 20
    #: of those, the ones every stage-2 fit also trains on under the null condition (the space
    #: prior; fewer make refits cheaper, but with 512 no generated chain was valid in a probe)
    prior_samples: int = 2048
    transformer_epochs: int = 10
    #: later refits continue from the previous weights, so they need fewer epochs
    refit_epochs: int = 3
    batch_size: int = 64
    #: stage 2 is refit when the number of results has grown by this factor since the last fit
    refit_growth: float = 2.0
    #: evaluated rows are repeated to make up this share of a stage-2 epoch
    evaluated_share: float = 0.2


class OnlineSearch:
    """A :class:`GuidedSearch` over a :class:`ParameterSpace` whose model grows with results."""

    def __init__(
        self,
        space: ParameterSpace,
        *,
        seed: int = 0,
        pool_size: int = 256,
        cfg_scale: float = 2.0,
        min_support: int = 3,
        training: OnlineTraining = OnlineTraining(),
    ) -> None:
        self.space = space
        self.seed = seed
        self.pool_size = pool_size
        self.cfg_scale = cfg_scale
        self.min_support = min_support
        self.training = training
        rng = np.random.default_rng(seed)
        self._samples = space.sample(rng, training.structure_samples)
        self._prior = self._samples[: training.prior_samples]
        with torch.random.fork_rng():  # initial weights from the seed alone, whatever ran before
            torch.manual_seed(seed)
            self._model = PNAG(space, transformer_options={"width": 32, "depth": 2, "heads": 2})
        self._model.fit_autoencoder(
            self._samples, epochs=training.autoencoder_epochs, batch_size=training.batch_size, seed=seed, progress=False,
        )
        self._fitted_on = 0
        self._search: GuidedSearch | None = None
        #: how many times stage 2 was fit (for reports and tests)
        self.refits = 0

    def _due(self, results: int) -> bool:
        if self._search is None:
            return True
        return results >= max(self._fitted_on + 1, math.ceil(self._fitted_on * self.training.refit_growth))

    def _refit(self, evaluated: Mapping[str, float], n_results: int | None) -> None:
        texts = sorted(evaluated)
        dags = [self.space.from_string(text) for text in texts]
        scores = np.array([evaluated[text] for text in texts])
        quantiles = (rankdata(scores) - 1) / max(1, len(scores) - 1) if dags else None
        repeats = 0
        if dags:
            wanted = self.training.evaluated_share * len(self._prior) / (1.0 - self.training.evaluated_share)
            repeats = max(1, round(wanted / len(dags)))
        self._model.fit_transformer(
            dags * repeats, None if quantiles is None else np.tile(quantiles, repeats),
            unconditioned=self._prior, epochs=self.training.refit_epochs if self.refits else self.training.transformer_epochs, batch_size=self.training.batch_size,
            seed=self.seed + len(dags), progress=False,
        )
        self._fitted_on = len(dags) if n_results is None else n_results
        self.refits += 1
        self._search = GuidedSearch(
            self._model, seed=self.seed + len(dags), pool_size=self.pool_size, cfg_scale=self.cfg_scale,
            min_support=self.min_support, allow_repeats=not self.space.is_finite,
        )

    def search(self, evaluated: Mapping[str, float], n_results: int | None = None) -> GuidedSearch:
        """The guided search over the current model, refit first if ``n_results`` (default: the
        number of distinct configurations evaluated) has grown enough since the last fit."""
        require_finite_scores(evaluated)
        if self._due(len(evaluated) if n_results is None else n_results):
            self._refit(evaluated, n_results)
        return self._search
