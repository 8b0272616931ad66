"""NNI 3.0: PNAGStrategy, PNAGEvolution and PNAGTuner through NNI's own entry points.

Experiments run as subprocesses (the examples) with HOME in a temporary folder, because NNI
writes ~/nni-experiments; NNI's web server is bound to 127.0.0.1 by loopback_only().
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pnag_sampler.adapters.nni import PNAGEvolution, PNAGStrategy, PNAGTuner, loopback_only, parameters_of_search_space

from pnag_sampler.errors import UnsupportedParameterError

EXAMPLES = Path(__file__).parents[1] / "examples"


def run(tmp_path, *args: str) -> dict:
    env = {**os.environ, "HOME": str(tmp_path), "DIGITS_EPOCHS": "1"}
    result = subprocess.run([sys.executable, *args, "--json"], capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    # NNI logs to stdout too (also after the script's own output, when it stops at exit)
    return json.loads([line for line in result.stdout.splitlines() if line.startswith('{"')][-1])


def distinct(samples) -> int:
    return len({json.dumps(s, sort_keys=True) for s in samples})


def test_strategy_runs_sequentially_never_repeats_and_resumes(tmp_path):
    first = run(tmp_path, str(EXAMPLES / "nni_nas.py"), "--trials", "5", "--port", "8761")
    samples = [m["sample"] for m in first["models"]]
    assert len(samples) == 5 and distinct(samples) == 5
    resumed = run(tmp_path, str(EXAMPLES / "nni_nas.py"), "--trials", "8", "--resume", first["experiment_id"], "--port", "8762")
    new = [m["sample"] for m in resumed["models"] if m["sample"] not in samples]
    assert len(new) == 3  # the budget was raised from 5 to 8 ...
    assert distinct(samples + new) == 8  # ... and nothing was submitted twice


def test_pnag_initialised_evolution(tmp_path):
    out = run(tmp_path, str(EXAMPLES / "nni_nas.py"), "--strategy", "pnag-evolution", "--trials", "10", "--port", "8763")
    assert len(out["models"]) == 10 and all(0.0 <= m["metric"] <= 1.0 for m in out["models"])


def test_strategy_with_the_training_service_engine(tmp_path):
    out = run(tmp_path, str(EXAMPLES / "nni_nas.py"), "--engine", "ts", "--trials", "3", "--port", "8764")
    assert len(out["models"]) == 3 and distinct([m["sample"] for m in out["models"]]) == 3


def test_tuner_in_an_hpo_experiment(tmp_path):
    out = run(tmp_path, str(EXAMPLES / "nni_hpo" / "run.py"), "--trials", "4", "--port", "8765")
    assert len(out["trials"]) == 4
    for trial in out["trials"]:
        p = trial["parameter"]
        assert 1e-4 <= p["lr"] <= 0.1 and 8 <= p["hidden"] <= 128 and p["activation"] in ("relu", "tanh", "gelu")


def test_tuner_protocol_failures_and_exhaustion():
    tuner = PNAGTuner(optimize_mode="minimize", seed=0, n_startup=2)
    tuner.update_search_space({"a": {"_type": "choice", "_value": [1, 2, 3]}, "b": {"_type": "randint", "_value": [0, 2]}})
    seen = []
    for parameter_id in range(6):
        params = tuner.generate_parameters(parameter_id)
        seen.append((params["a"], params["b"]))
        if parameter_id == 1:
            tuner.receive_trial_result(parameter_id, params, float("nan"))  # failed, never again
        else:
            tuner.receive_trial_result(parameter_id, params, {"default": params["a"] + params["b"]})
        tuner.trial_end(parameter_id, True)
    assert len(set(seen)) == 6  # 3 x 2 configurations, each once
    import nni

    with pytest.raises(nni.NoMoreTrialError):
        tuner.generate_parameters(6)


@pytest.mark.parametrize(
    "spec, name",
    [
        ({"x": {"_type": "normal", "_value": [0, 1]}}, "x"),
        ({"y": {"_type": "choice", "_value": [{"_name": "a"}, {"_name": "b"}]}}, "y"),
    ],
)
def test_unsupported_search_space_types_name_the_parameter(spec, name):
    with pytest.raises(UnsupportedParameterError, match=f"'{name}'"):
        parameters_of_search_space(spec)


def test_loopback_only_binds_nni_node_server_to_127_0_0_1():
    node = Path(sys.executable).parents[1] / "lib" / "python3.11" / "site-packages" / "nni_node" / "node"
    script = "const s=require('net').createServer().listen(0,function(){console.log(this.address().address);s.close()})"
    with loopback_only():
        bound = subprocess.run([str(node), "-e", script], capture_output=True, text=True, timeout=60)
    assert bound.stdout.strip() == "127.0.0.1", bound.stderr
    assert "NODE_OPTIONS" not in os.environ or "nni_loopback" not in os.environ["NODE_OPTIONS"]


def _serverless(strategy, space: str, budget: int) -> list[str]:
    """Run a strategy with NNI's own sequential engine over a built-in space; NB201 cells are
    scored by the CIFAR-10 table's validation accuracy."""
    from nni.nas.evaluator import FunctionalEvaluator
    from nni.nas.execution import SequentialExecutionEngine
    from nni.nas.space import RawFormatModelSpace
    from pnag_sampler.adapters.nni import ArchitectureModelSpace, nni

    from pnag_sampler.data import get_benchmark

    table, evaluated = get_benchmark(space), []

    def evaluate(model):
        evaluated.append(model.architecture)
        nni.report_final_result(float(table.validation(table.tasks[0])[table.index(model.architecture)]))

    model_space = RawFormatModelSpace.from_model(ArchitectureModelSpace(space, build_network=False), FunctionalEvaluator(evaluate))
    strategy(model_space, SequentialExecutionEngine(max_model_count=budget))
    return evaluated


@pytest.mark.parametrize("make", [lambda: PNAGStrategy(seed=0), lambda: PNAGEvolution(seed=0, population_size=6, sample_size=3)])
def test_builtin_model_space_is_searched_with_the_pretrained_generator(make):
    from pnag_sampler.search.configurations import ArchitectureConfigurationSearch
    from pnag_sampler.search.options import SearchOptions
    from pnag_sampler.spaces import get_space

    evaluated = _serverless(make(), "nb201", 8)
    assert len(evaluated) == 8 and len(set(evaluated)) == 8  # evolution: dedup on, and PNAG's population is distinct
    search = ArchitectureConfigurationSearch(get_space("nb201"), SearchOptions(seed=0))
    assert evaluated[0] == search.key(search.propose([]))  # zero-shot: the generator's first choice


def test_strategy_and_tuner_work_with_no_arguments():
    evaluated = _serverless(PNAGStrategy(), "nasbench_graph", 4)
    assert len(set(evaluated)) == 4
    tuner = PNAGTuner()
    tuner.update_search_space({"x": {"_type": "choice", "_value": [1, 2, 3]}})
    assert tuner.generate_parameters(0)["x"] in (1, 2, 3)


def test_frozen_architecture_model_runs_its_real_network():
    from pnag_sampler.adapters.nni import ArchitectureModelSpace

    from pnag_sampler.spaces import get_space

    space = get_space("nb201")
    sample = {label: choices.values[-1] for label, choices in ArchitectureModelSpace("nb201").simplify().items()}
    model = ArchitectureModelSpace("nb201").freeze(sample)
    assert model.architecture == space.to_string(space.from_params({k.split("/", 1)[1]: v for k, v in sample.items()}))
    assert model(space.example_input()).shape[0] == 2
