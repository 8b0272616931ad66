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
from pnag_sampler.spaces import get_space
from pnag_sampler.spaces.base import Dag


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


def training_set_of(model: PNAG) -> TrainingSet | None:
    """The training set recorded in a model's metadata, if any."""
    recorded = model.metadata.get("training_set")
    if recorded is None:
        return None
    return TrainingSet(recorded["space"], tuple(recorded["tasks"]), recorded["fraction"], recorded["seed"])
