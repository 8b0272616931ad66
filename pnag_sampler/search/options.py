"""What a search is asked to do, checked and decided in one place.

Every adapter (PNAGSampler, PNAGStrategy, PNAGTuner, PNAGSearcher) turns its keyword arguments
into one frozen ``SearchOptions``; the searches read it and never relay arguments. Where
a value can come from several places, the user's argument wins over what a checkpoint records
for its own sampling (``generation_defaults``), which wins over the library's default.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: the search's candidate sources: the generator, or (the control that shows what the
#: generator adds) uniform samples of the space ranked by the same surrogate
CANDIDATE_SOURCES = ("generated", "uniform")
#: candidates per pool round: a pretrained model's pools are cached for the whole study, an
#: online model's are regenerated after every refit, so they are kept smaller
PRETRAINED_POOL_SIZE = 512
ONLINE_POOL_SIZE = 256
#: classifier-free guidance weight towards the top-performance condition
CFG_SCALE = 2.0


@dataclass(frozen=True)
class OnlineTraining:
    """How much an online model learns; small, because it runs inside ``ask``."""

    #: uniform samples of the space that stage 1 learns the structure from
    structure_samples: int = 2048
    autoencoder_epochs: int = 20
    #: of those, the ones every stage-2 fit also trains on under the null condition (the space
    #: prior; fewer make refits cheaper, but with 512 no generated chain was valid in a probe)
    prior_samples: int = 2048
    transformer_epochs: int = 10
    #: later refits continue from the previous weights, so they need fewer epochs
    refit_epochs: int = 3
    batch_size: int = 64
    #: stage 2 is refit when the number of results has grown by this factor since the last fit
    refit_growth: float = 2.0
    #: evaluated rows are repeated to make up this share of a stage-2 epoch
    evaluated_share: float = 0.2


def _require_int(owner: str, name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{owner}: {name} must be an integer >= {minimum}, got {value!r}")


@dataclass(frozen=True)
class SearchOptions:
    """The settings of one search, validated on construction (an error names the argument).

    Args:
        seed: Seed of the candidate pools and of the random start; None draws one (kept, so
            every search of one sampler shares it).
        n_startup: Results before a surrogate ranks candidates (pretrained spaces without a
            task-aware surrogate; a user's space with ``online_training``: random trials
            before the online model).
        pool_size: Candidates generated per pool round; None: 512 for a pretrained space,
            256 for an online model.
        cfg_scale: Classifier-free guidance weight; None: the checkpoint's recorded sampling
            setting if it has one, else 2.0.
        candidate_source: ``"generated"`` or ``"uniform"`` (the control).
        online_training: None: a user's space (no checkpoint knows it) is searched by
            Optuna's TPE (better than PNAG learned online on most seeds measured, at a 500th
            of the cost); an ``OnlineTraining`` budget: by PNAG learned online within it.
        owner: The name errors are reported under (the adapter class).
    """

    seed: int | None = None
    n_startup: int = 3
    pool_size: int | None = None
    cfg_scale: float | None = None
    candidate_source: str = "generated"
    online_training: OnlineTraining | None = None
    owner: str = field(default="SearchOptions", compare=False)

    def __post_init__(self) -> None:
        if self.seed is not None:
            _require_int(self.owner, "seed", self.seed, 0)
        else:
            object.__setattr__(self, "seed", int.from_bytes(os.urandom(4), "little") % 2**31)
        _require_int(self.owner, "n_startup", self.n_startup, 0)
        if self.pool_size is not None:
            _require_int(self.owner, "pool_size", self.pool_size, 1)
        scale = self.cfg_scale
        if scale is not None and (isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale < 0):
            raise ValueError(f"{self.owner}: cfg_scale must be a finite number >= 0, got {scale!r}")
        if self.candidate_source not in CANDIDATE_SOURCES:
            raise ValueError(f"{self.owner}: candidate_source must be one of {CANDIDATE_SOURCES}, got {self.candidate_source!r}")
        if self.online_training is not None and not isinstance(self.online_training, OnlineTraining):
            raise ValueError(f"{self.owner}: online_training must be an OnlineTraining or None, got {type(self.online_training).__name__}")

    @property
    def drawn_seed(self) -> int:
        """``seed`` typed as an int: ``__post_init__`` always replaces None by a drawn seed."""
        assert self.seed is not None
        return self.seed

    def pool_size_for(self, *, online: bool) -> int:
        """The user's pool size, else the library's for this kind of model."""
        if self.pool_size is not None:
            return self.pool_size
        return ONLINE_POOL_SIZE if online else PRETRAINED_POOL_SIZE

    def generation_settings(self, recorded: Mapping[str, Any] | None) -> dict[str, Any]:
        """Keyword arguments of ``PNAG.generate`` for candidate pools: what the checkpoint
        records for its own sampling (its conditions included: some models have no performance
        condition), else the top-performance condition and the library's guidance; the user's
        ``cfg_scale`` over either."""
        settings: dict[str, Any] = dict(recorded) if recorded else {"performance": 1.0, "cfg_scale": CFG_SCALE}
        if self.cfg_scale is not None:
            settings["cfg_scale"] = float(self.cfg_scale)
        return settings
