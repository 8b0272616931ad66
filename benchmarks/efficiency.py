"""Generation efficiency, PNAG against a graph-VAE generator (paper Fig. 4 left; issue 6).

    python benchmarks/efficiency.py [--seeds 10] [--seed 0] [--budget 100] [--quick]

On each NB201 dataset, with PNAG weights that never saw the dataset's scores and a graph VAE
(benchmarks/graph_vae.py) trained here on the architectures alone:

- once time: seconds to generate one architecture, at batch 1 (median of 20 calls) and per
  architecture in batches of 100;
- validity of the architectures each generator returns, among those a search looked at (the
  VAE's unrepaired; PNAG's as ``generate`` delivers them, whose raw NB201 output is valid too);
- a search that evaluates the generated architectures in generated order (batches of 100,
  distinct valid ones, up to ``budget`` evaluations; "guided by random" in the paper's words),
  and PNAG's full guided search (generate, rank by the surrogate, evaluate; the pool cache is
  off, so each run generates its pools): the wall-clock
  until the run's best-by-validation architecture was found (generation and ranking; the table
  lookups are free), the evaluations that took, and the regret after 10 and ``budget``
  evaluations. Each sampler's own suggestion time is in the harness results
  (``pnag bench suite``, seconds per evaluation).

PNAG is conditioned as its checkpoint records (top performance); the VAE is unconditional, as
a generator that knows nothing of scores. Writes benchmarks/results/efficiency.json.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from graph_vae import GraphVAE
from tqdm.auto import tqdm

from pnag_sampler.data import get_benchmark
from pnag_sampler.files import write_json
from pnag_sampler.generator import PNAG
from pnag_sampler.harness.problems import check_held_out, held_out_weights
from pnag_sampler.harness.summaries import interval
from pnag_sampler.search.guided import GuidedSearch
from pnag_sampler.search.options import SearchOptions
from pnag_sampler.spaces.base import Dag

HERE = Path(__file__).resolve().parent
TASKS = ("cifar10", "cifar100", "imagenet16")
BATCH = 100

Generate = Callable[[int, int], list[Dag]]  # (n, seed) -> architectures, invalid ones included


def once_time(generate: Generate) -> dict[str, float]:
    generate(1, 0)  # warm-up
    single = []
    for seed in range(20):
        start = time.perf_counter()
        generate(1, seed)
        single.append(time.perf_counter() - start)
    start = time.perf_counter()
    generate(BATCH, 0)
    return {"batch1_seconds": float(np.median(single)), "per_architecture_in_batches_of_100": (time.perf_counter() - start) / BATCH}


def generated_order_search(generate: Generate, space, validation: np.ndarray, index, seed: int, budget: int) -> dict:
    """Evaluate distinct valid generated architectures in generated order; timestamps per evaluation."""
    rows, stamps, generated, valid = [], [], 0, 0
    seen: set[str] = set()
    start = time.perf_counter()
    for round_index in range(50):
        batch = generate(BATCH, seed * 1000 + round_index)
        for dag in batch:
            generated += 1  # counted as looked at: the search may stop within a batch
            if space.problem(dag) is not None:
                continue
            valid += 1
            text = space.to_string(dag)
            if text in seen:
                continue
            seen.add(text)
            rows.append(index(text))
            stamps.append(time.perf_counter() - start)
            if len(rows) == budget:
                break
        if len(rows) == budget:
            break
    return {"rows": rows, "seconds_at": stamps, "generated": generated, "valid": valid}


def guided_search(model: PNAG, validation: np.ndarray, index, seed: int, budget: int) -> dict:
    search = GuidedSearch(model, SearchOptions(seed=seed, pool_size=256))
    evaluated: dict[str, float] = {}
    rows, stamps = [], []
    start = time.perf_counter()
    for _ in range(budget):
        text = search.propose(evaluated)[0]
        row = index(text)
        evaluated[text] = float(validation[row])
        rows.append(row)
        stamps.append(time.perf_counter() - start)
    return {"rows": rows, "seconds_at": stamps}


def summarise(runs: list[dict], validation: np.ndarray, test: np.ndarray, budget: int) -> dict:
    best = float(test.max())
    found, seconds, regret10, regret_end = [], [], [], []
    for run in runs:
        scores = validation[run["rows"]]
        first = int(np.flatnonzero(scores == scores.max())[0])
        found.append(first + 1)
        seconds.append(run["seconds_at"][first])
        chosen = [run["rows"][int(np.argmax(scores[:k]))] for k in (min(10, len(scores)), len(scores))]
        regret10.append(best - float(test[chosen[0]]))
        regret_end.append(best - float(test[chosen[1]]))
    summary = {
        "evaluations": interval([len(r["rows"]) for r in runs]),
        "evaluations_to_best": interval(found),
        "seconds_to_best": interval(seconds),
        "regret_after_10": interval(regret10),
        f"regret_after_{budget}": interval(regret_end),
    }
    if "generated" in runs[0]:
        summary["validity_percent"] = interval([100.0 * r["valid"] / r["generated"] for r in runs])
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--vae-epochs", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="1 dataset, 2 seeds, budget 20, 2 VAE epochs")
    parser.add_argument("--out", default=str(HERE / "results" / "efficiency.json"))
    args = parser.parse_args()
    os.environ["PNAG_CACHE_DIR"] = "off"  # every guided search generates its own pools, and is timed doing it
    tasks = TASKS[:1] if args.quick else TASKS
    seeds = list(range(args.seed, args.seed + (2 if args.quick else args.seeds)))
    budget = 20 if args.quick else args.budget
    benchmark = get_benchmark("nb201")
    space = benchmark.space

    vae = GraphVAE(space.node_types, len(benchmark.architectures()[0].ops))
    start = time.perf_counter()
    vae_history = vae.fit(benchmark.architectures(), epochs=2 if args.quick else args.vae_epochs, seed=args.seed)
    results = {
        "seeds": seeds,
        "budget": budget,
        "quick": args.quick,
        "graph_vae": {"training_seconds": time.perf_counter() - start, "epochs": len(vae_history), "loss": vae_history},
        "tasks": {},
    }
    vae_generate: Generate = lambda n, seed: vae.generate(n, seed=seed)  # noqa: E731
    results["graph_vae"]["once_time"] = once_time(vae_generate)
    for task in tqdm(tasks, desc="datasets"):
        weights = held_out_weights("nb201", task)
        check_held_out(weights, "nb201", task)
        model = PNAG.load(weights, space="nb201")
        options = model.generation_defaults() or {"performance": 1.0, "cfg_scale": 2.0}
        pnag_generate: Generate = lambda n, seed, model=model, options=options: model.generate(n, **options, seed=seed).architectures  # noqa: E731
        validation, test = benchmark.validation(task), benchmark.test(task)
        index = benchmark.index
        runs = {
            "pnag (generated order)": [generated_order_search(pnag_generate, space, validation, index, s, budget) for s in seeds],
            "graph-vae (generated order)": [generated_order_search(vae_generate, space, validation, index, s, budget) for s in seeds],
            "pnag (guided search)": [guided_search(model, validation, index, s, budget) for s in seeds],
        }
        results["tasks"][task] = {
            "pnag_once_time": once_time(pnag_generate),
            "methods": {
                name: {**summarise(method_runs, validation, test, budget), "runs": method_runs} for name, method_runs in runs.items()
            },
        }
    write_json(args.out, results)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
