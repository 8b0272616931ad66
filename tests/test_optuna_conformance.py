"""Optuna's own conformance suite for third-party samplers, run against PNAGSampler as users get
it (``PNAGSampler(seed=0, n_startup_trials=0)``: a user's space goes to TPE) and with PNAG
learned online (a tiny budget: the suite checks behaviour, not quality)."""

import pytest
from optuna.testing import pytest_samplers

from pnag_sampler import PNAGSampler
from pnag_sampler.search.options import OnlineTraining

QUICK = OnlineTraining(structure_samples=64, autoencoder_epochs=2, prior_samples=64, transformer_epochs=2, refit_epochs=1)
MODES = {"default": {}, "online": {"online_training": QUICK, "pool_size": 64}}


@pytest.fixture(params=list(MODES))
def mode(request) -> dict:
    return MODES[request.param]


class TestPNAGSamplerBasic(pytest_samplers.BasicSamplerTestCase):
    @pytest.fixture
    def sampler(self, mode):
        return lambda: PNAGSampler(seed=0, n_startup_trials=0, warn_independent_sampling=False, **mode)


class TestPNAGSamplerRelative(pytest_samplers.RelativeSamplerTestCase):
    """With n_startup_trials=0 the online model needs one completed trial all the same."""

    @pytest.fixture
    def sampler(self, mode):
        return lambda: PNAGSampler(seed=0, n_startup_trials=0, **mode)


class TestPNAGSamplerSingleOnly(pytest_samplers.SingleOnlySamplerTestCase):
    @pytest.fixture
    def sampler(self, mode):
        return lambda: PNAGSampler(seed=0, n_startup_trials=0, **mode)
