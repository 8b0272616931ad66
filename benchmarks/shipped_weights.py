"""What the shipped weights generate: validity, uniqueness and scores under sampling settings.

    python benchmarks/shipped_weights.py [--n 1000] [--seed 0]

The shipped weights were trained on every architecture and every task's scores, so the scores
here describe the product users get, not transfer (see generator_quality.py for
leave-one-dataset-out numbers). Validity is the raw decoder output.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from pnag_sampler.data import get_benchmark
from pnag_sampler.generator import PNAG
from pnag_sampler.files import write_json
from pnag_sampler.metrics import generation_quality

HERE = Path(__file__).resolve().parent
SETTINGS = (
    ("unconditional", {"performance": None}),
    ("top, cfg 2", {"performance": 1.0, "cfg_scale": 2.0}),
    ("top, cfg 2, temperature 0.7", {"performance": 1.0, "cfg_scale": 2.0, "temperature": 0.7}),
)
REPORTED_TASK = {"nb201": "cifar10", "nasbench_graph": "cora"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "shipped_weights.json")
    args = parser.parse_args(argv)
    results = {"n": args.n, "seed": args.seed, "spaces": {}}
    for space, task in REPORTED_TASK.items():
        model = PNAG.pretrained(space)
        table = get_benchmark(space)
        test = table.test(task)
        rows = {"task": task, "space_mean_test": float(test.mean()), "space_best_test": float(test.max())}
        for name, options in SETTINGS:
            generation = model.generate(args.n, seed=args.seed, **options)
            strings = [model.space.to_string(d) if p is None else None for d, p in zip(generation.architectures, generation.problems)]
            scores = [test[table.index(s)] for s in strings if s is not None]
            quality = generation_quality(strings, [])
            rows[name] = {
                "validity": 100 * quality.validity,
                "uniqueness": 100 * quality.uniqueness,
                "sub_architecture_validity": [100 * float(np.mean([p is None for p in scale])) for scale in generation.sub_problems],
                "mean_test_of_valid": float(np.mean(scores)) if scores else None,
                "max_test_of_valid": float(np.max(scores)) if scores else None,
            }
        results["spaces"][space] = rows
        print(space, json.dumps(rows))
    write_json(args.out, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
