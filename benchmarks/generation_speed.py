"""Seconds per generated architecture on this CPU, batch 1 and batch 1,000 (paper Fig. 4 left).

    python benchmarks/generation_speed.py [--space nb201] [--repeats 20] [--seed 0]

Run it on an otherwise idle machine (the load average at the start is recorded): it times the
shipped weights' full generation path (transformer steps, codebook lookups, decoding, and the
projection of every scale onto the most likely valid architecture) and, apart, the projection's
share. Training time per stage is recorded by `pnag train` and by
benchmarks/generator_quality.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from pnag_sampler.files import write_json
from pnag_sampler.generator import PNAG

HERE = Path(__file__).resolve().parent


def time_generation(model: PNAG, n: int, seed: int, cfg_scale: float) -> tuple[float, float]:
    """(seconds of the whole call, seconds of its projection) per architecture."""
    start = time.perf_counter()
    generation = model.generate(n, performance=1.0, cfg_scale=cfg_scale, seed=seed)
    return (time.perf_counter() - start) / n, generation.projection_seconds / n


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spaces", default="nb201,nasbench_graph")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "generation_speed.json")
    args = parser.parse_args(argv)
    results = {
        "cpu": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "load_average_at_start": os.getloadavg()[0],
        "spaces": {},
    }
    for space in args.spaces.split(","):
        model = PNAG.pretrained(space)
        time_generation(model, 8, args.seed, 2.0)  # warm-up
        row = {}
        for cfg_scale in (1.0, 2.0):
            singles = [time_generation(model, 1, args.seed + r, cfg_scale) for r in range(args.repeats)]
            batches = [time_generation(model, 1000, args.seed + r, cfg_scale) for r in range(3)]
            row[f"cfg{cfg_scale:g}"] = {
                "seconds_per_arch_batch1_median": statistics.median(total for total, _ in singles),
                "seconds_per_arch_batch1000_median": statistics.median(total for total, _ in batches),
                "projection_seconds_per_arch_batch1000_median": statistics.median(projection for _, projection in batches),
            }
        results["spaces"][space] = row
        print(space, json.dumps(row))
    write_json(args.out, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
