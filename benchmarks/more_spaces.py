"""DARTS, MobileNetV3 (OFA) and AutoFormer: what the shipped generators produce, measured.

    python benchmarks/more_spaces.py [--n 1000] [--forward 20] [--pool 100] [--seed 0] [--quick]

1. Table 6 metrics per space for ``--n`` samples, unconditional and with the checkpoint's
   generation defaults (raw, paper-comparable and delivered validity, uniqueness, novelty
   against the training samples, validity per scale), and for the first ``--forward`` delivered
   ones of the latter:
   a real module built and run (one image), its parameters, its multiply-accumulates counted by
   torch's FlopCounterMode, and its forward time on this CPU (1 thread).
2. MobileNetV3 under Note10 latency budgets: ``--pool`` architectures generated for top
   predicted accuracy within the budget, next to as many uniformly random subnets and to OFA's
   evolutionary search with the same predictor (population 100, 500 generations).
3. AutoFormer under parameter budgets (paper Table 4: Tiny about 5.7-6.2M, Base about 54M):
   generated vs random pools, parameters from the built architecture's closed-form count.
Generated pools use the checkpoint's sampling settings (guidance, temperature) with the
budget's condition.

No accuracy is claimed for DARTS or AutoFormer: that needs training on CIFAR-10/ImageNet, which
this machine cannot do. MobileNetV3 accuracies are OFA's predictor's, not measured ones.
Writes benchmarks/results/more_spaces.json and more_spaces_mbv3.png.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode
from tqdm.auto import tqdm

from pnag_sampler.conditioning.budgets import budget_conditions
from pnag_sampler.files import write_json
from pnag_sampler.generator import PNAG
from pnag_sampler.metrics import generation_report
from pnag_sampler.pretraining import training_set_of

sys.path.insert(0, str(Path(__file__).resolve().parent))
from constrained_evolution import constrained_evolution  # noqa: E402

HERE = Path(__file__).resolve().parent
SPACES = ("darts", "mbv3", "autoformer", "autoformer-base")
LATENCY_BUDGETS_MS = (15.0, 20.0, 25.0, 30.0)
PARAM_BUDGETS_M = {"autoformer": 6.2, "autoformer-base": 54.0}


def module_measurements(model: PNAG, dags: list, progress: bool) -> dict:
    """Build and run each architecture's real module; parameters, MACs and CPU forward time."""
    space = model.space
    rows = []
    for dag in tqdm(dags, desc=f"{space.name}: build + forward", disable=not progress):
        module = space.build_module(dag).eval()
        image = space.example_input(1)
        with torch.no_grad():
            counter = FlopCounterMode(display=False)
            with counter:
                out = module(image)
            start = time.perf_counter()
            module(image)
            seconds = time.perf_counter() - start
        rows.append(
            {
                "ran": bool(torch.isfinite(out).all()),
                "params_m": sum(p.numel() for p in module.parameters()) / 1e6,
                "macs_g": counter.get_total_flops() / 2e9,
                "cpu_forward_ms": 1e3 * seconds,
            }
        )
    summary = {key: statistics.median(r[key] for r in rows) for key in ("params_m", "macs_g", "cpu_forward_ms")} if rows else {}
    return {"built": len(rows), "ran_forward": sum(r["ran"] for r in rows), "median": summary}


def table6(model: PNAG, n: int, forward: int, seed: int, progress: bool) -> dict:
    training = model_training_strings(model)
    rows = {}
    for setting, options in (("unconditional", {}), ("checkpoint defaults", model.generation_defaults())):
        generation = model.generate(n, seed=seed, **options)
        rows[setting] = {
            **generation_report(generation, training),
            "options": options,
            "raw_problems_first": [p for p in generation.raw_problems if p is not None][:3],
        }
    return {
        "generated": n,
        "scales": list(model.autoencoder.scales),
        **rows,
        "stage1_exact_reconstruction": stage1_reconstruction(model, seed),
        "modules": module_measurements(model, generation.architectures[:forward], progress),
    }


def stage1_reconstruction(model: PNAG, seed: int, n: int = 200) -> dict[str, float]:
    """Share (%) of uniform samples, drawn apart from the training samples' seed, that stage 1
    encodes, quantizes and decodes back exactly (raw and projected): the ceiling on what stage 2
    can generate."""
    dags = model.space.sample(np.random.default_rng(seed + 1_000), n)
    return {
        kind: 100 * float(np.mean([a == b for a, b in zip(model.reconstruct(dags, projected=projected)[-1], dags)]))
        for kind, projected in (("raw", False), ("projected", True))
    }


def model_training_strings(model: PNAG) -> list[str]:
    training = training_set_of(model)
    return training.strings() if training is not None else []


def pool_summary(values: dict[str, np.ndarray], within: np.ndarray, valid: int, size: int) -> dict:
    accuracy = values.get("accuracy")
    return {
        "pool": size,
        "valid": valid,
        "within_budget": int(within.sum()),
        **(
            {
                "best_accuracy_within": float(accuracy[within].max()) if within.any() else None,
                "mean_accuracy_within": float(accuracy[within].mean()) if within.any() else None,
            }
            if accuracy is not None
            else {}
        ),
    }


def generated_pool(model: PNAG, conditions: dict, pool: int, seed: int) -> list:
    return model.generate(pool, seed=seed, **{**model.generation_defaults(), **conditions}).architectures


def mbv3_budgets(model: PNAG, pool: int, seed: int, generations: int, progress: bool) -> dict:
    space = model.space
    rng = np.random.default_rng(seed)
    random_pool = space.sample(rng, pool)
    random_measures = space.measures(random_pool)
    rows = {}
    scatter = {"random": {k: v.tolist() for k, v in random_measures.items()}}
    for budget in tqdm(LATENCY_BUDGETS_MS, desc="mbv3 latency budgets", disable=not progress):
        generated = generated_pool(model, {"performance": 1.0, "costs": budget_conditions(model, {"latency": budget})}, pool, seed)
        measured = space.measures(generated) if generated else {"accuracy": np.array([]), "latency_ms": np.array([])}
        evolution = constrained_evolution(
            space,
            lambda dags: space.measures(dags)["accuracy"],
            lambda dag, budget=budget: space.measures([dag])["latency_ms"][0] <= budget,
            np.random.default_rng(seed),
            generations=generations,
        )
        rows[str(budget)] = {
            "pnag": pool_summary(measured, measured["latency_ms"] <= budget, len(generated), pool),
            "random": pool_summary(random_measures, random_measures["latency_ms"] <= budget, pool, pool),
            "ofa_evolution": {
                "best_accuracy_within": evolution.best_fitness,
                "predictor_calls": evolution.evaluations,
                "best": space.to_string(evolution.best),
            },
        }
        scatter[str(budget)] = {k: v.tolist() for k, v in measured.items()}
    return {
        "budgets_ms": list(LATENCY_BUDGETS_MS),
        "rows": rows,
        "scatter": scatter,
        "pnag_predictor_calls_in_training": model.metadata.get("trained_architectures"),
    }


def param_budget(model: PNAG, budget: float, pool: int, seed: int) -> dict:
    space = model.space
    generated = generated_pool(model, {"costs": budget_conditions(model, {"params": budget})}, pool, seed)
    random_pool = space.sample(np.random.default_rng(seed), pool)
    rows = {}
    for name, dags in (("pnag", generated), ("random", random_pool)):
        params = space.measures(dags)["params_m"] if dags else np.array([])
        rows[name] = {
            "valid": len(dags),
            "within_budget": int((params <= budget).sum()),
            "mean_params_m": float(params.mean()) if params.size else None,
            "max_params_within_m": float(params[params <= budget].max()) if (params <= budget).any() else None,
        }
    return {"budget_m": budget, "pool": pool, **rows}


def plot_mbv3(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    random = result["scatter"]["random"]
    axes.scatter(random["latency_ms"], np.array(random["accuracy"]) * 100, s=8, c="lightgrey", label="random subnets")
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(result["budgets_ms"])))
    for colour, budget in zip(colours, result["budgets_ms"]):
        points = result["scatter"][str(budget)]
        axes.scatter(points["latency_ms"], np.array(points["accuracy"]) * 100, s=10, color=colour, label=f"PNAG, budget {budget:g} ms")
        axes.axvline(budget, color=colour, lw=0.8, ls="--")
        best = result["rows"][str(budget)]["ofa_evolution"]["best_accuracy_within"]
        axes.scatter([budget], [best * 100], marker="*", s=120, color=colour, edgecolor="black")
    axes.set_xlabel("Samsung Note10 latency (ms, OFA lookup table)")
    axes.set_ylabel("ImageNet top-1 (%, OFA predictor)")
    axes.set_title("MobileNetV3 subnets under latency budgets (stars: OFA evolution)")
    axes.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--forward", type=int, default=100, help="valid generated architectures built and run per space (the first ones)")
    parser.add_argument("--pool", type=int, default=100)
    parser.add_argument("--generations", type=int, default=500, help="OFA evolution generations")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="n 50, forward 2, pool 20, 5 generations (a smoke run)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "more_spaces.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.forward, args.pool, args.generations = 50, 2, 20, 5
    torch.set_num_threads(1)
    progress = sys.stderr.isatty()
    results = {"n": args.n, "seed": args.seed, "torch_threads": 1, "table6": {}}
    for name in SPACES:
        model = PNAG.pretrained(name)
        results["table6"][name] = table6(model, args.n, args.forward, args.seed, progress)
        if name == "mbv3":
            results["mbv3_latency"] = mbv3_budgets(model, args.pool, args.seed, args.generations, progress)
        if name in PARAM_BUDGETS_M:
            results.setdefault("autoformer_params", {})[name] = param_budget(model, PARAM_BUDGETS_M[name], args.pool, args.seed)
        print(name, json.dumps(results["table6"][name]), file=sys.stderr)
    write_json(args.out, results)
    plot_mbv3(results["mbv3_latency"], args.out.with_name(args.out.stem + "_mbv3.png"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
