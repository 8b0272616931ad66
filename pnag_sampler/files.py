"""Writing result files: to a temporary sibling name first, renamed into place when complete,
so an interrupted run leaves the previous file (or none), never a half-written one."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _read_umask() -> int:
    mask = os.umask(0)  # the only way to read it; done once, at import
    os.umask(mask)
    return mask


_UMASK = _read_umask()


@contextlib.contextmanager
def replaced_atomically(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=target.parent)
    os.close(handle)
    os.chmod(staging, 0o666 & ~_UMASK)  # mkstemp makes 0600; a result file is an ordinary file
    try:
        yield Path(staging)
        os.replace(staging, target)
    finally:
        if os.path.exists(staging):
            os.remove(staging)


def write_json(path: str | os.PathLike, results: dict) -> Path:
    with replaced_atomically(path) as staging:
        staging.write_text(json.dumps(results, indent=2))
    return Path(path)
