"""One NB201 study shared by several worker processes through an Optuna storage.

    python examples/optuna_distributed.py --storage sqlite:///nb201.db [--workers 4] [--trials 100]
    python examples/optuna_distributed.py --storage postgresql+psycopg2://postgres@127.0.0.1:5432/test
    python examples/optuna_distributed.py --storage journal:./nb201.journal

Every worker builds its own PNAGSampler; nothing is shared but the storage, from which each
worker reads what was evaluated and what the others claimed before proposing. At the end the
script prints how many trials completed, how many distinct cells they hold and the best one.
"""

from __future__ import annotations

import argparse
import multiprocessing

import optuna

from pnag_sampler import PNAGSampler, suggest_architecture
from pnag_sampler.data import get_benchmark


def storage_from_url(url: str):
    """An RDB URL as is; ``journal:PATH`` for Optuna's JournalStorage on a file."""
    if url.startswith("journal:"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        return JournalStorage(JournalFileBackend(url[len("journal:") :]))
    return url


def objective(trial: optuna.Trial) -> float:
    table = get_benchmark("nb201")
    row = table.index(suggest_architecture(trial, "nb201"))
    trial.set_user_attr("test_accuracy", float(table.test("cifar100")[row]))
    return float(table.validation("cifar100")[row])


def work(url: str, study_name: str, trials: int, seed: int) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=study_name, storage=storage_from_url(url), sampler=PNAGSampler(seed=seed))
    study.optimize(objective, n_trials=trials)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", required=True, help="an Optuna RDB URL, or journal:PATH")
    parser.add_argument("--study", default="pnag-nb201-distributed")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--trials", type=int, default=100, help="trials in all, split over the workers")
    args = parser.parse_args()

    study = optuna.create_study(study_name=args.study, storage=storage_from_url(args.storage), direction="maximize", load_if_exists=True)
    share = [args.trials // args.workers + (i < args.trials % args.workers) for i in range(args.workers)]
    # spawn: each worker starts clean (torch and storage connections do not survive fork well)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=work, args=(args.storage, args.study, n, seed)) for seed, n in enumerate(share)]
    for process in workers:
        process.start()
    for process in workers:
        process.join()
    if any(process.exitcode != 0 for process in workers):
        raise SystemExit(f"a worker failed: exit codes {[p.exitcode for p in workers]}")

    complete = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    cells = {t.system_attrs["pnag:architecture:nb201"] for t in complete}
    best = study.best_trial
    print(f"{len(complete)} complete trials from {args.workers} workers, {len(cells)} distinct cells")
    print(f"best validation {best.value:.2f} (test {best.user_attrs['test_accuracy']:.2f}): {best.system_attrs['pnag:architecture:nb201']}")


if __name__ == "__main__":
    main()
