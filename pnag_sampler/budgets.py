"""Cost budgets (a latency in ms, a parameter count in millions) <-> condition quantiles.

A generator conditions on quantiles of each cost among the architectures it was trained on; the
checkpoint records that cost's value at every percentile, so a budget becomes a quantile. Which
generated architectures meet a budget is then measured by the space itself (lookup table,
predictor, parameter count), never taken from the model's belief.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from pnag_sampler.errors import PNAGError
from pnag_sampler.generator import PNAG
from pnag_sampler.spaces.base import Dag

#: the condition sits this share of the way from the cheapest architectures to the budget's
#: quantile: at the budget's own quantile about half of the samples would land over it
AIM = 0.75


def budget_conditions(model: PNAG, budgets: Mapping[str, float]) -> dict[str, float]:
    """{field: budget} -> {field: condition quantile}; clear errors for what cannot be met."""
    references = model.metadata.get("condition_references", {})
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
        conditions[field] = AIM * float(np.interp(budget, percentiles, np.linspace(0.0, 1.0, len(percentiles))))
    return conditions


def measured_constraints(model: PNAG, architectures: Sequence[Dag], budgets: Mapping[str, float]) -> dict:
    """Each architecture's measures (from the space) and whether it meets each budget."""
    measured = model.space.measures(architectures)
    if not measured:
        return {}
    references = model.metadata.get("condition_references", {})
    rows = [{name: float(values[i]) for name, values in measured.items()} for i in range(len(architectures))]
    meets = [
        {field: row[references[field]["measure"]] <= budget for field, budget in budgets.items()}
        for row in rows
    ]
    return {"measures": rows, "budgets": dict(budgets), "meets_budgets": meets}
