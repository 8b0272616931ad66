"""The meta-learned, task-aware surrogate: an ensemble of ``TaskAwarePredictor`` members.

Meta-training draws episodes: a training task, a support set of 0..``max_support`` of its
architectures with their scores, and a query batch whose rank quantiles in that task are the
targets. A member thus learns to predict for a task it knows only through a support set, which
is how it meets an unseen task (zero-shot with an empty set, few-shot as results come in). The
members differ in initialisation and episodes; their spread is the uncertainty that expected
improvement needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from pnag_sampler.errors import InvalidScoreError
from pnag_sampler.model.graph_tensors import dags_to_tensors
from pnag_sampler.model.predictor import PredictorConfig, TaskAwarePredictor, ensemble_forward, ensemble_task_embeddings, stack_members
from pnag_sampler.quantiles import performance_quantiles
from pnag_sampler.spaces.base import Dag, SearchSpace

#: (architecture, score) pairs of one task, higher scores better
Support = Sequence[tuple[Dag, float]]


def score_ranks(scores: torch.Tensor | np.ndarray | Sequence[float]) -> torch.Tensor:
    """0 for the lowest score .. K-1 for the highest (ties in order of appearance)."""
    values = np.asarray(scores, dtype=np.float64)
    return torch.from_numpy(np.argsort(np.argsort(values, kind="stable"), kind="stable"))


def require_finite_support(space: SearchSpace, support: Support) -> None:
    """Reject a NaN or infinite score, naming the architecture it belongs to."""
    for dag, score in support:
        if not np.isfinite(score):
            raise InvalidScoreError(f"the score of {space.to_string(dag)} is {score}; scores must be finite")


class MetaSurrogate:
    def __init__(self, space: SearchSpace, config: PredictorConfig | None = None, *, members: int = 4):
        self.space = space
        self.config = config or PredictorConfig(num_nodes=space.num_nodes, num_node_types=len(space.node_types))
        self.members = [TaskAwarePredictor(self.config) for _ in range(members)]
        self._clear_caches()
        self.eval()

    def _clear_caches(self) -> None:
        """Architecture embeddings are fixed once trained, so each is computed once: row
        ``_feature_rows[dag]`` of ``_features`` (members, rows, 3 * hidden). A search asks about
        the same candidates again and again; gathering rows and predicting with every member in
        one batched pass (``_parameters``) is what keeps a proposal cheap."""
        self._feature_rows: dict[Dag, int] = {}
        self._features = torch.zeros(len(self.members), 0, 3 * self.config.hidden)
        self._stacked: dict[str, torch.Tensor] | None = None
        #: the last block of query features gathered, and each row's position in it (-1: absent)
        self._query_block: tuple[np.ndarray, torch.Tensor] | None = None
        #: the last support's rows, and a buffer whose first columns hold their features
        self._support_block: tuple[np.ndarray, torch.Tensor] | None = None

    def _parameters(self) -> dict[str, torch.Tensor]:
        """The members' parameters stacked for ``ensemble_forward`` (built once per fit or load)."""
        if self._stacked is None:
            self._stacked = stack_members(self.members)
        return self._stacked

    def eval(self) -> MetaSurrogate:
        for member in self.members:
            member.eval()
        return self

    # -- meta-training ----------------------------------------------------------------------
    def fit(
        self,
        architectures: Sequence[Dag],
        task_scores: Mapping[str, np.ndarray],
        *,
        steps: int = 1500,
        max_support: int = 50,
        query_size: int = 256,
        lr: float = 2e-3,
        seed: int = 0,
        progress: bool = True,
    ) -> dict[str, list[float]]:
        """Meta-train every member on episodes of the given tasks (validation scores aligned
        with ``architectures``); returns each member's mean loss per tenth of the steps."""
        quantiles = {}
        for task, scores in task_scores.items():
            if np.shape(scores) != (len(architectures),):
                raise ValueError(f"task '{task}': need one score per architecture")
            quantiles[task] = torch.as_tensor(performance_quantiles({task: scores}), dtype=torch.float32)
        if not quantiles:
            raise ValueError("the surrogate needs the scores of at least one task")
        ops, adjacency = dags_to_tensors(self.space.node_types, architectures)
        tasks = list(quantiles)
        history: dict[str, list[float]] = {}
        for index, member in enumerate(tqdm(self.members, desc="surrogate: meta-training members", disable=not progress)):
            torch.manual_seed(seed + index)
            rng = np.random.default_rng(seed + index)
            optimizer = torch.optim.AdamW(member.parameters(), lr=lr, weight_decay=1e-4)
            schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
            member.train()
            losses = []
            for _ in range(steps):
                target = quantiles[tasks[rng.integers(len(tasks))]]
                size = int(rng.integers(0, max_support + 1))
                rows = torch.as_tensor(rng.choice(len(architectures), size + query_size, replace=False))
                features = member.features(member.embed_architectures(ops[rows], adjacency[rows]))
                prediction = member(features[size:], features[:size], score_ranks(target[rows[:size]]))
                loss = F.mse_loss(prediction, target[rows[size:]])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                schedule.step()
                losses.append(float(loss.detach()))
            member.eval()
            tenth = max(1, steps // 10)
            history[f"member{index}"] = [float(np.mean(losses[i : i + tenth])) for i in range(0, steps, tenth)]
        self._clear_caches()
        return history

    # -- prediction -------------------------------------------------------------------------
    @torch.no_grad()
    def rows(self, architectures: Sequence[Dag]) -> np.ndarray:
        """Rows of the architectures in the feature matrix, computing the features of
        architectures not seen before (one row serves every member). A caller that asks about
        the same architectures again and again keeps their rows and predicts with
        ``predict_rows``."""
        missing = list(dict.fromkeys(dag for dag in architectures if dag not in self._feature_rows))
        if missing:
            ops, adjacency = dags_to_tensors(self.space.node_types, missing)
            computed = torch.stack([member.features(member.embed_architectures(ops, adjacency)) for member in self.members])
            self._features = torch.cat([self._features, computed], dim=1)
            for dag in missing:
                self._feature_rows[dag] = len(self._feature_rows)
        return np.fromiter((self._feature_rows[dag] for dag in architectures), dtype=np.int64, count=len(architectures))

    @torch.no_grad()
    def task_embedding(self, support: Support = ()) -> np.ndarray:
        """The first member's task embedding (the one the generator is conditioned on)."""
        require_finite_support(self.space, support)
        rows = torch.from_numpy(self.rows([dag for dag, _ in support]))
        features = self._features.index_select(1, rows)
        embeddings = ensemble_task_embeddings(self._parameters(), features, score_ranks([score for _, score in support]))
        return embeddings[0].numpy().astype(np.float64)

    def predict(self, architectures: Sequence[Dag], support: Support = ()) -> tuple[np.ndarray, np.ndarray]:
        """Mean and spread over the members of each architecture's predicted rank quantile in
        the task that ``support`` describes (empty: the prior over the training tasks)."""
        require_finite_support(self.space, support)
        queries = self.rows(architectures)
        support_rows = self.rows([dag for dag, _ in support])
        return self.predict_rows(queries, support_rows, np.array([score for _, score in support], dtype=np.float64))

    @torch.inference_mode()
    def predict_rows(self, queries: np.ndarray, support: np.ndarray, support_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``predict`` for architectures given by their ``rows`` (finite scores, checked by the caller)."""
        positions, block = self._query_features(queries)
        predictions = ensemble_forward(
            self._parameters(),
            block,
            self._support_features(support),
            score_ranks(support_scores),
        ).numpy()[:, positions[queries]]
        # numpy's std costs more in its Python layers than in arithmetic at this size
        mean = predictions.sum(axis=0) / len(predictions)
        deviations = predictions - mean
        return mean, np.sqrt(np.einsum("mb,mb->b", deviations, deviations) / len(predictions))

    def _query_features(self, queries: np.ndarray) -> tuple[np.ndarray, torch.Tensor]:
        """The features of a block of rows that holds every query, with each row's position in
        it. A search asks about one candidate pool, a candidate fewer each time, until the pool
        grows: predicting a few rows more beats gathering the pool's features on every call."""
        if self._query_block is not None:
            positions, block = self._query_block
            if queries.size and queries.max() < len(positions) and (positions[queries] >= 0).all():
                return positions, block
        positions = np.full(len(self._feature_rows), -1, dtype=np.int64)
        positions[queries] = np.arange(len(queries))
        query_columns = self._features[..., self.config.hidden :]  # what ``ensemble_forward`` reads of a query
        self._query_block = positions, query_columns.index_select(1, torch.from_numpy(queries))
        return self._query_block

    def _support_features(self, support: np.ndarray) -> torch.Tensor:
        """The features of the support's rows. Results arrive one at a time and keep their
        order, so a support is mostly the last one and a row more: the rows seen stay in a
        buffer and only new ones are gathered."""
        if self._support_block is not None:
            kept, buffer = self._support_block
            if len(kept) <= len(support) <= buffer.shape[1] and np.array_equal(support[: len(kept)], kept):
                if len(support) > len(kept):
                    buffer[:, len(kept) : len(support)] = self._features.index_select(1, torch.from_numpy(support[len(kept) :]))
                    self._support_block = support.copy(), buffer
                return buffer[:, : len(support)]
        buffer = torch.empty(len(self.members), 2 * len(support) + 64, self._features.shape[2])
        buffer[:, : len(support)] = self._features.index_select(1, torch.from_numpy(support))
        self._support_block = support.copy(), buffer
        return buffer[:, : len(support)]

    # -- persistence (inside a PNAG checkpoint) ---------------------------------------------------
    def config_dict(self) -> dict:
        return {"predictor": asdict(self.config), "members": len(self.members)}

    def tensors(self, prefix: str) -> dict[str, torch.Tensor]:
        return {f"{prefix}.{index}.{key}": value for index, member in enumerate(self.members) for key, value in member.state_dict().items()}
