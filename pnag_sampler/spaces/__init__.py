"""Search spaces by name; every space describes its architectures as ops-on-nodes DAGs."""

from __future__ import annotations

from functools import cache, partial
from typing import Callable

from pnag_sampler.errors import UnknownNameError
from pnag_sampler.spaces.autoformer import AutoFormerSpace
from pnag_sampler.spaces.base import Dag, SearchSpace
from pnag_sampler.spaces.darts import DartsSpace
from pnag_sampler.spaces.mbv3 import MobileNetV3Space
from pnag_sampler.spaces.nasbench_graph import GRAPH_SPACES, NasBenchGraphSpace
from pnag_sampler.spaces.nb201 import NB201Space
from pnag_sampler.spaces.vit_network import BASE, TINY

_FACTORIES: dict[str, Callable[[], SearchSpace]] = {
    NB201Space.name: NB201Space,
    **{name: partial(NasBenchGraphSpace, name, ops) for name, ops in GRAPH_SPACES.items()},
    DartsSpace.name: DartsSpace,
    MobileNetV3Space.name: MobileNetV3Space,
    "autoformer": partial(AutoFormerSpace, "autoformer", TINY),
    "autoformer-base": partial(AutoFormerSpace, "autoformer-base", BASE),
}
SPACE_NAMES: tuple[str, ...] = tuple(_FACTORIES)


def get_space(name: str) -> SearchSpace:
    """The space called ``name``; one shared instance per name (spaces cache enumerations)."""
    if name not in _FACTORIES:
        raise UnknownNameError(
            f"unknown search space {name!r}; known spaces: {', '.join(SPACE_NAMES)}"
        )
    return _build(name)


@cache
def _build(name: str) -> SearchSpace:
    return _FACTORIES[name]()


__all__ = ["Dag", "SearchSpace", "SPACE_NAMES", "get_space"]
