"""Transfer to unseen tasks, leave-one-dataset-out (paper Tables 1 and 5; issue 3).

    python benchmarks/transfer.py --part nb201 [--seeds 10] [--seed 0] [--quick]
    python benchmarks/transfer.py --part graph [--seeds 10] [--seed 0] [--quick]
    python benchmarks/transfer.py --part plot

For every held-out dataset X the models used were never trained on X's scores:
- NB201: the shipped ``nb201-without-X`` checkpoints (every stage: generator, task-conditioned
  transformer, surrogate), checked against their recorded training set.
- NAS-Bench-Graph: the shipped ``nasbench_graph-without-X`` folds (``ship_graph_folds.py``),
  built like NB201's: stage 1 trained on architectures only, a surrogate meta-trained on the
  other 7 datasets of the 9-operation space and a stage 2 conditioned on their scores.
  PROTEINS (5 operations, its own table) is predicted zero/few-shot by the surrogate of the
  shipped ``nasbench_graph`` weights (all 8 other datasets); it is searched in its own space by
  ``pnag bench`` (the 9-operation generator proposes architectures its table lacks).

1. Surrogate: Spearman and Kendall correlation between prediction and validation score over
   every architecture of the held-out table, with 0, 5, 20 and 50 random support results
   (mean over 5 draws).
2. Table 1 protocol, NB201: the guided search (generate under top performance, rank by the
   surrogate's expected improvement, evaluate, add the result to the support set) for up to 100
   evaluations per seed: evaluations until the best-by-validation architecture among those
   evaluated is the space's best-by-validation one, and the test accuracy of the best-by-
   validation architecture after 1, 2, 5 and 10 evaluations (mean and 95% t-interval).
   Random search on the same table is shown beside it.
3. The same on NAS-Bench-Graph after 1, 5, 10, 20 evaluations, with the regret to the
   dataset's best test score.
4. Table 5 protocol, NB201 CIFAR-10 (weights without CIFAR-10): pools of 20 generated under
   each objective (top accuracy; top accuracy within a latency cap on Pixel 3 and on Raspberry
   Pi 4, each the device's 25th latency percentile; fewest parameters, the 10th percentile),
   and each pool's accuracy, latencies and parameters, measured in the tables.
Each part writes benchmarks/results/transfer_<part>.json; ``--part plot`` draws transfer.png from both.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau, spearmanr
from tqdm.auto import tqdm

from pnag_sampler.conditioning.tasks import generate_for_task
from pnag_sampler.data import GRAPH_TASKS, get_benchmark
from pnag_sampler.data.benchmark import Benchmark
from pnag_sampler.errors import CheckpointError
from pnag_sampler.files import write_json
from pnag_sampler.generator import PNAG
from pnag_sampler.harness.problems import check_held_out, held_out_weights
from pnag_sampler.harness.summaries import interval
from pnag_sampler.search.guided import GuidedSearch
from pnag_sampler.search.options import SearchOptions

HERE = Path(__file__).resolve().parent
NB201_TASKS = ("cifar10", "cifar100", "imagenet16")
GRAPH_SPACE_TASKS = GRAPH_TASKS["nasbench_graph"]
SUPPORT_SIZES = (0, 5, 20, 50)
NB201_CHECKPOINTS = (1, 2, 5, 10)
GRAPH_CHECKPOINTS = (1, 5, 10, 20)
TABLE5_DEVICES = ("pixel3", "raspi4")


# -- models -------------------------------------------------------------------------------------
def shipped_fold(space: str, held_out: str) -> PNAG:
    """The shipped ``<space>-without-<held_out>`` weights, checked against their recorded
    training set."""
    weights = held_out_weights(space, held_out)
    check_held_out(weights, space, held_out)
    model = PNAG.load(weights, space=space)
    if model.surrogate is None:
        raise CheckpointError(f"{weights} has no surrogate; retrain it with `pnag train --init`")
    return model


# -- measurements ---------------------------------------------------------------------------------
def rank_correlations(model: PNAG, benchmark: Benchmark, task: str, seed: int, draws: int) -> dict:
    """Prediction vs validation score over the whole held-out table, by support size."""
    architectures = [model.space.from_string(text) for text in benchmark.strings()]
    scores = benchmark.validation(task)
    rng = np.random.default_rng(seed)
    result = {}
    for size in SUPPORT_SIZES:
        spearman, kendall = [], []
        for _ in range(draws if size else 1):
            rows = rng.choice(len(architectures), size, replace=False)
            mean, _ = model.surrogate.predict(architectures, [(architectures[r], float(scores[r])) for r in rows])
            spearman.append(spearmanr(mean, scores).statistic)
            kendall.append(kendalltau(mean, scores).statistic)
        result[str(size)] = {"spearman": float(np.mean(spearman)), "kendall": float(np.mean(kendall))}
    return result


def guided_rows(model: PNAG, benchmark: Benchmark, task: str, budget: int, seed: int, cfg_scale: float | None = None) -> list[int]:
    """Rows evaluated in order by the guided search (validation scores only); ``cfg_scale``
    None: the checkpoint's recorded guidance."""
    search = GuidedSearch(model, SearchOptions(seed=seed, cfg_scale=cfg_scale))
    validation = benchmark.validation(task)
    evaluated: dict[str, float] = {}
    rows = []
    for _ in range(budget):
        text = search.propose(evaluated)[0]
        row = benchmark.index(text)
        evaluated[text] = float(validation[row])
        rows.append(row)
    return rows


def best_by_validation(rows: list[int], validation: np.ndarray, test: np.ndarray) -> tuple[list[float], list[int]]:
    """Test score and row of the best-by-validation architecture after each evaluation."""
    curve, chosen, best = [], [], None
    for row in rows:
        if best is None or validation[row] > validation[best]:
            best = row
        curve.append(float(test[best]))
        chosen.append(best)
    return curve, chosen


def search_table(model: PNAG, benchmark: Benchmark, task: str, budget: int, seeds: list[int], checkpoints: tuple[int, ...]) -> dict:
    validation, test = benchmark.validation(task), benchmark.test(task)
    optimum = int(np.argmax(validation))
    methods: dict[str, dict] = {}
    for method in ("pnag", "random"):
        curves, found, seconds = [], [], []
        for seed in seeds:
            start = time.perf_counter()
            if method == "pnag":
                rows = guided_rows(model, benchmark, task, budget, seed)
            else:
                rows = list(np.random.default_rng(seed).permutation(len(validation))[:budget])
            seconds.append(time.perf_counter() - start)
            curve, chosen = best_by_validation(rows, validation, test)
            curves.append(curve)
            found.append(chosen.index(optimum) + 1 if optimum in chosen else None)
        curves = np.asarray(curves)
        methods[method] = {
            "best_test_after": {str(k): interval(curves[:, k - 1]) for k in checkpoints},
            "regret_after": {str(k): interval(float(test.max()) - curves[:, k - 1]) for k in checkpoints},
            "evaluations_to_optimum": found,
            "seconds_per_run": float(np.mean(seconds)),
        }
    return {
        "best_by_validation_test": float(test[optimum]),
        "best_test": float(test.max()),
        "budget": budget,
        "methods": methods,
    }


def table5(model: PNAG, task: str, seed: int) -> dict:
    """Pools of 20 under each objective; every number measured in the tables."""
    benchmark = get_benchmark("nb201")
    latency = {d: benchmark.cost(f"latency_ms:{d}", task) for d in TABLE5_DEVICES}
    params = benchmark.cost("params", task)
    caps = {d: float(np.percentile(values, 25)) for d, values in latency.items()}
    objectives = {
        "accuracy": {},
        **{f"accuracy, latency <= {caps[d]:.2f} ms on {d}": {f"latency_ms:{d}": caps[d]} for d in TABLE5_DEVICES},
        f"parameters <= {np.percentile(params, 10):.3f} M": {"params": float(np.percentile(params, 10))},
    }
    test = benchmark.test(task)
    pools = {}
    for name, budgets in objectives.items():
        ranked = generate_for_task(model, 20, task=task, budgets=budgets, performance=1.0, cfg_scale=2.0, seed=seed)
        rows = [benchmark.index(dag) for dag in ranked.architectures]
        pools[name] = {
            "valid": len(rows),
            "test_accuracy": {"max": float(test[rows].max()), "mean": float(test[rows].mean())} if rows else None,
            **{
                f"latency_ms:{d}": {"mean": float(latency[d][rows].mean()), "within_cap": float(np.mean(latency[d][rows] <= caps[d]))}
                for d in TABLE5_DEVICES
                if rows
            },
            "params_m": {"mean": float(params[rows].mean()), "min": float(params[rows].min())} if rows else None,
        }
    return {"task": task, "weights": "nb201-without-" + task, "caps_ms": caps, "pools": pools}


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tables = {
        **{f"nb201/{t}": v for t, v in results["nb201_search"].items()},
        **{f"graph/{t}": v for t, v in results["graph_search"].items()},
    }
    columns = 4
    figure, axes = plt.subplots(
        int(np.ceil(len(tables) / columns)), columns, figsize=(4 * columns, 3 * int(np.ceil(len(tables) / columns)))
    )
    for axis, (name, table) in zip(np.ravel(axes), tables.items()):
        for method, row in table["methods"].items():
            steps = [int(k) for k in row["regret_after"]]
            mean = np.array([row["regret_after"][str(k)]["mean"] for k in steps])
            half = np.array([row["regret_after"][str(k)]["ci95"] for k in steps])
            axis.plot(steps, mean, marker="o", label=method)
            axis.fill_between(steps, mean - half, mean + half, alpha=0.15)
        axis.set_title(name)
        axis.set_xscale("log")
        axis.set_xlabel("evaluations")
        axis.set_ylabel("regret (test)")
        axis.legend()
    for axis in np.ravel(axes)[len(tables) :]:
        axis.axis("off")
    figure.suptitle("Leave-one-dataset-out search: regret of the best-by-validation architecture (95% CI)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def nb201_part(args: argparse.Namespace, seeds: list[int]) -> dict:
    results: dict = {"surrogate_correlation": {}, "nb201_search": {}}
    nb201 = get_benchmark("nb201")
    for task in tqdm(NB201_TASKS, desc="nb201 folds"):
        model = shipped_fold("nb201", task)
        results["surrogate_correlation"][f"nb201/{task}"] = rank_correlations(model, nb201, task, args.seed, 5)
        results["nb201_search"][task] = search_table(model, nb201, task, 10 if args.quick else 100, seeds, NB201_CHECKPOINTS)
    results["table5"] = table5(shipped_fold("nb201", "cifar10"), "cifar10", args.seed)
    return results


def graph_part(args: argparse.Namespace, seeds: list[int]) -> dict:
    results: dict = {"surrogate_correlation": {}, "graph_search": {}}
    graph = get_benchmark("nasbench_graph")
    for task in tqdm(GRAPH_SPACE_TASKS[:2] if args.quick else GRAPH_SPACE_TASKS, desc="nas-bench-graph folds"):
        model = shipped_fold("nasbench_graph", task)
        results["surrogate_correlation"][f"nasbench_graph/{task}"] = rank_correlations(model, graph, task, args.seed, 5)
        results["graph_search"][task] = search_table(model, graph, task, max(GRAPH_CHECKPOINTS), seeds, GRAPH_CHECKPOINTS)
    # PROTEINS: the surrogate of the shipped nasbench_graph weights, meta-trained on all 8 datasets
    every_dataset = PNAG.pretrained("nasbench_graph")
    if "proteins" in every_dataset.metadata["training_set"]["tasks"]:
        raise CheckpointError("the shipped nasbench_graph weights were trained on PROTEINS scores")
    results["surrogate_correlation"]["nasbench_graph/proteins"] = rank_correlations(
        every_dataset,
        get_benchmark("nasbench_graph_proteins"),
        "proteins",
        args.seed,
        5,
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--part",
        choices=("nb201", "graph", "plot"),
        required=True,
        help="nb201 / graph: run, each writes its own JSON file; plot: transfer.png from both files",
    )
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="2 seeds, small budgets, 2 graph folds (a smoke run)")
    parser.add_argument("--out", help="default: benchmarks/results/transfer_<part>.json")
    args = parser.parse_args()
    if args.part == "plot":
        parts = [json.loads((HERE / "results" / f"transfer_{part}.json").read_text()) for part in ("nb201", "graph")]
        plot({key: value for part in parts for key, value in part.items()}, HERE / "results" / "transfer.png")
        return
    seeds = list(range(args.seed, args.seed + (2 if args.quick else args.seeds)))
    start = time.perf_counter()
    results = {"seeds": seeds, "quick": args.quick, **(nb201_part if args.part == "nb201" else graph_part)(args, seeds)}
    results["seconds"] = time.perf_counter() - start
    out = Path(args.out or HERE / "results" / f"transfer_{args.part}.json")
    write_json(out, results)
    print(f"wrote {out} in {results['seconds']:.0f} s")


if __name__ == "__main__":
    main()
