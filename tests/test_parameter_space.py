"""A user's hyperparameter space as a chain of levels: mapping values <-> levels exactly."""

import math

import numpy as np
import pytest

from pnag_sampler.errors import InvalidArchitectureError, PNAGError
from pnag_sampler.search.online import OnlineSearch
from pnag_sampler.search.options import OnlineTraining, SearchOptions
from pnag_sampler.spaces.parameters import Parameter, ParameterSpace

SPACE = ParameterSpace(
    [
        Parameter("act", choices=("relu", "tanh", None)),
        Parameter("layers", low=1, high=4, integer=True),  # 4 grid values: one level each
        Parameter("width", low=16, high=256, step=16, integer=True),  # 16 values: one level each
        Parameter("dropout", low=0.0, high=0.5, step=0.1),  # 6 values
        Parameter("lr", low=1e-6, high=1.0, log=True),  # continuous: 16 log bins
        Parameter("batch", low=1, high=1024, log=True, integer=True),  # 1024 values: 16 log bins
    ]
)


def test_grid_levels_round_trip_exactly():
    rng = np.random.default_rng(0)
    for dag in SPACE.sample(rng, 200):
        values = SPACE.to_values(dag, rng)
        assert SPACE.to_string(SPACE.from_values(values)) == SPACE.to_string(dag)
        assert values["width"] % 16 == 0 and 16 <= values["width"] <= 256
        assert isinstance(values["layers"], int) and isinstance(values["lr"], float)
        assert math.isclose(values["dropout"] * 10, round(values["dropout"] * 10))
        assert SPACE.to_string(SPACE.from_string(SPACE.to_string(dag))) == SPACE.to_string(dag)


def test_bins_are_equal_in_log_space():
    groups = [
        SPACE.to_string(SPACE.from_values({"act": "relu", "layers": 1, "width": 16, "dropout": 0.0, "lr": lr, "batch": 1})).split(",")[4]
        for lr in (1e-6, 1e-3, 0.99)
    ]
    assert groups == ["0", "8", "15"]
    assert not SPACE.is_finite


@pytest.mark.parametrize(
    "values, message",
    [
        ({"act": "sigmoid"}, "not one of"),
        ({"layers": 5}, "outside"),
        ({"lr": float("nan")}, "finite number"),
        ({"width": "wide"}, "finite number"),
    ],
)
def test_bad_values_are_named(values, message):
    good = {"act": "relu", "layers": 1, "width": 16, "dropout": 0.0, "lr": 0.1, "batch": 1}
    with pytest.raises(InvalidArchitectureError, match=message):
        SPACE.from_values({**good, **values})


def test_every_level_is_a_group_and_strings_name_groups():
    """16 levels over 3 choices: levels 0-5 mean 'relu', 6-10 'tanh', 11-15 None."""
    rng = np.random.default_rng(0)
    base = SPACE.sample(rng, 1)[0]
    for level, choice in ((0, "relu"), (5, "relu"), (6, "tanh"), (10, "tanh"), (11, None), (15, None)):
        dag = SPACE.from_params({**SPACE.to_params(base), "act": f"level{level}"})
        assert SPACE.to_values(dag, rng)["act"] == choice
        assert SPACE.to_string(dag).split(",")[0] == str(("relu", "tanh", None).index(choice))
    assert SPACE.size == 3 * 4 * 16 * 6 * 16 * 16
    with pytest.raises(InvalidArchitectureError, match="has 3 groups"):
        SPACE.from_string("5,0,0,0,0,0")


def test_there_is_no_module_for_hyperparameters():
    with pytest.raises(PNAGError, match="not a network"):
        SPACE.build_module(SPACE.sample(np.random.default_rng(0), 1)[0])


def test_online_search_refits_on_a_growing_schedule_and_proposes_unseen_levels():
    space = ParameterSpace([Parameter("a", choices=tuple(range(6))), Parameter("b", choices=tuple(range(6)))])
    online = OnlineSearch(
        space,
        SearchOptions(
            seed=0,
            pool_size=64,
            online_training=OnlineTraining(structure_samples=64, autoencoder_epochs=2, prior_samples=64, transformer_epochs=1),
        ),
    )
    rng = np.random.default_rng(0)
    evaluated = {}
    fits = []
    for dag in space.sample(rng, 12):
        evaluated[space.to_string(dag)] = float(rng.random())
        online.search(evaluated)
        fits.append(online.refits)
    assert fits[0] == 1 and fits[-1] < len(fits)  # refit on a 2x schedule, not on every result
    proposed = online.search(evaluated).propose(evaluated, n=5)
    assert len(proposed) == 5 and not set(proposed) & set(evaluated)


def test_more_choices_than_levels_and_a_range_off_the_grid():
    """20 choices widen the vocabulary (each keeps a level); high=2.6 with step 1 maps to 2."""
    space = ParameterSpace([Parameter("c", choices=tuple(range(20))), Parameter("k", low=0, high=2.6, step=1.0)])
    rng = np.random.default_rng(0)
    for choice in range(20):
        dag = space.from_values({"c": choice, "k": 2.6})
        assert space.to_values(dag, rng) == {"c": choice, "k": 2.0}
    assert len({space.to_string(d) for d in space.sample(rng, 2000)}) == 60
