"""Optuna's own conformance suite for third-party samplers, run against PNAGSampler on a
user's space (a tiny online budget: the suite checks behaviour, not quality)."""

import pytest
from optuna.testing import pytest_samplers

from pnag_sampler import PNAGSampler
from pnag_sampler.search.options import OnlineTraining

QUICK = OnlineTraining(structure_samples=64, autoencoder_epochs=2, prior_samples=64, transformer_epochs=2, refit_epochs=1)


def quick_sampler(**kwargs) -> PNAGSampler:
    return PNAGSampler(seed=0, online_training=QUICK, **kwargs)


class TestPNAGSamplerBasic(pytest_samplers.BasicSamplerTestCase):
    @pytest.fixture
    def sampler(self):
        return lambda: quick_sampler(warn_independent_sampling=False)


class TestPNAGSamplerRelative(pytest_samplers.RelativeSamplerTestCase):
    """One completed trial is enough for PNAG's online model (n_startup_trials=1)."""

    @pytest.fixture
    def sampler(self):
        return lambda: quick_sampler(n_startup_trials=1, pool_size=64)


class TestPNAGSamplerSingleOnly(pytest_samplers.SingleOnlySamplerTestCase):
    @pytest.fixture
    def sampler(self):
        return lambda: quick_sampler()
