"""NNI 3.0 adapters: ``PNAGStrategy`` and ``PNAGEvolution`` for NAS, ``PNAGTuner`` for HPO.

All three treat the space the way PNAGSampler treats a user's Optuna space: the space's
parameters (NNI's ``model_space.simplify()`` labels, or an HPO search-space JSON) become a
``pnag_sampler.spaces.parameters.ParameterSpace``; a built-in architecture space's canonical
slots get the pretrained generator, any other space Optuna's TPE, or, given an
``online_training`` budget, ``n_startup`` uniform samples and then an online PNAG (stage 1 on
samples of the space, stage 2 on the results).
NNI maximises the reported metric; ``PNAGTuner`` follows its ``optimize_mode``.

NNI quirks handled here, so users do not meet them: ``NNI_FRAMEWORK`` defaults to ``none`` when
this module is imported (otherwise ``nni.nas`` imports pytorch_lightning);
``loopback_only`` makes NNI's Node.js web server listen on 127.0.0.1 instead of every
interface (tests and examples run experiments inside it).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any

os.environ.setdefault("NNI_FRAMEWORK", "none")

import nni  # noqa: E402
import torch  # noqa: E402
from nni.mutable import (  # noqa: E402
    Categorical,
    MutableAnnotation,
    Numerical,
    SampleValidationError,
    ensure_frozen,
    frozen_context,
    label_scope,
)
from nni.nas.execution.event import ModelEvent, ModelEventType  # noqa: E402
from nni.nas.nn.pytorch import ModelSpace  # noqa: E402
from nni.nas.space import model_context  # noqa: E402
from nni.nas.strategy import RegularizedEvolution, Strategy  # noqa: E402
from nni.tuner import Tuner  # noqa: E402

from pnag_sampler.errors import InvalidArchitectureError, UnsupportedParameterError  # noqa: E402
from pnag_sampler.search.configurations import ArchitectureConfigurationSearch, ConfigurationSearch, configuration_search  # noqa: E402
from pnag_sampler.search.options import OnlineTraining, SearchOptions  # noqa: E402
from pnag_sampler.spaces import get_space  # noqa: E402
from pnag_sampler.spaces.parameters import Parameter  # noqa: E402

_logger = logging.getLogger(__name__)


@contextlib.contextmanager
def loopback_only() -> Iterator[None]:
    """Run NNI experiments whose web server binds 127.0.0.1 only (NNI binds every interface).

    It preloads a small script into Node.js (``NODE_OPTIONS=--require``) that adds the host to
    ``listen(port)`` calls; the environment is restored afterwards.
    """
    script = resources.files("pnag_sampler.adapters") / "nni_loopback.js"
    previous = os.environ.get("NODE_OPTIONS")
    os.environ["NODE_OPTIONS"] = f"{previous or ''} --require {script}".strip()
    try:
        yield
    finally:
        if previous is None:
            del os.environ["NODE_OPTIONS"]
        else:
            os.environ["NODE_OPTIONS"] = previous


# -- spaces -------------------------------------------------------------------------------------
def parameters_of_model_space(simplified: Mapping[str, Any]) -> list[Parameter]:
    """``model_space.simplify()`` -> parameters; annotations (constraints) are not free choices."""
    parameters = []
    for label, mutable in simplified.items():
        if isinstance(mutable, MutableAnnotation):
            continue
        if isinstance(mutable, Categorical):
            parameters.append(Parameter(label, choices=tuple(mutable.values)))
        elif isinstance(mutable, Numerical) and mutable.mu is None and math.isfinite(mutable.low) and math.isfinite(mutable.high):
            parameters.append(Parameter(label, low=mutable.low, high=mutable.high, log=mutable.log_distributed, step=mutable.quantize))
        else:
            raise UnsupportedParameterError(
                f"PNAG cannot model '{label}' ({type(mutable).__name__}): supported are categorical choices "
                f"(LayerChoice, InputChoice, nni.choice) and bounded uniform / log-uniform numbers"
            )
    return parameters


class ArchitectureModelSpace(ModelSpace):
    """An NNI model space over a built-in architecture space: one ``nni.choice`` per slot,
    labelled ``"<space>/<slot>"`` (so PNAG's strategies search it with the pretrained generator).

    A frozen model knows its ``architecture`` (canonical string; None for a combination the
    space rules out, such as NAS-Bench-Graph's all-skip cell) and, with ``build_network``,
    holds the space's real torch / PyG network and runs it in ``forward``; tabulated benchmarks
    look the architecture up instead and need no network."""

    def __init__(self, space: str, build_network: bool = True, **network_options: Any) -> None:
        super().__init__()
        self.space_name, self.build_network, self.network_options = get_space(space).name, build_network, network_options
        with label_scope(self.space_name):
            self.values = {
                f"{self.space_name}/{slot}": ensure_frozen(self.add_mutable(nni.choice(slot, list(ops))))
                for slot, ops in get_space(space).parameter_choices().items()
            }
        self.architecture: str | None = None
        self.network: torch.nn.Module | None = None
        if frozen_context.current():  # a frozen model: the values above are the sampled ones
            search_space = get_space(space)
            try:
                dag = search_space.from_params(
                    {slot: self.values[f"{self.space_name}/{slot}"] for slot in search_space.parameter_choices()}
                )
            except InvalidArchitectureError:  # e.g. NAS-Bench-Graph's all-skip cell: architecture stays None
                return
            self.architecture = search_space.to_string(dag)
            if build_network:
                self.network = search_space.build_module(dag, **network_options)

    def freeze(self, sample: Mapping[str, Any]) -> ArchitectureModelSpace:
        with model_context(dict(sample)):
            return ArchitectureModelSpace(self.space_name, self.build_network, **self.network_options)

    def forward(self, *inputs: Any) -> Any:
        if self.network is None:
            raise RuntimeError("only a frozen model built with build_network=True has a network to run")
        return self.network(*inputs)


def parameters_of_search_space(search_space: Mapping[str, Mapping[str, Any]]) -> list[Parameter]:
    """An NNI HPO search-space JSON -> parameters; an unsupported ``_type`` names its parameter."""
    parameters = []
    for name, spec in search_space.items():
        kind = spec.get("_type")
        values: Any = spec.get("_value")  # NNI's JSON, checked by use below
        if kind == "choice" and not any(isinstance(v, dict) and "_name" in v for v in values):
            parameters.append(Parameter(name, choices=tuple(values)))
        elif kind == "randint":
            parameters.append(Parameter(name, low=int(values[0]), high=int(values[1]) - 1, integer=True))
        elif kind in ("uniform", "loguniform"):
            parameters.append(Parameter(name, low=float(values[0]), high=float(values[1]), log=kind == "loguniform"))
        elif kind in ("quniform", "qloguniform"):
            parameters.append(
                Parameter(name, low=float(values[0]), high=float(values[1]), log=kind == "qloguniform", step=float(values[2]))
            )
        else:
            raise UnsupportedParameterError(
                f"PNAGTuner cannot model parameter '{name}' of type {kind!r}: supported are choice (not nested), "
                f"randint, uniform, quniform, loguniform and qloguniform"
            )
    return parameters


def _final_metric(value: Any) -> float | None:
    """NNI's metric (a number or a dict with 'default') as a float; None if absent or not finite."""
    if isinstance(value, Mapping):
        value = value.get("default")
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _plain(sample: Mapping[str, Any]) -> dict[str, Any]:
    return {str(label): value for label, value in sample.items()}


# -- NAS strategies -----------------------------------------------------------------------------
class _PNAGProposals:
    """What a PNAG NAS strategy remembers: finished samples with metrics, failed and running ones.

    Everything is plain data, so ``state_dict``/``load_state_dict`` can resume an experiment."""

    def __init__(self, options: SearchOptions, weights: str | None) -> None:
        self.options = options
        self.weights = weights
        self.search: ConfigurationSearch | ArchitectureConfigurationSearch | None = None
        self.evaluated: list[tuple[dict, float]] = []
        self.failed: list[dict] = []
        self.running: list = []  # ExecutableModelSpace objects submitted and not finished
        self.interrupted: list[dict] = []  # running when the state was saved: never resubmitted

    def attach(self, simplified: Mapping[str, Any]) -> None:
        self.search = configuration_search(
            parameters_of_model_space(simplified), self.options, name="NNI model space", weights=self.weights
        )

    def next_sample(self) -> dict | None:
        if self.search is None:
            raise RuntimeError("the strategy proposes only after NNI has initialised it with its model space")
        pending = self.failed + self.interrupted + [dict(m.sample) for m in self.running]
        return self.search.propose(self.evaluated, pending)

    def finished(self, event: ModelEvent) -> None:
        """Record a finished model (models of other strategies sharing the engine are ignored)."""
        model = event.model
        if model not in self.running:
            return
        self.running.remove(model)
        metric = _final_metric(model.metric)
        if metric is None:
            self.failed.append(_plain(model.sample))
        else:
            self.evaluated.append((_plain(model.sample), metric))

    def state_dict(self) -> dict:
        """Plain str keys: NNI's labels are a str subclass, which torch.load (weights_only, the
        default since torch 2.6) refuses when NNI reloads its checkpoint to resume."""
        return {
            "evaluated": [[_plain(sample), metric] for sample, metric in self.evaluated],
            "failed": [_plain(s) for s in self.failed],
            "interrupted": [_plain(s) for s in self.interrupted + [m.sample for m in self.running]],
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.evaluated = [(dict(sample), float(metric)) for sample, metric in state.get("evaluated", [])]
        self.failed = [dict(s) for s in state.get("failed", [])]
        self.interrupted = [dict(s) for s in state.get("interrupted", [])]


class PNAGStrategy(Strategy):
    """A multi-trial NAS strategy whose every model comes from PNAG (after a short random start).

    Works inside ``NasExperiment`` with the sequential and the training-service engine, respects
    ``max_trial_number`` (the engine's budget), never submits a sample twice, and resumes from
    ``state_dict``.

    Example:
        ```python
        from pnag_sampler.adapters.nni import PNAGStrategy
        exp = NasExperiment(model_space, evaluator, PNAGStrategy(seed=0))
        exp.config.max_trial_number = 30
        exp.run()
        ```

    Args:
        seed: Seed of the candidate pools and of the random start (None: drawn once).
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
        *,
        seed: int | None = None,
        n_startup: int = 3,
        pool_size: int | None = None,
        cfg_scale: float | None = None,
        online_training: OnlineTraining | None = None,
        weights: str | None = None,
    ) -> None:
        super().__init__()
        options = SearchOptions(
            seed=seed,
            n_startup=n_startup,
            pool_size=pool_size,
            cfg_scale=cfg_scale,
            online_training=online_training,
            owner="PNAGStrategy",
        )
        self._proposals = _PNAGProposals(options, weights)

    def _initialize(self, model_space, engine):
        engine.register_model_event_callback(ModelEventType.TrainingEnd, self._training_end)
        self._proposals.attach(model_space.simplify())
        return model_space

    def _cleanup(self) -> None:
        self.engine.unregister_model_event_callback(ModelEventType.TrainingEnd, self._training_end)

    def _run(self) -> None:
        while self.wait_for_resource():
            sample = self._proposals.next_sample()
            if sample is None:
                _logger.info("PNAGStrategy: every sample of the space was submitted; stopping")
                break
            model = self.model_space.freeze(sample)
            self._proposals.running.append(model)
            self.engine.submit_models(model)
        self.engine.wait_models()

    def _training_end(self, event: ModelEvent) -> None:
        self._proposals.finished(event)

    def state_dict(self) -> dict:
        return self._proposals.state_dict()

    def load_state_dict(self, state_dict: dict) -> None:
        self._proposals.load_state_dict(state_dict)


class PNAGEvolution(RegularizedEvolution):
    """NNI's regularized evolution whose initial population comes from PNAG, not uniform
    sampling (paper Fig. 1 a); mutation, tournaments and ageing are NNI's own.

    Args:
        seed: Seed of the candidate pools and of the random start (None: drawn once).
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
        **evolution_options: ``RegularizedEvolution``'s own arguments (population size, ...).
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        n_startup: int = 3,
        pool_size: int | None = None,
        cfg_scale: float | None = None,
        online_training: OnlineTraining | None = None,
        weights: str | None = None,
        **evolution_options: Any,
    ) -> None:
        super().__init__(seed=seed, **evolution_options)
        self._options = SearchOptions(
            seed=seed,
            n_startup=n_startup,
            pool_size=pool_size,
            cfg_scale=cfg_scale,
            online_training=online_training,
            owner="PNAGEvolution",
        )
        self._weights = weights
        self._search: ConfigurationSearch | ArchitectureConfigurationSearch | None = None
        self._submitted: list[dict] = []  # every sample PNAG proposed, failed ones included

    def _initialize(self, model_space, engine):
        self._search = configuration_search(
            parameters_of_model_space(model_space.simplify()), self._options, name="NNI model space", weights=self._weights
        )
        return super()._initialize(model_space, engine)

    def random(self):
        """One member of the initial population, proposed by PNAG from the results so far.

        Results come from NNI's population; everything PNAG submitted counts as seen, so no
        sample is proposed twice."""
        metrics = [(dict(i.x), _final_metric(i.y)) for i in self._population]
        sample = self._search.propose([(x, y) for x, y in metrics if y is not None], self._submitted)
        if sample is None:  # RegularizedEvolution retries, then stops with a warning
            raise SampleValidationError("every sample of the space was submitted")
        self._submitted.append(_plain(sample))
        if self._dedup_helper is not None:
            self._dedup_helper.dedup(sample)
        self._individual_counter += 1
        _logger.info("[Individual %4d] PNAG: %s", self._individual_counter, sample)
        return self.model_space.freeze(sample)

    def state_dict(self) -> dict:
        return {**super().state_dict(), "pnag_submitted": self._submitted}

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        self._submitted = [dict(s) for s in state_dict.get("pnag_submitted", [])]


# -- HPO tuner ----------------------------------------------------------------------------------
class PNAGTuner(Tuner):
    """An NNI HPO tuner; use it through ``CustomAlgorithmConfig`` (see examples/nni_hpo).

    Args:
        optimize_mode: ``"maximize"`` or ``"minimize"`` the reported metric.
        seed: Seed of the candidate pools and of the random start (None: drawn once).
        n_startup: Results before a surrogate ranks candidates (a user's space with
            ``online_training``: random samples before PNAG's online model takes over).
        pool_size: Candidates generated per pool round; None: 512 for a built-in space, 256
            for PNAG learned online.
        cfg_scale: Classifier-free guidance weight; None: the checkpoint's recorded sampling
            setting where it has one, else 2.0. A value given here always wins.
        weights: Checkpoint folder for a built-in space's canonical slots (default: the
            shipped weights); refused for any other space.
    """

    def __init__(
        self,
        optimize_mode: str = "maximize",
        seed: int | None = None,
        n_startup: int = 3,
        pool_size: int | None = None,
        cfg_scale: float | None = None,
        weights: str | None = None,
    ) -> None:
        if optimize_mode not in ("maximize", "minimize"):
            raise ValueError(f"PNAGTuner: optimize_mode must be 'maximize' or 'minimize', got {optimize_mode!r}")
        self._sign = 1.0 if optimize_mode == "maximize" else -1.0
        self._options = SearchOptions(seed=seed, n_startup=n_startup, pool_size=pool_size, cfg_scale=cfg_scale, owner="PNAGTuner")
        self._weights = weights
        self._search: ConfigurationSearch | ArchitectureConfigurationSearch | None = None
        self._evaluated: list[tuple[dict, float]] = []
        self._failed: list[dict] = []
        self._pending: dict[int, dict] = {}

    def update_search_space(self, search_space: dict) -> None:
        self._search = configuration_search(
            parameters_of_search_space(search_space), self._options, name="NNI search space", weights=self._weights
        )

    def generate_parameters(self, parameter_id: int, **kwargs: Any) -> dict:
        if self._search is None:
            raise RuntimeError("update_search_space must come before generate_parameters")
        configuration = self._search.propose(self._evaluated, self._failed + list(self._pending.values()))
        if configuration is None:
            raise nni.NoMoreTrialError("every configuration of the search space was tried")
        self._pending[parameter_id] = configuration
        return configuration

    def receive_trial_result(self, parameter_id: int, parameters: dict, value: Any, **kwargs: Any) -> None:
        self._pending.pop(parameter_id, None)
        metric = _final_metric(value)
        if metric is None:
            _logger.warning("PNAGTuner: trial %s reported %r, not a finite number; treated as failed", parameter_id, value)
            self._failed.append(dict(parameters))
        else:
            self._evaluated.append((dict(parameters), self._sign * metric))

    def trial_end(self, parameter_id: int, success: bool, **kwargs: Any) -> None:
        configuration = self._pending.pop(parameter_id, None)
        if configuration is not None and not success:
            self._failed.append(configuration)

    def import_data(self, data: list) -> None:
        for record in data:
            metric = _final_metric(record.get("value"))
            if metric is not None:
                self._evaluated.append((dict(record["parameter"]), self._sign * metric))
