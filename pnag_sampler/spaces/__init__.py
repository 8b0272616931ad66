"""Search spaces by name; every space describes its architectures as ops-on-nodes DAGs.

Names are listed here without importing any space (they pull in torch), so that the command
line and ``import pnag_sampler`` stay light; a space is built on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from pnag_sampler.errors import UnknownNameError
from pnag_sampler.lazy import lazy_exports

if TYPE_CHECKING:
    from pnag_sampler.spaces.base import SearchSpace


def _nb201() -> SearchSpace:
    from pnag_sampler.spaces.nb201 import NB201Space

    return NB201Space()


def _graph(name: str) -> Callable[[], SearchSpace]:
    def build() -> SearchSpace:
        from pnag_sampler.spaces.nasbench_graph import GRAPH_SPACES, NasBenchGraphSpace

        return NasBenchGraphSpace(name, GRAPH_SPACES[name])

    return build


def _darts() -> SearchSpace:
    from pnag_sampler.spaces.darts import DartsSpace

    return DartsSpace()


def _mbv3() -> SearchSpace:
    from pnag_sampler.spaces.mbv3 import MobileNetV3Space

    return MobileNetV3Space()


def _autoformer(name: str) -> Callable[[], SearchSpace]:
    def build() -> SearchSpace:
        from pnag_sampler.spaces.autoformer import AutoFormerSpace
        from pnag_sampler.spaces.vit_network import BASE, TINY

        return AutoFormerSpace(name, BASE if name == "autoformer-base" else TINY)

    return build


def _hpolib() -> SearchSpace:
    from pnag_sampler.spaces.hpolib import HPOLibSpace

    return HPOLibSpace()


_FACTORIES: dict[str, Callable[[], SearchSpace]] = {
    "nb201": _nb201,
    "nasbench_graph": _graph("nasbench_graph"),
    "nasbench_graph_proteins": _graph("nasbench_graph_proteins"),
    "darts": _darts,
    "mbv3": _mbv3,
    "autoformer": _autoformer("autoformer"),
    "autoformer-base": _autoformer("autoformer-base"),
    "hpolib": _hpolib,
}
SPACE_NAMES: tuple[str, ...] = tuple(_FACTORIES)
#: spaces that users write as their own ``suggest_*`` calls (``SearchSpace.hyperparameters``), by
#: parameter name, so that an adapter can recognise one without building any space
HYPERPARAMETER_NAMES: dict[str, str] = {
    name: "hpolib"
    for name in (
        "n_units_1",
        "activation_fn_1",
        "dropout_1",
        "n_units_2",
        "activation_fn_2",
        "dropout_2",
        "init_lr",
        "batch_size",
        "lr_schedule",
    )
}


def get_space(name: str) -> SearchSpace:
    """The space called ``name``; one shared instance per name (spaces cache enumerations)."""
    if name not in _FACTORIES:
        raise UnknownNameError(f"unknown search space {name!r}; known spaces: {', '.join(SPACE_NAMES)}")
    return _build(name)


@cache
def _build(name: str) -> SearchSpace:
    return _FACTORIES[name]()


__all__ = ["Dag", "HYPERPARAMETER_NAMES", "SearchSpace", "SPACE_NAMES", "get_space"]
__getattr__, _ = lazy_exports(__name__, {"Dag": "pnag_sampler.spaces.base", "SearchSpace": "pnag_sampler.spaces.base"})
