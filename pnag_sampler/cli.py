"""The ``pnag`` command line: train, generate, demo, study (the main job), bench.

Every command takes ``--seed`` where randomness enters and ``--json`` where a machine reads the
result; long work shows progress bars on stderr, so stdout stays clean for JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pnag_sampler.errors import PNAGError, UnknownNameError
from pnag_sampler.harness.commands import add_bench_parser, add_demo_parser, add_study_parser
from pnag_sampler.lazy import LazyImport
from pnag_sampler.spaces import SPACE_NAMES, get_space

if TYPE_CHECKING:  # for annotations only: the module proxies below cannot name types
    from pnag_sampler.generator import PNAG

# what the commands run, imported when one runs: `pnag --help` and argument errors stay fast
np = LazyImport("numpy")
torch = LazyImport("torch")
cost_budgets = LazyImport("pnag_sampler.conditioning.budgets")
task_generation = LazyImport("pnag_sampler.conditioning.tasks")
nb201 = LazyImport("pnag_sampler.data.nb201")
generator = LazyImport("pnag_sampler.generator")
metrics = LazyImport("pnag_sampler.metrics")
pretraining = LazyImport("pnag_sampler.pretraining")
train_progress = LazyImport("pnag_sampler.train_progress")


#: --target not given: the checkpoint's generation defaults decide (not a str: argparse would
#: pass a str default through ``type``)
MODEL_DEFAULT = object()


def _target(text: str) -> float | None:
    """``top`` -> 1.0, ``none`` -> unconditional, a number -> that quantile."""
    if text == "top":
        return 1.0
    if text == "none":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--target is 'top', 'none' or a quantile in [0, 1], got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"--target quantile must be in [0, 1], got {value}")
    return value


#: the arguments that define a training run: a resumed run must be given the same
TRAINING_SETTINGS = (
    "space",
    "tasks",
    "fraction",
    "samples",
    "stage1_epochs",
    "stage2_epochs",
    "surrogate_steps",
    "init",
    "batch_size",
    "seed",
)


def _training_device(name: str) -> str:
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device {name}: this machine has no CUDA device")
    return str(device)


def cmd_train(args: argparse.Namespace) -> dict:
    settings = {name: getattr(args, name) for name in TRAINING_SETTINGS}
    model, tracker = (
        train_progress.TrainingProgress.read(args.out, settings)
        if args.resume
        else (None, train_progress.TrainingProgress(args.out, settings))
    )
    common = dict(
        autoencoder_epochs=args.stage1_epochs,
        transformer_epochs=args.stage2_epochs,
        seed=args.seed,
        progress=not args.quiet,
        device=_training_device(args.device),
        tracker=tracker,
        model=model,
    )
    if get_space(args.space).condition_measures:  # no benchmark table: sample and measure
        if args.tasks:
            raise ValueError(f"space '{args.space}' has no benchmark tasks; its generator trains on sampled architectures")
        model, report = pretraining.train_on_samples(pretraining.SampledTrainingSet(args.space, args.samples, args.seed), **common)
    else:
        tasks = tuple(t for t in args.tasks.split(",") if t) if args.tasks else ()
        init = generator.PNAG.load(args.init, space=get_space(args.space).name) if args.init else None
        model, report = pretraining.train_on_benchmark(
            pretraining.TrainingSet(args.space, tasks, args.fraction, args.seed),
            surrogate_steps=args.surrogate_steps,
            init=init,
            batch_size=args.batch_size,
            **common,
        )
    model.save(args.out)
    return {
        "out": str(args.out),
        "space": args.space,
        "tasks": model.metadata["training_set"].get("tasks", []),
        "trained_architectures": model.metadata["trained_architectures"],
        "stage1_seconds": report.stage1_seconds,
        "stage2_seconds": report.stage2_seconds,
        "surrogate_seconds": report.surrogate_seconds,
        "final_stage1_loss": report.stage1_history["total"][-1] if report.stage1_history else None,
        "final_stage2_loss": report.stage2_history["token_loss"][-1],
        "final_surrogate_loss": (
            float(np.mean([losses[-1] for losses in report.surrogate_history.values()])) if report.surrogate_history else None
        ),
    }


def _budgets(args: argparse.Namespace) -> dict[str, float]:
    """The cost budgets given on the command line, by condition field: a latency on a named
    ``--device`` is NB201's ``latency_ms:<device>``, without one the space's own ``latency``."""
    if args.device is not None:
        if args.max_latency_ms is None:
            raise ValueError("--device names the device of --max-latency-ms; give both")
        devices = nb201.latency_devices()
        if args.device not in devices:
            raise UnknownNameError(f"unknown device {args.device!r}; known devices: {', '.join(devices)}")
    latency_field = f"{nb201.LATENCY_COST_PREFIX}{args.device}" if args.device else "latency"
    given = ((latency_field, args.max_latency_ms), ("params", args.max_params_m))
    return {field: value for field, value in given if value is not None}


def _generation_options(model: PNAG, args: argparse.Namespace) -> dict:
    """The checkpoint's own generation defaults, overridden by every option given."""
    options = model.generation_defaults()
    if args.target is not MODEL_DEFAULT:
        options["performance"] = args.target
    given = {"cfg_scale": args.cfg_scale, "temperature": args.temperature, "top_k": args.top_k, "top_p": args.top_p}
    options.update({name: value for name, value in given.items() if value is not None})
    return options


def cmd_generate(args: argparse.Namespace) -> dict:
    model = generator.PNAG.from_weights(args.space, args.weights)
    budgets = _budgets(args)
    options = _generation_options(model, args)
    support = task_generation.read_support(model, args.support) if args.support else ()
    ranked = task_generation.generate_for_task(model, args.n, task=args.task, support=support, budgets=budgets, seed=args.seed, **options)
    generation = ranked.generation
    space = model.space
    training_set = pretraining.training_set_of(model)
    report = metrics.generation_report(generation, training_set.strings() if training_set is not None else [])
    return {
        "space": space.name,
        "n": args.n,
        "seed": args.seed,
        "target": options.get("performance"),
        "task": args.task,
        "task_knowledge": ranked.task_kind,
        "support_size": ranked.support_size,
        "generation_options": ranked.options,
        "architectures": [space.to_string(d) for d in ranked.architectures],
        "ranking": "surrogate, best first" if ranked.predicted is not None else "generation order",
        "predicted_quantile": ranked.predicted,
        **cost_budgets.measured_constraints(model, ranked.architectures, budgets, args.task),
        "raw_invalid_first": [p for p in generation.raw_problems if p is not None][:5],
        **{k: report["delivered"][k] for k in ("validity", "uniqueness", "novelty")},
        **{k: v for k, v in report.items() if k != "generated"},
        "seconds_per_arch": generation.seconds / args.n,
        "seconds": generation.seconds,
        "novelty_reference": "training set" if training_set is not None else "none recorded",
    }


def _print_human(command: str, result: dict) -> None:
    if command == "generate":
        for text in result["architectures"]:
            print(text)
        print(
            f"# {result['n']} generated: raw validity {result['raw']['validity']:.2f}% "
            f"(operations-only check {result['paper_comparable_validity']:.2f}%), delivered validity {result['validity']:.2f}% "
            f"({result['changed_by_projection']:.1f}% changed by the projection), uniqueness {result['uniqueness']:.2f}%, "
            f"novelty {result['novelty']:.2f}%, {result['seconds_per_arch'] * 1e3:.3f} ms per architecture",
            file=sys.stderr,
        )
    else:
        for key, value in result.items():
            print(f"{key}: {value}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pnag", description="Progressive Neural Architecture Generation")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train every stage on a benchmark's architectures and scores")
    train.add_argument("--space", required=True, choices=SPACE_NAMES)
    train.add_argument("--out", required=True, help="checkpoint folder, rewritten (atomically) after every epoch and at the end")
    train.add_argument("--tasks", default="", help="comma-separated tasks whose scores are used (default: all)")
    train.add_argument("--fraction", type=float, default=1.0, help="share of the table's architectures to train on")
    train.add_argument("--samples", type=int, default=8192, help="architectures to sample (spaces without a table)")
    train.add_argument("--stage1-epochs", type=int, default=40)
    train.add_argument(
        "--stage2-epochs", type=int, default=40, help="passes over the stage-2 rows (tabulated spaces: one row per architecture and task)"
    )
    train.add_argument(
        "--surrogate-steps",
        type=int,
        default=1500,
        help="meta-training episodes per surrogate member (tabulated spaces; 0: no surrogate, no task condition)",
    )
    train.add_argument("--init", help="continue from this checkpoint (trained on a subset of --tasks): keeps its stage 1")
    train.add_argument("--batch-size", type=int, default=256)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="cpu", help="torch device to train on, e.g. cuda (default: cpu)")
    train.add_argument(
        "--resume",
        action="store_true",
        help="continue the interrupted run in --out (every epoch is checkpointed there) after its last epoch",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.add_argument("--json", action="store_true")

    generate = commands.add_parser("generate", help="generate architectures")
    generate.add_argument("--space", required=True, choices=SPACE_NAMES)
    generate.add_argument("-n", type=int, default=20)
    generate.add_argument("--weights", help="checkpoint folder (default: the shipped weights)")
    generate.add_argument(
        "--target",
        type=_target,
        default=MODEL_DEFAULT,
        help="'top', 'none' or a performance quantile (default: the checkpoint's own, else none)",
    )
    generate.add_argument("--cfg-scale", type=float, help="classifier-free guidance (default: the checkpoint's own, else 1)")
    generate.add_argument("--temperature", type=float, help="(default: the checkpoint's own, else 1)")
    generate.add_argument("--top-k", type=int)
    generate.add_argument("--top-p", type=float)
    generate.add_argument("--task", help="a task of the space's table (e.g. cifar100, cora); unseen by the weights: zero-shot")
    generate.add_argument("--support", help="JSON file {architecture: score} of results on your task (few-shot)")
    generate.add_argument("--max-latency-ms", type=float, help="latency budget (mbv3: OFA's Samsung Note10 table; nb201: with --device)")
    generate.add_argument("--device", help="nb201: the device of --max-latency-ms (HW-NAS-Bench/HELP table), e.g. pixel3")
    generate.add_argument("--max-params-m", type=float, help="parameter budget in millions (darts, autoformer)")
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--json", action="store_true")

    add_demo_parser(commands)
    add_study_parser(commands)
    add_bench_parser(commands)
    return parser


COMMANDS = {"train": cmd_train, "generate": cmd_generate}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command in ("demo", "study", "bench"):
            return args.handler(args)
        result = COMMANDS[args.command](args)
    except (PNAGError, ValueError) as error:
        print(f"pnag {args.command}: error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
    else:
        _print_human(args.command, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
