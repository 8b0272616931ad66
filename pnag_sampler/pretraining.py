"""Train a PNAG model on a benchmark's architectures and scores, reproducibly.

The training set is described, not listed: space, tasks, fraction and seed. The description is
stored in the checkpoint so that anyone can rebuild the exact set (to measure novelty against
it, or to check that a benchmark on task X never used X's scores).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from pnag_sampler.data import benchmark_for_task, get_benchmark
from pnag_sampler.data.benchmark import Benchmark
from pnag_sampler.errors import UnknownNameError
from pnag_sampler.generator import PNAG, TrainingReport, performance_quantiles
from pnag_sampler.model.autoencoder import AutoencoderConfig
from pnag_sampler.model.condition import ConditionLayout
from pnag_sampler.spaces import get_space
from pnag_sampler.spaces.base import Dag, SearchSpace


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

    def load(self) -> tuple[list[Dag], np.ndarray, list[str]]:
        """(architectures, performance quantiles over the tasks' validation scores, strings)."""
        benchmark = self.benchmark()
        rows = self.rows()
        architectures = benchmark.architectures()
        strings = benchmark.strings()
        scores = {task: benchmark.validation(task)[rows] for task in self.resolved_tasks()}
        return [architectures[r] for r in rows], performance_quantiles(scores), [strings[r] for r in rows]

    def strings(self) -> list[str]:
        """Canonical strings of the training architectures (what novelty is measured against)."""
        return self.load()[2]


@dataclass(frozen=True)
class SampledTrainingSet:
    """Architectures drawn from a space that has no benchmark table (DARTS, MobileNetV3,
    AutoFormer), labelled with what the space measures without training: OFA's accuracy
    predictor and latency table, or the parameter count. Like :class:`TrainingSet` it is a
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
    probes on DARTS (README, "Chain spaces"); NB201's settings reconstructed no DARTS chain."""
    return AutoencoderConfig(
        num_nodes=space.num_nodes, num_node_types=len(space.node_types), scales=space.generation_scales,
        codebook_size=256, channels=16, scc_weight=0.1, edge_signal=3.0,
    )


def train_on_samples(
    training_set: SampledTrainingSet,
    *,
    autoencoder_epochs: int,
    transformer_epochs: int,
    batch_size: int = 64,
    seed: int = 0,
    progress: bool = True,
    **model_options,
) -> tuple[PNAG, TrainingReport]:
    """Both stages on a sampled set, conditioned on the space's ``condition_measures``."""
    space = get_space(training_set.space)
    architectures = training_set.architectures()
    fields, references = training_set.conditions(architectures)
    layout = ConditionLayout(tuple((name, 1) for name, _ in space.condition_measures) or ConditionLayout().fields)
    model_options.setdefault("autoencoder_config", chain_autoencoder_config(space))
    model = PNAG(space, condition_layout=layout, **model_options)
    performance = fields.pop("performance", None)
    report = model.fit(
        architectures, performance, costs=fields, batch_size=batch_size,
        autoencoder_epochs=autoencoder_epochs, transformer_epochs=transformer_epochs, seed=seed, progress=progress,
    )
    model.metadata["training_set"] = {"kind": "sampled", **asdict(training_set)}
    model.metadata["condition_references"] = references
    model.metadata["generation_defaults"] = chain_generation_defaults(layout)
    return model, report


def chain_generation_defaults(layout: ConditionLayout) -> dict:
    """How chain-space generators sample unless told otherwise: for top performance where they
    know it (else for the median of each cost), classifier-free guidance 3, temperature 0.3.
    Probes of 200-300 samples of the shipped MobileNetV3 weights: 0% valid without a condition,
    9% with top performance at guidance 2, 68% at guidance 3 and temperature 0.3."""
    condition = {"performance": 1.0} if "performance" in layout.names else {"costs": {name: 0.5 for name in layout.names}}
    return {**condition, "cfg_scale": 3.0, "temperature": 0.3}


def train_on_benchmark(
    training_set: TrainingSet,
    *,
    autoencoder_epochs: int = 40,
    transformer_epochs: int = 40,
    seed: int = 0,
    progress: bool = True,
    **model_options,
) -> tuple[PNAG, TrainingReport]:
    architectures, quantiles, _ = training_set.load()
    model = PNAG(get_space(training_set.space), **model_options)
    report = model.fit(
        architectures, quantiles,
        autoencoder_epochs=autoencoder_epochs, transformer_epochs=transformer_epochs,
        seed=seed, progress=progress,
    )
    model.metadata["training_set"] = {**asdict(training_set), "tasks": list(training_set.resolved_tasks())}
    return model, report


def training_set_of(model: PNAG) -> TrainingSet | SampledTrainingSet | None:
    """The training set recorded in a model's metadata, if any."""
    recorded = model.metadata.get("training_set")
    if recorded is None:
        return None
    if recorded.get("kind") == "sampled":
        return SampledTrainingSet(recorded["space"], recorded["samples"], recorded["seed"])
    return TrainingSet(recorded["space"], tuple(recorded["tasks"]), recorded["fraction"], recorded["seed"])
