"""OptunaHub package of PNAG: re-exports the sampler of the ``pnag-sampler`` pip package.

The implementation (model, shipped weights, vendored tables) lives in ``pnag-sampler`` on PyPI;
install ``torch==2.13.0`` first, then ``pnag-sampler`` (see README.md).
"""

from __future__ import annotations

try:
    from pnag_sampler import PNAGSampler, suggest_architecture
except ModuleNotFoundError as error:  # pragma: no cover - depends on the environment
    if error.name not in ("pnag_sampler", "torch"):
        raise
    raise ModuleNotFoundError(
        "samplers/pnag needs the pnag-sampler package: pip install torch==2.13.0 && pip install pnag-sampler",
        name=error.name,
    ) from error


__all__ = ["PNAGSampler", "suggest_architecture"]
