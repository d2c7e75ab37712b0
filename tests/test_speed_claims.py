"""Speed claims: the verdict logic, tested with injected timings (never a wall-clock assert)."""

from __future__ import annotations

from collections.abc import Callable
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


class FakeClock:
    """A clock that only moves when a timed call runs: each call advances it by its next duration."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def call(self, durations: list[float]) -> Callable[[], int]:
        it = iter(durations)

        def fn() -> int:
            self.now += next(it)
            return 0
        return fn


def test_speed_figures_interleave_and_take_the_median_of_calls() -> None:
    """With a fake clock the figures are exact: fn takes 1 s per call, the baseline 5 s, one outlier each."""
    clock = FakeClock()
    fn = clock.call([1] + [1, 1, 9] * 2)  # warm-up, then per round three calls with one outlier
    base = clock.call([5] + [5, 5, 50] * 2)
    figs = _measure.speed_figures(fn, base, rounds=2, calls=3, clock=clock)
    assert figs.seconds == (1.0, 1.0)
    assert figs.baseline_seconds == (5.0, 5.0)
    assert figs.ratios == (5.0, 5.0)
    assert not figs.exhausted
    assert _measure.speed_verdict(figs, 4) == "held"


def test_the_plan_shrinks_to_fit_the_budget() -> None:
    """A slow baseline: after a probe, fewer calls per round (down to one), then fewer rounds (not below 3),
    so that the claim is still measured inside the budget instead of running out."""
    clock = FakeClock()
    fn = clock.call([10.0] * 100)
    base = clock.call([30.0] * 100)
    figs = _measure.speed_figures(fn, base, rounds=7, calls=5, clock=clock, budget=250.0)
    # warm-up 40 s and probe 40 s leave 170 s: one call a round, 4 rounds of 40 s
    assert (figs.calls, figs.planned_rounds) == (1, 4)
    assert figs.seconds == (10.0,) * 4
    assert figs.baseline_seconds == (30.0,) * 4
    assert not figs.exhausted
    assert clock.now == 240.0
    roomy = FakeClock()
    plenty = _measure.speed_figures(roomy.call([1.0] * 100), roomy.call([10.0] * 100), clock=roomy, budget=250.0)
    assert (plenty.calls, plenty.planned_rounds) == (2, 7)  # 228 s left: two calls a round fit, not five


def test_budget_stops_timing_and_keeps_the_rounds_done() -> None:
    """No call starts past the budget; the complete rounds come back, marked exhausted."""
    clock = FakeClock()
    figs = _measure.speed_figures(clock.call([1.0] * 100), clock.call([10.0] * 100), clock=clock, budget=45.0)
    # warm-up 11 s, probe 11 s; 3 rounds of 11 s planned; the third would start at 44 s + a 10 s call > 45 s
    assert figs.seconds == (1.0, 1.0)
    assert figs.baseline_seconds == (10.0, 10.0)
    assert figs.exhausted
    assert clock.now <= 45.0


def test_budget_spent_on_warm_up_gives_no_round() -> None:
    clock = FakeClock()
    figs = _measure.speed_figures(clock.call([100.0] * 10), clock.call([100.0] * 10), clock=clock, budget=150.0)
    assert figs.seconds == ()
    assert figs.exhausted


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


def test_a_budget_that_runs_out_is_inconclusive_with_its_figures() -> None:
    """Rounds that would hold are still inconclusive when the budget ran out: a slow machine proves nothing,
    and the figures come back (never a timeout, never a failure)."""
    from jaxpat.catalog import Claims
    from jaxpat.conformance import _claim_verdicts as cv

    claims = Claims.from_dict({"speedup": {"baseline": "eager", "at_least": 2}})
    data = {"seconds": [1.0] * 4, "baseline_seconds": [10.0] * 4, "baseline": "r.eager", "exhausted": True,
            "budget_s": 20.0, "elapsed_s": 19.5, "planned_rounds": 7}
    j = cv.judge("speedup", claims, data)
    assert j.verdict == "inconclusive"
    assert j.measured["speedup"] == 10.0
    assert j.measured["exhausted"] is True
    assert "time budget of 20.0 s ran out after 4 of 7 rounds" in j.message
    complete = cv.judge("speedup", claims, dict(data, exhausted=False))
    assert complete.verdict == "held"  # the same rounds, budget not exhausted: decisive
    clock = FakeClock()
    figs = _measure.speed_figures(clock.call([1.0] * 100), clock.call([10.0] * 100), clock=clock, budget=45.0)
    measured = {"seconds": list(figs.seconds), "baseline_seconds": list(figs.baseline_seconds),
                "exhausted": figs.exhausted}
    assert cv.judge("speedup", claims, measured).verdict == "inconclusive"


def test_too_few_rounds_are_inconclusive() -> None:
    from jaxpat.catalog import Claims
    from jaxpat.conformance import _claim_verdicts as cv

    claims = Claims.from_dict({"speedup": {"baseline": "eager", "at_least": 2}})
    two = {"seconds": [1.0, 1.0], "baseline_seconds": [10.0, 10.0]}
    assert cv.judge("speedup", claims, two).verdict == "inconclusive"
    three = {"seconds": [1.0] * 3, "baseline_seconds": [10.0] * 3}
    assert cv.judge("speedup", claims, three).verdict == "held"


def test_budget_is_well_inside_the_item_timeout() -> None:
    assert _measure.speed_budget_for(60.0) == 20.0
    assert _measure.speed_budget_for(30.0) == 10.0
    assert _measure.speed_budget_for(600.0) == _measure.SPEED_BUDGET_S
    assert _measure.speed_budget_for(0) == _measure.SPEED_BUDGET_S  # no timeout: the default budget
