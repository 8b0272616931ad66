"""PNAGSampler in real Optuna studies: conformance, behaviour, storages."""

import math
import multiprocessing
import os
import uuid
import warnings

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from pnag_sampler.adapters.optuna_compat import acquisition_values

from pnag_sampler import PNAGSampler, suggest_architecture
from pnag_sampler.data import get_benchmark
from pnag_sampler.harness.problems import held_out_weights
from pnag_sampler.search.options import OnlineTraining
from pnag_sampler.spaces import get_space

optuna.logging.set_verbosity(optuna.logging.ERROR)
ARCH_ATTR = "pnag:architecture:nb201"
#: the conformance suites check behaviour, not quality: a tiny online budget keeps them fast
QUICK = OnlineTraining(structure_samples=64, autoencoder_epochs=2, prior_samples=64, transformer_epochs=2, refit_epochs=1)


def quick_sampler(**kwargs) -> PNAGSampler:
    return PNAGSampler(seed=0, online_training=QUICK, **kwargs)


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
    assert all(suggested == t.system_attrs[ARCH_ATTR] for t in study.trials for suggested in [_cell_of(t.params)])
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


def test_pruned_trials_are_not_results_and_not_proposed_again():
    table = get_benchmark("nb201")
    calls = []

    def objective(trial):
        cell = suggest_architecture(trial, "nb201")
        calls.append(cell)
        score = float(table.validation("cifar10")[table.index(cell)])
        trial.report(score, step=0)
        if len(calls) % 2 == 0:
            raise optuna.TrialPruned()
        return score

    study = optuna.create_study(direction="maximize", sampler=PNAGSampler(seed=2))
    study.optimize(objective, n_trials=8)
    assert [t.state for t in study.trials].count(optuna.trial.TrialState.PRUNED) == 4
    assert len(set(calls)) == 8  # a pruned architecture is claimed: never proposed again
    assert study.best_trial.state == optuna.trial.TrialState.COMPLETE


def test_nasbench_graph_study_uses_the_fold_weights_and_n_jobs_2_shares_the_sampler():
    table = get_benchmark("nasbench_graph")
    weights = {"nasbench_graph": held_out_weights("nasbench_graph", "cora")}

    def objective(trial):
        return float(table.validation("cora")[table.index(suggest_architecture(trial, "nasbench_graph"))])

    study = optuna.create_study(direction="maximize", sampler=PNAGSampler(seed=0, weights=weights))
    study.optimize(objective, n_trials=8, n_jobs=2)  # reseed_rng is called; both threads claim distinct cells
    cells = [t.system_attrs["pnag:architecture:nasbench_graph"] for t in study.trials]
    assert len(study.trials) == 8 and len(set(cells)) == 8
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)


def test_infeasible_trials_are_not_treated_as_results():
    def objective(trial):
        cell = suggest_architecture(trial, "nb201")
        value = 1.0 if "nor_conv_3x3" in cell else -1.0
        if hasattr(trial, "set_constraint"):  # Optuna >= 5.0
            trial.set_constraint("latency", value)
        else:  # what a sampler's constraints_func stores
            trial.storage.set_trial_system_attr(trial._trial_id, "constraints", (value,))
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


def _log_warnings(caplog, run) -> list[str]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.logging.enable_propagation()
    try:
        run()
    finally:
        optuna.logging.disable_propagation()
        optuna.logging.set_verbosity(optuna.logging.ERROR)
    return [r.getMessage() for r in caplog.records]


def test_conditional_parameters_warn_once_and_use_the_independent_sampler(caplog):
    """``x`` is in every trial and modelled; ``y`` only in some, so it goes to RandomSampler."""
    sampler = quick_sampler(n_startup_trials=2)
    study = optuna.create_study(sampler=sampler)

    def objective(trial):
        x = trial.suggest_int("x", 0, 9)
        return x + (trial.suggest_float("y", 0.0, 1.0) if x % 2 else 0.0)

    messages = _log_warnings(caplog, lambda: study.optimize(objective, n_trials=12))
    assert len([m for m in messages if "parameter 'y'" in m]) == 1
    assert not [m for m in messages if "parameter 'x'" in m]
    # the intersection shrinks to {x} once a trial without y completes; x's space is modelled
    assert (("x", repr(optuna.distributions.IntDistribution(0, 9))),) in sampler._configuration_searches


def _mixed_objective(trial):
    lr = trial.suggest_float("lr", 1e-5, 1.0, log=True)
    width = trial.suggest_int("width", 16, 256, step=16)
    act = trial.suggest_categorical("act", ["relu", "tanh", "gelu"])
    return (math.log10(lr) + 2.0) ** 2 + ((width - 128) / 64) ** 2 + (0.0 if act == "gelu" else 1.0)


def test_a_users_space_is_tpes_by_default():
    """No checkpoint knows a user's space: PNAGSampler proposes what TPESampler with the same
    seed proposes, trial for trial, and warns about nothing."""
    pnag = optuna.create_study(sampler=PNAGSampler(seed=3))
    tpe = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pnag.optimize(_mixed_objective, n_trials=25)
    tpe.optimize(_mixed_objective, n_trials=25)
    assert [t.params for t in pnag.trials] == [t.params for t in tpe.trials]


def test_the_relative_space_holds_a_users_parameters_beside_an_architecture_and_is_empty_without_them(monkeypatch):
    sampler = PNAGSampler(seed=0)

    def with_learning_rate(trial: optuna.Trial) -> float:
        return nb201_objective(trial) - abs(math.log10(trial.suggest_float("lr", 1e-4, 1e-1, log=True)) + 2)

    mixed = optuna.create_study(direction="maximize", sampler=sampler)
    mixed.optimize(with_learning_rate, n_trials=3)
    assert list(sampler.infer_relative_search_space(mixed, mixed.trials[-1])) == ["lr"]
    architecture_only = optuna.create_study(direction="maximize", sampler=sampler)
    architecture_only.optimize(nb201_objective, n_trials=3)
    # every completed trial holds only the architecture: TPE's intersection is not computed
    monkeypatch.setattr(optuna.samplers.TPESampler, "infer_relative_search_space", lambda *args: pytest.fail("computed"))
    assert sampler.infer_relative_search_space(architecture_only, architecture_only.trials[-1]) == {}


def test_the_framework_neutral_search_proposes_tpes_configurations_and_never_repeats_in_a_finite_space():
    from pnag_sampler.search.configurations import ConfigurationSearch
    from pnag_sampler.search.options import SearchOptions
    from pnag_sampler.search.tpe import optuna_distribution
    from pnag_sampler.spaces.parameters import Parameter

    parameters = [Parameter("lr", low=1e-5, high=1.0, log=True), Parameter("width", low=16, high=256, step=16, integer=True)]
    search = ConfigurationSearch(parameters, SearchOptions(seed=5))
    tpe = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=5))
    distributions = {p.name: optuna_distribution(p) for p in parameters}
    evaluated = []
    for _ in range(15):
        trial = tpe.ask(distributions)
        configuration = search.propose(evaluated)
        assert configuration == trial.params
        score = -((math.log10(configuration["lr"]) + 2.0) ** 2) - ((configuration["width"] - 128) / 64) ** 2
        tpe.tell(trial, -score)
        evaluated.append((configuration, score))
    finite = ConfigurationSearch([Parameter("a", choices=(1, 2, 3)), Parameter("b", choices=("x", "y"))], SearchOptions(seed=0))
    results: list = []
    for _ in range(6):
        configuration = finite.propose(results)
        assert configuration not in [c for c, _ in results]
        results.append((configuration, float(configuration["a"])))
    assert finite.propose(results) is None  # all six tried


def test_user_space_is_learned_online_and_beats_its_random_start():
    """A mixed space (log float, int with step, categorical): after the random start the online
    model proposes every trial, refits as results come in, and improves on the start."""

    objective = _mixed_objective
    budget = OnlineTraining(structure_samples=512, autoencoder_epochs=10, prior_samples=512, transformer_epochs=5)
    starts, online_bests = [], []
    for seed in range(3):  # one short study can miss (seed 0 settles next to its start's best)
        sampler = PNAGSampler(seed=seed, n_startup_trials=5, online_training=budget)
        study = optuna.create_study(sampler=sampler)
        study.optimize(objective, n_trials=25)
        (online,) = sampler._configuration_searches.values()
        assert online.refits >= 3
        assert all(1e-5 <= t.params["lr"] <= 1.0 and t.params["width"] % 16 == 0 for t in study.trials)
        starts.append(min(t.value for t in study.trials[:5]))
        online_bests.append(min(t.value for t in study.trials[5:]))
    assert sum(b < s for b, s in zip(online_bests, starts)) >= 2
    assert np.mean(online_bests) < np.mean(starts)


@pytest.mark.parametrize(
    "make",
    [
        lambda: optuna.samplers.TPESampler(seed=0, n_startup_trials=3),
        lambda: optuna.samplers.GPSampler(seed=0, n_startup_trials=3),
    ],
)
def test_acquisition_sampler_ranks_the_generated_pool(make):
    acquisition = make()
    study = optuna.create_study(direction="maximize", sampler=PNAGSampler(seed=0, acquisition_sampler=acquisition))
    study.optimize(nb201_objective, n_trials=6)
    cells = [t.system_attrs[ARCH_ATTR] for t in study.trials]
    assert len(set(cells)) == 6
    # after its startup the acquisition scores one value per pool member
    space = get_space("nb201")
    pool = [{f"nb201/{k}": v for k, v in space.to_params(d).items()} for d in space.sample(np.random.default_rng(0), 20)]
    distributions = {f"nb201/{k}": CategoricalDistribution(list(c)) for k, c in space.parameter_choices().items()}
    trial = study.ask()
    values = acquisition_values(acquisition, study, study._storage.get_trial(trial._trial_id), distributions, pool)
    assert values is not None and len(values) == 20 and all(map(math.isfinite, values))


def test_acquisition_sampler_must_score_a_pool():
    with pytest.raises(ValueError, match="TPESampler or a GPSampler"):
        PNAGSampler(acquisition_sampler=optuna.samplers.RandomSampler())
    with pytest.raises(ValueError, match="not both"):
        PNAGSampler(base_sampler=optuna.samplers.TPESampler(), acquisition_sampler=optuna.samplers.TPESampler())


def _worker(storage_url: str, study_name: str, n_trials: int, seed: int) -> None:
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    if storage_url.startswith("journal:"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        storage = JournalStorage(JournalFileBackend(storage_url[len("journal:") :]))
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
    # a quality floor, not a comparison: one 100-trial run against another single run of the
    # same sampler differs by up to 2 points by chance (CI once saw 71.45 vs 73.49), so the
    # distributed study only has to reach the space's top 1% by validation accuracy
    validation = sorted(get_benchmark("nb201").validation("cifar100"))
    assert study.best_value >= validation[int(0.99 * len(validation))]


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


def test_one_sampler_object_reused_for_a_second_study_reads_that_study():
    """Finished trials are cached per study; a new in-memory study with the same trial ids must
    not see the first study's results."""
    sampler = PNAGSampler(seed=0)
    first = optuna.create_study(direction="maximize", sampler=sampler)
    first.optimize(nb201_objective, n_trials=4)
    second = optuna.create_study(direction="maximize", sampler=sampler)
    second.optimize(nb201_objective, n_trials=1)
    evaluated, _ = sampler._history(second, get_space("nb201"), second.trials)
    assert list(evaluated) == [second.trials[0].system_attrs[ARCH_ATTR]]


def test_no_startup_trials_and_an_infinite_result_do_not_break_the_study():
    study = optuna.create_study(direction="maximize", sampler=PNAGSampler(seed=0, n_startup_trials=0))

    def objective(trial):
        value = nb201_objective(trial)
        return float("inf") if trial.number == 1 else value

    study.optimize(objective, n_trials=4)
    assert len({t.system_attrs[ARCH_ATTR] for t in study.trials}) == 4


@pytest.mark.parametrize("space", ["darts", "mbv3", "autoformer"])
def test_pnag_sampler_runs_on_the_chain_spaces(space):
    """DARTS, MobileNetV3 and AutoFormer go through the same helper as NB201; each trial's
    architecture is a valid one of the space, and no two trials repeat."""
    search_space = get_space(space)

    def objective(trial: optuna.Trial) -> float:
        dag = search_space.from_string(suggest_architecture(trial, space))
        measured = search_space.measures([dag])
        return float(measured["accuracy" if space == "mbv3" else "params_m"][0])

    study = optuna.create_study(direction="maximize", sampler=PNAGSampler(seed=0, pool_size=64))
    study.optimize(objective, n_trials=4)
    cells = [t.system_attrs[f"pnag:architecture:{space}"] for t in study.trials]
    assert len(set(cells)) == 4
    assert all(search_space.is_valid(search_space.from_string(c)) for c in cells)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"seed": "x"}, "seed"),
        ({"seed": -1}, "seed"),
        ({"pool_size": -5}, "pool_size"),
        ({"pool_size": 2.5}, "pool_size"),
        ({"n_startup_trials": -1}, "n_startup_trials"),
        ({"cfg_scale": float("nan")}, "cfg_scale"),
        ({"cfg_scale": "2"}, "cfg_scale"),
    ],
)
def test_bad_constructor_arguments_are_refused_by_name(kwargs, name):
    with pytest.raises(ValueError, match=f"PNAGSampler: {name} must be"):
        PNAGSampler(**kwargs)


def test_the_sampler_pickles_before_and_during_a_study_and_the_copy_goes_on():
    """As Optuna's own samplers do: Ray Tune pickles the searcher that holds it, and
    joblib.dump(study) carries it. The copy drops its loaded model and pools and rebuilds them."""
    import pickle

    table = get_benchmark("nb201")

    def objective(trial):
        return float(table.validation("cifar100")[table.index(suggest_architecture(trial, "nb201"))])

    pickle.loads(pickle.dumps(PNAGSampler(seed=1)))
    study = optuna.create_study(direction="maximize", sampler=PNAGSampler(seed=1, pool_size=64))
    study.optimize(objective, n_trials=3)
    copy = pickle.loads(pickle.dumps(study))
    copy.optimize(objective, n_trials=3)
    cells = [_cell_of(t.params) for t in copy.trials]
    assert len(copy.trials) == 6 and len(set(cells)) == 6


def _cells_after_a_stuck_trial(fail_it: bool) -> list[str]:
    study = optuna.create_study(direction="maximize", sampler=PNAGSampler(seed=0, pool_size=64))
    study.optimize(nb201_objective, n_trials=3)
    stuck = study.ask()  # its worker hangs (or died) before suggesting the architecture
    if fail_it:
        study.tell(stuck, state=optuna.trial.TrialState.FAIL)
    study.optimize(nb201_objective, n_trials=5)
    return [t.system_attrs[ARCH_ATTR] for t in study.trials if ARCH_ATTR in t.system_attrs]


def test_a_running_trial_without_a_claim_does_not_shift_the_ranking():
    """A trial that is RUNNING but not ranking holds no rank back: the proposals are those of
    the same study with that trial failed."""
    assert _cells_after_a_stuck_trial(fail_it=False) == _cells_after_a_stuck_trial(fail_it=True)


def test_a_cell_whose_worker_died_is_released_and_one_whose_objective_failed_is_not():
    from optuna.storages import InMemoryStorage

    storage = InMemoryStorage()
    study = optuna.create_study(direction="maximize", storage=storage, sampler=PNAGSampler(seed=0, pool_size=64))
    study.optimize(nb201_objective, n_trials=2)
    dead = study.ask()
    nb201_objective(dead)  # claims a cell, then its worker is killed: Optuna's heartbeat fails it
    storage.set_trial_state_values(dead._trial_id, state=optuna.trial.TrialState.FAIL)

    def failing(trial):
        suggest_architecture(trial, "nb201")
        raise RuntimeError("this architecture cannot be trained")

    study.optimize(failing, n_trials=1, catch=(RuntimeError,))
    failed = study.trials[-1]
    _, claimed = study.sampler._history(study, get_space("nb201"), study.trials)
    assert storage.get_trial(dead._trial_id).system_attrs[ARCH_ATTR] not in claimed
    assert failed.system_attrs[ARCH_ATTR] in claimed


def test_a_dynamic_space_keeps_visiting_every_branch_and_its_parameters():
    """A top-level choice decides which parameters exist: every branch and every conditional
    parameter is sampled within the first 20 trials, and later trials still visit both."""

    def objective(trial):
        if trial.suggest_categorical("branch", ["a", "b"]) == "a":
            return trial.suggest_float("x_a", 0.0, 1.0)
        return 0.5 + 0.01 * trial.suggest_int("y_b", 0, 10)

    study = optuna.create_study(direction="maximize", sampler=quick_sampler(warn_independent_sampling=False))
    study.optimize(objective, n_trials=40)
    branches = [t.params["branch"] for t in study.trials]
    assert set(branches[:20]) == {"a", "b"} and set(branches[20:]) == {"a", "b"}
    assert any("x_a" in t.params for t in study.trials[:20]) and any("y_b" in t.params for t in study.trials[:20])
