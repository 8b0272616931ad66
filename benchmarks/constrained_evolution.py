"""Once-for-All's evolutionary search (``EvolutionFinder``) over any space's flat parameters.

OFA searches its MobileNetV3 space with its accuracy predictor under a latency constraint:
a population of 100 random subnets that meet the constraint, then 500 generations, each keeping
the best 25% as parents and filling the rest with mutants (half the population; every gene
resampled with probability 0.1) and crossovers (each gene from one of two parents), redrawing any
child that breaks the constraint. Genes here are the space's flat parameters (OFA's: resolution,
depth per stage, kernel and expand ratio per layer), so the same code runs on every space.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from pnag_sampler.spaces.base import Dag, SearchSpace

Params = dict[str, str]


@dataclass
class EvolutionResult:
    best: Dag
    best_fitness: float
    #: fitness evaluations (predictor calls) spent, constraint checks not counted
    evaluations: int
    #: best fitness after each generation (index 0: the initial population)
    history: list[float]


def constrained_evolution(
    space: SearchSpace,
    fitness: Callable[[Sequence[Dag]], np.ndarray],
    feasible: Callable[[Dag], bool],
    rng: np.random.Generator,
    *,
    population: int = 100,
    generations: int = 500,
    parent_ratio: float = 0.25,
    mutation_ratio: float = 0.5,
    mutate_probability: float = 0.1,
    max_tries: int = 10_000,
) -> EvolutionResult:
    """Maximise ``fitness`` (batched) over architectures for which ``feasible`` holds."""
    choices = space.parameter_choices()

    def draw(make: Callable[[], Params]) -> Params:
        for _ in range(max_tries):
            params = make()
            if feasible(space.from_params(params)):
                return params
        raise RuntimeError(f"no feasible architecture in {max_tries} draws; is the constraint satisfiable?")

    def random_params() -> Params:
        return {key: values[rng.integers(len(values))] for key, values in choices.items()}

    def mutate(parent: Params) -> Params:
        return {
            key: values[rng.integers(len(values))] if rng.random() < mutate_probability else parent[key] for key, values in choices.items()
        }

    def crossover(first: Params, second: Params) -> Params:
        return {key: (first if rng.random() < 0.5 else second)[key] for key in choices}

    members = [draw(random_params) for _ in range(population)]
    scores = fitness([space.from_params(p) for p in members])
    evaluations = population
    history = [float(scores.max())]
    parents_count = int(round(parent_ratio * population))
    mutants_count = int(round(mutation_ratio * population))
    for _ in range(generations):
        order = np.argsort(-scores)[:parents_count]
        parents = [members[i] for i in order]
        # parents=parents binds this generation's parents (draw calls each lambda at once anyway)
        children = [draw(lambda parents=parents: mutate(parents[rng.integers(len(parents))])) for _ in range(mutants_count)]
        children += [
            draw(lambda parents=parents: crossover(parents[rng.integers(len(parents))], parents[rng.integers(len(parents))]))
            for _ in range(population - parents_count - mutants_count)
        ]
        child_scores = fitness([space.from_params(p) for p in children])
        evaluations += len(children)
        members = parents + children
        scores = np.concatenate([scores[order], child_scores])
        history.append(float(scores.max()))
    best = int(np.argmax(scores))
    return EvolutionResult(space.from_params(members[best]), float(scores[best]), evaluations, history)
