"""Oracles of the ``vmap`` patterns: the batched result written directly with NumPy."""

from __future__ import annotations

import numpy as np

__all__ = ["conv1d_rows", "dot_shared", "euclidean_rows", "masked_sum", "masked_sum_grad", "outer_sum_scale",
           "per_example_grads", "row_norms", "row_sum_squares", "row_sums", "square", "sum_axis", "sum_mapped_axis",
           "sum_of_length"]


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

def row_sums(x: np.ndarray) -> np.ndarray:
    """vmap of sum over axis 0 (the default in_axes): the sum of each row, in x's dtype."""
    return sum_axis(x, 1)


def sum_mapped_axis(x: np.ndarray, in_axes: int) -> np.ndarray:
    """vmap(sum, in_axes=k) of a matrix: slice k of axis ``in_axes`` summed, i.e. the sum over the other axis."""
    return sum_axis(x, 1 - int(in_axes))


def dot_shared(xs: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``w . xs[i]`` per row (w shared by every example, in_axes [0, None]), in xs's dtype."""
    xs = np.asarray(xs)
    if xs.dtype.kind == "f":
        return (xs.astype(np.float64) @ np.asarray(w, np.float64)).astype(xs.dtype)
    return (xs @ np.asarray(w)).astype(xs.dtype)


def per_example_grads(w: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Row i is grad_w of 0.5 (w . xs[i])^2, that is (w . xs[i]) xs[i]; float64, rounded once."""
    xs = np.asarray(xs)
    x64 = xs.astype(np.float64)
    return ((x64 @ np.asarray(w, np.float64))[:, None] * x64).astype(xs.dtype)


def row_sum_squares(x: np.ndarray, batch_size: int) -> np.ndarray:
    """The sum of squares of each row (chunking by ``batch_size`` changes the schedule, not the values)."""
    x = np.asarray(x)
    if x.dtype.kind == "f":
        return np.sum(x.astype(np.float64) ** 2, axis=1).astype(x.dtype)
    return np.sum(x * x, axis=1, dtype=x.dtype)


def row_norms(xs: np.ndarray) -> np.ndarray:
    """The Euclidean norm of each row, float64 rounded once to xs's dtype."""
    xs = np.asarray(xs)
    return np.sqrt(np.sum(xs.astype(np.float64) ** 2, axis=1)).astype(xs.dtype)


def sum_of_length(length: np.ndarray, val: np.ndarray) -> np.ndarray:
    """``sum(ones(length) * val)`` with a concrete length: ``length * val`` in val's dtype."""
    v = np.asarray(val)
    return np.asarray(int(length) * v.astype(np.float64), dtype=v.dtype)


def masked_sum(length: np.ndarray, val: np.ndarray, max_length: int) -> np.ndarray:
    """``sum(where(arange(max_length) < length, val, 0))``: ``clip(length, 0, max_length) * val``."""
    v = np.asarray(val)
    k = min(max(int(length), 0), int(max_length))
    return np.asarray(k * v.astype(np.float64), dtype=v.dtype)


def masked_sum_grad(length: np.ndarray, val: np.ndarray, max_length: int) -> np.ndarray:
    """d/dval of :func:`masked_sum`: the number of unmasked entries, ``clip(length, 0, max_length)``."""
    v = np.asarray(val)
    return np.asarray(min(max(int(length), 0), int(max_length)), dtype=v.dtype)
