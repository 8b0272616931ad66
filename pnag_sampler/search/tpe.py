"""Optuna's TPE over a framework-neutral space: what PNAG proposes on a space no checkpoint knows.

NNI's and Syne Tune's adapters describe a user's space as ``Parameter`` lists and hand over
(configuration, score) pairs. On such a space PNAG has learned nothing yet, and TPE was better
than PNAG learned online on most seeds measured, at a 500th of the cost (docs: Benchmarks), so
this runs Optuna's own
``TPESampler`` on a private in-memory study that mirrors the results: the same proposals an
Optuna user of TPE would get. Optuna's adapter needs none of this: it hands the parameters to a
``TPESampler`` on the user's real study.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pnag_sampler.spaces.parameters import Parameter

if TYPE_CHECKING:
    import optuna
    from optuna.distributions import BaseDistribution


def optuna_distribution(parameter: Parameter) -> BaseDistribution:
    """The Optuna distribution a user would have written for ``parameter``."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if parameter.choices is not None:
        return CategoricalDistribution(parameter.choices)
    if parameter.integer:
        step = 1 if parameter.log or parameter.step is None else int(parameter.step)
        return IntDistribution(int(parameter.low), int(parameter.high), log=parameter.log, step=step)
    return FloatDistribution(parameter.low, parameter.high, log=parameter.log, step=None if parameter.log else parameter.step)


class TPEConfigurations:
    """Proposals of ``optuna.samplers.TPESampler(seed=seed)`` for results given as a list (higher
    scores are better); results are added to the private study once each."""

    def __init__(self, parameters: Sequence[Parameter], *, seed: int) -> None:
        import optuna

        self._distributions = {parameter.name: optuna_distribution(parameter) for parameter in parameters}
        self._sampler = optuna.samplers.TPESampler(seed=seed)
        self._study: optuna.Study | None = None
        self._added: Counter[tuple] = Counter()

    def reseed(self) -> None:
        self._sampler.reseed_rng()

    def propose(self, evaluated: Sequence[tuple[Mapping[str, Any], float]]) -> dict[str, Any]:
        import optuna

        given = Counter(
            (tuple((name, configuration.get(name)) for name in self._distributions), float(score)) for configuration, score in evaluated
        )
        if self._study is None or self._added - given:  # a different history: start again
            study_logger = logging.getLogger("optuna.study.study")
            level = study_logger.level
            study_logger.setLevel(logging.WARNING)  # no "new study created" line per search
            try:
                self._study = optuna.create_study(direction="maximize", sampler=self._sampler)
            finally:
                study_logger.setLevel(level)
            self._added.clear()
        for (params, score), count in (given - self._added).items():
            try:
                result = optuna.trial.create_trial(params=dict(params), distributions=self._distributions, value=score)
            except ValueError:  # a configuration outside this space (e.g. from an earlier space)
                continue
            self._study.add_trials([result] * count)
        self._added = given
        trial = self._study.ask(self._distributions)
        self._study.tell(trial, state=optuna.trial.TrialState.FAIL)  # its result arrives elsewhere
        return dict(trial.params)
