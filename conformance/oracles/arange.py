"""Oracles of the ``arange`` family (NumPy, with JAX's default dtypes: int32 and float32)."""

from __future__ import annotations

import numpy as np

__all__ = ["arange_int", "triangular"]


def arange_int(start: int, stop: int, step: int) -> np.ndarray:
    """``start, start + step, ...`` strictly before ``stop`` (after it for a negative step), as int32: the length
    is ``max(0, ceil((stop - start) / step))`` and element ``k`` is ``start + k * step``."""
    length = max(0, -((start - stop) // step))  # ceil((stop - start) / step) in integers
    return np.array([start + k * step for k in range(length)], dtype=np.int32)


def triangular(n: int) -> np.ndarray:
    """The running sums of ``0, 1, ..., n - 1``: ``k (k + 1) / 2`` for ``k < n``, as int32."""
    return np.array([k * (k + 1) // 2 for k in range(n)], dtype=np.int32)
