"""``pnag bench search`` and ``pnag bench suite``: search methods on benchmark tables.

``search`` runs methods of Optuna, NNI and Syne Tune (see ``pnag_sampler.harness.problems``) on one
problem for several seeds and prints one JSON object: per method, ``mean_best_test`` (the mean
over seeds of the test score of the best-by-validation architecture after each evaluation,
``budget`` numbers), the regret to the space's best test score after 1, 5, 10, 20, 50 and 100
evaluations (those within the budget; mean and 95% interval over seeds), the method's average
rank there, the raw runs (table rows in arrival order, simulated clock), and timings.

``suite`` runs every problem (NB201's 3 datasets, NAS-Bench-Graph's 9, HPOLib's 4) and writes per problem
the JSON, a plot of regret against evaluations and one against the simulated clock, plus a
summary. PNAG's weights are always held out from the problem's dataset (shipped
``<space>-without-<dataset>``, or ``--weights``); a problem without such weights runs the other
methods and says which PNAG methods it skipped and why.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import optuna

from pnag_sampler.errors import BenchmarkResultError, CheckpointError, UnknownNameError
from pnag_sampler.files import replaced_atomically, write_json
from pnag_sampler.harness.methods import ALL_METHODS, QUICK, SUITE_PROBLEMS, uses_pnag
from pnag_sampler.harness.problems import Job, Problem, Run, first_best, pnag_weights, require_known, run_all, run_jobs
from pnag_sampler.harness.summaries import interval, plot_regret, plot_regret_over_clock, regret_summary


def search(
    problem: Problem, methods: list[str], seeds: list[int], budget: int, weights: str | None = None, *, jobs: int = 1, progress: bool = True
) -> dict:
    """Every method on one problem, summarised (see the module docstring)."""
    require_known(methods, list(ALL_METHODS))
    held_out = pnag_weights(problem, methods, weights)
    started = time.perf_counter()
    runs = run_all(problem, methods, seeds, budget, held_out, jobs=jobs, progress=progress)
    return {**summarise(problem, runs, seeds, budget, held_out), "seconds": time.perf_counter() - started}


def summarise(problem: Problem, runs: dict[str, list[Run]], seeds: list[int], budget: int, weights: str | None) -> dict:
    """The JSON of one problem from its runs (``runs[method][i]``: seed i's run): curves,
    regret and ranks at the checkpoints, timings, and the raw runs themselves."""
    best = float(problem.test.max())
    curves = {m: [run.best_test(problem, budget) for run in rs] for m, rs in runs.items()}
    summary = regret_summary(curves, best)
    methods_out = {}
    for method, method_runs in runs.items():
        found = [first_best(run, problem) for run in method_runs]
        methods_out[method] = {
            "mean_best_test": np.mean(curves[method], axis=0).tolist(),
            "best_test": curves[method],
            **summary[method],
            "seconds_per_run": float(np.mean([r.seconds for r in method_runs])),
            "seconds_per_evaluation": float(np.mean([r.seconds / len(r.rows) for r in method_runs])),
            "evaluations_to_final_best": interval([i + 1 for i in found]),
            "clock_to_final_best": interval([r.finished_at[i] for r, i in zip(method_runs, found)]),
            "runs": [_run_record(s, r) for s, r in zip(seeds, method_runs)],
        }
    return {
        "space": problem.space,
        "dataset": problem.task,
        "budget": budget,
        "seeds": seeds,
        "best_in_space_test": best,
        "clock_unit": problem.cost_unit,
        "weights": weights,
        "run_seconds": float(sum(r.seconds for rs in runs.values() for r in rs)),
        "methods": methods_out,
    }


def _foreign(path: Path, error: Exception) -> BenchmarkResultError:
    return BenchmarkResultError(f"{path} is not a result of `pnag bench` ({error!r}); move it away or write to another --out")


def _run_record(seed: int, run: Run) -> dict:
    return {"seed": seed, "rows": run.rows, "finished_at": run.finished_at, "seconds": run.seconds}


def stored_runs(path: Path, budget: int) -> dict[str, dict[int, Run]]:
    """The runs a problem's JSON (or the suite's partial file of an unfinished problem) already
    holds, ``[method][seed]``; empty if there is no file."""
    if not path.exists():
        return {}
    try:
        result = json.loads(path.read_text())
        stored_budget = result["budget"]
        runs = {
            method: {int(run["seed"]): Run(list(run["rows"]), list(run["finished_at"]), float(run["seconds"])) for run in row["runs"]}
            for method, row in result["methods"].items()
        }
    except (ValueError, KeyError, TypeError) as error:
        raise _foreign(path, error) from error
    if stored_budget != budget:
        raise BenchmarkResultError(
            f"{path} holds runs of budget {stored_budget}, not {budget}; resume with --budget {stored_budget}, or write to another --out"
        )
    return runs


def plot_search(result: dict, problem: Problem, regret_path: str | Path, clock_path: str | Path | None = None) -> None:
    """Regret against evaluations and, if asked, against the simulated clock (PNG files)."""
    title = f"{result['space']} / {result['dataset']}, {len(result['seeds'])} seeds (band: 95% CI)"
    curves = {m: row["best_test"] for m, row in result["methods"].items()}
    with replaced_atomically(regret_path) as staging:
        plot_regret(curves, result["best_in_space_test"], title, str(staging))
    if clock_path is not None:
        timed = {
            m: [(run["finished_at"], curve) for run, curve in zip(row["runs"], row["best_test"])] for m, row in result["methods"].items()
        }
        with replaced_atomically(clock_path) as staging:
            plot_regret_over_clock(timed, result["best_in_space_test"], problem.cost_unit, title, str(staging))


@dataclass
class _ProblemPlan:
    problem: Problem
    methods: list[str]
    skipped: dict[str, str]
    weights: str | None
    #: runs[method][seed]: finished runs, stored ones first
    runs: dict[str, dict[int, Run]]
    reused: int

    @property
    def name(self) -> str:
        return f"{self.problem.space}-{self.problem.task}"


def _partial_path(out: Path, name: str) -> Path:
    """Where the suite keeps the finished runs of a problem that is not finished yet."""
    return out / f"{name}.partial.json"


def _plan(
    space: str, task: str, methods: list[str], seeds: list[int], budget: int, out: Path, resume: bool, rerun: bool = False
) -> _ProblemPlan:
    """What one problem of the suite will hold: the asked methods (PNAG's skipped where no
    held-out weights exist) and, when resuming, the stored runs of the asked seeds, also of
    methods not asked for this time if they cover every seed (a slow method run separately).
    ``rerun``: the asked methods' runs in the problem's file are not reused (new weights make
    them stale); an interrupted rerun's own runs, in the partial file, still are."""
    problem = Problem.of(space, task)
    stored: dict[str, dict[int, Run]] = {}
    if resume:
        final = out / f"{problem.space}-{task}.json"
        for path in (final, _partial_path(out, f"{problem.space}-{task}")):
            for method, method_runs in stored_runs(path, budget).items():
                if not (rerun and path == final and method in methods):
                    stored.setdefault(method, {}).update(method_runs)
    wanted = [m for m in ALL_METHODS if m in methods or (m in stored and all(s in stored[m] for s in seeds))]
    skipped, weights = {}, None
    try:
        weights = pnag_weights(problem, wanted, None)
    except CheckpointError as error:
        skipped = {m: str(error) for m in wanted if uses_pnag(m)}
    chosen = [m for m in wanted if m not in skipped]
    runs = {m: {s: stored[m][s] for s in seeds if s in stored.get(m, {})} for m in chosen}
    return _ProblemPlan(problem, chosen, skipped, weights, runs, sum(len(r) for r in runs.values()))


def _summary_row(result: dict) -> dict:
    """What ``summary.json`` keeps of one problem's result."""
    return {
        "best_in_space_test": result["best_in_space_test"],
        "run_seconds": result["run_seconds"],
        "skipped": sorted(result.get("skipped", {})),
        "methods": {
            m: {
                k: row[k]
                for k in (
                    "regret_after",
                    "average_rank_after",
                    "seconds_per_evaluation",
                    "evaluations_to_final_best",
                    "clock_to_final_best",
                )
            }
            for m, row in result["methods"].items()
        },
    }


def _folder_table(out: Path, table: dict[str, dict], budget: int, seeds: list[int]) -> dict[str, dict]:
    """Summary rows of every suite problem in ``out``, in the suite's order: this invocation's
    (``table``), and those of earlier invocations with the same budget and seeds."""
    rows = {}
    for space, task in SUITE_PROBLEMS:
        name, path = f"{space}-{task}", out / f"{space}-{task}.json"
        if name in table:
            rows[name] = table[name]
        elif path.exists():
            try:
                result = json.loads(path.read_text())
                if (result["budget"], result["seeds"]) == (budget, seeds):
                    rows[name] = _summary_row(result)
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                raise _foreign(path, error) from error
    return rows


def _previous_invocations(path: Path) -> dict | None:
    """What an earlier suite in the same folder ran and how long it took (its summary without
    the tables, and its own ``previous``), so that a resumed suite still says what the runs it
    reuses cost in wall-clock time."""
    if not path.exists():
        return None
    try:
        earlier = json.loads(path.read_text())
        return {k: v for k, v in earlier.items() if k != "problems"}
    except (ValueError, AttributeError) as error:
        raise _foreign(path, error) from error


def suite(
    problems,
    methods: list[str],
    seeds: list[int],
    budget: int,
    out: Path,
    *,
    jobs: int,
    progress: bool,
    resume: bool = False,
    rerun: bool = False,
) -> dict:
    """Every problem; per problem a JSON file and two plots in ``out``, and ``out/summary.json``
    (the tables of every problem whose file ``out`` holds, this invocation's and earlier ones').

    All runs share one pool of ``jobs`` processes, problem after problem, and each problem's
    files are written as soon as its last run finishes; until then, its finished runs are kept
    in ``<problem>.partial.json``, so that an interrupted suite loses no run. ``resume`` reuses
    the runs that the problems' files in ``out`` already hold and runs only the missing ones;
    with ``rerun``, those of the asked methods are run again."""
    require_known(methods, list(ALL_METHODS))
    started = time.perf_counter()
    plans = {plan.name: plan for plan in (_plan(space, task, methods, seeds, budget, out, resume, rerun) for space, task in problems)}
    work = [
        Job(m, plan.problem.space, plan.problem.task, s, budget, plan.weights)
        for plan in plans.values()
        for m in plan.methods
        for s in seeds
        if s not in plan.runs[m]
    ]
    missing = Counter(f"{job.space}-{job.task}" for job in work)
    table: dict[str, dict] = {}

    def finish(plan: _ProblemPlan) -> None:
        result = summarise(plan.problem, {m: [plan.runs[m][s] for s in seeds] for m in plan.methods}, seeds, budget, plan.weights)
        result.update(skipped=plan.skipped, reused_runs=plan.reused)
        plot_search(result, plan.problem, out / f"{plan.name}-regret.png", out / f"{plan.name}-clock.png")
        write_json(out / f"{plan.name}.json", result)
        _partial_path(out, plan.name).unlink(missing_ok=True)
        table[plan.name] = _summary_row(result)

    for plan in plans.values():
        if not missing[plan.name]:
            finish(plan)
    for job, run in run_jobs(work, workers=jobs, progress=progress, desc="suite"):
        name = f"{job.space}-{job.task}"
        plan = plans[name]
        plan.runs[job.method][job.seed] = run
        missing[name] -= 1
        if missing[name]:
            write_json(
                _partial_path(out, name),
                {
                    "budget": budget,
                    "methods": {m: {"runs": [_run_record(s, r) for s, r in sorted(runs.items())]} for m, runs in plan.runs.items()},
                },
            )
        else:
            finish(plan)
    summary = {
        "budget": budget,
        "seeds": seeds,
        "methods": methods,
        "jobs": jobs,
        "seconds": time.perf_counter() - started,
        "asked_problems": list(plans),
        "runs": len(work),
        "reused_runs": sum(plan.reused for plan in plans.values()),
        "run_seconds": sum(row["run_seconds"] for row in table.values()),
        "rerun": rerun,
        "previous": _previous_invocations(out / "summary.json") if resume else None,
        "problems": _folder_table(out, table, budget, seeds),
    }
    write_json(out / "summary.json", summary)
    return summary


# -- command line ---------------------------------------------------------------------------------
def _print_search(result: dict) -> None:
    for method, row in result["methods"].items():
        cells = "   ".join(
            f"@{k}: {cell['mean']:.4g} ± {cell['ci95']:.2g} (rank {row['average_rank_after'][k]:.2f})"
            for k, cell in row["regret_after"].items()
        )
        print(f"{method:<20} regret {cells}")


def _methods(text: str) -> list[str]:
    return list(ALL_METHODS) if text == "all" else [m for m in text.split(",") if m]


def _problems(text: str | None) -> list[tuple[str, str]]:
    """The suite's problems named in ``text`` (comma-separated ``<space>-<dataset>`` names or
    space names, e.g. ``nb201``); None: all of them."""
    if text is None:
        return list(SUITE_PROBLEMS)
    names = [name for name in text.split(",") if name]
    unknown = [n for n in names if not any(n in (space, f"{space}-{task}") for space, task in SUITE_PROBLEMS)]
    if unknown:
        known = ", ".join(f"{space}-{task}" for space, task in SUITE_PROBLEMS)
        raise UnknownNameError(f"unknown problems {unknown}; known: {known}, or a space name")
    return [(space, task) for space, task in SUITE_PROBLEMS if any(n in (space, f"{space}-{task}") for n in names)]


def handle_search(args: argparse.Namespace) -> int:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    problem = Problem.of(args.space, args.dataset)
    seeds = list(range(args.seed, args.seed + args.seeds))
    result = search(problem, _methods(args.methods), seeds, args.budget, args.weights, jobs=args.jobs, progress=not args.json)
    if args.plot:
        plot_search(result, problem, args.plot, args.clock_plot)
        result["plot"] = args.plot
    if args.out:
        write_json(args.out, result)
    if args.json:
        print(json.dumps(result))
    else:
        _print_search(result)
    return 0


def handle_suite(args: argparse.Namespace) -> int:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    problems = QUICK["problems"] if args.quick else _problems(args.problems)
    seeds = list(range(args.seed, args.seed + (QUICK["seeds"] if args.quick else args.seeds)))
    budget = QUICK["budget"] if args.quick else args.budget
    summary = suite(
        problems,
        _methods(args.methods),
        seeds,
        budget,
        Path(args.out),
        jobs=args.jobs,
        progress=not args.json,
        resume=args.resume,
        rerun=args.rerun,
    )
    if args.json:
        print(json.dumps(summary))
    else:
        at = "10" if budget >= 10 else "1"
        for name, row in summary["problems"].items():
            ranked = sorted(row["methods"].items(), key=lambda item: item[1]["regret_after"][at]["mean"])
            print(
                f"{name}: regret after {at} evaluations, best first: "
                + ", ".join(f"{m} {cell['regret_after'][at]['mean']:.3g}" for m, cell in ranked)
            )
        print(f"{len(summary['problems'])} problems in {summary['seconds']:.0f} s; results in {args.out}")
    return 0
