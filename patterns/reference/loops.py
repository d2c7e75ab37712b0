"""Reference implementations for the ``loops`` family (seeds 003, 004)."""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from .._implementation import Implementation

# Loop bodies live at module level and read their data from the carry, not from a
# closure: outside jit, JAX caches a traced loop body by the function's identity, so a
# body defined inside the implementation would be retraced and recompiled on every
# eager call.

# --- the seed 004 recurrence carry -> carry * x + 1, from 0.0, n times ------------


def _affine_python(x, n):
    carry = 0.0
    for _ in range(n):
        carry = carry * x + 1  # each iteration adds new ops to the trace
    # n = 0 leaves the Python float 0.0: return x's dtype as every other n does (found by jaxpat check --explore)
    return jnp.asarray(carry, dtype=jnp.asarray(x).dtype)


def _affine_scan_body(carry, _):
    value, x = carry
    return (value * x + 1, x), None


def _affine_fori_body(i, carry):
    value, x = carry
    return value * x + 1, x


def _affine_scan(x, n):
    return lax.scan(_affine_scan_body, (0.0, x), jnp.arange(n))[0][0]


def _power_sum_scan_xs(x, n):
    # the same sum, 1 + x + ... + x^(n-1), by a body that reads its xs: the k of each term
    def body(acc, k):
        # x ** 0.0 has the derivative 0 * x ** -1, NaN at x = 0 (found by jaxpat check --explore): the k = 0 term
        # is 1, and its base is kept away from 0 so that no NaN reaches the gradient through the other branch
        base = jnp.where(k == 0, jnp.ones_like(x), x)
        return acc + jnp.where(k == 0, jnp.ones_like(x), base ** k), None
    return lax.scan(body, jnp.zeros_like(x), jnp.arange(n, dtype=x.dtype))[0]


def _affine_scan_no_xs(x, n):
    return lax.scan(_affine_scan_body, (0.0, x), None, length=n)[0][0]


def _affine_fori(x, n):
    return lax.fori_loop(0, n, _affine_fori_body, (0.0, x))[0]


# --- power x**n by repeated multiplication (fori_loop bounds) ------------------------


def _power_fori_body(i, carry):
    acc, x = carry
    return acc * x, x


def _power_fori(x, n):
    return lax.fori_loop(0, n, _power_fori_body, (jnp.ones_like(x), x))[0]


def _power_fori_unrolled(x, n):
    return lax.fori_loop(0, n, _power_fori_body, (jnp.ones_like(x), x), unroll=True)[0]


def _power_while_cond(carry):
    i, _, _, n = carry
    return i < n


def _power_while_body(carry):
    i, acc, x, n = carry
    return i + 1, acc * x, x, n


def _power_while(x, n):
    return lax.while_loop(_power_while_cond, _power_while_body, (jnp.zeros_like(n), jnp.ones_like(x), x, n))[1]


# --- Collatz step count: a loop whose trip count depends on the value -----------------


def _collatz_next(n):
    return jnp.where(n % 2 == 0, n // 2, 3 * n + 1)


def _collatz_cond(carry):
    value, _ = carry
    return value != 1


def _collatz_body(carry):
    value, steps = carry
    return _collatz_next(value), steps + 1


def _collatz_while(n):
    return lax.while_loop(_collatz_cond, _collatz_body, (n, jnp.zeros((), jnp.int32)))[1]


def _halve(v):
    return v // 2


def _triple_plus_one(v):
    return 3 * v + 1


def _collatz_body_cond(carry):
    value, steps = carry
    value = lax.cond(value % 2 == 0, _halve, _triple_plus_one, value)
    return value, steps + 1


def _collatz_while_cond(n):
    return lax.while_loop(_collatz_cond, _collatz_body_cond, (n, jnp.zeros((), jnp.int32)))[1]


def _collatz_python_while(n):
    steps = 0
    while n != 1:  # bool() of a traced value: fails under jit
        n = _collatz_next(n)
        steps += 1
    return jnp.asarray(steps, jnp.int32)


# --- Python loops that jit: a value-independent while, a for with break --------------


def _affine_python_while(x, n):
    # seed 004's `while ✓*`: the condition reads a Python counter, never an argument's value
    carry = jnp.zeros_like(x)
    i = 0
    while i < n:
        carry = carry * x + 1
        i += 1
    return carry


def _geometric_for_break(x, n, tol):
    # a for loop that breaks as soon as the next term (a Python float, known at trace time) is below tol
    acc = jnp.zeros_like(x)
    for i in range(n):
        term = 0.5 ** i
        if term < tol:
            break
        acc = acc + term * x
    return acc


# --- Newton's iteration for sqrt(a) ------------------------------------------------------


def _newton_cond(state):
    i, x, delta, _, max_iter = state
    return (i < max_iter) & jnp.any(jnp.abs(delta) > 1e-6 * x)


def _newton_body(state):
    i, x, _, a, max_iter = state
    new = 0.5 * (x + a / x)
    return i + 1, new, new - x, a, max_iter


def _newton_sqrt_while(a, max_iter):
    # Newton's iteration for sqrt(a), stopping as soon as an update changes nothing
    # measurable: the condition reads the carried state, so the loop exits early.
    # the first "update" is infinite, so the condition holds at the start whatever the scale of a
    x0 = jnp.maximum(a, 1.0) * jnp.ones_like(a)
    return lax.while_loop(_newton_cond, _newton_body, (0, x0, jnp.full_like(x0, jnp.inf), a, max_iter))[1]


def _newton_fori_body(i, carry):
    x, a = carry
    return 0.5 * (x + a / x), a


def _newton_sqrt_fori(a, max_iter):
    # the same iteration for a fixed number of steps: no early exit
    return lax.fori_loop(0, max_iter, _newton_fori_body, (jnp.maximum(a, 1.0) * jnp.ones_like(a), a))[0]


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
                   notes="seed 004 scan_version: its body ignores xs = jnp.arange(n), and XLA removes the "
                         "unused array: it is never materialised (forward memory constant in n)"),
    Implementation(pattern="loop-lax-scan", name="lax_scan_reads_xs", fn=_power_sum_scan_xs,
                   notes="a body that reads its xs (the exponent k of x^k): xs = jnp.arange(n) is kept, O(n)"),
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
    Implementation(pattern="loop-python-while-static", name="python_while", fn=_affine_python_while,
                   notes="while i < n with a static n: unrolled at trace time"),
    Implementation(pattern="loop-python-for-break", name="python_for_break", fn=_geometric_for_break,
                   notes="breaks when 0.5**i < tol: ten iterations at tol = 1e-3 whatever n >= 10"),
    Implementation(pattern="loop-while-converge", name="while_loop", fn=_newton_sqrt_while,
                   notes="stops when the Newton update is below 1e-6 relative"),
    Implementation(pattern="loop-while-converge", name="fori_loop", fn=_newton_sqrt_fori,
                   notes="always max_iter steps; converged long before for these inputs"),
]
