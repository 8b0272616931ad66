"""PNAG on spaces no checkpoint knows, and what a first ask costs, next to TPE in one run.

    python benchmarks/user_spaces.py [--seeds 10] [--trials 100] [--online-seeds 2] [--json]

- quality: the 6-parameter mixed space of ``optuna_overhead.py`` (lower is better), best value
  after 50 and 100 trials over ``--seeds`` seeds for RandomSampler, TPESampler, PNAGSampler as
  shipped (a user's space goes to TPE) and, over ``--online-seeds``, PNAG learned online
  (``online_training=OnlineTraining()``, the opt-in);
- cost per trial: ask + tell, median of trials 91-100 of a 100-trial study, PNAGSampler against
  TPESampler on the mixed space and on NB201 (the weights that never saw CIFAR-100's scores);
- first ask: a fresh process, from after ``from pnag_sampler import PNAGSampler`` to the end of
  the first trial (NB201: the weights load and the first pool is generated; empty pool cache);
- Optuna's conformance suite (Basic + Relative) against ``PNAGSampler(seed=0,
  n_startup_trials=0)`` and ``TPESampler(seed=0, n_startup_trials=0)``, wall time of each;
- NNI: ``examples/nni_nas.py --trials 12`` (PNAGStrategy, a 144-model space, 1 epoch per
  model); Syne Tune: 40 trials, 4 workers, simulated, PNAGSearcher over NAS-Bench-Graph's link
  and four operations written as a user writes them (``choice``s with their own names).

The load average at the start is recorded (with ``--parts``, that of the latest run). Writes
benchmarks/results/user_spaces.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "user_spaces.json"
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _samplers(online_training=None) -> dict:
    import optuna

    from pnag_sampler import PNAGSampler
    from pnag_sampler.search.options import OnlineTraining

    return {
        "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
        "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
        "pnag": lambda seed: PNAGSampler(seed=seed),
        "pnag-online": lambda seed: PNAGSampler(seed=seed, online_training=online_training or OnlineTraining()),
    }


def timed_study(sampler, objective, trials: int, direction: str) -> tuple[list[float], list[float]]:
    """Values and seconds (ask + objective + tell) of every trial."""
    import optuna

    study = optuna.create_study(sampler=sampler, direction=direction)
    values, seconds = [], []
    for _ in range(trials):
        began = time.perf_counter()
        trial = study.ask()
        value = objective(trial)
        study.tell(trial, value)
        seconds.append(time.perf_counter() - began)
        values.append(value)
    return values, seconds


def quality(seeds: int, online_seeds: int, trials: int) -> dict:
    from optuna_overhead import mixed_objective
    from tqdm import tqdm

    rows = {}
    for name, make in _samplers().items():
        runs = range(online_seeds if name == "pnag-online" else seeds)
        if not runs:
            continue
        best_at: dict[int, list[float]] = {50: [], trials: []}
        began = time.perf_counter()
        for seed in tqdm(runs, desc=name, leave=False):
            values, _ = timed_study(make(seed), mixed_objective, trials, "minimize")
            for n in best_at:
                best_at[n].append(min(values[:n]))
        rows[name] = {
            "seeds": len(runs),
            "mean_best_at": {str(n): statistics.fmean(v) for n, v in best_at.items()},
            "best_at_per_seed": {str(n): v for n, v in best_at.items()},
            "seconds_per_study": (time.perf_counter() - began) / len(runs),
        }
    return rows


def cost_per_trial() -> dict:
    import optuna
    from optuna_overhead import mixed_objective

    from pnag_sampler import PNAGSampler, suggest_architecture
    from pnag_sampler.data import get_benchmark
    from pnag_sampler.harness.problems import held_out_weights

    table = get_benchmark("nb201")
    scores = table.validation("cifar100")

    def nb201(trial) -> float:
        return float(scores[table.index(suggest_architecture(trial, "nb201"))])

    weights = {"nb201": held_out_weights("nb201", "cifar100")}
    studies = {
        "mixed": (mixed_objective, "minimize", lambda: PNAGSampler(seed=0)),
        "nb201": (nb201, "maximize", lambda: PNAGSampler(seed=0, weights=weights)),
    }
    rows = {}
    for space, (objective, direction, pnag) in studies.items():
        medians = {}
        for name, sampler in (("pnag", pnag()), ("tpe", optuna.samplers.TPESampler(seed=0))):
            _, seconds = timed_study(sampler, objective, 100, direction)
            medians[name] = statistics.median(seconds[90:])
        rows[space] = {"pnag_s": medians["pnag"], "tpe_s": medians["tpe"], "ratio": medians["pnag"] / medians["tpe"]}
    return rows


_FIRST_ASK = """
import os, sys, time, json
os.environ["PNAG_CACHE_DIR"] = sys.argv[2]
sys.path.insert(0, {benchmarks!r})
import optuna
from pnag_sampler import PNAGSampler, suggest_architecture
optuna.logging.set_verbosity(optuna.logging.WARNING)
imported = time.perf_counter()
study = optuna.create_study(sampler=PNAGSampler(seed=0))
if sys.argv[1] == "nb201":
    trial = study.ask()
    suggest_architecture(trial, "nb201")
    study.tell(trial, 0.0)
else:
    from optuna_overhead import mixed_objective
    study.optimize(mixed_objective, n_trials=1)
print(json.dumps(time.perf_counter() - imported))
"""


def first_ask(repeats: int = 3) -> dict:
    code = _FIRST_ASK.format(benchmarks=str(Path(__file__).resolve().parent))
    rows = {}
    for space in ("mixed", "nb201"):
        seconds = []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as cache:
                out = subprocess.run([sys.executable, "-c", code, space, cache], capture_output=True, text=True, check=True)
            seconds.append(json.loads(out.stdout.strip().splitlines()[-1]))
        rows[space] = {"seconds": seconds, "median_s": statistics.median(seconds)}
    return rows


_CONFORMANCE = """
import optuna, pytest
from optuna.testing import pytest_samplers
{make}

class TestBasic(pytest_samplers.BasicSamplerTestCase):
    @pytest.fixture
    def sampler(self):
        return make

class TestRelative(pytest_samplers.RelativeSamplerTestCase):
    @pytest.fixture
    def sampler(self):
        return make
"""

_MAKERS = {
    "pnag": "from pnag_sampler import PNAGSampler\ndef make():\n    return PNAGSampler(seed=0, n_startup_trials=0)",
    "tpe": "def make():\n    return optuna.samplers.TPESampler(seed=0, n_startup_trials=0)",
}


def conformance() -> dict:
    rows = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, make in _MAKERS.items():
            module = Path(folder) / f"test_conformance_{name}.py"
            module.write_text(textwrap.dedent(_CONFORMANCE).format(make=make))
            began = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(module)], capture_output=True, text=True, cwd=folder
            )
            rows[name] = {
                "seconds": time.perf_counter() - began,
                "summary": out.stdout.strip().splitlines()[-1],
                "returncode": out.returncode,
            }
    rows["ratio"] = rows["pnag"]["seconds"] / rows["tpe"]["seconds"]
    return rows


def nni_strategy(trials: int = 12) -> dict:
    with tempfile.TemporaryDirectory() as home:
        began = time.perf_counter()
        out = subprocess.run(
            [sys.executable, str(ROOT / "examples" / "nni_nas.py"), "--trials", str(trials), "--port", "8791", "--json"],
            capture_output=True,
            text=True,
            cwd=home,
            env={**os.environ, "HOME": home, "DIGITS_EPOCHS": "1"},
        )
        seconds = time.perf_counter() - began
    result = json.loads([line for line in out.stdout.splitlines() if line.startswith('{"')][-1])
    return {"trials": trials, "models": len(result["models"]), "seconds": seconds, "best": result["best"]["metric"]}


def syne_tune_searcher(trials: int = 40, workers: int = 4) -> dict:
    import logging

    import numpy as np
    from pnag_sampler.adapters.syne_tune import PNAGSearcher, tabular_blackbox
    from syne_tune import StoppingCriterion, Tuner
    from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
    from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular
    from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend
    from syne_tune.config_space import choice
    from syne_tune.experiments import load_experiment
    from syne_tune.optimizer.schedulers.single_objective_scheduler import SingleObjectiveScheduler

    logging.getLogger("syne_tune").setLevel(logging.WARNING)
    canonical = tabular_blackbox("nasbench_graph", "cora")
    names = {key: key.split("/", 1)[1] for key in canonical.configuration_space}  # "link", "op1", ...
    config_space = {names[key]: choice(list(domain.categories)) for key, domain in canonical.configuration_space.items()}
    blackbox = BlackboxTabular(
        hyperparameters=canonical.hyperparameters.rename(columns=names),
        configuration_space=config_space,
        fidelity_space=canonical.fidelity_space,
        objectives_evaluations=canonical.objectives_evaluations,
        fidelity_values=np.array([1]),
        objectives_names=canonical.objectives_names,
    )
    scheduler = SingleObjectiveScheduler(
        config_space, metric="validation_error", do_minimize=True, searcher=PNAGSearcher(config_space, random_seed=0)
    )
    with tempfile.TemporaryDirectory() as home:
        previous = os.environ.get("HOME")
        os.environ["HOME"] = home  # Syne Tune writes ~/syne-tune
        began = time.perf_counter()
        try:
            tuner = Tuner(
                trial_backend=UserBlackboxBackend(blackbox=blackbox, elapsed_time_attr="elapsed_time"),
                scheduler=scheduler,
                stop_criterion=StoppingCriterion(max_num_trials_started=trials),
                n_workers=workers,
                sleep_time=0,
                callbacks=[SimulatorCallback()],
                results_update_interval=600,
            )
            tuner.run()
            seconds = time.perf_counter() - began
            frame = load_experiment(tuner.name).results
        finally:
            if previous is not None:
                os.environ["HOME"] = previous
    return {
        "trials": trials,
        "workers": workers,
        "seconds": seconds,
        "trials_run": int(frame["trial_id"].nunique()),
        "distinct_configurations": int(frame[[f"config_{name}" for name in config_space]].drop_duplicates().shape[0]),
        "best_validation_error": float(frame["validation_error"].min()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--online-seeds", type=int, default=2)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--parts", nargs="+", help="rerun only these parts, keeping the others from --out")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    args = parser.parse_args(argv)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    result = json.loads(args.out.read_text()) if args.parts else {"load_average_at_start": os.getloadavg()[0]}
    result |= {"cpus": os.cpu_count(), "trials": args.trials}
    parts = {
        "quality": lambda: quality(args.seeds, args.online_seeds, args.trials),
        "cost_per_trial": cost_per_trial,
        "first_ask": first_ask,
        "conformance": conformance,
        "nni": nni_strategy,
        "syne_tune": syne_tune_searcher,
    }
    for name, part in parts.items():
        if args.parts and name not in args.parts:
            continue
        began = time.perf_counter()
        if args.parts:  # a part rerun alone has a load of its own
            result.setdefault("load_average_at_start_of_part", {})[name] = os.getloadavg()[0]
        result[name] = part()
        print(f"{name}: {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)
    result["targets"] = {
        "quality": "pnag's mean best at 50 and 100 no worse than tpe's",
        "first_ask_s": {"mixed": 5.0, "nb201": 1.0},
        "cost_ratio_to_tpe": {"nb201": 1.0, "mixed": 2.0},
        "conformance_ratio": 10.0,
        "nni_s": 30.0,
        "syne_tune_s": 30.0,
    }
    from pnag_sampler.files import write_json

    write_json(args.out, result)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
