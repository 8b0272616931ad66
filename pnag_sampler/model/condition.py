"""The condition vector the transformer is steered by, built from named fields.

Each field (target performance, a task embedding, a cost budget...) contributes its values plus
one presence flag, so any subset can be given: a missing field is zeros with flag 0. New
conditions (issue: task and cost terms) are new fields; the transformer only sees the vector.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ConditionLayout:
    #: (name, width) of every field, in vector order
    fields: tuple[tuple[str, int], ...] = (("performance", 1),)

    @property
    def dim(self) -> int:
        return sum(width + 1 for _, width in self.fields)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fields)

    def encode(self, values: Mapping[str, torch.Tensor | Sequence[float] | float | None], batch: int) -> torch.Tensor:
        """Field values (a scalar, one vector for the batch, or one row per item) -> (batch, dim).

        A row whose value holds NaN lacks that field, as if it were not given."""
        unknown = set(values) - set(self.names)
        if unknown:
            raise KeyError(f"unknown condition fields {sorted(unknown)}; this model knows {list(self.names)}")
        parts = []
        for name, width in self.fields:
            value = values.get(name)
            if value is None:
                parts.append(torch.zeros(batch, width + 1))
                continue
            tensor = torch.as_tensor(value, dtype=torch.float32)
            tensor = tensor.reshape(-1, width).expand(batch, width) if tensor.numel() == width else tensor.reshape(batch, width)
            present = ~torch.isnan(tensor).any(dim=1, keepdim=True)
            parts.append(torch.cat([torch.where(present, tensor, 0.0), present.float()], dim=1))
        return torch.cat(parts, dim=1)
