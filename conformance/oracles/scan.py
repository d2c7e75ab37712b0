"""Oracles of the ``scan`` family (NumPy, float64 accumulation cast to the input's dtype)."""

from __future__ import annotations

import numpy as np

__all__ = ["cumsum"]


def cumsum(xs: np.ndarray) -> np.ndarray:
    """Running sums down axis 0: ``out[i] = xs[0] + ... + xs[i]``, in the dtype of ``xs``.

    Integers accumulate exactly (wrapping as int32 arithmetic does); floats in float64, then rounded once.
    """
    xs = np.asarray(xs)
    if xs.dtype.kind in "iu":
        return np.cumsum(xs, axis=0, dtype=xs.dtype)
    return np.cumsum(xs.astype(np.float64), axis=0).astype(xs.dtype)
