"""Ship ``nasbench_graph_proteins-without-proteins``: PNAG for NAS-Bench-Graph's PROTEINS table.

    python benchmarks/ship_proteins_fold.py [--seed 0] [--json]
    python benchmarks/ship_proteins_fold.py --condition-shipped [--threads 1]

PROTEINS is tabulated on its own 5-operation space (2,021 architectures), which no other dataset
shares, so the 9-operation folds (``ship_graph_folds.py``) cannot search it: their generator
proposes operations its table lacks. This fold is built like them, in the 5-operation space:

- a score-free generator: stage 1 on the 2,021 architectures, stage 2 on the null condition
  only (no score of any dataset);
- a task-aware surrogate meta-trained on the other 8 datasets' validation scores of the same
  2,021 architectures (every one of them is also a 9-operation architecture, tabulated there);
- then, as for the 9-operation folds, stage 2 trained further conditioned on those 8 datasets'
  scores (``ship_graph_folds.conditioned_fold``). ``--condition-shipped`` runs only this step
  on the shipped fold (how the shipped one was made: its decoder had been refitted by
  ``ship_structured_decoders.py``, which the conditioning keeps).

It never sees a PROTEINS score; its recorded training set (the 8 datasets of the 9-operation
table) says so, which ``pnag bench`` checks. Writes the weights into this checkout's held-out
package (`pip install ./benchmarks/heldout_weights` again to use them) and
``benchmarks/results/train_proteins_fold.json`` (times, losses, stage 1's exact reconstructions of
the 2,021, raw and delivered validity of 1,000 unconditional samples) and, for the conditioning
step, ``benchmarks/results/train_nasbench_graph_proteins_without_proteins.json`` (as
``ship_graph_folds.py`` writes per fold).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from ship_graph_folds import HELD_OUT_WEIGHTS, condition_and_report

from pnag_sampler.data import GRAPH_TASKS, get_benchmark
from pnag_sampler.data.benchmark import Benchmark
from pnag_sampler.files import write_json
from pnag_sampler.generator import PNAG
from pnag_sampler.metrics import generation_report
from pnag_sampler.pretraining import TrainingSet
from pnag_sampler.surrogates.meta import MetaSurrogate

#: 2,021 architectures: stage 1 needs more passes (and smaller batches) than the 9-operation
#: space's 26,206 to take as many steps; stage 2 about as many rows as its 3 epochs there, and
#: conditioned on the 8 datasets (2 per architecture) about as many row-steps as the 9-operation
#: folds' 4 epochs
STAGE1_EPOCHS, STAGE1_BATCH, STAGE2_EPOCHS, SURROGATE_STEPS, CONDITIONED_EPOCHS = 300, 128, 40, 1500, 50
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "train_proteins_fold.json"
CONDITIONED_RESULTS = HERE / "results" / "train_nasbench_graph_proteins_without_proteins.json"
NAME = "nasbench_graph_proteins-without-proteins"


class ProteinsCellsOnOtherDatasets(Benchmark):
    """The 2,021 PROTEINS cells, in their 5-operation space, with the 8 other datasets' scores of
    the same cells from the 9-operation table: what the fold's surrogate and conditioned stage 2
    learn from (never a PROTEINS score)."""

    def __init__(self) -> None:
        self.proteins, self.graph = get_benchmark("nasbench_graph_proteins"), get_benchmark("nasbench_graph")
        super().__init__("nasbench_graph_proteins cells on the 9-operation tasks", self.proteins.space, GRAPH_TASKS["nasbench_graph"])
        self.graph_rows = [self.graph.index(text) for text in self.proteins.strings()]

    def _load_strings(self) -> list[str]:
        return self.proteins.strings()

    def _validation(self, task: str) -> np.ndarray:
        return self.graph.validation(task)[self.graph_rows]

    def _test(self, task: str) -> np.ndarray:
        return self.graph.test(task)[self.graph_rows]

    def _cost_names(self, task: str) -> tuple[str, ...]:
        return ()

    def _cost(self, name: str, task: str) -> np.ndarray:
        raise AssertionError("no costs")  # unreachable: Benchmark.cost checks the names first


def condition(model: PNAG, cells: ProteinsCellsOnOtherDatasets, out: Path, args: argparse.Namespace) -> None:
    """The conditioning step on a score-free fold, saved to ``out``, and its report."""
    model, report = condition_and_report(model, cells, cells.proteins, "proteins", args.conditioned_epochs, args.seed)
    model.save(out)
    write_json(CONDITIONED_RESULTS, {"weights": NAME, **report})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stage1-epochs", type=int, default=STAGE1_EPOCHS)
    parser.add_argument("--stage1-batch-size", type=int, default=STAGE1_BATCH)
    parser.add_argument("--stage2-epochs", type=int, default=STAGE2_EPOCHS)
    parser.add_argument("--surrogate-steps", type=int, default=SURROGATE_STEPS)
    parser.add_argument("--conditioned-epochs", type=int, default=CONDITIONED_EPOCHS)
    parser.add_argument("--condition-shipped", action="store_true", help="only condition the shipped fold")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--out", help=f"weights folder (default: the held-out package's {NAME})")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out) if args.out else HELD_OUT_WEIGHTS / NAME
    cells = ProteinsCellsOnOtherDatasets()
    if args.condition_shipped:
        condition(PNAG.load(HELD_OUT_WEIGHTS / NAME, space="nasbench_graph_proteins"), cells, out, args)
        return

    proteins = cells.proteins
    architectures = proteins.architectures()
    tasks = cells.tasks
    times = {}

    started = time.perf_counter()
    surrogate = MetaSurrogate(proteins.space)
    surrogate_losses = surrogate.fit(
        architectures,
        {t: cells.validation(t) for t in tasks},
        steps=args.surrogate_steps,
        seed=args.seed,
        progress=not args.json,
    )
    times["surrogate"] = time.perf_counter() - started

    model = PNAG(proteins.space, surrogate=surrogate)
    started = time.perf_counter()
    stage1 = model.fit_autoencoder(
        architectures, epochs=args.stage1_epochs, batch_size=args.stage1_batch_size, seed=args.seed, progress=not args.json
    )
    times["stage1"] = time.perf_counter() - started
    started = time.perf_counter()
    stage2 = model.fit_transformer([], unconditioned=architectures, epochs=args.stage2_epochs, seed=args.seed, progress=not args.json)
    times["stage2"] = time.perf_counter() - started
    model.metadata.update(
        generation_defaults={"performance": None},
        trained_architectures=len(architectures),
        architectures="the 2,021 of nasbench_graph_proteins (stage 1, stage 2 on the null condition only)",
        autoencoder_epochs=args.stage1_epochs,
        autoencoder_batch_size=args.stage1_batch_size,
        transformer_epochs=args.stage2_epochs,
        surrogate_steps=args.surrogate_steps,
        seed=args.seed,
        # the scores it saw: the 8 other datasets, on these architectures, from the 9-operation table
        training_set=asdict(TrainingSet("nasbench_graph", tasks)),
    )
    model.save(out)

    reconstructed = model.reconstruct(architectures, projected=False)[-1]
    exact = [
        proteins.space.problem(after) is None and proteins.space.to_string(after) == text
        for after, text in zip(reconstructed, proteins.strings())
    ]
    sample = generation_report(model.generate(1000, seed=args.seed), proteins.strings())
    report = {
        "weights": str(out),
        "seed": args.seed,
        "seconds": times,
        "stage1_final_losses": {k: v[-1] for k, v in stage1.items()},
        "stage2_final_losses": {k: v[-1] for k, v in stage2.items()},
        "surrogate_final_losses": {k: v[-1] for k, v in surrogate_losses.items()},
        "stage1_exact_reconstruction_percent": 100.0 * float(np.mean(exact)),
        "generation_of_1000": sample,
    }
    write_json(RESULTS, report)
    print(json.dumps(report) if args.json else json.dumps(report, indent=2))
    condition(model, cells, out, args)


if __name__ == "__main__":
    main()
