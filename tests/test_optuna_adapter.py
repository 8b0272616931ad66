"""PNAGSampler in real Optuna studies: conformance, behaviour, storages."""

import math
import multiprocessing
import os
import uuid

import optuna
import pytest
from optuna.testing.pytest_samplers import BasicSamplerTestCase, SingleOnlySamplerTestCase

from pnag_sampler import PNAGSampler, suggest_architecture
from pnag_sampler.data import get_benchmark

optuna.logging.set_verbosity(optuna.logging.ERROR)
ARCH_ATTR = "pnag:architecture:nb201"


class TestPNAGSamplerBasic(BasicSamplerTestCase):
    @pytest.fixture
    def sampler(self):
        return lambda: PNAGSampler(seed=0, warn_independent_sampling=False)


class TestPNAGSamplerSingleOnly(SingleOnlySamplerTestCase):
    @pytest.fixture
    def sampler(self):
        return lambda: PNAGSampler(seed=0)


def nb201_objective(trial: optuna.Trial) -> float:
    table = get_benchmark("nb201")
    cell = suggest_architecture(trial, "nb201")
    trial.set_user_attr("test", float(table.test("cifar100")[table.index(cell)]))
    return float(table.validation("cifar100")[table.index(cell)])


def run_study(n_trials: int, **kwargs) -> optuna.Study:
    study = optuna.create_study(direction="maximize", sampler=PNAGSampler(**kwargs))
    study.optimize(nb201_objective, n_trials=n_trials)
    return study


def test_nb201_study_proposes_valid_distinct_architectures_reproducibly():
    study = run_study(12, seed=0)
    cells = [t.system_attrs[ARCH_ATTR] for t in study.trials]
    assert len(set(cells)) == 12
    table = get_benchmark("nb201")
    assert all(table.index(c) >= 0 for c in cells)
    # the suggested parameters are the proposed architecture
    assert all(suggested == t.system_attrs[ARCH_ATTR] for t in study.trials
               for suggested in [_cell_of(t.params)])
    again = run_study(12, seed=0)
    assert [t.system_attrs[ARCH_ATTR] for t in again.trials] == cells


def _cell_of(params):
    from pnag_sampler.spaces import get_space

    space = get_space("nb201")
    return space.to_string(space.from_params({k.split("/", 1)[1]: v for k, v in params.items()}))


def test_zero_shot_first_trial_beats_the_median_architecture():
    table = get_benchmark("nb201")
    median = float(sorted(table.validation("cifar100"))[len(table) // 2])
    firsts = [run_study(1, seed=s).trials[0].value for s in range(3)]
    assert min(firsts) > median


def test_minimize_failed_and_nan_trials():
    table = get_benchmark("nb201")
    calls = []

    def objective(trial):
        cell = suggest_architecture(trial, "nb201")
        calls.append(cell)
        if len(calls) == 2:
            raise RuntimeError("training crashed")
        if len(calls) == 3:
            return math.nan
        return -float(table.validation("cifar10")[table.index(cell)])

    study = optuna.create_study(direction="minimize", sampler=PNAGSampler(seed=1))
    study.optimize(objective, n_trials=8, catch=(RuntimeError,))
    states = [t.state for t in study.trials]
    assert states.count(optuna.trial.TrialState.FAIL) == 2
    assert len(set(calls)) == len(calls) == 8  # failed architectures are not proposed again


def test_infeasible_trials_are_not_treated_as_results():
    def objective(trial):
        cell = suggest_architecture(trial, "nb201")
        trial.set_constraint("latency", 1.0 if "nor_conv_3x3" in cell else -1.0)
        return float(get_benchmark("nb201").validation("cifar10")[get_benchmark("nb201").index(cell)])

    study = optuna.create_study(direction="maximize", sampler=PNAGSampler(seed=0, n_startup_trials=2))
    study.optimize(objective, n_trials=6)
    sampler = study.sampler
    from pnag_sampler.spaces import get_space

    evaluated, claimed = sampler._history(study, get_space("nb201"), study.trials[:-1])
    infeasible = {t.system_attrs[ARCH_ATTR] for t in study.trials[:-1] if "nor_conv_3x3" in t.system_attrs[ARCH_ATTR]}
    assert infeasible.isdisjoint(evaluated) and infeasible <= claimed


def test_initial_design_then_hand_over_to_tpe():
    sampler = PNAGSampler(seed=0, base_sampler=optuna.samplers.TPESampler(seed=0), n_pnag_trials=4)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(nb201_objective, n_trials=8)
    has_attr = [ARCH_ATTR in t.system_attrs for t in study.trials]
    assert has_attr == [True] * 4 + [False] * 4


def test_unknown_parameters_warn_once_and_use_the_independent_sampler(caplog):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.logging.enable_propagation()
    try:
        study = optuna.create_study(sampler=PNAGSampler(seed=0))
        study.optimize(lambda t: t.suggest_float("lr", 1e-4, 1e-1, log=True), n_trials=3)
    finally:
        optuna.logging.disable_propagation()
        optuna.logging.set_verbosity(optuna.logging.ERROR)
    messages = [r.getMessage() for r in caplog.records if "PNAGSampler samples parameter 'lr'" in r.getMessage()]
    assert len(messages) == 1
    assert all(1e-4 <= t.params["lr"] <= 1e-1 for t in study.trials)


def _worker(storage_url: str, study_name: str, n_trials: int, seed: int) -> None:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    if storage_url.startswith("journal:"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        storage = JournalStorage(JournalFileBackend(storage_url[len("journal:"):]))
    else:
        storage = storage_url
    study = optuna.load_study(study_name=study_name, storage=storage, sampler=PNAGSampler(seed=seed))
    study.optimize(nb201_objective, n_trials=n_trials)


def _distributed_study(storage, storage_url: str, workers: int = 4, trials_each: int = 25) -> optuna.Study:
    name = f"pnag-{uuid.uuid4().hex[:8]}"
    optuna.create_study(study_name=name, storage=storage, direction="maximize")
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_worker, args=(storage_url, name, trials_each, 0)) for _ in range(workers)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=600)
    assert [p.exitcode for p in processes] == [0] * workers
    return optuna.load_study(study_name=name, storage=storage)


def _check_distributed(study: optuna.Study) -> None:
    trials = study.trials
    assert len(trials) == 100
    assert sorted(t.number for t in trials) == list(range(100))
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    cells = [t.system_attrs[ARCH_ATTR] for t in trials]
    assert len(set(cells)) >= 98  # concurrent claims are settled; at most a rare race repeats one
    # the same quality as one process with the same sampler settings
    single = run_study(100, seed=0)
    assert study.best_value >= single.best_value - 1.0
    validation = sorted(get_benchmark("nb201").validation("cifar100"))
    assert study.best_value >= validation[int(0.95 * len(validation))]


@pytest.mark.slow
def test_four_processes_share_a_journal_file_study(tmp_path):
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    path = str(tmp_path / "journal.log")
    study = _distributed_study(JournalStorage(JournalFileBackend(path)), f"journal:{path}")
    _check_distributed(study)


POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


def _postgres_reachable() -> str | None:
    try:
        import sqlalchemy

        with sqlalchemy.create_engine(POSTGRES_URL).connect():
            return None
    except Exception as error:  # any failure to connect means: no server here
        return f"no PostgreSQL server at {POSTGRES_URL}: {type(error).__name__}"


@pytest.mark.slow
def test_four_processes_share_a_postgresql_study():
    reason = _postgres_reachable()
    if reason is not None:
        if os.environ.get("PNAG_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PNAG_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    study = _distributed_study(POSTGRES_URL, POSTGRES_URL)
    try:
        _check_distributed(study)
    finally:
        optuna.delete_study(study_name=study.study_name, storage=POSTGRES_URL)
