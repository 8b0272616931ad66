"""Workers that start together: each one's first proposal, alone and with 3 others.

    python benchmarks/cold_start.py [--workers 4] [--repeats 2] [--json]

Each worker is a fresh process that joins one journal-file study on NB201 with
``PNAGSampler(seed=0)`` and times its first trial (loading the shipped weights, the first
candidate pool's first quarter, ranking; the objective is a table lookup), with an empty
pool cache folder per run (``PNAG_CACHE_DIR``): workers that start together extend that quarter
one at a time, each reading the chunks the others stored. The load average at the start is
recorded: on a 2-core machine 4 processes also share the CPU. Writes benchmarks/results/cold_start.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pnag_sampler.files import write_json

RESULTS = Path(__file__).resolve().parent / "results" / "cold_start.json"


def _worker(journal: str, cache: str, start: float, results: multiprocessing.Queue) -> None:
    os.environ["PNAG_CACHE_DIR"] = cache
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    from pnag_sampler import PNAGSampler, suggest_architecture
    from pnag_sampler.data import get_benchmark

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    table = get_benchmark("nb201")
    imported = time.time()
    study = optuna.load_study(study_name="cold", storage=JournalStorage(JournalFileBackend(journal)), sampler=PNAGSampler(seed=0))
    began = time.perf_counter()
    study.optimize(lambda trial: float(table.validation("cifar100")[table.index(suggest_architecture(trial, "nb201"))]), n_trials=1)
    results.put({"first_trial_s": time.perf_counter() - began, "import_s": imported - start})


def run(workers: int) -> list[dict]:
    """Start ``workers`` processes at once on a new study and cache; their timings."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    with tempfile.TemporaryDirectory() as folder:
        journal = str(Path(folder) / "journal.log")
        optuna.create_study(study_name="cold", storage=JournalStorage(JournalFileBackend(journal)), direction="maximize")
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        start = time.time()
        processes = [context.Process(target=_worker, args=(journal, str(Path(folder) / "pools"), start, results)) for _ in range(workers)]
        for process in processes:
            process.start()
        timings = [results.get(timeout=900) for _ in processes]
        for process in processes:
            process.join()
        return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    single = [run(1)[0] for _ in range(args.repeats)]
    together = [run(args.workers) for _ in range(args.repeats)]
    single_s = statistics.median(t["first_trial_s"] for t in single)
    slowest = [max(t["first_trial_s"] for t in run_timings) for run_timings in together]
    result = {
        "load_average_at_start": load,
        "cpus": os.cpu_count(),
        "workers": args.workers,
        "single_worker_first_trial_s": [round(t["first_trial_s"], 2) for t in single],
        "together_first_trial_s": [[round(t["first_trial_s"], 2) for t in run_timings] for run_timings in together],
        "slowest_together_over_single": round(statistics.median(slowest) / single_s, 2),
        "target_ratio": 2.0,
    }
    write_json(args.out, result)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
