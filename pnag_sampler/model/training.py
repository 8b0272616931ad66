"""Training loops for the two stages (AdamW, as in the paper's implementation details)."""

from __future__ import annotations

import math
import time

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from pnag_sampler.model.autoencoder import ArchitectureAutoencoder
from pnag_sampler.model.transformer import ScaleTransformer


def _batches(size: int, batch_size: int, generator: torch.Generator):
    order = torch.randperm(size, generator=generator)
    for start in range(0, size, batch_size):
        yield order[start:start + batch_size]


def train_autoencoder(
    model: ArchitectureAutoencoder,
    ops: torch.Tensor,
    adjacency: torch.Tensor,
    *,
    epochs: int,
    batch_size: int = 256,
    lr: float = 2e-3,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, list[float]]:
    """Stage 1 on a set of architectures; returns the mean loss terms per epoch."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, epochs))
    history: dict[str, list[float]] = {}
    model.train()
    for _ in tqdm(range(epochs), desc="stage 1: encoder + MSQ + decoder", disable=not progress):
        sums: dict[str, float] = {}
        batches = 0
        for batch in _batches(len(ops), batch_size, generator):
            losses = model.losses(ops[batch], adjacency[batch])
            optimizer.zero_grad(set_to_none=True)
            losses["total"].backward()
            optimizer.step()
            for name, value in losses.items():
                sums[name] = sums.get(name, 0.0) + float(value.detach())
            batches += 1
        schedule.step()
        for name, value in sums.items():
            history.setdefault(name, []).append(value / batches)
    model.eval()
    return history


def next_scale_inputs(autoencoder: ArchitectureAutoencoder, indices: list[torch.Tensor]) -> list[torch.Tensor]:
    """Teacher-forcing inputs: e_hat after each scale but the last, pooled to the next scale."""
    quantizer = autoencoder.quantizer
    maps = quantizer.maps_from_indices(indices[:-1])
    return [quantizer.pool(m, n) for m, n in zip(maps, autoencoder.scales[1:])]


def train_transformer(
    transformer: ScaleTransformer,
    autoencoder: ArchitectureAutoencoder,
    indices: list[torch.Tensor],
    conditions: torch.Tensor,
    *,
    epochs: int,
    batch_size: int = 256,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool = True,
    null_rows: torch.Tensor | None = None,
) -> dict[str, list[float]]:
    """Stage 2: next-scale prediction of the (frozen) autoencoder's tokens under conditions.

    Rows marked in ``null_rows`` (a bool mask) always train the null condition: their
    performance is unknown, yet they teach the generator what the space looks like. Other rows
    train it with probability ``condition_dropout``, which classifier-free guidance needs."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(transformer.parameters(), lr=lr, weight_decay=1e-4)
    total_steps = max(1, epochs * math.ceil(len(conditions) / batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps, pct_start=0.1)
    dropout = transformer.config.condition_dropout
    if null_rows is None:
        null_rows = torch.zeros(len(conditions), dtype=torch.bool)
    history: dict[str, list[float]] = {"token_loss": []}
    transformer.train()
    for _ in tqdm(range(epochs), desc="stage 2: scale transformer", disable=not progress):
        total, batches = 0.0, 0
        for batch in _batches(len(conditions), batch_size, generator):
            batch_indices = [scale[batch] for scale in indices]
            with torch.no_grad():
                inputs = next_scale_inputs(autoencoder, batch_indices)
            targets = torch.cat([scale.flatten(1) for scale in batch_indices], dim=1)
            drop = null_rows[batch] | (torch.rand(len(batch), generator=generator) < dropout)
            logits = transformer(inputs, conditions[batch], drop)
            loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach())
            batches += 1
        history["token_loss"].append(total / batches)
    transformer.eval()
    return history


def timed(function, *args, **kwargs):
    """(result, seconds) of one call; used to report training time per stage."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start
