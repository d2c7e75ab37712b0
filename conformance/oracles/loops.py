"""Oracles of the ``loops`` family: closed forms of the loops' recurrences (float64, rounded once)."""

from __future__ import annotations

import numpy as np

__all__ = ["collatz_steps", "geometric_sum", "geometric_sum_grad", "power", "power_grad"]


def _like(value: float, x: np.ndarray) -> np.ndarray:
    return np.asarray(value, dtype=np.asarray(x).dtype)


def geometric_sum(x: np.ndarray, n: int) -> np.ndarray:
    """``carry <- carry * x + 1`` n times from 0: ``sum(x**k for k < n)``, in the dtype of ``x``."""
    v = float(x)
    return _like(sum(v**k for k in range(n)), x)


def geometric_sum_grad(x: np.ndarray, n: int) -> np.ndarray:
    """``d/dx sum(x**k for k < n) = sum(k * x**(k - 1) for 1 <= k < n)``."""
    v = float(x)
    return _like(sum(k * v ** (k - 1) for k in range(1, n)), x)


def power(x: np.ndarray, n: int) -> np.ndarray:
    """``carry <- carry * x`` n times from 1: ``x**n`` (``1`` for n = 0), in the dtype of ``x``."""
    return _like(float(x) ** n, x)


def power_grad(x: np.ndarray, n: int) -> np.ndarray:
    """``d/dx x**n = n * x**(n - 1)`` (0 for n = 0)."""
    return _like(n * float(x) ** (n - 1) if n else 0.0, x)


def collatz_steps(n: np.ndarray) -> np.ndarray:
    """How many Collatz steps (``n/2`` if even, else ``3n + 1``) take ``n`` to 1 (0 for n <= 1), in its dtype."""
    v, steps = int(n), 0
    while v > 1:
        v = v // 2 if v % 2 == 0 else 3 * v + 1
        steps += 1
    return np.asarray(steps, dtype=np.asarray(n).dtype)
