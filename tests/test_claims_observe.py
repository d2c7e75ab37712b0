"""``observe:`` claims (docs/claims.md, *Observations*): the judge from hand-written figures (no JAX), and the
executor's figures on the reference implementations and on counter-implementations that flip each verdict.

Expected verdicts follow from the seeds' statements and from arithmetic on the figures, never from running
the code under test first. No test reads the wall clock: timed observations use an injected clock.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from typing import Any

import pytest

from jaxpat.catalog import Claims
from jaxpat.conformance import _claim_verdicts as cv


def observe(**spec: Any) -> Claims:
    return Claims.from_dict({"observe": spec})


def verdict(spec: dict[str, Any], figures: dict[str, Any]) -> cv.Judgement:
    return cv.judge("observe", observe(**spec), {"what": spec["what"], **figures})


# ---------------------------------------------------------------------------
# the judge, from figures
# ---------------------------------------------------------------------------

def test_the_observation_judge_imports_neither_jax_nor_numpy() -> None:
    code = ("import sys; import jaxpat.conformance._observation_verdicts; "
            "assert 'jax' not in sys.modules and 'numpy' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_fusion_one_kernel_holds_two_kernels_violate() -> None:
    fused = {"entry_ops": ["fusion"], "kernels": 1, "fusions": 1,
             "fused_ops": [["compare", 1], ["exponential", 1], ["select", 1]]}
    assert verdict({"what": "fusion", "at_most": 1}, fused).verdict == "held"
    split = {"entry_ops": ["fusion", "opt-barrier", "fusion"], "kernels": 3, "fusions": 2,
             "fused_ops": [["exponential", 1], ["multiply", 1]]}
    j = verdict({"what": "fusion", "at_most": 1}, split)
    assert j.verdict == "violated"
    assert "3 kernel(s)" in j.message
    # one kernel that fuses nothing (a single op) is not fusion
    lone = {"entry_ops": ["exponential"], "kernels": 1, "fusions": 0, "fused_ops": []}
    assert verdict({"what": "fusion", "at_most": 1}, lone).verdict == "violated"


DONATED = {"donate": "x", "deleted": True, "aliased": True, "copies": 0, "copies_without_donation": 1,
           "updates": 1, "temp_bytes": 0, "array_bytes": 400000, "warnings": []}


@pytest.mark.parametrize(("change", "expected"), [
    ({}, "held"),
    ({"deleted": False}, "violated"),         # the caller's array survived: not donated
    ({"aliased": False}, "violated"),         # the output got a buffer of its own
    ({"copies": 1}, "violated"),              # the input was copied
])
def test_donation(change: dict[str, Any], expected: str) -> None:
    assert verdict({"what": "donation", "donate": "x"}, DONATED | change).verdict == expected


@pytest.mark.parametrize(("change", "expected"), [
    ({}, "held"),
    ({"updates": 0}, "violated"),             # no update operation: the array was rebuilt
    ({"temp_bytes": 400000}, "violated"),     # an array-sized temporary: a copy by another name
    ({"copies": 1}, "violated"),
])
def test_in_place(change: dict[str, Any], expected: str) -> None:
    assert verdict({"what": "in_place", "donate": "x"}, DONATED | change).verdict == expected


def test_operands_every_one_counted_holds_a_skipped_one_violates() -> None:
    spec = {"what": "operands", "operands": ["lhs", "rhs"]}
    both = {"jit": {"lhs": 1, "rhs": 1}, "eager": {"lhs": 1, "rhs": 1}, "result": [False]}
    assert verdict(spec, both).verdict == "held"
    short = {"jit": {"lhs": 1}, "eager": {"lhs": 1}, "result": [False]}
    j = verdict(spec, short)
    assert j.verdict == "violated"
    assert "rhs not evaluated" in j.message


def _round(dispatch: float, ready: float, on_return: bool, after: bool = True) -> dict[str, Any]:
    return {"dispatch_s": dispatch, "ready_s": ready, "ready_on_return": on_return, "ready_after_block": after}


def test_async_dispatch_pending_holds_always_ready_is_inconclusive_unblocked_violates() -> None:
    spec = {"what": "async_dispatch"}
    pending = {"rounds": [_round(0.001, 0.07, False)] * 3, "exhausted": False}
    assert verdict(spec, pending).verdict == "held"
    ready = {"rounds": [_round(0.07, 0.07, True)] * 3, "exhausted": False}
    assert verdict(spec, ready).verdict == "inconclusive"
    unblocked = {"rounds": [_round(0.001, 0.002, False, after=False)] * 3, "exhausted": False}
    assert verdict(spec, unblocked).verdict == "violated"
    assert verdict(spec, {"rounds": [], "exhausted": True}).verdict == "inconclusive"


def test_compiles_once_holds_per_iteration_or_whole_violates() -> None:
    spec = {"what": "compiles", "expensive": "step"}
    once = {"expensive": "step", "function": "solve", "first_call": {"step": 1, "multiply": 1}, "second_call": {}}
    assert verdict(spec, once).verdict == "held"
    again = once | {"first_call": {"step": 5}}          # re-jitted inside the loop
    assert verdict(spec, again).verdict == "violated"
    whole = once | {"first_call": {"solve": 1}}         # the loop crammed into jit, the step inlined
    assert verdict(spec, whole).verdict == "violated"
    recompiled = once | {"second_call": {"step": 1}}    # compiled again on the next call
    assert verdict(spec, recompiled).verdict == "violated"


def test_first_call_band_decides_and_an_exhausted_budget_is_inconclusive() -> None:
    spec = {"what": "first_call", "baseline": "python_loop", "at_least": 1.5}
    fast = {"seconds": [0.1] * 5, "baseline_seconds": [0.4, 0.5, 0.45, 0.5, 0.4], "baseline": "python_loop"}
    j = verdict(spec, fast)
    assert j.verdict == "held"
    assert j.measured["band"][0] >= 1.5
    # the counter-implementation: the slow one measured against the fast one
    slow = {"seconds": fast["baseline_seconds"], "baseline_seconds": fast["seconds"], "baseline": "lax_scan"}
    assert verdict(spec, slow).verdict == "violated"
    straddles = {"seconds": [0.1] * 5, "baseline_seconds": [0.1, 0.3, 0.12, 0.3, 0.14], "baseline": "x"}
    assert verdict(spec, straddles).verdict == "inconclusive"
    exhausted = fast | {"exhausted": True, "budget_s": 20.0}
    assert verdict(spec, exhausted).verdict == "inconclusive"
    assert verdict(spec, {"seconds": [], "baseline_seconds": [], "exhausted": True}).verdict == "inconclusive"


def test_the_first_call_band_is_the_speed_claims_band() -> None:
    from jaxpat.conformance import _observation_verdicts as ov

    mine, theirs = [0.1, 0.2, 0.1, 0.3, 0.1, 0.2], [0.5, 0.3, 0.9, 0.4, 0.2, 0.6]
    assert ov._speed_band(mine, theirs) == cv.speed_band(mine, theirs)
    assert ov.MIN_SPEED_ROUNDS == cv.MIN_SPEED_ROUNDS


def test_a_first_call_plot_draws_the_verdicts_ratio() -> None:
    from types import SimpleNamespace

    from jaxpat.report import ClaimRecord, _html

    spec = {"what": "first_call", "baseline": "python_loop", "at_least": 1.5}
    j = verdict(spec, {"seconds": [0.1] * 5, "baseline_seconds": [0.4, 0.5, 0.45, 0.5, 0.4], "baseline": "b"})
    (fig,) = cv.verdict_figures("observe", j.measured, spec)
    assert (fig.value, fig.at_least) == (j.measured["speedup"], 1.5)
    rec = ClaimRecord(pattern="p", implementation="r.impl", claim="observe", claimed=spec, verdict=j.verdict,
                      measured=j.measured, message=j.message)
    section = _html._plots_section(SimpleNamespace(claims=(rec,)))  # type: ignore[arg-type]
    assert "speedup over the baseline" in section
    # observations judged on other figures (counts, flags) have nothing to plot
    fused = verdict({"what": "fusion"}, {"entry_ops": ["fusion"], "kernels": 1, "fusions": 1,
                                         "fused_ops": [["add", 2]]})
    assert cv.verdict_figures("observe", fused.measured, {"what": "fusion"}) == []


def test_jit_grad_memory_at_most_the_baselines() -> None:
    spec = {"what": "jit_grad_memory", "baseline": "checkpointed", "at_most": 1}
    same = {"bytes": 400000, "baseline_bytes": 400000, "residual_bytes": 2400000, "baseline_residual_bytes": 400000}
    assert verdict(spec, same).verdict == "held"
    more = same | {"bytes": 2400000}
    assert verdict(spec, more).verdict == "violated"
    assert verdict(spec, same | {"bytes": None}).verdict == "skipped"


def test_observe_round_trips_and_validates() -> None:
    from jaxpat.catalog import ObserveClaim

    c = observe(what="operands", operands=["a", "b"])
    assert c.observe == ObserveClaim("operands", operands=("a", "b"))
    assert Claims.from_dict(c.to_dict()) == c
    assert "observe" in c.kinds()


def test_timed_observations_are_skipped_when_inconclusive() -> None:
    from jaxpat.conformance._claims import _timed_observation

    assert _timed_observation(observe(what="first_call", baseline="b", at_least=2))
    assert _timed_observation(observe(what="async_dispatch"))
    assert not _timed_observation(observe(what="fusion"))


# ---------------------------------------------------------------------------
# the executor's figures: reference implementations and counter-implementations
# ---------------------------------------------------------------------------

jax = pytest.importorskip("jax")


@pytest.fixture(scope="module")
def registry() -> Any:
    from jaxpat.patterns import load_registry

    return load_registry()


def _measure(registry: Any, pattern_id: str, fn: Any = None, impl: str | None = None) -> Any:
    from jaxpat.conformance import _measure as m

    pattern = registry.catalog.get(pattern_id)
    impls = list(registry.implementations(pattern_id))
    base = next(i for i in impls if impl in (None, i.name))
    chosen = base if fn is None else dataclasses.replace(base, fn=fn)
    return m.measure("observe", pattern, chosen, jax.devices()[0], impls, speed_budget=20.0)


def test_fusion_observed_and_an_optimisation_barrier_flips_it(registry: Any) -> None:
    import jax.numpy as jnp

    held = _measure(registry, "jit-speedup-elementwise", impl="jit")
    assert held.verdict == "held", held.message
    assert held.measured["kernels"] == 1

    def barrier_selu(x: Any) -> Any:
        inner = jnp.where(x > 0, x, 1.6732632 * jnp.exp(x) - 1.6732632)
        return 1.050701 * jax.lax.optimization_barrier(inner)

    flipped = _measure(registry, "jit-speedup-elementwise", barrier_selu, impl="eager")
    assert flipped.verdict == "violated", flipped.message


def test_donation_observed_and_an_unaliasable_output_flips_it(registry: Any) -> None:
    import jax.numpy as jnp

    held = _measure(registry, "jit-donate-argnums")
    assert held.verdict == "held", held.message
    assert held.measured["deleted"] is True
    assert held.measured["aliased"] is True
    # a scalar output cannot live in a 3-element buffer: JAX warns and keeps the input
    flipped = _measure(registry, "jit-donate-argnums", lambda params, grads: jnp.sum(params - 0.5 * grads))
    assert flipped.verdict == "violated", flipped.message


def test_in_place_observed_and_a_rebuilt_array_flips_it(registry: Any) -> None:
    import jax.numpy as jnp

    held = _measure(registry, "at-set-in-place-under-jit", impl="at_set")
    assert held.verdict == "held", held.message
    assert held.measured["copies"] == 0
    assert held.measured["copies_without_donation"] >= 1

    def rebuilt(x: Any, v: Any) -> Any:  # the same values, built by concatenation into a new array
        return jnp.concatenate([jnp.reshape(v, (1,)).astype(x.dtype), x[1:]])

    flipped = _measure(registry, "at-set-in-place-under-jit", rebuilt, impl="at_set")
    assert flipped.verdict == "violated", flipped.message


def test_operands_counted_and_a_short_circuit_flips_it(registry: Any) -> None:
    import jax.numpy as jnp

    from jaxpat.patterns.observe import operand

    held = _measure(registry, "logical-ops-evaluate-both", impl="logical_and_or")
    assert held.verdict == "held", held.message

    def short_circuit(x: Any) -> Any:  # Python's `and`/`or` as lax.cond: the second operand only when needed
        a = jax.lax.cond(operand("and_lhs", jnp.all(x < 0)),
                         lambda: operand("and_rhs", jnp.sum(x * x) > 10), lambda: jnp.bool_(False))
        o = jax.lax.cond(operand("or_lhs", jnp.any(x > 0)),
                         lambda: jnp.bool_(True), lambda: operand("or_rhs", jnp.sum(x * x) > 10))
        return jnp.stack([a, o])

    flipped = _measure(registry, "logical-ops-evaluate-both", short_circuit)
    assert flipped.verdict == "violated", flipped.message
    assert flipped.measured["jit"].get("and_rhs", 0) == 0
    assert flipped.measured["jit"].get("or_rhs", 0) == 0


def test_compiles_observed_and_rejitting_per_iteration_flips_it(registry: Any) -> None:
    import jax.numpy as jnp

    held = _measure(registry, "jit-expensive-part")
    assert held.verdict == "held", held.message

    def rejit(a: Any) -> Any:
        x = jnp.maximum(a, 1.0)
        while jnp.abs(x * x - a) > 1e-5 * a:
            x = jax.jit(lambda x, a: 0.5 * (x + a / x))(x, a)  # a new function each time: compiled each time
        return x

    flipped = _measure(registry, "jit-expensive-part", rejit)
    assert flipped.verdict == "violated", flipped.message


def test_jit_grad_memory_plain_needs_no_more_than_checkpointed(registry: Any) -> None:
    held = _measure(registry, "checkpoint-unneeded-under-jit", impl="plain")
    assert held.verdict == "held", held.message
    # eagerly the plain chain saves six arrays of 100000 float32, the checkpointed one only x
    assert held.measured["residual_bytes"] == 6 * 400000
    assert held.measured["baseline_residual_bytes"] == 400000


class _Fake:
    """An array stand-in whose readiness a test decides."""

    def __init__(self, ready_after: int, clock: list[float]) -> None:
        self.polls, self.ready_after, self.clock = 0, ready_after, clock

    def is_ready(self) -> bool:
        self.polls += 1
        return self.polls > self.ready_after

    def block_until_ready(self) -> _Fake:
        self.clock[0] += 0.5  # the computation finishes
        self.polls = self.ready_after
        return self


def test_async_rounds_with_an_injected_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    from jaxpat.conformance import _observations as ob

    now = [0.0]

    def clock() -> float:
        now[0] += 0.001
        return now[0]

    monkeypatch.setattr(ob.jax, "block_until_ready", lambda x: x.block_until_ready())
    monkeypatch.setattr(ob.jax.tree, "leaves", lambda x: [x])
    asynchronous = ob.async_rounds(lambda: _Fake(1, now), rounds=3, clock=clock)
    assert [r["ready_on_return"] for r in asynchronous["rounds"]] == [False] * 3
    assert all(r["ready_after_block"] for r in asynchronous["rounds"])
    assert verdict({"what": "async_dispatch"}, asynchronous).verdict == "held"
    synchronous = ob.async_rounds(lambda: _Fake(0, now), rounds=3, clock=clock)
    assert verdict({"what": "async_dispatch"}, synchronous).verdict == "inconclusive"
    # a budget smaller than one round: the rounds after the first are not started
    cut = ob.async_rounds(lambda: _Fake(1, now), rounds=5, clock=clock, budget=0.6)
    assert cut["exhausted"]
    assert len(cut["rounds"]) == 1


NEW_PATTERNS = ["arange-grad-under-jit", "jit-donate-argnums", "at-set-in-place-under-jit",
                "logical-ops-evaluate-both", "async-dispatch-block-until-ready", "jit-python-loop-vs-scan",
                "checkpoint-unneeded-under-jit", "index-update-eager-vs-jit"]


@pytest.mark.parametrize("pattern_id", NEW_PATTERNS)
def test_every_reference_implementation_conforms(registry: Any, pattern_id: str) -> None:
    from jaxpat.conformance._execute import ItemSpec, run_item

    pattern = registry.catalog.get(pattern_id)
    impls = registry.implementations(pattern_id)
    assert len(impls) >= 2, "a pattern needs more than one way to be checked against"
    for impl in impls:
        for case in pattern.cases:
            for transform in case.transforms:
                run_item(ItemSpec(pattern, case, impl, jax.devices()[0], transform))


def test_a_wrong_gradient_of_arange_is_caught(registry: Any) -> None:
    """The arange pattern's cases catch an implementation whose weights are off by one (1..n, not 0..n-1)."""
    import jax.numpy as jnp

    from jaxpat.conformance._execute import ConformanceFailure, ItemSpec, run_item

    pattern = registry.catalog.get("arange-grad-under-jit")
    base = registry.implementations("arange-grad-under-jit")[0]
    wrong = dataclasses.replace(base, fn=lambda x: jnp.sum(x * jnp.arange(1, x.shape[0] + 1, dtype=x.dtype)))
    with pytest.raises(ConformanceFailure):
        run_item(ItemSpec(pattern, pattern.case("three"), wrong, jax.devices()[0], "grad"))
