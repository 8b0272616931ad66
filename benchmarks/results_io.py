"""Writing benchmark results: JSON to a temporary name, then renamed into place."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def write_json(path: Path, results: dict) -> Path:
    """Write ``results`` atomically, so an interrupted run never leaves a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as file:
            json.dump(results, file, indent=2)
        os.replace(staging, path)
    finally:
        if os.path.exists(staging):
            os.remove(staging)
    return path
