"""Print the documentation's result tables (markdown) from the JSON files in benchmarks/results/.

    python benchmarks/report.py

docs/benchmarks.md holds this output (a test checks it matches), so every figure traces back to a JSON file
written by a benchmark command.
"""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _load(name: str) -> dict | None:
    """One result file; a name with ``*``: every matching file, by stem (None if none match)."""
    if "*" in name:
        return {path.stem: json.loads(path.read_text()) for path in sorted(RESULTS.glob(name))} or None
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def _f(value, digits=2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def generator_folds(results: dict) -> list[str]:
    lines = [f"Epochs per stage: {results['epochs_per_stage']}; seed {results['seed']}.", ""]
    t6 = results["nb201_table6"]
    g6 = results["nasbench_graph_table6"]

    def pm(key: str) -> str:
        return f"{_f(t6[key]['mean'])} ± {_f(t6[key]['std'])}"

    lines += [
        "| space | raw valid % (full check) | paper-comparable valid % (operations only) | uniqueness % (raw valid) | novelty % (raw valid) | uniqueness % (delivered) | novelty % (delivered) |",
        "|---|---|---|---|---|---|---|",
        f"| NB201 (3 runs: mean ± std) | {pm('raw_validity')} | {pm('paper_comparable_validity')} | {pm('raw_uniqueness')} | {pm('raw_novelty')} | "
        f"{pm('delivered_uniqueness')} | {pm('delivered_novelty')} |",
        f"| NAS-Bench-Graph (1 run) | {_f(g6['raw']['validity'])} | {_f(g6['paper_comparable_validity'])} | {_f(g6['raw']['uniqueness'])} | "
        f"{_f(g6['raw']['novelty'])} | {_f(g6['delivered']['uniqueness'])} | {_f(g6['delivered']['novelty'])} |",
        "| paper, NB201 (operations-only check) | | 100.00 | 99.70 | 59.34 | | |",
        "",
        "Raw validity of the sub-architectures at each scale (nodes), same runs (delivered: 100% at every scale):",
        "",
    ]
    nb_rows = [list(results["nb201"][task]["table6"]["sub_architecture_validity"]["raw"].values()) for task in results["nb201"]]
    nb_scales = list(next(iter(results["nb201"].values()))["table6"]["sub_architecture_validity"]["raw"])
    lines += [
        "| space | " + " | ".join(f"n={n}" for n in nb_scales) + " |",
        "|---|" + "---|" * len(nb_scales),
        "| NB201 | " + " | ".join(_f(sum(col) / len(col), 1) for col in zip(*nb_rows)) + " |",
        "| NAS-Bench-Graph | "
        + " | ".join(_f(v, 1) for v in g6["sub_architecture_validity"]["raw"].values())
        + " |"
        + " |" * (len(nb_scales) - len(g6["sub_architecture_validity"]["raw"])),
        "",
        "Quality (Fig. 4 middle/right protocol): test accuracy of 100 architectures generated for the top",
        "condition (cfg 2) by a model that never saw the dataset's scores, vs 100 uniformly random ones:",
        "",
        "| dataset | generated (delivered) | generated mean | generated max | random mean | random max | best in space |",
        "|---|---|---|---|---|---|---|",
    ]
    for task, row in results["nb201"].items():
        q = row["quality_top_vs_random"]
        lines.append(
            f"| {task} | {q['generated_valid']} | {_f(q['generated_mean'])} | {_f(q['generated_max'])} | "
            f"{_f(q['random_mean'])} | {_f(q['random_max'])} | {_f(q['space_best'])} |"
        )
    lines += [
        "",
        "Training time per stage (seconds, this 2-core CPU, 1 thread, other jobs running):",
        "",
        "| model | stage 1 | stage 2 |",
        "|---|---|---|",
    ]
    for name, seconds in results["training_seconds"].items():
        lines.append(f"| {name} | {_f(seconds.get('stage1'), 0)} | {_f(seconds.get('stage2'), 0)} |")
    return lines


def generator_ablation(results: dict) -> list[str]:
    lines = [f"Epochs per stage: {results['ablation_epochs_per_stage']}; seed {results['seed']}."]
    lines += [
        "",
        "SCC ablation (Fig. 3 protocol, NB201). Generated: 200 sampled without condition (raw validity) and for the top",
        "condition (mean CIFAR-10 test of the delivered ones; trained without CIFAR-10 scores). Held-out: stage 1 alone",
        "encodes and decodes 2,000 cells it never saw (raw validity and exact reconstruction of the full cell, mean raw validity of the smaller scales).",
        "",
        "| SCC on first k steps | generated raw validity % | generated mean sub-arch. raw validity % | mean CIFAR-10 test % | held-out raw validity % | held-out sub-arch. raw validity % | held-out exact % (raw) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in results["scc_ablation"]:
        sub = list(row["sub_architecture_validity"].values())[:-1]
        held = row["held_out_reconstruction"]
        held_sub = held["raw_validity"][:-1]
        lines.append(
            f"| {row['scc_steps']} | {_f(row['validity'])} | {_f(sum(sub) / len(sub))} | {_f(row['cifar10_mean_test_of_valid'])} | "
            f"{_f(held['raw_validity'][-1])} | {_f(sum(held_sub) / len(held_sub))} | {_f(held['exact_raw'][-1])} |"
        )
    lines += [
        "",
        "Codebook size (paper: V = number of structural elements, 7 for NB201), SCC on all steps:",
        "",
        "| V | generated raw validity % | held-out raw validity % | held-out exact reconstruction % (raw) |",
        "|---|---|---|---|",
    ]
    for row in results["codebook_ablation"]:
        held = row["held_out_reconstruction"]
        lines.append(f"| {row['codebook_size']} | {_f(row['validity'])} | {_f(held['raw_validity'][-1])} | {_f(held['exact_raw'][-1])} |")
    return lines


def generation_speed(results: dict) -> list[str]:
    lines = [
        f"CPU: {results['cpu']}, {results['threads']} threads, load average {results['load_average_at_start']:.2f} at the start.",
        "",
        "| space | guidance | ms/arch, batch 1 | ms/arch, batch 1,000 | of which projection onto the valid set |",
        "|---|---|---|---|---|",
    ]
    for space, rows in results["spaces"].items():
        for cfg, row in rows.items():
            lines.append(
                f"| {space} | {cfg} | {1e3 * row['seconds_per_arch_batch1_median']:.2f} | {1e3 * row['seconds_per_arch_batch1000_median']:.3f} | "
                f"{1e3 * row['projection_seconds_per_arch_batch1000_median']:.4f} |"
            )
    return lines


VALIDITY_HEADER = "raw valid % | paper-comparable valid % | delivered valid % | changed by projection % | distinct valid / 1,000"


def _validity_cells(report: dict) -> str:
    """The side-by-side validity columns of one generation report (metrics.generation_report)."""
    return (
        f"{_f(report['raw']['validity'], 1)} | {_f(report['paper_comparable_validity'], 1)} | {_f(report['delivered']['validity'], 1)} | "
        f"{_f(report['changed_by_projection'], 1)} | {_f(report['delivered']['unique_valid_per_1000'], 0)}"
    )


def shipped_weights(results: dict) -> list[str]:
    lines = [
        f"{results['n']} generated per row, seed {results['seed']} (the sweep used other seeds); test score of the "
        "distinct delivered architectures on the named task.",
        "",
        f"| space (task) | sampling | {VALIDITY_HEADER} | mean test of distinct | best test | ms / arch | space mean / best |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for space, rows in results["spaces"].items():
        for name in ("unconditional", "top, chosen setting"):
            row = rows[name]
            options = ", ".join(f"{k} {v}" for k, v in row["options"].items() if k != "performance") or "defaults"
            lines.append(
                f"| {space} ({rows['task']}) | {name} ({options}) | {_validity_cells(row)} | {_f(row['mean_test_of_distinct'], 4)} | "
                f"{_f(row['best_test'], 4)} | {_f(row['ms_per_architecture'], 2)} | {_f(rows['space_mean_test'], 4)} / {_f(rows['space_best_test'], 4)} |"
            )
    lines += [
        "",
        "Stage 2's teacher-forced loss per architecture (nats, null condition, 2,000 training architectures):",
        "",
        "| space | loss per architecture | ln(training-set size) |",
        "|---|---|---|",
    ]
    for space, rows in results["spaces"].items():
        loss = rows["stage2_loss"]
        lines.append(f"| {space} | {_f(loss['nats_per_architecture'], 1)} | {_f(loss['ln_training_set_size'], 1)} |")
    lines += [
        "",
        "Sweep of the top-condition settings (mean over the sweep's seeds; the settings no other beats on both columns):",
        "",
        "| space | guidance | temperature | top-p | distinct / 1,000 | mean test of distinct |",
        "|---|---|---|---|---|---|",
    ]
    for space, rows in results["spaces"].items():
        sweep = rows["sweep"]["rows"]
        frontier = [
            row
            for row in sweep
            if not any(
                o["distinct_per_1000"] >= row["distinct_per_1000"]
                and o["mean_test_of_distinct"] >= row["mean_test_of_distinct"]
                and o is not row
                for o in sweep
            )
        ]
        for row in frontier:
            o = row["options"]
            chosen = " (chosen)" if o == rows["sweep"]["chosen"] else ""
            lines.append(
                f"| {space} | {o['cfg_scale']:g} | {o['temperature']:g} | {o['top_p'] or '-'} | {_f(row['distinct_per_1000'], 0)} | "
                f"{_f(row['mean_test_of_distinct'], 4)}{chosen} |"
            )
    return lines


def stage1_reconstruction(results: dict) -> list[str]:
    lines = [
        "Every shipped checkpoint's stage 1 on the architectures it was trained on: exact reconstruction of each scale's "
        "target (raw decoder output / projected), coarse to fine; the last scale is the full architecture.",
        "",
        "| checkpoint | architectures | decoder epochs | seconds | full architecture exact % (raw / projected) | per scale, raw % |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in results.items():
        if "decoder_from" in row:
            continue
        r = row["reconstruction"]
        per_scale = ", ".join(f"{_f(v, 1)} ({n})" for n, v in zip(r["scales"], r["exact_raw"]))
        lines.append(
            f"| {name} | {row['architectures']} | {row['epochs']} | {_f(row['seconds'], 0)} | "
            f"{_f(r['exact_raw'][-1], 2)} / {_f(r['exact_projected'][-1], 2)} | {per_scale} |"
        )
    shared = [name for name, row in results.items() if "decoder_from" in row]
    if shared:
        lines += ["", f"Sharing a fitted decoder (identical encoder and quantizer): {', '.join(shared)}."]
    return lines


def optuna_study(results: dict) -> list[str]:
    at = [t for t in (1, 2, 5, 10, 20, 50, 100) if t <= results["trials"]]
    lines = [
        f"{results['space']} / {results['task']}, {len(results['seeds'])} seeds, {results['trials']} trials; test accuracy of the "
        f"best-by-validation trial so far (mean over seeds); best in the space {results['best_in_space_test']:.2f}.",
        "",
        "| sampler | " + " | ".join(f"after {t}" for t in at) + " | s/trial |",
        "|---|" + "---|" * (len(at) + 1),
    ]
    for method, row in results["methods"].items():
        per_trial = row["seconds"] / (results["trials"] * len(results["seeds"]))
        lines.append(f"| {method} | " + " | ".join(f"{row['mean_best_test'][t - 1]:.2f}" for t in at) + f" | {per_trial:.3f} |")
    return lines


def optuna_overhead(results: dict) -> list[str]:
    lines = [
        f"Median of {results['repeats']} x {results['calls']} ask + tell rounds after N completed trials, the samplers "
        f"taking turns in each round (GP timed alone after them; the first round, with one-off work, apart: median over "
        f"the repeats); {results['threads']} threads, optuna {results['optuna']}, load average "
        f"{results['load_average_at_start']:.2f} at the start.",
        "",
        "| space | N | sampler | median s | ratio to TPE | ratio, each repeat | first round s |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        each = " / ".join(f"{ratio:.2f}" for ratio in row["ratio_to_tpe_per_repeat"])
        lines.append(
            f"| {row['space']} | {row['completed_trials']} | {row['sampler']} | {row['median_seconds']:.4f} | "
            f"{row['median_ratio_to_tpe']:.2f} | {each} | {row['first_call_seconds']:.3f} |"
        )
    lines += [
        "",
        f"Whole studies from scratch ({results['end_to_end'][0]['trials']} trials, everything included):",
        "",
        "| space | sampler | s/trial | ratio to TPE | best value |",
        "|---|---|---|---|---|",
    ]
    for row in results["end_to_end"]:
        lines.append(
            f"| {row['space']} | {row['sampler']} | {row['seconds_per_trial']:.4f} | {row['ratio_to_tpe']:.2f} | {row['best_value']:.4f} |"
        )
    return lines


def user_spaces(results: dict) -> list[str]:
    quality, cost, first, suite, targets = (
        results["quality"],
        results["cost_per_trial"],
        results["first_ask"],
        results["conformance"],
        results["targets"],
    )
    horizons = list(quality["tpe"]["mean_best_at"])
    rerun = "".join(
        f" {part} rerun alone later, load average {load:.2f} at its start."
        for part, load in results.get("load_average_at_start_of_part", {}).items()
    )
    lines = [
        f"{results['cpus']} CPUs, load average {results['load_average_at_start']:.2f} at the start.{rerun} "
        f"Mixed 6-parameter space (lower is better), mean best value over seeds:",
        "",
        "| sampler | seeds | " + " | ".join(f"after {n}" for n in horizons) + " | TPE on the same seeds | s per study |",
        "|---|---|" + "---|" * len(horizons) + "---|---|",
    ]
    tpe_runs = quality["tpe"]["best_at_per_seed"]
    for name, row in quality.items():
        same = " / ".join(f"{sum(tpe_runs[n][: row['seeds']]) / row['seeds']:.4f}" for n in horizons)
        lines.append(
            f"| {name} | {row['seeds']} | "
            + " | ".join(f"{row['mean_best_at'][n]:.4f}" for n in horizons)
            + f" | {same} | {row['seconds_per_study']:.2f} |"
        )
    nni, syne = results["nni"], results["syne_tune"]
    lines += [
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| first ask, user's space / NB201 (fresh process, median of {len(first['mixed']['seconds'])}) | "
        f"{first['mixed']['median_s']:.2f} s / {first['nb201']['median_s']:.2f} s | <= {targets['first_ask_s']['mixed']:g} s / <= {targets['first_ask_s']['nb201']:g} s |",
        f"| ask + tell at 100 trials, ratio to TPE, NB201 / user's space | {cost['nb201']['ratio']:.2f} / {cost['mixed']['ratio']:.2f} | "
        f"<= {targets['cost_ratio_to_tpe']['nb201']:g} / <= {targets['cost_ratio_to_tpe']['mixed']:g} |",
        f"| Optuna's conformance suite (Basic + Relative): PNAG / TPE | {suite['pnag']['seconds']:.1f} s / {suite['tpe']['seconds']:.1f} s "
        f"(ratio {suite['ratio']:.2f}; {suite['pnag']['summary']}) | ratio <= {targets['conformance_ratio']:g} |",
        f"| NNI: `examples/nni_nas.py`, PNAGStrategy, {nni['trials']} models trained 1 epoch | {nni['seconds']:.1f} s | <= {targets['nni_s']:g} s |",
        f"| Syne Tune: PNAGSearcher, {syne['trials_run']} trials ({syne['distinct_configurations']} distinct), {syne['workers']} workers, simulated | "
        f"{syne['seconds']:.1f} s | <= {targets['syne_tune_s']:g} s |",
    ]
    return lines


def more_spaces(results: dict) -> list[str]:
    lines = [
        f"{results['n']} generated per space and setting (seed {results['seed']}); modules built and run for the delivered ones of the defaults setting (1 image, 1 CPU thread):",
        "",
        f"| space | setting | {VALIDITY_HEADER} | novelty % | raw / delivered validity % per scale (nodes) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for space, row in results["table6"].items():
        for setting in ("unconditional", "checkpoint defaults"):
            r = row[setting]
            per_scale = r["sub_architecture_validity"]
            scales = ", ".join(f"{_f(per_scale['raw'][n], 1)} / {_f(per_scale['delivered'][n], 1)} ({n})" for n in per_scale["raw"])
            lines.append(f"| {space} | {setting} | {_validity_cells(r)} | {_f(r['delivered']['novelty'])} | {scales} |")
    lines += [
        "",
        "| space | stage 1: held-out chains reconstructed exactly % (raw / projected) | built / ran a forward pass | median params (M) | median MACs (G) | median CPU forward (ms) |",
        "|---|---|---|---|---|---|",
    ]
    for space, row in results["table6"].items():
        modules, median, exact = row["modules"], row["modules"]["median"], row["stage1_exact_reconstruction"]
        lines.append(
            f"| {space} | {_f(exact['raw'], 1)} / {_f(exact['projected'], 1)} | {modules['built']} / {modules['ran_forward']} | {_f(median.get('params_m'))} | "
            f"{_f(median.get('macs_g'))} | {_f(median.get('cpu_forward_ms'), 1)} |"
        )
    mbv3 = results["mbv3_latency"]
    lines += [
        "",
        f"MobileNetV3 under Note10 latency budgets: pools of {results['mbv3_latency']['rows'][str(mbv3['budgets_ms'][0])]['random']['pool']} "
        "(PNAG: top accuracy + the budget's condition, checkpoint sampling settings), accuracy from OFA's predictor (top-1 %):",
        "",
        "| budget (ms) | PNAG delivered | PNAG within budget | PNAG best / mean within | random within budget | random best / mean within | OFA evolution best (predictor calls) |",
        "|---|---|---|---|---|---|---|",
    ]
    pct = lambda v: "-" if v is None else f"{100 * v:.2f}"  # noqa: E731
    for budget in mbv3["budgets_ms"]:
        row = mbv3["rows"][str(budget)]
        p, r, e = row["pnag"], row["random"], row["ofa_evolution"]
        lines.append(
            f"| {budget:g} | {p['valid']} | {p['within_budget']} | {pct(p['best_accuracy_within'])} / {pct(p['mean_accuracy_within'])} | "
            f"{r['within_budget']} | {pct(r['best_accuracy_within'])} / {pct(r['mean_accuracy_within'])} | {pct(e['best_accuracy_within'])} ({e['predictor_calls']}) |"
        )
    lines += [
        "",
        "AutoFormer under a parameter budget (pools as above; PNAG conditioned on the budget's quantile):",
        "",
        "| space | budget (M) | PNAG delivered | PNAG within budget | PNAG mean params (M) | random within budget | random mean params (M) |",
        "|---|---|---|---|---|---|---|",
    ]
    for space, row in results["autoformer_params"].items():
        lines.append(
            f"| {space} | {row['budget_m']:g} | {row['pnag']['valid']} | {row['pnag']['within_budget']} | {_f(row['pnag']['mean_params_m'])} | "
            f"{row['random']['within_budget']} | {_f(row['random']['mean_params_m'])} |"
        )
    return lines


def _ci(cell: dict, digits: int = 2, scale: float = 1.0) -> str:
    return f"{scale * cell['mean']:.{digits}f} ± {scale * cell['ci95']:.{digits}f}"


def _correlations(results: dict) -> list[str]:
    lines = [
        "Surrogate: rank correlation with the held-out validation score over the whole table, by support size (mean of 5 draws):",
        "",
        "| held-out dataset | Spearman, support 0 / 5 / 20 / 50 | Kendall, support 0 / 5 / 20 / 50 |",
        "|---|---|---|",
    ]
    for name, row in results["surrogate_correlation"].items():
        lines.append(
            f"| {name} | "
            + " / ".join(f"{cell['spearman']:.3f}" for cell in row.values())
            + " | "
            + " / ".join(f"{cell['kendall']:.3f}" for cell in row.values())
            + " |"
        )
    return lines


def transfer_nb201(results: dict) -> list[str]:
    lines = [f"Leave-one-dataset-out; {len(results['seeds'])} seeds; {results['seconds'] / 60:.0f} min.", "", *_correlations(results)]
    lines += [
        "",
        "Table 1 protocol: test accuracy % of the best-by-validation cell (mean ± 95% CI), and per seed the evaluations until the "
        "space's best-by-validation cell is among those evaluated ('-': not within the budget):",
        "",
        "| dataset | method | after 1 | after 2 | after 5 | after 10 | evaluations to the optimum | optimum's test |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for task, table in results["nb201_search"].items():
        for method, row in table["methods"].items():
            found = ", ".join("-" if f is None else str(f) for f in row["evaluations_to_optimum"])
            cells = " | ".join(_ci(row["best_test_after"][k]) for k in ("1", "2", "5", "10"))
            lines.append(f"| {task} | {method} | {cells} | {found} | {table['best_by_validation_test']:.2f} |")
    t5 = results["table5"]
    lines += [
        "",
        f"Table 5 protocol, {t5['task']} (weights {t5['weights']}): 20 generated per objective, measured in the tables:",
        "",
        "| objective | valid | test acc. max / mean | "
        + " | ".join(f"{d} ms mean / share within cap" for d in t5["caps_ms"])
        + " | params M mean / min |",
        "|---|---|---|" + "---|" * len(t5["caps_ms"]) + "---|",
    ]
    for name, pool in t5["pools"].items():
        devices = " | ".join(f"{pool[f'latency_ms:{d}']['mean']:.2f} / {pool[f'latency_ms:{d}']['within_cap']:.2f}" for d in t5["caps_ms"])
        lines.append(
            f"| {name} | {pool['valid']} | {pool['test_accuracy']['max']:.2f} / {pool['test_accuracy']['mean']:.2f} | {devices} | "
            f"{pool['params_m']['mean']:.3f} / {pool['params_m']['min']:.3f} |"
        )
    return lines


def transfer_graph(results: dict) -> list[str]:
    lines = [f"Leave-one-dataset-out; {len(results['seeds'])} seeds; {results['seconds'] / 60:.0f} min.", "", *_correlations(results)]
    lines += [
        "",
        "Search: regret to the dataset's best test accuracy (percentage points, mean ± 95% CI):",
        "",
        "| dataset | method | after 1 | after 5 | after 10 | after 20 |",
        "|---|---|---|---|---|---|",
    ]
    for task, table in results["graph_search"].items():
        for method, row in table["methods"].items():
            lines.append(
                f"| {task} | {method} | " + " | ".join(_ci(row["regret_after"][k], scale=100) for k in ("1", "5", "10", "20")) + " |"
            )
    return lines


def _scale(problem: str) -> float:
    """NAS-Bench-Graph scores are fractions, shown as percentage points like NB201's; HPOLib's
    are validation MSE, shown x 100 by the same factor (the tables say so)."""
    return 1.0 if problem.startswith("nb201") else 100.0


def _invocations(results: dict) -> list[str]:
    chain, current = [], results
    while current:
        chain.append(current)
        current = current.get("previous")
    lines = []
    for number, run in enumerate(reversed(chain), 1):
        ran = f"{run['runs']} runs, {run['reused_runs']} reused" if "runs" in run else "every run"
        ran += " (the asked methods' stored runs run again)" if run.get("rerun") else ""
        asked = f"problems {', '.join(run['asked_problems'])}; " if "asked_problems" in run else ""
        lines.append(f"{number}. {asked}methods {', '.join(run['methods'])}; {ran}; {run['jobs']} processes; {run['seconds'] / 60:.1f} min")
    return lines


def bench_suite(results: dict) -> list[str]:
    """Per problem: regret after 1, 10 and the budget (95% CI) and average rank after 10; then
    whether pure PNAG is ahead of every method without PNAG after 10 evaluations."""
    budget = str(results["budget"])
    at = list(dict.fromkeys(("1", "10", budget)))
    lines = [
        f"{len(results['seeds'])} seeds, budget {budget}. Regret in percentage points (mean ± 95% CI). "
        f"Each run's own seconds, summed over every run here, add up to {results['run_seconds'] / 3600:.1f} hours. The invocations that made "
        "these files, oldest first (`summary.json`'s `previous` chain):",
        "",
        *_invocations(results),
        "",
    ]
    verdicts = []
    for problem, table in results["problems"].items():
        scale = _scale(problem)
        lines += [
            f"**{problem}**" + (f" (no held-out PNAG weights: skipped {', '.join(table['skipped'])})" if table["skipped"] else ""),
            "",
            "| method | " + " | ".join(f"after {k}" for k in at) + " | rank after 10 | s per evaluation |",
            "|---|" + "---|" * (len(at) + 2),
        ]
        for method, row in sorted(table["methods"].items(), key=lambda item: item[1]["regret_after"]["10"]["mean"]):
            cells = " | ".join(_ci(row["regret_after"][k], scale=scale) for k in at)
            lines.append(f"| {method} | {cells} | {row['average_rank_after']['10']:.2f} | {row['seconds_per_evaluation']:.4f} |")
        lines.append("")
        if "pnag" in table["methods"]:
            baselines = {m: r["regret_after"]["10"]["mean"] for m, r in table["methods"].items() if "pnag" not in m}
            best = min(baselines, key=baselines.get)
            mine = table["methods"]["pnag"]["regret_after"]["10"]["mean"]
            verdicts.append((problem, mine * scale, best, baselines[best] * scale, mine < baselines[best]))
    lines += [
        "Target: pure PNAG ahead of every method without PNAG in mean regret after 10 evaluations.",
        "",
        "| problem | pnag | best baseline | its regret | PNAG ahead |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {p} | {mine:.3f} | {best} | {theirs:.3f} | {'yes' if ahead else 'no'} |" for p, mine, best, theirs, ahead in verdicts]
    return lines


def conditioned_graph_folds(results: dict) -> list[str]:
    """The NAS-Bench-Graph folds before and after their stage 2 was conditioned on the other
    datasets' scores: 1,000 samples under the search's pool settings."""
    after = next(iter(results.values()))["after"]["settings"]
    lines = [
        "1,000 samples per fold under the search's pool settings at the time (before: unconditional; after: performance "
        f"quantile {after['performance']}, guidance {after['cfg_scale']}); mean validation accuracy (%) of the held-out "
        "dataset over the delivered samples, beside 1,000 uniform ones.",
        "",
        "| held-out dataset | raw valid % before / after | delivered unique valid per 1,000 before / after | "
        "changed by the projection % (after) | held-out validation: uniform / before / after | conditioning (s, epochs) |",
        "|---|---|---|---|---|---|",
    ]
    for name, fold in sorted(results.items(), key=lambda item: "proteins" in item[0]):
        before, after, step = fold["before"], fold["after"], fold["conditioned_stage2"]
        lines.append(
            f"| {name.rsplit('_without_', 1)[1]} | {before['raw']['validity']:.1f} / {after['raw']['validity']:.1f} | "
            f"{before['delivered']['unique_valid_per_1000']:.0f} / {after['delivered']['unique_valid_per_1000']:.0f} | "
            f"{after['changed_by_projection']:.1f} | {100 * fold['uniform_mean_validation']:.2f} / "
            f"{100 * before['held_out_mean_validation']:.2f} / {100 * after['held_out_mean_validation']:.2f} | "
            f"{step['seconds']:.0f}, {step['epochs']} |"
        )
    return lines


def graph_fold_guidance(results: dict) -> list[str]:
    """The guidance sweep that chose the NAS-Bench-Graph folds' pool setting."""
    budget = results["budget"]
    scales = list(results[f"mean_regret_after_{budget}"])
    seeds = results["seeds"]
    lines = [
        f"Regret (percentage points) after {budget} evaluations, mean of seeds {seeds[0]}-{seeds[-1]}; "
        f"chosen: guidance {results['best_scale']}.",
        "",
        "| held-out dataset | " + " | ".join(f"guidance {scale}" for scale in scales) + " |",
        "|---|" + "---|" * len(scales),
    ]
    for task, row in results["folds"].items():
        lines.append(f"| {task} | " + " | ".join(f"{100 * row[scale][f'regret_after_{budget}']:.2f}" for scale in scales) + " |")
    means = results[f"mean_regret_after_{budget}"]
    lines.append("| **mean** | " + " | ".join(f"**{100 * means[scale]:.2f}**" for scale in scales) + " |")
    return lines


def local_moves(results: dict) -> list[str]:
    """PNAG with and without the best result's neighbours among its candidates."""
    lines = [
        f"PNAG (held-out weights) with the local moves off -> on (from {results['local_moves_after']} results on), "
        "mean regret in percentage points (HPOLib: validation MSE x 100), on seeds that no reported row uses.",
        "",
        "| problem | seeds | after 10 | after 50 | after 100 |",
        "|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        scale, off, on = _scale(row["space"]), row["regret_after"]["moves off"], row["regret_after"]["moves on"]
        cells = [f"{scale * off[k]:.3g} -> {scale * on[k]:.3g}" if k in on else "" for k in ("10", "50", "100")]
        lines.append(f"| {row['space']}-{row['task']} | {row['seeds'][0]}-{row['seeds'][1]} | " + " | ".join(cells) + " |")
    return lines


def generator_control(results: dict) -> list[str]:
    """PNAG against the same surrogate ranking a uniform pool of the same size: what the
    generator adds, per problem, after 1 and 10 evaluations."""
    lines = [
        f"{len(results['seeds'])} seeds, budget {results['budget']}; regret in percentage points (HPOLib: validation MSE x 100), "
        "mean ± 95% CI, leave-one-dataset-out weights.",
        "",
        "| problem | pnag after 1 | control after 1 | pnag after 10 | control after 10 | PNAG ahead after 10 |",
        "|---|---|---|---|---|---|",
    ]
    for problem, table in results["problems"].items():
        scale = _scale(problem)
        pnag, control = table["methods"]["pnag"]["regret_after"], table["methods"]["surrogate+uniform"]["regret_after"]
        ahead = pnag["10"]["mean"] < control["10"]["mean"]
        lines.append(
            f"| {problem} | {_ci(pnag['1'], scale=scale)} | {_ci(control['1'], scale=scale)} | {_ci(pnag['10'], scale=scale)} | "
            f"{_ci(control['10'], scale=scale)} | {'yes' if ahead else 'no'} |"
        )
    return lines


def every_method_timing(results: dict) -> list[str]:
    lines = [
        f"`pnag bench search --space {results['space']} --dataset {results['dataset']} --methods all --budget {results['budget']} "
        f"--seeds 1` (one seed; another job used one of the two cores meanwhile):",
        "",
        "| method | s per run | regret after 10 | after 100 |",
        "|---|---|---|---|",
    ]
    for method, row in sorted(results["methods"].items(), key=lambda item: -item[1]["seconds_per_run"]):
        lines.append(
            f"| {method} | {row['seconds_per_run']:.1f} | {row['regret_after']['10']['mean']:.2f} | {row['regret_after']['100']['mean']:.2f} |"
        )
    return lines


def efficiency(results: dict) -> list[str]:
    vae = results["graph_vae"]
    lines = [
        f"{len(results['seeds'])} seeds, budget {results['budget']}; graph VAE trained {vae['epochs']} epochs "
        f"({vae['training_seconds']:.0f} s) on the architectures only.",
        "",
        "| dataset | generator | s per architecture, batch 1 | per architecture, batches of 100 | validity % | "
        "evaluations to the run's best | s to the run's best | regret after 10 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for task, table in results["tasks"].items():
        once = {"pnag (generated order)": table["pnag_once_time"], "graph-vae (generated order)": vae["once_time"]}
        for method, row in table["methods"].items():
            time = once.get(method)
            lines.append(
                f"| {task} | {method} | {_f(time['batch1_seconds'], 5) if time else '-'} | "
                f"{_f(time['per_architecture_in_batches_of_100'], 6) if time else '-'} | "
                f"{_ci(row['validity_percent'], 1) if 'validity_percent' in row else '-'} | {_ci(row['evaluations_to_best'], 1)} | "
                f"{_ci(row['seconds_to_best'], 3)} | {_ci(row['regret_after_10'])} |"
            )
    return lines


def install_footprint(results: dict) -> list[str]:
    seconds, wheels, targets = results["seconds"], results["wheel_mb"], results["targets"]
    return [
        f"Median of {results['repeats']} fresh processes each, {results['cpus']} CPUs, load average "
        f"{results['load_average_at_start']:.2f} at the start (Python's own start-up: {seconds['python_startup']:.3f} s).",
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| `import pnag_sampler` | {seconds['import_pnag_sampler']:.3f} s | < {targets['import_pnag_sampler']:g} s |",
        f"| `pnag --help` | {seconds['pnag_help']:.3f} s | < {targets['pnag_help']:g} s |",
        f"| `pnag` with a bad argument (the error) | {seconds['pnag_bad_argument']:.3f} s | - |",
        f"| `from pnag_sampler import PNAGSampler` (imports torch and Optuna) | {seconds['import_PNAGSampler']:.3f} s | - |",
        f"| core wheel `pnag-sampler` | {wheels['pnag-sampler']:.2f} MB | < {targets['wheel_mb']:g} MB |",
        f"| held-out checkpoints `pnag-sampler-heldout` (benchmarks only) | {wheels['pnag-sampler-heldout']:.2f} MB | - |",
    ]


def cold_start(results: dict) -> list[str]:
    return [
        f"First trial of each worker (weights, the first quarter of the first pool, ranking), {results['workers']} workers started together vs one alone; "
        f"{results['cpus']} CPUs, load average {results['load_average_at_start']:.2f} at the start.",
        "",
        "| workers | first trial, s (each run) | slowest together / single (median) | target |",
        "|---|---|---|---|",
        f"| 1 | {', '.join(f'{s:.2f}' for s in results['single_worker_first_trial_s'])} | - | - |",
        f"| {results['workers']} | {'; '.join(', '.join(f'{s:.2f}' for s in run) for run in results['together_first_trial_s'])} | "
        f"{results['slowest_together_over_single']:.2f} | <= {results['target_ratio']:g} |",
    ]


def long_study(results: dict) -> list[str]:
    at, targets = results["ask_tell_s_at"], results["targets"]
    return [
        f"One in-memory NB201 study of {results['trials']} trials (CIFAR-10 weights held out, every pool generated during the run), "
        f"{results['cpus']} CPUs, load average {results['load_average_at_start']:.2f} at the start; "
        f"{results['distinct_architectures']} distinct architectures, {results['wall_s']:.0f} s in all.",
        "",
        "| measure | result | target |",
        "|---|---|---|",
        "| ask + tell at "
        + " / ".join(at)
        + " trials (ms, median of the 10 before) | "
        + " / ".join(f"{1000 * v:.1f}" for v in at.values())
        + " | - |",
        f"| at 1,000 over at 100 | {results['ratio_1000_to_100']:.2f} | <= {targets['ratio_1000_to_100']:g} |",
        f"| first trial (weights and the first quarter of the first pool) | {results['first_trial_s']:.2f} s | - |",
        f"| slowest later ask (trial {results['slowest_ask_trial']}) | {results['slowest_ask_after_first_s']:.2f} s | <= {targets['slowest_ask_after_first_s']:g} s |",
        f"| peak resident memory | {results['peak_rss_mb']:.0f} MB | < {targets['peak_rss_mb']:g} MB |",
    ]


def hpolib(results: dict) -> list[str]:
    """The generator of each checkpoint; per dataset, regret of validation MSE after 10 and the
    budget (95% CI) and average rank; then the same parameters under other names."""
    budget, transfer, generator = str(results["budget"]), results["transfer"], results["generator"]
    lines = [
        f"Generators (load average {generator['load_average_at_start']:.2f}): 1,000 configurations each, seed 0; "
        "top: performance 1.0, guidance 2.0 (the search's setting).",
        "",
        "| weights | stage 1 exact, raw / projected | generation | raw valid | paper-comparable | delivered valid | "
        "changed by projection | unique valid per 1,000 | novelty | held-out MSE of distinct (space mean) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for weights, rows in generator["checkpoints"].items():
        exact = rows["stage1_exact"]
        for name in ("unconditional", "top"):
            report = rows[name]
            held_out = report.get("held_out_mean_val_loss_of_distinct")
            held_out_cell = "-" if held_out is None else f"{held_out:.3g} ({report['held_out_space_mean_val_loss']:.3g})"
            lines.append(
                f"| {weights} | {exact['raw']:.1f} / {exact['projected']:.1f} | {name} | {_validity_cells(report)} | "
                f"{_f(report['delivered']['novelty'], 1)} | {held_out_cell} |"
            )
    lines += [
        "",
        f"{results['seeds']} seeds, {results['cpus']} CPUs, load average {results['load_average_at_start']:.2f} at the start. "
        "Regret: validation MSE of the best trial so far minus the dataset's best (lower is better); "
        "rank: average over seeds among these methods (1 = best); a local optimum: a configuration no single "
        "parameter change improves (by validation).",
        "",
        f"| dataset (best MSE) | method | regret after 10 | regret after {budget} | rank after 10 / {budget} | "
        f"seeds at a local optimum after {budget} | s per study |",
        "|---|---|---|---|---|---|---|",
    ]
    for task, rows in transfer.items():
        for method, cell in rows["summary"].items():
            regret, rank = cell["regret_after"], cell["average_rank_after"]
            lines.append(
                f"| {task} ({rows['best_val_loss']:.3g}) | {method} | {regret['10']['mean']:.3g} ± {regret['10']['ci95']:.2g} | "
                f"{regret[budget]['mean']:.3g} ± {regret[budget]['ci95']:.2g} | {rank['10']:.1f} / {rank[budget]:.1f} | "
                f"{rows['ends_at_local_optimum'][method]} of {results['seeds']} | {rows['seconds_per_study'][method]:.1f} |"
            )
    untold = results["untold"]
    lines += [
        "",
        f"Told nothing (the nine parameters renamed), mean best MSE after {untold['trials']} trials "
        f"(load average {untold['load_average_at_start']:.2f} at the start):",
        "",
        "| dataset | TPE | PNAGSampler as shipped | identical to TPE on every seed | PNAG learned online (seeds) |",
        "|---|---|---|---|---|",
    ]
    for task, rows in untold["datasets"].items():
        online, online_cell = rows.get("pnag-online"), "not run"
        if online:
            count = len(online["best_per_seed"])
            same_seeds = sum(rows["tpe"]["best_per_seed"][:count]) / count
            online_cell = f"{online['mean_best']:.3g} ({count}; TPE on them {same_seeds:.3g})"
        lines.append(
            f"| {task} | {rows['tpe']['mean_best']:.3g} | {rows['pnag']['mean_best']:.3g} | "
            f"{'yes' if rows['pnag_identical_to_tpe'] else 'no'} | {online_cell} |"
        )
    return lines


#: docs/benchmarks.md's tables in order: result file(s) -> the function that renders them
TABLES = (
    (("generator_quality_folds.json",), generator_folds),
    (("generator_quality_ablation.json",), generator_ablation),
    (("ship_structured_decoders.json",), stage1_reconstruction),
    (("shipped_weights.json",), shipped_weights),
    (("optuna_study/studies.json",), optuna_study),
    (("optuna_overhead.json",), optuna_overhead),
    (("user_spaces.json",), user_spaces),
    (("hpolib.json",), hpolib),
    (("local_moves.json",), local_moves),
    (("install_footprint.json",), install_footprint),
    (("cold_start.json",), cold_start),
    (("long_study.json",), long_study),
    (("generation_speed.json",), generation_speed),
    (("more_spaces.json",), more_spaces),
    (("transfer_nb201.json",), transfer_nb201),
    (("transfer_graph.json",), transfer_graph),
    (("train_nasbench_graph*_without_*.json",), conditioned_graph_folds),
    (("graph_fold_guidance.json",), graph_fold_guidance),
    (("bench_generator/summary.json",), generator_control),
    (("bench/summary.json",), bench_suite),
    (("bench_every_method_one_seed.json",), every_method_timing),
    (("efficiency.json",), efficiency),
)


def main() -> None:
    for names, render in TABLES:
        results = [_load(name) for name in names]
        if any(r is None for r in results):
            continue
        print(f"<!-- from benchmarks/results/{' and '.join(names)} -->")
        print("\n".join(render({k: v for r in results for k, v in r.items()})))
        print()


if __name__ == "__main__":
    main()
