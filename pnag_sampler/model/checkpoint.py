"""Checkpoints: a folder with ``config.json`` and ``model.safetensors``; never pickle.

Saving writes a temporary sibling folder and renames it into place, so an interrupted save
leaves the old checkpoint (or nothing), never a half-written one. Loading checks the format
marker, the version and the space, and turns every low-level failure (truncated or foreign
file, missing or mis-shaped tensors) into one :class:`CheckpointError` that names the file.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from pnag_sampler.errors import CheckpointError

FORMAT = "pnag-sampler-checkpoint"
#: 2: the structure-aware decoder (position embeddings; only the space's free choices)
FORMAT_VERSION = 2
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


def save_checkpoint(path: str | os.PathLike, config: dict[str, Any], tensors: dict[str, torch.Tensor]) -> Path:
    with staged_folder(path) as staging:
        write_checkpoint_files(staging, config, tensors)
    return Path(path)


def write_checkpoint_files(folder: Path, config: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    """The two files of a checkpoint into an existing (staging) folder."""
    (folder / CONFIG_FILE).write_text(json.dumps({"format": FORMAT, "version": FORMAT_VERSION, **config}, indent=2))
    save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(folder / WEIGHTS_FILE))


@contextlib.contextmanager
def staged_folder(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary sibling folder to fill; on success it replaces ``path`` (an old folder there
    is removed only after the new one is in place), on failure it is removed."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield staging
        if target.exists():
            backup = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
            os.replace(target, backup / target.name)
            os.replace(staging, target)
            shutil.rmtree(backup)
        else:
            os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def load_checkpoint(path: str | os.PathLike, expected_space: str | None = None) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    folder = Path(path)
    config_path, weights_path = folder / CONFIG_FILE, folder / WEIGHTS_FILE
    if not folder.is_dir():
        raise CheckpointError(f"{folder} is not a checkpoint folder (expected {CONFIG_FILE} and {WEIGHTS_FILE} inside)")
    for required in (config_path, weights_path):
        if not required.is_file():
            raise CheckpointError(f"{folder} is not a PNAG checkpoint: {required.name} is missing")
    try:
        config = json.loads(config_path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{config_path} is not valid JSON ({error})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CheckpointError(f"{config_path} is not a PNAG checkpoint config (no format marker '{FORMAT}')")
    if config.get("version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{folder} has checkpoint version {config.get('version')}; this release reads version {FORMAT_VERSION} "
            "(version 1 predates the structure-aware decoder: train it again with `pnag train`)"
        )
    if expected_space is not None and config.get("space") != expected_space:
        raise CheckpointError(f"{folder} holds weights for space '{config.get('space')}', not '{expected_space}'")
    try:
        tensors = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{weights_path} is truncated or not a safetensors file ({error})") from None
    return config, tensors


def load_state(module: torch.nn.Module, tensors: dict[str, torch.Tensor], prefix: str, source: str | os.PathLike) -> None:
    """Load ``prefix.*`` tensors into ``module`` strictly; mismatches become CheckpointError."""
    state = {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as error:
        first_line = str(error).strip().splitlines()[0]
        raise CheckpointError(f"{source}: the '{prefix}' weights do not fit this model ({first_line})") from None
