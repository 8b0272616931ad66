"""A long study: what one ask + tell costs at 10, 100, 500 and 1,000 trials, and peak memory.

    python benchmarks/long_study.py [--trials 1000] [--seed 0] [--json]

One in-memory Optuna study on NB201 (objective: CIFAR-10 validation accuracy, a table lookup)
with ``PNAGSampler`` on the weights that never saw CIFAR-10's scores. Each trial is timed as
``study.ask()`` + ``suggest_architecture`` (the proposal) and ``study.tell``; the per-trial
cost at N trials is the median over the 10 trials before the N-th (the first trial, which loads
the weights and generates the first quarter of the first pool, is reported on its own). Pools
are cached in an empty folder, so every pool of the study is generated in it. Resident memory
is read from ``/proc/self/status`` after every trial. The load average at the start is recorded. Writes
benchmarks/results/long_study.json and long_study.png.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tqdm import tqdm

from pnag_sampler.files import write_json

RESULTS = Path(__file__).resolve().parent / "results"
WINDOW = 10


def _rss_mb(field: str = "VmRSS") -> float:
    """Resident memory of this process (``VmHWM``: its peak so far), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def run(trials: int, seed: int, progress: bool) -> dict:
    import optuna

    from pnag_sampler import PNAGSampler, suggest_architecture
    from pnag_sampler.data import get_benchmark
    from pnag_sampler.harness.problems import held_out_weights

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    table = get_benchmark("nb201")
    scores = table.validation("cifar10")
    sampler = PNAGSampler(seed=seed, weights={"nb201": held_out_weights("nb201", "cifar10")})
    study = optuna.create_study(direction="maximize", sampler=sampler)
    ask_s, tell_s, rss_mb = [], [], []
    for _ in tqdm(range(trials), disable=not progress, desc="trials"):
        began = time.perf_counter()
        trial = study.ask()
        cell = suggest_architecture(trial, "nb201")
        asked = time.perf_counter()
        study.tell(trial, float(scores[table.index(cell)]))
        ask_s.append(asked - began)
        tell_s.append(time.perf_counter() - asked)
        rss_mb.append(_rss_mb())
    total = [a + t for a, t in zip(ask_s, tell_s)]
    at = {n: statistics.median(total[max(1, n - WINDOW) : n]) for n in (10, 100, 500, 1000) if n <= trials}
    later = ask_s[1:]
    slowest = max(range(len(later)), key=later.__getitem__) + 1 if later else 0
    distinct = len({tuple(sorted(t.params.items())) for t in study.trials})
    return {
        "trials": trials,
        "distinct_architectures": distinct,
        "first_trial_s": round(total[0], 3),
        "ask_tell_s_at": {str(n): round(v, 4) for n, v in at.items()},
        "ratio_1000_to_100": round(at[1000] / at[100], 2) if 1000 in at else None,
        "slowest_ask_after_first_s": round(later[slowest - 1], 3) if later else None,
        "slowest_ask_trial": slowest,
        "peak_rss_mb": round(_rss_mb("VmHWM"), 1),
        "best_value": study.best_value,
        "ask_s": [round(v, 4) for v in ask_s],
        "tell_s": [round(v, 4) for v in tell_s],
        "rss_mb": [round(v, 1) for v in rss_mb],
    }


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (time_axis, memory_axis) = plt.subplots(1, 2, figsize=(10, 3.5))
    trials = range(1, result["trials"] + 1)
    time_axis.plot(trials, [a + t for a, t in zip(result["ask_s"], result["tell_s"])], lw=0.8)
    time_axis.set(yscale="log", xlabel="trial", ylabel="ask + tell (s)", title="cost of one trial")
    memory_axis.plot(trials, result["rss_mb"], lw=0.8)
    memory_axis.set(xlabel="trial", ylabel="resident memory (MB)", title=f"peak {result['peak_rss_mb']:.0f} MB")
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS / "long_study.json")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as cache:
        os.environ["PNAG_CACHE_DIR"] = cache
        result = {"load_average_at_start": load, "cpus": os.cpu_count(), "seed": args.seed} | run(args.trials, args.seed, not args.json)
    result["wall_s"] = round(time.perf_counter() - began, 1)
    result["targets"] = {"ratio_1000_to_100": 3.0, "slowest_ask_after_first_s": 2.0, "peak_rss_mb": 600}
    write_json(args.out, result)
    plot(result, args.out.with_suffix(".png"))
    summary = {k: v for k, v in result.items() if k not in ("ask_s", "tell_s", "rss_mb")}
    print(json.dumps(summary) if args.json else json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
