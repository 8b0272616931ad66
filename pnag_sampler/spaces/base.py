"""The one interface every search space implements.

An architecture is a ``Dag`` with operations on nodes: node 0 is ``"input"``, the last node
is ``"output"``, the nodes between carry operations, and edges only go from a lower to a higher
index (the node order is a topological order). Cell spaces (NAS-Bench-201, NAS-Bench-Graph,
DARTS) and chain spaces (MobileNetV3 stages, AutoFormer layers, arbitrary user spaces) all fit
this form, so the generator never needs to know which space it works on.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from pnag_sampler.errors import InvalidArchitectureError, PNAGError
from pnag_sampler.spaces.structure import FREE, Structure, full_structure

if TYPE_CHECKING:
    from pnag_sampler.spaces.parameters import Parameter

INPUT = "input"
OUTPUT = "output"


@dataclass(frozen=True)
class Dag:
    """A DAG with operations on nodes, hashable so it can be de-duplicated.

    ``ops[i]`` is the operation of node ``i``; ``edges`` is a sorted tuple of ``(src, dst)``
    pairs with ``src < dst``.
    """

    ops: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]

    def __hash__(self) -> int:
        # kept once computed: a search looks the same candidates up on every proposal
        try:
            return self.__dict__["_hash"]
        except KeyError:
            value = self.__dict__["_hash"] = hash((self.ops, self.edges))
            return value

    def __getstate__(self) -> dict[str, tuple]:
        """Fields only: string hashes differ between processes, so the kept one never travels."""
        return {"ops": self.ops, "edges": self.edges}

    @property
    def num_nodes(self) -> int:
        return len(self.ops)

    @classmethod
    def from_matrix(cls, ops: Sequence[str], adjacency: np.ndarray) -> Dag:
        """Build from an ``n x n`` 0/1 matrix; only the strict upper triangle is read."""
        n = len(ops)
        adjacency = np.asarray(adjacency)
        edges = tuple((i, j) for i in range(n) for j in range(i + 1, n) if adjacency[i, j])
        return cls(tuple(ops), edges)

    def adjacency(self) -> np.ndarray:
        matrix = np.zeros((self.num_nodes, self.num_nodes), dtype=np.int64)
        for src, dst in self.edges:
            matrix[src, dst] = 1
        return matrix

    def predecessors(self, node: int) -> list[int]:
        return [src for src, dst in self.edges if dst == node]


def dag_problem(dag: Dag, operations: Iterable[str]) -> str | None:
    """Say why ``dag`` is not a valid ops-on-nodes DAG over ``operations``, or return None.

    Valid means: at least 3 nodes; node 0 is the input and the last node the output; every
    other node carries one of ``operations``; every edge goes forward; and every node lies on a
    path from the input to the output (so the DAG computes something with every node).
    This is the check every generated scale (sub-architecture) must pass.
    """
    allowed = set(operations)
    n = dag.num_nodes
    if n < 3:
        return f"a DAG needs at least 3 nodes (input, an operation, output), got {n}"
    if dag.ops[0] != INPUT:
        return f"node 0 must be '{INPUT}', got '{dag.ops[0]}'"
    if dag.ops[-1] != OUTPUT:
        return f"node {n - 1} must be '{OUTPUT}', got '{dag.ops[-1]}'"
    for i, op in enumerate(dag.ops[1:-1], start=1):
        if op not in allowed:
            return f"node {i} has operation '{op}', not one of {sorted(allowed)}"
    for src, dst in dag.edges:
        if not 0 <= src < dst < n:
            return f"edge {src}->{dst} does not go forward between nodes 0..{n - 1}"
    reach_from_input = {0}
    for node in range(1, n):
        if any(p in reach_from_input for p in dag.predecessors(node)):
            reach_from_input.add(node)
    reach_output = {n - 1}
    for node in range(n - 2, -1, -1):
        if any(dst in reach_output for src, dst in dag.edges if src == node):
            reach_output.add(node)
    for node in range(n):
        if node not in reach_from_input:
            return f"node {node} is not reachable from the input"
        if node not in reach_output:
            return f"node {node} does not reach the output"
    return None


def require_positive(**sizes: int) -> None:
    """Reject a non-positive or non-integer layer size before any module is built.

    torch would otherwise fail later (or not at all) with an unrelated shape error.
    """
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidArchitectureError(f"{name} must be a positive integer, got {value!r}")


class DagCell(torch.nn.Module):
    """Runs any valid ops-on-nodes ``Dag`` as a torch module.

    Each operation node applies its op to the sum of its predecessors' outputs, and the output
    node returns the sum of its predecessors. Every space builds its full cells and its
    generated sub-architectures with this one class, so the two can never compute differently.
    ``make_op`` turns an operation name into a module; extra ``forward`` arguments (e.g. a
    graph's ``edge_index``) are passed on to every op.
    """

    def __init__(self, dag: Dag, make_op: Callable[[str], torch.nn.Module]) -> None:
        super().__init__()
        self.dag = dag
        self.nodes = torch.nn.ModuleList(make_op(op) for op in dag.ops[1:-1])
        self._inputs = tuple(tuple(dag.predecessors(node)) for node in range(dag.num_nodes))

    def _sum_inputs(self, outputs: list[torch.Tensor], node: int) -> torch.Tensor:
        first, *rest = self._inputs[node]
        total = outputs[first]
        for src in rest:
            total = total + outputs[src]
        return total

    def forward(self, x: torch.Tensor, *context: Any) -> torch.Tensor:
        outputs = [x]
        for node, op in enumerate(self.nodes, start=1):
            outputs.append(op(self._sum_inputs(outputs, node), *context))
        return self._sum_inputs(outputs, self.dag.num_nodes - 1)


def _not_a_dag(value: Any) -> str:
    return f"expected a Dag, got {type(value).__name__}"


class SearchSpace(abc.ABC):
    """A named set of architectures, each a ``Dag`` of ``num_nodes`` nodes.

    Subclasses define the operations, the canonical string form, validity beyond the generic
    DAG rules, sampling, the flat parameter form that samplers suggest, and real torch modules.
    """

    name: str
    #: operations a middle node may carry (without input/output)
    operations: tuple[str, ...]
    #: number of nodes N of a full architecture, input and output included
    num_nodes: int

    @property
    def node_types(self) -> tuple[str, ...]:
        """Vocabulary of node labels: input, output, then the operations."""
        return (INPUT, OUTPUT, *self.operations)

    # -- validity --------------------------------------------------------------------------
    def problem(self, dag: Dag) -> str | None:
        """Why ``dag`` is not an architecture of this space, or None if it is."""
        if dag.num_nodes != self.num_nodes:
            return f"{self.name} architectures have {self.num_nodes} nodes, got {dag.num_nodes}"
        return dag_problem(dag, self.operations) or self._space_problem(dag)

    def is_valid(self, dag: Dag) -> bool:
        return self.problem(dag) is None

    def sub_architecture_problem(self, dag: Dag) -> str | None:
        """Why ``dag`` (any size) is not a runnable sub-architecture over this space's ops."""
        return dag_problem(dag, self.operations)

    @abc.abstractmethod
    def _space_problem(self, dag: Dag) -> str | None:
        """Space-specific rules on top of the generic DAG rules (e.g. NB201's fixed wiring)."""

    def operations_problem(self, dag: Dag) -> str | None:
        """The check of DiffusionNAG's validity metric (behind the paper's Table 6): the node
        count and each node's operation, never the edges. Reported beside ``problem``."""
        if dag.num_nodes != self.num_nodes:
            return f"{self.name} architectures have {self.num_nodes} nodes, got {dag.num_nodes}"
        for node, (op, allowed) in enumerate(zip(dag.ops, self.node_vocabulary())):
            if op not in allowed:
                return f"node {node} holds {op!r}, not one of {list(allowed)}"
        return None

    # -- structure: what is fixed, what the decoder chooses ---------------------------------
    def node_vocabulary(self) -> list[tuple[str, ...]]:
        """The node types each node of a full architecture may carry."""
        return [(INPUT,), *[self.operations] * (self.num_nodes - 2), (OUTPUT,)]

    def edge_states(self) -> np.ndarray:
        """(N, N) states of the forward edges (structure.PRESENT, ABSENT or FREE); by default
        every forward edge is free."""
        return np.full((self.num_nodes, self.num_nodes), FREE)

    def sub_node_vocabulary(self, num_nodes: int) -> list[tuple[str, ...]] | None:
        """Types each node of a ``num_nodes`` sub-architecture may carry where the space limits
        them beyond its full architectures' types (None: no further limit)."""
        return None

    @cached_property
    def structure(self) -> Structure:
        """The fixed and free parts of a full architecture."""
        return full_structure(self.node_types, self.node_vocabulary(), self.edge_states())

    def project(self, op_logits: torch.Tensor, edge_logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The most likely valid full architecture under decoder logits (B, N, T) and (B, N, N)
        -> ops (B, N), adjacency (B, N, N). Spaces with rules across nodes refine this."""
        return self.structure.project(op_logits, edge_logits)

    # -- string and parameter forms ---------------------------------------------------------
    @abc.abstractmethod
    def to_string(self, dag: Dag) -> str:
        """Canonical string: equal strings <=> the same architecture (used to de-duplicate)."""

    @abc.abstractmethod
    def from_string(self, text: str) -> Dag:
        """Parse a canonical string; raises InvalidArchitectureError naming the problem."""

    @abc.abstractmethod
    def parameter_choices(self) -> dict[str, tuple[str, ...]]:
        """The flat categorical parameters a sampler suggests, in a fixed order."""

    @abc.abstractmethod
    def to_params(self, dag: Dag) -> dict[str, str]:
        """Architecture -> flat parameter dict (keys of ``parameter_choices``)."""

    @abc.abstractmethod
    def from_params(self, params: dict[str, Any]) -> Dag:
        """Flat parameter dict -> architecture; raises InvalidArchitectureError if malformed."""

    def neighbours(self, dag: Dag) -> list[Dag]:
        """The valid architectures that differ from ``dag`` in one of ``parameter_choices`` (the
        moves of a local search), each canonical string once."""
        params = self.to_params(dag)
        found: dict[str, Dag] = {}
        for slot, choices in self.parameter_choices().items():
            for choice in choices:
                if choice == params[slot]:
                    continue
                try:
                    other = self.from_params({**params, slot: choice})
                except InvalidArchitectureError:
                    continue
                if self.is_valid(other):
                    found.setdefault(self.to_string(other), other)
        found.pop(self.to_string(dag), None)  # a change the canonical form undoes
        return list(found.values())

    #: the typed parameters users write for this space as their own ``suggest_*`` calls, where
    #: it has such a form (HPOLib's hyperparameters); empty: only ``parameter_choices``
    hyperparameters: tuple[Parameter, ...] = ()

    def configuration(self, dag: Dag) -> dict[str, Any]:
        """Architecture -> the typed values of ``hyperparameters``."""
        raise PNAGError(f"{self.name} architectures have no hyperparameter form; use parameter_choices")

    def from_configuration(self, values: Mapping[str, Any]) -> Dag:
        """Typed values of ``hyperparameters`` -> architecture."""
        raise PNAGError(f"{self.name} architectures have no hyperparameter form; use parameter_choices")

    # -- sampling ----------------------------------------------------------------------------
    @abc.abstractmethod
    def sample(self, rng: np.random.Generator, n: int) -> list[Dag]:
        """``n`` architectures drawn uniformly from the space (with replacement)."""

    # -- real modules ------------------------------------------------------------------------
    # ``*args: Any, **options: Any`` is the general signature: each space overrides it with its own
    # keyword options (mypy accepts any override of this form).
    @abc.abstractmethod
    def build_module(self, dag: Dag, *args: Any, **options: Any) -> torch.nn.Module:
        """A real, runnable torch module for a full architecture of this space."""

    @abc.abstractmethod
    def build_sub_module(self, dag: Dag, *args: Any, **options: Any) -> torch.nn.Module:
        """A runnable module for a sub-architecture (any valid DAG over this space's ops)."""

    @abc.abstractmethod
    def example_input(self, batch_size: int = 2) -> Any:
        """An input batch that modules of this space accept in ``forward``."""

    #: node counts of the generated scales (None: every n = 3 .. N); see AutoencoderConfig.scales
    generation_scales: tuple[int, ...] | None = None

    # -- what can be measured without training ----------------------------------------------
    #: condition fields a generator of this space trains on, each a quantile of one of
    #: ``measures``: (field, measure). Spaces with benchmark tables condition on their scores.
    condition_measures: tuple[tuple[str, str], ...] = ()

    def measures(self, dags: Sequence[Dag]) -> dict[str, np.ndarray]:
        """Properties of architectures known without training them (an accuracy predictor, a
        latency lookup table, a parameter count), one array per measure; empty where none."""
        return {}

    # -- helpers shared by all spaces -------------------------------------------------------
    def require_valid(self, dag: Dag) -> Dag:
        reason = self.problem(dag) if isinstance(dag, Dag) else _not_a_dag(dag)
        if reason is not None:
            raise InvalidArchitectureError(f"not a valid {self.name} architecture: {reason}")
        return dag

    def require_sub_architecture(self, dag: Dag) -> Dag:
        reason = self.sub_architecture_problem(dag) if isinstance(dag, Dag) else _not_a_dag(dag)
        if reason is not None:
            raise InvalidArchitectureError(f"not a runnable {self.name} sub-architecture: {reason}")
        return dag

    def checked_params(self, params: dict[str, Any]) -> dict[str, str]:
        """``params`` with exactly the keys of ``parameter_choices`` and allowed values.

        Shared by every ``from_params`` so that a sampler's typo is reported by name instead of
        surfacing as a KeyError.
        """
        choices = self.parameter_choices()
        if not isinstance(params, dict):
            raise InvalidArchitectureError(f"{self.name} parameters must be a dict, got {type(params).__name__}")
        missing = [key for key in choices if key not in params]
        extra = [key for key in params if key not in choices]
        if missing or extra:
            raise InvalidArchitectureError(f"{self.name} parameters must have keys {list(choices)}; missing {missing}, unexpected {extra}")
        for key, allowed in choices.items():
            if params[key] not in allowed:
                raise InvalidArchitectureError(f"parameter {key!r} = {params[key]!r} is not one of {list(allowed)}")
        return {key: params[key] for key in choices}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, num_nodes={self.num_nodes})"
