"""A few-shot performance predictor with uncertainty, refit after every result.

A bootstrap ensemble of ridge regressions on the architecture's one-hot node operations and
adjacency: with the handful of evaluated architectures a search has, it is fast (milliseconds)
and its spread across members is an honest uncertainty for expected improvement.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.stats import norm

from pnag_sampler.errors import InvalidScoreError
from pnag_sampler.spaces.base import Dag, SearchSpace


def architecture_features(space: SearchSpace, dags: Sequence[Dag]) -> np.ndarray:
    """One-hot operation of every node, then the strict upper triangle of the adjacency."""
    index = {name: i for i, name in enumerate(space.node_types)}
    n, types = space.num_nodes, len(space.node_types)
    upper = np.triu_indices(n, k=1)
    features = np.zeros((len(dags), n * types + len(upper[0])))
    for row, dag in enumerate(dags):
        for node, op in enumerate(dag.ops):
            features[row, node * types + index[op]] = 1.0
        features[row, n * types:] = dag.adjacency()[upper]
    return features


class BootstrapRidgeSurrogate:
    def __init__(self, space: SearchSpace, *, members: int = 16, alpha: float = 1.0, seed: int = 0):
        self.space = space
        self.members = members
        self.alpha = alpha
        self.seed = seed
        self._weights: np.ndarray | None = None

    def fit(self, dags: Sequence[Dag], scores: Sequence[float]) -> "BootstrapRidgeSurrogate":
        y = np.asarray(scores, dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(y))
        if bad.size:
            raise InvalidScoreError(f"score of {self.space.to_string(dags[bad[0]])} is {y[bad[0]]}; scores must be finite")
        x = np.hstack([architecture_features(self.space, dags), np.ones((len(y), 1))])
        rng = np.random.default_rng(self.seed)
        weights = []
        for _ in range(self.members):
            rows = rng.integers(0, len(y), len(y))
            a, b = x[rows], y[rows]
            weights.append(np.linalg.solve(a.T @ a + self.alpha * np.eye(x.shape[1]), a.T @ b))
        self._weights = np.stack(weights, axis=1)
        return self

    def predict(self, dags: Sequence[Dag]) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation over the ensemble, one value per architecture."""
        if self._weights is None:
            raise RuntimeError("fit the surrogate before predicting")
        x = np.hstack([architecture_features(self.space, dags), np.ones((len(dags), 1))])
        predictions = x @ self._weights
        return predictions.mean(axis=1), predictions.std(axis=1)


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float) -> np.ndarray:
    """EI for maximisation; where std is 0 it is the plain improvement."""
    std = np.maximum(std, 1e-12)
    z = (mean - best) / std
    return (mean - best) * norm.cdf(z) + std * norm.pdf(z)
