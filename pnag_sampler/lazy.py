"""Lazy package exports, so that ``import pnag_sampler`` does not import torch or Optuna.

A package lists its public names and the module each lives in; the module is imported the
first time the name is used (PEP 562 ``__getattr__``), as Optuna's ``_LazyImport`` does.
"""

from __future__ import annotations

import importlib
import types
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package`` whose ``exports`` map name -> module."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(exports[name]), name)

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__


class LazyImport(types.ModuleType):
    """A module imported on first attribute access (Optuna's ``_LazyImport``), for modules
    such as torch, Optuna and the harness that a command line's ``--help`` never needs."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._name = name

    def _load(self) -> types.ModuleType:
        module = importlib.import_module(self._name)
        self.__dict__.update(module.__dict__)
        return module

    def __getattr__(self, item: str) -> Any:
        return getattr(self._load(), item)
