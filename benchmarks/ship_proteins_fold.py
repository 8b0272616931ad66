"""Ship ``nasbench_graph_proteins-without-proteins``: PNAG for NAS-Bench-Graph's PROTEINS table.

    python benchmarks/ship_proteins_fold.py [--seed 0] [--json]

PROTEINS is tabulated on its own 5-operation space (2,021 architectures), which no other dataset
shares, so the 9-operation folds (``ship_graph_folds.py``) cannot search it: their generator
proposes operations its table lacks. This fold is built like them, in the 5-operation space:

- a score-free generator: stage 1 on the 2,021 architectures, stage 2 on the null condition
  only (no score of any dataset);
- a task-aware surrogate meta-trained on the other 8 datasets' validation scores of the same
  2,021 architectures (every one of them is also a 9-operation architecture, tabulated there).

It never sees a PROTEINS score; its recorded training set (the 8 datasets of the 9-operation
table) says so, which ``pnag bench`` checks. Writes the weights into the package and
``benchmarks/results/train_proteins_fold.json`` (times, losses, stage 1's exact reconstructions of
the 2,021, raw and delivered validity of 1,000 unconditional samples).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from pnag_sampler_heldout import weights_folder

from pnag_sampler.data import GRAPH_TASKS, get_benchmark
from pnag_sampler.files import write_json
from pnag_sampler.generator import PNAG
from pnag_sampler.metrics import generation_report
from pnag_sampler.pretraining import TrainingSet
from pnag_sampler.surrogates.meta import MetaSurrogate

#: 2,021 architectures: stage 1 needs more passes (and smaller batches) than the 9-operation
#: space's 26,206 to take as many steps; stage 2 about as many rows as its 3 epochs there
STAGE1_EPOCHS, STAGE1_BATCH, STAGE2_EPOCHS, SURROGATE_STEPS = 300, 128, 40, 1500
RESULTS = Path(__file__).resolve().parent / "results" / "train_proteins_fold.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stage1-epochs", type=int, default=STAGE1_EPOCHS)
    parser.add_argument("--stage1-batch-size", type=int, default=STAGE1_BATCH)
    parser.add_argument("--stage2-epochs", type=int, default=STAGE2_EPOCHS)
    parser.add_argument("--surrogate-steps", type=int, default=SURROGATE_STEPS)
    parser.add_argument("--out", help="weights folder (default: the held-out package's nasbench_graph_proteins-without-proteins)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    proteins, graph = get_benchmark("nasbench_graph_proteins"), get_benchmark("nasbench_graph")
    architectures = proteins.architectures()
    graph_rows = [graph.index(text) for text in proteins.strings()]  # the same cells in the 9-operation table
    tasks = GRAPH_TASKS["nasbench_graph"]
    times = {}

    started = time.perf_counter()
    surrogate = MetaSurrogate(proteins.space)
    surrogate_losses = surrogate.fit(
        architectures,
        {t: graph.validation(t)[graph_rows] for t in tasks},
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
    out = Path(args.out) if args.out else weights_folder() / "nasbench_graph_proteins-without-proteins"
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


if __name__ == "__main__":
    main()
