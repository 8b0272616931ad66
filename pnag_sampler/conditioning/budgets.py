"""Cost budgets (a latency in ms, a parameter count in millions) <-> condition quantiles.

A generator conditions on quantiles of each cost among the architectures it was trained on. For
a sampled space the checkpoint records that cost's value at every percentile; for a tabulated
space (NB201) the table holds every architecture's cost, so the percentiles are read from it
(for the task asked: NB201's parameter counts differ a little per task). A budget thus becomes a
quantile. Which generated architectures meet a budget is then measured by the space or the table
(lookup table, predictor, parameter count), never taken from the model's belief.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from pnag_sampler.conditioning.costs import cost_condition
from pnag_sampler.data import BENCHMARK_NAMES, benchmark_for_task, get_benchmark
from pnag_sampler.data.benchmark import Benchmark
from pnag_sampler.errors import PNAGError
from pnag_sampler.generator import PNAG
from pnag_sampler.spaces.base import Dag

#: the condition sits this share of the way from the cheapest architectures to the budget's
#: quantile: at the budget's own quantile about half of the samples would land over it
AIM = 0.75


def cost_table(model: PNAG, task: str | None) -> tuple[Benchmark, str] | None:
    """The table (and the task of it) that measures a tabulated space's costs; None for a
    sampled space. Without a task, the table's first."""
    if model.space.name not in BENCHMARK_NAMES:
        return None
    benchmark = benchmark_for_task(model.space.name, task) if task else get_benchmark(model.space.name)
    return benchmark, task or benchmark.tasks[0]


def _references(model: PNAG, task: str | None) -> dict[str, dict]:
    """Per condition field: the measure it stands for and its value at every percentile."""
    table = cost_table(model, task)
    if table is None:
        return model.metadata.get("condition_references", {})
    benchmark, task = table
    costs = benchmark.condition_costs()
    return {
        name: {"measure": name, "percentiles": np.percentile(benchmark.cost(name, task), np.arange(101)).tolist()}
        for name in costs
        if set(cost_condition(name, 0.0, costs)) <= set(model.condition_layout.names)
    }


def budget_conditions(model: PNAG, budgets: Mapping[str, float], task: str | None = None) -> dict[str, float | list[float]]:
    """{budget name: limit} -> {condition field: value} (a quantile; for a latency on a named
    device also the device's one-hot field); clear errors for what cannot be met."""
    references = _references(model, task)
    conditions = {}
    for field, budget in budgets.items():
        if field not in references:
            known = ", ".join(references) or "none"
            raise PNAGError(f"space '{model.space.name}' has no '{field}' budget (this model knows: {known})")
        if not np.isfinite(budget):
            raise PNAGError(f"the {field} budget must be a finite number, got {budget}")
        percentiles = np.asarray(references[field]["percentiles"])
        if budget < percentiles[0]:
            raise PNAGError(
                f"no architecture meets {references[field]['measure']} <= {budget}: the cheapest of the "
                f"architectures this model was trained on has {percentiles[0]:.4g}"
            )
        quantile = AIM * float(np.interp(budget, percentiles, np.linspace(0.0, 1.0, len(percentiles))))
        conditions.update(cost_condition(field, quantile, list(references)))
    return conditions


def measured_constraints(model: PNAG, architectures: Sequence[Dag], budgets: Mapping[str, float], task: str | None = None) -> dict:
    """Each architecture's measures (from the space, or for a tabulated space with budgets,
    from the table for the task) and whether it meets each budget."""
    table = cost_table(model, task)
    if table is None:
        measured = model.space.measures(architectures)
    elif not budgets:
        return {}
    else:
        benchmark, task = table
        rows = [benchmark.index(dag) for dag in architectures]
        measured = {name: benchmark.cost(name, task)[rows] for name in ("params", *budgets) if name in benchmark.cost_names(task)}
    if not measured:
        return {}
    references = _references(model, task)
    measures = [{name: float(values[i]) for name, values in measured.items()} for i in range(len(architectures))]
    meets = [{field: row[references[field]["measure"]] <= budget for field, budget in budgets.items()} for row in measures]
    return {"measures": measures, "budgets": dict(budgets), "meets_budgets": meets}
