"""Generator measurements of the core issue: Table 6, Fig. 3 (SCC ablation), quality.

Speed is measured separately, on an idle machine: benchmarks/generation_speed.py.

    python benchmarks/generator_quality.py [--quick] [--part all|folds|ablation] [--seed 0] [--threads N]

Writes benchmarks/results/generator_quality_folds.json and _ablation.json (+ .png).

Leave-one-dataset-out: the model that is scored on NB201 dataset X was trained on the
validation scores of the other two datasets only, and on a random 50% of the architectures
(Table 6 protocol). Trained models are cached under benchmarks/cache/ so reruns are fast;
delete that folder to retrain. Validity is reported raw (the decoder's own output, full check),
paper-comparable (the same samples, operations-only check) and delivered (the most likely valid
architectures), side by side.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from pnag_sampler.data import get_benchmark
from pnag_sampler.errors import CheckpointError
from pnag_sampler.files import write_json
from pnag_sampler.generator import PNAG
from pnag_sampler.metrics import generation_report
from pnag_sampler.model.autoencoder import AutoencoderConfig
from pnag_sampler.pretraining import TrainingSet, train_on_benchmark
from pnag_sampler.spaces import get_space

HERE = Path(__file__).resolve().parent
CACHE = HERE / "cache"


def cached_model(name: str, training_set: TrainingSet, epochs: tuple[int, int], seed: int, **options) -> tuple[PNAG, dict]:
    """Train once, then reuse the checkpoint (its config records how it was trained)."""
    folder = CACHE / name
    try:
        model = PNAG.load(folder, space=training_set.space)
        return model, model.metadata.get("training_seconds", {})
    except CheckpointError:
        pass
    model, report = train_on_benchmark(
        training_set,
        autoencoder_epochs=epochs[0],
        transformer_epochs=epochs[1],
        surrogate_steps=0,
        seed=seed,
        progress=True,
        **options,
    )
    model.metadata["training_seconds"] = {"stage1": report.stage1_seconds, "stage2": report.stage2_seconds}
    model.save(folder)
    return model, model.metadata["training_seconds"]


def table6(model: PNAG, training_set: TrainingSet, n: int, seed: int) -> dict:
    """Raw (full check), paper-comparable (operations only) and delivered validity, with
    uniqueness, novelty and validity per scale, of ``n`` unconditional samples."""
    return generation_report(model.generate(n, seed=seed), training_set.strings())


def table6_summary(t6: dict) -> dict[str, float]:
    """The Table 6 columns of one run: raw and paper-comparable validity, and uniqueness and
    novelty of the raw-valid and of the delivered architectures."""
    return {
        "raw_validity": t6["raw"]["validity"],
        "paper_comparable_validity": t6["paper_comparable_validity"],
        **{f"{kind}_{key}": t6[kind][key] for kind in ("raw", "delivered") for key in ("uniqueness", "novelty", "unique_valid_per_1000")},
    }


def reconstruction(model: PNAG, dags: list) -> dict:
    """Stage 1 alone on held-out architectures: encode, quantize, decode every scale; exact
    against each scale's target, raw and projected, and raw validity."""
    targets = model.scale_targets(dags)
    raw, projected = model.reconstruct(dags, projected=False), model.reconstruct(dags)
    checks = [model.space.sub_architecture_problem] * (len(raw) - 1) + [model.space.problem]
    return {
        "exact_raw": [100 * float(np.mean([a == b for a, b in zip(r, t)])) for r, t in zip(raw, targets)],
        "exact_projected": [100 * float(np.mean([a == b for a, b in zip(p, t)])) for p, t in zip(projected, targets)],
        "raw_validity": [100 * float(np.mean([check(d) is None for d in scale])) for check, scale in zip(checks, raw)],
    }


def quality_vs_random(model: PNAG, task: str, n: int, seed: int, cfg_scale: float) -> dict:
    benchmark = get_benchmark(model.space.name)
    test = benchmark.test(task)
    generation = model.generate(n, performance=1.0, cfg_scale=cfg_scale, seed=seed)
    generated = [test[benchmark.index(d)] for d in generation.architectures]
    random = [test[benchmark.index(d)] for d in model.space.sample(np.random.default_rng(seed), n)]
    return {
        "generated_valid": len(generated),
        "generated_mean": float(np.mean(generated)) if generated else None,
        "generated_max": float(np.max(generated)) if generated else None,
        "random_mean": float(np.mean(random)),
        "random_max": float(np.max(random)),
        "space_best": float(test.max()),
    }


def mean_std(values: list[float]) -> dict:
    return {"mean": float(np.mean(values)), "std": float(np.std(values)), "runs": [float(v) for v in values]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few epochs and samples (a smoke run, numbers not for the docs)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--epochs",
        type=int,
        nargs=2,
        default=None,
        metavar=("STAGE1", "STAGE2"),
        help="epochs of stage 1 and stage 2 (default 40 12, quick 2 1); the SCC ablation uses a third of each",
    )
    parser.add_argument("--out", type=Path, default=HERE / "results" / "generator_quality.json")
    parser.add_argument("--json", action="store_true", help="print the results JSON to stdout")
    parser.add_argument(
        "--part",
        choices=("all", "folds", "ablation"),
        default="all",
        help="run one part (parts can run in parallel processes; each writes its own JSON)",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    epochs = tuple(args.epochs or ((2, 1) if args.quick else (40, 12)))
    ablation_epochs = (max(1, epochs[0] // 3), max(1, epochs[1] // 3))
    n_generate = 100 if args.quick else 1000
    tag = f"e{epochs[0]}-{epochs[1]}"

    settings = {
        "epochs_per_stage": list(epochs),
        "ablation_epochs_per_stage": list(ablation_epochs),
        "seed": args.seed,
        "quick": args.quick,
    }
    parts = ("folds", "ablation") if args.part == "all" else (args.part,)
    for part in parts:
        run = run_folds if part == "folds" else run_ablation
        results = {**settings, **run(args, epochs, ablation_epochs, n_generate, tag)}
        out = args.out.with_name(f"{args.out.stem}_{part}.json")
        write_json(out, results)
        if part == "ablation":
            plot_ablation(results["scc_ablation"], out.with_suffix(".png"))
        if args.json:
            print(json.dumps(results))
        else:
            print(f"wrote {out}", file=sys.stderr)
    return 0


def run_folds(args, epochs, ablation_epochs, n_generate, tag) -> dict:
    """Table 6 and quality, leave-one-dataset-out on NB201; Table 6 on NAS-Bench-Graph."""
    tasks = get_benchmark("nb201").tasks
    results: dict = {"nb201": {}, "training_seconds": {}}
    table6_runs: dict[str, list[float]] = {}
    for fold, held_out in enumerate(tasks):
        training_set = TrainingSet("nb201", tuple(t for t in tasks if t != held_out), 0.5, args.seed + fold)
        model, seconds = cached_model(f"nb201-without-{held_out}-{tag}-s{args.seed}", training_set, epochs, args.seed + fold)
        results["training_seconds"][f"nb201-without-{held_out}"] = seconds
        t6 = table6(model, training_set, n_generate, args.seed)
        for key, value in table6_summary(t6).items():
            table6_runs.setdefault(key, []).append(value)
        results["nb201"][held_out] = {
            "table6": t6,
            "quality_top_vs_random": quality_vs_random(model, held_out, 100, args.seed, cfg_scale=2.0),
        }
    results["nb201_table6"] = {key: mean_std(values) for key, values in table6_runs.items()}

    graph_set = TrainingSet("nasbench_graph", (), 0.5, args.seed)
    graph_model, seconds = cached_model(f"nasbench_graph-half-{tag}-s{args.seed}", graph_set, epochs, args.seed)
    results["training_seconds"]["nasbench_graph-half"] = seconds
    results["nasbench_graph_table6"] = table6(graph_model, graph_set, n_generate, args.seed)
    return results


def run_ablation(args, epochs, ablation_epochs, n_generate, tag) -> dict:
    """Fig. 3 (SCC on the first k steps, k = 0..T) and the codebook size, on NB201."""
    ablation_set = TrainingSet("nb201", ("cifar100", "imagenet16"), 0.5, args.seed)
    steps = get_space("nb201").num_nodes - 2
    default_codebook = AutoencoderConfig(8, 7).codebook_size
    samples = 50 if args.quick else 200

    def ablation_model(k: int, size: int) -> PNAG:
        return cached_model(
            f"nb201-ablation-k{k}-V{size}-{tag}-s{args.seed}",
            ablation_set,
            ablation_epochs,
            args.seed,
            autoencoder_config=AutoencoderConfig(num_nodes=8, num_node_types=7, scc_steps=k, codebook_size=size),
        )[0]

    trained = set(ablation_set.architectures())
    held_out = [d for d in get_benchmark("nb201").architectures() if d not in trained][:2000]
    ablation = []
    for k in (0, steps) if args.quick else range(steps + 1):
        model = ablation_model(k, default_codebook)
        t6 = table6(model, ablation_set, samples, args.seed)
        quality = quality_vs_random(model, "cifar10", samples, args.seed, cfg_scale=2.0)
        ablation.append(
            {
                "scc_steps": k,
                "validity": t6["raw"]["validity"],
                "sub_architecture_validity": t6["sub_architecture_validity"]["raw"],
                "cifar10_mean_test_of_valid": quality["generated_mean"],
                "held_out_reconstruction": reconstruction(model, held_out),
            }
        )

    # The paper sets the codebook size V to the number of structural elements; we default to 64.
    codebook = []
    for size in (len(get_space("nb201").node_types), default_codebook):
        model = ablation_model(steps, size)
        t6 = table6(model, ablation_set, samples, args.seed)
        codebook.append(
            {"codebook_size": size, "validity": t6["raw"]["validity"], "held_out_reconstruction": reconstruction(model, held_out)}
        )
    return {"scc_ablation": ablation, "codebook_ablation": codebook}


def plot_ablation(ablation: list[dict], path: Path) -> None:
    """Validity against the number of SCC steps: held-out reconstruction and generated cells."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = [row["scc_steps"] for row in ablation]
    held = [row["held_out_reconstruction"] for row in ablation]
    fig, axis = plt.subplots(figsize=(5.5, 3.4))
    axis.plot(k, [np.mean(h["raw_validity"][:-1]) for h in held], "o-", label="held-out: sub-architectures, raw (mean over scales)")
    axis.plot(k, [h["raw_validity"][-1] for h in held], "s-", label="held-out: full cell, raw")
    axis.plot(k, [row["validity"] for row in ablation], "^--", label="generated: full cell, raw")
    axis.set_xlabel("SCC applied to the first k steps")
    axis.set_ylabel("validity (%)")
    axis.set_ylim(0, 100)
    axis.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
