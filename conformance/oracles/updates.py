"""Oracles of the functional-update patterns (``at-*``, ``slice-is-a-copy``, ``reshape-is-a-copy``): NumPy
on copies, so the input is returned untouched beside the updated array. No JAX."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["at_add", "at_max", "at_min", "at_set", "reshape_copy_update", "slice_copy_update"]


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
