"""Oracles of the control-flow patterns (``control-flow-*``, traced branches): NumPy, no JAX."""

from __future__ import annotations

import numpy as np

__all__ = ["clamped_switch", "clamped_switch_grad", "guarded_and", "guarded_or", "piecewise_select",
           "select", "square_or_negate", "square_or_negate_grad", "x_or_double", "x_or_double_grad"]


def square_or_negate(x: np.ndarray) -> np.ndarray:
    """``x^2`` where x > 0, else ``-x`` (0 takes the false branch)."""
    x64 = np.asarray(x, np.float64)
    return np.asarray(np.where(x64 > 0, x64 * x64, -x64), dtype=np.asarray(x).dtype)


def square_or_negate_grad(x: np.ndarray) -> np.ndarray:
    """``2x`` where x > 0, else ``-1``."""
    x64 = np.asarray(x, np.float64)
    return np.asarray(np.where(x64 > 0, 2 * x64, -1.0), dtype=np.asarray(x).dtype)


_BRANCH_VALUE = (lambda v: v + 1, lambda v: 2 * v, lambda v: v * v)
_BRANCH_GRAD = (lambda v: np.ones_like(v), lambda v: np.full_like(v, 2.0), lambda v: 2 * v)


def clamped_switch(index: int, x: np.ndarray) -> np.ndarray:
    """Branch ``clip(index, 0, 2)`` of ``(x + 1, 2x, x^2)`` (lax.switch clamps the index)."""
    i = min(max(int(index), 0), 2)
    return np.asarray(_BRANCH_VALUE[i](np.asarray(x, np.float64)), dtype=np.asarray(x).dtype)


def clamped_switch_grad(index: int, x: np.ndarray) -> np.ndarray:
    """d/dx of :func:`clamped_switch`: 1, 2 or 2x."""
    i = min(max(int(index), 0), 2)
    return np.asarray(_BRANCH_GRAD[i](np.asarray(x, np.float64)), dtype=np.asarray(x).dtype)


def select(pred: np.ndarray, on_true: np.ndarray, on_false: np.ndarray) -> np.ndarray:
    """Elementwise ``pred ? on_true : on_false`` (same shapes and dtype)."""
    return np.where(np.asarray(pred, bool), on_true, on_false).astype(np.asarray(on_true).dtype)


def piecewise_select(x: np.ndarray) -> np.ndarray:
    """``-x`` where x < 0, else ``x^2`` where x < 1, else 1 (the first condition that holds)."""
    x64 = np.asarray(x, np.float64)
    return np.asarray(np.where(x64 < 0, -x64, np.where(x64 < 1, x64 * x64, 1.0)), dtype=np.asarray(x).dtype)


def guarded_or(x: np.ndarray) -> np.ndarray:
    """``x == 0 or 1/x > 2`` elementwise (1/0 = inf is harmless): a bool array."""
    x64 = np.asarray(x, np.float64)
    with np.errstate(divide="ignore"):
        return np.asarray((x64 == 0) | (1.0 / x64 > 2.0), dtype=bool)


def guarded_and(x: np.ndarray) -> np.ndarray:
    """``x != 0 and 1/x > 0.5`` elementwise: a bool array."""
    x64 = np.asarray(x, np.float64)
    with np.errstate(divide="ignore"):
        return np.asarray((x64 != 0) & (1.0 / x64 > 0.5), dtype=bool)


def x_or_double(x: np.ndarray) -> np.ndarray:
    """``x`` where x > 0, else ``2x``."""
    x64 = np.asarray(x, np.float64)
    return np.asarray(np.where(x64 > 0, x64, 2 * x64), dtype=np.asarray(x).dtype)


def x_or_double_grad(x: np.ndarray) -> np.ndarray:
    """d/dx of :func:`x_or_double`: 1 where x > 0, else 2."""
    x64 = np.asarray(x, np.float64)
    return np.asarray(np.where(x64 > 0, 1.0, 2.0), dtype=np.asarray(x).dtype)
