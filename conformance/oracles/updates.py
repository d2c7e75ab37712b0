"""Oracles of the functional-update patterns (``at-*``, ``slice-is-a-copy``, ``reshape-is-a-copy``): NumPy
on copies, so the input is returned untouched beside the updated array. No JAX."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["at_add", "at_max", "at_min", "at_set", "logical_and_or", "reshape_copy_update", "set_even_below_64",
           "set_first", "slice_copy_update"]


def _cast(value: Any, dtype: np.dtype) -> Any:
    return np.asarray(value).astype(dtype)


def at_set(x: np.ndarray, idx: Any, value: Any) -> tuple[np.ndarray, np.ndarray]:
    """(x with x[idx] = value, x): ``a = x.copy(); a[idx] = value``."""
    a = np.array(x, copy=True)
    a[idx] = _cast(value, a.dtype)
    return a, np.array(x, copy=True)


def at_add(x: np.ndarray, idx: Any, value: Any) -> tuple[np.ndarray, np.ndarray]:
    """(x with value added at every index of idx, repeated indices accumulating (np.add.at), x).

    Floats accumulate in float64 and are rounded once."""
    a = np.array(x, copy=True)
    if a.dtype.kind == "f":
        acc = a.astype(np.float64)
        np.add.at(acc, idx, float(value))
        return acc.astype(a.dtype), np.array(x, copy=True)
    np.add.at(a, idx, _cast(value, a.dtype))
    return a, np.array(x, copy=True)


def at_min(x: np.ndarray, idx: Any, value: Any) -> tuple[np.ndarray, np.ndarray]:
    """(x with x[idx] = min(x[idx], value), x)."""
    a = np.array(x, copy=True)
    np.minimum.at(a, idx, _cast(value, a.dtype))
    return a, np.array(x, copy=True)


def at_max(x: np.ndarray, idx: Any, value: Any) -> tuple[np.ndarray, np.ndarray]:
    """(x with x[idx] = max(x[idx], value), x)."""
    a = np.array(x, copy=True)
    np.maximum.at(a, idx, _cast(value, a.dtype))
    return a, np.array(x, copy=True)


def slice_copy_update(x: np.ndarray, value: Any) -> tuple[np.ndarray, np.ndarray]:
    """(x, the slice x[1:3] as a copy with its element 0 set to value): the source is not a view's base."""
    v = np.array(x[1:3], copy=True)
    v[0] = _cast(value, v.dtype)
    return np.array(x, copy=True), v


def reshape_copy_update(x: np.ndarray, value: Any) -> tuple[np.ndarray, np.ndarray]:
    """(x, x flattened (a copy) with its element 0 set to value)."""
    v = np.array(x, copy=True).reshape(-1)
    v[0] = _cast(value, v.dtype)
    return np.array(x, copy=True), v

def set_first(x: np.ndarray, v: Any) -> np.ndarray:
    """x with element 0 replaced by v (``a = x.copy(); a[0] = v``)."""
    a = np.array(x, copy=True)
    a[0] = _cast(v, a.dtype)
    return a


def set_even_below_64(x: np.ndarray) -> np.ndarray:
    """x with every even index below 64 set to -1 (``a[0:64:2] = -1`` on a copy; 32 updates)."""
    a = np.array(x, copy=True)
    a[0:64:2] = -1
    return a


def logical_and_or(x: np.ndarray) -> np.ndarray:
    """``[all(x < 0) and sum(x^2) > 10, any(x > 0) or sum(x^2) > 10]`` as bool[2] (sum of squares in float64:
    the domain keeps it far from 10 or exact)."""
    x64 = np.asarray(x, np.float64)
    big = bool(np.sum(x64 * x64) > 10)
    return np.array([bool(np.all(x64 < 0)) and big, bool(np.any(x64 > 0)) or big], dtype=bool)
