"""``pnag demo``: generated architectures for a task beside their real scores and random ones.

It runs on embedded defaults only: the shipped weights and the vendored benchmark table. The
shipped weights were trained on every task's validation scores, so this is a demonstration,
not a benchmark (benchmarks train leave-one-dataset-out weights of their own).
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from pnag_sampler.data import benchmark_for_task
from pnag_sampler.generator import PNAG


def run_demo(space: str, task: str, n: int, seed: int, cfg_scale: float) -> dict:
    benchmark = benchmark_for_task(space, task)
    model = PNAG.pretrained(benchmark.space.name)
    generation = model.generate(n, performance=1.0, cfg_scale=cfg_scale, seed=seed)
    test = benchmark.test(task)
    strings = benchmark.strings()

    def describe(architectures):
        rows = [benchmark.index(dag) for dag in architectures]
        return [{"architecture": strings[row], "test": float(test[row])} for row in rows]

    rng = np.random.default_rng(seed)
    generated = describe(generation.architectures)
    random = describe(benchmark.space.sample(rng, n))

    def summary(rows):
        scores = [r["test"] for r in rows]
        return {"mean_test": float(np.mean(scores)), "max_test": float(np.max(scores))}

    return {
        "space": benchmark.space.name,
        "task": task,
        "n": n,
        "seed": seed,
        "cfg_scale": cfg_scale,
        "best_in_space_test": float(test.max()),
        "generated": generated,
        "random": random,
        "generated_summary": summary(generated),
        "random_summary": summary(random),
        "seconds_to_generate": generation.seconds,
        # delivered architectures are valid by construction; the decoder's own output may not be
        "raw_valid": sum(problem is None for problem in generation.raw_problems),
        "changed_by_projection": sum(generation.changed),
    }


def _print_table(result: dict) -> None:
    print(f"PNAG on {result['space']} / {result['task']}: {result['n']} generated (target: top) vs {result['n']} random")
    print(f"best test score in the whole space: {result['best_in_space_test']:.4g}\n")
    width = max(len(r["architecture"]) for r in result["generated"] + result["random"])
    print(f"{'generated':<{width}}  test     | {'random':<{width}}  test")
    for g, r in zip(result["generated"], result["random"]):
        print(" | ".join(f"{row['architecture']:<{width}}  {row['test']:<7.4g}" for row in (g, r)))
    for name in ("generated", "random"):
        s = result[f"{name}_summary"]
        print(f"{name:>9}: mean test {s['mean_test']:.4g}, max test {s['max_test']:.4g}")
    print(
        f"the decoder's raw output was valid for {result['raw_valid']}/{result['n']}; "
        f"the projection onto the most likely valid architecture changed {result['changed_by_projection']}"
    )
    print(f"generation took {result['seconds_to_generate'] * 1e3:.1f} ms")


def handle(args: argparse.Namespace) -> int:
    result = run_demo(args.space, args.task, args.n, args.seed, args.cfg_scale)
    if args.json:
        print(json.dumps(result))
    else:
        _print_table(result)
    return 0
