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

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from pnag_sampler.model.encoder import NodeEncoder

#: the largest systems solved as one batch: torch's batched LU on a multi-threaded CPU returns
#: wrong results, fails or hangs from 150 rows on (MKL's row swaps run concurrently:
#: pytorch/pytorch#142815), so larger ones are solved one member at a time
BATCHED_SOLVE_MAX_ROWS = 149


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
        self.task_network = _mlp(hidden + 1, hidden, config.task_dim)
        self.prior_task = nn.Parameter(torch.zeros(config.task_dim))
        self.head = _mlp(hidden + config.task_dim, hidden, 1)
        self.log_ridge = nn.Parameter(torch.zeros(()))

    @staticmethod
    def _first_layer(network: nn.Sequential) -> nn.Linear:
        """An ``_mlp``'s first layer (``_mlp`` builds it as a Linear)."""
        layer = network[0]
        assert isinstance(layer, nn.Linear)
        return layer

    def embed_architectures(self, ops: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        """(B, N), (B, N, N) -> (B, hidden): mean and max of the node states, projected."""
        states = self.nodes.node_states(ops, adjacency)
        return torch.relu(self.readout(torch.cat([states.mean(dim=1), states.amax(dim=1)], dim=1)))

    def features(self, embeddings: torch.Tensor) -> torch.Tensor:
        """(B, hidden) embeddings -> (B, 3 * hidden): the architecture's part of the pair
        network's first layer (bias included) and of the head's first layer, and the
        embedding's unit vector (the kernel's key). Each is fixed once the member is trained,
        so a search computes them once per architecture and every later prediction is a few
        small products; a query needs only the last two (its last 2 * hidden columns)."""
        hidden = self.config.hidden
        pair_layer, head_layer = self._first_layer(self.pair_network), self._first_layer(self.head)
        pair_input = F.linear(embeddings, pair_layer.weight[:, :hidden], pair_layer.bias)
        head_input = embeddings @ head_layer.weight[:, :hidden].T
        return torch.cat([pair_input, head_input, F.normalize(embeddings, dim=1)], dim=1)

    def stacked_parameters(self) -> dict[str, torch.Tensor]:
        """This member's parameters in the layout of ``ensemble_forward`` (a member axis of 1)."""
        return {name: parameter.unsqueeze(0) for name, parameter in self.named_parameters() if name.startswith(_FORWARD_MODULES)}

    def forward(self, queries: torch.Tensor, support: torch.Tensor, support_ranks: torch.Tensor) -> torch.Tensor:
        """Query and support ``features`` (B and K rows) and the support's ranks (K,) ->
        (B,) predicted rank quantiles of the queries in the support's task."""
        return ensemble_forward(self.stacked_parameters(), queries[None], support[None], support_ranks)[0]


#: the modules a prediction reads once the architecture features are computed
_FORWARD_MODULES = ("pair_network.", "task_network.", "prior_task", "head.", "log_ridge")


def stack_members(members: Sequence[TaskAwarePredictor]) -> dict[str, torch.Tensor]:
    """The members' parameters stacked on a leading member axis, detached: one
    ``ensemble_forward`` then predicts with every member at once, a few batched products
    instead of one small product per member and layer."""
    with torch.no_grad():
        per_member = [member.stacked_parameters() for member in members]
        return {name: torch.cat([parameters[name] for parameters in per_member]) for name in per_member[0]}


def _linear(x: torch.Tensor, parameters: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    """(M, R, in) -> (M, R, out) through each member's own ``name`` layer."""
    return torch.baddbmm(parameters[f"{name}.bias"].unsqueeze(1), x, parameters[f"{name}.weight"].transpose(1, 2))


def ensemble_task_embeddings(parameters: dict[str, torch.Tensor], support: torch.Tensor, support_ranks: torch.Tensor) -> torch.Tensor:
    """Each member's task embedding: the support's ``features`` (M, K, 3 * hidden) and the
    order of their scores (K, ranks, 0 = worst) -> (M, task_dim); K = 0 gives the prior."""
    size = support.shape[1]
    if size == 0:
        return parameters["prior_task"]
    hidden = support.shape[2] // 3
    quantiles = (support_ranks.float() / max(1, size - 1))[:, None]  # (K, 1)
    # the pair network's first layer: the architecture's part is in the features, the quantile's is added
    pairs = torch.addcmul(support[..., :hidden], quantiles, parameters["pair_network.0.weight"][:, None, :, hidden]).relu_()
    # its second layer is affine, so it maps the mean instead of every pair: (M, 1, hidden)
    pooled = _linear(pairs.mean(dim=1, keepdim=True), parameters, "pair_network.2")
    # the support size enters too (five results deserve less trust than fifty), as the task
    # network's last input: its column joins the bias
    weight = parameters["task_network.0.weight"]
    bias = torch.add(parameters["task_network.0.bias"], weight[..., hidden], alpha=math.log1p(size))
    layer = torch.baddbmm(bias.unsqueeze(1), pooled, weight[..., :hidden].mT).relu_()
    return parameters["prior_task"] + _linear(layer, parameters, "task_network.2")[:, 0]


def ensemble_forward(
    parameters: dict[str, torch.Tensor], queries: torch.Tensor, support: torch.Tensor, support_ranks: torch.Tensor
) -> torch.Tensor:
    """Every member's prediction: ``features`` of the queries (M, B, 3 * hidden, or only the
    last 2 * hidden columns that a query reads) and of the support (M, K, 3 * hidden), the
    support's ranks (K,) -> (M, B) predicted rank quantiles of the queries in the support's task."""
    hidden = support.shape[2] // 3
    task = ensemble_task_embeddings(parameters, support, support_ranks)
    head_weight = parameters["head.0.weight"]
    task_term = torch.baddbmm(parameters["head.0.bias"][..., None], head_weight[..., hidden:], task[..., None]).mT  # (M, 1, hidden)

    def prior(rows: torch.Tensor) -> torch.Tensor:  # (M, R, >= 2 * hidden) -> (M, R, 1)
        return _linear((rows[..., -2 * hidden : -hidden] + task_term).relu_(), parameters, "head.2")

    prediction = prior(queries)
    size = support.shape[1]
    if size < 2:
        return prediction[..., 0]
    support_prediction = prior(support)[..., 0]
    residual = (torch.sort(support_prediction, dim=1).values[:, support_ranks] - support_prediction)[..., None]  # (M, K, 1)
    keys, query_keys = support[..., -hidden:], queries[..., -hidden:]
    ridge = F.softplus(parameters["log_ridge"])[:, None]  # (M, 1)
    # the smaller of two equal systems: over the support while it is no wider than the keys,
    # else over the key width (Woodbury: K^T (K K^T + r I)^-1 = (K^T K + r I)^-1 K^T), so a
    # proposal's cost stops growing with the results; either way (M, hidden, 1) weights of the keys
    if size <= hidden:
        system = keys @ keys.mT
        system.diagonal(dim1=1, dim2=2).add_(ridge)
        weights = keys.mT @ _solve(system, residual)
    else:
        system = keys.mT @ keys
        system.diagonal(dim1=1, dim2=2).add_(ridge)
        weights = _solve(system, keys.mT @ residual)
    return torch.baddbmm(prediction, query_keys, weights)[..., 0]


def _solve(matrices: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    """``torch.linalg.solve`` over a member axis (M, n, n), (M, n, 1), batched only where
    batched LU is reliable (see ``BATCHED_SOLVE_MAX_ROWS``)."""
    if matrices.shape[-1] <= BATCHED_SOLVE_MAX_ROWS:
        return torch.linalg.solve_ex(matrices, right, check_errors=False).result  # ridge > 0: never singular
    return torch.stack([torch.linalg.solve(matrix, column) for matrix, column in zip(matrices, right)])
