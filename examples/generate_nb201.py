"""Generate NB201 cells for a high target performance and look up their real scores.

python examples/generate_nb201.py [--task cifar100] [-n 20] [--seed 0]
"""

import argparse

import numpy as np

from pnag_sampler import PNAG
from pnag_sampler.data import get_benchmark

parser = argparse.ArgumentParser()
parser.add_argument("--task", default="cifar100")
parser.add_argument("-n", type=int, default=20)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

model = PNAG.pretrained("nb201")
table = get_benchmark("nb201")
generation = model.generate(args.n, performance=1.0, cfg_scale=2.0, seed=args.seed)
scores = []
for dag, problem in zip(generation.architectures, generation.problems):
    if problem is not None:
        print(f"invalid: {problem}")
        continue
    score = table.test(args.task)[table.index(dag)]
    scores.append(score)
    print(f"{score:6.2f}  {model.space.to_string(dag)}")
print(f"{len(scores)}/{args.n} valid; mean test {np.mean(scores):.2f}, space mean {table.test(args.task).mean():.2f}")
# every generated architecture is a real network
network = model.space.build_module(generation.architectures[0], num_classes=100)
print(network(model.space.example_input(2)).shape)
