"""HPOLib (FCNet, 4 regression datasets): PNAG's transfer across datasets against Optuna's samplers.

    python benchmarks/hpolib.py [--seeds 10] [--budget 50] [--untold-trials 100] [--online-seeds 0] [--jobs 2]
                                [--parts generator,transfer,untold]

0. The generator of each checkpoint (``hpolib`` and the four folds): stage-1 exact
   reconstruction of 1,000 uniform configurations; raw, paper-comparable and delivered
   validity, uniqueness and novelty of 1,000 generated ones, unconditional and under the
   search's top condition, with the mean validation MSE of the distinct delivered ones on the
   fold's held-out dataset next to the space's mean.
1. Leave one dataset out: on each dataset, ``pnag`` (PNAGSampler with the ``hpolib`` weights
   trained on the other three datasets' scores), ``surrogate+uniform`` (the same surrogate
   ranking a uniform pool: what the generator adds), RandomSampler, TPESampler and GPSampler,
   each a real Optuna study over the nine ``suggest_*`` calls a user writes
   (``suggest_architecture(trial, "hpolib")``; a value between the tabulated ones counts as the
   nearest). Regret: the mean validation loss (MSE, mean over the table's 4 seeds) of the
   best trial so far minus the dataset's best, after 10 and ``--budget`` evaluations; and on
   how many seeds each method ends at a local optimum of the table (``ends_at_local_optimum``).
2. Told nothing: the same nine parameters under other names, so that no checkpoint knows them,
   ``--untold-trials`` trials: PNAGSampler as shipped (such a space goes to TPESampler(seed))
   against TPESampler, and with ``--online-seeds`` also PNAG learned online (the opt-in).

Writes benchmarks/results/hpolib.json (``--parts`` reruns some parts and keeps the others) and
hpolib.png (regret against evaluations per dataset).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from pnag_sampler.data import HPOLIB_TASKS as TASKS
from pnag_sampler.files import write_json
from pnag_sampler.harness.problems import FAILED, Job, Problem, Run, held_out_weights, run_jobs
from pnag_sampler.harness.summaries import regret_summary

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
METHODS = ("pnag", "surrogate+uniform", "random", "tpe", "gp")
CHECKPOINTS = (1, 10, 50, 100)


def generator(n: int = 1000, seed: int = 0) -> dict:
    """Part 0: what each checkpoint's stage 1 reconstructs and its generator delivers."""
    from more_spaces import stage1_reconstruction

    from pnag_sampler.data import get_benchmark
    from pnag_sampler.generator import PNAG
    from pnag_sampler.metrics import generation_report
    from pnag_sampler.pretraining import training_set_of

    table = get_benchmark("hpolib")
    space = table.space
    results = {}
    for held_out in (None, *TASKS):
        model = PNAG.pretrained("hpolib") if held_out is None else PNAG.load(held_out_weights("hpolib", held_out), space="hpolib")
        training = training_set_of(model)
        strings = training.strings() if training is not None else []
        rows: dict = {"stage1_exact": stage1_reconstruction(model, seed, n)}
        for name, options in (("unconditional", {}), ("top", {"performance": 1.0, "cfg_scale": 2.0})):
            generation = model.generate(n, seed=seed, **options)
            rows[name] = generation_report(generation, strings)
            if held_out is not None:
                loss = -table.validation(held_out)
                distinct = {space.to_string(d) for d in generation.architectures}
                rows[name]["held_out_mean_val_loss_of_distinct"] = float(np.mean([loss[table.index(t)] for t in distinct]))
                rows[name]["held_out_space_mean_val_loss"] = float(loss.mean())
        results[held_out or "all datasets"] = rows
    return results


def transfer(seeds: int, budget: int, jobs: int) -> dict:
    """Part 1: every (method, dataset, seed) as a harness job; regret per dataset."""
    work = [Job(m, "hpolib", task, s, budget, held_out_weights("hpolib", task)) for task in TASKS for m in METHODS for s in range(seeds)]
    runs = {(job.method, job.task, job.seed): run for job, run in run_jobs(work, workers=jobs, desc="hpolib studies")}
    results = {}
    for task in TASKS:
        problem = Problem.of("hpolib", task)
        curves = {m: [runs[m, task, s].best_test(problem, budget) for s in range(seeds)] for m in METHODS}
        best = float(problem.test.max())
        results[task] = {
            "best_val_loss": -best,
            "summary": regret_summary(curves, best, [k for k in CHECKPOINTS if k <= budget]),
            "regret_curves": {m: (best - np.mean(c, axis=0)).tolist() for m, c in curves.items()},
            "seconds_per_study": {m: float(np.mean([runs[m, task, s].seconds for s in range(seeds)])) for m in METHODS},
            "ends_at_local_optimum": {
                m: sum(ends_at_local_optimum(problem, runs[m, task, s], budget) for s in range(seeds)) for m in METHODS
            },
        }
    return results


def ends_at_local_optimum(problem: Problem, run: Run, budget: int) -> bool:
    """Whether a run's best configuration after ``budget`` results (by validation) is a local
    optimum of the table: no configuration one parameter change away validates better. A search
    that proposes only around its best result stalls there."""
    validation, table = problem.validation, problem.benchmark
    best = max((row for row in run.rows[:budget] if row != FAILED), key=validation.__getitem__)
    neighbours = table.space.neighbours(table.architectures()[best])
    return all(validation[table.index(dag)] <= validation[best] for dag in neighbours)


def untold(seeds: int, trials: int, online_seeds: int) -> dict:
    """Part 2: the nine parameters renamed (``x_<name>``), so no checkpoint recognises them."""
    import optuna
    from pnag_sampler.adapters.optuna import suggest_parameter

    from pnag_sampler import PNAGSampler
    from pnag_sampler.data import get_benchmark
    from pnag_sampler.search.options import OnlineTraining
    from pnag_sampler.search.tpe import optuna_distribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    table = get_benchmark("hpolib")
    space = table.space
    samplers = {
        "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
        "pnag": lambda seed: PNAGSampler(seed=seed),
        "pnag-online": lambda seed: PNAGSampler(seed=seed, online_training=OnlineTraining()),
    }
    results: dict = {}
    for task in TASKS:
        loss = -table.validation(task)

        def objective(trial: optuna.Trial, loss: np.ndarray = loss) -> float:
            values = {p.name: suggest_parameter(trial, f"x_{p.name}", optuna_distribution(p)) for p in space.hyperparameters}
            return float(loss[table.index(space.from_configuration(values))])

        rows = {}
        for name, make in samplers.items():
            count = online_seeds if name == "pnag-online" else seeds
            best, seconds = [], []
            for seed in range(count):
                study = optuna.create_study(sampler=make(seed))
                start = time.perf_counter()
                study.optimize(objective, n_trials=trials)
                seconds.append(time.perf_counter() - start)
                best.append(float(study.best_value))
            if count:
                rows[name] = {"best_per_seed": best, "mean_best": float(np.mean(best)), "seconds_per_study": float(np.mean(seconds))}
        rows["pnag_identical_to_tpe"] = rows["pnag"]["best_per_seed"] == rows["tpe"]["best_per_seed"]
        results[task] = rows
    return results


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(10, 7))
    for ax, (task, rows) in zip(axes.ravel(), results.items()):
        for method, curve in rows["regret_curves"].items():
            ax.plot(np.arange(1, len(curve) + 1), np.maximum(curve, 1e-12), label=method)
        ax.set(xscale="log", yscale="log", title=task, xlabel="evaluations", ylabel="regret of validation MSE (mean over seeds)")
    axes[0, 0].legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=50)
    parser.add_argument("--untold-trials", type=int, default=100)
    parser.add_argument("--online-seeds", type=int, default=0, help="seeds of PNAG learned online in part 2 (minutes per study)")
    parser.add_argument("--jobs", type=int, default=2, help="processes for part 1")
    parser.add_argument("--parts", default="generator,transfer,untold", help="comma-separated parts to (re)run")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "hpolib.json")
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    unknown = parts - {"generator", "transfer", "untold"}
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}")
    results = json.loads(args.out.read_text()) if args.out.exists() and parts != {"generator", "transfer", "untold"} else {}
    if "generator" in parts:
        load, started = os.getloadavg()[0], time.time()
        results["generator"] = {"checkpoints": generator(), "load_average_at_start": load, "seconds": time.time() - started}
    if "transfer" in parts:  # the load beside the timings
        results.update(cpus=os.cpu_count(), load_average_at_start=os.getloadavg()[0])
        started = time.time()
        results.update(seeds=args.seeds, budget=args.budget, transfer=transfer(args.seeds, args.budget, args.jobs))
        plot(results["transfer"], args.out.with_suffix(".png"))
        results["wall_seconds"] = time.time() - started
    if "untold" in parts:
        load, started = os.getloadavg()[0], time.time()
        datasets = untold(args.seeds, args.untold_trials, args.online_seeds)
        results["untold"] = {
            "trials": args.untold_trials,
            "datasets": datasets,
            "load_average_at_start": load,
            "seconds": time.time() - started,
        }
    write_json(args.out, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
