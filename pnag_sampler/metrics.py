"""Validity, uniqueness and novelty of generated architectures (DiffusionNAG's definitions).

validity   = valid / generated
uniqueness = unique valid / valid
novelty    = unique valid not in the training set / unique valid
Invalid architectures are counted as generated and never repaired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence


@dataclass(frozen=True)
class GenerationQuality:
    generated: int
    valid: int
    unique_valid: int
    novel_unique_valid: int

    @property
    def validity(self) -> float:
        return self.valid / self.generated if self.generated else 0.0

    @property
    def uniqueness(self) -> float:
        return self.unique_valid / self.valid if self.valid else 0.0

    @property
    def novelty(self) -> float:
        return self.novel_unique_valid / self.unique_valid if self.unique_valid else 0.0

    def as_percentages(self) -> dict[str, float]:
        return {
            "validity": 100.0 * self.validity,
            "uniqueness": 100.0 * self.uniqueness,
            "novelty": 100.0 * self.novelty,
        }


def generation_quality(valid_strings: Sequence[str | None], training_strings: Iterable[str]) -> GenerationQuality:
    """``valid_strings`` has one entry per generated architecture: its canonical string, or
    None where it is invalid."""
    valid = [s for s in valid_strings if s is not None]
    unique = set(valid)
    training = set(training_strings)
    return GenerationQuality(len(valid_strings), len(valid), len(unique), len(unique - training))
