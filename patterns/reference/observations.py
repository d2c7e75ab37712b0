"""Reference implementations of the seed statements that are observed rather than computed (issue 21, part 6).

Each pattern's ``observe:`` claim (docs/claims.md, *Observations*) looks at the
compiled program or at a run: a donated buffer, an in-place update, evaluated
operands, asynchronous dispatch, what is compiled, first-call time, compiled
gradient memory. The values are checked by the cases like any pattern's.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._implementation import Implementation
from ..observe import operand

# ---------------------------------------------------------------------------
# arange-grad-under-jit: seed 000, "works seamlessly with its JIT compilation and automatic differentiation"
# ---------------------------------------------------------------------------


def weighted_by_arange(x):
    return jnp.sum(x * jnp.arange(x.shape[0], dtype=x.dtype))


def scan_over_arange(x):
    def body(total, pair):
        xi, i = pair
        return total + xi * i, None

    return jax.lax.scan(body, jnp.zeros((), x.dtype), (x, jnp.arange(x.shape[0], dtype=x.dtype)))[0]


# ---------------------------------------------------------------------------
# jit-donate-argnums: seed 002, "eliminating unnecessary intermediate copies through ... buffer donation"
# ---------------------------------------------------------------------------


def sgd_update(params, grads):
    return params - 0.5 * grads


def sgd_update_fma(params, grads):
    return params + (-0.5) * grads


# ---------------------------------------------------------------------------
# at-set-in-place-under-jit: seed 003, "jit-compiled code will perform these operations in-place"
# ---------------------------------------------------------------------------


def at_set_first(x, v):
    return x.at[0].set(v)


def dynamic_update_first(x, v):
    return jax.lax.dynamic_update_slice(x, jnp.reshape(v, (1,)).astype(x.dtype), (0,))


# ---------------------------------------------------------------------------
# logical-ops-evaluate-both: seed 004, "jnp.logical_{and,or} do not short-circuit ... (both branches evaluated)"
# ---------------------------------------------------------------------------


def logical_and_or(x):
    # the first operand decides each result at the catalog's base case; the second is still computed
    a = jnp.logical_and(operand("and_lhs", jnp.all(x < 0)), operand("and_rhs", jnp.sum(x * x) > 10))
    o = jnp.logical_or(operand("or_lhs", jnp.any(x > 0)), operand("or_rhs", jnp.sum(x * x) > 10))
    return jnp.stack([a, o])


def bitwise_and_or(x):
    a = operand("and_lhs", jnp.all(x < 0)) & operand("and_rhs", jnp.sum(x * x) > 10)
    o = operand("or_lhs", jnp.any(x > 0)) | operand("or_rhs", jnp.sum(x * x) > 10)
    return jnp.stack([a, o])


# ---------------------------------------------------------------------------
# async-dispatch-block-until-ready: seed 003, "block_until_ready because JAX uses asynchronous execution"
# ---------------------------------------------------------------------------


def gram_times_matmul(x):
    return (x @ x.T) @ x


def gram_times_dot(x):
    # jnp.dot in the same order (an einsum would pick the cheap order x (x^T x) and leave nothing to wait for)
    return jnp.dot(jnp.dot(x, x.T), x)


# ---------------------------------------------------------------------------
# jit-python-loop-vs-scan: seed 000, "does not efficiently support standard Python loops inside JIT-compiled
# functions. Instead, use lax.scan"
# ---------------------------------------------------------------------------


def affine_scan(x, n):
    return jax.lax.scan(lambda c, _: (c * x + 1, None), jnp.zeros((), x.dtype), None, length=n)[0]


def affine_python_loop(x, n):
    carry = jnp.zeros((), x.dtype)
    for _ in range(n):
        carry = carry * x + 1
    return carry


affine_scan_jit = jax.jit(affine_scan, static_argnums=1)
affine_python_loop_jit = jax.jit(affine_python_loop, static_argnums=1)


# ---------------------------------------------------------------------------
# checkpoint-unneeded-under-jit: seed 004, "jax.checkpoint() often isn't needed for differentiated functions
# under a jax.jit(). XLA will optimize things for you."
# ---------------------------------------------------------------------------


def _sin_chain(x):
    for _ in range(6):
        x = jnp.sin(x)
    return x


def sin_chain(x):
    return _sin_chain(x)


def sin_chain_checkpointed(x):
    return jax.checkpoint(_sin_chain)(x)


# ---------------------------------------------------------------------------
# index-update-eager-vs-jit: seed 003, "it is best to avoid these if possible, since they are slow"
# ---------------------------------------------------------------------------

UPDATES = 32


def _set_every_other(x):
    for i in range(UPDATES):
        x = x.at[2 * i].set(-1.0)
    return x


_set_every_other_jit = jax.jit(_set_every_other)


def index_updates_eager(x):
    return _set_every_other(x)


def index_updates_jit(x):
    return _set_every_other_jit(x)


IMPLEMENTATIONS: list[Implementation] = [
    Implementation(pattern="arange-grad-under-jit", name="weighted_by_arange", fn=weighted_by_arange,
                   notes="sum(x * jnp.arange(len(x)))"),
    Implementation(pattern="arange-grad-under-jit", name="scan_over_arange", fn=scan_over_arange,
                   notes="lax.scan over (x, jnp.arange(len(x))), summing x_i * i in the carry"),
    Implementation(pattern="jit-donate-argnums", name="sgd_update", fn=sgd_update, notes="params - 0.5 * grads"),
    Implementation(pattern="jit-donate-argnums", name="sgd_update_fma", fn=sgd_update_fma,
                   notes="params + (-0.5) * grads"),
    Implementation(pattern="at-set-in-place-under-jit", name="at_set", fn=at_set_first, notes="x.at[0].set(v)"),
    Implementation(pattern="at-set-in-place-under-jit", name="dynamic_update_slice", fn=dynamic_update_first,
                   notes="lax.dynamic_update_slice(x, v[None], (0,))"),
    Implementation(pattern="logical-ops-evaluate-both", name="logical_and_or", fn=logical_and_or,
                   notes="jnp.logical_and / jnp.logical_or on marked operands"),
    Implementation(pattern="logical-ops-evaluate-both", name="bitwise_and_or", fn=bitwise_and_or,
                   notes="& and | on boolean arrays, marked operands"),
    Implementation(pattern="async-dispatch-block-until-ready", name="matmul", fn=gram_times_matmul,
                   notes="(x @ x.T) @ x"),
    Implementation(pattern="async-dispatch-block-until-ready", name="dot", fn=gram_times_dot,
                   notes="jnp.dot(jnp.dot(x, x.T), x)"),
    Implementation(pattern="jit-python-loop-vs-scan", name="lax_scan", fn=affine_scan,
                   notes="lax.scan: one loop body traced and compiled"),
    Implementation(pattern="jit-python-loop-vs-scan", name="python_loop", fn=affine_python_loop,
                   notes="a Python for loop: traced as n copies of the body"),
    Implementation(pattern="jit-python-loop-vs-scan", name="lax_scan_jit", fn=affine_scan_jit,
                   notes="lax_scan, jitted once (n static): later calls run the compiled loop"),
    Implementation(pattern="jit-python-loop-vs-scan", name="python_loop_jit", fn=affine_python_loop_jit,
                   notes="python_loop, jitted once (n static): later calls run the unrolled program"),
    Implementation(pattern="checkpoint-unneeded-under-jit", name="plain", fn=sin_chain,
                   notes="six sin in a row, no checkpoint"),
    Implementation(pattern="checkpoint-unneeded-under-jit", name="checkpointed", fn=sin_chain_checkpointed,
                   notes="the same chain under jax.checkpoint"),
    Implementation(pattern="index-update-eager-vs-jit", name="eager", fn=index_updates_eager,
                   notes="32 .at[].set updates dispatched one by one, each a new array"),
    Implementation(pattern="index-update-eager-vs-jit", name="jit", fn=index_updates_jit,
                   notes="the same 32 updates in one jitted program"),
]
