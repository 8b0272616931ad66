"""The guided search's candidate pools and surrogate over a long study."""

import pickle
from collections import Counter

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pnag_sampler.data import get_benchmark
from pnag_sampler.generator import GENERATION_CHUNK, PNAG
from pnag_sampler.model import predictor
from pnag_sampler.model.graph_tensors import dags_to_tensors
from pnag_sampler.search import guided
from pnag_sampler.search.guided import GuidedSearch
from pnag_sampler.search.options import SearchOptions
from pnag_sampler.surrogates.meta import score_ranks


def _proposals(search: GuidedSearch, count: int, task: str = "cifar10") -> list[str]:
    table = get_benchmark("nb201")
    scores = table.validation(task)
    evaluated: dict[str, float] = {}
    for _ in range(count):
        (text,) = search.propose(evaluated)
        evaluated[text] = float(scores[table.index(text)])
    return list(evaluated)


def test_the_first_round_opens_a_chunk_per_result_and_rounds_equal_whole_generations(monkeypatch):
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
    while len(search._rounds) < 3:
        before = chunks["taken"]
        (text,) = search.propose(evaluated)
        evaluated[text] = float(scores[table.index(text)])
        taken_per_proposal.append(chunks["taken"] - before)
    assert taken_per_proposal[0] == 256 // 4 // GENERATION_CHUNK  # the first proposal ranks a quarter of a round
    assert max(taken_per_proposal[1:]) == 1  # then one chunk per proposal, the first round and ahead of need
    settings = search.options.generation_settings(model.generation_defaults())
    for index, samples in enumerate(search._rounds):
        whole = [model.space.to_string(d) for d in model.generate(256, **settings, seed=4 + index).architectures]
        assert samples == whole[: len(samples)]
        assert len(samples) == 256 or index == len(search._rounds) - 1
    assert [(text, count) for text, _, count in search._pool(0, 256)] == Counter(search._rounds[0]).most_common()


def test_proposals_do_not_depend_on_what_the_pool_cache_holds(tmp_path, monkeypatch):
    monkeypatch.setenv("PNAG_CACHE_DIR", "off")
    alone = _proposals(GuidedSearch(PNAG.pretrained("nb201"), SearchOptions(seed=2, pool_size=128)), 8)
    monkeypatch.setenv("PNAG_CACHE_DIR", str(tmp_path))
    first = _proposals(GuidedSearch(PNAG.pretrained("nb201"), SearchOptions(seed=2, pool_size=128)), 8)
    assert list(tmp_path.glob("*.json")), "the whole first round was stored"
    warm = _proposals(GuidedSearch(PNAG.pretrained("nb201"), SearchOptions(seed=2, pool_size=128)), 8)
    assert alone == first == warm


def test_searches_sharing_the_cache_extend_one_round_and_generate_no_chunk_twice(tmp_path, monkeypatch):
    monkeypatch.setenv("PNAG_CACHE_DIR", str(tmp_path))
    first, second = PNAG.pretrained("nb201"), PNAG.pretrained("nb201")  # two workers' loads
    asked: list[int] = []
    generate_chunks = second.generate_chunks

    def recorded(*args, first_chunk=0, **kwargs):
        asked.append(first_chunk)
        yield from generate_chunks(*args, first_chunk=first_chunk, **kwargs)

    monkeypatch.setattr(second, "generate_chunks", recorded)
    ahead = GuidedSearch(first, SearchOptions(seed=6, pool_size=256))
    behind = GuidedSearch(second, SearchOptions(seed=6, pool_size=256))
    opened = ahead.candidates(())  # the first quarter, generated and stored by the first worker
    assert behind.candidates(()) == opened  # read by the second from the cache
    assert asked == []
    seen = set(opened[:3])
    behind.candidates(seen)  # three results open three more chunks, generated here after the stored two
    assert asked == [64 // GENERATION_CHUNK]
    alone = GuidedSearch(PNAG.pretrained("nb201"), SearchOptions(seed=6, pool_size=256))
    monkeypatch.setenv("PNAG_CACHE_DIR", "off")
    assert behind._rounds[0] == alone._samples(0, 256)[: len(behind._rounds[0])]
    assert len(behind._rounds[0]) == 64 + 3 * GENERATION_CHUNK


def test_a_search_pickled_while_its_first_round_grows_goes_on_with_the_same_proposals(monkeypatch):
    monkeypatch.setenv("PNAG_CACHE_DIR", "off")
    table = get_benchmark("nb201")
    scores = table.validation("cifar100")
    search = GuidedSearch(PNAG.pretrained("nb201"), SearchOptions(seed=5, pool_size=128))
    evaluated: dict[str, float] = {}
    for _ in range(2):
        (text,) = search.propose(evaluated)
        evaluated[text] = float(scores[table.index(text)])
    assert search._growing()  # the first round is still growing
    copy = pickle.loads(pickle.dumps(search))
    assert [search.propose(evaluated)[0] for _ in range(2)] == [copy.propose(evaluated)[0] for _ in range(2)]
    assert _proposals(copy, 6, "cifar100") == _proposals(search, 6, "cifar100")


def _member_prediction_in_float64(member: predictor.TaskAwarePredictor, space, queries, support, ranks) -> np.ndarray:
    """One member's prediction written out directly from the architectures: its own layers on
    their embeddings (no cached features), the ridge system over the support solved in float64."""
    with torch.no_grad():
        query_embeddings, support_embeddings = (
            member.embed_architectures(*dags_to_tensors(space.node_types, dags)) for dags in (queries, support)
        )
        task = member.prior_task + member.task_network(
            torch.cat(
                [
                    member.pair_network(torch.cat([support_embeddings, (ranks.float() / (len(ranks) - 1))[:, None]], 1)).mean(0),
                    torch.log1p(torch.tensor([float(len(ranks))])),
                ]
            )
        )

        def prior(embeddings):
            return member.head(torch.cat([embeddings, task.expand(len(embeddings), -1)], 1))[:, 0].double().numpy()

        support_prediction = prior(support_embeddings)
        residual = np.sort(support_prediction)[ranks.numpy()] - support_prediction
        keys, query_keys = (F.normalize(embeddings, dim=1).double().numpy() for embeddings in (support_embeddings, query_embeddings))
        ridge = float(F.softplus(member.log_ridge))
        return prior(query_embeddings) + query_keys @ keys.T @ np.linalg.solve(keys @ keys.T + ridge * np.eye(len(keys)), residual)


def test_the_best_results_neighbours_join_the_candidates_once_enough_results_exist():
    model = PNAG.pretrained("nb201")
    table = get_benchmark("nb201")
    scores = table.validation("cifar10")
    cells = [model.space.to_string(dag) for dag in model.space.sample(np.random.default_rng(0), guided.LOCAL_MOVES_AFTER)]
    evaluated = {text: float(scores[table.index(text)]) for text in cells}
    best = max(evaluated, key=evaluated.__getitem__)
    neighbours = {model.space.to_string(dag) for dag in model.space.neighbours(model.space.from_string(best))} - set(evaluated)
    search = GuidedSearch(model, SearchOptions(seed=0))
    pool = set(search.candidates(evaluated))
    assert neighbours - pool  # some neighbour is not generated: only the local moves can propose it
    ranked = search.propose(evaluated, n=10_000)
    assert neighbours <= set(ranked) and len(ranked) == len(set(ranked)) == len(pool | neighbours)
    fewer = dict(list(evaluated.items())[:-1]) if best != cells[-1] else dict(list(evaluated.items())[1:])
    assert set(search.propose(fewer, n=10_000)) == set(search.candidates(fewer))


@pytest.mark.parametrize("support_size", [40, 200])  # both ways of solving: over the support, over the key width
def test_the_batched_members_predict_what_each_member_predicts_alone(support_size):
    model = PNAG.pretrained("nb201")
    table = get_benchmark("nb201")
    architectures, scores = table.architectures(), table.validation("cifar100")
    rows = np.random.default_rng(0).choice(len(architectures), support_size + 20, replace=False)
    support = [(architectures[i], float(scores[i])) for i in rows[:-20]]
    queries = [architectures[i] for i in rows[-20:]]
    surrogate = model.surrogate
    assert surrogate is not None
    mean, spread = surrogate.predict(queries, support)
    ranks = score_ranks([score for _, score in support])
    alone = np.stack(
        [_member_prediction_in_float64(member, model.space, queries, [dag for dag, _ in support], ranks) for member in surrogate.members]
    )
    assert mean == pytest.approx(alone.mean(0), abs=1e-4)
    assert spread == pytest.approx(alone.std(0), abs=1e-4)


def test_large_member_systems_are_solved_right_on_several_threads():
    # batched LU with more than one thread is wrong (or hangs) from 150 rows on: pytorch#142815
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        keys = torch.nn.functional.normalize(torch.randn(4, 200, 16, generator=torch.Generator().manual_seed(0)), dim=2)
        matrices, right = keys @ keys.mT + 0.5 * torch.eye(200), torch.ones(4, 200, 1)
        solved = predictor._solve(matrices, right)
    finally:
        torch.set_num_threads(threads)
    assert solved.double().numpy() == pytest.approx(np.linalg.solve(matrices.double().numpy(), right.double().numpy()), abs=1e-4)
