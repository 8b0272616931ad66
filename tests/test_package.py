"""The package's shape: light imports, no harness in the core, one place for settings and for
Optuna's private API."""

import importlib.util
import subprocess
import sys

import pytest

from pnag_sampler.search.options import SearchOptions


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; {code}; print(' '.join(sys.modules))"], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def test_importing_the_package_loads_neither_torch_nor_optuna():
    loaded = _modules_after("import pnag_sampler")
    assert not {"torch", "optuna", "numpy", "scipy", "pandas"} & loaded


def test_the_core_and_the_adapters_never_import_the_harness():
    modules = ["pnag_sampler.adapters.optuna", "pnag_sampler.search.configurations", "pnag_sampler.conditioning.tasks"]
    modules += [f"pnag_sampler.adapters.{name}" for name in ("nni", "syne_tune") if importlib.util.find_spec(name)]  # extras
    loaded = _modules_after("import " + ", ".join(modules))
    assert not [m for m in loaded if m.startswith("pnag_sampler.harness")]


def test_every_public_name_resolves():
    import pnag_sampler
    import pnag_sampler.search

    for package in (pnag_sampler, pnag_sampler.search):
        for name in package.__all__:
            assert getattr(package, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        pnag_sampler.nothing  # noqa: B018


def test_optunas_private_api_that_the_adapter_uses_is_all_there():
    from pnag_sampler.adapters.optuna_compat import missing_private_api

    assert missing_private_api() == [], "the installed Optuna moved private API that optuna_compat relies on"


def test_user_argument_beats_checkpoint_setting_beats_library_default():
    recorded = {"params": 0.5, "cfg_scale": 1.0, "temperature": 0.3}  # e.g. DARTS: no performance condition
    assert SearchOptions(seed=0).generation_settings(None) == {"performance": 1.0, "cfg_scale": 2.0}
    assert SearchOptions(seed=0).generation_settings(recorded) == recorded
    assert SearchOptions(seed=0, cfg_scale=3.0).generation_settings(recorded) == {**recorded, "cfg_scale": 3.0}
    assert SearchOptions(seed=0).pool_size_for(online=False) == 512
    assert SearchOptions(seed=0).pool_size_for(online=True) == 256
    assert SearchOptions(seed=0, pool_size=64).pool_size_for(online=True) == 64


def test_options_are_frozen_and_a_missing_seed_is_drawn_once():
    options = SearchOptions()
    assert isinstance(options.seed, int)
    with pytest.raises(AttributeError):
        options.seed = 1  # type: ignore[misc]


@pytest.mark.parametrize("owner", ["PNAGStrategy", "PNAGTuner", "PNAGSearcher"])
@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"pool_size": 0}, "pool_size"),
        ({"n_startup": -1}, "n_startup"),
        ({"cfg_scale": -1.0}, "cfg_scale"),
        ({"candidate_source": "x"}, "candidate_source"),
    ],
)
def test_bad_options_name_the_argument_and_the_adapter(owner, kwargs, name):
    with pytest.raises(ValueError, match=f"{owner}: {name} must be"):
        SearchOptions(owner=owner, **kwargs)


def test_a_pool_round_is_stored_whole_and_read_back(tmp_path):
    from pnag_sampler.search.pool_cache import pool_key, read_pool, store_pool

    key = pool_key("fingerprint", seed=0, size=3, settings={"cfg_scale": 2.0})
    assert read_pool(key, tmp_path) is None
    store_pool(key, ["a", "b", "a"], tmp_path)
    assert read_pool(key, tmp_path) == ["a", "b", "a"]
    (tmp_path / f"{key}.json").write_text('{"pool": [["a", 2], ["b", 1]]}')  # an older release's format
    assert read_pool(key, tmp_path) is None
    assert pool_key("fingerprint", seed=1, size=3, settings={"cfg_scale": 2.0}) != key


def test_a_second_process_reads_the_first_pool_instead_of_generating(tmp_path, monkeypatch):
    from pnag_sampler.generator import PNAG
    from pnag_sampler.search.guided import GuidedSearch

    monkeypatch.setenv("PNAG_CACHE_DIR", str(tmp_path))
    first = GuidedSearch(PNAG.pretrained("nb201"), SearchOptions(seed=3, pool_size=32)).candidates(())
    model = PNAG.pretrained("nb201")  # a fresh load of the same checkpoint, as in another worker
    monkeypatch.setattr(model, "generate_chunks", lambda *args, **kwargs: pytest.fail("the pool was generated again"))
    assert GuidedSearch(model, SearchOptions(seed=3, pool_size=32)).candidates(()) == first
    trained = PNAG.pretrained("nb201")
    trained.fingerprint = None  # a model changed in this process is never read from the cache
    monkeypatch.setattr(trained, "generate_chunks", lambda *args, **kwargs: pytest.fail("generated, as it must be"))
    with pytest.raises(pytest.fail.Exception, match="as it must be"):
        GuidedSearch(trained, SearchOptions(seed=3, pool_size=32)).candidates(())
