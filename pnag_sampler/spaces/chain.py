"""Spaces whose architectures are a sequence of choices: one token per node of a fixed chain.

MobileNetV3 (resolution, then one kernel/expand token per layer slot), AutoFormer (embedding
width, then one heads/MLP-ratio token per layer slot) and DARTS (one operation~source token per
cell input) are all ``input -> slot_1 -> ... -> slot_k -> output``. Each slot allows its own
tokens out of the space's vocabulary; a space adds its own rules (e.g. unused layers only at the
end of a stage) in ``_token_problem``. A sub-architecture of a chain is a shorter chain, so the
generated scales must be chains too, and each space says how such a shorter chain runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from pnag_sampler.errors import InvalidArchitectureError
from pnag_sampler.spaces.base import INPUT, OUTPUT, Dag, SearchSpace, dag_problem
from pnag_sampler.spaces.structure import PRESENT, wiring_states

UNUSED = "none"


def chain_wiring(num_nodes: int) -> tuple[tuple[int, int], ...]:
    return tuple((i, i + 1) for i in range(num_nodes - 1))


class ChainSpace(SearchSpace):
    """A chain of slots, each with its allowed tokens; the vocabulary is their union in order."""

    def __init__(self, slots: Sequence[tuple[str, Sequence[str]]]) -> None:
        if not slots:
            raise ValueError("a chain space needs at least one slot")
        self.slot_names = tuple(name for name, _ in slots)
        self.slot_tokens = tuple(tuple(tokens) for _, tokens in slots)
        self.operations = tuple(dict.fromkeys(token for tokens in self.slot_tokens for token in tokens))
        self.num_nodes = len(slots) + 2
        self._wiring = chain_wiring(self.num_nodes)
        # five scales spaced geometrically from 3 to N nodes: a 23-node chain then costs the
        # transformer 823 tokens per architecture instead of 4,319 for every n = 3 .. 23
        self.generation_scales = tuple(int(n) for n in np.unique(np.round(np.geomspace(3, self.num_nodes, 5))))

    # -- structure ------------------------------------------------------------------------------
    def node_vocabulary(self) -> list[tuple[str, ...]]:
        return [(INPUT,), *self.slot_tokens, (OUTPUT,)]

    def edge_states(self) -> np.ndarray:
        return wiring_states(self.num_nodes, self._wiring)

    def project(self, op_logits: torch.Tensor, edge_logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The chain's fixed wiring with the most likely slot tokens under the space's rules."""
        log_probs = self.structure.masked_ops(op_logits)
        tokens = self._best_tokens(log_probs[:, 1:-1])
        ops = torch.cat([log_probs[:, :1].argmax(-1), tokens, log_probs[:, -1:].argmax(-1)], 1)
        adjacency = (self.structure.edges == PRESENT).long().expand(len(ops), -1, -1)
        return ops, adjacency

    def _best_tokens(self, log_probs: torch.Tensor) -> torch.Tensor:
        """(B, slots, T) log-probabilities over each slot's tokens -> (B, slots) the most likely
        tokens that the space's rules across slots allow; by default every slot on its own."""
        return log_probs.argmax(-1)

    # -- validity -------------------------------------------------------------------------------
    def _space_problem(self, dag: Dag) -> str | None:
        if dag.edges != self._wiring:
            return "the wiring must be the chain input -> slots in order -> output"
        for node, (name, allowed, token) in enumerate(zip(self.slot_names, self.slot_tokens, dag.ops[1:-1]), start=1):
            if token not in allowed:
                return f"node {node} ({name}) holds {token!r}, which that slot does not allow ({', '.join(allowed)})"
        return self._token_problem(dag.ops[1:-1])

    def _token_problem(self, tokens: Sequence[str]) -> str | None:
        """Rules across slots (e.g. an unused layer only after the used ones); None = valid."""
        return None

    def sub_architecture_problem(self, dag: Dag) -> str | None:
        """A runnable sub-architecture is a shorter chain that the space can build."""
        problem = dag_problem(dag, self.operations)
        if problem is None and dag.edges != chain_wiring(dag.num_nodes):
            problem = "a sub-architecture of a chain space must be a chain"
        return problem or self._sub_token_problem(dag.ops[1:-1])

    def _sub_token_problem(self, tokens: Sequence[str]) -> str | None:
        """Why a shorter chain of tokens cannot be built; None = it can."""
        return None

    # -- tokens ---------------------------------------------------------------------------------
    def tokens(self, dag: Dag) -> tuple[str, ...]:
        """The slot tokens of a valid architecture, in slot order."""
        return self.require_valid(dag).ops[1:-1]

    def from_tokens(self, tokens: Sequence[str]) -> Dag:
        """The architecture holding ``tokens``; raises InvalidArchitectureError naming the problem."""
        return self.require_valid(Dag((INPUT, *tokens, OUTPUT), self._wiring))

    def sub_tokens(self, dag: Dag) -> tuple[str, ...]:
        """The tokens of a runnable sub-architecture (a full architecture is one too)."""
        return self.require_sub_architecture(dag).ops[1:-1]

    # -- sampling -------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, n: int) -> list[Dag]:
        """Each flat parameter uniformly and independently, as the space's own papers sample
        (OFA: depth, then kernel and expand ratio per layer; DARTS: inputs, then operations)."""
        choices = self.parameter_choices()
        draws = {key: rng.integers(len(values), size=n) for key, values in choices.items()}
        return [self.from_params({key: choices[key][draws[key][i]] for key in choices}) for i in range(n)]

    # -- shared parsing help --------------------------------------------------------------------
    def _parse_error(self, text: Any, expected: str) -> InvalidArchitectureError:
        return InvalidArchitectureError(f"not a {self.name} architecture string ({expected}): {text!r}")


class DepthChainSpace(ChainSpace):
    """A chain whose groups of layer slots (a stage, or all layers) each have a depth: a group's
    unused layers (``none``) come after its used ones."""

    #: (label, slot indices) of every group whose ``none`` tokens must form a suffix
    depth_groups: tuple[tuple[str, tuple[int, ...]], ...] = ()

    def _token_problem(self, tokens: Sequence[str]) -> str | None:
        for label, slots in self.depth_groups:
            layers = [tokens[i] for i in slots]
            depth = sum(t != UNUSED for t in layers)
            if any(t == UNUSED for t in layers[:depth]):
                return f"{label}: an unused layer ('none') may only follow the used ones"
        return None

    def _best_tokens(self, log_probs: torch.Tensor) -> torch.Tensor:
        """Per group, the best depth: its used prefix takes each slot's best layer, its suffix
        ``none``; a depth that a slot forbids scores -inf."""
        unused = self.node_types.index(UNUSED)
        used_scores, used_tokens = log_probs.index_fill(2, torch.tensor([unused]), -torch.inf).max(-1)
        unused_scores = log_probs[..., unused]
        tokens = log_probs.argmax(-1)
        for _, slots in self.depth_groups:
            index = torch.tensor(slots)
            used, empty = used_scores[:, index], unused_scores[:, index]
            zero = used.new_zeros(len(used), 1)
            # depth d: slots [0, d) used, [d, m) unused
            prefix = torch.cat([zero, used.cumsum(1)], 1)
            suffix = torch.cat([empty.flip(1).cumsum(1).flip(1), zero], 1)
            depth = (prefix + suffix).argmax(1, keepdim=True)
            positions = torch.arange(len(slots))[None, :]
            tokens[:, index] = torch.where(positions < depth, used_tokens[:, index], unused)
        return tokens
