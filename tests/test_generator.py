"""PNAG end to end: training, generation, honest validity, checkpoints, shipped weights."""

import json
import os

import numpy as np
import pytest
import torch

from pnag_sampler.errors import CheckpointError, InvalidScoreError
from pnag_sampler.generator import PNAG
from pnag_sampler.metrics import generation_quality, generation_report
from pnag_sampler.model.autoencoder import AutoencoderConfig
from pnag_sampler.quantiles import performance_quantiles
from pnag_sampler.spaces import get_space


@pytest.fixture(scope="module")
def tiny_model():
    """A small NB201 model trained for a few epochs: enough to exercise every path."""
    space = get_space("nb201")
    dags = space.sample(np.random.default_rng(0), 256)
    model = PNAG(
        space,
        autoencoder_config=AutoencoderConfig(8, 7, channels=16, hidden=32, codebook_size=16),
        transformer_options={"width": 32, "depth": 1, "heads": 2},
    )
    report = model.fit(dags, np.linspace(0, 1, 256), autoencoder_epochs=3, transformer_epochs=2, batch_size=64, progress=False)
    assert report.stage1_history["total"][-1] < report.stage1_history["total"][0]
    return model


def test_generation_reports_raw_and_delivered_at_every_scale(tiny_model):
    space = tiny_model.space
    generation = tiny_model.generate(40, performance=0.9, cfg_scale=1.5, seed=1)
    assert len(generation.architectures) == len(generation.raw_architectures) == 40
    assert [len(scale) for scale in generation.sub_architectures] == [40] * 6
    assert [scale[0].num_nodes for scale in generation.sub_architectures] == [3, 4, 5, 6, 7, 8]
    assert generation.sub_architectures[-1] == generation.architectures
    # delivered: valid at every scale; raw: exactly what the space says of the decoder's argmax
    assert generation.valid == [True] * 40
    assert all(p is None for scale in generation.sub_problems for p in scale)
    assert generation.raw_problems == [space.problem(d) for d in generation.raw_architectures]
    assert generation.raw_operations_problems == [space.operations_problem(d) for d in generation.raw_architectures]
    # the projection leaves a raw-valid sample as it is, and says which samples it changed
    for raw, delivered, problem, changed in zip(
        generation.raw_architectures, generation.architectures, generation.raw_problems, generation.changed
    ):
        assert changed == (raw != delivered)
        if problem is None:
            assert not changed


def test_the_raw_path_is_reported_not_hidden(tiny_model):
    """An untrained decoder's raw output is mostly invalid; the report must show that beside
    the delivered 100%, with the share the projection changed."""
    untrained = PNAG(
        tiny_model.space, autoencoder_config=tiny_model.autoencoder_config, transformer_options={"width": 32, "depth": 1, "heads": 2}
    )
    untrained.autoencoder.load_state_dict(tiny_model.autoencoder.state_dict())
    torch.manual_seed(0)
    for parameter in untrained.autoencoder.decoder.op_head.parameters():
        parameter.data.normal_(0, 3.0)  # scores that favour input/output types in the middle
    report = generation_report(untrained.generate(50, seed=0), training_strings=[])
    assert report["delivered"]["validity"] == 100.0
    assert report["raw"]["validity"] < 100.0
    # every raw-invalid sample was changed, no raw-valid one
    assert report["changed_by_projection"] == pytest.approx(100.0 - report["raw"]["validity"])
    assert set(report["sub_architecture_validity"]) == {"raw", "delivered"}
    assert set(report["sub_architecture_validity"]["delivered"].values()) == {100.0}


def test_same_seed_same_architectures(tiny_model):
    a = tiny_model.generate(10, seed=3).architectures
    b = tiny_model.generate(10, seed=3).architectures
    assert a == b


def test_generation_in_chunks_is_the_same_generation(tiny_model):
    whole = tiny_model.generate(40, performance=0.9, cfg_scale=1.5, top_p=0.9, seed=2)
    parts = list(tiny_model.generate_chunks(40, performance=0.9, cfg_scale=1.5, top_p=0.9, seed=2, chunk_size=16))
    assert [len(part.architectures) for part in parts] == [16, 16, 8]
    assert [dag for part in parts for dag in part.architectures] == whole.architectures
    assert [dag for part in parts for dag in part.raw_architectures] == whole.raw_architectures
    later = list(tiny_model.generate_chunks(40, performance=0.9, cfg_scale=1.5, top_p=0.9, seed=2, chunk_size=16, first_chunk=1))
    assert [dag for part in later for dag in part.architectures] == whole.architectures[16:]
    with pytest.raises(ValueError, match="first_chunk"):
        tiny_model.generate_chunks(40, seed=2, first_chunk=-1)


def test_bad_generation_arguments(tiny_model):
    with pytest.raises(ValueError):
        tiny_model.generate(0)
    with pytest.raises(ValueError):
        tiny_model.generate(5, performance=1.5)


def test_checkpoint_round_trip(tiny_model, tmp_path):
    tiny_model.save(tmp_path / "w")
    assert sorted(os.listdir(tmp_path / "w")) == ["config.json", "model.safetensors"]
    loaded = PNAG.load(tmp_path / "w", space="nb201")
    assert loaded.generate(8, seed=5).architectures == tiny_model.generate(8, seed=5).architectures
    # overwriting an existing checkpoint leaves no staging folders behind
    tiny_model.save(tmp_path / "w")
    assert os.listdir(tmp_path) == ["w"]


def test_checkpoint_of_another_space_is_refused(tiny_model, tmp_path):
    tiny_model.save(tmp_path / "w")
    with pytest.raises(CheckpointError, match="space 'nb201', not 'nasbench_graph'"):
        PNAG.load(tmp_path / "w", space="nasbench_graph")


def test_truncated_and_foreign_checkpoints_fail_clearly(tiny_model, tmp_path):
    folder = tiny_model.save(tmp_path / "w")
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="truncated or not a safetensors file"):
        PNAG.load(folder)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "config.json").write_text("{not json")
    (tmp_path / "junk" / "model.safetensors").write_bytes(b"\x00" * 10)
    with pytest.raises(CheckpointError, match="not valid JSON"):
        PNAG.load(tmp_path / "junk")
    (tmp_path / "junk" / "config.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(CheckpointError, match="format marker"):
        PNAG.load(tmp_path / "junk")
    with pytest.raises(CheckpointError, match="not a checkpoint folder"):
        PNAG.load(tmp_path / "missing")


def test_checkpoint_with_mis_shaped_weights_fails_clearly(tiny_model, tmp_path):
    folder = tiny_model.save(tmp_path / "w")
    config = json.loads((folder / "config.json").read_text())
    config["autoencoder"]["channels"] = 8
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="do not fit this model"):
        PNAG.load(folder)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["autoencoder"].update(num_nodes=-1), "autoencoder.num_nodes = -1 is not an integer in 3..64"),
        (lambda c: c["transformer"].update(width=10**6), "transformer.width = 1000000 is not an integer in 1..2048"),
        (lambda c: c["autoencoder"].update(channels="16"), "autoencoder.channels = '16' is not an integer"),
        (lambda c: c.update(condition_fields=[["performance", 10**9]]), "condition_fields[0] width"),
    ],
)
def test_malformed_config_is_refused_before_any_tensor_is_built(tiny_model, tmp_path, edit, message):
    folder = tiny_model.save(tmp_path / "w")
    config = json.loads((folder / "config.json").read_text())
    edit(config)
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError) as error:
        PNAG.load(folder)
    assert message in str(error.value)


def test_deeply_nested_config_and_a_mis_shaped_tensor_are_named(tiny_model, tmp_path):
    folder = tiny_model.save(tmp_path / "w")
    text = (folder / "config.json").read_text()
    (folder / "config.json").write_text(text[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(CheckpointError, match="nested too deeply"):
        PNAG.load(folder)
    folder = tiny_model.save(tmp_path / "v")
    config = json.loads((folder / "config.json").read_text())
    config["transformer"]["width"] = 64
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=r"tensor 'transformer\.[a-z_.0-9]+' has shape \[\d+(, \d+)*\], the config makes it"):
        PNAG.load(folder)


def test_interrupted_save_leaves_nothing_behind(tiny_model, tmp_path, monkeypatch):
    import pnag_sampler.model.checkpoint as checkpoint

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, "save_file", broken)
    with pytest.raises(KeyboardInterrupt):
        tiny_model.save(tmp_path / "w")
    assert os.listdir(tmp_path) == []


def test_performance_quantiles_and_bad_scores():
    q = performance_quantiles({"a": np.array([1.0, 3.0, 2.0]), "b": np.array([10.0, 30.0, 20.0])})
    assert q.tolist() == [0.0, 1.0, 0.5]
    with pytest.raises(InvalidScoreError, match="task 'a': score #1 is nan"):
        performance_quantiles({"a": np.array([1.0, float("nan")])})


def test_generation_quality_definitions():
    quality = generation_quality(["a", "a", "b", None, "c"], training_strings=["c"])
    assert (quality.generated, quality.valid, quality.unique_valid, quality.novel_unique_valid) == (5, 4, 3, 2)
    assert quality.as_percentages() == {"validity": 80.0, "uniqueness": 75.0, "novelty": pytest.approx(200 / 3)}


@pytest.mark.parametrize("space_name", ["nb201", "nasbench_graph"])
def test_shipped_weights_generate_valid_runnable_architectures(space_name):
    model = PNAG.pretrained(space_name)
    space = model.space
    generation = model.generate(200, performance=1.0, cfg_scale=2.0, seed=0)
    # delivered: valid at every scale; the decoder's own output must be mostly valid too (an
    # untrained or mismatched decoder's is not)
    assert generation.valid == [True] * 200
    assert np.mean([p is None for p in generation.raw_problems]) >= 0.5
    for scale in generation.sub_architectures[:-1]:
        assert all(space.sub_architecture_problem(d) is None for d in scale)
    small = {"channels": 8, "cells_per_stage": 1} if space_name == "nb201" else {"hidden": 8}
    for scale in generation.sub_architectures:
        dag = next(d for d in scale if space.sub_architecture_problem(d) is None)
        out = space.build_sub_module(dag, **small)(space.example_input(2))
        assert torch.isfinite(out).all()
    dag = next(d for d, p in zip(generation.architectures, generation.problems) if p is None)
    assert torch.isfinite(space.build_module(dag, **small)(space.example_input(2))).all()


def test_fit_rejects_bad_performance_before_training():
    space = get_space("nb201")
    dags = space.sample(np.random.default_rng(0), 4)
    model = PNAG(
        space,
        autoencoder_config=AutoencoderConfig(8, 7, channels=8, hidden=8, codebook_size=8),
        transformer_options={"width": 16, "depth": 1, "heads": 2},
    )
    before = [p.detach().clone() for p in model.autoencoder.parameters()]
    with pytest.raises(InvalidScoreError):
        model.fit(dags, [0.1, float("nan"), 0.3, 0.4], progress=False)
    with pytest.raises(InvalidScoreError):
        model.fit(dags, [0.1, 0.2], progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, model.autoencoder.parameters()))
