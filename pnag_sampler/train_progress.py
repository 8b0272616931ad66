"""Resumable training: ``pnag train`` rewrites its checkpoint folder after every epoch.

The folder then holds the model so far (loadable like any checkpoint) plus where the run stands:
the settings it was started with, the stages it finished with their loss histories and seconds,
and the optimizer, schedule and random states of the stage under way. ``--resume`` reads it
back and continues after the last finished epoch; the final save drops the progress record.
Everything lives in the checkpoint's JSON and safetensors files, written atomically.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from pnag_sampler.errors import CheckpointError
from pnag_sampler.generator import PNAG
from pnag_sampler.model.checkpoint import load_checkpoint, save_checkpoint
from pnag_sampler.model.training import EpochCallback, EpochState

PROGRESS_KEY = "training_progress"
TENSOR_PREFIX = "progress."


def _pack(value: Any, tensors: dict[str, torch.Tensor], path: str) -> Any:
    """A JSON form of nested dicts, lists and scalars whose tensors go to ``tensors``; dicts
    become key-value lists so that integer keys (optimizer states) survive."""
    if isinstance(value, torch.Tensor):
        tensors[TENSOR_PREFIX + path] = value
        return {"tensor": path}
    if isinstance(value, Mapping):
        return {"dict": [[key, _pack(item, tensors, f"{path}.{key}")] for key, item in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"list": [_pack(item, tensors, f"{path}.{i}") for i, item in enumerate(value)], "tuple": isinstance(value, tuple)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    raise TypeError(f"cannot store a {type(value).__name__} in training progress")


def _unpack(packed: Any, tensors: Mapping[str, torch.Tensor]) -> Any:
    if not isinstance(packed, dict) or len(packed) not in (1, 2):
        raise ValueError(f"malformed progress entry {str(packed)[:80]}")
    if "tensor" in packed:
        return tensors[TENSOR_PREFIX + packed["tensor"]]
    if "dict" in packed:
        return {key: _unpack(item, tensors) for key, item in packed["dict"]}
    if "list" in packed:
        items = [_unpack(item, tensors) for item in packed["list"]]
        return tuple(items) if packed.get("tuple") else items
    return packed["value"]


class TrainingProgress:
    """The record of one run in its checkpoint folder ``path``."""

    def __init__(self, path: str | os.PathLike, settings: Mapping[str, Any]):
        self.path = Path(path)
        self.settings = dict(settings)
        #: finished stage -> {"history": ..., "seconds": ...}
        self.finished: dict[str, dict[str, Any]] = {}
        self._current: tuple[str, EpochState, float] | None = None
        self._stage_start = time.perf_counter()

    # -- reading --------------------------------------------------------------------------------
    @classmethod
    def read(cls, path: str | os.PathLike, settings: Mapping[str, Any]) -> tuple[PNAG, TrainingProgress]:
        """The model and record of an interrupted run; refused when the folder holds a finished
        run or none, or when ``settings`` differ from the run's (naming each one)."""
        config, tensors = load_checkpoint(path)
        record = config.get(PROGRESS_KEY)
        if record is None:
            raise CheckpointError(f"{path} holds no unfinished run to resume (a finished checkpoint or none)")
        progress = cls(path, settings)
        try:
            recorded = dict(record["settings"])
            progress.finished = _unpack(record["finished"], tensors)
            if record["current"] is not None:
                stage, state, seconds = _unpack(record["current"], tensors)
                progress._current = (stage, EpochState(**state), seconds)
        except (KeyError, TypeError, ValueError) as error:
            raise CheckpointError(f"{path}: its training progress is malformed ({error!r})") from None
        differing = {k: (recorded.get(k), v) for k, v in settings.items() if recorded.get(k) != v}
        if differing:
            detail = ", ".join(f"{k}: run {old!r}, now {new!r}" for k, (old, new) in differing.items())
            raise CheckpointError(f"{path} was started with other settings ({detail}); resume with the run's own")
        return PNAG.load(path), progress

    def done(self, stage: str) -> bool:
        return stage in self.finished

    def state(self, stage: str) -> EpochState | None:
        """Where ``stage`` stopped, if it is the one under way."""
        return self._current[1] if self._current is not None and self._current[0] == stage else None

    # -- writing --------------------------------------------------------------------------------
    def start(self, stage: str) -> None:
        self._stage_start = time.perf_counter()

    def _seconds(self, stage: str) -> float:
        before = self._current[2] if self._current is not None and self._current[0] == stage else 0.0
        return before + time.perf_counter() - self._stage_start

    def callback(self, stage: str, model: PNAG) -> EpochCallback:
        """Called after every epoch of ``stage``: rewrites the checkpoint with the model and state."""
        self.start(stage)

        def save(state: EpochState) -> None:
            seconds = self._seconds(stage)
            self._current = (stage, state, seconds)
            self._stage_start = time.perf_counter()
            self._write(model)

        return save

    def finish(self, stage: str, model: PNAG, history: Mapping[str, list[float]]) -> None:
        self.finished[stage] = {"history": dict(history), "seconds": self._seconds(stage)}
        self._current = None
        self._write(model)

    def seconds(self, stage: str) -> float:
        return float(self.finished.get(stage, {}).get("seconds", 0.0))

    def history(self, stage: str) -> dict[str, list[float]]:
        return dict(self.finished.get(stage, {}).get("history", {}))

    def _write(self, model: PNAG) -> None:
        config, tensors = model.checkpoint_parts()
        config[PROGRESS_KEY] = {
            "settings": self.settings,
            "finished": _pack(self.finished, tensors, "finished"),
            "current": None
            if self._current is None
            else _pack((self._current[0], vars(self._current[1]), self._current[2]), tensors, "current"),
        }
        save_checkpoint(self.path, config, tensors)
