"""PRNG cases check actual draws against an independent oracle, and the harness (not the
implementation) checks that they are the same eagerly, under jit and under vmap.

The oracle (tests/oracles/threefry.py, tests/oracles/mt19937.py) is plain Python: it is
checked here against published known answers, and every catalog case whose provenance
names it is recomputed from it. A self-certifying implementation (one that draws,
compares and returns its own verdict) fails the cases.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path
from typing import Any

import pytest

from jaxpat import catalog

sys.path.insert(0, str(Path(__file__).parent / "oracles"))
import mt19937
import threefry

CAT = catalog.load()
ORACLE_CASES = [(p, c) for p in CAT for c in p.cases
                if c.provenance.kind == "oracle" and c.provenance.oracle in ("threefry", "mt19937")]


def _f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def test_threefry_known_answers() -> None:
    """The block cipher reproduces Random123's known-answer vectors for threefry2x32_20."""
    for key, ctr, out in threefry.KAT:
        assert threefry.threefry2x32(key, ctr) == out


def test_mt19937_reference_output() -> None:
    """MT19937 seeded with init_genrand(5489) gives the reference's first output."""
    assert mt19937.MT19937(5489).int32() == 3499211612


def test_oracle_seeds_and_splits_match_the_seed_printout() -> None:
    """The oracle reproduces seed 001's printed key and split bits (jax_threefry_partitionable off)."""
    assert threefry.prng_key(42) == (0, 42)
    assert threefry.split((0, 42), 2, partitionable=False) == [(2465931498, 3679230171), (255383827, 267815257)]
    assert threefry.split((0, 42), 5, partitionable=False)[4] == (2713995981, 2812206153)


def test_erfinv_inverts_erf() -> None:
    import math

    for y in (-0.999, -0.5, 0.0, 0.1, 0.9, 0.999999):
        assert math.isclose(math.erf(threefry.erfinv(y)), y, rel_tol=1e-13, abs_tol=1e-15)


def test_there_are_oracle_cases() -> None:
    """The PRNG patterns that used to certify themselves are now oracle cases."""
    pats = {p.id for p, _ in ORACLE_CASES}
    assert {"prng-uniform-draws", "prng-normal-draws", "prng-random-bits", "prng-same-key-same-draws",
            "prng-split-any-order", "prng-numpy-global-state", "prng-parallel-vs-sequential",
            "prng-parallel-vs-fold-in"} <= pats


def _flat(value: Any) -> list[float]:
    from jaxpat.catalog import ArrayValue, TupleValue

    if isinstance(value, TupleValue):
        return [x for item in value.items for x in _flat(item)]
    if isinstance(value, ArrayValue):
        return [float(x) for x in value.to_numpy().ravel()]
    return [float(value)]


def _oracle_value(pattern: Any, case: Any) -> list[float]:
    if pattern.id == "prng-numpy-global-state":
        return list(mt19937.global_state_foo(case.args["seed"]))
    values = threefry.catalog_values()
    key = f"{pattern.id}/{case.id}"
    if pattern.id == "prng-parallel-vs-sequential":
        key += "/split"
    elif pattern.id == "prng-parallel-vs-fold-in":
        key = f"prng-parallel-vs-sequential/{case.id}/fold_in"
    elif pattern.id in ("prng-uniform-draws", "prng-normal-draws", "prng-random-bits"):
        kind = pattern.id.split("-")[1]
        kind = "bits" if kind == "random" else kind
        key = "prng-draws/" + {"typed-key-42": f"{kind}-42", "typed-key-0": f"{kind}-0",
                               "legacy-key-42-legacy-bits": f"{kind}-42-legacy-bits"}[case.id]
    raw = values[key]

    def flat(v: Any) -> list[float]:
        return [x for item in v for x in flat(item)] if isinstance(v, list | tuple) else [float(v)]
    return flat(raw)


@pytest.mark.parametrize("pc", ORACLE_CASES, ids=lambda pc: f"{pc[0].id}/{pc[1].id}")
def test_catalog_value_is_the_oracles(pc: tuple[Any, Any]) -> None:
    """Every oracle case's expected value is what the oracle computes (float32 values to the bit)."""
    pattern, case = pc
    want = _oracle_value(pattern, case)
    got = _flat(case.expect)
    if pattern.id in ("prng-numpy-global-state", "prng-random-bits"):
        assert got == want
    else:
        assert got == [_f32(x) for x in want]


# ---------------------------------------------------------------------------
# the harness, not the implementation, decides
# ---------------------------------------------------------------------------

jax = pytest.importorskip("jax")


def _run(pattern_id: str, fn: Any, transforms: tuple[str, ...] = ("eager", "jit", "vmap"), *,
         first: bool = False) -> list[str]:
    """Run every case × transform of ``pattern_id`` with ``fn``; return the failures (``first``: stop at the first
    one, for a test that asks only whether ``fn`` is caught)."""
    from jaxpat.conformance._execute import ConformanceFailure, ItemSpec, run_item
    from jaxpat.patterns import Implementation

    pattern = CAT.get(pattern_id)
    impl = Implementation(pattern_id, "candidate", fn).bound("test")
    failures = []
    for case in pattern.cases:
        for transform in transforms:
            if transform not in case.transforms:
                continue
            try:
                run_item(ItemSpec(pattern, case, impl, jax.devices()[0], transform))
            except ConformanceFailure as exc:
                failures.append(f"{case.id}/{transform}: {str(exc).splitlines()[0]}")
                if first:
                    return failures
    return failures


def test_self_certifying_implementations_fail() -> None:
    """`return True`, or drawing twice and returning whether the draws are equal, no longer passes."""
    import jax.numpy as jnp

    def self_certifying(key: Any) -> Any:
        a, b = jax.random.normal(key, (3,)), jax.random.normal(key, (3,))
        return jnp.array_equal(a, b)

    assert _run("prng-same-key-same-draws", lambda key: True, first=True)
    assert _run("prng-same-key-same-draws", self_certifying, first=True)
    assert _run("prng-parallel-vs-sequential", lambda key, n: jnp.asarray(False), first=True)


def test_wrong_draws_fail() -> None:
    """Draws from another key, another distribution or a reused key are caught by value."""
    import jax.numpy as jnp

    def fold(key: Any) -> Any:
        k = jax.random.fold_in(key, 1)
        return jax.random.normal(k, (3,)), jax.random.normal(k, (3,))

    assert _run("prng-same-key-same-draws", fold, first=True)
    assert _run("prng-uniform-draws", lambda key: jax.random.uniform(key, (3,), minval=1e-3), first=True)
    assert _run("prng-normal-draws", lambda key: jax.random.normal(jax.random.split(key)[0], (3,)), first=True)

    def reused(key: Any, n: int) -> Any:  # one key reused for every "sequential" draw
        return jnp.stack([jax.random.normal(key) for _ in range(n)]), jax.random.normal(key, (n,))

    assert _run("prng-parallel-vs-sequential", reused, first=True)


def test_the_harness_checks_invariance_across_transforms() -> None:
    """An implementation whose draws change under jit passes eagerly and fails the jit items."""
    def differs_under_jit(key: Any) -> Any:
        traced = isinstance(jax.random.key_data(key), jax.core.Tracer)
        return jax.random.uniform(jax.random.fold_in(key, 7) if traced else key, (3,))

    failures = _run("prng-uniform-draws", differs_under_jit)
    assert failures
    assert all("/eager" not in f for f in failures)
    assert any("/jit" in f for f in failures)


def test_reference_implementations_pass() -> None:
    """The shipped implementations pass the oracle cases (the counter-tests above are not vacuous)."""
    from jaxpat.patterns import load_registry

    reg = load_registry()
    for pid in ("prng-uniform-draws", "prng-same-key-same-draws", "prng-parallel-vs-fold-in"):
        for impl in reg.implementations(pid):
            assert _run(pid, impl.fn) == [], impl.id
