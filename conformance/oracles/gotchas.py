"""Oracles of the gotcha patterns whose correct spelling returns a value. No JAX."""

from __future__ import annotations

import numpy as np

__all__ = ["matrix_vector", "stacked_sum", "stateful_counter"]


def stacked_sum(xs: list[float]) -> np.ndarray:
    """sum(jnp.stack(xs)) of a list of Python numbers: int32 if all are ints, else float32 (summed in float64,
    rounded once)."""
    if all(type(v) is int for v in xs):
        return np.asarray(sum(xs), np.int32)
    return np.asarray(sum(float(v) for v in xs), np.float32)


def matrix_vector(w: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """xs @ w: one dot product per row of xs."""
    return np.asarray(np.asarray(xs, np.float64) @ np.asarray(w, np.float64), dtype=np.asarray(w).dtype)


def stateful_counter(n_calls: int) -> tuple[list[int], int]:
    """A jitted bound method that increments self.n runs its body once, at trace time: every call returns 1
    and self.n ends at 1 (no call: [] and 0)."""
    return [1] * n_calls, (1 if n_calls > 0 else 0)
