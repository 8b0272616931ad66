"""Cheap stand-ins for training and deploying OFA MobileNetV3 sub-networks: accuracy and latency.

Once-for-All publishes two tools that let a search score its ~10^19 sub-networks in
microseconds instead of GPU-days: an MLP that predicts ImageNet top-1 accuracy from the
architecture, and per-layer latency lookup tables measured on a Samsung Note10. Both are
vendored under ``pnag_sampler/data/ofa_mbv3/`` (see ``PROVENANCE.md`` there) and reproduced
here exactly, in numpy, so that the numbers match what OFA's own tutorial code reports.

A sub-network is a ``SubnetSpec`` in OFA's own flat form: a kernel size and an expand ratio
for each of the 20 layer slots (5 stages x 4), a depth per stage and an input resolution.
Slot ``4 * s + j`` is used when ``j < depths[s]``; the values of unused slots are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

import numpy as np
import yaml

from pnag_sampler.errors import CheckpointError, InvalidArchitectureError, UnknownNameError
from pnag_sampler.spaces.mbv3_network import (
    DEPTHS,
    EXPAND_RATIOS,
    FEATURE_MIX_WIDTH,
    FINAL_EXPAND_WIDTH,
    KERNEL_SIZES,
    MAX_DEPTH,
    NUM_STAGES,
    RESOLUTIONS,
    STAGE_ACTIVATIONS,
    STAGE_SE,
    STAGE_STRIDES,
    STAGE_WIDTHS,
    STEM_WIDTH,
    Layer,
    _checked_int,
    _is_list,
)

NUM_LAYER_SLOTS = NUM_STAGES * MAX_DEPTH
#: the predictor's resolution one-hot covers 112..224 (OFA trained it on a wider range)
PREDICTOR_RESOLUTIONS: tuple[int, ...] = tuple(range(112, 225, 16))
PREDICTOR_INPUT_SIZE = 2 * NUM_LAYER_SLOTS * 3 + len(PREDICTOR_RESOLUTIONS)  # 128
#: the latency tables are for ImageNet's 1000 classes
LATENCY_NUM_CLASSES = 1000
_DATA_DIR = "ofa_mbv3"
_PREDICTOR_FILE = "acc_predictor_mlp.npz"
#: the nn.Sequential indices of the predictor's Linear layers (ReLU between them)
_PREDICTOR_LAYERS = ("0", "2", "4", "6")


def _checked_tuple(values: object, allowed: tuple[int, ...], length: int, what: str) -> tuple[int, ...]:
    """``values`` as ``length`` plain ints from ``allowed``, or a clear error naming the entry."""
    if not _is_list(values) and not isinstance(values, np.ndarray):
        raise InvalidArchitectureError(f"{what} must be a sequence of {length} integers")
    items = list(values)  # type: ignore[call-overload]
    if len(items) != length:
        raise InvalidArchitectureError(f"{what} needs {length} entries, got {len(items)}")
    return tuple(_checked_int(v, allowed, f"{what}[{i}]") for i, v in enumerate(items))


@dataclass(frozen=True)
class SubnetSpec:
    """One OFA MobileNetV3 sub-network in OFA's flat (ks, e, d, r) form.

    Fields are normalised to tuples of plain ints, so specs hash and compare by value whatever
    sequence or numpy integer type built them. Every slot must hold an allowed value, even an
    unused one (as in OFA, where every slot always has a setting).
    """

    #: 20 entries, one per layer slot (unused slots: any allowed value, ignored)
    kernel_sizes: tuple[int, ...]
    #: 20 entries, one per layer slot (unused slots: any allowed value, ignored)
    expand_ratios: tuple[int, ...]
    #: 5 entries, layers used per stage, each in DEPTHS
    depths: tuple[int, ...]
    #: input image side in pixels, in RESOLUTIONS
    resolution: int

    def __post_init__(self) -> None:
        norm = {
            "kernel_sizes": _checked_tuple(self.kernel_sizes, KERNEL_SIZES, NUM_LAYER_SLOTS, "kernel_sizes"),
            "expand_ratios": _checked_tuple(self.expand_ratios, EXPAND_RATIOS, NUM_LAYER_SLOTS, "expand_ratios"),
            "depths": _checked_tuple(self.depths, DEPTHS, NUM_STAGES, "depths"),
            "resolution": _checked_int(self.resolution, RESOLUTIONS, "resolution"),
        }
        for name, value in norm.items():
            object.__setattr__(self, name, value)  # frozen: normalise in place once

    @classmethod
    def uniform(cls, kernel_size: int, expand_ratio: int, depth: int, resolution: int) -> SubnetSpec:
        """The same kernel, expand ratio and depth everywhere, e.g. ``uniform(7, 6, 4, 224)``."""
        return cls(
            (kernel_size,) * NUM_LAYER_SLOTS,
            (expand_ratio,) * NUM_LAYER_SLOTS,
            (depth,) * NUM_STAGES,
            resolution,
        )

    @classmethod
    def random(cls, rng: np.random.Generator) -> SubnetSpec:
        """A uniformly random sub-network, each choice drawn independently as OFA samples them."""
        return cls(
            tuple(rng.choice(KERNEL_SIZES, NUM_LAYER_SLOTS)),
            tuple(rng.choice(EXPAND_RATIOS, NUM_LAYER_SLOTS)),
            tuple(rng.choice(DEPTHS, NUM_STAGES)),
            int(rng.choice(RESOLUTIONS)),
        )


def spec_stages(spec: SubnetSpec) -> list[list[Layer]]:
    """The 5 stages' used ``(kernel, expand ratio)`` layers, as ``MobileNetV3Subnet`` takes."""
    stages: list[list[Layer]] = []
    for s, depth in enumerate(spec.depths):
        slots = range(s * MAX_DEPTH, s * MAX_DEPTH + depth)
        stages.append([(spec.kernel_sizes[i], spec.expand_ratios[i]) for i in slots])
    return stages


def _data_file(name: str) -> Traversable:
    return files("pnag_sampler.data").joinpath(_DATA_DIR, name)


# -- accuracy predictor -------------------------------------------------------------------------
@cache
def _predictor() -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """The MLP's (weight^T, bias) pairs in float64, read once from the vendored npz.

    float64 rather than the stored float32 so a spec scores the same alone or in any batch.
    """
    source = _data_file(_PREDICTOR_FILE)
    try:
        with source.open("rb") as handle, np.load(handle, allow_pickle=False) as arrays:
            layers = tuple(
                (
                    np.asarray(arrays[f"{i}_weight"], dtype=np.float64).T.copy(),
                    np.asarray(arrays[f"{i}_bias"], dtype=np.float64),
                )
                for i in _PREDICTOR_LAYERS
            )
    except (OSError, KeyError, ValueError) as exc:
        raise CheckpointError(f"cannot read the OFA accuracy predictor {source}: {exc}") from exc
    width = PREDICTOR_INPUT_SIZE
    for i, (weight, bias) in zip(_PREDICTOR_LAYERS, layers):
        if weight.ndim != 2 or weight.shape[0] != width or bias.shape != (weight.shape[1],):
            raise CheckpointError(f"OFA accuracy predictor layer {i} has an unexpected shape")
        width = weight.shape[1]
    if width != 1:
        raise CheckpointError("the OFA accuracy predictor must end in one output")
    return layers


def _features(specs: Sequence[SubnetSpec]) -> np.ndarray:
    """OFA's 128-d encoding: kernel one-hots (20 x 3), expand one-hots (20 x 3), resolution (8).

    Unused slots stay all-zero; this mirrors ``AccuracyPredictor.spec2feats`` of OFA's tutorial.
    """
    n = len(specs)
    kernels = np.array([s.kernel_sizes for s in specs], dtype=np.int64).reshape(n, -1)
    expands = np.array([s.expand_ratios for s in specs], dtype=np.int64).reshape(n, -1)
    depths = np.array([s.depths for s in specs], dtype=np.int64).reshape(n, -1)
    resolutions = np.array([s.resolution for s in specs], dtype=np.int64)
    slots = np.arange(NUM_LAYER_SLOTS)
    used = (slots % MAX_DEPTH)[None, :] < np.repeat(depths, MAX_DEPTH, axis=1)
    rows = np.arange(n)[:, None]
    feats = np.zeros((n, PREDICTOR_INPUT_SIZE))
    kernel_cols = slots * 3 + np.searchsorted(KERNEL_SIZES, kernels)
    expand_cols = 3 * NUM_LAYER_SLOTS + slots * 3 + np.searchsorted(EXPAND_RATIOS, expands)
    feats[rows, kernel_cols] = used
    feats[rows, expand_cols] = used
    feats[np.arange(n), 6 * NUM_LAYER_SLOTS + (resolutions - PREDICTOR_RESOLUTIONS[0]) // 16] = 1
    return feats


def predicted_accuracies(specs: Sequence[SubnetSpec]) -> np.ndarray:
    """OFA's predicted ImageNet top-1 accuracy (a fraction) of each spec, in one batched pass."""
    for i, spec in enumerate(specs):
        if not isinstance(spec, SubnetSpec):
            raise InvalidArchitectureError(f"specs[{i}] is a {type(spec).__name__}, not a SubnetSpec")
    if len(specs) == 0:
        return np.zeros(0)
    hidden = _features(specs)
    layers = _predictor()
    for weight, bias in layers[:-1]:
        hidden = np.maximum(hidden @ weight + bias, 0.0)
    weight, bias = layers[-1]
    return (hidden @ weight + bias)[:, 0]


def predicted_accuracy(spec: SubnetSpec) -> float:
    """OFA's predicted ImageNet top-1 accuracy of one sub-network, as a fraction (e.g. 0.80)."""
    return float(predicted_accuracies([spec])[0])


# -- Note10 latency -----------------------------------------------------------------------------
def _table_name(resolution: int) -> str:
    return f"note10_{resolution}_lookup_table.yaml"


@cache
def _latency_table(resolution: int) -> dict[str, float]:
    """Layer key -> mean latency (ms) for one resolution, parsed once (yaml.safe_load)."""
    source = _data_file(_table_name(resolution))
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
        table = {str(key): float(entry["mean"]) for key, entry in raw.items()}
    except (OSError, yaml.YAMLError, AttributeError, KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"cannot read the Note10 latency table {source}: {exc}") from exc
    bad = [key for key, mean in table.items() if not math.isfinite(mean) or mean < 0]
    if bad:
        raise CheckpointError(f"Note10 latency table {source} has invalid means for {bad[:3]}")
    return table


def _shape(*dims: int) -> str:
    return "x".join(str(d) for d in dims)


def _block_key(
    size: int,
    c_in: int,
    out_size: int,
    c_out: int,
    *,
    mid: int,
    kernel: int,
    stride: int,
    idskip: int,
    se: bool,
    hs: bool,
) -> str:
    """The key of one MBConv layer (``expanded_conv``) in OFA's latency tables."""
    return (
        f"expanded_conv-input:{_shape(size, size, c_in)}-output:{_shape(out_size, out_size, c_out)}"
        f"-expand:{mid}-kernel:{kernel}-stride:{stride}-idskip:{idskip}-se:{int(se)}-hs:{int(hs)}"
    )


def note10_latency_keys(spec: SubnetSpec) -> list[str]:
    """The lookup-table keys of every layer of ``spec``, in network order.

    Follows ``LatencyEstimator.predict_network_latency_given_spec`` of OFA's tutorial: the
    middle width is ``round(c_in * e)`` (equal to the network's make_divisible width for every
    width in this space) and feature maps shrink as ``(size - 1) // stride + 1``.
    """
    r = spec.resolution
    size = (r + 1) // 2
    keys = [
        f"Conv-input:{_shape(r, r, 3)}-output:{_shape(size, size, STEM_WIDTH)}",
        # the fixed first block: expand 1, so its "expand" (middle width) is its own width
        _block_key(
            size,
            STEM_WIDTH,
            size,
            STEM_WIDTH,
            mid=STEM_WIDTH,
            kernel=3,
            stride=1,
            idskip=1,
            se=False,
            hs=False,
        ),
    ]
    c_in = STEM_WIDTH
    for s, depth in enumerate(spec.depths):
        for j in range(depth):
            slot = s * MAX_DEPTH + j
            stride = STAGE_STRIDES[s] if j == 0 else 1
            out_size = (size - 1) // stride + 1
            c_out = STAGE_WIDTHS[s]
            keys.append(
                _block_key(
                    size,
                    c_in,
                    out_size,
                    c_out,
                    mid=round(c_in * spec.expand_ratios[slot]),
                    kernel=spec.kernel_sizes[slot],
                    stride=stride,
                    idskip=0 if j == 0 else 1,
                    se=STAGE_SE[s],
                    hs=STAGE_ACTIVATIONS[s] == "h_swish",
                )
            )
            size, c_in = out_size, c_out
    keys += [
        f"Conv_1-input:{_shape(size, size, c_in)}-output:{_shape(size, size, FINAL_EXPAND_WIDTH)}",
        f"AvgPool2D-input:{_shape(size, size, FINAL_EXPAND_WIDTH)}-output:{_shape(1, 1, FINAL_EXPAND_WIDTH)}",
        f"Conv_2-input:{_shape(1, 1, FINAL_EXPAND_WIDTH)}-output:{_shape(1, 1, FEATURE_MIX_WIDTH)}",
        f"Logits-input:{_shape(1, 1, FEATURE_MIX_WIDTH)}-output:{LATENCY_NUM_CLASSES}",
    ]
    return keys


def note10_latency_ms(spec: SubnetSpec) -> float:
    """Predicted Samsung Note10 latency (ms): the sum of the table means of all its layers.

    A layer the table lacks raises ``UnknownNameError`` naming the key: silently counting
    it as 0 ms would make the searched network look faster than it is.
    """
    if not isinstance(spec, SubnetSpec):
        raise InvalidArchitectureError(f"expected a SubnetSpec, got {type(spec).__name__}")
    table = _latency_table(spec.resolution)
    total = 0.0
    for key in note10_latency_keys(spec):
        if key not in table:
            raise UnknownNameError(f"no Note10 latency for layer {key!r} in {_table_name(spec.resolution)}")
        total += table[key]
    return total


__all__ = [
    "NUM_LAYER_SLOTS",
    "SubnetSpec",
    "note10_latency_keys",
    "note10_latency_ms",
    "predicted_accuracies",
    "predicted_accuracy",
    "spec_stages",
]
