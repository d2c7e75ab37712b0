"""The oracles of ``jaxpat check --explore`` (conformance/oracles/) against the catalog's fixed cases.

Every pattern that declares ``explore.oracle`` has fixed cases whose expected
values come from the seeds, from mathematics or from an independent NumPy
computation written for the case (their provenance). Evaluating the oracle on
each case's inputs and comparing with the case's expectation, under the case's
tolerance, checks the oracle against that independent source -- the way the
judge will compare an implementation with the oracle on drawn inputs: the
oracle's value is the expectation (arrays keep their dtype, Python scalars
are weak), and the case's expected value stands in for an implementation's
result. The comparison is also made the other way round (the case's value as
the expectation), so an oracle that returns the right numbers in the wrong
dtype or structure fails too.

A case is compared only where the exploration would judge the same thing:
under the transforms the domain explores (``grad`` against the grad oracle and
the case's ``grad.expect``), for cases that expect a value on one device, and
run under the domain's JAX config (an ``x64`` case is not a 32-bit domain's).

No JAX here: the oracles must run in the judge (tests/test_cleanroom.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from jaxpat.catalog import (
    ArrayValue,
    DictValue,
    ExpectedError,
    KeyDataValue,
    ListValue,
    Pattern,
    TupleValue,
    Value,
    load,
    to_numpy,
)
from jaxpat.conformance._compare import compare
from jaxpat.conformance._wire import KeyData
from jaxpat.conformance.oracles import KeyArray, OracleError, resolve, threefry

_CATALOG = load()
_VALUE_PATTERNS = [p for p in _CATALOG.patterns if p.returns_value()]
_WITH_ORACLE = [p for p in _CATALOG.patterns if p.explore is not None and p.explore.has_oracle]


# ---------------------------------------------------------------------------
# the judge's view of an oracle's value (docs/explore.md, "Oracles")
# ---------------------------------------------------------------------------

def as_expectation(x: Any) -> Value:
    """What an oracle returned, as a catalog expectation: arrays keep their dtype, Python scalars are weak."""
    if x is None or type(x) in (bool, int, float, str):
        return x  # type: ignore[no-any-return,unused-ignore]
    if isinstance(x, KeyArray):
        data = np.asarray(x.data, dtype=np.uint32)
        return KeyDataValue(ArrayValue("uint32", tuple(data.shape), tuple(data.ravel().tolist())), x.impl)
    if isinstance(x, np.ndarray | np.generic):
        arr = np.asarray(x)
        return ArrayValue(str(arr.dtype), tuple(int(n) for n in arr.shape), tuple(arr.ravel().tolist()))
    if type(x) is tuple:
        return TupleValue(tuple(as_expectation(v) for v in x))
    if type(x) is list:
        return ListValue(tuple(as_expectation(v) for v in x))
    if type(x) is dict and all(isinstance(k, str) for k in x):
        return DictValue(tuple((k, as_expectation(v)) for k, v in x.items()))
    raise AssertionError(f"an oracle returned {type(x).__name__}: oracles return NumPy arrays, Python scalars, "
                         "KeyArray, and tuples, lists and dicts of them")


def as_result(x: Any) -> Any:
    """An oracle's value, or a case's expected value, as the judge receives an implementation's result."""
    if isinstance(x, KeyArray):
        return KeyData(x.impl or "threefry2x32", np.asarray(x.data, np.uint32))
    if isinstance(x, KeyDataValue):
        return KeyData(x.impl or "threefry2x32", x.to_numpy())
    if isinstance(x, TupleValue):
        return tuple(as_result(v) for v in x.items)
    if isinstance(x, ListValue):
        return [as_result(v) for v in x.items]
    if isinstance(x, DictValue):
        return {k: as_result(v) for k, v in x.items}
    if isinstance(x, tuple):
        return tuple(as_result(v) for v in x)
    if isinstance(x, list):
        return [as_result(v) for v in x]
    if isinstance(x, dict):
        return {k: as_result(v) for k, v in x.items()}
    if isinstance(x, np.generic):
        return np.asarray(x)
    return to_numpy(x) if hasattr(x, "to_numpy") else x


def oracle_input(v: Any) -> Any:
    """A case's argument as an oracle receives it: arrays as NumPy arrays, PRNG keys as KeyValue, containers
    item by item, every other value as the Python value."""
    if isinstance(v, TupleValue):
        return tuple(oracle_input(x) for x in v.items)
    if isinstance(v, ListValue):
        return [oracle_input(x) for x in v.items]
    if isinstance(v, DictValue):
        return {k: oracle_input(x) for k, x in v.items}
    if hasattr(v, "to_numpy") and type(v).__name__ != "KeyValue":
        return v.to_numpy()
    return v


# ---------------------------------------------------------------------------
# which (case, transform) pairs an exploration would judge
# ---------------------------------------------------------------------------

def explored_transforms(p: Pattern) -> tuple[str, ...]:
    """The domain's transforms, else those under which some case expects a value (grad with a grad oracle)."""
    ex = p.explore
    assert ex is not None
    chosen = ex.transforms if ex.transforms is not None else tuple(
        t for t in ("eager", "jit", "vmap", "grad")
        if any(t in c.transforms and not isinstance(c.expect_under.get(t, c.expect), ExpectedError)
               for c in p.cases))
    return tuple(t for t in chosen if t != "grad" or ex.grad_oracle)


def checks(p: Pattern) -> list[tuple[str, str, str, Value]]:
    """(case id, transform, oracle name, expected value) for every fixed case the domain's oracle must match."""
    ex = p.explore
    assert ex is not None
    assert ex.oracle is not None
    out: list[tuple[str, str, str, Value]] = []
    for c in p.cases:
        if c.devices != 1 or c.shards or c.processes or dict(c.config) != dict(ex.config):
            continue
        seen: set[str] = set()
        for t in explored_transforms(p):
            if t not in c.transforms:
                continue
            if t == "grad":
                if c.grad is not None and not isinstance(c.grad.expect, ExpectedError):
                    out.append((c.id, t, str(ex.grad_oracle), c.grad.expect))
                continue
            exp = c.expect_under.get(t, c.expect)
            if isinstance(exp, ExpectedError) or repr(exp) in seen:
                continue
            seen.add(repr(exp))
            out.append((c.id, t, ex.oracle, exp))
    return out


_CHECKS = [(p, *chk) for p in _WITH_ORACLE for chk in checks(p)]


# ---------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------

def test_coverage_every_value_pattern_has_an_oracle_or_a_reason(capsys: pytest.CaptureFixture[str]) -> None:
    """Each pattern whose output is a value declares a domain and an oracle, or says why not (explore.skip),
    and at least 80 % of them have an oracle. The coverage figure is printed (``pytest -s``)."""
    undeclared = [p.id for p in _VALUE_PATTERNS if p.explore is None]
    assert not undeclared, f"value patterns with neither an oracle nor explore.skip: {undeclared}"
    with_oracle = [p for p in _VALUE_PATTERNS if p.explore is not None and p.explore.has_oracle]
    skipped = [p for p in _VALUE_PATTERNS if p.explore is not None and p.explore.skip]
    for p in skipped:
        reason = str(p.explore.skip if p.explore is not None else "")
        assert len(reason) >= 30, f"{p.id}: a skip says precisely why ({reason!r})"
    coverage = len(with_oracle) / len(_VALUE_PATTERNS)
    with capsys.disabled():
        print(f"\nexplore coverage: {len(with_oracle)}/{len(_VALUE_PATTERNS)} patterns whose output is a value "
              f"have a domain and an oracle ({100 * coverage:.0f} %); {len(skipped)} say why not")
    assert coverage >= 0.8, f"explore coverage {100 * coverage:.1f} % is below 80 %"


@pytest.mark.parametrize("pattern", _WITH_ORACLE, ids=lambda p: p.id)
def test_every_oracle_resolves_and_is_checked_by_a_case(pattern: Pattern) -> None:
    """The oracle names resolve, and at least one fixed case checks the oracle (and the grad oracle)."""
    ex = pattern.explore
    assert ex is not None
    assert ex.oracle
    try:
        resolve(ex.oracle)
        if ex.grad_oracle:
            resolve(ex.grad_oracle)
    except OracleError as exc:
        pytest.fail(str(exc))
    checked = {name for (_, _, name, _) in checks(pattern)}
    assert ex.oracle in checked, f"{pattern.id}: no fixed case checks {ex.oracle}"
    if ex.grad_oracle:
        assert ex.grad_oracle in checked, f"{pattern.id}: no fixed case's grad checks {ex.grad_oracle}"


@pytest.mark.parametrize(("pattern", "case_id", "transform", "oracle", "expected"), _CHECKS,
                         ids=[f"{p.id}::{cid}[{t}]" for (p, cid, t, _, _) in _CHECKS])
def test_oracle_matches_the_fixed_case(pattern: Pattern, case_id: str, transform: str, oracle: str,
                                       expected: Value) -> None:
    """The oracle on a case's inputs equals the case's expected value within the case's tolerance."""
    case = pattern.case(case_id)
    got = resolve(oracle)(**{k: oracle_input(v) for k, v in case.args.items()})
    judged = compare(as_expectation(got), as_result(expected), tolerance=case.tolerance, platform="cpu")
    assert not judged, f"{pattern.id}::{case_id} under {transform}, oracle {oracle}:\n" + "\n".join(judged)
    strict = compare(expected, as_result(got), tolerance=case.tolerance, platform="cpu")
    assert not strict, (f"{pattern.id}::{case_id} under {transform}: the oracle {oracle}'s value differs in "
                        "dtype, shape or structure from the case's:\n" + "\n".join(strict))


# The comparison above must be able to fail: a wrong oracle (off by one step, a transposed matrix, a missing
# clamp, a dropped None) is caught by the same fixed cases.
_WRONG: dict[str, Callable[..., Any]] = {
    "loop-affine-recurrence": lambda x, n: np.asarray(sum(np.float64(x) ** k for k in range(n + 1)), np.float32),
    "grad-quadratic-form": lambda a, x: np.asarray(np.asarray(a, np.float64) @ x * 2, np.float32),
    "control-flow-switch": lambda index, x: np.asarray((x + 1, 2 * x, x * x)[index % 3], np.float32),
    "pytree-leaves": lambda tree: [leaf for k in tree for leaf in (tree[k] if isinstance(tree[k], list | tuple)
                                                                   else [tree[k]])],
    "jit-retrace-per-static-value": lambda values: len(values),
    "at-add": lambda x, idx, value: (np.where(np.isin(np.arange(len(x)), idx), x + value, x).astype(x.dtype), x),
    # the mapped axis summed instead of the other one
    "vmap-in-axes": lambda x, in_axes: np.sum(x, axis=int(in_axes), dtype=x.dtype),
    # the transposed transition matrix (columns read as rows)
    "scan-markov-chain-sampler": lambda trans, init_state, uniforms: _markov_wrong(trans.T, init_state, uniforms),
    # every draw from the same subkey (the key not threaded)
    "prng-split-threading": lambda key, n: np.array(
        [threefry.uniform(threefry.split(threefry.prng_key(key.seed), 2)[1], 1)[0]] * n, np.float32),
    # fold_in(key, i + 1) instead of fold_in(key, i)
    "prng-parallel-vs-fold-in": lambda key, n: (np.array(
        [threefry.normal(threefry.fold_in(threefry.prng_key(key.seed), i + 1), 1)[0] for i in range(n)], np.float32),
        np.array(threefry.normal(threefry.prng_key(key.seed), n), np.float32)),
    # odd indices set instead of even ones
    "index-update-eager-vs-jit": lambda x: np.where(np.arange(len(x)) % 2 == 1, np.float32(-1), x).astype(x.dtype),
}


def _markov_wrong(trans: np.ndarray, init_state: int, uniforms: np.ndarray) -> np.ndarray:
    s, out = int(init_state), []
    for u in np.asarray(uniforms, np.float64):
        s = min(int(np.sum(np.cumsum(np.asarray(trans, np.float64)[s]) <= u)), len(trans) - 1)
        out.append(s)
    return np.array(out, np.int32)


@pytest.mark.parametrize("pid", sorted(_WRONG))
def test_a_wrong_oracle_fails_some_fixed_case(pid: str) -> None:
    pattern = _CATALOG.get(pid)
    wrong = _WRONG[pid]
    failures = 0
    for case_id, transform, _, expected in checks(pattern):
        if transform == "grad":
            continue
        case = pattern.case(case_id)
        try:
            got = wrong(**{k: oracle_input(v) for k, v in case.args.items()})
        except Exception:  # a wrong oracle may also crash on some input
            failures += 1
            continue
        failures += bool(compare(as_expectation(got), as_result(expected), tolerance=case.tolerance,
                                 platform="cpu"))
    assert failures, f"a wrong oracle for {pid} matched every fixed case: the cases cannot tell"


def test_the_oracle_modules_import_without_jax() -> None:
    """Every oracle module imports in a process where JAX cannot load (the judge never imports JAX)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "sys.modules['jax'] = None\n"
        "import importlib\n"
        "from jaxpat.conformance.oracles import MODULES\n"
        "for m in MODULES:\n"
        "    importlib.import_module('jaxpat.conformance.oracles.' + m)\n"
        "assert not any(k == 'jax' or k.startswith(('jax.', 'jaxlib')) for k, v in sys.modules.items() if v)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# Right numbers in the wrong form: the judge's direction accepts a weak Python scalar, so only the strict
# direction (the case's value as the expectation) catches an oracle that loses the dtype or the structure.
_WRONG_FORM: dict[str, Callable[..., Any]] = {
    "jit-static-argnums": lambda x: float(x) if x > 0 else 2.0 * x,  # a Python float, not float32
    "grad-partial-derivatives": lambda x, y: [np.float32(2 * x * y), np.float32(x * x + 3)],  # a list, not a tuple
    "loop-while-early-exit": lambda n: np.asarray(_collatz(int(n)), np.int64),  # int64, not int32
    # NumPy's defaults: int64 for integer bounds, float64 for a float bound
    "arange-dtype": lambda start, stop, dtype: np.arange(start, stop, dtype=dtype),
}


def _collatz(n: int) -> int:
    steps = 0
    while n != 1:
        n, steps = (n // 2 if n % 2 == 0 else 3 * n + 1), steps + 1
    return steps


@pytest.mark.parametrize("pid", sorted(_WRONG_FORM))
def test_an_oracle_of_the_wrong_form_fails_the_strict_comparison(pid: str) -> None:
    pattern = _CATALOG.get(pid)
    strict_failures = 0
    for case_id, transform, _, expected in checks(pattern):
        if transform == "grad":
            continue
        case = pattern.case(case_id)
        got = _WRONG_FORM[pid](**{k: oracle_input(v) for k, v in case.args.items()})
        strict_failures += bool(compare(expected, as_result(got), tolerance=case.tolerance, platform="cpu"))
    assert strict_failures, f"an oracle of the wrong form for {pid} passed the strict comparison"
