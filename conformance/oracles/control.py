"""Oracles of the ``control-flow`` family: the branches written as Python conditionals, element by element."""

from __future__ import annotations

import numpy as np

__all__ = ["identity_or_double", "identity_or_double_grad", "square_or_negate", "square_or_negate_grad"]


def _each(x: np.ndarray, fn: object) -> np.ndarray:
    x = np.asarray(x)
    flat = [fn(float(v)) for v in x.ravel()]  # type: ignore[operator]
    return np.array(flat, dtype=np.float64).reshape(x.shape).astype(x.dtype)


def square_or_negate(x: np.ndarray) -> np.ndarray:
    """``x * x`` where ``x > 0``, else ``-x`` (0 takes the second branch)."""
    return _each(x, lambda v: v * v if v > 0 else -v)


def square_or_negate_grad(x: np.ndarray) -> np.ndarray:
    """Its derivative: ``2x`` where ``x > 0``, else ``-1``."""
    return _each(x, lambda v: 2 * v if v > 0 else -1.0)


def identity_or_double(x: np.ndarray) -> np.ndarray:
    """``x`` where ``x > 0``, else ``2 x``."""
    return _each(x, lambda v: v if v > 0 else 2 * v)


def identity_or_double_grad(x: np.ndarray) -> np.ndarray:
    """Its derivative: 1 where ``x > 0``, else 2."""
    return _each(x, lambda v: 1.0 if v > 0 else 2.0)
