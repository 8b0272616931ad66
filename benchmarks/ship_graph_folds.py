"""Ship the NAS-Bench-Graph leave-one-dataset-out weights ``nasbench_graph-without-<dataset>``.

    python benchmarks/ship_graph_folds.py [--seed 0] [--epochs 4] [--folds cora,citeseer] [--threads N]
    python benchmarks/ship_graph_folds.py --condition-shipped [--folds ...]

Each fold is built like NB201's, never seeing the held-out dataset's scores: the shipped stage 1
(trained on architectures only), a stage 2 first trained on the null condition only, a
task-aware surrogate meta-trained on the other 7 datasets of the 9-operation space, and then
stage 2 trained further conditioned on those 7 datasets' scores (performance quantile and task
embedding, ``conditioned_fold``). ``--condition-shipped`` runs only that last
step on the folds already in the held-out package (how the shipped folds were made: their
decoders had been refitted by ``ship_structured_decoders.py``, which the conditioning keeps).
``pnag bench search --space nasbench_graph --dataset X`` and ``pnag study`` find them by name,
and refuse them on X.

Writes ``benchmarks/results/train_nasbench_graph_without_<dataset>.json`` per fold: the step's
rows, epochs, seconds and losses, and 1,000 samples under the search's pool settings before and
after it (raw and delivered validity, unique valid per 1,000, and the held-out dataset's mean
validation accuracy of the delivered samples beside that of 1,000 uniform samples).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from pnag_sampler.data import GRAPH_TASKS, get_benchmark
from pnag_sampler.data.benchmark import Benchmark
from pnag_sampler.errors import CheckpointError
from pnag_sampler.files import write_json
from pnag_sampler.generator import PNAG
from pnag_sampler.metrics import generation_report
from pnag_sampler.pretraining import TrainingSet, benchmark_condition_layout, task_condition_rows
from pnag_sampler.search.options import SearchOptions
from pnag_sampler.surrogates.meta import MetaSurrogate

HERE = Path(__file__).resolve().parent
CACHE = HERE / "cache"
RESULTS = HERE / "results"
#: the held-out package in this checkout (reinstall it, `pip install ./benchmarks/heldout_weights`, to use new folds)
HELD_OUT_WEIGHTS = HERE / "heldout_weights" / "pnag_sampler_heldout" / "weights"
GRAPH_SPACE_TASKS = GRAPH_TASKS["nasbench_graph"]
#: the score-free generator's null-condition stage-2 epochs, and the fold surrogates' meta-training steps
GRAPH_GENERATOR_EPOCHS, GRAPH_SURROGATE_STEPS = 3, 1500
#: conditioned stage-2 epochs over 52,412 rows (2 of the 7 tasks per architecture)
CONDITIONED_EPOCHS = 4
SAMPLES = 1000


def score_free_graph_generator(epochs: int, seed: int, progress: bool) -> PNAG:
    """Stage 1 from the shipped weights (trained on architectures only) and a stage 2 trained
    on the null condition only: a generator that has seen no score of any dataset."""
    folder = CACHE / f"nasbench_graph-score-free-e{epochs}-s{seed}"
    try:
        return PNAG.load(folder, space="nasbench_graph")
    except CheckpointError:
        pass
    shipped = PNAG.pretrained("nasbench_graph")
    model = PNAG(shipped.space, autoencoder_config=shipped.autoencoder_config)
    model.autoencoder.load_state_dict(shipped.autoencoder.state_dict())
    architectures = get_benchmark("nasbench_graph").architectures()
    model.fit_transformer([], unconditioned=architectures, epochs=epochs, seed=seed, progress=progress)
    model.metadata.update(generation_defaults={"performance": None}, stage1="shipped nasbench_graph (architectures only)")
    model.save(folder)
    return model


def graph_fold(base: PNAG, held_out: str, steps: int, seed: int, progress: bool) -> PNAG:
    """The score-free generator with a surrogate meta-trained on the other datasets."""
    tasks = tuple(t for t in GRAPH_SPACE_TASKS if t != held_out)
    folder = CACHE / f"nasbench_graph-surrogate-without-{held_out}-n{steps}-s{seed}"
    try:
        model = PNAG.load(folder, space="nasbench_graph")
    except CheckpointError:
        benchmark = get_benchmark("nasbench_graph")
        surrogate = MetaSurrogate(benchmark.space)
        surrogate.fit(benchmark.architectures(), {t: benchmark.validation(t) for t in tasks}, steps=steps, seed=seed, progress=progress)
        model = PNAG(base.space, autoencoder_config=base.autoencoder_config, metadata=base.metadata, surrogate=surrogate)
        model.autoencoder.load_state_dict(base.autoencoder.state_dict())
        model.transformer.load_state_dict(base.transformer.state_dict())
        model.metadata["training_set"] = asdict(TrainingSet("nasbench_graph", tasks))
        model.save(folder)
    if held_out in model.metadata["training_set"]["tasks"]:
        raise CheckpointError(f"{folder} was trained on '{held_out}' scores")
    return model


def conditioned_fold(fold: PNAG, table: Benchmark, epochs: int, seed: int, progress: bool) -> tuple[PNAG, dict]:
    """A fold's stage 2 trained further, conditioned like NB201's folds on the scores of the
    datasets it was trained on (``table`` holds them for every architecture of the fold's
    space): one row per (architecture, task) for 2 random tasks of each, with the task's
    performance quantile and an embedding of the task from a random support set (``pnag train
    --init``'s stage 2). Stage 1 and the surrogate are kept. -> (model, report of the step)."""
    tasks = tuple(fold.metadata["training_set"]["tasks"])
    if fold.surrogate is None:
        raise CheckpointError("a fold needs its surrogate to embed the tasks")
    if "conditioned_stage2" in fold.metadata:
        raise CheckpointError("this fold's stage 2 is conditioned already")
    model = fold.with_condition_layout(benchmark_condition_layout(table, fold.surrogate))
    started = time.perf_counter()
    architectures, performance, embeddings, costs = task_condition_rows(table, np.arange(len(table)), tasks, fold.surrogate, seed)
    history = model.fit_transformer(
        architectures, performance, costs=costs, tasks=embeddings, epochs=epochs, batch_size=64, seed=seed, progress=progress
    )
    seconds = time.perf_counter() - started
    model.metadata.pop("generation_defaults", None)  # it now knows the top-performance condition
    step = {"tasks": list(tasks), "rows": len(architectures), "epochs": epochs, "batch_size": 64, "seed": seed}
    step.update(seconds=round(seconds, 1), device="cpu", torch_threads=torch.get_num_threads())
    model.metadata["conditioned_stage2"] = step
    return model, {**step, "loss": history}


def pool_sample(model: PNAG, held_out: Benchmark, task: str, seed: int) -> dict:
    """What the guided search's first pool is drawn from: 1,000 samples under its settings,
    with the held-out task's mean validation score of the delivered ones."""
    settings = SearchOptions(seed=seed).generation_settings(model.generation_defaults())
    generation = model.generate(SAMPLES, **settings, seed=seed)
    rows = [held_out.index(dag) for dag in generation.architectures]
    return {
        "settings": settings,
        **generation_report(generation, held_out.strings()),
        "held_out_mean_validation": float(np.mean(held_out.validation(task)[rows])),
    }


def condition_and_report(fold: PNAG, table: Benchmark, held_out: Benchmark, task: str, epochs: int, seed: int) -> tuple[PNAG, dict]:
    """``conditioned_fold`` with its pools before and after, beside uniform samples, on the
    held-out ``task`` of the ``held_out`` table."""
    before = pool_sample(fold, held_out, task, seed)
    model, step = conditioned_fold(fold, table, epochs, seed, progress=True)
    uniform = [held_out.index(dag) for dag in held_out.space.sample(np.random.default_rng(seed), SAMPLES)]
    return model, {
        "conditioned_stage2": step,
        "before": before,
        "after": pool_sample(model, held_out, task, seed),
        "uniform_mean_validation": float(np.mean(held_out.validation(task)[uniform])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=CONDITIONED_EPOCHS, help="conditioned stage-2 epochs")
    parser.add_argument("--folds", default=",".join(GRAPH_SPACE_TASKS), help="held-out datasets, comma-separated")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--condition-shipped", action="store_true", help="only condition the folds already shipped")
    parser.add_argument("--out", help="folder to write the folds into (default: the held-out package's weights)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    folds = [task for task in args.folds.split(",") if task]
    unknown = sorted(set(folds) - set(GRAPH_SPACE_TASKS))
    if unknown:
        parser.error(f"unknown datasets {unknown}; choose from {list(GRAPH_SPACE_TASKS)}")
    out = Path(args.out) if args.out else HELD_OUT_WEIGHTS
    graph = get_benchmark("nasbench_graph")
    base = None if args.condition_shipped else score_free_graph_generator(GRAPH_GENERATOR_EPOCHS, args.seed, progress=True)
    for task in tqdm(folds, desc="folds"):
        name = f"nasbench_graph-without-{task}"
        fold = (
            PNAG.load(HELD_OUT_WEIGHTS / name, space="nasbench_graph")
            if base is None
            else graph_fold(base, task, GRAPH_SURROGATE_STEPS, args.seed, progress=False)
        )
        model, report = condition_and_report(fold, graph, graph, task, args.epochs, args.seed)
        model.save(out / name)
        write_json(RESULTS / f"train_nasbench_graph_without_{task}.json", {"weights": name, **report})
        print(json.dumps({"weights": name, "seconds": report["conditioned_stage2"]["seconds"]}))


if __name__ == "__main__":
    main()
