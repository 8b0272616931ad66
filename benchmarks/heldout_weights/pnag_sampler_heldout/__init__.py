"""PNAG checkpoints trained without one dataset's scores (``<space>-without-<dataset>``).

Benchmarks compare search methods on a dataset with weights that never saw its scores; these
checkpoints are those weights. They live apart from the core package so that a user's install
stays small; ``pnag study``, ``pnag bench`` and the benchmark scripts find them here.
"""

from importlib import resources
from pathlib import Path


def weights_folder() -> Path:
    """The folder holding one checkpoint folder per held-out dataset."""
    return Path(str(resources.files(__name__) / "weights"))
