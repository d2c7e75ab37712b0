"""Claim verdicts from hand-written figures: the pure judge (no JAX), each claim kind with a counter-example.

The figures here are what a measuring process would send (docs/claims.md, *Figures*); the expected
verdicts follow from the numbers by arithmetic, not from running the judge first.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from jaxpat.catalog import Claims
from jaxpat.conformance import _claim_verdicts as cv

WORKS = {"ok": True, "detail": "works", "types": []}
CONCRETIZATION = {"ok": False, "detail": "TracerBoolConversionError: Attempted boolean conversion",
                  "types": ["jax._src.errors.TracerBoolConversionError", "jax._src.errors.ConcretizationTypeError",
                            "builtins.TypeError", "builtins.Exception", "builtins.BaseException"]}
VALUE_ERROR = {"ok": False, "detail": "ValueError: Reverse-mode differentiation does not work for lax.while_loop",
               "types": ["builtins.ValueError", "builtins.Exception", "builtins.BaseException"]}


def claims(**data: Any) -> Claims:
    return Claims.from_dict(data)


def test_the_judge_imports_neither_jax_nor_numpy() -> None:
    """The module the lead runs where no plugin code ran must not pull in JAX or NumPy."""
    code = ("import sys; import jaxpat.conformance._claim_verdicts as m; "
            "bad = [k for k in ('jax', 'jaxlib', 'numpy') if k in sys.modules]; "
            "assert not bad, bad; print('clean')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "clean"


def test_jit_works_and_its_counter_example() -> None:
    c = claims(jit=True)
    assert cv.judge("jit", c, {"jit": WORKS}).verdict == "held"
    j = cv.judge("jit", c, {"jit": CONCRETIZATION})
    assert j.verdict == "violated"
    assert "TracerBoolConversionError" in j.message
    assert j.measured == {"jit": CONCRETIZATION["detail"]}


def test_raises_is_judged_by_name_subclasses_included() -> None:
    """{raises: ConcretizationTypeError} holds for its subclass TracerBoolConversionError, not for ValueError,
    and not when the call works."""
    c = claims(jit={"raises": "ConcretizationTypeError"})
    assert cv.judge("jit", c, {"jit": CONCRETIZATION}).verdict == "held"
    assert cv.judge("jit", c, {"jit": VALUE_ERROR}).verdict == "violated"
    assert cv.judge("jit", c, {"jit": WORKS}).verdict == "violated"
    # a bare name means a builtin or a JAX exception, never a plugin's class of the same name
    impostor = {"ok": False, "detail": "ConcretizationTypeError: fake",
                "types": ["myplugin.ConcretizationTypeError", "builtins.Exception"]}
    assert cv.judge("jit", c, {"jit": impostor}).verdict == "violated"
    dotted = claims(jit={"raises": "jax.errors.TracerBoolConversionError"})
    fig = dict(CONCRETIZATION, types=["jax._src.errors.TracerBoolConversionError",
                                      "jax.errors.TracerBoolConversionError", "builtins.TypeError"])
    assert cv.judge("jit", dotted, {"jit": fig}).verdict == "held"
    assert cv.judge("jit", dotted, {"jit": VALUE_ERROR}).verdict == "violated"


def test_exception_types_names_the_mro() -> None:
    class Mine(ValueError):
        pass

    types = cv.exception_types(Mine("x"))
    assert types[0].endswith(".Mine")
    assert "builtins.ValueError" in types
    assert cv.raises_matches("ValueError", types)
    assert not cv.raises_matches("TypeError", types)
    assert cv.outcome_of(None) == WORKS
    assert cv.outcome_of(Mine("boom\nmore"))["detail"] == "Mine: boom"


def test_grad_modes_and_counter_example() -> None:
    c = claims(grad={"forward": True, "reverse": {"raises": "ValueError"}})
    held = cv.judge("grad", c, {"forward": WORKS, "reverse": VALUE_ERROR})
    assert held.verdict == "held"
    assert held.measured == {"forward": "works", "reverse": VALUE_ERROR["detail"]}
    # reverse mode working contradicts {raises: ValueError}
    assert cv.judge("grad", c, {"forward": WORKS, "reverse": WORKS}).verdict == "violated"
    assert cv.judge("grad", c, {"forward": VALUE_ERROR, "reverse": VALUE_ERROR}).verdict == "violated"


def _memory(temp: list[int], out: list[int] | None = None, *, trips: list[int] | None = None,
            prints: list[str] | None = None, residuals: list[int] | None = None) -> dict[str, Any]:
    sizes = [10, 100, 1000]
    fig: dict[str, Any] = {"param": "n", "sizes": sizes, "platform": "cpu",
                           "forward": {"temp_bytes": temp, "output_bytes": out or [4, 4, 4]},
                           "trips": trips or sizes, "equations": [5, 5, 5],
                           "fingerprints": prints or ["a", "b", "c"]}
    if residuals is not None:
        fig["backward"] = {"residual_bytes": residuals}
    return fig


def test_memory_constant_held_and_linear_violates_it() -> None:
    c = claims(memory={"param": "n", "sizes": [10, 100, 1000], "forward": "constant"})
    held = cv.judge("memory", c, _memory([128, 128, 128]))
    assert held.verdict == "held", held.message
    assert held.measured["forward"]["bytes"] == [132, 132, 132]  # temp + output: the verdict's figure
    linear = cv.judge("memory", c, _memory([128, 488, 4088]))  # 4 bytes per step
    assert linear.verdict == "violated", linear.message
    assert linear.measured["forward"]["growth"] == "linear"


def test_memory_constant_is_inconclusive_when_the_size_changes_nothing() -> None:
    c = claims(memory={"param": "n", "sizes": [10, 100, 1000], "forward": "constant"})
    same = cv.judge("memory", c, _memory([128, 128, 128], prints=["x", "x", "x"]))
    assert same.verdict == "inconclusive"
    assert same.measured["same_program"] is True
    stuck = cv.judge("memory", c, _memory([128, 128, 128], trips=[5, 5, 5]))
    assert stuck.verdict == "inconclusive"
    assert "does not grow" in stuck.message


def test_memory_unavailable_is_skipped_never_held() -> None:
    c = claims(memory={"param": "n", "forward": "constant"})
    fig = {"param": "n", "sizes": [100, 316, 1000], "platform": "tpu", "forward": {"unavailable": "no analysis"}}
    assert cv.judge("memory", c, fig).verdict == "skipped"


def test_memory_backward_growth_and_raises() -> None:
    c = claims(memory={"param": "n", "sizes": [10, 100, 1000], "backward": "linear"})
    fig = _memory([0, 0, 0], residuals=[44, 404, 4004])
    assert cv.judge("memory", c, fig).verdict == "held"
    assert cv.judge("memory", c, _memory([0, 0, 0], residuals=[8, 8, 8])).verdict == "violated"
    raises = claims(memory={"param": "n", "sizes": [10, 1000], "backward": {"raises": "ValueError"}})
    err = {"param": "n", "sizes": [10, 100, 1000], "backward": {"error": VALUE_ERROR}}
    assert cv.judge("memory", raises, err).verdict == "held"
    ok = {"param": "n", "sizes": [10, 100, 1000], "backward": {"residual_bytes": [8, 8, 8]}}
    assert cv.judge("memory", raises, ok).verdict == "violated"


def _program(hlo: list[int], trips: list[int]) -> dict[str, Any]:
    return {"param": "n", "sizes": [10, 32, 100], "hlo_instructions": hlo, "hlo_while_loops": [1, 1, 1],
            "equations": [3, 3, 3], "trips": trips, "loop_primitives": ["scan"]}


def test_program_size_constant_and_the_unrolled_counter_example() -> None:
    c = claims(program_size={"param": "n", "growth": "constant"})
    held = cv.judge("program_size", c, _program([20, 20, 20], [10, 32, 100]))
    assert held.verdict == "held"
    assert held.measured["hlo_instructions"] == [20, 20, 20]
    assert cv.judge("program_size", c, _program([12, 34, 102], [10, 32, 100])).verdict == "violated"
    # a loop that runs as often at every size proves nothing
    assert cv.judge("program_size", c, _program([20, 20, 20], [10, 10, 10])).verdict == "inconclusive"
    # figures measured at other sizes than the claim's are not judged
    other = dict(_program([20, 20, 20], [10, 32, 100]), sizes=[5, 10, 20])
    assert cv.judge("program_size", c, other).verdict == "inconclusive"


def test_early_exit_structure_and_counter_example() -> None:
    c = claims(early_exit=True)
    assert cv.judge("early_exit", c, {"stops_on_state": True, "while_loops": 1}).verdict == "held"
    assert cv.judge("early_exit", c, {"stops_on_state": False, "while_loops": 1}).verdict == "violated"


def test_early_exit_work_and_counter_examples() -> None:
    """A break moved by `tol` holds; a capped bound (the same work at every tol) and a loop to its bound
    violate it; without a stop argument a break and a cap look alike, so that proves nothing."""
    c = claims(early_exit={"param": "n", "sizes": [10, 100], "stop": "tol", "stops": [0.1, 0.001]})
    base = {"param": "n", "points": [1, 10, 100], "stop": "tol", "stops": [0.1, 0.001]}
    stops = cv.judge("early_exit", c, base | {"work": [2, 20, 20], "stop_work": [8, 20]})
    assert stops.verdict == "held", stops.message
    assert stops.measured["stop_work"] == [8, 20]
    capped = cv.judge("early_exit", c, base | {"work": [2, 20, 20], "stop_work": [20, 20]})
    assert capped.verdict == "violated"
    assert "fixed cap" in capped.message
    runs = base | {"work": [2, 20, 200], "stop_work": [200, 200]}
    assert cv.judge("early_exit", c, runs).verdict == "violated"
    flat = base | {"work": [2, 2, 2], "stop_work": [2, 2]}
    assert cv.judge("early_exit", c, flat).verdict == "inconclusive"
    no_stop = claims(early_exit={"param": "n", "sizes": [10, 100]})
    alike = cv.judge("early_exit", no_stop, {"param": "n", "points": [1, 10, 100], "work": [2, 20, 20]})
    assert alike.verdict == "inconclusive"
    assert "capped bound" in alike.message


def test_residuals_factor_and_counter_example() -> None:
    c = claims(residuals={"baseline": "plain", "at_least": 1.25})
    held = cv.judge("residuals", c, {"residual_bytes": 76, "baseline_residual_bytes": 100, "baseline": "r.plain"})
    assert held.verdict == "held"
    assert held.measured["saving_factor"] == round(100 / 76, 3)
    assert cv.judge("residuals", c, {"residual_bytes": 100, "baseline_residual_bytes": 100}).verdict == "violated"


def test_speedup_band_and_counter_examples() -> None:
    c = claims(speedup={"baseline": "eager", "at_least": 3})
    fast = {"seconds": [1.0] * 5, "baseline_seconds": [10.0, 9.0, 11.0, 10.0, 12.0], "baseline": "r.eager"}
    held = cv.judge("speedup", c, fast)
    assert held.verdict == "held"
    assert held.measured["band"] == [10.0, 11.0]  # the lowest and highest of 5 rounds left out
    slow = dict(fast, baseline_seconds=[2.0, 2.0, 2.5, 2.0, 2.0])
    assert cv.judge("speedup", c, slow).verdict == "violated"
    noisy = dict(fast, baseline_seconds=[2.0, 2.5, 4.0, 5.0, 6.0])
    assert cv.judge("speedup", c, noisy).verdict == "inconclusive"
    empty = cv.judge("speedup", c, {"seconds": [], "baseline_seconds": [], "exhausted": True})
    assert empty.verdict == "inconclusive"


def test_judge_refuses_unknown_or_undeclared_claims() -> None:
    with pytest.raises(KeyError):
        cv.judge("flops", claims(jit=True), {})
    with pytest.raises(ValueError, match="declares no `grad`"):
        cv.judge("grad", claims(jit=True), {"forward": WORKS})


def test_claim_result_carries_the_seed_wording() -> None:
    c = claims(jit=True, seed_claim="jit ✓")
    r = cv.claim_result("p", "i", "jit", c, {"jit": WORKS}, device="cpu:0")
    assert (r.verdict, r.seed_claim, r.device, r.claimed) == ("held", "jit ✓", "cpu:0", True)
    assert r.to_dict()["measured"] == {"jit": "works"}


# --- the growth rule ------------------------------------------------------------------------------

SIZES = [10, 100, 1000]


@pytest.mark.parametrize("per_step", [1, 4, 8])
def test_one_element_per_step_is_linear(per_step: int) -> None:
    """The smallest growth a claim is about, one element of 1, 4 or 8 bytes per step, over a fixed overhead
    and 64-byte alignment, is linear; the old two-size rule called 4 B/step (173 → 533 B) sublinear."""
    def aligned(n: int) -> int:
        return 200 + -(-(n * per_step) // 64) * 64
    assert cv.growth(SIZES, [aligned(n) for n in SIZES]) == "linear"
    assert cv.growth([10, 32, 100], [173 + 4 * (n - 10) for n in (10, 32, 100)]) == "linear"


def test_constant_quadratic_and_logarithmic() -> None:
    assert cv.growth(SIZES, [196, 196, 196]) == "constant"
    assert cv.growth(SIZES, [128, 128, 192]) == "constant"  # one alignment step over 990 steps
    assert cv.growth(SIZES, [4 * n * n for n in SIZES]) == "superlinear"
    assert cv.growth([10, 32, 100], [4 * n * n for n in (10, 32, 100)]) == "superlinear"
    # log growth: it rises, but ever more slowly: proves neither constant nor linear
    import math
    assert cv.growth(SIZES, [1000 * math.log(n) for n in SIZES]) == "sublinear"


def test_less_than_half_an_element_per_step_or_a_dip_proves_nothing() -> None:
    assert cv.growth(SIZES, [100, 200, 400]) == "sublinear"  # 0.3 B per step
    assert cv.growth(SIZES, [100, 900, 600]) == "irregular"
    assert cv.growth([100, 1000], [100, 4100]) == "sublinear"  # two sizes cannot show the shape
    assert cv.growth_sizes([100, 1000]) == [100, 316, 1000]
    assert cv.growth_sizes([10, 100, 1000]) == [10, 100, 1000]


@pytest.mark.parametrize(("claimed", "values", "verdict"), [
    ("constant", [196, 196, 196], "held"),
    ("constant", [324, 388, 1284], "violated"),  # a bool history of n steps (measured on CPU, JAX 0.12.1)
    ("linear", [324, 388, 1284], "held"),
    ("linear", [196, 196, 196], "violated"),
    ("linear", [400, 40000, 4000000], "violated"),  # quadratic
    ("linear", [100, 200, 400], "inconclusive"),
    ("constant", [100, 900, 600], "inconclusive"),
])
def test_growth_verdicts(claimed: str, values: list[int], verdict: str) -> None:
    c = claims(memory={"param": "n", "sizes": SIZES, "forward": claimed})
    fig = _memory([v - 4 for v in values])
    assert cv.judge("memory", c, fig).verdict == verdict
