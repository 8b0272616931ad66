"""PNAG as an NNI 3.0 NAS strategy: a small MLP space on scikit-learn's digits.

    python examples/nni_nas.py [--strategy pnag|pnag-evolution|evolution|random] [--trials 12]
                               [--engine sequential|ts] [--resume EXPERIMENT_ID] [--json]

The model space uses NNI's own mutables (LayerChoice, nni.choice, MutableLinear); every model is
trained for a few epochs and reports its validation accuracy with nni.report_final_result.
``--engine ts`` runs each model as a trial process through NNI's training service (its web
server is bound to 127.0.0.1); ``--resume`` continues a stopped experiment, raising its budget.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("NNI_FRAMEWORK", "none")

import nni  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from nni.nas.evaluator import FunctionalEvaluator  # noqa: E402
from nni.nas.experiment import NasExperiment, NasExperimentConfig  # noqa: E402
from nni.nas.nn.pytorch import LayerChoice, ModelSpace, MutableLinear  # noqa: E402
from nni.nas.strategy import Random, RegularizedEvolution  # noqa: E402
from pnag_sampler.adapters.nni import PNAGEvolution, PNAGStrategy, loopback_only  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402


class DigitsMLP(ModelSpace):
    """Two hidden layers; width and activation of each are choices."""

    def __init__(self) -> None:
        super().__init__()
        width1 = nni.choice("width1", [16, 32, 64, 128])
        width2 = nni.choice("width2", [16, 32, 64, 128])
        self.hidden1 = MutableLinear(64, width1)
        self.act1 = LayerChoice([torch.nn.ReLU(), torch.nn.Tanh(), torch.nn.GELU()], label="act1")
        self.hidden2 = MutableLinear(width1, width2)
        self.act2 = LayerChoice([torch.nn.ReLU(), torch.nn.Tanh(), torch.nn.Identity()], label="act2")
        self.out = MutableLinear(width2, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.act2(self.hidden2(self.act1(self.hidden1(x)))))


def evaluate_model(model: torch.nn.Module) -> None:
    """Train for a few epochs on a fixed split; report validation accuracy (NNI maximises it)."""
    torch.manual_seed(0)
    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x / 16.0, dtype=torch.float32)
    y = torch.tensor(y)
    order = np.random.default_rng(0).permutation(len(y))
    train, val = order[:1200], order[1200:]
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(int(os.environ.get("DIGITS_EPOCHS", "3"))):
        for batch in np.array_split(train, len(train) // 64):
            loss = torch.nn.functional.cross_entropy(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        nni.report_final_result(float((model(x[val]).argmax(1) == y[val]).float().mean()))


STRATEGIES = {
    "pnag": lambda seed: PNAGStrategy(seed=seed),
    "pnag-evolution": lambda seed: PNAGEvolution(seed=seed, population_size=8, sample_size=4),
    "evolution": lambda seed: RegularizedEvolution(seed=seed, population_size=8, sample_size=4),
    "random": lambda seed: Random(seed=seed, dedup=True),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategy", default="pnag", choices=list(STRATEGIES))
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--engine", default="sequential", choices=["sequential", "ts"])
    parser.add_argument("--port", type=int, default=8745, help="NNI web server port (training-service engine)")
    parser.add_argument("--resume", help="id of a stopped experiment to continue")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    config = NasExperimentConfig(args.engine, "simplified", "local")
    config.max_trial_number = args.trials
    config.trial_concurrency = 1
    strategy = STRATEGIES[args.strategy](args.seed)
    experiment = NasExperiment(DigitsMLP(), FunctionalEvaluator(evaluate_model), strategy, config, id=args.resume)
    with loopback_only():
        if args.resume:
            experiment.resume(port=args.port)
        else:
            experiment.run(port=args.port)
    models = list(strategy.list_models(sort=True))
    result = {
        "experiment_id": experiment.id,
        "strategy": args.strategy,
        "models": [{"sample": m.sample, "metric": m.metric} for m in models],
        "best": {"sample": models[0].sample, "metric": models[0].metric} if models else None,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{len(models)} models; best {result['best']}")


if __name__ == "__main__":
    main()
