"""The DARTS evaluation network: paper parameter count, shapes, sub-cells and bad specs."""

from __future__ import annotations

import pytest
import torch

from pnag_sampler.errors import InvalidArchitectureError
from pnag_sampler.spaces.darts_network import (
    PRIMITIVES,
    DartsNetwork,
    parameter_count,
    validate_cell_spec,
)

DARTS_V2_NORMAL = (
    ("sep_conv_3x3", 0),
    ("sep_conv_3x3", 1),
    ("sep_conv_3x3", 0),
    ("sep_conv_3x3", 1),
    ("sep_conv_3x3", 1),
    ("skip_connect", 0),
    ("skip_connect", 0),
    ("dil_conv_3x3", 2),
)
DARTS_V2_REDUCE = (
    ("max_pool_3x3", 0),
    ("max_pool_3x3", 1),
    ("skip_connect", 2),
    ("max_pool_3x3", 1),
    ("max_pool_3x3", 0),
    ("skip_connect", 2),
    ("skip_connect", 2),
    ("max_pool_3x3", 1),
)


@pytest.fixture(scope="module")
def darts_v2() -> DartsNetwork:
    torch.manual_seed(0)
    return DartsNetwork(DARTS_V2_NORMAL, DARTS_V2_REDUCE, channels=36, layers=20, auxiliary=True)


def test_darts_v2_has_the_paper_size(darts_v2: DartsNetwork) -> None:
    count = parameter_count(darts_v2)
    assert 3_200_000 <= count <= 3_450_000  # the paper reports 3.3M
    assert parameter_count(darts_v2, exclude_auxiliary=False) > count


def test_darts_v2_forward_shapes(darts_v2: DartsNetwork) -> None:
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        darts_v2.eval()
        logits = darts_v2(x)
        assert isinstance(logits, torch.Tensor) and logits.shape == (2, 10)
        darts_v2.train()
        out = darts_v2(x)
    assert isinstance(out, tuple) and [t.shape for t in out] == [(2, 10), (2, 10)]


def test_short_spec_is_a_smaller_cell() -> None:
    normal = (("sep_conv_5x5", 0), ("dil_conv_5x5", 1), ("avg_pool_3x3", 2))
    reduce = (("none", 0), ("skip_connect", 1), ("max_pool_3x3", 2))
    net = DartsNetwork(normal, reduce, channels=8, layers=5, num_classes=3, auxiliary=True)
    assert all(cell.multiplier == 2 for cell in net.cells)
    net.train()
    logits, aux = net(torch.randn(2, 3, 32, 32))
    assert logits.shape == aux.shape == (2, 3)
    net.eval()
    assert net(torch.randn(1, 3, 32, 32)).shape == (1, 3)


def test_every_primitive_runs_in_both_cell_kinds() -> None:
    spec = tuple((op, k % 2) for k, op in enumerate(PRIMITIVES))
    net = DartsNetwork(spec, spec, channels=4, layers=3).eval()
    assert net(torch.randn(1, 3, 16, 16)).shape == (1, 10)


@pytest.mark.parametrize(
    "spec",
    [
        (),
        (("sep_conv_3x3", 2),),  # node 0 can only read the two cell inputs
        (("sep_conv_3x3", 0), ("skip_connect", 1), ("skip_connect", 3)),  # node 1 reads <= 2
        (("conv_7x1_1x7", 0), ("skip_connect", 1)),
        (("skip_connect", -1),),
        (("skip_connect", True),),
        "sep_conv_3x3",
        (("skip_connect",),),
    ],
)
def test_bad_specs_are_rejected(spec: object) -> None:
    with pytest.raises(InvalidArchitectureError):
        validate_cell_spec(spec)  # type: ignore[arg-type]
    with pytest.raises(InvalidArchitectureError):
        DartsNetwork(spec, DARTS_V2_REDUCE, channels=4, layers=3)  # type: ignore[arg-type]


@pytest.mark.parametrize("kwargs", [{"layers": 2}, {"layers": 0}, {"channels": 0}, {"num_classes": 1.5}])
def test_bad_sizes_are_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidArchitectureError):
        DartsNetwork(DARTS_V2_NORMAL, DARTS_V2_REDUCE, **kwargs)  # type: ignore[arg-type]
