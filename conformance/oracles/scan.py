"""Oracles of the ``scan`` family (NumPy; float64 accumulation rounded once to the input's dtype)."""

from __future__ import annotations

import numpy as np

__all__ = ["cumsum", "moving_average", "total"]


def _float(xs: np.ndarray) -> bool:
    return xs.dtype.kind in "fc"


def cumsum(xs: np.ndarray) -> np.ndarray:
    """Running sums down axis 0: ``out[i] = xs[0] + ... + xs[i]``, in the dtype of ``xs``.

    Integers accumulate exactly (wrapping as int32 arithmetic does); floats in float64, then rounded once.
    """
    xs = np.asarray(xs)
    if not _float(xs):
        return np.cumsum(xs, axis=0, dtype=xs.dtype)
    return np.cumsum(xs.astype(np.float64), axis=0).astype(xs.dtype)


def total(xs: np.ndarray) -> np.ndarray:
    """The sum down axis 0 (the final carry of a running sum), in the dtype of ``xs``; 0 for an empty ``xs``."""
    xs = np.asarray(xs)
    if not _float(xs):
        return np.asarray(np.sum(xs, axis=0, dtype=xs.dtype))
    return np.asarray(np.sum(xs.astype(np.float64), axis=0)).astype(xs.dtype)


def moving_average(xs: np.ndarray) -> np.ndarray:
    """The recursive filter ``avg_t = (2 avg_{t-1} + x_t) / 3`` from ``avg_{-1} = 0``: every ``avg_t``, in float64
    rounded once to the dtype of ``xs``."""
    xs = np.asarray(xs)
    out = np.empty(xs.shape, dtype=np.float64)
    avg = np.zeros(xs.shape[1:], dtype=np.float64)
    for t in range(xs.shape[0]):
        avg = (2.0 * avg + xs[t].astype(np.float64)) / 3.0
        out[t] = avg
    return out.astype(xs.dtype)
