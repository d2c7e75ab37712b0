"""Oracles of the autodiff patterns (grad, jacobian, hessian, jvp, vjp, stop_gradient, straight-through,
checkpoint): closed-form derivatives in NumPy float64, rounded once to the input's dtype. No JAX."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["add_four", "add_four_grad", "cubic_second_derivative", "cubic_slope", "linear_jacobian",
           "linear_jvp", "linear_vjp", "linear_weights", "one_hot_pick", "one_hot_pick_grad",
           "one_hot_pick_zero_grad", "partials_x2y_3y", "power_derivative", "quadratic_form_grad",
           "quadratic_form_hessian", "round_half_even", "round_identity_grad", "sigmoid_dot_grad",
           "sin_sin", "sin_sin_grad", "square_sum_grad_aux", "td0_semi_gradient"]


def _f64(x: Any) -> np.ndarray:
    return np.asarray(x, np.float64)


def _as(value: Any, like: Any) -> np.ndarray:
    return np.asarray(np.asarray(value, np.float64), dtype=np.asarray(like).dtype)


def cubic_slope(x: np.ndarray) -> np.ndarray:
    """f(x) = x^3 + 2x^2 - 3x + 1; returns f'(x) = 3x^2 + 4x - 3."""
    x64 = _f64(x)
    return _as(3 * x64 ** 2 + 4 * x64 - 3, x)


def cubic_second_derivative(x: np.ndarray) -> np.ndarray:
    """d/dx of :func:`cubic_slope`: f''(x) = 6x + 4."""
    return _as(6 * _f64(x) + 4, x)


def partials_x2y_3y(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f(x, y) = x^2 y + 3y; returns (df/dx, df/dy) = (2xy, x^2 + 3)."""
    x64, y64 = _f64(x), _f64(y)
    return _as(2 * x64 * y64, x), _as(x64 ** 2 + 3, y)


def linear_weights(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    """The gradient of a . x with respect to x: a (whatever x is)."""
    return np.array(a, copy=True)


def quadratic_form_grad(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The gradient of x^T a x: (a + a^T) x."""
    a64 = _f64(a)
    return _as((a64 + a64.T) @ _f64(x), x)


def quadratic_form_hessian(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The Hessian of x^T a x: a + a^T (constant in x)."""
    a64 = _f64(a)
    return _as(a64 + a64.T, a)


def sigmoid_dot_grad(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The gradient of sigmoid(w . x) with respect to w: s (1 - s) x, s = sigmoid(w . x)."""
    z = float(_f64(w) @ _f64(x))
    s = 1.0 / (1.0 + np.exp(-z))
    return _as(s * (1.0 - s) * _f64(x), w)


def square_sum_grad_aux(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """grad of sum(x^2) with aux x^2: (2x, x^2)."""
    x64 = _f64(x)
    return _as(2 * x64, x), _as(x64 * x64, x)


def linear_jacobian(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The Jacobian of x -> w x: w."""
    return np.array(w, copy=True)


def linear_jvp(w: np.ndarray, x: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(f(x), J v) for f(x) = w x: (w x, w v)."""
    w64 = _f64(w)
    return _as(w64 @ _f64(x), x), _as(w64 @ _f64(v), v)


def linear_vjp(w: np.ndarray, x: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(f(x), u^T J) for f(x) = w x: (w x, w^T u)."""
    w64 = _f64(w)
    return _as(w64 @ _f64(x), x), _as(w64.T @ _f64(u), x)


def td0_semi_gradient(theta: np.ndarray, s_tm1: np.ndarray, r_t: np.ndarray, s_t: np.ndarray) -> np.ndarray:
    """The TD(0) semi-gradient: the target r + theta . s_t is held constant, so
    d/dtheta (target - theta . s_tm1)^2 = -2 (target - theta . s_tm1) s_tm1."""
    th = _f64(theta)
    delta = float(_f64(r_t)) + float(th @ _f64(s_t)) - float(th @ _f64(s_tm1))
    return _as(-2.0 * delta * _f64(s_tm1), theta)


def round_half_even(x: np.ndarray) -> np.ndarray:
    """Round to the nearest integer, halves to even (jnp.round, np.round)."""
    return np.round(np.asarray(x))


def round_identity_grad(x: np.ndarray) -> np.ndarray:
    """The straight-through gradient of round: 1 everywhere."""
    return np.ones_like(np.asarray(x))


def one_hot_pick(p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """w . one_hot(argmax p) = w[argmax p] (the first maximum on ties), in w's dtype."""
    return np.asarray(np.asarray(w)[int(np.argmax(p))])


def one_hot_pick_grad(p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The straight-through gradient with respect to p: w (the identity backward rule)."""
    return np.array(w, copy=True)


def one_hot_pick_zero_grad(p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The true gradient of the piecewise-constant w[argmax p] with respect to p: 0."""
    return np.zeros_like(np.asarray(p))


def power_derivative(x: np.ndarray, n: int) -> np.ndarray:
    """d/dx x^n = n x^(n-1) (0 for n = 0)."""
    x64 = _f64(x)
    return _as(n * x64 ** (n - 1) if n else np.zeros_like(x64), x)


def sin_sin(x: np.ndarray) -> np.ndarray:
    """sin(sin(x))."""
    return _as(np.sin(np.sin(_f64(x))), x)


def sin_sin_grad(x: np.ndarray) -> np.ndarray:
    """d/dx sin(sin(x)) = cos(sin x) cos x."""
    x64 = _f64(x)
    return _as(np.cos(np.sin(x64)) * np.cos(x64), x)


def add_four(x: np.ndarray) -> np.ndarray:
    """y = x + 2; z = y + 2: x + 4."""
    return _as(_f64(x) + 4.0, x)


def add_four_grad(x: np.ndarray) -> np.ndarray:
    """dz/dx = 1."""
    return np.ones_like(np.asarray(x))
