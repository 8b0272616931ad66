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
from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import torch
from scipy.stats import rankdata

from pnag_sampler.generator import PNAG
from pnag_sampler.search.guided import GuidedSearch, require_finite_scores
from pnag_sampler.search.options import SearchOptions
from pnag_sampler.spaces.parameters import ParameterSpace


class OnlineSearch:
    """A ``GuidedSearch`` over a ``ParameterSpace`` whose model grows with results."""

    def __init__(self, space: ParameterSpace, options: SearchOptions) -> None:
        self.space = space
        self.options = options
        self.seed = seed = options.drawn_seed
        if options.online_training is None:
            raise ValueError(f"{options.owner}: learning a space online needs an online_training budget")
        self.training = training = options.online_training
        rng = np.random.default_rng(seed)
        self._samples = space.sample(rng, training.structure_samples)
        self._prior = self._samples[: training.prior_samples]
        with torch.random.fork_rng():  # initial weights from the seed alone, whatever ran before
            torch.manual_seed(seed)
            self._model = PNAG(space, transformer_options={"width": 32, "depth": 2, "heads": 2})
        self._model.fit_autoencoder(
            self._samples,
            epochs=training.autoencoder_epochs,
            batch_size=training.batch_size,
            seed=seed,
            progress=False,
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
            dags * repeats,
            None if quantiles is None else np.tile(quantiles, repeats),
            unconditioned=self._prior,
            epochs=self.training.refit_epochs if self.refits else self.training.transformer_epochs,
            batch_size=self.training.batch_size,
            seed=self.seed + len(dags),
            progress=False,
        )
        self._fitted_on = len(dags) if n_results is None else n_results
        self.refits += 1
        self._search = GuidedSearch(
            self._model,
            replace(self.options, seed=self.seed + len(dags)),
            online=True,
            allow_repeats=not self.space.is_finite,
        )

    def search(self, evaluated: Mapping[str, float], n_results: int | None = None) -> GuidedSearch:
        """The guided search over the current model, refit first if ``n_results`` (default: the
        number of distinct configurations evaluated) has grown enough since the last fit."""
        require_finite_scores(evaluated)
        if self._due(len(evaluated) if n_results is None else n_results):
            self._refit(evaluated, n_results)
        assert self._search is not None  # _due is True until the first refit creates it
        return self._search
