"""Generator internals: scales, quantizer, encoder/decoder shapes, losses, sampling, SCC."""

import numpy as np
import pytest
import torch

from pnag_sampler.model.autoencoder import ArchitectureAutoencoder, AutoencoderConfig
from pnag_sampler.model.condition import ConditionLayout
from pnag_sampler.model.graph_tensors import dags_to_tensors, tensors_to_dags
from pnag_sampler.model.quantizer import MultiScaleQuantizer
from pnag_sampler.model.sampling import sample_index_chunks
from pnag_sampler.model.scales import coarsen_architecture, interpolation_matrix, pooling_matrix, regions, scale_structures
from pnag_sampler.model.training import train_autoencoder
from pnag_sampler.model.transformer import ScaleTransformer, TransformerConfig, filter_logits
from pnag_sampler.spaces import get_space


def sample_indices(*args, **kwargs) -> list[torch.Tensor]:
    """The whole batch's codes per scale: every chunk of ``sample_index_chunks`` joined."""
    return [torch.cat(scale) for scale in zip(*sample_index_chunks(*args, **kwargs))]


@pytest.fixture(scope="module")
def nb201():
    return get_space("nb201")


@pytest.fixture(scope="module")
def nb201_batch(nb201):
    dags = nb201.sample(np.random.default_rng(0), 64)
    return dags, dags_to_tensors(nb201.node_types, dags)


@pytest.mark.parametrize("num_nodes", [6, 8])
def test_regions_partition_nodes_and_keep_input_output_alone(num_nodes):
    for scale in range(3, num_nodes + 1):
        parts = regions(num_nodes, scale)
        assert len(parts) == scale
        assert parts[0] == [0] and parts[-1] == [num_nodes - 1]
        assert sorted(i for part in parts for i in part) == list(range(num_nodes))


def test_pooling_and_interpolation_are_identity_at_full_scale_and_row_stochastic():
    assert torch.equal(pooling_matrix(8, 8), torch.eye(8))
    assert torch.equal(interpolation_matrix(8, 8), torch.eye(8))
    for scale in range(3, 8):
        assert torch.allclose(pooling_matrix(8, scale).sum(1), torch.ones(scale))
        assert torch.allclose(interpolation_matrix(8, scale).sum(1), torch.ones(8))
        # interpolating a constant map gives the same constant
        constant = torch.full((1, 1, scale, scale), 3.0)
        up = torch.einsum("ix,bcxy,jy->bcij", interpolation_matrix(8, scale), constant, interpolation_matrix(8, scale))
        assert torch.allclose(up, torch.full((1, 1, 8, 8), 3.0))


@pytest.mark.parametrize("space_name", ["nb201", "nasbench_graph"])
def test_coarsened_architectures_are_valid_runnable_sub_architectures(space_name):
    space = get_space(space_name)
    dags = space.sample(np.random.default_rng(1), 200)
    ops, adjacency = dags_to_tensors(space.node_types, dags)
    structures = scale_structures(space, range(3, space.num_nodes + 1))
    for structure in structures:
        coarse = tensors_to_dags(space.node_types, *coarsen_architecture(ops, adjacency, structure))
        assert all(dag.num_nodes == structure.num_nodes for dag in coarse)
        assert [space.sub_architecture_problem(d) for d in coarse] == [None] * len(coarse)
    # the finest scale is the architecture itself
    assert tensors_to_dags(space.node_types, *coarsen_architecture(ops, adjacency, structures[-1])) == dags


def _autoencoder(space, **options):
    config = AutoencoderConfig(space.num_nodes, len(space.node_types), **options)
    return ArchitectureAutoencoder(config, scale_structures(space, config.resolved_scales))


def test_quantizer_residual_accumulates_to_e_hat_and_uses_one_codebook():
    torch.manual_seed(0)
    quantizer = MultiScaleQuantizer(num_nodes=8, channels=4, codebook_size=7)
    e = torch.randn(5, 4, 8, 8)
    out = quantizer(e)
    assert [tuple(i.shape) for i in out.indices] == [(5, n, n) for n in range(3, 9)]
    assert all(int(i.max()) < 7 for i in out.indices)
    # e_hat is exactly the sum of the interpolated code lookups of every scale
    rebuilt = quantizer.maps_from_indices(out.indices)
    assert torch.allclose(rebuilt[-1], out.e_hat, atol=1e-5)
    assert torch.allclose(out.partial_maps[-1], out.e_hat, atol=1e-5)
    # the straight-through estimator sends the decoder's gradient to the encoder output
    e.requires_grad_(True)
    quantizer(e).e_hat.sum().backward()
    assert torch.allclose(e.grad, torch.ones_like(e))


def test_more_scales_approximate_e_better_once_the_codebook_fits():
    """Residual quantization: each step can only reduce the error when codes include zero-ish vectors."""
    torch.manual_seed(0)
    quantizer = MultiScaleQuantizer(num_nodes=8, channels=2, codebook_size=64)
    with torch.no_grad():
        grid = torch.linspace(-2, 2, 8)
        quantizer.codebook.weight.copy_(torch.cartesian_prod(grid, grid))
    e = torch.randn(3, 2, 8, 8)
    with torch.no_grad():
        errors = [float((e - m).pow(2).mean()) for m in quantizer(e).partial_maps]
    assert errors[-1] < errors[0]


def test_autoencoder_shapes_and_scc_switch(nb201_batch, nb201):
    _, (ops, adjacency) = nb201_batch
    torch.manual_seed(0)
    off = _autoencoder(nb201, scc_steps=0)
    assert float(off.losses(ops, adjacency)["scc"]) == 0.0
    on = _autoencoder(nb201, scc_steps=3)
    losses = on.losses(ops, adjacency)
    assert float(losses["scc"]) > 0.0
    assert torch.isclose(losses["total"], losses["reconstruction"] + losses["multiscale"] + losses["vq"] + losses["scc"])
    e = on.encoder(ops, adjacency)
    assert e.shape == (64, on.config.channels, 8, 8)
    with pytest.raises(ValueError):
        _ = AutoencoderConfig(8, 7, scc_steps=7).resolved_scc_steps


def test_autoencoder_loss_decreases_on_a_tiny_run(nb201_batch, nb201):
    _, (ops, adjacency) = nb201_batch
    torch.manual_seed(0)
    model = _autoencoder(nb201, channels=16, hidden=32, codebook_size=16)
    history = train_autoencoder(model, ops, adjacency, epochs=10, batch_size=16, progress=False)
    assert history["total"][-1] < 0.85 * history["total"][0]
    assert history["reconstruction"][-1] < 0.8 * history["reconstruction"][0]


def _tiny_transformer(condition_dim=2):
    return ScaleTransformer(
        TransformerConfig(scales=(3, 4, 5, 6), codebook_size=11, channels=8, condition_dim=condition_dim, width=32, depth=2, heads=2)
    )


def test_transformer_is_block_causal():
    """Changing the input of a fine scale must not change the logits of coarser scales."""
    torch.manual_seed(0)
    model = _tiny_transformer().eval()
    condition = torch.randn(2, 2)
    inputs = [torch.randn(2, 8, n, n) for n in (4, 5, 6)]
    base = model(inputs, condition)
    changed = [inputs[0], inputs[1], inputs[2] + 1.0]
    other = model(changed, condition)
    coarse = 9 + 16 + 25  # tokens of scales 3, 4, 5
    assert torch.allclose(base[:, :coarse], other[:, :coarse], atol=1e-5)
    assert not torch.allclose(base[:, coarse:], other[:, coarse:])


def test_kv_cached_sampling_matches_teacher_forcing():
    """One step per scale with the cache gives the same logits as the full masked pass."""
    torch.manual_seed(0)
    model = _tiny_transformer().eval()
    quantizer = MultiScaleQuantizer(num_nodes=6, channels=8, codebook_size=11)
    condition = ConditionLayout().encode({"performance": 0.9}, 3)
    indices = sample_indices(model, quantizer, condition, generator=torch.Generator().manual_seed(0))
    assert [tuple(i.shape) for i in indices] == [(3, n, n) for n in (3, 4, 5, 6)]
    maps = quantizer.maps_from_indices(indices[:-1])
    inputs = [quantizer.pool(m, n) for m, n in zip(maps, (4, 5, 6))]
    full = model(inputs, condition)
    # re-run the cached path and collect its logits
    model.set_caching(True)
    embedded = model.embed_condition(condition)
    step_inputs = model.start_tokens.expand(3, -1, -1)
    position, cached = 0, []
    for step, n in enumerate((3, 4, 5, 6)):
        cached.append(model.step_logits(step_inputs, position, embedded))
        position += n * n
        if step < 3:
            step_inputs = model.input_projection(inputs[step].flatten(2).transpose(1, 2))
    model.set_caching(False)
    assert torch.allclose(torch.cat(cached, dim=1), full, atol=1e-4)


def test_same_seed_same_samples_and_guidance_runs():
    torch.manual_seed(0)
    model = _tiny_transformer().eval()
    quantizer = MultiScaleQuantizer(num_nodes=6, channels=8, codebook_size=11)
    condition = ConditionLayout().encode({"performance": 1.0}, 4)
    a = sample_indices(model, quantizer, condition, cfg_scale=2.0, generator=torch.Generator().manual_seed(3))
    b = sample_indices(model, quantizer, condition, cfg_scale=2.0, generator=torch.Generator().manual_seed(3))
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    with pytest.raises(ValueError):
        sample_indices(model, quantizer, condition, temperature=0.0)


def test_a_draw_is_what_torch_multinomial_draws():
    """Sampling draws argmax(p / E) with exponential noise E, torch.multinomial's own method,
    so chunked generation consumes the generator exactly as one multinomial call would."""
    probabilities = torch.rand(300, 11).softmax(-1)
    expected = torch.multinomial(probabilities, 1, generator=torch.Generator().manual_seed(5))[:, 0]
    noise = torch.empty_like(probabilities).exponential_(1, generator=torch.Generator().manual_seed(5))
    assert torch.equal((probabilities / noise).argmax(-1), expected)


def test_chunked_sampling_gives_the_whole_batchs_codes():
    torch.manual_seed(0)
    model = _tiny_transformer().eval()
    quantizer = MultiScaleQuantizer(num_nodes=6, channels=8, codebook_size=11)
    condition = ConditionLayout().encode({"performance": 1.0}, 7)
    whole = sample_indices(model, quantizer, condition, cfg_scale=2.0, top_p=0.9, generator=torch.Generator().manual_seed(1))
    chunked = sample_indices(
        model, quantizer, condition, cfg_scale=2.0, top_p=0.9, chunk_rows=3, generator=torch.Generator().manual_seed(1)
    )
    assert all(torch.equal(a, b) for a, b in zip(whole, chunked))


def test_filter_logits_top_k_and_top_p():
    logits = torch.tensor([[4.0, 3.0, 2.0, 1.0]])
    assert torch.isinf(filter_logits(logits, 2, None)[0, 2:]).all()
    kept = ~torch.isinf(filter_logits(logits, None, 0.5))
    assert kept.tolist() == [[True, False, False, False]]


def test_condition_layout_presence_flags():
    layout = ConditionLayout((("performance", 1), ("task", 3)))
    assert layout.dim == 6
    vector = layout.encode({"performance": 0.5}, 2)
    assert vector.tolist() == [[0.5, 1.0, 0.0, 0.0, 0.0, 0.0]] * 2
    with pytest.raises(KeyError):
        layout.encode({"latency": 1.0}, 1)


def test_the_gin_layer_is_pygs_ginconv_bit_for_bit():
    from torch_geometric.nn import GINConv as PyGGINConv

    from pnag_sampler.model.encoder import GINConv, _mlp, batched_edge_index

    torch.manual_seed(0)
    ours = GINConv(_mlp(16))
    theirs = PyGGINConv(ours.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    adjacency = (torch.rand(20, 8, 8) < 0.4).float().triu(1)
    edges = batched_edge_index(adjacency)
    states = torch.randn(20 * 8, 16)
    for direction in (edges, edges.flip(0)):
        assert torch.equal(ours(states, direction), theirs(states, direction))
