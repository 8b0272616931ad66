"""Print README's result tables (markdown) from the JSON files in benchmarks/results/.

    python benchmarks/report.py

README's numbers are pasted from this output, so every figure traces back to a JSON file
written by a benchmark command.
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _load(name: str) -> dict | None:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def _f(value, digits=2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def generator_quality(results: dict) -> list[str]:
    lines = [f"Epochs per stage: {results['epochs_per_stage']} (SCC/codebook ablation: {results['ablation_epochs_per_stage']}); seed {results['seed']}.", ""]
    t6 = results["nb201_table6"]
    g6 = results["nasbench_graph_table6"]
    lines += [
        "| space | validity % | uniqueness % | novelty % |",
        "|---|---|---|---|",
        f"| NB201 (3 runs: mean ± std) | {_f(t6['validity']['mean'])} ± {_f(t6['validity']['std'])} | "
        f"{_f(t6['uniqueness']['mean'])} ± {_f(t6['uniqueness']['std'])} | {_f(t6['novelty']['mean'])} ± {_f(t6['novelty']['std'])} |",
        f"| NAS-Bench-Graph (1 run) | {_f(g6['validity'])} | {_f(g6['uniqueness'])} | {_f(g6['novelty'])} |",
        "| paper, NB201 | 100.00 | 99.70 | 59.34 |",
        "",
        "Validity of the sub-architectures at each scale (n = 3..N nodes), same runs:",
        "",
        "| space | " + " | ".join(f"n={n}" for n in range(3, 3 + len(g6["sub_architecture_validity"]) + 2)) + " |",
    ]
    nb_rows = [results["nb201"][task]["table6"]["sub_architecture_validity"] for task in results["nb201"]]
    nb_mean = [sum(col) / len(col) for col in zip(*nb_rows)]
    lines += [
        "|---|" + "---|" * len(nb_mean),
        "| NB201 | " + " | ".join(_f(v, 1) for v in nb_mean) + " |",
        "| NAS-Bench-Graph | " + " | ".join(_f(v, 1) for v in g6["sub_architecture_validity"]) + " | | |",
        "",
        "Quality (Fig. 4 middle/right protocol): test accuracy of 100 architectures generated for the top",
        "condition (cfg 2) by a model that never saw the dataset's scores, vs 100 uniformly random ones:",
        "",
        "| dataset | generated valid | generated mean | generated max | random mean | random max | best in space |",
        "|---|---|---|---|---|---|---|",
    ]
    for task, row in results["nb201"].items():
        q = row["quality_top_vs_random"]
        lines.append(f"| {task} | {q['generated_valid']} | {_f(q['generated_mean'])} | {_f(q['generated_max'])} | "
                     f"{_f(q['random_mean'])} | {_f(q['random_max'])} | {_f(q['space_best'])} |")
    lines += ["", "SCC ablation (Fig. 3 protocol; CIFAR-10 test accuracy of valid generated cells, model trained without CIFAR-10 scores):", "",
              "| SCC on first k steps | validity % | mean sub-architecture validity % | mean CIFAR-10 test % |", "|---|---|---|---|"]
    for row in results["scc_ablation"]:
        sub = row["sub_architecture_validity"][:-1]
        lines.append(f"| {row['scc_steps']} | {_f(row['validity'])} | {_f(sum(sub) / len(sub))} | {_f(row['cifar10_mean_test_of_valid'])} |")
    lines += ["", "Codebook size (paper: V = number of structural elements, 7 for NB201):", "",
              "| V | validity % | exact reconstruction of 2,000 held-out cells % |", "|---|---|---|"]
    for row in results["codebook_ablation"]:
        lines.append(f"| {row['codebook_size']} | {_f(row['validity'])} | {_f(row['held_out_exact_reconstruction'])} |")
    lines += ["", "Training time per stage (seconds, this 2-core CPU, 1 thread, other jobs running):", "",
              "| model | stage 1 | stage 2 |", "|---|---|---|"]
    for name, seconds in results["training_seconds"].items():
        lines.append(f"| {name} | {_f(seconds.get('stage1'), 0)} | {_f(seconds.get('stage2'), 0)} |")
    return lines


def generation_speed(results: dict) -> list[str]:
    lines = [f"CPU: {results['cpu']}, {results['threads']} threads.", "",
             "| space | guidance | s/arch, batch 1 | s/arch, batch 1,000 |", "|---|---|---|---|"]
    for space, rows in results["spaces"].items():
        for cfg, row in rows.items():
            lines.append(f"| {space} | {cfg} | {row['seconds_per_arch_batch1_median']:.4f} | {row['seconds_per_arch_batch1000_median']:.5f} |")
    return lines


def main() -> None:
    for name, render in (("generator_quality.json", generator_quality), ("generation_speed.json", generation_speed)):
        results = _load(name)
        if results is not None:
            print(f"<!-- from benchmarks/results/{name} -->")
            print("\n".join(render(results)))
            print()


if __name__ == "__main__":
    main()
