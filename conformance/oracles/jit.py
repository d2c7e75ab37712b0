"""Oracles of the jit patterns: the functions' mathematics in NumPy, and the tracing rules the seeds state
(one trace per distinct static value or input shape, Python side effects at trace time only, staged
callbacks at every execution) as plain-Python counts. No JAX."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["branch_on_static", "count_calls", "count_distinct", "count_distinct_shapes", "count_states",
           "count_traced_once", "gram_times", "matmul_self_sum", "newton_sqrt", "op_by_name", "rewrap_counts",
           "selu", "set_first_100", "sgd_step", "sin_six_times", "square_plus_one", "value_and_unit"]

_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805


def selu(x: np.ndarray) -> np.ndarray:
    """scale * (x if x > 0 else alpha * (exp(x) - 1)), elementwise, in x's dtype."""
    x64 = np.asarray(x, np.float64)
    return np.asarray(_SELU_SCALE * np.where(x64 > 0, x64, _SELU_ALPHA * np.expm1(np.minimum(x64, 0))),
                      dtype=np.asarray(x).dtype)


def square_plus_one(x: np.ndarray) -> np.ndarray:
    """(x + 1)^2 = x*x + 2x + 1, in x's dtype (integers wrap as int32 arithmetic does)."""
    x = np.asarray(x)
    if x.dtype.kind in "iu":
        return (x * x + 2 * x + 1).astype(x.dtype)
    x64 = x.astype(np.float64)
    return ((x64 + 1) ** 2).astype(x.dtype)


def matmul_self_sum(x: np.ndarray) -> np.ndarray:
    """sum(x @ x) of a square matrix, in x's dtype."""
    x64 = np.asarray(x, np.float64)
    return np.asarray((x64 @ x64).sum(), dtype=np.asarray(x).dtype)


def newton_sqrt(a: np.ndarray) -> np.ndarray:
    """sqrt(a) (Newton's iteration stops within 1e-5 relative in a = x^2, so within 5e-6 in x)."""
    return np.asarray(np.sqrt(np.asarray(a, np.float64)), dtype=np.asarray(a).dtype)


def value_and_unit(x: float) -> tuple[float, str]:
    """(2x, "metres"): a Python float and a string."""
    return x * 2.0, "metres"


def set_first_100(x: np.ndarray) -> np.ndarray:
    """x with element 0 set to 100."""
    a = np.array(x, copy=True)
    a[0] = 100
    return a


def branch_on_static(x: Any) -> np.ndarray:
    """float32(x) if x > 0 else float32(2x), for a static Python number x."""
    return np.float32(x) if x > 0 else np.float32(2 * np.float32(x))


def op_by_name(x: np.ndarray, op: str) -> np.ndarray:
    """x + 1 for op 'add', x * 2 for op 'mul', in x's dtype."""
    x = np.asarray(x)
    if op == "add":
        return (x + 1).astype(x.dtype)
    if op == "mul":
        return (x * 2).astype(x.dtype)
    raise ValueError(f"unknown op {op!r}")


def count_traced_once(x: np.ndarray, n_calls: int) -> int:
    """Python side effects of a jitted function run once, at its first trace: 1 after any call, else 0."""
    return 1 if n_calls > 0 else 0


def count_calls(x: np.ndarray, n_calls: int) -> int:
    """A staged callback runs at every execution: n_calls."""
    return int(n_calls)


def count_distinct(values: list[Any]) -> int:
    """One trace per distinct static value (or input length): the number of distinct values."""
    return len(set(values))


def count_distinct_shapes(lengths: list[int]) -> int:
    """One trace per distinct input shape (n,): the number of distinct lengths."""
    return len(set(lengths))


def rewrap_counts(n_calls: int) -> tuple[int, int]:
    """(traces when jax.jit wraps the same function n times: 1 after any call, traces when it wraps n new
    functions: n) -- jit's cache is keyed on the Python function."""
    return (1 if n_calls > 0 else 0), int(n_calls)


def count_states(n_calls: int) -> list[int]:
    """State threaded through a pure jitted count(n) -> (n + 1, n + 1) from 0: [1, 2, ..., n_calls]."""
    return list(range(1, n_calls + 1))

def sgd_step(params: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """``params - 0.5 * grads`` (one plain gradient step; donation changes where it is written, not its value)."""
    p = np.asarray(params)
    return np.asarray(p.astype(np.float64) - 0.5 * np.asarray(grads, np.float64), dtype=p.dtype)


def gram_times(x: np.ndarray) -> np.ndarray:
    """``(x x^T) x`` in float64, rounded once to x's dtype."""
    x = np.asarray(x)
    x64 = x.astype(np.float64)
    return ((x64 @ x64.T) @ x64).astype(x.dtype)


def sin_six_times(x: np.ndarray) -> np.ndarray:
    """``sin(sin(sin(sin(sin(sin(x))))))`` elementwise in float64, rounded once to x's dtype (checkpointing
    changes what is saved for the gradient, not the value)."""
    x = np.asarray(x)
    y = x.astype(np.float64)
    for _ in range(6):
        y = np.sin(y)
    return y.astype(x.dtype)
