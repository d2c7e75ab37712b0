"""Oracles of the single-device ``devices-*`` patterns that return values. No JAX."""

from __future__ import annotations

import numpy as np

__all__ = ["default_dtypes", "matmul", "scatter_add"]


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b in float64, rounded once to a's dtype."""
    return np.asarray(np.asarray(a, np.float64) @ np.asarray(b, np.float64), dtype=np.asarray(a).dtype)


def scatter_add(x: np.ndarray, idx: np.ndarray, values: np.ndarray) -> np.ndarray:
    """x with values[i] added at idx[i], duplicates accumulating (np.add.at; floats in float64, rounded once)."""
    x = np.asarray(x)
    acc = x.astype(np.float64) if x.dtype.kind == "f" else np.array(x, copy=True)
    np.add.at(acc, np.asarray(idx), np.asarray(values).astype(acc.dtype))
    return acc.astype(x.dtype)


def default_dtypes(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(jnp.arange(n), jnp.arange(n) / 2) under JAX's 32-bit defaults: int32 and float32."""
    k = np.arange(n)
    return k.astype(np.int32), (k / 2).astype(np.float32)
