"""Compare an actual result with a catalog expectation, collecting every mismatch.

Order of checks for each leaf: tree structure, shape, dtype, then values —
exact for integers, bools and PRNG key data; within the tolerance for floats.
Messages name the path of the leaf, the tolerance used and where it came from.

This is the judge's code: it needs no JAX. Results arrive decoded
(:func:`._wire.decode`): NumPy arrays, Python values, and
:class:`._wire.KeyData` for typed PRNG keys.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jaxpat.catalog import ArrayValue, DictValue, KeyDataValue, ListValue, Tolerance, TupleValue, Value

from ._wire import KeyData, Other, flatten

__all__ = ["agree", "compare", "describe", "same_bits"]

_MAX_SHOWN = 5


def compare(
    expected: Value, actual: Any, *, tolerance: Tolerance, platform: str, batch: int = 0,
) -> list[str]:
    """Return one message per mismatch between ``expected`` and ``actual`` (empty if equal).

    ``batch`` > 0 means ``actual`` carries a leading axis of that size on every
    array leaf, each slice of which must equal ``expected``.
    """
    out: list[str] = []
    _walk(expected, actual, "result", tolerance, platform, batch, out)
    return out


def _walk(exp: Value, act: Any, path: str, tol: Tolerance, platform: str, batch: int, out: list[str]) -> None:
    if isinstance(exp, TupleValue):
        _walk_seq(exp.items, act, tuple, "tuple", path, tol, platform, batch, out)
    elif isinstance(exp, ListValue):
        _walk_seq(exp.items, act, list, "list", path, tol, platform, batch, out)
    elif isinstance(exp, DictValue):
        if not isinstance(act, dict):
            out.append(f"{path}: expected a dict with keys {exp.keys()}, got {_kind(act)}")
            return
        if set(act) != set(exp.keys()):
            out.append(f"{path}: expected dict keys {sorted(exp.keys())}, got {sorted(map(str, act))}")
            return
        for k, v in exp.items:
            _walk(v, act[k], f"{path}[{k!r}]", tol, platform, batch, out)
    elif isinstance(exp, ArrayValue):
        _compare_array(exp, act, path, tol, platform, batch, out)
    elif isinstance(exp, KeyDataValue):
        if not _is_key_array(act):
            out.append(f"{path}: expected a typed PRNG key array, got {_kind(act)}")
            return
        data = ArrayValue("uint32", exp.data.shape, exp.data.data)
        _compare_array(data, act.data, f"key_data({path})", tol, platform, batch, out)
    else:
        _compare_plain(exp, act, path, tol, platform, batch, out)


def _walk_seq(items: tuple[Any, ...], act: Any, typ: type[Any], name: str, path: str, tol: Tolerance,
              platform: str, batch: int, out: list[str]) -> None:
    if type(act) is not typ:
        out.append(f"{path}: expected a {name} of {len(items)}, got {_kind(act)}")
        return
    if len(act) != len(items):
        out.append(f"{path}: expected a {name} of {len(items)} items, got {len(act)}")
        return
    for i, (e, a) in enumerate(zip(items, act, strict=True)):
        _walk(e, a, f"{path}[{i}]", tol, platform, batch, out)


def _compare_plain(exp: Any, act: Any, path: str, tol: Tolerance, platform: str, batch: int, out: list[str]) -> None:
    """Weak expectations: plain Python values compare by value, not by dtype."""
    if exp is None or isinstance(exp, str):
        if act != exp or type(act) is not type(exp):
            out.append(f"{path}: expected {exp!r}, got {_short(act)}")
        return
    if _is_key_array(act) or not _is_numeric(act):
        out.append(f"{path}: expected the number {exp!r}, got {_kind(act)}")
        return
    arr = np.asarray(act)
    want_shape = (batch,) if batch else ()
    if arr.shape != want_shape:
        out.append(f"{path}: expected a scalar {exp!r}, got shape {list(arr.shape)}")
        return
    if isinstance(exp, bool | int):
        if not np.all(arr == exp):
            out.append(f"{path}: expected {exp!r}, got {_short(act)}")
        return
    dtype = str(arr.dtype) if arr.dtype.kind in "fc" else "float32"
    rtol, atol, _ = tol.for_dtype(dtype, platform)
    if not np.allclose(arr, exp, rtol=rtol, atol=atol, equal_nan=True):
        out.append(f"{path}: expected {exp!r} (rtol={rtol:g}, atol={atol:g}), got {_short(act)}")


def _compare_array(exp: ArrayValue, act: Any, path: str, tol: Tolerance, platform: str,
                   batch: int, out: list[str]) -> None:
    if _is_key_array(act):
        out.append(f"{path}: expected a {exp.dtype} array, got a typed PRNG key array {act.dtype}")
        return
    if not _is_numeric(act):
        out.append(f"{path}: expected a {exp.dtype} array of shape {list(exp.shape)}, got {_kind(act)}")
        return
    arr = np.asarray(act)
    want = exp.to_numpy()
    if batch:
        want = np.stack([want] * batch)
    if arr.shape != want.shape:
        out.append(f"{path}: shape mismatch: expected {list(want.shape)}, got {list(arr.shape)}")
        return
    if str(arr.dtype) != exp.dtype:
        out.append(f"{path}: dtype mismatch: expected {exp.dtype}, got {arr.dtype}")
        return
    if arr.dtype.kind in "fc":
        rtol, atol, source = tol.for_dtype(exp.dtype, platform)
        close = np.isclose(arr, want, rtol=rtol, atol=atol, equal_nan=True)
        rule = f"beyond rtol={rtol:g}, atol={atol:g} ({exp.dtype} tolerance from {source})"
    else:
        close = arr == want
        rule = "exactly (integer, bool and key data compare exactly)"
    if np.all(close):
        return
    out.append(f"{path}: values differ {rule}{_largest_differences(want, arr)}\n"
               + _mismatch_details(want, arr, close))


def _largest_differences(want: np.ndarray, got: np.ndarray) -> str:
    """``: max abs diff A, max rel diff R`` over the finite differences (empty when there is none)."""
    if want.dtype.kind not in "fciu" or got.dtype.kind not in "fciu":
        return ""
    w, g = want.astype(np.complex128 if want.dtype.kind == "c" else np.float64), got.astype(
        np.complex128 if got.dtype.kind == "c" else np.float64)
    with np.errstate(all="ignore"):
        abs_err = np.abs(g - w)
        rel_err = abs_err / np.abs(w)
    finite = np.isfinite(abs_err)
    if not finite.any():
        return ""
    text = f": max abs diff {np.max(abs_err[finite]):.6g}"
    rel = rel_err[finite & np.isfinite(rel_err)]
    return text + (f", max rel diff {np.max(rel):.6g}" if rel.size else "")


def _mismatch_details(want: np.ndarray, got: np.ndarray, close: np.ndarray) -> str:
    bad = np.argwhere(~np.asarray(close))
    lines = [f"  mismatched elements: {len(bad)} / {want.size}"]
    shown = [tuple(int(i) for i in idx) for idx in bad[:_MAX_SHOWN]]
    for idx in shown:
        lines.append(f"  at {list(idx)}: expected {_scalar(want[idx])}, got {_scalar(got[idx])}")
    if want.size <= 20:
        lines += _aligned(want, got)
    return "\n".join(lines)


def _aligned(want: np.ndarray, got: np.ndarray) -> list[str]:
    """``expected:`` and ``actual:`` lines with each element of ``got`` right under the same element of
    ``want`` (arrays of one shape): every element is padded to the widest of both."""
    def text(x: Any) -> str:
        return str(x.item()) if want.dtype.kind == "b" else str(x)

    width = max((len(text(x)) for x in (*want.ravel(), *got.ravel())), default=0)
    out = []
    for label, arr in (("  expected: ", want), ("  actual:   ", got)):
        body = np.array2string(arr, separator=", ", prefix=label, max_line_width=10_000,
                               formatter={"all": lambda x: text(x).rjust(width)}, threshold=10_000)
        out.append(label + body)
    return out


def _scalar(x: Any) -> str:
    return repr(x.item()) if hasattr(x, "item") else repr(x)


def _is_key_array(x: Any) -> bool:
    return isinstance(x, KeyData)


def _is_numeric(x: Any) -> bool:
    return isinstance(x, bool | int | float | complex | np.generic | np.ndarray)


def _kind(x: Any) -> str:
    if isinstance(x, Other):
        return f"an object of type {x.type}: {_short(x)}"
    if isinstance(x, KeyData):
        return f"typed key array {x.dtype}{list(x.shape)}"
    if isinstance(x, np.ndarray):
        return f"array {x.dtype}{list(x.shape)}"
    if isinstance(x, list | tuple):
        return f"a {type(x).__name__} of {len(x)}"
    if isinstance(x, dict):
        return f"a dict with keys {sorted(map(str, x))}"
    return f"{type(x).__name__} {_short(x)}"


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 200 else text[:197] + "..."


def describe(x: Any) -> str:
    """A one-line description of a result's structure, for messages."""
    return _kind(x)


def _paired_leaves(a: Any, b: Any) -> tuple[list[tuple[str, Any, Any]], str | None]:
    """The leaves of two results side by side (key arrays as their key data), or why they cannot pair."""
    la, ta = flatten(a)
    lb, tb = flatten(b)
    if ta != tb or [p for p, _ in la] != [p for p, _ in lb]:
        return [], f"tree structure differs: {ta} vs {tb}"
    pairs = []
    for (where, x), (_, y) in zip(la, lb, strict=True):
        if isinstance(x, KeyData) and isinstance(y, KeyData):
            x, y = x.data, y.data
        pairs.append((where, x, y))
    return pairs, None


def same_bits(a: Any, b: Any) -> list[str]:
    """Return the leaf paths where two results differ bit for bit (empty if identical)."""
    pairs, mismatch = _paired_leaves(a, b)
    if mismatch:
        return [mismatch]
    diffs = []
    for where, x, y in pairs:
        xa, ya = np.asarray(x), np.asarray(y)
        if xa.dtype != ya.dtype or xa.shape != ya.shape or xa.tobytes() != ya.tobytes():
            diffs.append(f"{where}: {_short(x)} then {_short(y)}")
    return diffs


def agree(a: Any, b: Any, *, tolerance: Tolerance, platform: str) -> list[str]:
    """Where two devices' results disagree: bitwise for integers, bools and key data; floats within tolerance."""
    pairs, mismatch = _paired_leaves(a, b)
    if mismatch:
        return [mismatch]
    out = []
    for where, x, y in pairs:
        xa, ya = np.asarray(x), np.asarray(y)
        if xa.dtype != ya.dtype or xa.shape != ya.shape:
            out.append(f"{where}: {xa.dtype}{list(xa.shape)} vs {ya.dtype}{list(ya.shape)}")
        elif xa.dtype.kind in "fc":
            rtol, atol, source = tolerance.for_dtype(str(xa.dtype), platform)
            close = np.isclose(xa, ya, rtol=rtol, atol=atol, equal_nan=True)
            if not np.all(close):
                out.append(f"{where}: differs beyond rtol={rtol:g}, atol={atol:g} ({source})\n"
                           + _mismatch_details(xa, ya, close))
        elif xa.tobytes() != ya.tobytes():
            out.append(f"{where}: differs bit for bit\n" + _mismatch_details(xa, ya, xa == ya))
    return out
