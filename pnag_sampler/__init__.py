"""pnag-sampler: Progressive Neural Architecture Generation (PNAG) as a drop-in sampler."""

from pnag_sampler.adapters.optuna import PNAGSampler, suggest_architecture
from pnag_sampler.generator import PNAG, Generation
from pnag_sampler.spaces import get_space

__all__ = ["PNAG", "PNAGSampler", "Generation", "get_space", "suggest_architecture"]
__version__ = "0.1.0"
