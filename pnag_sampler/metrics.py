"""Validity, uniqueness and novelty of generated architectures (DiffusionNAG's definitions).

validity   = valid / generated
uniqueness = unique valid / valid
novelty    = unique valid not in the training set / unique valid
Invalid architectures are counted as generated and never repaired. A generation is reported
three ways side by side (``generation_report``): the decoder's raw output under the space's
full check, the same samples under DiffusionNAG's operations-only check (the definition behind
the paper's Table 6), and what ``generate`` delivers (the most likely valid architectures).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pnag_sampler.generator import Generation
    from pnag_sampler.spaces.base import Dag, SearchSpace


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


def _strings(space: SearchSpace, dags: Sequence[Dag], problems: Sequence[str | None]) -> list[str | None]:
    return [space.to_string(d) if p is None else None for d, p in zip(dags, problems)]


def _percent_valid(problems: Sequence[str | None]) -> float:
    return 100.0 * sum(p is None for p in problems) / len(problems) if problems else 0.0


def generation_report(generation: Generation, training_strings: Iterable[str]) -> dict:
    """Raw, paper-comparable and delivered validity of one generation, with uniqueness,
    novelty, unique valid architectures per 1,000, the share the projection changed, validity
    per scale and time per architecture."""
    space, count = generation.space, len(generation.architectures)
    training = set(training_strings)
    raw = generation_quality(_strings(space, generation.raw_architectures, generation.raw_problems), training)
    delivered = generation_quality(_strings(space, generation.architectures, generation.problems), training)
    scales = [str(scale[0].num_nodes) for scale in generation.sub_architectures]
    return {
        "generated": count,
        "raw": {**raw.as_percentages(), "unique_valid_per_1000": 1000.0 * raw.unique_valid / count},
        "paper_comparable_validity": _percent_valid(generation.raw_operations_problems),
        "delivered": {**delivered.as_percentages(), "unique_valid_per_1000": 1000.0 * delivered.unique_valid / count},
        "changed_by_projection": 100.0 * sum(generation.changed) / count,
        "sub_architecture_validity": {
            "raw": dict(zip(scales, map(_percent_valid, generation.raw_sub_problems))),
            "delivered": dict(zip(scales, map(_percent_valid, generation.sub_problems))),
        },
        "ms_per_architecture": 1e3 * generation.seconds / count,
        "projection_ms_per_architecture": 1e3 * generation.projection_seconds / count,
    }
