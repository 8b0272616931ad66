"""NAS-Bench-201 results (200 epochs) and latencies, from the vendored tables.

See tables/PROVENANCE.md for sources, licences and column meanings.

Accuracies are in percent. Validation is what the NB201 protocol lets a search see (for
CIFAR-10 that is ``cifar10valid_valid``, a model trained on the train split only); test is what
papers report. Costs per task: ``params`` (millions), ``train_time`` (seconds for 200 epochs;
CIFAR-10 uses the train-split run, the one behind its validation score) and
``latency_ms:<device>`` for 27 devices (one measurement per device, the same for every task).
"""

from __future__ import annotations

import io
import lzma
import zipfile
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from pnag_sampler.data.benchmark import Benchmark, read_only
from pnag_sampler.spaces import get_space

_TABLES = Path(__file__).parent / "tables"
_RESULTS = _TABLES / "nb201_200ep.csv.xz"
_LATENCY = _TABLES / "nb201_latency_ms.npz.xz"
_LATENCY_COLUMN_PREFIX = "lat_ms_"
LATENCY_COST_PREFIX = "latency_ms:"

TASKS = ("cifar10", "cifar100", "imagenet16")
_VALIDATION_COLUMNS = {
    "cifar10": "cifar10valid_valid",
    "cifar100": "cifar100_valid",
    "imagenet16": "imagenet16_valid",
}
_TRAIN_TIME_COLUMNS = {
    "cifar10": "train_time_cifar10valid",
    "cifar100": "train_time_cifar100",
    "imagenet16": "train_time_imagenet16",
}


@cache
def _results() -> pd.DataFrame:
    return pd.read_csv(_RESULTS)


@cache
def _result_column(column: str) -> np.ndarray:
    return read_only(_results()[column].to_numpy(dtype=np.float64))


@cache
def latency_devices() -> tuple[str, ...]:
    """The 27 device names (from the archive's member names: no latency is parsed)."""
    with zipfile.ZipFile(io.BytesIO(lzma.decompress(_LATENCY.read_bytes()))) as archive:
        names = [name.removesuffix(".npy") for name in archive.namelist()]
    return tuple(name.removeprefix(_LATENCY_COLUMN_PREFIX) for name in names if name.startswith(_LATENCY_COLUMN_PREFIX))


@cache
def _latency_column(device: str) -> np.ndarray:
    return read_only(_latency_table()[_LATENCY_COLUMN_PREFIX + device].astype(np.float64))


@cache
def _latency_table() -> dict[str, np.ndarray]:
    """Every column of the latency table (xz-compressed npz, see tables/PROVENANCE.md)."""
    with np.load(io.BytesIO(lzma.decompress(_LATENCY.read_bytes()))) as archive:
        return {name: archive[name] for name in archive.files}


class NB201Benchmark(Benchmark):
    """All 15,625 NB201 cells; row ``i`` is the official NB201 index ``i``."""

    def __init__(self) -> None:
        super().__init__("nb201", get_space("nb201"), TASKS)

    def _load_strings(self) -> list[str]:
        return _results()["arch_str"].tolist()

    def _validation(self, task: str) -> np.ndarray:
        return _result_column(_VALIDATION_COLUMNS[task])

    def _test(self, task: str) -> np.ndarray:
        return _result_column(f"{task}_test")

    def _cost_names(self, task: str) -> tuple[str, ...]:
        return ("params", "train_time", *(LATENCY_COST_PREFIX + d for d in latency_devices()))

    def condition_costs(self) -> tuple[str, ...]:
        """Latency on each device (measured once, for every task) and the parameter count (the
        tasks' networks differ only in the classifier, up to 10%, and rank alike)."""
        return ("params", *(LATENCY_COST_PREFIX + d for d in latency_devices()))

    def _cost(self, name: str, task: str) -> np.ndarray:
        if name == "params":
            return _result_column(f"params_{task}")
        if name == "train_time":
            return _result_column(_TRAIN_TIME_COLUMNS[task])
        return _latency_column(name.removeprefix(LATENCY_COST_PREFIX))
