"""The guided search's candidate pools and surrogate over a long study."""

from collections import Counter

import numpy as np
import pytest

from pnag_sampler.data import get_benchmark
from pnag_sampler.generator import GENERATION_CHUNK, PNAG
from pnag_sampler.model import predictor
from pnag_sampler.search.guided import GuidedSearch
from pnag_sampler.search.options import SearchOptions


def test_pool_rounds_are_built_ahead_one_chunk_per_proposal_and_equal_whole_rounds(monkeypatch):
    monkeypatch.setenv("PNAG_CACHE_DIR", "off")
    model = PNAG.pretrained("nb201")
    search = GuidedSearch(model, SearchOptions(seed=4, pool_size=256))
    chunks = Counter()
    generate_chunks = model.generate_chunks

    def counted(*args, **kwargs):
        for chunk in generate_chunks(*args, **kwargs):
            chunks["taken"] += 1
            yield chunk

    monkeypatch.setattr(model, "generate_chunks", counted)
    table = get_benchmark("nb201")
    scores = table.validation("cifar10")
    evaluated: dict[str, float] = {}
    taken_per_proposal = []
    while len(search._pools) < 3:
        before = chunks["taken"]
        (text,) = search.propose(evaluated)
        evaluated[text] = float(scores[table.index(text)])
        taken_per_proposal.append(chunks["taken"] - before)
    assert taken_per_proposal[0] == 256 // GENERATION_CHUNK  # the first proposal builds the whole first round
    assert max(taken_per_proposal[1:]) == 1  # later rounds: one chunk per proposal, ahead of need
    settings = search.options.generation_settings(model.generation_defaults())
    for index, pool in enumerate(search._pools):
        whole = Counter(model.space.to_string(d) for d in model.generate(256, **settings, seed=4 + index).architectures)
        assert [(text, count) for text, _, count in pool] == whole.most_common()


def test_a_large_support_gives_the_same_predictions_through_the_key_space(monkeypatch):
    model = PNAG.pretrained("nb201")
    table = get_benchmark("nb201")
    architectures, scores = table.architectures(), table.validation("cifar100")
    rows = np.random.default_rng(0).choice(len(architectures), predictor.DIRECT_SOLVE_MAX_SUPPORT + 60, replace=False)
    support = [(architectures[i], float(scores[i])) for i in rows[:-20]]
    queries = [architectures[i] for i in rows[-20:]]
    assert model.surrogate is not None
    through_keys = model.surrogate.predict(queries, support)
    monkeypatch.setattr(predictor, "DIRECT_SOLVE_MAX_SUPPORT", len(support))
    direct = model.surrogate.predict(queries, support)
    assert through_keys[0] == pytest.approx(direct[0], abs=1e-5)
    assert through_keys[1] == pytest.approx(direct[1], abs=1e-5)
