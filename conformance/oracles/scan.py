"""Oracles of the ``scan`` family (NumPy; float64 accumulation rounded once to the input's dtype)."""

from __future__ import annotations

import numpy as np

__all__ = ["broadcast_carry_sums", "cumsum", "dot_running", "markov_chain", "moving_average", "total"]


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

def broadcast_carry_sums(xs: np.ndarray, init: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(final carry, stacked carries) of ``c <- c + xs[t]`` from a vector ``init`` over scalar ``xs[t]``: every
    entry of the carry gets the same running sum, ``out[t] = init + xs[0] + ... + xs[t]`` (shape (n, m)).

    Floats in float64, rounded once."""
    xs, init = np.asarray(xs), np.asarray(init)
    run = np.cumsum(xs.astype(np.float64))
    rows = init.astype(np.float64)[None, :] + run[:, None]
    final = init.astype(np.float64) + (run[-1] if run.size else 0.0)
    return final.astype(init.dtype), rows.reshape(xs.shape[0], init.shape[0]).astype(init.dtype)


def dot_running(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sum_i a[i] b[i], the running sums of a[i] b[i]): products and sums in float64, rounded once."""
    a = np.asarray(a)
    prods = a.astype(np.float64) * np.asarray(b, np.float64)
    run = np.cumsum(prods)
    return np.asarray(prods.sum(), dtype=a.dtype), run.astype(a.dtype)


def markov_chain(trans: np.ndarray, init_state: int, uniforms: np.ndarray) -> np.ndarray:
    """Inverse-CDF sampling of a Markov chain: from ``init_state``, each step goes to the number of entries of
    ``cumsum(trans[s])`` at or below ``u`` (the first state whose CDF exceeds u), clamped to the last state;
    the visited states as int32. CDF in float64: the domain keeps every u away from the CDF's steps."""
    t = np.asarray(trans, np.float64)
    s = int(init_state)
    out = []
    for u in np.asarray(uniforms, np.float64):
        s = min(int(np.sum(np.cumsum(t[s]) <= u)), t.shape[0] - 1)
        out.append(s)
    return np.array(out, dtype=np.int32)
