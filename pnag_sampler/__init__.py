"""pnag-sampler: Progressive Neural Architecture Generation (PNAG) as a drop-in sampler.

Public names are imported on first use, so ``import pnag_sampler`` stays light.
"""

from pnag_sampler.lazy import lazy_exports

__all__ = ["PNAG", "PNAGSampler", "Generation", "SearchOptions", "get_space", "suggest_architecture"]
__version__ = "0.1.0"
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "PNAG": "pnag_sampler.generator",
        "Generation": "pnag_sampler.generator",
        "PNAGSampler": "pnag_sampler.adapters.optuna",
        "suggest_architecture": "pnag_sampler.adapters.optuna",
        "SearchOptions": "pnag_sampler.search.options",
        "get_space": "pnag_sampler.spaces",
    },
)
