"""A task-aware performance predictor: P(score | task, architecture) (paper Sec. 3.5, Eq. 13).

The paper encodes a dataset itself; the frameworks we plug into know a task only through the
architectures evaluated on it, so the task is encoded from a support set of (architecture,
score) pairs by a set encoder (DeepSets: a per-pair network, a mean, a second network). An
empty support set gives a learned prior embedding, so the same network answers zero-shot and
few-shot. Scores enter as their rank quantile within the support set and the prediction is the
architecture's rank quantile within the task: both are unit-free, so a task whose accuracies
lie in 40-47% and one in 85-94% look alike to the network.

A set encoder alone adapts slowly to a few results, so the prediction also takes a closed-form
step toward the support (as in meta-learned ridge heads, R2-D2): the support's own predictions
are re-ordered to match the order of their observed scores, and kernel ridge regression over the
architecture embeddings carries that correction to the queries. The correction is zero on
average and is in the prediction's own units, so it needs no score scale either.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from pnag_sampler.model.encoder import NodeEncoder

#: supports up to this size solve the ridge system over the support (size^3); larger ones over
#: the key width (hidden^3, Woodbury's identity), so a long study's proposals stay cheap. Both
#: are exact; below the switch results are bit-for-bit those of earlier releases.
DIRECT_SOLVE_MAX_SUPPORT = 256


@dataclass(frozen=True)
class PredictorConfig:
    num_nodes: int
    num_node_types: int
    hidden: int = 64
    layers: int = 2
    #: width of the task embedding, which also conditions the generator
    task_dim: int = 16


def _mlp(inputs: int, hidden: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, outputs))


class TaskAwarePredictor(nn.Module):
    def __init__(self, config: PredictorConfig):
        super().__init__()
        self.config = config
        hidden = config.hidden
        self.nodes = NodeEncoder(config.num_node_types, config.num_nodes, hidden, config.layers)
        self.readout = nn.Linear(2 * hidden, hidden)
        self.pair_network = _mlp(hidden + 1, hidden, hidden)
        # the support size enters too: five results deserve less trust than fifty
        self.task_network = _mlp(hidden + 1, hidden, config.task_dim)
        self.prior_task = nn.Parameter(torch.zeros(config.task_dim))
        self.head = _mlp(hidden + config.task_dim, hidden, 1)
        self.log_ridge = nn.Parameter(torch.zeros(()))

    def _head_input(self) -> nn.Linear:
        """The head's first layer (``_mlp`` builds it as a Linear)."""
        layer = self.head[0]
        assert isinstance(layer, nn.Linear)
        return layer

    def embed_architectures(self, ops: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        """(B, N), (B, N, N) -> (B, hidden): mean and max of the node states, projected."""
        states = self.nodes.node_states(ops, adjacency)
        return torch.relu(self.readout(torch.cat([states.mean(dim=1), states.amax(dim=1)], dim=1)))

    def task_embedding(self, support: torch.Tensor, support_ranks: torch.Tensor) -> torch.Tensor:
        """Support architectures' embeddings (K, hidden) and the order of their scores (K,
        ranks, 0 = worst) -> (task_dim,); K = 0 gives the prior."""
        if len(support) == 0:
            return self.prior_task
        quantiles = support_ranks.float() / max(1, len(support) - 1)
        pooled = self.pair_network(torch.cat([support, quantiles[:, None]], dim=1)).mean(dim=0)
        size = torch.log1p(torch.tensor([float(len(support))]))
        return self.prior_task + self.task_network(torch.cat([pooled, size]))

    def features(self, embeddings: torch.Tensor) -> torch.Tensor:
        """(B, hidden) embeddings -> (B, 3 * hidden): the embedding, its product with the head's
        architecture weights and its unit vector (the kernel's key). Each is fixed once the
        member is trained, so a search computes them once per architecture and every later
        prediction is a few small products."""
        hidden = self.config.hidden
        return torch.cat([embeddings, embeddings @ self._head_input().weight[:, :hidden].T, F.normalize(embeddings, dim=1)], dim=1)

    def forward(self, queries: torch.Tensor, support: torch.Tensor, support_ranks: torch.Tensor) -> torch.Tensor:
        """Query and support ``features`` (B and K rows) and the support's ranks (K,) ->
        (B,) predicted rank quantiles of the queries in the support's task."""
        hidden = self.config.hidden
        task = self.task_embedding(support[:, :hidden], support_ranks)
        head_input = self._head_input()
        task_term = head_input.weight[:, hidden:] @ task + head_input.bias

        def prior(rows: torch.Tensor) -> torch.Tensor:
            return self.head[2](torch.relu(rows[:, hidden : 2 * hidden] + task_term))[:, 0]

        prediction = prior(queries)
        if len(support) < 2:
            return prediction
        support_prediction = prior(support)
        matched = torch.sort(support_prediction).values[support_ranks]
        keys, query_keys = support[:, 2 * hidden :], queries[:, 2 * hidden :]
        residual = (matched - support_prediction)[:, None]
        ridge = F.softplus(self.log_ridge)
        if len(support) <= DIRECT_SOLVE_MAX_SUPPORT:
            weights = torch.linalg.solve(keys @ keys.T + ridge * torch.eye(len(support)), residual)
            return prediction + (query_keys @ keys.T @ weights)[:, 0]
        # the same correction in the key space: (K K^T + r I)^-1 applied through (K^T K + r I)^-1
        solved = torch.linalg.solve(keys.T @ keys + ridge * torch.eye(keys.shape[1]), keys.T @ residual)
        return prediction + (query_keys @ solved)[:, 0]
