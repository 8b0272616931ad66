"""The guided search's candidate pools and surrogate over a long study."""

from collections import Counter

import numpy as np
import pytest
import torch

from pnag_sampler.data import get_benchmark
from pnag_sampler.generator import GENERATION_CHUNK, PNAG
from pnag_sampler.model import predictor
from pnag_sampler.search.guided import GuidedSearch
from pnag_sampler.search.options import SearchOptions
from pnag_sampler.surrogates.meta import score_ranks


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


def _member_prediction_in_float64(member: predictor.TaskAwarePredictor, queries, support, ranks) -> np.ndarray:
    """One member's prediction written out directly: its own layers, the ridge system over the
    support solved in float64."""
    hidden = member.config.hidden
    with torch.no_grad():
        task = member.prior_task + member.task_network(
            torch.cat(
                [
                    member.pair_network(torch.cat([support[:, :hidden], (ranks.float() / (len(ranks) - 1))[:, None]], 1)).mean(0),
                    torch.log1p(torch.tensor([float(len(ranks))])),
                ]
            )
        )
        head = member.head[0]

        def prior(rows):
            return (
                member.head[2](torch.relu(rows[:, hidden : 2 * hidden] + head.weight[:, hidden:] @ task + head.bias))[:, 0].double().numpy()
            )

        support_prediction = prior(support)
        residual = np.sort(support_prediction)[ranks.numpy()] - support_prediction
        keys, query_keys = support[:, 2 * hidden :].double().numpy(), queries[:, 2 * hidden :].double().numpy()
        ridge = float(torch.nn.functional.softplus(member.log_ridge))
        return prior(queries) + query_keys @ keys.T @ np.linalg.solve(keys @ keys.T + ridge * np.eye(len(keys)), residual)


@pytest.mark.parametrize("support_size", [40, predictor.DIRECT_SOLVE_MAX_SUPPORT + 40])  # both ways of solving
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
    features = surrogate._features  # filled by the prediction above
    alone = np.stack(
        [
            _member_prediction_in_float64(
                member,
                features[index, torch.from_numpy(surrogate.rows(queries))],
                features[index, torch.from_numpy(surrogate.rows([dag for dag, _ in support]))],
                ranks,
            )
            for index, member in enumerate(surrogate.members)
        ]
    )
    assert mean == pytest.approx(alone.mean(0), abs=1e-4)
    assert spread == pytest.approx(alone.std(0), abs=1e-4)
