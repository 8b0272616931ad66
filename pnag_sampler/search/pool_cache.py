"""Candidate pools shared on disk, so that workers of one study pay for a pool once.

A pool round is a pure function of the checkpoint, the seed and the generation settings, so it
can be computed by whichever process needs it first and read by every other: the pool is stored
under a hash of all of these (the checkpoint by the bytes of its files), and a lock file per pool
makes workers that start together wait for the one that generates it instead of each generating
their own. Models trained in the process (online models) have no fingerprint and are never
cached. The folder is ``$PNAG_CACHE_DIR``, else ``$XDG_CACHE_HOME/pnag-sampler/pools`` (default
``~/.cache``); ``PNAG_CACHE_DIR=off`` disables the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pnag_sampler.files import write_json

#: a pool round as stored: (canonical string, how often it was generated), most frequent first
PoolRound = list[tuple[str, int]]


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
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` between processes (where the platform has ``fcntl``)."""
    try:
        import fcntl
    except ImportError:  # no advisory locks: workers may each generate, results are identical
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_pool(key: str, folder: Path | None = None) -> PoolRound | None:
    """The pool round stored under ``key``, or None (not stored, unreadable, or the cache is off)."""
    folder = folder if folder is not None else cache_folder()
    if folder is None:
        return None
    with contextlib.suppress(ValueError, OSError, TypeError, KeyError):
        return [(str(text), int(count)) for text, count in json.loads((folder / f"{key}.json").read_text())["pool"]]
    return None


def store_pool(key: str, pool: PoolRound, folder: Path | None = None) -> None:
    """Store a pool round under ``key`` (atomically); a cache that cannot be written is skipped."""
    folder = folder if folder is not None else cache_folder()
    if folder is not None:
        with contextlib.suppress(OSError):
            write_json(folder / f"{key}.json", {"pool": pool})


def shared_pool(key: str, build: Callable[[], PoolRound], folder: Path | None = None) -> PoolRound:
    """The pool round stored under ``key``, built (by one process at a time) if it is missing.

    A cache that cannot be read or written is skipped: the pool is then built here."""
    folder = folder if folder is not None else cache_folder()
    if folder is None:
        return build()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with _locked(folder / f"{key}.lock"):
            pool = read_pool(key, folder)
            if pool is None:
                pool = build()
                store_pool(key, pool, folder)
            return pool
    except OSError:
        return build()
