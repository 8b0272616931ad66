"""Resumable training: every epoch is checkpointed, and a resumed run ends where an
uninterrupted one does."""

import pytest
import torch

from pnag_sampler.errors import CheckpointError
from pnag_sampler.generator import PNAG
from pnag_sampler.model.autoencoder import AutoencoderConfig
from pnag_sampler.pretraining import TrainingSet, train_on_benchmark
from pnag_sampler.train_progress import TrainingProgress

SETTINGS = {"space": "nb201", "tasks": "cifar10", "fraction": 0.02, "seed": 0}


def _train(tracker: TrainingProgress, model: PNAG | None = None) -> PNAG:
    model, _ = train_on_benchmark(
        TrainingSet("nb201", ("cifar10",), 0.02, 0),
        autoencoder_epochs=2,
        transformer_epochs=3,
        surrogate_steps=10,
        batch_size=64,
        progress=False,
        tracker=tracker,
        model=model,
        autoencoder_config=AutoencoderConfig(8, 7, channels=8, hidden=16, codebook_size=16),
        transformer_options={"width": 16, "depth": 1, "heads": 2},
    )
    return model


class Interrupt(Exception):
    pass


def _interrupted_after(tracker: TrainingProgress, stage: str, epochs: int) -> TrainingProgress:
    """``tracker`` whose run stops right after checkpointing epoch ``epochs`` of ``stage``."""
    original = tracker.callback

    def callback(name, model):
        save = original(name, model)

        def after_epoch(state):
            save(state)
            if name == stage and state.epochs_done == epochs:
                raise Interrupt

        return after_epoch

    tracker.callback = callback
    return tracker


@pytest.mark.parametrize("stage, epochs", [("stage1", 1), ("stage2", 2)])
def test_a_resumed_run_ends_where_an_uninterrupted_one_does(tmp_path, stage, epochs):
    torch.manual_seed(0)
    whole = _train(TrainingProgress(tmp_path / "whole", SETTINGS))
    torch.manual_seed(0)
    with pytest.raises(Interrupt):
        _train(_interrupted_after(TrainingProgress(tmp_path / "cut", SETTINGS), stage, epochs))
    # the interrupted folder is a loadable checkpoint of the model so far
    assert PNAG.load(tmp_path / "cut").space.name == "nb201"
    model, tracker = TrainingProgress.read(tmp_path / "cut", SETTINGS)
    assert tracker.state(stage).epochs_done == epochs
    resumed = _train(tracker, model)
    for name, tensor in whole.transformer.state_dict().items():
        assert torch.equal(tensor, resumed.transformer.state_dict()[name]), name
    assert resumed.generate(20, seed=1).architectures == whole.generate(20, seed=1).architectures


def test_resume_refuses_other_settings_and_finished_runs(tmp_path):
    with pytest.raises(Interrupt):
        _train(_interrupted_after(TrainingProgress(tmp_path / "cut", SETTINGS), "stage1", 1))
    with pytest.raises(CheckpointError, match="seed: run 0, now 1"):
        TrainingProgress.read(tmp_path / "cut", {**SETTINGS, "seed": 1})
    model, tracker = TrainingProgress.read(tmp_path / "cut", SETTINGS)
    _train(tracker, model).save(tmp_path / "cut")
    with pytest.raises(CheckpointError, match="no unfinished run"):
        TrainingProgress.read(tmp_path / "cut", SETTINGS)
