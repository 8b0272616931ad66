"""An Optuna study over NAS-Bench-201 with PNAGSampler, on the vendored table.

    python examples/optuna_nb201.py [--trials 20] [--seed 0] [--storage sqlite:///nb201.db]

The objective looks up the validation accuracy of the suggested cell (what a search may see);
the test accuracy is stored as a user attribute for reporting.
"""

import argparse

import optuna

from pnag_sampler import PNAGSampler, suggest_architecture
from pnag_sampler.data import get_benchmark

parser = argparse.ArgumentParser()
parser.add_argument("--trials", type=int, default=20)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--task", default="cifar100")
parser.add_argument("--storage", default=None, help="an Optuna storage URL (default: in memory)")
args = parser.parse_args()

table = get_benchmark("nb201")


def objective(trial: optuna.Trial) -> float:
    cell = suggest_architecture(trial, "nb201")
    row = table.index(cell)
    trial.set_user_attr("test_accuracy", float(table.test(args.task)[row]))
    return float(table.validation(args.task)[row])


optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(direction="maximize", sampler=PNAGSampler(seed=args.seed), storage=args.storage)
study.optimize(objective, n_trials=args.trials)
best = study.best_trial
print(f"best validation {best.value:.2f} (test {best.user_attrs['test_accuracy']:.2f}) after {args.trials} trials:")
print(best.system_attrs["pnag:architecture:nb201"])
