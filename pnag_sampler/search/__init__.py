"""The search: candidate pools from a generator, ranked by a surrogate, one options object.

``options`` (light) decides every setting; ``guided`` proposes from a pretrained model;
``online`` learns a model of a user's space while the search runs; ``configurations`` speaks
configurations for every framework's adapter.
"""

from pnag_sampler.lazy import lazy_exports

__all__ = [
    "ArchitectureConfigurationSearch",
    "ConfigurationSearch",
    "GuidedSearch",
    "OnlineSearch",
    "OnlineTraining",
    "SearchOptions",
    "configuration_search",
]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ArchitectureConfigurationSearch": "pnag_sampler.search.configurations",
        "ConfigurationSearch": "pnag_sampler.search.configurations",
        "configuration_search": "pnag_sampler.search.configurations",
        "GuidedSearch": "pnag_sampler.search.guided",
        "OnlineSearch": "pnag_sampler.search.online",
        "OnlineTraining": "pnag_sampler.search.options",
        "SearchOptions": "pnag_sampler.search.options",
    },
)
