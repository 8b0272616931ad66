"""Syne Tune 0.16 adapter: ``PNAGSearcher``, PNAG initial points, tabulated blackboxes.

- A config space of a built-in architecture space (``architecture_config_space``, keys
  ``"<space>/<slot>"`` as in Optuna) is searched with the shipped pretrained generator:
  zero-shot first, then ranked by a surrogate that adapts to the results (the guided search loop).
- Any other config space (choice, randint, uniform, loguniform, finrange, ...) is a user's
  parameter space: searched by Optuna's TPE, or, given an ``online_training`` budget, a random
  start and then an online PNAG.

Syne Tune passes metrics to searchers as values to minimise; PNAG's scores are their negatives.
Syne Tune's ``suggest()`` gets no trial id, so pending configurations are tracked in suggestion
order, which is the order in which the tuner numbers its trials.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from syne_tune.blackbox_repository.blackbox_tabular import BlackboxTabular
from syne_tune.config_space import Categorical, Domain, FiniteRange, Float, Integer, choice, is_log_space, randint
from syne_tune.optimizer.schedulers.searchers.single_objective_searcher import SingleObjectiveBaseSearcher

from pnag_sampler.data import benchmark_for_task, get_benchmark
from pnag_sampler.errors import InvalidArchitectureError, UnsupportedParameterError
from pnag_sampler.search.configurations import ArchitectureConfigurationSearch, canonical_choices, configuration_search
from pnag_sampler.search.options import OnlineTraining, SearchOptions
from pnag_sampler.spaces import get_space
from pnag_sampler.spaces.parameters import Parameter

_logger = logging.getLogger(__name__)


# -- spaces -------------------------------------------------------------------------------------
def architecture_config_space(space: str) -> dict[str, Domain]:
    """The config space of a built-in architecture space: one ``choice`` per slot."""
    return {name: choice(list(ops)) for name, ops in canonical_choices(space).items()}


def parameters_of_config_space(config_space: Mapping[str, Any]) -> list[Parameter]:
    """Syne Tune domains -> parameters; constants are left to Syne Tune (not searched)."""
    parameters = []
    for name, domain in config_space.items():
        if not isinstance(domain, Domain):
            continue
        if isinstance(domain, Categorical):
            parameters.append(Parameter(name, choices=tuple(domain.categories)))
        elif isinstance(domain, FiniteRange):
            parameters.append(Parameter(name, choices=tuple(domain.values)))
        elif isinstance(domain, (Integer, Float)) and type(domain.get_sampler()).__name__ in ("_Uniform", "_LogUniform"):
            parameters.append(
                Parameter(name, low=domain.lower, high=domain.upper, log=is_log_space(domain), integer=isinstance(domain, Integer))
            )
        else:
            raise UnsupportedParameterError(
                f"PNAGSearcher cannot model '{name}' ({domain!r}): supported are choice/ordinal, finrange/logfinrange, "
                f"and uniform or log-uniform randint/uniform domains"
            )
    return parameters


# -- the searcher -------------------------------------------------------------------------------
class PNAGSearcher(SingleObjectiveBaseSearcher):
    """PNAG as a Syne Tune searcher (plug into ``SingleObjectiveScheduler(searcher=...)``).

    Honours ``points_to_evaluate`` (suggested first, in order), ``random_seed``, trial errors
    (a failed configuration is never suggested again), and several workers (pending
    configurations are not suggested twice). Returns None when a finite space is exhausted.

    Args:
        config_space: Syne Tune's config space (a built-in space's canonical slots, from
            ``architecture_config_space``, use the pretrained generator).
        points_to_evaluate: Configurations suggested first, in order.
        random_seed: Syne Tune's seed, also the search's.
        n_startup: Results before a surrogate ranks candidates (a user's space with
            ``online_training``: random samples before PNAG's online model takes over).
        pool_size: Candidates generated per pool round; None: 512 for a built-in space, 256
            for PNAG learned online.
        cfg_scale: Classifier-free guidance weight; None: the checkpoint's recorded sampling
            setting where it has one, else 2.0. A value given here always wins.
        online_training: None (default): a user's space is searched by Optuna's TPE (see
            ``pnag_sampler.search.tpe``); an ``OnlineTraining`` budget: by PNAG learned online.
        weights: Checkpoint folder for a built-in space's canonical slots (default: the
            shipped weights); refused for any other space.
    """

    def __init__(
        self,
        config_space: dict[str, Any],
        points_to_evaluate: list[dict[str, Any]] | None = None,
        random_seed: int | None = None,
        *,
        n_startup: int = 3,
        pool_size: int | None = None,
        cfg_scale: float | None = None,
        online_training: OnlineTraining | None = None,
        weights: str | None = None,
    ) -> None:
        super().__init__(config_space, points_to_evaluate=points_to_evaluate, random_seed=random_seed)
        options = SearchOptions(
            seed=self.random_seed,
            n_startup=n_startup,
            pool_size=pool_size,
            cfg_scale=cfg_scale,
            online_training=online_training,
            owner="PNAGSearcher",
        )
        self._search = configuration_search(
            parameters_of_config_space(config_space), options, name="Syne Tune config space", weights=weights
        )
        self._suggested: list[dict[str, Any]] = []  # index = trial id (suggestion order)
        self._evaluated: list[tuple[dict[str, Any], float]] = []
        self._failed: list[dict[str, Any]] = []
        self._done: set[int] = set()

    def _searched(self, config: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in config.items() if isinstance(self.config_space.get(k), Domain)}

    def suggest(self, **kwargs: Any) -> dict[str, Any] | None:
        config = self._next_points_to_evaluate()
        if config is None:
            pending = [c for i, c in enumerate(self._suggested) if i not in self._done] + self._failed
            config = self._search.propose(self._evaluated, pending)
        if config is not None:
            self._suggested.append(self._searched(config))
        return config

    def on_trial_complete(self, trial_id: int, config: dict[str, Any], metric: float) -> None:
        self._done.add(trial_id)
        if metric is None or not math.isfinite(metric):
            _logger.warning("PNAGSearcher: trial %s finished with metric %r, not a finite number; treated as failed", trial_id, metric)
            self._failed.append(self._searched(config))
            return
        self._evaluated.append((self._searched(config), -float(metric)))

    def on_trial_error(self, trial_id: int) -> None:
        self._done.add(trial_id)
        if 0 <= trial_id < len(self._suggested):
            self._failed.append(self._suggested[trial_id])


# -- PNAG initial points for Syne Tune's own searchers ------------------------------------------
def pnag_points_to_evaluate(
    space: str,
    n: int,
    *,
    seed: int = 0,
    weights: str | None = None,
    pool_size: int | None = None,
) -> list[dict[str, Any]]:
    """``n`` distinct architectures the pretrained generator proposes for the top condition,
    best-first by its zero-shot ranking, as configs of ``architecture_config_space`` (paper
    Fig. 1 a: they replace the random initial design of RegularizedEvolution,
    BayesianOptimization, ...). With the same seed and pool size, the first is what
    ``PNAGSearcher`` suggests first."""
    options = SearchOptions(seed=seed, pool_size=pool_size, owner="pnag_points_to_evaluate")
    return ArchitectureConfigurationSearch(get_space(space), options, weights=weights).initial(n)


# -- tabulated benchmarks as Syne Tune blackboxes -----------------------------------------------
@functools.cache
def _every_configuration(space: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Every configuration of ``architecture_config_space`` and its table row (-1 where the
    table has no such architecture). Several configurations can be one architecture (the
    table's equivalences), and Syne Tune looks configurations up exactly, so all are listed."""
    benchmark = get_benchmark(space)
    search_space = benchmark.space
    choices = canonical_choices(space)
    slots = list(search_space.parameter_choices())
    combos = list(itertools.product(*choices.values()))
    rows = np.full(len(combos), -1)
    for i, combo in enumerate(combos):
        try:
            rows[i] = benchmark.index(search_space.to_string(search_space.from_params(dict(zip(slots, combo)))))
        except InvalidArchitectureError:  # e.g. NAS-Bench-Graph's all-skip cells, which it excludes
            pass
    return pd.DataFrame(combos, columns=list(choices)), rows


def tabular_blackbox(space: str, task: str) -> BlackboxTabular:
    """A benchmark table as a ``BlackboxTabular`` over ``architecture_config_space``.

    Objectives: ``validation_error`` and ``test_error`` (100 - accuracy, or 1 - score for
    NAS-Bench-Graph), and ``elapsed_time`` (the table's training time where it has one, else 1).
    One fidelity (the table's final epoch). A configuration the table lacks has NaN errors, so
    the trial reports no usable result (a failed evaluation)."""
    benchmark = benchmark_for_task(space, task)
    search_space = benchmark.space
    scale = 100.0 if search_space.name == "nb201" else 1.0
    hyperparameters, rows = _every_configuration(search_space.name)
    elapsed = benchmark.cost("train_time", task) if "train_time" in benchmark.cost_names(task) else np.ones(len(benchmark))
    per_row = np.stack([scale - benchmark.validation(task), scale - benchmark.test(task), elapsed], axis=-1)
    objectives = np.where(rows[:, None] >= 0, per_row[rows], [np.nan, np.nan, 1.0])
    return BlackboxTabular(
        hyperparameters=hyperparameters,
        configuration_space=architecture_config_space(search_space.name),
        fidelity_space={"epoch": randint(1, 1)},
        objectives_evaluations=objectives[:, None, None, :].astype(np.float64),
        fidelity_values=np.array([1]),
        objectives_names=["validation_error", "test_error", "elapsed_time"],
    )
