"""Costs as condition fields of the generator.

A plain cost (``params``) is one quantile field. A cost measured on alternative devices (NB201's
``latency_ms:<device>``, 27 devices) is one shared quantile field (``latency_ms``) plus a one-hot
device field (``latency_ms:device``): every training row teaches the quantile whatever its
device (latencies rank alike across devices), and the device refines it. One field per device
would see each device in a 27th of the rows only.
"""

from __future__ import annotations

from collections.abc import Sequence

DEVICE_SUFFIX = ":device"


def device_groups(costs: Sequence[str]) -> dict[str, list[str]]:
    """``prefix -> [cost names]`` for costs named ``prefix:<device>``."""
    groups: dict[str, list[str]] = {}
    for name in costs:
        if ":" in name:
            groups.setdefault(name.split(":", 1)[0], []).append(name)
    return groups


def cost_fields(costs: Sequence[str]) -> tuple[tuple[str, int], ...]:
    """The condition fields (name, width) that stand for ``costs``."""
    plain = tuple((name, 1) for name in costs if ":" not in name)
    grouped = tuple(
        field for prefix, members in device_groups(costs).items() for field in ((prefix, 1), (prefix + DEVICE_SUFFIX, len(members)))
    )
    return plain + grouped


def cost_condition(cost: str, quantile: float, costs: Sequence[str]) -> dict[str, float | list[float]]:
    """The condition fields for ``cost`` at ``quantile`` (one of ``costs``)."""
    if ":" not in cost:
        return {cost: quantile}
    prefix = cost.split(":", 1)[0]
    members = device_groups(costs)[prefix]
    return {prefix: quantile, prefix + DEVICE_SUFFIX: [float(member == cost) for member in members]}
