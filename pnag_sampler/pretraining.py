"""Train a PNAG model on a benchmark's architectures and scores, reproducibly.

The training set is described, not listed: space, tasks, fraction and seed. The description is
stored in the checkpoint so that anyone can rebuild the exact set (to measure novelty against
it, or to check that a benchmark on task X never used X's scores).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from pnag_sampler.conditioning.costs import DEVICE_SUFFIX, cost_fields, device_groups
from pnag_sampler.data import benchmark_for_task, get_benchmark
from pnag_sampler.data.benchmark import Benchmark
from pnag_sampler.errors import CheckpointError, UnknownNameError
from pnag_sampler.generator import PNAG, TrainingReport
from pnag_sampler.model.autoencoder import AutoencoderConfig
from pnag_sampler.model.condition import ConditionLayout
from pnag_sampler.model.training import timed
from pnag_sampler.quantiles import performance_quantiles
from pnag_sampler.spaces import get_space
from pnag_sampler.spaces.base import Dag, SearchSpace
from pnag_sampler.surrogates.meta import MetaSurrogate
from pnag_sampler.train_progress import TrainingProgress


@dataclass(frozen=True)
class TrainingSet:
    space: str
    #: tasks whose validation scores condition the generator; () = every task of the space's table
    tasks: tuple[str, ...] = ()
    #: share of the table's architectures used (Table 6 protocol: 0.5)
    fraction: float = 1.0
    seed: int = 0

    def benchmark(self) -> Benchmark:
        return get_benchmark(get_space(self.space).name)

    def resolved_tasks(self) -> tuple[str, ...]:
        if not self.tasks:
            return self.benchmark().tasks
        for task in self.tasks:
            if benchmark_for_task(self.space, task) is not self.benchmark():
                raise UnknownNameError(f"task '{task}' is tabulated in another space than '{self.space}'")
        return self.tasks

    def rows(self) -> np.ndarray:
        size = len(self.benchmark())
        if not 0.0 < self.fraction <= 1.0:
            raise ValueError(f"fraction must be in (0, 1], got {self.fraction}")
        if self.fraction == 1.0:
            return np.arange(size)
        count = int(round(self.fraction * size))
        return np.sort(np.random.default_rng(self.seed).permutation(size)[:count])

    def architectures(self) -> list[Dag]:
        every = self.benchmark().architectures()
        return [every[r] for r in self.rows()]

    def strings(self) -> list[str]:
        """Canonical strings of the training architectures (what novelty is measured against)."""
        every = self.benchmark().strings()
        return [every[r] for r in self.rows()]


@dataclass(frozen=True)
class SampledTrainingSet:
    """Architectures drawn from a space that has no benchmark table (DARTS, MobileNetV3,
    AutoFormer), labelled with what the space measures without training: OFA's accuracy
    predictor and latency table, or the parameter count. Like ``TrainingSet`` it is a
    description (space, samples, seed), so the exact set can be rebuilt from a checkpoint."""

    space: str
    samples: int = 8192
    seed: int = 0

    def resolved_tasks(self) -> tuple[str, ...]:
        return ()  # no task's scores: nothing a benchmark could leak

    def architectures(self) -> list[Dag]:
        return get_space(self.space).sample(np.random.default_rng(self.seed), self.samples)

    def strings(self) -> list[str]:
        """Canonical strings of the training architectures (what novelty is measured against)."""
        space = get_space(self.space)
        return [space.to_string(d) for d in self.architectures()]

    def conditions(self, architectures: list[Dag]) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
        """Each condition field's quantiles, and per field the measure's value at every
        percentile (so that a budget such as 20 ms can be turned into a quantile later)."""
        space = get_space(self.space)
        measured = space.measures(architectures)
        fields, references = {}, {}
        for field_name, measure in space.condition_measures:
            fields[field_name] = performance_quantiles({measure: measured[measure]})
            references[field_name] = {"measure": measure, "percentiles": np.percentile(measured[measure], np.arange(101)).tolist()}
        return fields, references


def chain_autoencoder_config(space: SearchSpace) -> AutoencoderConfig:
    """Stage 1 for the long chains of DARTS, MobileNetV3 and AutoFormer (17-23 nodes, up to 40
    tokens): a larger codebook of narrower codes, a stronger edge signal and a lighter SCC
    weight, so that reconstruction, not the coarse steps, dominates the loss. Chosen from short
    probes on DARTS (docs: Benchmarks, "Chain spaces"); NB201's settings reconstructed no DARTS chain."""
    return AutoencoderConfig(
        num_nodes=space.num_nodes,
        num_node_types=len(space.node_types),
        scales=space.generation_scales,
        codebook_size=256,
        channels=16,
        scc_weight=0.1,
        edge_signal=3.0,
    )


def train_on_samples(
    training_set: SampledTrainingSet,
    *,
    autoencoder_epochs: int,
    transformer_epochs: int,
    batch_size: int = 64,
    seed: int = 0,
    progress: bool = True,
    device: str = "cpu",
    tracker: TrainingProgress | None = None,
    model: PNAG | None = None,
    **model_options,
) -> tuple[PNAG, TrainingReport]:
    """Both stages on a sampled set, conditioned on the space's ``condition_measures``.
    ``tracker`` checkpoints every epoch and, with the ``model`` it read back, resumes."""
    space = get_space(training_set.space)
    architectures = training_set.architectures()
    fields, references = training_set.conditions(architectures)
    layout = ConditionLayout(tuple((name, 1) for name, _ in space.condition_measures) or ConditionLayout().fields)
    model_options.setdefault("autoencoder_config", chain_autoencoder_config(space))
    model = model or PNAG(space, condition_layout=layout, **model_options)
    performance = fields.pop("performance", None)
    common = dict(batch_size=batch_size, seed=seed, progress=progress, device=device)
    stage1, stage1_seconds = run_stage(tracker, "stage1", model, model.fit_autoencoder, architectures, epochs=autoencoder_epochs, **common)
    stage2, stage2_seconds = run_stage(
        tracker,
        "stage2",
        model,
        model.fit_transformer,
        architectures,
        performance,
        costs=fields,
        epochs=transformer_epochs,
        **common,
    )
    model.metadata.update(
        trained_architectures=len(architectures),
        autoencoder_epochs=autoencoder_epochs,
        transformer_epochs=transformer_epochs,
        seed=seed,
        training_set={"kind": "sampled", **asdict(training_set)},
        condition_references=references,
        generation_defaults=chain_generation_defaults(layout),
        training=training_record(device, stage1_seconds, stage2_seconds),
    )
    return model, TrainingReport(stage1_seconds, stage2_seconds, stage1, stage2)


def run_stage(tracker: TrainingProgress | None, stage: str, model: PNAG, fit, *args, **kwargs) -> tuple[dict[str, list[float]], float]:
    """One epoch-based stage (``fit`` is the model's method), checkpointed after every epoch
    and resumed where ``tracker`` says; a stage the tracker finished is skipped. -> (loss
    history, seconds of every run of it)."""
    if tracker is None:
        return timed(fit, *args, **kwargs)
    if not tracker.done(stage):
        history = fit(*args, **kwargs, resume=tracker.state(stage), on_epoch=tracker.callback(stage, model))
        tracker.finish(stage, model, history)
    return tracker.history(stage), tracker.seconds(stage)


def training_record(device: str, stage1_seconds: float, stage2_seconds: float) -> dict:
    """What a checkpoint says of how it was trained, beside the epochs."""
    return {
        "device": device,
        "torch_threads": torch.get_num_threads(),
        "stage1_seconds": round(stage1_seconds, 1),
        "stage2_seconds": round(stage2_seconds, 1),
    }


def chain_generation_defaults(layout: ConditionLayout) -> dict:
    """How chain-space generators sample unless told otherwise: for top performance where they
    know it (else for the median of each cost), classifier-free guidance 3, temperature 0.3.
    Probes of 200-300 samples of the shipped MobileNetV3 weights: 0% valid without a condition,
    9% with top performance at guidance 2, 68% at guidance 3 and temperature 0.3."""
    condition = {"performance": 1.0} if "performance" in layout.names else {"costs": {name: 0.5 for name in layout.names}}
    return {**condition, "cfg_scale": 3.0, "temperature": 0.3}


#: support sets drawn per task to condition stage 2 on task embeddings, and their largest size
TASK_EMBEDDINGS_PER_TASK = 256
MAX_SUPPORT = 50
#: stage-2 rows per architecture (each with another of its tasks): keeps an epoch affordable
#: with NAS-Bench-Graph's 8 tasks, while every task still meets every part of the space
TASKS_PER_ARCHITECTURE = 2


def benchmark_condition_layout(benchmark: Benchmark, surrogate: MetaSurrogate | None) -> ConditionLayout:
    """Performance alone without a surrogate; with one, also its task embedding and every cost
    the table can condition on (NB201: parameters, and latency with its device)."""
    if surrogate is None:
        return ConditionLayout()
    return ConditionLayout((("performance", 1), ("task", surrogate.config.task_dim), *cost_fields(benchmark.condition_costs())))


def task_condition_rows(
    benchmark: Benchmark,
    rows: np.ndarray,
    tasks: Sequence[str],
    surrogate: MetaSurrogate,
    seed: int,
) -> tuple[list[Dag], np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Stage-2 rows, one per (architecture, task) for ``TASKS_PER_ARCHITECTURE`` random tasks
    of each architecture: the architectures, their performance quantile in that task, an
    embedding of the task from a random support set of 0..50 of its architectures, and cost
    quantiles (where a cost has devices: on one random device per row, and which one)."""
    rng = np.random.default_rng(seed)
    architectures = [benchmark.architectures()[r] for r in rows]
    costs = benchmark.condition_costs()
    performance, embeddings = [], []
    cost_rows: dict[str, list[np.ndarray]] = {name: [] for name in costs}
    for task in tasks:
        scores = benchmark.validation(task)[rows]
        bank = np.stack(
            [
                surrogate.task_embedding([(architectures[i], scores[i]) for i in rng.choice(len(rows), size, replace=False)])
                for size in rng.integers(0, MAX_SUPPORT + 1, TASK_EMBEDDINGS_PER_TASK)
            ]
        )
        performance.append(performance_quantiles({task: scores}))
        embeddings.append(bank[rng.integers(len(bank), size=len(rows))])
        for name in costs:
            cost_rows[name].append(performance_quantiles({name: benchmark.cost(name, task)[rows]}))
    # keep[t, i]: architecture i has a row for task t
    order = np.argsort(rng.random((len(tasks), len(rows))), axis=0)
    keep = (order < TASKS_PER_ARCHITECTURE).ravel()
    columns = {name: np.concatenate(parts)[keep] for name, parts in cost_rows.items() if ":" not in name}
    for prefix, members in device_groups(costs).items():
        device = rng.integers(len(members), size=int(keep.sum()))
        quantiles = np.stack([np.concatenate(cost_rows[name])[keep] for name in members], axis=1)
        columns[prefix] = quantiles[np.arange(len(device)), device]
        columns[prefix + DEVICE_SUFFIX] = np.eye(len(members))[device]
    kept = [architectures[i % len(rows)] for i in np.flatnonzero(keep)]
    return kept, np.concatenate(performance)[keep], np.concatenate(embeddings)[keep], columns


def train_on_benchmark(
    training_set: TrainingSet,
    *,
    autoencoder_epochs: int = 40,
    transformer_epochs: int = 40,
    surrogate_steps: int = 1500,
    init: PNAG | None = None,
    batch_size: int = 256,
    seed: int = 0,
    progress: bool = True,
    device: str = "cpu",
    tracker: TrainingProgress | None = None,
    model: PNAG | None = None,
    **model_options,
) -> tuple[PNAG, TrainingReport]:
    """Every stage on the training set's tasks, and on nothing else: stage 1 on the
    architectures, the task-aware surrogate on the tasks' validation scores, stage 2 on one row
    per (architecture, task) conditioned on performance, task embedding and costs.

    ``surrogate_steps=0`` trains no surrogate and conditions stage 2 on the performance
    quantile averaged over the tasks, one row per architecture (the generator of the paper's
    Table 6). ``init`` continues from a checkpoint trained on a subset of these tasks: its stage 1
    is kept, its stage 2 gains the new condition fields and is trained further. ``tracker``
    checkpoints every epoch and, with the ``model`` it read back, resumes."""
    benchmark = training_set.benchmark()
    tasks = training_set.resolved_tasks()
    rows = training_set.rows()
    architectures = training_set.architectures()
    with torch.random.fork_rng():  # its initial weights depend on the seed alone, also when resumed
        torch.manual_seed(seed)
        surrogate = MetaSurrogate(benchmark.space) if surrogate_steps else None
    layout = benchmark_condition_layout(benchmark, surrogate)
    common = dict(batch_size=batch_size, seed=seed, progress=progress, device=device)
    if init is not None:
        _require_within(init, training_set)
    if model is None:
        model = init.with_condition_layout(layout) if init is not None else PNAG(benchmark.space, condition_layout=layout, **model_options)
    stage1, stage1_seconds = (
        ({}, 0.0)
        if init is not None
        else run_stage(
            tracker,
            "stage1",
            model,
            model.fit_autoencoder,
            architectures,
            epochs=autoencoder_epochs,
            **common,
        )
    )
    surrogate_history, surrogate_seconds = {}, 0.0
    if surrogate is not None:
        scores = {task: benchmark.validation(task)[rows] for task in tasks}
        if tracker is not None and tracker.done("surrogate"):
            surrogate_history, surrogate_seconds = tracker.history("surrogate"), tracker.seconds("surrogate")
        else:
            if tracker is not None:
                tracker.start("surrogate")
            surrogate_history, surrogate_seconds = timed(
                surrogate.fit, architectures, scores, steps=surrogate_steps, seed=seed, progress=progress
            )
            model.surrogate = surrogate
            if tracker is not None:
                tracker.finish("surrogate", model, surrogate_history)
        if model.surrogate is None:  # only a resumed checkpoint can lack it here
            raise CheckpointError("the resumed model has no surrogate, though its surrogate stage is recorded as finished")
        stage2_architectures, performance, embeddings, costs = task_condition_rows(benchmark, rows, tasks, model.surrogate, seed)
    else:
        stage2_architectures, embeddings, costs = architectures, None, {}
        performance = performance_quantiles({task: benchmark.validation(task)[rows] for task in tasks})
    stage2, stage2_seconds = run_stage(
        tracker,
        "stage2",
        model,
        model.fit_transformer,
        stage2_architectures,
        performance,
        costs=costs,
        tasks=embeddings,
        epochs=transformer_epochs,
        **common,
    )
    model.metadata.update(
        trained_architectures=len(architectures),
        autoencoder_epochs=model.metadata.get("autoencoder_epochs", 0) if init is not None else autoencoder_epochs,
        transformer_epochs=transformer_epochs,
        surrogate_steps=surrogate_steps,
        seed=seed,
        training_set={**asdict(training_set), "tasks": list(tasks)},
        training=training_record(device, stage1_seconds, stage2_seconds),
    )
    if init is not None:  # the whole lineage: each step records the one before it
        earlier = init.metadata.get("initialised_from")
        model.metadata["initialised_from"] = {
            "training_set": init.metadata["training_set"],
            "transformer_epochs": init.metadata.get("transformer_epochs"),
            **({"initialised_from": earlier} if earlier else {}),
        }
    return model, TrainingReport(stage1_seconds, stage2_seconds, stage1, stage2, surrogate_seconds, surrogate_history)


def _require_within(init: PNAG, training_set: TrainingSet) -> None:
    """``init`` must have seen no score and no architecture outside ``training_set``."""
    recorded = training_set_of(init)
    if not isinstance(recorded, TrainingSet) or recorded.space != training_set.space:
        raise CheckpointError(f"the initial checkpoint was not trained on the {training_set.space} table")
    outside = set(recorded.resolved_tasks()) - set(training_set.resolved_tasks())
    if outside:
        raise CheckpointError(f"the initial checkpoint was trained on the scores of {sorted(outside)}, outside --tasks")
    if not set(recorded.rows()) <= set(training_set.rows()):
        raise CheckpointError("the initial checkpoint was trained on architectures outside this training set")


def training_set_of(model: PNAG) -> TrainingSet | SampledTrainingSet | None:
    """The training set recorded in a model's metadata, if any."""
    recorded = model.metadata.get("training_set")
    if recorded is None:
        return None
    if recorded.get("kind") == "sampled":
        return SampledTrainingSet(recorded["space"], recorded["samples"], recorded["seed"])
    return TrainingSet(recorded["space"], tuple(recorded["tasks"]), recorded["fraction"], recorded["seed"])
