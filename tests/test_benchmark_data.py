"""Tabular benchmarks: row alignment, published optima, costs and name errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from nas_bench_graph import light_read

from pnag_sampler.data import BENCHMARK_NAMES, Benchmark, benchmark_for_task, get_benchmark
from pnag_sampler.data import nb201 as nb201_data
from pnag_sampler.errors import InvalidArchitectureError, UnknownNameError
from pnag_sampler.spaces import get_space
from pnag_sampler.spaces.nasbench_graph import benchmark_key

GRAPH_DATASETS = ("cora", "citeseer", "pubmed", "cs", "physics", "photo", "computers", "arxiv")


@pytest.fixture(scope="module")
def nb201() -> Benchmark:
    return get_benchmark("nb201")


@pytest.fixture(scope="module")
def graph() -> Benchmark:
    return get_benchmark("nasbench_graph")


@pytest.fixture(scope="module")
def proteins() -> Benchmark:
    return get_benchmark("nasbench_graph_proteins")


def test_registry() -> None:
    assert BENCHMARK_NAMES == ("nb201", "nasbench_graph", "nasbench_graph_proteins", "hpolib")
    for name in BENCHMARK_NAMES:
        assert get_benchmark(name) is get_benchmark(name)
        assert get_benchmark(name).space is get_space(name)
    with pytest.raises(UnknownNameError, match="known benchmarks: nb201, nasbench_graph"):
        get_benchmark("nb101")


# -- NAS-Bench-201 --------------------------------------------------------------------------------
def test_nb201_rows_are_the_official_cells(nb201: Benchmark) -> None:
    strings = nb201.strings()
    assert len(nb201) == len(strings) == 15_625 and len(set(strings)) == 15_625
    space = nb201.space
    for _row, (text, dag) in enumerate(zip(strings, nb201.architectures())):
        assert space.to_string(dag) == text
        assert space.from_string(text) == dag
    assert nb201.index(strings[6111]) == 6111
    assert nb201.index(nb201.architectures()[42]) == 42


def test_nb201_published_optima(nb201: Benchmark) -> None:
    assert nb201.tasks == ("cifar10", "cifar100", "imagenet16")
    cifar10 = nb201.test("cifar10")
    assert cifar10.argmax() == 6111 and cifar10.max() == pytest.approx(94.3733)
    assert nb201.validation("cifar10").argmax() == 6111
    assert nb201.validation("cifar10").max() == pytest.approx(91.6067)
    assert nb201.test("cifar100").argmax() == 9930
    assert nb201.test("cifar100").max() == pytest.approx(73.5133)
    assert nb201.test("imagenet16").argmax() == 857
    best_valid = nb201.validation("imagenet16").argmax()
    assert best_valid == 10676 and nb201.test("imagenet16")[best_valid] == pytest.approx(46.2)


def test_nb201_arrays_are_aligned_float64_and_read_only(nb201: Benchmark) -> None:
    for task in nb201.tasks:
        for values in (nb201.validation(task), nb201.test(task), nb201.cost("params", task)):
            assert values.dtype == np.float64 and values.shape == (15_625,)
            assert np.isfinite(values).all() and not values.flags.writeable
    with pytest.raises(ValueError):
        nb201.test("cifar10")[0] = 100.0


def test_nb201_costs(nb201: Benchmark) -> None:
    names = nb201.cost_names("cifar100")
    assert names[:2] == ("params", "train_time")
    devices = [name for name in names if name.startswith("latency_ms:")]
    assert len(devices) == 27 and "latency_ms:pixel3" in devices and "latency_ms:fpga" in devices
    assert nb201.cost("train_time", "cifar10").max() == pytest.approx(3460.831539)
    assert nb201.cost("params", "cifar100")[6111] == pytest.approx(1.079316)
    latency = nb201.cost("latency_ms:titanx_1", "imagenet16")
    assert latency.shape == (15_625,) and (latency > 0).all()
    # one latency per device, whatever the task
    raspi = [nb201.cost("latency_ms:raspi4", task) for task in nb201.tasks]
    assert all(np.array_equal(raspi[0], other) for other in raspi[1:])


def test_nb201_latency_table_rows_match_results() -> None:
    tables = nb201_data._TABLES
    results = pd.read_csv(tables / "nb201_200ep.csv.xz", usecols=["index"])
    assert (nb201_data._latency_table()["index"] == results["index"].to_numpy()).all()
    assert (results["index"] == np.arange(15_625)).all()
    assert len(nb201_data.latency_devices()) == 27


def test_nb201_latency_is_parsed_only_when_asked(nb201: Benchmark) -> None:
    nb201_data._latency_table.cache_clear()
    nb201_data._latency_column.cache_clear()
    nb201.cost_names("cifar10")
    nb201.cost("params", "cifar10")
    assert nb201_data._latency_table.cache_info().currsize == 0
    nb201.cost("latency_ms:pixel2", "cifar10")
    assert nb201_data._latency_table.cache_info().currsize == 1


def test_nb201_modules_match_official_parameter_counts(nb201: Benchmark) -> None:
    space = nb201.space
    rows = np.random.default_rng(0).choice(15_625, size=3, replace=False)
    for row in (0, 6111, *rows):
        dag = nb201.architectures()[row]
        for task, classes in (("cifar10", 10), ("cifar100", 100)):
            model = space.build_module(dag, num_classes=classes)
            count = sum(p.numel() for p in model.parameters())
            assert count == round(nb201.cost("params", task)[row] * 1e6)


# -- NAS-Bench-Graph ------------------------------------------------------------------------------
def test_graph_rows_are_the_benchmark_keys(graph: Benchmark, proteins: Benchmark) -> None:
    assert graph.tasks == GRAPH_DATASETS and proteins.tasks == ("proteins",)
    for benchmark in (graph, proteins):
        space = benchmark.space
        keys = sorted(light_read(benchmark.tasks[0]))
        strings = benchmark.strings()
        assert len(set(strings)) == len(keys) == len(benchmark)
        assert set(strings) == {space.to_string(d) for d in space.unique_architectures()}
        for key, text, dag in zip(keys, strings, benchmark.architectures()):
            assert space.to_string(dag) == text and space.from_string(text) == dag
            link = tuple(dag.predecessors(node)[0] for node in range(1, 5))
            assert benchmark_key(link, dag.ops[1:-1]) == key
    assert len(graph) == 26_206 and len(proteins) == 2_021


def test_graph_every_dataset_has_the_same_rows() -> None:
    keys = set(light_read("cora"))
    for dataset in GRAPH_DATASETS:
        table = light_read(dataset)
        assert len(table) == 26_206 and set(table) == keys


def test_graph_values(graph: Benchmark, proteins: Benchmark) -> None:
    for benchmark in (graph, proteins):
        for task in benchmark.tasks:
            assert benchmark.cost_names(task) == ("latency", "params")
            columns = [benchmark.validation(task), benchmark.test(task)]
            columns += [benchmark.cost(name, task) for name in ("latency", "params")]
            for values in columns:
                assert values.dtype == np.float64 and values.shape == (len(benchmark),)
                assert np.isfinite(values).all() and not values.flags.writeable
            assert 0 < benchmark.test(task).max() <= 1
    assert graph.test("cora").max() == pytest.approx(0.8313, abs=1e-4)
    assert proteins.test("proteins").max() == pytest.approx(0.7926, abs=1e-4)


def test_graph_values_follow_the_package_lookup(graph: Benchmark) -> None:
    table = light_read("pubmed")
    space = graph.space
    for text in ("link=0,1,2,3|ops=gcn,gat,sage,fc", "link=0,0,0,0|ops=sage,gcn,gat,gin"):
        dag = space.from_string(text)
        link = tuple(dag.predecessors(node)[0] for node in range(1, 5))
        entry = table[benchmark_key(link, dag.ops[1:-1])]
        row = graph.index(text)
        assert graph.test("pubmed")[row] == entry["perf"]
        assert graph.validation("pubmed")[row] == entry["valid_perf"]
        assert graph.cost("params", "pubmed")[row] == entry["para"]
        assert graph.cost("latency", "pubmed")[row] == entry["latency"]


def test_graph_index_accepts_any_equivalent_form(graph: Benchmark) -> None:
    row = graph.index("link=0,0,0,0|ops=gat,gcn,gin,sage")
    assert graph.index("link=0,0,0,0|ops=sage,gin,gcn,gat") == row
    assert graph.index(graph.space.from_string("link=0,0,0,0|ops=gcn,sage,gat,gin")) == row
    assert graph.strings()[row] == "link=0,0,0,0|ops=gat,gcn,gin,sage"


def test_benchmark_for_task_routes_proteins(graph: Benchmark, proteins: Benchmark) -> None:
    assert benchmark_for_task("nasbench_graph", "cora") is graph
    assert benchmark_for_task("nasbench_graph", "proteins") is proteins
    assert benchmark_for_task("nasbench_graph_proteins", "proteins") is proteins
    assert benchmark_for_task("nb201", "cifar100") is get_benchmark("nb201")
    with pytest.raises(UnknownNameError, match="known tasks: proteins$"):
        benchmark_for_task("nasbench_graph_proteins", "cora")
    with pytest.raises(UnknownNameError, match="known tasks: cora, .*, arxiv, proteins"):
        benchmark_for_task("nasbench_graph", "mnist")
    with pytest.raises(UnknownNameError, match="spaces with benchmarks: nb201"):
        benchmark_for_task("darts", "cifar10")


# -- errors ---------------------------------------------------------------------------------------
def test_unknown_names_list_the_valid_ones(nb201: Benchmark, graph: Benchmark) -> None:
    with pytest.raises(UnknownNameError, match="known tasks: cifar10, cifar100, imagenet16"):
        nb201.validation("cifar10valid")
    with pytest.raises(UnknownNameError, match="task 'proteins' for benchmark nasbench_graph;"):
        graph.test("proteins")
    with pytest.raises(UnknownNameError, match="costs: params, train_time, latency_ms:1080ti_1"):
        nb201.cost("latency_ms:iphone", "cifar10")
    with pytest.raises(UnknownNameError, match="known costs: latency, params"):
        graph.cost("flops", "cora")
    with pytest.raises(UnknownNameError, match="known tasks"):
        graph.cost_names("imagenet16")


def test_index_rejects_malformed_architectures(nb201: Benchmark, graph: Benchmark, proteins: Benchmark) -> None:
    with pytest.raises(InvalidArchitectureError, match="3 '\\+'-separated groups"):
        nb201.index("|none~0|")
    with pytest.raises(InvalidArchitectureError, match="must be a str"):
        nb201.index(6111)  # type: ignore[arg-type]
    with pytest.raises(InvalidArchitectureError, match="link '0,0,0,2' is not one of"):
        graph.index("link=0,0,0,2|ops=gcn,gcn,gcn,gcn")
    with pytest.raises(InvalidArchitectureError, match="'gat', not one of"):
        proteins.index("link=0,0,0,0|ops=gat,gcn,gcn,gcn")
    with pytest.raises(InvalidArchitectureError, match="have 6 nodes, got 8"):
        graph.index(nb201.architectures()[0])
