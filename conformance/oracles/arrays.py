"""Oracles of the array patterns: functional index updates, selection, products (NumPy)."""

from __future__ import annotations

import numpy as np

__all__ = ["at_add", "at_max", "at_min", "at_set", "matvec_rows", "quadratic_form_grad", "select"]


def _updated(x: np.ndarray, idx: object, value: object, how: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x)
    out = x.copy()
    v = np.asarray(value).astype(x.dtype)
    if how == "set":
        out[idx] = v
    else:
        {"add": np.add, "min": np.minimum, "max": np.maximum}[how].at(out, idx, v)
    return out, x.copy()


def at_set(x: np.ndarray, idx: object, value: object) -> tuple[np.ndarray, np.ndarray]:
    """``(x with x[idx] = value, x unchanged)``: the value cast to the dtype of ``x``."""
    return _updated(x, idx, value, "set")


def at_add(x: np.ndarray, idx: object, value: object) -> tuple[np.ndarray, np.ndarray]:
    """``(x with value added at idx -- repeated indices accumulate, as np.add.at --, x unchanged)``."""
    return _updated(x, idx, value, "add")


def at_min(x: np.ndarray, idx: object, value: object) -> tuple[np.ndarray, np.ndarray]:
    """``(x with x[idx] = min(x[idx], value), x unchanged)``."""
    return _updated(x, idx, value, "min")


def at_max(x: np.ndarray, idx: object, value: object) -> tuple[np.ndarray, np.ndarray]:
    """``(x with x[idx] = max(x[idx], value), x unchanged)``."""
    return _updated(x, idx, value, "max")


def select(pred: np.ndarray, on_true: np.ndarray, on_false: np.ndarray) -> np.ndarray:
    """``on_true`` where ``pred``, else ``on_false``, elementwise."""
    return np.where(np.asarray(pred), np.asarray(on_true), np.asarray(on_false))


def matvec_rows(w: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """``dot(w, x)`` for every row ``x`` of ``xs`` (float64 sums, rounded once to the inputs' dtype)."""
    xs, w = np.asarray(xs), np.asarray(w)
    return (xs.astype(np.float64) @ w.astype(np.float64)).astype(np.result_type(xs, w))


def quadratic_form_grad(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The gradient of ``x^T A x`` with respect to ``x``: ``(A + A^T) x``."""
    a64, x64 = np.asarray(a, dtype=np.float64), np.asarray(x, dtype=np.float64)
    return ((a64 + a64.T) @ x64).astype(np.result_type(a, x))
