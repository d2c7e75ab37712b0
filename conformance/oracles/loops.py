"""Oracles of the loop patterns (``loop-*``, ``checkpoint-scan-body``): NumPy and plain Python, no JAX.

Each computes the loop's mathematics in float64 (or exact Python integers) and
rounds once to the dtype JAX returns; the explore tolerances in catalog.yaml
say how far a float32 loop may drift from that.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["collatz_steps", "geometric_break", "geometric_break_grad", "power", "power_grad", "power_sum",
           "power_sum_grad", "rnn_loss", "rnn_loss_grad", "sqrt"]


def _like(value: Any, x: np.ndarray) -> np.ndarray:
    """``value`` (float64) rounded to the dtype and shape of ``x``."""
    return np.asarray(np.asarray(value, np.float64).reshape(np.shape(x)), dtype=np.asarray(x).dtype)


def power_sum(x: np.ndarray, n: int) -> np.ndarray:
    """``carry <- carry * x + 1`` from 0, ``n`` times: ``sum_{k<n} x^k`` (0 for n = 0), in x's dtype."""
    x64 = np.asarray(x, np.float64)
    return _like(sum((x64 ** k for k in range(n)), np.zeros_like(x64)), x)


def power_sum_grad(x: np.ndarray, n: int) -> np.ndarray:
    """d/dx of :func:`power_sum`: ``sum_{1<=k<n} k x^(k-1)``."""
    x64 = np.asarray(x, np.float64)
    return _like(sum((k * x64 ** (k - 1) for k in range(1, n)), np.zeros_like(x64)), x)


def power(x: np.ndarray, n: Any) -> np.ndarray:
    """``x ** n`` by ``n`` multiplications from 1 (``x^0 = 1``); ``n`` a Python int or an integer 0-d array."""
    n = int(n)
    return _like(np.asarray(x, np.float64) ** n, x)


def power_grad(x: np.ndarray, n: Any) -> np.ndarray:
    """d/dx x^n = n x^(n-1) (0 for n = 0)."""
    n = int(n)
    x64 = np.asarray(x, np.float64)
    return _like(n * x64 ** (n - 1) if n else np.zeros_like(x64), x)


def collatz_steps(n: np.ndarray) -> np.ndarray:
    """How many Collatz steps (n//2 if even else 3n+1) take ``n`` (>= 1) to 1, as int32."""
    v, steps = int(n), 0
    while v != 1:
        v = v // 2 if v % 2 == 0 else 3 * v + 1
        steps += 1
    return np.asarray(steps, np.int32)


def sqrt(a: np.ndarray, max_iter: int) -> np.ndarray:
    """The square root of ``a >= 0`` elementwise (what Newton's iteration converges to), in a's dtype."""
    return _like(np.sqrt(np.asarray(a, np.float64)), a)


def _break_terms(n: int, tol: float) -> list[float]:
    terms = []
    for i in range(n):
        term = 0.5 ** i
        if term < tol:
            break
        terms.append(term)
    return terms


def geometric_break(x: np.ndarray, n: int, tol: float) -> np.ndarray:
    """``sum of 0.5^i * x`` over i < n, stopping at the first i with 0.5^i < tol."""
    return _like(sum(_break_terms(n, tol), 0.0) * np.asarray(x, np.float64), x)


def geometric_break_grad(x: np.ndarray, n: int, tol: float) -> np.ndarray:
    """d/dx of :func:`geometric_break`: the sum of the terms kept."""
    return _like(np.full(np.shape(x), sum(_break_terms(n, tol), 0.0)), x)


def _rnn(w: float, xs: np.ndarray) -> tuple[list[float], float]:
    h, hs = 0.0, []
    for x in xs:
        h = float(np.tanh(w * h + float(x)))
        hs.append(h)
    return hs, float(sum(v * v for v in hs))


def rnn_loss(w: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """``h_t = tanh(w h_{t-1} + x_t)`` from h = 0; the loss ``sum_t h_t^2`` (0 for empty xs), in w's dtype."""
    return _like(_rnn(float(w), np.asarray(xs, np.float64))[1], w)


def rnn_loss_grad(w: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """d loss / d w by the adjoint recursion: ``a_t = 2 h_t + a_{t+1} w (1 - h_{t+1}^2)``,
    ``dL/dw = sum_t a_t (1 - h_t^2) h_{t-1}``."""
    wf = float(w)
    hs, _ = _rnn(wf, np.asarray(xs, np.float64))
    grad, carry = 0.0, 0.0  # carry: dL/dh_t coming from step t+1
    for t in range(len(hs) - 1, -1, -1):
        a = 2.0 * hs[t] + carry
        dpre = a * (1.0 - hs[t] ** 2)
        prev = hs[t - 1] if t > 0 else 0.0
        grad += dpre * prev
        carry = dpre * wf
    return _like(grad, w)
