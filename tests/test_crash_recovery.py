"""A worker killed with SIGKILL mid-trial, on PostgreSQL (Optuna's heartbeat and
its retry callback) and on a journal file (no heartbeat: the documented recipe fails the
orphaned trial): afterwards no trial is RUNNING, the dead trial's cell is retried or released,
every other trial completes, and no cell is evaluated twice."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
import uuid
from datetime import datetime, timedelta

import optuna
import pytest
from optuna.storages import RDBStorage
from optuna.trial import TrialState

from pnag_sampler import PNAGSampler, suggest_architecture
from pnag_sampler.data import get_benchmark
from pnag_sampler.spaces import get_space

ARCH_ATTR = "pnag:architecture:nb201"
POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


def _storage(url: str) -> optuna.storages.BaseStorage:
    if url.startswith("journal:"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        return JournalStorage(JournalFileBackend(url[len("journal:") :]))
    # Optuna 4.9 renamed the retry callback and the argument; the oldest Optuna allowed has the old names
    if hasattr(optuna.storages, "RetryHeartbeatStaleTrialCallback"):
        retry, name = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1), "heartbeat_stale_trial_callback"
    else:
        retry, name = optuna.storages.RetryFailedTrialCallback(max_retry=1), "failed_trial_callback"
    return RDBStorage(url, heartbeat_interval=1, grace_period=3, **{name: retry})


def _objective(hang: bool):
    table = get_benchmark("nb201")

    def objective(trial: optuna.Trial) -> float:
        cell = suggest_architecture(trial, "nb201")
        trial.set_user_attr("hangs", hang)
        time.sleep(600 if hang else 0.1)  # the hanging worker is killed here, its cell claimed
        return float(table.validation("cifar100")[table.index(cell)])

    return objective


def _worker(url: str, name: str, trials: int, hang: bool) -> None:
    study = optuna.load_study(study_name=name, storage=_storage(url), sampler=PNAGSampler(seed=0, pool_size=64))
    study.optimize(_objective(hang), n_trials=trials)


def _kill_a_worker_mid_trial(url: str) -> optuna.Study:
    name = f"crash-{uuid.uuid4().hex[:8]}"
    storage = _storage(url)
    optuna.create_study(study_name=name, storage=storage, direction="maximize")
    context = multiprocessing.get_context("spawn")
    victim = context.Process(target=_worker, args=(url, name, 1, True))
    survivor = context.Process(target=_worker, args=(url, name, 6, False))
    victim.start()
    survivor.start()
    study = optuna.load_study(study_name=name, storage=storage)
    deadline = time.time() + 300
    while not any(t.user_attrs.get("hangs") for t in study.get_trials(deepcopy=False)):
        assert time.time() < deadline, "the hanging worker never claimed a cell"
        time.sleep(0.5)
    os.kill(victim.pid, signal.SIGKILL)
    victim.join()
    survivor.join(timeout=600)
    assert survivor.exitcode == 0
    return study


def _check_recovered(study: optuna.Study, expect_retry: bool) -> None:
    trials = study.get_trials()
    assert not [t.number for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    (dead,) = [t for t in trials if t.user_attrs.get("hangs")]
    assert dead.state == TrialState.FAIL
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) == len(trials) - 1  # every other trial completed
    cells = [t.system_attrs[ARCH_ATTR] if ARCH_ATTR in t.system_attrs else t.params for t in complete]
    assert len({str(c) for c in cells}) == len(cells)  # no cell evaluated twice
    retried = [t for t in complete if t.system_attrs.get("failed_trial") == dead.number]
    assert bool(retried) == expect_retry
    if retried:
        assert retried[0].params == dead.params  # the dead trial's cell, evaluated once, by its retry


@pytest.mark.slow
def test_a_killed_worker_on_postgresql_is_failed_by_the_heartbeat_and_its_cell_retried():
    try:
        import sqlalchemy

        with sqlalchemy.create_engine(POSTGRES_URL).connect():
            pass
    except Exception as error:  # any failure to connect means: no server here
        if os.environ.get("PNAG_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PNAG_REQUIRE_POSTGRES=1 but no PostgreSQL at {POSTGRES_URL}: {error}")
        pytest.skip(f"no PostgreSQL server at {POSTGRES_URL}")
    study = _kill_a_worker_mid_trial(POSTGRES_URL)
    try:
        time.sleep(4)  # past the grace period: the dead trial's heartbeat is stale
        recovered = optuna.load_study(
            study_name=study.study_name, storage=_storage(POSTGRES_URL), sampler=PNAGSampler(seed=1, pool_size=64)
        )
        recovered.optimize(_objective(False), n_trials=2)  # fails the stale trial, runs its retry first
        _check_recovered(recovered, expect_retry=True)
    finally:
        optuna.delete_study(study_name=study.study_name, storage=POSTGRES_URL)


@pytest.mark.slow
def test_a_killed_worker_on_a_journal_file_is_failed_by_the_recipe_and_its_cell_released(tmp_path):
    url = f"journal:{tmp_path / 'journal.log'}"
    study = _kill_a_worker_mid_trial(url)
    # the recipe (JournalStorage has no heartbeat): fail what runs longer than any trial can
    study = optuna.load_study(study_name=study.study_name, storage=_storage(url), sampler=PNAGSampler(seed=1, pool_size=64))
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if trial.datetime_start < datetime.now() - timedelta(seconds=1):
            study.tell(trial.number, state=TrialState.FAIL)
    dead = next(t for t in study.get_trials() if t.user_attrs.get("hangs"))
    _, claimed = study.sampler._history(study, get_space("nb201"), study.get_trials())
    assert dead.system_attrs[ARCH_ATTR] not in claimed  # released: a later trial may evaluate it
    study.optimize(_objective(False), n_trials=2)
    _check_recovered(study, expect_retry=False)
