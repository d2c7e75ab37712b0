"""Oracles of the ``vmap`` patterns: the batched result written directly with NumPy."""

from __future__ import annotations

import numpy as np

__all__ = ["conv1d_rows", "euclidean_rows", "outer_sum_scale", "square", "sum_axis"]


def square(x: np.ndarray) -> np.ndarray:
    """``x * x`` elementwise, in the dtype of ``x`` (float products rounded once)."""
    x = np.asarray(x)
    return (x.astype(np.float64) ** 2).astype(x.dtype) if x.dtype.kind == "f" else x * x


def sum_axis(x: np.ndarray, axis: int) -> np.ndarray:
    """The sum over ``axis``, in the dtype of ``x`` (floats accumulated in float64)."""
    x = np.asarray(x)
    if x.dtype.kind == "f":
        return np.sum(x.astype(np.float64), axis=axis).astype(x.dtype)
    return np.sum(x, axis=axis, dtype=x.dtype)


def euclidean_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``sqrt(sum((x[i] - y[i]) ** 2))`` per row, float32 (integer inputs are promoted by the square root)."""
    d = np.asarray(x).astype(np.float64) - np.asarray(y).astype(np.float64)
    return np.sqrt(np.sum(d * d, axis=1)).astype(np.float32)


def outer_sum_scale(x: np.ndarray, y: np.ndarray, scalar: np.ndarray) -> np.ndarray:
    """Row ``i`` is ``(x[i] + y[i]) * scalar`` (the shared argument broadcast over the batch)."""
    x, y, s = np.asarray(x), np.asarray(y), np.asarray(scalar)
    dtype = np.result_type(x, y, s)
    if dtype.kind == "f":
        return np.outer(x.astype(np.float64) + y.astype(np.float64), s.astype(np.float64)).astype(dtype)
    return np.outer((x + y).astype(dtype), s.astype(dtype)).astype(dtype)


def conv1d_rows(xs: np.ndarray, ws: np.ndarray) -> np.ndarray:
    """``np.convolve(xs[b], ws[b], mode="valid")`` per row (a true convolution: the kernel is flipped)."""
    xs, ws = np.asarray(xs), np.asarray(ws)
    n, k = xs.shape[1], ws.shape[1]
    out = np.zeros((xs.shape[0], max(n, k) - min(n, k) + 1), dtype=np.float64)
    for b in range(xs.shape[0]):
        out[b] = np.convolve(xs[b].astype(np.float64), ws[b].astype(np.float64), mode="valid")
    return out.astype(xs.dtype)
