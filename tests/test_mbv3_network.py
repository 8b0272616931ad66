"""OFA MobileNetV3 (w1.2): the torch sub-network, OFA's accuracy predictor and Note10 latency."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pnag_sampler.errors import InvalidArchitectureError, UnknownNameError
from pnag_sampler.spaces import ofa_evaluators
from pnag_sampler.spaces.mbv3_network import (
    RESOLUTIONS,
    STAGE_SE,
    STAGE_WIDTHS,
    MBConv,
    MobileNetV3Subnet,
    make_divisible,
)
from pnag_sampler.spaces.ofa_evaluators import (
    SubnetSpec,
    note10_latency_keys,
    note10_latency_ms,
    predicted_accuracies,
    predicted_accuracy,
    spec_stages,
)

ALL_MAX = SubnetSpec.uniform(7, 6, 4, 224)
ALL_MIN = SubnetSpec.uniform(3, 3, 2, 160)


def _params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _expected_params(stages: list[list[tuple[int, int]]], num_classes: int = 1000) -> int:
    """The parameter count worked out by hand from the published architecture."""

    def bn(c: int) -> int:
        return 2 * c

    def mbconv(c_in: int, c_out: int, k: int, e: int, se: bool) -> int:
        mid = c_in * e  # every width here is a multiple of 8, so no rounding
        total = (c_in * mid + bn(mid) if e != 1 else 0) + mid * k * k + bn(mid)
        if se:
            red = make_divisible(mid // 4)
            total += mid * red + red + red * mid + mid
        return total + mid * c_out + bn(c_out)

    total = 3 * 24 * 9 + bn(24) + mbconv(24, 24, 3, 1, False)
    c_in = 24
    for s, stage in enumerate(stages):
        for k, e in stage:
            total += mbconv(c_in, STAGE_WIDTHS[s], k, e, STAGE_SE[s])
            c_in = STAGE_WIDTHS[s]
    total += c_in * 1152 + bn(1152) + 1152 * 1536 + 1536 * num_classes + num_classes
    return total


# -- accuracy predictor -------------------------------------------------------------------------
def test_predictor_sanity_values() -> None:
    assert round(predicted_accuracy(ALL_MAX), 3) == 0.836
    assert round(predicted_accuracy(ALL_MIN), 3) == 0.753


def test_predictor_mean_over_random_specs() -> None:
    rng = np.random.default_rng(0)
    specs = [SubnetSpec.random(rng) for _ in range(1000)]
    accs = predicted_accuracies(specs)
    assert accs.shape == (1000,)
    assert abs(accs.mean() - 0.800) < 0.005
    # batched and one-at-a-time agree
    assert np.allclose(accs[:5], [predicted_accuracy(s) for s in specs[:5]], atol=1e-12)
    assert predicted_accuracies([]).shape == (0,)


def test_predictor_ignores_unused_slots() -> None:
    kernels = list(ALL_MIN.kernel_sizes)
    kernels[3] = 7  # stage 0 has depth 2: slot 3 is unused
    other = SubnetSpec(tuple(kernels), ALL_MIN.expand_ratios, ALL_MIN.depths, 160)
    assert predicted_accuracy(other) == predicted_accuracy(ALL_MIN)
    kernels[1] = 7  # slot 1 is used
    used = SubnetSpec(tuple(kernels), ALL_MIN.expand_ratios, ALL_MIN.depths, 160)
    assert predicted_accuracy(used) != predicted_accuracy(ALL_MIN)


# -- latency ------------------------------------------------------------------------------------
def test_latency_of_random_specs_and_extremes() -> None:
    rng = np.random.default_rng(1)
    specs = [SubnetSpec.random(rng) for _ in range(200)]
    assert {s.resolution for s in specs} == set(RESOLUTIONS)
    latencies = [note10_latency_ms(s) for s in specs]
    assert all(np.isfinite(latencies)) and min(latencies) > 0
    assert note10_latency_ms(ALL_MAX) > note10_latency_ms(SubnetSpec.uniform(3, 3, 2, 224))
    assert note10_latency_ms(ALL_MAX) > note10_latency_ms(SubnetSpec.uniform(7, 6, 4, 160))


def test_latency_keys_follow_the_network() -> None:
    spec = SubnetSpec.random(np.random.default_rng(2))
    keys = note10_latency_keys(spec)
    assert keys[0] == f"Conv-input:{spec.resolution}x{spec.resolution}x3-output:" + (
        f"{(spec.resolution + 1) // 2}x{(spec.resolution + 1) // 2}x24"
    )
    assert [k.split("-")[0] for k in keys[-4:]] == ["Conv_1", "AvgPool2D", "Conv_2", "Logits"]
    net = MobileNetV3Subnet(spec_stages(spec))
    mids = [m.mid_channels for m in net.modules() if isinstance(m, MBConv)]
    key_mids = [int(k.split("-expand:")[1].split("-")[0]) for k in keys[1:-4]]
    assert key_mids == mids and len(mids) == 1 + sum(spec.depths)


def test_missing_latency_key_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    table = dict(ofa_evaluators._latency_table(224))
    dropped = note10_latency_keys(ALL_MAX)[3]
    del table[dropped]
    monkeypatch.setattr(ofa_evaluators, "_latency_table", lambda resolution: table)
    with pytest.raises(UnknownNameError, match="expanded_conv-input"):
        note10_latency_ms(ALL_MAX)


# -- torch network ------------------------------------------------------------------------------
def test_all_max_and_all_min_parameter_counts() -> None:
    for spec in (ALL_MAX, ALL_MIN):
        stages = spec_stages(spec)
        net = MobileNetV3Subnet(stages)
        count = _params(net)
        print(f"params {spec.kernel_sizes[0]}/{spec.expand_ratios[0]}/{spec.depths[0]}: {count}")
        assert count == _expected_params(stages)
    assert 9e6 < _params(MobileNetV3Subnet(spec_stages(ALL_MAX))) < 11e6


def test_forward_random_subnet_at_160() -> None:
    torch.manual_seed(0)
    spec = SubnetSpec.random(np.random.default_rng(3))
    net = MobileNetV3Subnet(spec_stages(spec)).eval()
    with torch.no_grad():
        out = net(torch.randn(1, 3, 160, 160))
    assert out.shape == (1, 1000) and torch.isfinite(out).all()


def test_empty_stages_build_and_run() -> None:
    stages = [[], [(5, 4)], [], [(3, 6), (7, 3)], []]
    net = MobileNetV3Subnet(stages, num_classes=10).eval()
    assert _params(net) == _expected_params(stages, num_classes=10)
    with torch.no_grad():
        assert net(torch.randn(2, 3, 176, 176)).shape == (2, 10)
        assert MobileNetV3Subnet([[]] * 5).eval()(torch.randn(1, 3, 160, 160)).shape == (1, 1000)


@pytest.mark.parametrize(
    "stages",
    [
        [[(3, 3)]] * 4,  # 4 stages
        [[(3, 3)]] * 6,
        [[(4, 3)], [], [], [], []],  # kernel 4
        [[(3, 5)], [], [], [], []],  # expand 5
        [[(3, 3)] * 5, [], [], [], []],  # 5 layers in a stage
        [[(3, 3, 1)], [], [], [], []],  # not a pair
        [[(3.0, 3)], [], [], [], []],  # not an int
        [[(True, 3)], [], [], [], []],
        ["33", [], [], [], []],
        "stages",
    ],
)
def test_bad_stages_raise(stages: object) -> None:
    with pytest.raises(InvalidArchitectureError):
        MobileNetV3Subnet(stages)  # type: ignore[arg-type]


def test_bad_num_classes_raise() -> None:
    with pytest.raises(InvalidArchitectureError):
        MobileNetV3Subnet([[]] * 5, num_classes=0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kernel_sizes": (3,) * 19},
        {"kernel_sizes": (3,) * 19 + (4,)},
        {"expand_ratios": (5,) * 20},
        {"depths": (1, 2, 2, 2, 2)},
        {"depths": (2,) * 4},
        {"resolution": 150},
        {"resolution": 112},  # the predictor knows 112, but the space (and latency) do not
        {"kernel_sizes": "3" * 20},
    ],
)
def test_bad_spec_raises(kwargs: dict[str, object]) -> None:
    fields = {"kernel_sizes": (3,) * 20, "expand_ratios": (3,) * 20, "depths": (2,) * 5}
    fields["resolution"] = 160
    with pytest.raises(InvalidArchitectureError):
        SubnetSpec(**{**fields, **kwargs})  # type: ignore[arg-type]


def test_spec_normalises_to_plain_int_tuples() -> None:
    kernels = list(np.full(20, 3))  # numpy ints, as rng.choice gives
    depths = [np.int64(2)] * 5
    spec = SubnetSpec(kernels, np.full(20, 3), depths, np.int64(160))  # type: ignore[arg-type]
    assert spec == ALL_MIN and hash(spec) == hash(ALL_MIN)
    assert type(spec.resolution) is int and type(spec.kernel_sizes[0]) is int
    with pytest.raises(InvalidArchitectureError):
        predicted_accuracies([ALL_MIN, "not a spec"])  # type: ignore[list-item]
