"""Speed claims: the verdict logic, tested with injected timings (never a wall-clock assert)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

pytest.importorskip("jax")

from jaxpat.conformance import _measure


def _figs(mine: list[float], theirs: list[float]) -> _measure.SpeedFigures:
    return _measure.SpeedFigures(tuple(mine), tuple(theirs))


def test_held_when_every_round_beats_the_claim() -> None:
    figs = _figs([1.0, 1.0, 1.0], [20.0, 19.0, 21.0])
    assert figs.band() == (19.0, 20.0, 21.0)
    assert _measure.speed_verdict(figs, 18) == "held"


def test_violated_when_no_round_reaches_it() -> None:
    assert _measure.speed_verdict(_figs([1.0, 1.0, 1.0], [2.0, 3.0, 2.5]), 18) == "violated"


def test_one_disturbed_round_does_not_widen_the_band() -> None:
    """With 5 rounds or more the single lowest and highest ratios are left out of the band."""
    figs = _figs([1.0] * 7, [20.0, 21.0, 19.0, 20.0, 2.0, 22.0, 90.0])
    assert figs.band() == (19.0, 20.0, 22.0)
    assert _measure.speed_verdict(figs, 18) == "held"


def test_inconclusive_when_the_noise_band_straddles_the_claim() -> None:
    """A noisy machine gives a band around the claimed figure: inconclusive, never a flaky held/violated."""
    assert _measure.speed_verdict(_figs([1.0, 1.0, 1.0], [10.0, 30.0, 15.0]), 18) == "inconclusive"


def test_speed_figures_interleave_and_take_the_median_of_calls() -> None:
    """With a fake clock the figures are exact: fn takes 1 s per call, the baseline 5 s, one outlier each."""
    ticks = itertools.count()
    now = [0.0]
    durations = iter([1, 1, 1, 5, 5, 50] * 2)  # per round: fn calls, then baseline calls (one slow outlier)

    def clock() -> float:
        if next(ticks) % 2:  # the second reading of a pair: advance by the call's duration
            now[0] += next(durations)
        return now[0]

    figs = _measure.speed_figures(lambda: 0, lambda: 0, rounds=2, calls=3, clock=clock)
    assert figs.seconds == (1.0, 1.0)
    assert figs.baseline_seconds == (5.0, 5.0)
    assert figs.ratios == (5.0, 5.0)
    assert _measure.speed_verdict(figs, 4) == "held"


def test_speed_claim_is_measured_on_the_catalog_pattern() -> None:
    """The measurement times the implementations and the input size the catalog's claim declares
    (jit against its `eager` baseline on 10^6 values of `x`), interleaved, and reports the seed's
    figure beside the band. Which implementations ran, on what, is recorded by wrapping them; the
    verdict itself is not asserted (it depends on the machine)."""
    import dataclasses

    import jax
    from jaxpat.patterns import load_registry

    reg = load_registry()
    p = reg.catalog.get("jit-speedup-elementwise")
    spec = p.claims.implementations["jit"].speedup
    assert (spec.baseline, spec.param, spec.size) == ("eager", "x", 1_000_000)  # catalog.yaml's declaration
    calls: dict[str, list[tuple[tuple[int, ...], ...]]] = {}

    def recorded(impl: Any) -> Any:
        def fn(*args: Any) -> Any:
            calls.setdefault(impl.id, []).append(tuple(tuple(getattr(a, "shape", ())) for a in args))
            return impl.fn(*args)

        return dataclasses.replace(impl, fn=fn)

    impls = [recorded(i) for i in reg.implementations(p.id)]
    jit = next(i for i in impls if i.name == "jit")
    result = _measure.measure("speedup", p, jit, jax.devices()[0], impls)
    assert result.verdict in ("held", "violated", "inconclusive")
    assert set(calls) == {"reference.jit", "reference.eager"}  # the claimed one and its baseline, nothing else
    for shapes in calls.values():
        assert set(shapes) == {((spec.size,),)}  # always on the declared size of `x`
    assert len(calls["reference.jit"]) == len(calls["reference.eager"])  # interleaved: as many calls each
    m = result.measured
    assert m["baseline"] == "reference.eager"
    assert m["at_least"] == spec.at_least
    assert m["seed_figure"] == spec.seed_figure == 18
    assert m["rounds"] >= 1
    assert m["band"][0] <= m["speedup"] <= m["band"][1]
    assert "noise band" in result.message
