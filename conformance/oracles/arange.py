"""Oracles of the ``arange`` family (NumPy, with JAX's default dtypes: int32 and float32)."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["arange_dtype", "arange_int", "arange_n", "arange_range", "triangular", "weighted_by_index",
           "weighted_by_index_grad"]


def arange_int(start: int, stop: int, step: int) -> np.ndarray:
    """``start, start + step, ...`` strictly before ``stop`` (after it for a negative step), as int32: the length
    is ``max(0, ceil((stop - start) / step))`` and element ``k`` is ``start + k * step``."""
    length = max(0, -((start - stop) // step))  # ceil((stop - start) / step) in integers
    return np.array([start + k * step for k in range(length)], dtype=np.int32)


def triangular(n: int) -> np.ndarray:
    """The running sums of ``0, 1, ..., n - 1``: ``k (k + 1) / 2`` for ``k < n``, as int32."""
    return np.array([k * (k + 1) // 2 for k in range(n)], dtype=np.int32)

def arange_dtype(start: int | float, stop: int | float, dtype: str | None) -> np.ndarray:
    """``jnp.arange(start, stop, dtype=dtype)`` (default config): ``start + k`` for ``start + k < stop``; without
    a dtype, int32 when both bounds are Python ints, else float32 (JAX's 32-bit defaults, not NumPy's int64)."""
    if dtype is None:
        dtype = "int32" if isinstance(start, int) and isinstance(stop, int) else "float32"
    length = max(0, math.ceil(stop - start))
    return np.array([start + k for k in range(length)], dtype=np.float64).astype(dtype)


def arange_n(n: int) -> np.ndarray:
    """``jnp.arange(n)`` for a concrete Python int ``n``: ``0, 1, ..., n - 1`` as int32 (empty for n <= 0)."""
    return np.array(range(max(0, int(n))), dtype=np.int32)


def weighted_by_index(x: np.ndarray) -> np.ndarray:
    """``sum_i i * x[i]``: float64 accumulation rounded once to x's dtype (0-d)."""
    x = np.asarray(x)
    return np.asarray(np.dot(np.arange(x.shape[0], dtype=np.float64), x.astype(np.float64)), dtype=x.dtype)


def weighted_by_index_grad(x: np.ndarray) -> np.ndarray:
    """d/dx_i of :func:`weighted_by_index`: ``i``, in x's dtype and shape."""
    x = np.asarray(x)
    return np.arange(x.shape[0]).astype(x.dtype)


def arange_range(start: int | float, stop: int | float, step: int | float) -> np.ndarray:
    """``jnp.arange(start, stop, step)`` for Python numbers: :func:`arange_int` when all three are ints, else
    float32 ``start + k * step`` (in float64, rounded once) for ``k < ceil((stop - start) / step)``."""
    if all(isinstance(v, int) for v in (start, stop, step)):
        return arange_int(int(start), int(stop), int(step))
    length = max(0, math.ceil((stop - start) / step))
    return np.array([start + k * step for k in range(length)], dtype=np.float64).astype(np.float32)
