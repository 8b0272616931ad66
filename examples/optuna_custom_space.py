"""PNAGSampler on a space of your own: a small torch MLP trained on scikit-learn's digits.

    pip install -e ".[examples]"        # scikit-learn, for its bundled digits data
    python examples/optuna_custom_space.py [--trials 30] [--seeds 2] [--epochs 20] [--json]

The search space is written as any Optuna user writes it (a log-scale float, a stepped int,
plain ints and floats, categoricals); PNAGSampler learns its structure from samples of it and
its conditional generator from the completed trials. TPESampler runs beside it on the same
data split and the same number of trials; both maximise validation accuracy, and the test
accuracy of each study's best trial is reported.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import optuna
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from pnag_sampler import PNAGSampler


def load_data(seed: int):
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    x_train, x_rest, y_train, y_rest = train_test_split(x, y, test_size=0.4, random_state=seed, stratify=y)
    x_val, x_test, y_val, y_test = train_test_split(x_rest, y_rest, test_size=0.5, random_state=seed, stratify=y_rest)
    as_tensors = lambda a, b: (torch.from_numpy(a), torch.from_numpy(b).long())  # noqa: E731
    return as_tensors(x_train, y_train), as_tensors(x_val, y_val), as_tensors(x_test, y_test)


def build_mlp(trial: optuna.Trial) -> torch.nn.Module:
    activation = {"relu": torch.nn.ReLU, "gelu": torch.nn.GELU, "tanh": torch.nn.Tanh}[
        trial.suggest_categorical("activation", ["relu", "gelu", "tanh"])
    ]
    width = trial.suggest_int("width", 16, 256, step=16)
    depth = trial.suggest_int("depth", 1, 3)
    dropout = trial.suggest_float("dropout", 0.0, 0.5)
    layers: list[torch.nn.Module] = []
    features = 64
    for _ in range(depth):
        layers += [torch.nn.Linear(features, width), activation(), torch.nn.Dropout(dropout)]
        features = width
    return torch.nn.Sequential(*layers, torch.nn.Linear(features, 10))


def accuracy(model: torch.nn.Module, data) -> float:
    model.eval()
    with torch.no_grad():
        return float((model(data[0]).argmax(1) == data[1]).float().mean())


def make_objective(data, epochs: int):
    train, val, test = data

    def objective(trial: optuna.Trial) -> float:
        torch.manual_seed(trial.number)
        model = build_mlp(trial)
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        optimizer_name = trial.suggest_categorical("optimizer", ["adam", "sgd"])
        optimizer = (torch.optim.Adam if optimizer_name == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
        generator = torch.Generator().manual_seed(trial.number)
        for _ in range(epochs):
            model.train()
            for batch in torch.randperm(len(train[0]), generator=generator).split(64):
                loss = torch.nn.functional.cross_entropy(model(train[0][batch]), train[1][batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        trial.set_user_attr("test_accuracy", accuracy(model, test))
        return accuracy(model, val)

    return objective


def main() -> None:
    parser = argparse.ArgumentParser(description="PNAGSampler vs TPESampler on a torch MLP over digits")
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    torch.set_num_threads(1)

    samplers = {
        "pnag": lambda seed: PNAGSampler(seed=seed),
        "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
    }
    results: dict[str, list[dict]] = {name: [] for name in samplers}
    for seed in range(args.seeds):
        objective = make_objective(load_data(seed), args.epochs)
        for name, make in samplers.items():
            study = optuna.create_study(direction="maximize", sampler=make(seed))
            study.optimize(objective, n_trials=args.trials)
            best = study.best_trial
            results[name].append(
                {"seed": seed, "best_validation": best.value, "test_of_best": best.user_attrs["test_accuracy"], "params": best.params}
            )
    summary = {
        name: {
            "mean_best_validation": float(np.mean([r["best_validation"] for r in runs])),
            "mean_test_of_best": float(np.mean([r["test_of_best"] for r in runs])),
            "runs": runs,
        }
        for name, runs in results.items()
    }
    if args.json:
        print(json.dumps({"trials": args.trials, "seeds": args.seeds, "epochs": args.epochs, "samplers": summary}))
        return
    print(f"{args.trials} trials, {args.seeds} seeds, MLP on digits ({args.epochs} epochs per trial)")
    for name, row in summary.items():
        print(f"{name:>5}: best validation accuracy {row['mean_best_validation']:.4f}, its test accuracy {row['mean_test_of_best']:.4f}")


if __name__ == "__main__":
    main()
