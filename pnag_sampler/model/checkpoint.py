"""Checkpoints: a folder with ``config.json`` and ``model.safetensors``; never pickle.

Saving writes a temporary sibling folder and renames it into place, so an interrupted save
leaves the old checkpoint (or nothing), never a half-written one. Loading checks the format
marker, the version and the space, and turns every low-level failure (truncated or foreign
file, missing or mis-shaped tensors) into one ``CheckpointError`` that names the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

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


def checkpoint_fingerprint(path: str | os.PathLike) -> str:
    """A hash of a checkpoint folder's two files: equal hashes, equal models."""
    digest = hashlib.sha256()
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        digest.update((Path(path) / name).read_bytes())
    return digest.hexdigest()


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
    except RecursionError:
        raise CheckpointError(f"{config_path} is nested too deeply to be a PNAG checkpoint config") from None
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


#: the sizes a config may ask for, (low, high) per section and field: every space this package
#: builds fits well inside, and a corrupt or hostile config is refused before it allocates
SIZE_LIMITS: dict[str, dict[str, tuple[int, int]]] = {
    "autoencoder": {
        "num_nodes": (3, 64),
        "num_node_types": (3, 1024),
        "channels": (1, 1024),
        "hidden": (1, 2048),
        "encoder_layers": (1, 32),
        "codebook_size": (2, 65536),
        "decoder_hidden": (1, 2048),
    },
    "transformer": {"width": (1, 2048), "depth": (1, 48), "heads": (1, 64)},
    "surrogate.predictor": {
        "num_nodes": (3, 64),
        "num_node_types": (3, 1024),
        "hidden": (1, 2048),
        "layers": (1, 32),
        "task_dim": (1, 1024),
    },
    "surrogate": {"members": (1, 64)},
}
MAX_CONDITION_FIELDS = 64
MAX_CONDITION_WIDTH = 4096


def _section(config: Mapping[str, Any], path: str) -> Any:
    node: Any = config
    for key in path.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _require_int(source: str | os.PathLike, name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise CheckpointError(f"{source}: config.json's {name} = {value!r} is not an integer in {low}..{high}")


def require_sizes(config: Mapping[str, Any], source: str | os.PathLike) -> None:
    """Refuse a config whose sizes are out of range, naming the field, before any module is built."""
    for path, limits in SIZE_LIMITS.items():
        section = _section(config, path)
        if section is None:
            continue
        if not isinstance(section, dict):
            raise CheckpointError(f"{source}: config.json's {path} must be an object, got {type(section).__name__}")
        for key, (low, high) in limits.items():
            if key in section:
                _require_int(source, f"{path}.{key}", section[key], low, high)
    fields = config.get("condition_fields", [])
    if not isinstance(fields, list) or len(fields) > MAX_CONDITION_FIELDS:
        raise CheckpointError(
            f"{source}: config.json's condition_fields must be a list of at most {MAX_CONDITION_FIELDS} [name, width] pairs"
        )
    for index, field in enumerate(fields):
        if not (isinstance(field, list) and len(field) == 2 and isinstance(field[0], str)):
            raise CheckpointError(f"{source}: config.json's condition_fields[{index}] is not a [name, width] pair: {field!r}")
        _require_int(source, f"condition_fields[{index}] width", field[1], 1, MAX_CONDITION_WIDTH)


def load_state(module: torch.nn.Module, tensors: dict[str, torch.Tensor], prefix: str, source: str | os.PathLike) -> None:
    """Load ``prefix.*`` tensors into ``module`` strictly; a missing, mis-shaped or unexpected
    tensor becomes one CheckpointError that names it."""
    state = {k[len(prefix) + 1 :]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
    expected = module.state_dict()
    problem = None
    for key, tensor in expected.items():
        if key not in state:
            problem = f"tensor '{prefix}.{key}' is missing"
        elif tuple(state[key].shape) != tuple(tensor.shape):
            problem = f"tensor '{prefix}.{key}' has shape {list(state[key].shape)}, the config makes it {list(tensor.shape)}"
        if problem:
            break
    unexpected = sorted(set(state) - set(expected))
    if problem is None and unexpected:
        problem = f"tensor '{prefix}.{unexpected[0]}' is not part of this model" + (
            f" ({len(unexpected) - 1} more)" if len(unexpected) > 1 else ""
        )
    if problem is not None:
        raise CheckpointError(f"{source}: the '{prefix}' weights do not fit this model: {problem}")
    module.load_state_dict(state, strict=True)
