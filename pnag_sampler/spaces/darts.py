"""The DARTS space: a normal and a reduction cell, 4 nodes each, two inputs per node.

Each node of a DARTS cell picks two different earlier states (the cell inputs ``c_{k-2}``,
``c_{k-1}`` or an earlier node) and one of the 8 DARTS operations for each. As a chain, the
16 slots are the 8 (operation, source) inputs of the normal cell then those of the reduction
cell, each token ``op~source``. The two inputs of a node are unordered, so an architecture
lists them by source: node j's first slot allows sources ``0 .. j`` and its second ``1 .. 1 + j``,
and the first source must be the smaller. Every architecture thus has one form, and parsing a
genotype (DARTS lists inputs in any order) sorts them.

Note the space keeps all 8 operations of the DARTS mixed op, ``none`` included, as the issue asks;
DARTS's own derivation never picks ``none``, so its published genotypes use the other 7.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np
import torch

from pnag_sampler.errors import InvalidArchitectureError
from pnag_sampler.spaces.base import INPUT, OUTPUT, Dag
from pnag_sampler.spaces.chain import ChainSpace
from pnag_sampler.spaces.darts_network import (
    PRIMITIVES,
    CellSpec,
    DartsNetwork,
    network_parameter_count,
    validate_cell_spec,
)

CELLS = ("normal", "reduce")
NODES = 4


def token(op: str, source: int) -> str:
    return f"{op}~{source}"


def parse_token(text: str) -> tuple[str, int]:
    op, _, source = text.rpartition("~")
    return op, int(source)


class DartsSpace(ChainSpace):
    """DARTS (Liu et al., 2019) cells; modules are the CIFAR evaluation network."""

    name = "darts"
    condition_measures = (("params", "params_m"),)

    def __init__(self) -> None:
        super().__init__(
            [
                (f"{cell}{node}.{k}", tuple(token(op, s) for s in range(k, 1 + node + k) for op in PRIMITIVES))
                for cell in CELLS
                for node in range(NODES)
                for k in range(2)
            ]
        )

    # -- validity -------------------------------------------------------------------------------
    def _token_problem(self, tokens: Sequence[str]) -> str | None:
        for index in range(0, len(tokens), 2):
            (_, a), (_, b) = parse_token(tokens[index]), parse_token(tokens[index + 1])
            if a >= b:
                cell, node = CELLS[index // (2 * NODES)], index % (2 * NODES) // 2
                if a == b:
                    return f"node {node} of the {cell} cell takes both inputs from state {a}; DARTS picks two different states"
                return f"node {node} of the {cell} cell lists its inputs as states {a}, {b}; the smaller comes first"
        return None

    def _sub_token_problem(self, tokens: Sequence[str]) -> str | None:
        try:
            validate_cell_spec(tuple(parse_token(t) for t in tokens), "sub-architecture cell")
        except InvalidArchitectureError as error:
            return str(error)
        return None

    # -- structure ------------------------------------------------------------------------------
    def sub_node_vocabulary(self, num_nodes: int) -> list[tuple[str, ...]]:
        """A shorter chain is a cell of (num_nodes - 2) // 2 nodes: its k-th input may read
        the two cell inputs and the nodes before node k // 2."""
        return [(INPUT,), *(tuple(t for t in self.operations if parse_token(t)[1] < 2 + k // 2) for k in range(num_nodes - 2)), (OUTPUT,)]

    def _best_tokens(self, log_probs: torch.Tensor) -> torch.Tensor:
        """Per node, the best pair of inputs from two different states, the smaller first: the
        best operation per source in each slot, then the best pair of sources."""
        sources = torch.tensor([parse_token(t)[1] if "~" in t else -1 for t in self.node_types])
        states = int(sources.max()) + 1
        by_source = torch.stack([log_probs.masked_fill(sources != s, -torch.inf) for s in range(states)], 2)
        source_scores, source_tokens = by_source.max(-1)  # (B, slots, states)
        first, second = source_scores[:, 0::2], source_scores[:, 1::2]
        pairs = first[..., :, None] + second[..., None, :]  # (B, nodes, states, states)
        ordered = torch.ones(states, states, dtype=torch.bool).triu(1)
        best = pairs.masked_fill(~ordered, -torch.inf).flatten(2).argmax(-1)
        chosen = torch.stack([best // states, best % states], -1).flatten(1)  # (B, slots)
        return source_tokens.gather(2, chosen[..., None]).squeeze(-1)

    # -- cells <-> architectures ----------------------------------------------------------------
    def cells(self, dag: Dag) -> tuple[CellSpec, CellSpec]:
        """(normal, reduce) cell specs, each node's two inputs ordered by source."""
        pairs = tuple(parse_token(t) for t in self.tokens(dag))
        return pairs[: 2 * NODES], pairs[2 * NODES :]

    def from_cells(self, normal: Sequence[Sequence[Any]], reduce: Sequence[Sequence[Any]]) -> Dag:
        entries = []
        for cell, spec in zip(CELLS, (normal, reduce)):
            spec = validate_cell_spec(spec, f"{cell} cell")
            if len(spec) != 2 * NODES:
                raise InvalidArchitectureError(f"a DARTS {cell} cell has {2 * NODES} (operation, source) pairs, got {len(spec)}")
            for i in range(0, len(spec), 2):
                entries += sorted(spec[i : i + 2], key=lambda p: p[1])
        return self.from_tokens([token(op, s) for op, s in entries])

    # -- strings --------------------------------------------------------------------------------
    def to_string(self, dag: Dag) -> str:
        """DARTS's own genotype form, e.g. ``Genotype(normal=[('sep_conv_3x3', 0), ...], ...)``."""
        normal, reduce = self.cells(dag)
        concat = list(range(2, 2 + NODES))
        return f"Genotype(normal={list(normal)}, normal_concat={concat}, reduce={list(reduce)}, reduce_concat={concat})"

    def from_string(self, text: str) -> Dag:
        expected = "Genotype(normal=[(op, source), ...], normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[2, 3, 4, 5])"
        if not isinstance(text, str):
            raise self._parse_error(text, expected)
        try:
            call = ast.parse(text.strip(), mode="eval").body
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "Genotype" and not call.args):
                raise ValueError
            fields = {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}
        except (SyntaxError, ValueError):
            raise self._parse_error(text, expected) from None
        if set(fields) != {"normal", "normal_concat", "reduce", "reduce_concat"}:
            raise self._parse_error(text, expected)
        for cell in CELLS:
            if list(fields[f"{cell}_concat"]) != list(range(2, 2 + NODES)):
                raise InvalidArchitectureError(f"{cell}_concat must be {list(range(2, 2 + NODES))}, got {fields[f'{cell}_concat']!r}")
        return self.from_cells(fields["normal"], fields["reduce"])

    # -- flat parameters: every combination is a valid architecture -----------------------------
    def parameter_choices(self) -> dict[str, tuple[str, ...]]:
        choices: dict[str, tuple[str, ...]] = {}
        for cell in CELLS:
            for node in range(NODES):
                choices[f"{cell}_node{node}_inputs"] = tuple(f"{a},{b}" for a, b in combinations(range(2 + node), 2))
                choices[f"{cell}_node{node}_op_a"] = PRIMITIVES
                choices[f"{cell}_node{node}_op_b"] = PRIMITIVES
        return choices

    def to_params(self, dag: Dag) -> dict[str, str]:
        params = {}
        for cell, spec in zip(CELLS, self.cells(dag)):
            for node in range(NODES):
                (op_a, a), (op_b, b) = spec[2 * node], spec[2 * node + 1]
                params.update({f"{cell}_node{node}_inputs": f"{a},{b}", f"{cell}_node{node}_op_a": op_a, f"{cell}_node{node}_op_b": op_b})
        return params

    def from_params(self, params: dict[str, Any]) -> Dag:
        checked = self.checked_params(params)
        specs = []
        for cell in CELLS:
            spec = []
            for node in range(NODES):
                a, b = (int(s) for s in checked[f"{cell}_node{node}_inputs"].split(","))
                spec += [(checked[f"{cell}_node{node}_op_a"], a), (checked[f"{cell}_node{node}_op_b"], b)]
            specs.append(spec)
        return self.from_cells(*specs)

    # -- modules and what can be measured without training ---------------------------------------
    def build_module(self, dag: Dag, channels: int = 36, layers: int = 20, num_classes: int = 10, auxiliary: bool = False) -> DartsNetwork:
        normal, reduce = self.cells(dag)
        return DartsNetwork(normal, reduce, channels=channels, layers=layers, num_classes=num_classes, auxiliary=auxiliary)

    def build_sub_module(self, dag: Dag, channels: int = 16, layers: int = 8, num_classes: int = 10) -> DartsNetwork:
        """A shorter chain is a smaller cell (consecutive tokens feed one node), used as both the
        normal and the reduction cell, like NB201's sub-cells in every stage."""
        spec = tuple(parse_token(t) for t in self.sub_tokens(dag))
        return DartsNetwork(spec, spec, channels=channels, layers=layers, num_classes=num_classes)

    def example_input(self, batch_size: int = 2) -> torch.Tensor:
        """A batch of random 32x32 RGB images (CIFAR, where DARTS networks are evaluated)."""
        return torch.randn(batch_size, 3, 32, 32)

    def measures(self, dags: Sequence[Dag]) -> dict[str, np.ndarray]:
        """Parameters (millions) of the evaluation network at DARTS's C=36, 20 cells, 10 classes."""
        return {"params_m": np.array([network_parameter_count(*self.cells(d)) / 1e6 for d in dags])}
