"""An NNI HPO experiment tuned by PNAGTuner (through CustomAlgorithmConfig), on the local machine.

    python examples/nni_hpo/run.py [--trials 12] [--port 8746] [--seed 0] [--json]

The search space is search_space.json (loguniform, randint, uniform, quniform, choice); each
trial (trial.py) trains a torch MLP on scikit-learn's digits and reports validation accuracy.
NNI's web server is bound to 127.0.0.1 while the experiment runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from nni.experiment import CustomAlgorithmConfig, Experiment  # noqa: E402  (after the line above)
from pnag_sampler.adapters.nni import loopback_only  # first: it sets NNI_FRAMEWORK=none for nni's imports

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--port", type=int, default=8746)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    experiment = Experiment("local")
    experiment.config.experiment_name = "pnag-tuner-digits"
    experiment.config.trial_command = f"{sys.executable} trial.py"
    experiment.config.trial_code_directory = str(HERE)
    experiment.config.search_space = json.loads((HERE / "search_space.json").read_text())
    experiment.config.tuner = CustomAlgorithmConfig(
        class_name="pnag_sampler.adapters.nni.PNAGTuner",
        class_args={"optimize_mode": "maximize", "seed": args.seed},
    )
    experiment.config.max_trial_number = args.trials
    experiment.config.trial_concurrency = 1
    with loopback_only():
        experiment.run(args.port)
    trials = [{"parameter": t.parameter, "value": t.value} for t in experiment.export_data()]
    experiment.stop()
    best = max(trials, key=lambda t: t["value"]) if trials else None
    if args.json:
        print(json.dumps({"trials": trials, "best": best}))
    else:
        print(f"{len(trials)} trials; best validation accuracy {best['value']:.4f} with {best['parameter']}")


if __name__ == "__main__":
    main()
