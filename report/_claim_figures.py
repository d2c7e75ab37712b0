"""The figures a claim's verdict was computed from, as a plot draws them (no JAX, no NumPy).

The judge computes a claim's verdict from figures (``conformance/_claim_verdicts``) and the report records them
in ``claims[].measured``; a plot must draw exactly those figures, never others (jaxpr equations beside a verdict
on compiled HLO instructions). :func:`verdict_figures` reads them back from the record.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Ratio", "Series", "verdict_figures"]


@dataclass(frozen=True)
class Series:
    """One line of a claim plot: the figure a growth verdict was computed from, against the sizes."""

    title: str
    sizes: list[float]
    values: list[float]
    growth: str


@dataclass(frozen=True)
class Ratio:
    """One bar of a ratio plot: the figure a speed or residuals verdict was computed from."""

    title: str
    value: float
    at_least: float | None


def _numbers(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value)


def verdict_figures(claim: str, measured: Mapping[str, Any], claimed: Any = None) -> list[Series | Ratio]:
    """What a plot of this claim must draw: exactly the figures its verdict was computed from, read from the
    report's ``measured`` record (the judge's ``Judgement``). Memory: temp + output bytes (forward) and residual
    bytes (backward); program size: compiled HLO instructions; early exit: the work at each bound; speed-up
    and residuals: the ratio. jit and grad have no figure to plot. Records that lack the figures give []."""
    out: list[Series | Ratio] = []
    raw = measured.get("sizes")
    sizes: list[Any] = list(raw) if isinstance(raw, list) else []
    param = measured.get("param", "n")
    if claim == "memory" and _numbers(sizes):
        for part, key, what in (("forward", "bytes", "forward memory: compiled temp + output bytes"),
                                ("backward", "residual_bytes", "backward memory: residual bytes jax.vjp saves")):
            fig = measured.get(part)
            if isinstance(fig, Mapping) and _numbers(fig.get(key)) and len(fig[key]) == len(sizes):
                out.append(Series(f"{what} vs {param}", [float(x) for x in sizes], [float(y) for y in fig[key]],
                                  str(fig.get("growth", ""))))
    elif claim == "program_size" and _numbers(sizes) and _numbers(measured.get("hlo_instructions")):
        if len(measured["hlo_instructions"]) == len(sizes):
            out.append(Series(f"program size: compiled HLO instructions vs {param}", [float(x) for x in sizes],
                              [float(y) for y in measured["hlo_instructions"]], str(measured.get("growth", ""))))
    elif claim == "early_exit" and _numbers(sizes) and _numbers(measured.get("work")):
        if len(measured["work"]) == len(sizes):
            out.append(Series(f"work (loop iterations + traced equations) vs {param}", [float(x) for x in sizes],
                              [float(y) for y in measured["work"]], str(measured.get("stops_early", ""))))
    elif claim == "observe" and measured.get("what") == "first_call":
        # a first-call observation is judged on its speed-up band, like a speed claim
        value = measured.get("speedup")
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            at_least = measured.get("at_least")
            out.append(Ratio("speedup (first call)", float(value),
                             float(at_least) if isinstance(at_least, int | float) else None))
    elif claim in ("speedup", "residuals"):
        key = "speedup" if claim == "speedup" else "saving_factor"
        value = measured.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            at_least = claimed.get("at_least") if isinstance(claimed, Mapping) else getattr(claimed, "at_least",
                                                                                             None)
            out.append(Ratio(key, float(value), None if at_least is None else float(at_least)))
    return out
