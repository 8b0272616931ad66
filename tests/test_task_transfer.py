"""Issue 3: the task-aware surrogate, task/cost conditions, and transfer to unseen tasks."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from scipy.stats import rankdata, spearmanr

from pnag_sampler.conditioning.budgets import measured_constraints
from pnag_sampler.conditioning.costs import cost_condition, cost_fields
from pnag_sampler.conditioning.tasks import generate_for_task
from pnag_sampler.data import get_benchmark
from pnag_sampler.errors import CheckpointError, InvalidScoreError
from pnag_sampler.generator import PNAG
from pnag_sampler.harness.problems import held_out_weights
from pnag_sampler.pretraining import TrainingSet, benchmark_condition_layout, task_condition_rows, train_on_benchmark
from pnag_sampler.search.guided import GuidedSearch
from pnag_sampler.search.options import SearchOptions
from pnag_sampler.surrogates.meta import MetaSurrogate

SHIPPED_WITHOUT_CIFAR100 = held_out_weights("nb201", "cifar100")
TINY = dict(autoencoder_epochs=1, transformer_epochs=1, surrogate_steps=30, progress=False)


def pnag(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pnag_sampler.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def nb201_without_cifar100(tmp_path_factory):
    """Every stage trained by the CLI contract's command, on a sliver of NB201, tiny budgets."""
    folder = tmp_path_factory.mktemp("nb201") / "w"
    result = pnag(
        "train",
        "--space",
        "nb201",
        "--tasks",
        "cifar10,imagenet16",
        "--out",
        str(folder),
        "--fraction",
        "0.04",
        "--stage1-epochs",
        "1",
        "--stage2-epochs",
        "1",
        "--surrogate-steps",
        "30",
        "--quiet",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["tasks"] == ["cifar10", "imagenet16"] and summary["surrogate_seconds"] > 0
    return folder


@pytest.fixture(scope="module")
def surrogate():
    """A surrogate meta-trained on 2000 NB201 cells, CIFAR-10 and CIFAR-100."""
    benchmark = get_benchmark("nb201")
    architectures = benchmark.architectures()[:2000]
    with torch.random.fork_rng():  # initial weights from a seed, whatever tests ran before
        torch.manual_seed(0)
        model = MetaSurrogate(benchmark.space, members=2)
    model.fit(architectures, {t: benchmark.validation(t)[:2000] for t in ("cifar10", "cifar100")}, steps=150, progress=False)
    return model


def test_surrogate_zero_shot_ranks_an_unseen_task(surrogate):
    benchmark = get_benchmark("nb201")
    architectures = benchmark.architectures()[2000:4000]
    mean, std = surrogate.predict(architectures)
    assert mean.shape == std.shape == (2000,) and (std >= 0).all()
    assert spearmanr(mean, benchmark.validation("imagenet16")[2000:4000]).statistic > 0.5


def test_support_moves_predictions_toward_the_observed_order(surrogate):
    benchmark = get_benchmark("nb201")
    architectures = benchmark.architectures()[5000:5030]
    scores = benchmark.validation("imagenet16")[5000:5030]
    prior, _ = surrogate.predict(architectures)
    adapted, _ = surrogate.predict(architectures, list(zip(architectures, scores)))
    assert not np.allclose(prior, adapted)
    assert spearmanr(adapted, scores).statistic > spearmanr(prior, scores).statistic


def test_nan_in_a_support_set_is_rejected_by_name(surrogate):
    space = get_benchmark("nb201").space
    dags = get_benchmark("nb201").architectures()[:3]
    with pytest.raises(InvalidScoreError, match=r"score of \|.*\| is nan"):
        surrogate.predict(dags, [(dags[0], 80.0), (dags[1], float("nan"))])
    with pytest.raises(InvalidScoreError, match="is inf") as error:
        surrogate.task_embedding([(dags[2], float("inf"))])
    assert space.to_string(dags[2]) in str(error.value)


def test_checkpoint_keeps_the_surrogate_and_the_task_condition(nb201_without_cifar100, tmp_path):
    model = PNAG.load(nb201_without_cifar100, space="nb201")
    assert model.surrogate is not None
    names = model.condition_layout.names
    assert names == ("performance", "task", "params", "latency_ms", "latency_ms:device")
    assert dict(model.condition_layout.fields)["latency_ms:device"] == 27
    dags = get_benchmark("nb201").architectures()[:50]
    before = model.surrogate.predict(dags, [(dags[0], 70.0), (dags[1], 60.0)])
    model.save(tmp_path / "copy")
    after = PNAG.load(tmp_path / "copy").surrogate.predict(dags, [(dags[0], 70.0), (dags[1], 60.0)])
    np.testing.assert_allclose(before[0], after[0], rtol=1e-6)
    config = json.loads((tmp_path / "copy" / "config.json").read_text())
    config["surrogate"]["predictor"]["hidden"] = 32
    (tmp_path / "copy" / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="surrogate.0"):
        PNAG.load(tmp_path / "copy")


def test_new_condition_fields_start_neutral():
    """Widening an older checkpoint's conditions changes nothing until stage 2 trains again."""
    benchmark = get_benchmark("nb201")
    old = PNAG(benchmark.space)  # random weights, the performance field only
    surrogate = MetaSurrogate(benchmark.space, members=1)
    wide = old.with_condition_layout(benchmark_condition_layout(benchmark, surrogate))
    a = old.generate(64, performance=0.7, cfg_scale=2.0, seed=3)
    b = wide.generate(64, performance=0.7, cfg_scale=2.0, seed=3)
    assert a.architectures == b.architectures and a.sub_architectures == b.sub_architectures
    with pytest.raises(ValueError, match="do not extend"):
        wide.with_condition_layout(old.condition_layout)


def test_init_must_not_bring_scores_from_outside_the_tasks(nb201_without_cifar100):
    init = PNAG.load(nb201_without_cifar100)
    with pytest.raises(CheckpointError, match="imagenet16"):
        train_on_benchmark(TrainingSet("nb201", ("cifar10", "cifar100"), 0.04), init=init, **TINY)
    model, report = train_on_benchmark(TrainingSet("nb201", ("cifar10", "imagenet16", "cifar100"), 0.04), init=init, **TINY)
    assert report.stage1_seconds == 0.0
    for key, value in init.autoencoder.state_dict().items():
        assert (model.autoencoder.state_dict()[key] == value).all()
    assert model.metadata["initialised_from"]["training_set"]["tasks"] == ["cifar10", "imagenet16"]
    assert "initialised_from" not in model.metadata["initialised_from"]  # the fixture was trained in one step
    again, _ = train_on_benchmark(TrainingSet("nb201", ("cifar10", "imagenet16", "cifar100"), 0.04), init=model, **TINY)
    assert again.metadata["initialised_from"]["initialised_from"] == model.metadata["initialised_from"]  # the whole lineage


def test_generate_for_an_unseen_task_is_ranked_by_the_surrogate():
    """The contract command, with the shipped weights held out from CIFAR-100."""
    weights = str(SHIPPED_WITHOUT_CIFAR100)
    result = pnag(
        "generate", "--space", "nb201", "--weights", weights, "--task", "cifar100", "--target", "top", "-n", "10", "--seed", "0", "--json"
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["task_knowledge"] == "unseen" and out["support_size"] == 0
    predicted = out["predicted_quantile"]
    assert len(out["architectures"]) >= 5
    assert len(predicted) == len(out["architectures"]) and predicted == sorted(predicted, reverse=True)
    model = PNAG.load(weights)
    assert "cifar100" not in model.metadata["training_set"]["tasks"]
    dags = [model.space.from_string(s) for s in out["architectures"]]
    np.testing.assert_allclose(model.surrogate.predict(dags)[0], predicted, rtol=1e-5)


def test_budgets_are_judged_by_the_latency_table():
    model = PNAG.load(SHIPPED_WITHOUT_CIFAR100)
    benchmark = get_benchmark("nb201")
    budget = float(np.percentile(benchmark.cost("latency_ms:pixel3", "cifar10"), 40))
    ranked = generate_for_task(model, 64, task="cifar10", budgets={"latency_ms:pixel3": budget}, performance=1.0, seed=0)
    assert ranked.task_kind == "seen" and ranked.support_size == 50
    costs = ranked.options["costs"]
    assert 0 < costs["latency_ms"] < 1
    devices = [name for name in benchmark.condition_costs() if name.startswith("latency_ms:")]
    assert devices[int(np.argmax(costs["latency_ms:device"]))] == "latency_ms:pixel3" and sum(costs["latency_ms:device"]) == 1
    assert len(ranked.architectures) >= 16
    report = measured_constraints(model, ranked.architectures, {"latency_ms:pixel3": budget}, "cifar10")
    table = benchmark.cost("latency_ms:pixel3", "cifar10")
    for dag, meets in zip(ranked.architectures, report["meets_budgets"]):
        assert meets["latency_ms:pixel3"] == (table[benchmark.index(dag)] <= budget)


@pytest.mark.parametrize(
    "args, message",
    [
        (("--task", "mnist"), "unknown task 'mnist'"),
        (("--max-latency-ms", "5", "--device", "toaster"), "unknown device 'toaster'"),
        (("--device", "pixel3"), "give both"),
        (("--max-latency-ms", "0.001", "--device", "pixel3"), "no architecture meets"),
        (("--max-latency-ms", "5"), "has no 'latency' budget"),
    ],
)
def test_bad_task_device_and_budget_get_one_clear_error(nb201_without_cifar100, args, message):
    result = pnag("generate", "--space", "nb201", "--weights", str(nb201_without_cifar100), "-n", "5", *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_support_file_entries_are_checked(nb201_without_cifar100, tmp_path):
    good = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    support = tmp_path / "support.json"
    support.write_text(f'{{"{good}": 71.2, "{good.replace("skip_connect~0", "none~0")}": NaN}}')
    result = pnag("generate", "--space", "nb201", "--weights", str(nb201_without_cifar100), "--support", str(support), "-n", "5")
    assert result.returncode == 2 and "is nan" in result.stderr and "none~0" in result.stderr
    support.write_text(f'{{"{good}": 71.2, "|bogus~0|": 60.0}}')
    result = pnag("generate", "--space", "nb201", "--weights", str(nb201_without_cifar100), "--support", str(support), "-n", "5")
    assert result.returncode == 2 and "bogus" in result.stderr and "Traceback" not in result.stderr
    support.write_text(f'{{"{good}": 71.2}}')
    result = pnag("generate", "--space", "nb201", "--weights", str(nb201_without_cifar100), "--support", str(support), "-n", "5", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["task_knowledge"] == "support"


def test_nasbench_graph_contract_trains_and_generates_for_an_unseen_dataset(tmp_path):
    folder = tmp_path / "w"
    result = pnag(
        "train",
        "--space",
        "nasbench_graph",
        "--tasks",
        "cora,citeseer",
        "--out",
        str(folder),
        "--fraction",
        "0.03",
        "--stage1-epochs",
        "1",
        "--stage2-epochs",
        "1",
        "--surrogate-steps",
        "20",
        "--quiet",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    result = pnag(
        "generate",
        "--space",
        "nasbench_graph",
        "--weights",
        str(folder),
        "--task",
        "pubmed",
        "--target",
        "top",
        "-n",
        "10",
        "--seed",
        "0",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["task_knowledge"] == "unseen"
    assert out["predicted_quantile"] == sorted(out["predicted_quantile"], reverse=True)


def test_guided_search_starts_from_the_surrogates_zero_shot_choice():
    model = PNAG.load(SHIPPED_WITHOUT_CIFAR100)
    search = GuidedSearch(model, SearchOptions(seed=0, pool_size=64))
    first = search.propose({})[0]
    candidates = search.candidates(())
    predictions, _ = model.surrogate.predict([model.space.from_string(c) for c in candidates])
    assert first == candidates[int(np.argmax(predictions))]
    second = search.propose({first: 70.0}, n=3)
    assert first not in second and len(set(second)) == len(second)
    with pytest.raises(InvalidScoreError, match="nan"):
        search.propose({first: float("nan")})


def test_a_device_latency_is_a_shared_quantile_and_a_one_hot_device():
    costs = ("params", "latency_ms:a", "latency_ms:b")
    assert cost_fields(costs) == (("params", 1), ("latency_ms", 1), ("latency_ms:device", 2))
    assert cost_condition("latency_ms:b", 0.3, costs) == {"latency_ms": 0.3, "latency_ms:device": [0.0, 1.0]}
    assert cost_condition("params", 0.2, costs) == {"params": 0.2}


def test_stage2_rows_pair_each_architecture_with_two_tasks_and_one_device():
    benchmark = get_benchmark("nb201")
    rows = np.arange(0, 15625, 50)  # 313 cells
    tasks = ("cifar10", "cifar100", "imagenet16")
    architectures, performance, embeddings, costs = task_condition_rows(
        benchmark, rows, tasks, MetaSurrogate(benchmark.space, members=1), 0
    )
    assert len(architectures) == len(performance) == len(embeddings) == 2 * len(rows)
    assert embeddings.shape[1] == 16 and np.isfinite(embeddings).all()
    devices = costs["latency_ms:device"]
    assert devices.shape == (2 * len(rows), 27) and (devices.sum(axis=1) == 1).all()
    names = [name for name in benchmark.condition_costs() if name.startswith("latency_ms:")]
    index = {dag: i for i, dag in enumerate(benchmark.architectures()[r] for r in rows)}
    for k in range(0, len(architectures), 37):
        latency = benchmark.cost(names[int(np.argmax(devices[k]))], "cifar10")[rows]
        quantile = (rankdata(latency)[index[architectures[k]]] - 1) / (len(rows) - 1)  # ties averaged
        assert costs["latency_ms"][k] == pytest.approx(quantile)
