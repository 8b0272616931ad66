"""HPOLib's FCNet space (Klein & Hutter, 2019): a 2-layer MLP and how it is trained.

Nine hyperparameters, 62,208 configurations: per layer its units, activation and dropout, then
the initial learning rate, the batch size and the learning-rate schedule. As a chain: one slot
per hyperparameter, in that order, each holding one of its tabulated values. Users write these
as the ``suggest_*`` calls of ``HYPERPARAMETERS`` (integer units and batch size on a log scale, a
float dropout, a log-float learning rate); a value between the tabulated ones stands for the
nearest of them (on the parameter's scale), which is how a tabular benchmark answers any sampler.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from pnag_sampler.errors import InvalidArchitectureError
from pnag_sampler.spaces.base import Dag
from pnag_sampler.spaces.chain import ChainSpace
from pnag_sampler.spaces.parameters import Parameter

#: the tabulated values of every hyperparameter, in slot order
VALUES: dict[str, tuple[Any, ...]] = {
    "n_units_1": (16, 32, 64, 128, 256, 512),
    "activation_fn_1": ("relu", "tanh"),
    "dropout_1": (0.0, 0.3, 0.6),
    "n_units_2": (16, 32, 64, 128, 256, 512),
    "activation_fn_2": ("relu", "tanh"),
    "dropout_2": (0.0, 0.3, 0.6),
    "init_lr": (5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1),
    "batch_size": (8, 16, 32, 64),
    "lr_schedule": ("cosine", "const"),
}
#: how a user suggests each hyperparameter (Optuna: suggest_int / suggest_float / suggest_categorical)
HYPERPARAMETERS: tuple[Parameter, ...] = (
    Parameter("n_units_1", low=16, high=512, log=True, integer=True),
    Parameter("activation_fn_1", choices=VALUES["activation_fn_1"]),
    Parameter("dropout_1", low=0.0, high=0.6),
    Parameter("n_units_2", low=16, high=512, log=True, integer=True),
    Parameter("activation_fn_2", choices=VALUES["activation_fn_2"]),
    Parameter("dropout_2", low=0.0, high=0.6),
    Parameter("init_lr", low=5e-4, high=1e-1, log=True),
    Parameter("batch_size", low=8, high=64, log=True, integer=True),
    Parameter("lr_schedule", choices=VALUES["lr_schedule"]),
)
_PREFIX = {"n_units": "units", "dropout": "dropout", "init_lr": "lr", "batch_size": "batch"}
_ACTIVATIONS = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}


def _token(name: str, value: Any) -> str:
    """A slot token: the value, prefixed with what it is where values could clash."""
    prefix = next((p for key, p in _PREFIX.items() if name.startswith(key)), "")
    return f"{prefix}{value}"


class HPOLibSpace(ChainSpace):
    """FCNet's nine hyperparameters; modules are the MLP (regression: one output)."""

    name = "hpolib"
    hyperparameters = HYPERPARAMETERS

    def __init__(self) -> None:
        self._tokens = {name: {_token(name, v): v for v in values} for name, values in VALUES.items()}
        super().__init__([(name, tuple(tokens)) for name, tokens in self._tokens.items()])
        # three scales (166 tokens per architecture, not 246 for five): the first layer's width,
        # the first layer and the second's width, everything; stage 2 over 62,208
        # configurations is what this space costs
        self.generation_scales = (3, 6, 11)

    # -- the user's values ----------------------------------------------------------------------
    def configuration(self, dag: Dag) -> dict[str, Any]:
        """The hyperparameter values of an architecture, as a user's objective receives them."""
        return {name: self._tokens[name][token] for name, token in zip(VALUES, self.tokens(dag))}

    def from_configuration(self, values: Mapping[str, Any]) -> Dag:
        """The architecture of a configuration; a numeric value stands for the nearest tabulated
        one on its scale (log for units, batch size and learning rate)."""
        missing = [name for name in VALUES if name not in values]
        if missing:
            raise InvalidArchitectureError(f"an hpolib configuration needs {list(VALUES)}; missing {missing}")
        return self.from_tokens([_token(p.name, self._nearest(p, values[p.name])) for p in HYPERPARAMETERS])

    @staticmethod
    def _nearest(parameter: Parameter, value: Any) -> Any:
        tabulated = VALUES[parameter.name]
        if parameter.choices is not None:
            if value not in tabulated:
                raise InvalidArchitectureError(f"hpolib parameter {parameter.name!r} = {value!r} is not one of {list(tabulated)}")
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(value):
            raise InvalidArchitectureError(f"hpolib parameter {parameter.name!r} = {value!r} is not a finite number")
        if not parameter.low - 1e-12 <= value <= parameter.high + 1e-12:
            raise InvalidArchitectureError(
                f"hpolib parameter {parameter.name!r} = {value!r} is outside [{parameter.low}, {parameter.high}]"
            )
        scale = np.log if parameter.log else np.asarray
        return tabulated[int(np.abs(scale(np.asarray(tabulated, dtype=float)) - scale(float(value))).argmin())]

    # -- strings: "n_units_1=64,activation_fn_1=relu,...,lr_schedule=cosine" -------------------
    def to_string(self, dag: Dag) -> str:
        return ",".join(f"{name}={value}" for name, value in self.configuration(dag).items())

    def from_string(self, text: str) -> Dag:
        expected = "'name=value,...' for " + ", ".join(VALUES)
        if not isinstance(text, str):
            raise self._parse_error(text, expected)
        pairs = [part.partition("=") for part in text.split(",")]
        if [name for name, _, _ in pairs] != list(VALUES):
            raise self._parse_error(text, expected)
        tokens = [_token(name, value) for name, _, value in pairs]
        for (name, _, value), token in zip(pairs, tokens):
            if token not in self._tokens[name]:
                raise InvalidArchitectureError(f"hpolib parameter {name!r} = {value!r} is not one of {list(VALUES[name])}")
        return self.from_tokens(tokens)

    # -- flat parameters: one categorical per hyperparameter (frameworks' generic form) --------
    def parameter_choices(self) -> dict[str, tuple[str, ...]]:
        return {name: tuple(str(v) for v in values) for name, values in VALUES.items()}

    def to_params(self, dag: Dag) -> dict[str, str]:
        return {name: str(value) for name, value in self.configuration(dag).items()}

    def from_params(self, params: dict[str, Any]) -> Dag:
        checked = self.checked_params(params)
        return self.from_tokens([_token(name, value) for name, value in checked.items()])

    # -- modules --------------------------------------------------------------------------------
    def build_module(self, dag: Dag, in_features: int = 16) -> torch.nn.Sequential:
        """FCNet: two fully connected layers, each with its activation and dropout, and a linear
        output (``in_features``: the dataset's feature count)."""
        return self._mlp(self.tokens(dag), in_features)

    def build_sub_module(self, dag: Dag, in_features: int = 16) -> torch.nn.Sequential:
        """A shorter chain's MLP: each units token adds a layer, the activation and dropout
        tokens after it apply to that layer; the training tokens leave the module alone."""
        return self._mlp(self.sub_tokens(dag), in_features)

    def _mlp(self, tokens: Sequence[str], in_features: int) -> torch.nn.Sequential:
        layers: list[torch.nn.Module] = []
        width = in_features
        for token in tokens:
            if token.startswith("units"):
                linear = torch.nn.Linear(width, int(token.removeprefix("units")))
                layers.append(linear)
                width = linear.out_features
            elif token in _ACTIVATIONS and layers:
                layers.append(_ACTIVATIONS[token]())
            elif token.startswith("dropout") and layers:
                layers.append(torch.nn.Dropout(float(token.removeprefix("dropout"))))
        return torch.nn.Sequential(*layers, torch.nn.Linear(width, 1))

    def example_input(self, batch_size: int = 2) -> torch.Tensor:
        return torch.randn(batch_size, 16)
