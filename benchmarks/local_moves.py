"""What the local moves add: PNAG's search with and without the best result's neighbours.

    python benchmarks/local_moves.py [--first-seed 100] [--seeds 20] [--graph-seeds 10] [--json]

From ``LOCAL_MOVES_AFTER`` results on, ``GuidedSearch`` adds the best result's one-change
neighbours to the generated candidates. This runs PNAGSampler (held-out weights, as in the
suite) with the moves as shipped and with them off, on seeds that no reported row uses (the
suite and ``hpolib.py`` use seeds 0-9): HPOLib's 4 datasets (budget 50) and NB201's 3
(budget 100) with ``--seeds`` seeds, NAS-Bench-Graph's 8 (budget 100) with ``--graph-seeds``.
Mean regret after 10, 50 and 100 evaluations (the first 10 proposals are the same either way).
Writes benchmarks/results/local_moves.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import optuna
from tqdm.auto import tqdm

from pnag_sampler.data import GRAPH_TASKS, HPOLIB_TASKS
from pnag_sampler.files import write_json
from pnag_sampler.harness.optuna_runs import optimize, sampler_factories
from pnag_sampler.harness.problems import Problem, held_out_weights
from pnag_sampler.harness.summaries import regret_summary
from pnag_sampler.search import guided

RESULTS = Path(__file__).resolve().parent / "results" / "local_moves.json"
CHECKPOINTS = (10, 50, 100)


def search(problem: Problem, seeds: range, budget: int, *, moves: bool) -> list[list[float]]:
    """Best-so-far curves (test score of the best by validation) of PNAG's studies."""
    shipped = guided.LOCAL_MOVES_AFTER
    guided.LOCAL_MOVES_AFTER = shipped if moves else budget + 1
    try:
        make = sampler_factories(problem.space, held_out_weights(problem.space, problem.task))["pnag"]
        return [optimize(problem, make(seed), budget).best_test(problem, budget) for seed in seeds]
    finally:
        guided.LOCAL_MOVES_AFTER = shipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first-seed", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--graph-seeds", type=int, default=10)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    seeds, graph_seeds = (range(args.first_seed, args.first_seed + n) for n in (args.seeds, args.graph_seeds))
    problems = [
        *(("hpolib", task, 50, seeds) for task in HPOLIB_TASKS),
        *(("nb201", task, 100, seeds) for task in ("cifar10", "cifar100", "imagenet16")),
        *(("nasbench_graph", task, 100, graph_seeds) for task in GRAPH_TASKS["nasbench_graph"]),
    ]
    start = time.perf_counter()
    rows = []
    for space, task, budget, problem_seeds in tqdm(problems, desc="problems"):
        problem = Problem.of(space, task)
        curves = {f"moves {state}": search(problem, problem_seeds, budget, moves=state == "on") for state in ("off", "on")}
        summary = regret_summary(curves, float(problem.test.max()), [k for k in CHECKPOINTS if k <= budget])
        rows.append(
            {
                "space": space,
                "task": task,
                "budget": budget,
                "seeds": [problem_seeds.start, problem_seeds.stop - 1],
                "regret_after": {method: {k: v["mean"] for k, v in s["regret_after"].items()} for method, s in summary.items()},
                "ci95": {method: {k: v["ci95"] for k, v in s["regret_after"].items()} for method, s in summary.items()},
            }
        )
    results = {"local_moves_after": guided.LOCAL_MOVES_AFTER, "rows": rows, "wall_seconds": time.perf_counter() - start}
    write_json(args.out, results)
    for row in rows:
        after = row["regret_after"]
        line = "  ".join(f"@{k}: {after['moves off'][k]:.4g} -> {after['moves on'][k]:.4g}" for k in after["moves on"])
        print(f"{row['space']}/{row['task']}: {line}")
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
