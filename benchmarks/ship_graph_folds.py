"""Ship the NAS-Bench-Graph leave-one-dataset-out weights ``nasbench_graph-without-<dataset>``.

    python benchmarks/ship_graph_folds.py [--seed 0]

Each fold is the model ``benchmarks/transfer.py --part graph`` searches with: the score-free
generator (the shipped stage 1, which never sees scores, and a stage 2 trained on the null
condition only) with a task-aware surrogate meta-trained on the other 7 datasets of the
9-operation space. ``pnag bench search --space nasbench_graph --dataset X`` and ``pnag study``
find them by name, and refuse them on X (their recorded training set lacks X's scores).
"""

from __future__ import annotations

import argparse

from pnag_sampler_heldout import weights_folder
from tqdm.auto import tqdm
from transfer import GRAPH_GENERATOR_EPOCHS, GRAPH_SPACE_TASKS, GRAPH_SURROGATE_STEPS, graph_fold, score_free_graph_generator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    weights = weights_folder()
    base = score_free_graph_generator(GRAPH_GENERATOR_EPOCHS, args.seed, progress=True)
    for task in tqdm(GRAPH_SPACE_TASKS, desc="folds"):
        graph_fold(base, task, GRAPH_SURROGATE_STEPS, args.seed, progress=False).save(weights / f"nasbench_graph-without-{task}")


if __name__ == "__main__":
    main()
