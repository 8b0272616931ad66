"""Re-ship the shipped checkpoints with the structure-aware decoder (checkpoint version 2).

Version 1 checkpoints decoded with one shared linear layer that did not know which node or
edge it read, so it lost fixed wiring it was never asked to predict. This script keeps every
checkpoint's encoder, quantizer, transformer and surrogate exactly as trained (so the stage-1
tokens that stage 2 learned stay the same), fits the new decoder on the frozen tokens of the
checkpoint's own stage-1 architectures, and saves the checkpoint as version 2. Checkpoints
whose encoder and quantizer are identical share one fitted decoder.

    python benchmarks/ship_structured_decoders.py [--epochs 30] [--only nb201,...] [--refit] [--decoder-hidden 64] [--weights DIR] [--seed 0] [--threads 2]

Writes benchmarks/results/ship_structured_decoders.json: per checkpoint the epochs, wall time,
device, loss per epoch, and exact reconstruction (raw and projected) at every scale.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from pnag_sampler.files import write_json
from pnag_sampler.generator import PNAG
from pnag_sampler.model.checkpoint import CONFIG_FILE, WEIGHTS_FILE, load_state
from pnag_sampler.pretraining import training_set_of
from pnag_sampler.spaces.base import Dag

ROOT = Path(__file__).resolve().parent.parent
#: the core package's checkpoints and the held-out ones the benchmarks use
WEIGHTS = (ROOT / "pnag_sampler" / "weights", ROOT / "benchmarks" / "heldout_weights" / "pnag_sampler_heldout" / "weights")
RESULTS = ROOT / "benchmarks" / "results" / "ship_structured_decoders.json"


def stage1_architectures(model: PNAG) -> list[Dag]:
    """What the checkpoint's stage 1 was trained on: its recorded set where that set is of the
    model's own space, else (NAS-Bench-Graph folds of another operation set) every
    architecture of the space; stage 1 never sees a score."""
    recorded = training_set_of(model)
    if recorded is not None and recorded.space == model.space.name:
        return recorded.architectures()
    return model.space.unique_architectures()


def reconstruction(model: PNAG, architectures: list[Dag]) -> dict:
    """Exact reconstruction of every scale's target, raw and projected, and raw validity."""
    targets = model.scale_targets(architectures)
    raw, projected = model.reconstruct(architectures, projected=False), model.reconstruct(architectures)
    full_check = model.space.problem
    return {
        "scales": list(model.autoencoder.scales),
        "exact_raw": [100 * float(np.mean([a == b for a, b in zip(r, t)])) for r, t in zip(raw, targets)],
        "exact_projected": [100 * float(np.mean([a == b for a, b in zip(p, t)])) for p, t in zip(projected, targets)],
        "raw_valid": [
            100 * float(np.mean([(full_check if i == len(raw) - 1 else model.space.sub_architecture_problem)(d) is None for d in scale]))
            for i, scale in enumerate(raw)
        ],
    }


def stage1_key(tensors: dict[str, torch.Tensor]) -> tuple:
    """Identifies an encoder + quantizer by its tensors' contents."""
    return tuple(
        (k, hash(v.numpy().tobytes())) for k, v in sorted(tensors.items()) if k.startswith("autoencoder.") and ".decoder." not in k
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--only", default="", help="comma-separated checkpoint folder names (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--refit", action="store_true", help="fit the decoders of version-2 checkpoints again")
    parser.add_argument("--decoder-hidden", type=int, default=None, help="width of the new decoder (default: the checkpoint's config)")
    parser.add_argument(
        "--weights", type=Path, nargs="+", default=list(WEIGHTS), help="folders of checkpoint folders (default: the shipped ones)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    folders = {p.name: p for root in args.weights for p in root.iterdir() if p.is_dir()}
    names = args.only.split(",") if args.only else sorted(folders)
    report = json.loads(args.output.read_text()) if args.output.exists() else {}
    fitted: dict[tuple, tuple[str, dict]] = {}
    for name in names:
        folder = folders[name]
        config = json.loads((folder / CONFIG_FILE).read_text())
        if args.decoder_hidden is not None:
            config["autoencoder"]["decoder_hidden"] = args.decoder_hidden
        tensors = load_file(str(folder / WEIGHTS_FILE))
        model = PNAG.from_config(config, folder)
        load_state(model.autoencoder.encoder, tensors, "autoencoder.encoder", folder)
        load_state(model.autoencoder.quantizer, tensors, "autoencoder.quantizer", folder)
        load_state(model.transformer, tensors, "transformer", folder)
        if model.surrogate is not None:
            for index, member in enumerate(model.surrogate.members):
                load_state(member, tensors, f"surrogate.{index}", folder)
        if config["version"] == 1 or args.refit:
            key = stage1_key(tensors)
            if key in fitted:
                source, entry = fitted[key]
                model.autoencoder.decoder.load_state_dict(PNAG.load(folders[source]).autoencoder.decoder.state_dict())
                report[name] = {**entry, "decoder_from": source}
            else:
                architectures = stage1_architectures(model)
                torch.manual_seed(args.seed)
                start = time.perf_counter()
                history = model.fit_autoencoder(
                    architectures, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed, decoder_only=True
                )
                seconds = time.perf_counter() - start
                entry = {
                    "architectures": len(architectures),
                    "epochs": args.epochs,
                    "batch_size": args.batch_size,
                    "decoder_hidden": model.autoencoder_config.decoder_hidden,
                    "seconds": round(seconds, 1),
                    "device": "cpu",
                    "threads": args.threads,
                    "seed": args.seed,
                    "loss": [round(v, 5) for v in history["total"]],
                    "reconstruction": reconstruction(model, architectures),
                }
                fitted[key] = (name, entry)
                report[name] = entry
            model.metadata["decoder"] = {
                "kind": "structured",
                "fitted_on_frozen_tokens": {k: report[name][k] for k in ("epochs", "seconds", "device")},
            }
            model.save(folder)
            write_json(args.output, report)
            print(f"{name}: {json.dumps(report[name]['reconstruction'])}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
