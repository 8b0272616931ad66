"""Candidate pools shared on disk, so that workers of one study and later studies reuse them.

A pool round is a pure function of the checkpoint, the seed and the generation settings, so it
can be computed by whichever process finishes it first and read by every other: a whole round
is stored, as its samples in generation order, under a hash of all of these (the checkpoint by
the bytes of its files). Models trained in the process (online models) have no fingerprint and
are never cached. The folder is ``$PNAG_CACHE_DIR``, else
``$XDG_CACHE_HOME/pnag-sampler/pools`` (default ``~/.cache``); ``PNAG_CACHE_DIR=off`` disables the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from pnag_sampler.files import write_json


def cache_folder() -> Path | None:
    """Where pools are shared, or None when the cache is off."""
    configured = os.environ.get("PNAG_CACHE_DIR")
    if configured == "off":
        return None
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pnag-sampler" / "pools"


def pool_key(fingerprint: str, **settings: Any) -> str:
    """The name of one pool round: the checkpoint's fingerprint and everything it was drawn with."""
    text = json.dumps({"checkpoint": fingerprint, **settings}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def read_pool(key: str, folder: Path | None = None) -> list[str] | None:
    """The samples of the pool round stored under ``key``, in generation order, or None (not
    stored, unreadable, stored by an older release, or the cache is off)."""
    folder = folder if folder is not None else cache_folder()
    if folder is None:
        return None
    with contextlib.suppress(ValueError, OSError, TypeError, KeyError):
        samples = json.loads((folder / f"{key}.json").read_text())["samples"]
        if isinstance(samples, list) and all(isinstance(text, str) for text in samples):
            return samples
    return None


def store_pool(key: str, samples: list[str], folder: Path | None = None) -> None:
    """Store a whole pool round under ``key`` (atomically, so a reader never sees half of one);
    a cache that cannot be written is skipped."""
    folder = folder if folder is not None else cache_folder()
    if folder is not None:
        with contextlib.suppress(OSError):
            write_json(folder / f"{key}.json", {"samples": samples})
