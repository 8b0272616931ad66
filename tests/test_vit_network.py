"""AutoFormer ViT subnets: shapes, published sizes, analytic MACs and input validation."""

from __future__ import annotations

import pytest
import torch

from pnag_sampler.errors import InvalidArchitectureError
from pnag_sampler.spaces.vit_network import (
    BASE,
    TINY,
    AutoFormerRanges,
    AutoFormerViT,
    parameter_count,
    vit_flops,
)

#: the published AutoFormer-T subnet (microsoft/Cream, experiments/subnet/AutoFormer-T.yaml)
AUTOFORMER_T_HEADS = [3] * 10 + [4, 3, 3]
AUTOFORMER_T_RATIOS = [3.5, 3.5, 3.0, 3.5, 3.0, 3.0, 4.0, 4.0, 3.5, 4.0, 3.5, 4.0, 3.5]
AUTOFORMER_T = list(zip(AUTOFORMER_T_HEADS, AUTOFORMER_T_RATIOS))


def test_ranges_are_paper_table_1() -> None:
    assert TINY == AutoFormerRanges((192, 216, 240), (12, 13, 14), (3, 4), (3.5, 4.0))
    assert BASE.embed_dims == (528, 576, 624) and BASE.depths == (14, 15, 16)
    assert BASE.heads == (8, 9, 10) and BASE.mlp_ratios == (3.0, 3.5, 4.0)
    with pytest.raises(AttributeError):
        TINY.depths = (1,)  # type: ignore[misc]


def test_tiny_subnet_forward_gives_logits() -> None:
    torch.manual_seed(0)
    model = AutoFormerViT(192, [(3, 3.5), (4, 4.0)] * 6).eval()
    with torch.inference_mode():
        logits = model(torch.randn(1, 3, 224, 224))
    assert logits.shape == (1, 1000) and torch.isfinite(logits).all()


def test_zero_blocks_runs() -> None:
    model = AutoFormerViT(192, [], image_size=32, patch_size=8, num_classes=10)
    assert len(model.blocks) == 0
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert vit_flops(192, [], image_size=32, patch_size=8, num_classes=10) > 0


def test_qkv_width_follows_heads_not_embed_dim() -> None:
    attn = AutoFormerViT(240, [(3, 4.0)]).blocks[0].attn
    assert attn.qkv.out_features == 3 * 3 * 64 and attn.proj.in_features == 3 * 64
    assert attn.proj.out_features == 240


def test_published_autoformer_t_size() -> None:
    with torch.device("meta"):  # sizes only; no memory or init time
        model = AutoFormerViT(192, AUTOFORMER_T)
    assert 5_000_000 <= parameter_count(model) <= 6_500_000  # paper: 5.7M
    assert 1.1e9 <= vit_flops(192, AUTOFORMER_T) <= 1.5e9  # paper: 1.3G


def test_base_max_size() -> None:
    blocks = [(max(BASE.heads), max(BASE.mlp_ratios))] * max(BASE.depths)
    with torch.device("meta"):
        model = AutoFormerViT(max(BASE.embed_dims), blocks)
    assert 50_000_000 <= parameter_count(model) <= 80_000_000


def test_parameter_count_matches_formula() -> None:
    e, h, m, classes, patch, patches = 48, 2, 96, 7, 8, 16
    model = AutoFormerViT(e, [(h, 2.0)], image_size=32, patch_size=patch, num_classes=classes)
    d = h * 64
    block = 4 * e + (e * 3 * d + 3 * d) + (d * e + e) + (e * m + m) + (m * e + e)
    rest = (3 * patch * patch * e + e) + e + (patches + 1) * e + 2 * e + (e * classes + classes)
    assert parameter_count(model) == block + rest


def test_flops_grow_with_depth_and_width() -> None:
    costs = [vit_flops(192, [(3, 3.5)] * depth) for depth in (0, 12, 13, 14)]
    assert costs == sorted(costs) and len(set(costs)) == len(costs)
    assert vit_flops(240, [(4, 4.0)] * 12) > vit_flops(192, [(3, 3.5)] * 12)


def test_flops_per_block_term() -> None:
    tokens, e, d, m = 197, 192, 3 * 64, 672
    per_block = tokens * e * 3 * d + 2 * tokens * tokens * d + tokens * d * e + 2 * tokens * e * m
    assert vit_flops(192, [(3, 3.5)]) - vit_flops(192, []) == per_block


@pytest.mark.parametrize(
    ("embed_dim", "blocks", "options"),
    [
        (0, [(3, 4.0)], {}),
        (192.0, [(3, 4.0)], {}),
        (192, [(0, 4.0)], {}),
        (192, [(True, 4.0)], {}),
        (192, [(3, 0.0)], {}),
        (192, [(3, -1.0)], {}),
        (192, [(3, float("nan"))], {}),
        (192, [(3, 1e-9)], {}),
        (192, [(3,)], {}),
        (192, "3,4.0", {}),
        (192, [(3, 4.0)], {"image_size": 225}),
        (192, [(3, 4.0)], {"patch_size": 0}),
        (192, [(3, 4.0)], {"num_classes": 0}),
    ],
)
def test_bad_input_raises(embed_dim, blocks, options) -> None:
    with pytest.raises(InvalidArchitectureError):
        AutoFormerViT(embed_dim, blocks, **options)
    with pytest.raises(InvalidArchitectureError):
        vit_flops(embed_dim, blocks, **options)


def test_wrong_image_size_is_a_clear_error() -> None:
    model = AutoFormerViT(48, [], image_size=32, patch_size=8, num_classes=3)
    with pytest.raises(ValueError, match="expected images of shape"):
        model(torch.randn(1, 3, 64, 64))
