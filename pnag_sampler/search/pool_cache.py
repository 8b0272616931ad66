"""Candidate pools shared on disk, so that workers of one study and later studies reuse them.

A pool round is a pure function of the checkpoint, the seed and the generation settings, so
its samples can be computed by whichever process needs them first and read by every other: a
round is stored, as the samples generated so far in generation order, under a hash of all of
these (the checkpoint by the bytes of its files), and a lock file per round lets one process at
a time extend it, so that workers starting together neither repeat each other's work nor
crowd the CPU. Models trained in the process (online models) have no fingerprint and are never
cached. The folder is ``$PNAG_CACHE_DIR``, else ``$XDG_CACHE_HOME/pnag-sampler/pools``
(default ``~/.cache``); ``PNAG_CACHE_DIR=off`` disables the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
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


@contextlib.contextmanager
def locked(key: str, folder: Path | None = None) -> Iterator[None]:
    """Hold the round ``key`` against other processes (where the platform has ``fcntl`` and
    the cache is on; otherwise processes may repeat work, never change its result)."""
    folder = folder if folder is not None else cache_folder()
    if folder is None:
        yield
        return
    try:
        import fcntl
    except ImportError:
        yield
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / f"{key}.lock", "a")
    except OSError:  # a cache that cannot be written is skipped
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_pool(key: str, folder: Path | None = None) -> list[str] | None:
    """The samples of the pool round stored under ``key`` so far, in generation order, or None
    (not stored, unreadable, stored by an older release, or the cache is off)."""
    folder = folder if folder is not None else cache_folder()
    if folder is None:
        return None
    with contextlib.suppress(ValueError, OSError, TypeError, KeyError):
        samples = json.loads((folder / f"{key}.json").read_text())["samples"]
        if isinstance(samples, list) and all(isinstance(text, str) for text in samples):
            return samples
    return None


def store_pool(key: str, samples: list[str], folder: Path | None = None) -> None:
    """Store a pool round's samples so far under ``key`` (atomically: a reader sees the old
    list or the new one, never a mix); a cache that cannot be written is skipped."""
    folder = folder if folder is not None else cache_folder()
    if folder is not None:
        with contextlib.suppress(OSError):
            write_json(folder / f"{key}.json", {"samples": samples})
