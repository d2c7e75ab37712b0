"""Claims are measured on what they state, and a counter-implementation flips each verdict.

- program size is the compiled program (HLO instructions), so fori_loop(..., unroll=True)
  violates "program size constant" although its jaxpr does not grow;
- forward memory counts the output buffers, so a scan that returns its stacked outputs
  shows linear forward memory although its temp memory is constant;
- a constant verdict that the measurement cannot distinguish (the same compiled program at
  both sizes, a loop whose trip count does not grow) is inconclusive, never held.
"""

from __future__ import annotations

from pathlib import Path

import pytest

jax = pytest.importorskip("jax")

import jax.numpy as jnp  # noqa: E402

from jaxpat import catalog  # noqa: E402
from jaxpat.conformance import _measure  # noqa: E402
from jaxpat.patterns import Implementation  # noqa: E402

CATALOG = """\
version: 1
patterns:
  - id: t-power
    family: loops
    title: x to the n by a loop
    summary: A static trip count n.
    source: {doc: tests}
    signature: {args: [x, n], static: [n]}
    claims:
      program_size: {param: n, sizes: [10, 100], growth: constant}
      memory: {param: n, sizes: [100, 1000], forward: constant}
    cases:
      - id: half
        args: {x: {$array: 0.5, dtype: float32}, n: 3}
        expect: {$array: 0.125, dtype: float32}
        provenance: {kind: math, note: "0.5^3"}
  - id: t-traced
    family: loops
    title: x to the n with n traced
    summary: A run-time trip count.
    source: {doc: tests}
    signature: {args: [x, n]}
    claims:
      memory: {param: n, sizes: [10, 1000], forward: constant}
    cases:
      - id: half
        args: {x: {$array: 0.5, dtype: float32}, n: {$array: 3, dtype: int32}}
        expect: {$array: 0.125, dtype: float32}
        provenance: {kind: math, note: "0.5^3"}
"""


def fori(x, n):
    return jax.lax.fori_loop(0, n, lambda i, c: c * x, jnp.ones_like(x))


def fori_unrolled(x, n):
    return jax.lax.fori_loop(0, n, lambda i, c: c * x, jnp.ones_like(x), unroll=True)


def scan_carry(x, n):
    return jax.lax.scan(lambda c, _: (c * x, None), jnp.ones_like(x), None, length=n)[0]


def scan_stacked(x, n):
    # the same loop, returning every step's value: outputs of n elements
    return jax.lax.scan(lambda c, _: (c * x, c * x), jnp.ones_like(x), None, length=n)[1]


def ignores_n(x, n):
    return x * x


@pytest.fixture(scope="module")
def cat(tmp_path_factory: pytest.TempPathFactory) -> catalog.Catalog:
    path = Path(tmp_path_factory.mktemp("c")) / "c.yaml"
    path.write_text(CATALOG)
    return catalog.load_files([path])


def _measure_with(cat: catalog.Catalog, pattern: str, claim: str, fn: object) -> _measure.ClaimResult:
    p = cat.get(pattern)
    return _measure.measure(claim, p, Implementation(pattern, fn.__name__, fn).bound("test"), jax.devices()[0])


def test_unrolled_fori_loop_violates_program_size_constant(cat: catalog.Catalog) -> None:
    """Same jaxpr size, but the compiled program of unroll=True repeats the body n times."""
    held = _measure_with(cat, "t-power", "program_size", fori)
    assert held.verdict == "held", held.message
    flipped = _measure_with(cat, "t-power", "program_size", fori_unrolled)
    assert flipped.verdict == "violated", flipped.message
    assert flipped.measured["equations_growth"] == "constant"  # what the jaxpr count could not see
    hlo = flipped.measured["hlo_instructions"]
    assert hlo[-1] > 5 * hlo[0]
    assert flipped.measured["hlo_while_loops"] == [0, 0, 0]


def test_stacked_scan_shows_linear_output_memory(cat: catalog.Catalog) -> None:
    """Temp memory stays constant for both scans; only the stacked one's output bytes grow with n."""
    held = _measure_with(cat, "t-power", "memory", scan_carry)
    assert held.verdict == "held", held.message
    flipped = _measure_with(cat, "t-power", "memory", scan_stacked)
    assert flipped.verdict == "violated", flipped.message
    fwd = flipped.measured["forward"]
    assert fwd["temp_growth"] == "constant"
    assert fwd["output_growth"] == "linear"
    assert fwd["output_bytes"] == [400, 1264, 4000]  # 4 bytes × n at n = 100, 316, 1000


def test_same_compiled_program_is_inconclusive(cat: catalog.Catalog) -> None:
    """With n traced, both sizes compile to one program: constant memory is inconclusive, never held."""
    result = _measure_with(cat, "t-traced", "memory", fori)
    assert result.verdict == "inconclusive", result.message
    assert result.measured["same_program"] is True
    assert result.measured["trips"] == [10, 100, 1000]
    assert "same at every size" in result.message


def test_a_size_that_changes_nothing_is_inconclusive(cat: catalog.Catalog) -> None:
    """If n does not make the computation grow, constant memory and a constant program prove nothing."""
    mem = _measure_with(cat, "t-power", "memory", ignores_n)
    assert mem.verdict == "inconclusive", mem.message
    size = _measure_with(cat, "t-power", "program_size", ignores_n)
    assert size.verdict == "inconclusive", size.message


def test_loop_trips_run_while_loops_and_read_scan_lengths(cat: catalog.Catalog) -> None:
    p = cat.get("t-power")
    impl = Implementation("t-power", "fori", fori).bound("test")
    assert _measure.loop_trips(p, impl, [jnp.float32(0.5), 7]) == 7
    traced = cat.get("t-traced")
    impl = Implementation("t-traced", "fori", fori).bound("test")
    assert _measure.loop_trips(traced, impl, [jnp.float32(0.5), jnp.int32(12)]) == 12

    def newton(x, n):
        def cond(s):
            return jnp.abs(s[0] - s[1]) > 1e-6 * s[0]

        def body(s):
            return 0.5 * (s[0] + x / s[0]), s[0]

        return jax.lax.while_loop(cond, body, (x, jnp.full_like(x, jnp.inf)))[0]

    impl = Implementation("t-power", "newton", newton).bound("test")
    few, many = (_measure.loop_trips(p, impl, [jnp.float32(a), 3]) for a in (2.0, 2.0 ** 100))
    assert 0 < few < 10 < many


def test_catalog_newton_memory_is_measured_where_the_loop_grows() -> None:
    """The catalog's while_loop memory claim starts from a = 2^100, where the trip count grows with max_iter."""
    from jaxpat.patterns import load_registry

    registry = load_registry()
    p = registry.catalog.get("loop-while-converge")
    result = _measure.measure("memory", p, registry.get("reference.while_loop", pattern=p.id), jax.devices()[0])
    assert result.verdict == "held", result.message
    trips = result.measured["trips"]
    assert trips[0] == 10
    assert trips[-1] > 40


BREAK_CATALOG = """\
version: 1
patterns:
  - id: t-break
    family: loops
    title: a sum that breaks when its terms are below tol
    summary: A Python for loop with break.
    source: {doc: tests}
    signature: {args: [x, n, tol], static: [n, tol]}
    claims:
      early_exit: {param: n, sizes: [10, 100], stop: tol, stops: [0.1, 0.001]}
    cases:
      - id: one
        args: {x: {$array: 1.0, dtype: float32}, n: 100, tol: 0.001}
        expect: {$array: 1.998046875, dtype: float32}
        provenance: {kind: math, note: "1 + 1/2 + ... + 1/512 = 2 - 2^-9"}
"""


def test_early_exit_tells_a_break_from_a_capped_bound(tmp_path: Path) -> None:
    """`early_exit: {param, sizes, stop, stops}` holds for a for loop with break and is violated for one that
    runs to its bound, and for a capped bound `range(min(n, 10))` with no break: that one does the same work
    as the break at n = 1, 10, 100 (so n alone cannot tell them apart), but its work does not move with tol."""
    path = tmp_path / "c.yaml"
    path.write_text(BREAK_CATALOG)
    cat = catalog.load_files([path])

    def with_break(x, n, tol):
        acc = jnp.zeros_like(x)
        for i in range(n):
            if 0.5 ** i < tol:
                break
            acc = acc + 0.5 ** i * x
        return acc

    def capped(x, n, tol):
        acc = jnp.zeros_like(x)
        for i in range(min(n, 10)):
            acc = acc + 0.5 ** i * x
        return acc

    def without_break(x, n, tol):
        acc = jnp.zeros_like(x)
        for i in range(n):
            acc = acc + 0.5 ** i * x
        return acc

    held = _measure_with(cat, "t-break", "early_exit", with_break)
    assert held.verdict == "held", held.message
    w1, wa, wb = held.measured["work"]
    assert w1 < wa == wb
    assert len(set(held.measured["stop_work"])) == 2
    cap = _measure_with(cat, "t-break", "early_exit", capped)
    assert cap.measured["work"] == held.measured["work"]  # the old measurement could not tell them apart
    assert cap.verdict == "violated", cap.message
    assert "fixed cap" in cap.message
    assert _measure_with(cat, "t-break", "early_exit", without_break).verdict == "violated"


def test_early_exit_without_a_stop_argument_proves_nothing(tmp_path: Path) -> None:
    """Without `stop`, a break and a cap give the same work figures: the claim is inconclusive, never held."""
    path = tmp_path / "c.yaml"
    path.write_text(BREAK_CATALOG.replace(", stop: tol, stops: [0.1, 0.001]", ""))
    cat = catalog.load_files([path])

    def with_break(x, n, tol):
        acc = jnp.zeros_like(x)
        for i in range(n):
            if 0.5 ** i < tol:
                break
            acc = acc + x
        return acc

    assert _measure_with(cat, "t-break", "early_exit", with_break).verdict == "inconclusive"


# --- small O(n): synthetic programs holding 1, 4 and 8 bytes per step --------------------------

GROWTH_CATALOG = """\
version: 1
patterns:
  - id: t-hold
    family: loops
    title: a loop that keeps a history of n steps
    summary: Synthetic programs for the growth rule.
    source: {doc: tests}
    signature: {args: [x, n], static: [n]}
    claims:
      memory: {param: n, sizes: [10, 100, 1000], forward: linear}
    cases:
      - id: one
        args: {x: {$array: 0.5, dtype: float32}, n: 3}
        expect: {$array: 0.0, dtype: float32}
        provenance: {kind: math, note: "unused"}
"""


def _history(dtype: object, width: int):  # type: ignore[no-untyped-def]
    """A fori_loop that writes one row of `width` elements of `dtype` per step into an (n, width) buffer."""
    def hold(x, n):
        def body(i, state):
            c, buf = state
            return c * x + 1, buf.at[i].set(jnp.full((width,), c).astype(dtype))
        buf = jnp.zeros((n, width), dtype)
        return jax.lax.fori_loop(0, n, body, (x, buf))[1][-1, 0].astype(jnp.float32)
    return hold


@pytest.mark.parametrize(("dtype", "width", "per_step"), [("int8", 1, 1), ("float32", 1, 4), ("float32", 2, 8)])
def test_small_linear_memory_is_linear(tmp_path: Path, dtype: str, width: int, per_step: int) -> None:
    """A genuine history of 1, 4 or 8 bytes per step comes out linear (the old two-size rule called 4 B/step,
    173 → 533 B, sublinear); claimed constant it is violated."""
    path = tmp_path / "c.yaml"
    path.write_text(GROWTH_CATALOG)
    cat = catalog.load_files([path])
    fn = _history(getattr(jnp, dtype), width)
    result = _measure_with(cat, "t-hold", "memory", fn)
    assert result.verdict == "held", result.message
    fwd = result.measured["forward"]
    assert fwd["growth"] == "linear"
    assert fwd["fit"]["slope"] >= per_step * 0.9  # at least the history's bytes per step
    path.write_text(GROWTH_CATALOG.replace("forward: linear", "forward: constant"))
    flipped = _measure_with(catalog.load_files([path]), "t-hold", "memory", fn)
    assert flipped.verdict == "violated", flipped.message


def test_constant_and_quadratic_programs(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(GROWTH_CATALOG.replace("forward: linear", "forward: constant"))
    cat = catalog.load_files([path])
    held = _measure_with(cat, "t-hold", "memory", scan_carry)
    assert held.verdict == "held", held.message
    assert held.measured["forward"]["growth"] == "constant"

    def outer(x, n):
        v = jnp.arange(n, dtype=jnp.float32) * x
        return jnp.outer(v, v)  # n² floats of output

    quad = _measure_with(cat, "t-hold", "memory", outer)
    assert quad.measured["forward"]["growth"] == "superlinear"
    assert quad.verdict == "violated"
    path.write_text(GROWTH_CATALOG)
    assert _measure_with(catalog.load_files([path]), "t-hold", "memory", outer).verdict == "violated"


def test_checkpoint_seed_example_saves_no_residuals() -> None:
    """Seed 004's y = x + 2; z = y + 2: today JAX saves 0 bytes of residuals, with or without checkpoint."""
    from jaxpat.patterns import load_registry

    reg = load_registry()
    p = reg.catalog.get("checkpoint-seed-add-chain")
    claims = _measure.claims_for(p, reg.implementations(p.id)[0])
    args = _measure.base_args(p, claims, jax.devices()[0])
    for impl in reg.implementations(p.id):
        assert _measure.residual_bytes(p, impl, claims, args) == 0, impl.id

    def sin_chain(x):  # the counter-example: a non-linear chain does save residuals
        return jnp.sin(jnp.sin(x + 2.0) + 2.0)

    counter = Implementation(p.id, "sin_chain", sin_chain).bound("test")
    assert _measure.residual_bytes(p, counter, claims, args) > 0
