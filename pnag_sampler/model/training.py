"""Training loops for the two stages (AdamW, as in the paper's implementation details).

Every loop runs on a chosen device and can stop after any epoch and continue exactly there: it
reports an ``EpochState`` (optimizer, schedule and random states, loss history) after each
epoch, and takes one back to resume. Each loop records its tokens (stage 2) or architectures
(stage 1) per second, so that training cost is measured, not guessed.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from pnag_sampler.model.autoencoder import ArchitectureAutoencoder
from pnag_sampler.model.transformer import ScaleTransformer


@dataclass
class EpochState:
    """Where a training loop stands after an epoch: enough to continue it exactly."""

    epochs_done: int
    history: dict[str, list[float]]
    optimizer: dict
    schedule: dict
    #: the batch-order generator's state and torch's global one (token noise, dropout)
    generator: torch.Tensor
    torch_rng: torch.Tensor


#: called after every epoch, e.g. to write a resumable checkpoint
EpochCallback = Callable[[EpochState], None]


def _batches(size: int, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    order = torch.randperm(size, generator=generator)
    for start in range(0, size, batch_size):
        yield order[start : start + batch_size]


def run_epochs(
    description: str,
    epochs: int,
    train_epoch: Callable[[], dict[str, float]],
    optimizer: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler,
    generator: torch.Generator,
    *,
    progress: bool,
    resume: EpochState | None,
    on_epoch: EpochCallback | None,
) -> dict[str, list[float]]:
    """Epochs ``resume.epochs_done + 1 .. epochs`` of ``train_epoch`` (which returns the
    epoch's mean losses and throughput); the history of every epoch, resumed ones included."""
    history: dict[str, list[float]] = {}
    start = 0
    if resume is not None:
        if resume.epochs_done > epochs:
            raise ValueError(f"cannot resume after epoch {resume.epochs_done} of a run of {epochs} epochs")
        optimizer.load_state_dict(resume.optimizer)
        schedule.load_state_dict(resume.schedule)
        generator.set_state(resume.generator)
        torch.set_rng_state(resume.torch_rng)
        history = copy.deepcopy(resume.history)
        start = resume.epochs_done
    for epoch in tqdm(range(start, epochs), desc=description, initial=start, total=epochs, disable=not progress):
        for name, value in train_epoch().items():
            history.setdefault(name, []).append(value)
        if on_epoch is not None:
            on_epoch(
                EpochState(epoch + 1, history, optimizer.state_dict(), schedule.state_dict(), generator.get_state(), torch.get_rng_state())
            )
    return history


def _stage1_loop(
    description: str,
    model: ArchitectureAutoencoder,
    size: int,
    parameters: Iterable[torch.nn.Parameter],
    batch_losses: Callable[[torch.Tensor], dict[str, torch.Tensor]],
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    progress: bool,
    resume: EpochState | None,
    on_epoch: EpochCallback | None,
) -> dict[str, list[float]]:
    """AdamW with a cosine schedule over epochs of shuffled batches of ``size`` architectures;
    ``batch_losses`` gives a batch's loss terms, of which ``total`` is minimised."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(parameters, lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, epochs))

    def train_epoch() -> dict[str, float]:
        sums: dict[str, float] = {}
        batches, start = 0, time.perf_counter()
        for batch in _batches(size, batch_size, generator):
            losses = batch_losses(batch)
            optimizer.zero_grad(set_to_none=True)
            losses["total"].backward()
            optimizer.step()
            for name, value in losses.items():
                sums[name] = sums.get(name, 0.0) + float(value.detach())
            batches += 1
        schedule.step()
        return {**{name: value / batches for name, value in sums.items()}, "architectures_per_second": size / (time.perf_counter() - start)}

    model.train()
    try:
        return run_epochs(
            description, epochs, train_epoch, optimizer, schedule, generator, progress=progress, resume=resume, on_epoch=on_epoch
        )
    finally:
        model.eval().to("cpu")


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
    device: str | torch.device = "cpu",
    resume: EpochState | None = None,
    on_epoch: EpochCallback | None = None,
) -> dict[str, list[float]]:
    """Stage 1 on a set of architectures; returns the mean loss terms per epoch."""
    model.to(device)
    ops, adjacency = ops.to(device), adjacency.to(device)
    return _stage1_loop(
        "stage 1: encoder + MSQ + decoder",
        model,
        len(ops),
        model.parameters(),
        lambda batch: model.losses(ops[batch], adjacency[batch]),
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        progress=progress,
        resume=resume,
        on_epoch=on_epoch,
    )


def train_decoder(
    model: ArchitectureAutoencoder,
    ops: torch.Tensor,
    adjacency: torch.Tensor,
    *,
    epochs: int,
    batch_size: int = 256,
    lr: float = 2e-3,
    seed: int = 0,
    progress: bool = True,
    device: str | torch.device = "cpu",
    resume: EpochState | None = None,
    on_epoch: EpochCallback | None = None,
) -> dict[str, list[float]]:
    """The decoder alone on the frozen encoder's and quantizer's tokens: every scale's map,
    clean and with token noise, to its coarsened architecture. The tokens, and so a trained
    stage 2, stay as they are. Returns the mean loss per epoch (``total``)."""
    model.to(device)
    ops, adjacency = ops.to(device), adjacency.to(device)
    indices = model.tokenize(ops, adjacency)
    targets = model.scale_targets(ops, adjacency)

    def batch_losses(batch: torch.Tensor) -> dict[str, torch.Tensor]:
        codes = [scale[batch] for scale in indices]
        batch_targets = [(o[batch], a[batch]) for o, a in targets]
        total = torch.zeros((), device=ops.device)
        for variant in (codes, model.corrupt(codes)):
            with torch.no_grad():
                maps = model.scale_maps(variant)
            total = total + sum(model.scale_loss(m, batch_targets, t) for t, m in enumerate(maps))
        return {"total": total}

    return _stage1_loop(
        "stage 1: decoder on frozen tokens",
        model,
        len(ops),
        model.decoder.parameters(),
        batch_losses,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        progress=progress,
        resume=resume,
        on_epoch=on_epoch,
    )


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
    device: str | torch.device = "cpu",
    resume: EpochState | None = None,
    on_epoch: EpochCallback | None = None,
) -> dict[str, list[float]]:
    """Stage 2: next-scale prediction of the (frozen) autoencoder's tokens under conditions.

    Rows marked in ``null_rows`` (a bool mask) always train the null condition: their
    performance is unknown, yet they teach the generator what the space looks like. Other rows
    train it with probability ``condition_dropout``, which classifier-free guidance needs.
    The history holds the mean token loss and the loss per architecture (summed over its
    tokens, in nats: ln of the training-set size is what a model that learned the set reaches)."""
    generator = torch.Generator().manual_seed(seed)
    transformer.to(device)
    autoencoder.to(device)
    indices, conditions = [scale.to(device) for scale in indices], conditions.to(device)
    optimizer = torch.optim.AdamW(transformer.parameters(), lr=lr, weight_decay=1e-4)
    total_steps = max(1, epochs * math.ceil(len(conditions) / batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps, pct_start=0.1)
    dropout = transformer.config.condition_dropout
    null_rows = (torch.zeros(len(conditions), dtype=torch.bool) if null_rows is None else null_rows).to(device)
    tokens_per_row = transformer.config.sequence_length

    def train_epoch() -> dict[str, float]:
        total, batches, start = 0.0, 0, time.perf_counter()
        for batch in _batches(len(conditions), batch_size, generator):
            batch = batch.to(device)
            batch_indices = [scale[batch] for scale in indices]
            with torch.no_grad():
                inputs = next_scale_inputs(autoencoder, batch_indices)
            targets = torch.cat([scale.flatten(1) for scale in batch_indices], dim=1)
            drop = null_rows[batch] | (torch.rand(len(batch), generator=generator).to(device) < dropout)
            logits = transformer(inputs, conditions[batch], drop)
            loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach())
            batches += 1
        seconds = time.perf_counter() - start
        return {
            "token_loss": total / batches,
            "loss_per_architecture": tokens_per_row * total / batches,
            "tokens_per_second": len(conditions) * tokens_per_row / seconds,
        }

    transformer.train()
    try:
        return run_epochs(
            "stage 2: scale transformer",
            epochs,
            train_epoch,
            optimizer,
            schedule,
            generator,
            progress=progress,
            resume=resume,
            on_epoch=on_epoch,
        )
    finally:
        transformer.eval().to("cpu")
        autoencoder.to("cpu")


def timed(function, *args, **kwargs):
    """(result, seconds) of one call; used to report training time per stage."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start
