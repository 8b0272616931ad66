"""DARTS, MobileNetV3 (OFA), AutoFormer and HPOLib's FCNet as chain spaces: strings, parameters,
validity, measures, real modules and sub-architectures."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
import torch

from pnag_sampler import suggest_architecture
from pnag_sampler.errors import InvalidArchitectureError
from pnag_sampler.model.graph_tensors import dags_to_tensors, tensors_to_dags
from pnag_sampler.model.scales import coarsen_architecture, scale_structures
from pnag_sampler.spaces import Dag, get_space
from pnag_sampler.spaces.darts_network import parameter_count as darts_parameter_count
from pnag_sampler.spaces.ofa_evaluators import note10_latency_ms, predicted_accuracy
from pnag_sampler.spaces.vit_network import parameter_count as vit_parameter_count

CHAIN_SPACES = ("darts", "mbv3", "autoformer", "autoformer-base", "hpolib")
#: output width of each chain space's full module
OUTPUTS = {"darts": 10, "mbv3": 1000, "autoformer": 1000, "autoformer-base": 1000, "hpolib": 1}

DARTS_V2 = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], "
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)
MBV3_EXAMPLE = "224;k3_e4,k5_e6;k7_e3,k3_e3,k5_e4;k3_e6,k3_e6;k5_e4,k5_e4,k7_e6,k3_e3;k7_e6,k7_e6"
TINY_EXAMPLE = "192:" + ",".join(["h3_m3.5"] * 12 + ["h4_m4.0"])


def samples(name: str, n: int = 200, seed: int = 0) -> list[Dag]:
    return get_space(name).sample(np.random.default_rng(seed), n)


@pytest.mark.parametrize("name", CHAIN_SPACES)
def test_strings_and_parameters_round_trip(name: str) -> None:
    space = get_space(name)
    for dag in samples(name):
        assert space.from_string(space.to_string(dag)) == dag
        assert space.from_params(space.to_params(dag)) == dag


@pytest.mark.parametrize("name", CHAIN_SPACES)
def test_sampling_covers_every_token_of_every_slot(name: str) -> None:
    space = get_space(name)
    seen = [set() for _ in space.slot_names]
    for dag in samples(name, 3000):
        for slot, token in zip(seen, space.tokens(dag)):
            slot.add(token)
    assert [len(s) for s in seen] == [len(tokens) for tokens in space.slot_tokens]


@pytest.mark.parametrize("name", CHAIN_SPACES)
def test_every_flat_parameter_combination_is_an_architecture(name: str) -> None:
    """Any Optuna sampler may pick any combination, so suggest_architecture never fails."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    space = get_space(name)
    for _ in range(30):
        trial = study.ask()
        assert space.is_valid(space.from_string(suggest_architecture(trial, name)))
        study.tell(trial, 0.0)


def test_darts_reads_published_genotypes_and_orders_node_inputs() -> None:
    darts = get_space("darts")
    dag = darts.from_string(DARTS_V2)
    normal, reduce = darts.cells(dag)
    assert normal[4:6] == (("skip_connect", 0), ("sep_conv_3x3", 1))  # listed (1, 0) in DARTS_V2
    assert darts.from_string(darts.to_string(dag)) == dag
    assert darts.measures([dag])["params_m"][0] == pytest.approx(3.349342)  # the paper's 3.3M
    assert darts_parameter_count(darts.build_module(dag)) == 3_349_342


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        (
            "darts",
            DARTS_V2.replace("('skip_connect', 0), ('dil_conv_3x3', 2)", "('skip_connect', 2), ('dil_conv_3x3', 2)", 1),
            "both inputs from state 2",
        ),
        ("darts", DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)"), "source"),
        ("darts", DARTS_V2.replace("dil_conv_3x3", "conv_7x1_1x7"), "operation 'conv_7x1_1x7'"),
        ("darts", DARTS_V2.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=[4, 5]"), "normal_concat"),
        ("darts", "Genotype(normal=__import__('os'))", "Genotype"),
        ("mbv3", MBV3_EXAMPLE.replace("224", "100"), "resolution"),
        ("mbv3", MBV3_EXAMPLE.replace("k3_e4,k5_e6;", "k3_e4;", 1), "stage"),
        ("mbv3", MBV3_EXAMPLE.replace("k7_e3,k3_e3,k5_e4", "k7_e3,k3_e3,k5_e4,k3_e3,k3_e3"), "layers"),
        ("mbv3", MBV3_EXAMPLE.replace("k5_e6", "k9_e6"), "k9_e6"),
        ("mbv3", "224;k3_e4", "resolution"),
        ("autoformer", TINY_EXAMPLE.replace("192", "200"), "embed200"),
        ("autoformer", "192:" + ",".join(["h3_m3.5"] * 11), "depth"),
        ("autoformer", TINY_EXAMPLE.replace("h4_m4.0", "h8_m4.0"), "h8_m4.0"),
        ("autoformer", "192;h3_m3.5", "embed dim"),
    ],
)
def test_malformed_strings_name_the_problem(name: str, text: str, reason: str) -> None:
    with pytest.raises(InvalidArchitectureError, match=reason):
        get_space(name).from_string(text)


@pytest.mark.parametrize(
    ("name", "position", "token", "reason"),
    [
        ("mbv3", 3, "none", "only follow the used ones"),  # stage 0's third layer unused, fourth used
        ("mbv3", 1, "none", "does not allow"),  # the first two layers of a stage are always used
        ("autoformer", 13, "none", "only follow the used ones"),
        ("darts", 1, "none~4", "does not allow"),  # node 0's second input is state 1
        ("darts", 2, "none~1", "both inputs from state 1"),
    ],
)
def test_invalid_token_chains_have_reasons(name: str, position: int, token: str, reason: str) -> None:
    space = get_space(name)
    tokens = list(space.tokens(samples(name, 1)[0]))
    if name == "mbv3":
        tokens[1:5] = ["k3_e3"] * 4
    if name == "autoformer":
        tokens[-1] = "h3_m3.5"
    if name == "darts":
        tokens[3] = "skip_connect~1"
    tokens[position] = token
    with pytest.raises(InvalidArchitectureError, match=reason):
        space.from_tokens(tokens)


def test_mbv3_measures_come_from_ofa_predictor_and_note10_table() -> None:
    mbv3 = get_space("mbv3")
    dags = samples("mbv3", 20)
    measured = mbv3.measures(dags)
    for i, dag in enumerate(dags):
        spec = mbv3.ofa_spec(dag)
        assert measured["accuracy"][i] == pytest.approx(predicted_accuracy(spec))
        assert measured["latency_ms"][i] == pytest.approx(note10_latency_ms(spec))
    largest = mbv3.from_string("224;" + ";".join([",".join(["k7_e6"] * 4)] * 5))
    assert mbv3.measures([largest])["accuracy"][0] == pytest.approx(0.836, abs=5e-4)  # OFA's own sanity value


@pytest.mark.parametrize("name", ["darts", "autoformer", "autoformer-base"])
def test_parameter_measure_equals_the_built_module(name: str) -> None:
    space = get_space(name)
    count = darts_parameter_count if name == "darts" else vit_parameter_count
    for dag in samples(name, 3):
        with torch.device("meta"):
            module = space.build_module(dag)
        assert space.measures([dag])["params_m"][0] * 1e6 == pytest.approx(count(module))


@pytest.mark.parametrize("name", CHAIN_SPACES)
def test_full_architecture_runs_a_forward_pass(name: str) -> None:
    space = get_space(name)
    module = space.build_module(samples(name, 1, seed=3)[0]).eval()
    with torch.no_grad():
        out = module(space.example_input(1))
    assert out.shape == (1, OUTPUTS[name])
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", ["darts", "mbv3", "autoformer", "hpolib"])
def test_every_coarsened_scale_is_a_runnable_sub_architecture(name: str) -> None:
    """The scales a trained generator is taught to decode are smaller architectures that run."""
    space = get_space(name)
    dags = samples(name, 4, seed=5)
    ops, adjacency = dags_to_tensors(space.node_types, dags)
    for structure in scale_structures(space, space.generation_scales[:-1]):
        coarse = tensors_to_dags(space.node_types, *coarsen_architecture(ops, adjacency, structure))
        for sub in coarse:
            assert space.sub_architecture_problem(sub) is None, (structure.num_nodes, sub)
        module = space.build_sub_module(coarse[0]).eval()
        with torch.no_grad():
            assert module(space.example_input(1)).shape[0] == 1


def test_a_sub_architecture_must_be_a_chain() -> None:
    darts = get_space("darts")
    branching = Dag(("input", "skip_connect~0", "sep_conv_3x3~1", "output"), ((0, 1), (0, 2), (1, 3), (2, 3)))
    assert "chain" in darts.sub_architecture_problem(branching)
    too_far = Dag(("input", "skip_connect~3", "output"), ((0, 1), (1, 2)))
    assert "source" in darts.sub_architecture_problem(too_far)
