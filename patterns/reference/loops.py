"""Reference implementations for the ``loops`` family (seeds 003, 004)."""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from .._implementation import Implementation

# --- the seed 004 recurrence carry -> carry * x + 1, from 0.0, n times ------------


def _affine_python(x, n):
    carry = 0.0
    for _ in range(n):
        carry = carry * x + 1  # each iteration adds new ops to the trace
    return carry


def _affine_scan(x, n):
    def body(carry, _):
        return carry * x + 1, None

    return lax.scan(body, 0.0, jnp.arange(n))[0]


def _affine_scan_no_xs(x, n):
    def body(carry, _):
        return carry * x + 1, None

    return lax.scan(body, 0.0, None, length=n)[0]


def _affine_fori(x, n):
    def body(i, carry):
        return carry * x + 1

    return lax.fori_loop(0, n, body, 0.0)


# --- power x**n by repeated multiplication (fori_loop bounds) ------------------------


def _power_fori(x, n):
    return lax.fori_loop(0, n, lambda i, acc: acc * x, jnp.ones_like(x))


def _power_fori_unrolled(x, n):
    return lax.fori_loop(0, n, lambda i, acc: acc * x, jnp.ones_like(x), unroll=True)


def _power_while(x, n):
    def cond(carry):
        i, _ = carry
        return i < n

    def body(carry):
        i, acc = carry
        return i + 1, acc * x

    return lax.while_loop(cond, body, (jnp.zeros_like(n), jnp.ones_like(x)))[1]


# --- Collatz step count: a loop whose trip count depends on the value -----------------


def _collatz_next(n):
    return jnp.where(n % 2 == 0, n // 2, 3 * n + 1)


def _collatz_while(n):
    def cond(carry):
        value, _ = carry
        return value != 1

    def body(carry):
        value, steps = carry
        return _collatz_next(value), steps + 1

    return lax.while_loop(cond, body, (n, jnp.zeros((), jnp.int32)))[1]


def _collatz_while_cond(n):
    def cond(carry):
        return carry[0] != 1

    def body(carry):
        value, steps = carry
        value = lax.cond(value % 2 == 0, lambda v: v // 2, lambda v: 3 * v + 1, value)
        return value, steps + 1

    return lax.while_loop(cond, body, (n, jnp.zeros((), jnp.int32)))[1]


def _collatz_python_while(n):
    steps = 0
    while n != 1:  # bool() of a traced value: fails under jit
        n = _collatz_next(n)
        steps += 1
    return jnp.asarray(steps, jnp.int32)


def _newton_sqrt_while(a, max_iter):
    # Newton's iteration for sqrt(a), stopping as soon as an update changes nothing
    # measurable: the condition reads the carried state, so the loop exits early.
    def cond(state):
        i, x, delta = state
        return (i < max_iter) & jnp.any(jnp.abs(delta) > 1e-6 * x)

    def body(state):
        i, x, _ = state
        new = 0.5 * (x + a / x)
        return i + 1, new, new - x

    one = jnp.ones_like(a)
    return lax.while_loop(cond, body, (0, one * jnp.maximum(a, 1.0), one))[1]


def _newton_sqrt_fori(a, max_iter):
    # the same iteration for a fixed number of steps: no early exit
    return lax.fori_loop(0, max_iter, lambda i, x: 0.5 * (x + a / x), jnp.maximum(a, 1.0) * jnp.ones_like(a))


IMPLEMENTATIONS: list[Implementation] = [
    Implementation(pattern="loop-affine-recurrence", name="python_loop", fn=_affine_python,
                   notes="seed 004 python_loop: unrolls n iterations into the trace"),
    Implementation(pattern="loop-affine-recurrence", name="lax_scan", fn=_affine_scan,
                   notes="seed 004 scan_version: scan over jnp.arange(n), outputs None"),
    Implementation(pattern="loop-affine-recurrence", name="fori_loop", fn=_affine_fori,
                   notes="seed 004 fori_version; static n, so JAX lowers it to a scan"),
    Implementation(pattern="loop-python-for", name="python_loop", fn=_affine_python,
                   notes="seed 004 python_loop: n copies of the body in the trace"),
    Implementation(pattern="loop-lax-scan", name="lax_scan", fn=_affine_scan,
                   notes="seed 004 scan_version: xs = jnp.arange(n) is materialized"),
    Implementation(pattern="loop-lax-scan", name="lax_scan_no_xs", fn=_affine_scan_no_xs,
                   notes="lax.scan(body, 0.0, None, length=n): no xs array"),
    Implementation(pattern="loop-fori-static-bounds", name="fori_loop", fn=_power_fori,
                   notes="Python-int bounds: lowered to scan (unroll=1), reverse-differentiable"),
    Implementation(pattern="loop-fori-static-bounds", name="fori_loop_unrolled", fn=_power_fori_unrolled,
                   notes="fori_loop(..., unroll=True): the body is repeated n times"),
    Implementation(pattern="loop-fori-traced-bounds", name="fori_loop", fn=_power_fori,
                   notes="traced upper bound: lowered to while_loop, forward-mode only"),
    Implementation(pattern="loop-fori-traced-bounds", name="while_loop", fn=_power_while,
                   notes="explicit while_loop over (i, acc)"),
    Implementation(pattern="loop-while-early-exit", name="while_loop", fn=_collatz_while,
                   notes="stops as soon as the value reaches 1"),
    Implementation(pattern="loop-while-early-exit", name="while_loop_cond", fn=_collatz_while_cond,
                   notes="same loop with lax.cond choosing the Collatz branch"),
    Implementation(pattern="loop-python-while-traced", name="python_while", fn=_collatz_python_while,
                   notes="Python while on a JAX value: fine eagerly, TracerBoolConversionError under jit"),
    Implementation(pattern="loop-while-converge", name="while_loop", fn=_newton_sqrt_while,
                   notes="stops when the Newton update is below 1e-6 relative"),
    Implementation(pattern="loop-while-converge", name="fori_loop", fn=_newton_sqrt_fori,
                   notes="always max_iter steps; converged long before for these inputs"),
]
