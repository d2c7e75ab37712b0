"""Reference implementations of the ``gotchas`` family.

A gotcha pattern holds the faulty idiom *as the seeds write it*: its
implementations raise (or silently misbehave) and the catalog records the error
JAX raises today. Where there is one, the corrected idiom is a separate
pattern whose implementations work under every declared transform.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from .._implementation import Implementation
from .loops import _power_fori, _power_while  # the same x**n loops as the loops family

# --- inplace-assignment-error -------------------------------------------------------


def setitem(x, value):
    x[0] = value  # NumPy idiom; JAX arrays are immutable
    return x


def setitem_slice(x, value):
    x[1:] = value
    return x


# --- removed-index-update ----------------------------------------------------------


def jax_ops_index_update(x, idx, value):
    # The API seed 003 recommends; removed from JAX (use x.at[idx].set(value)).
    return jax.ops.index_update(x, jax.ops.index[idx], value)  # type: ignore[attr-defined]  # gone on purpose


# --- python-if-on-tracer / traced-branch-where -----------------------------------------


def python_if(x):
    if x > 0:
        return x
    return 2 * x


def jnp_where(x):
    return jnp.where(x > 0, x, 2 * x)


def _identity(v):
    return v


def _double(v):
    return 2 * v


def lax_cond(x):
    # Module-level branches, not lambdas: outside jit, JAX caches traced branches by
    # function identity, so fresh lambdas would recompile on every eager call.
    return lax.cond(x > 0, _identity, _double, x)


def lax_select(x):
    return lax.select(x > 0, x, 2 * x)


# --- static-argnums-under-vmap-error ------------------------------------------------------


def _branchy(x):
    if x < 3:
        return 3.0 * x**2
    return -4.0 * x


def jit_static_argnums_then_vmap(xs):
    return jax.vmap(jax.jit(_branchy, static_argnums=0))(xs)


def jit_static_argnames_then_vmap(xs):
    return jax.vmap(jax.jit(_branchy, static_argnames="x"))(xs)


# --- vmap-data-dependent-shape / vmap-masked-length ------------------------------------------


def ones_of_length(length, val):
    return jnp.sum(jnp.ones((length,)) * val)


def full_of_length(length, val):
    return jnp.sum(jnp.full((length,), val))


def where_mask(length, val, max_length):
    mask = jnp.arange(max_length) < length
    return jnp.sum(jnp.where(mask, val, jnp.zeros_like(val)))


def multiply_mask(length, val, max_length):
    mask = jnp.arange(max_length) < length
    return jnp.sum(jnp.ones((max_length,), jnp.result_type(val)) * mask * val)


# --- string-arg-to-jit ------------------------------------------------------------------------


def python_string_branch(x, op):
    if op == "add":
        return x + 1
    if op == "mul":
        return x * 2
    raise ValueError(f"unknown op {op!r}")


# --- grad-while-loop-error / grad-fori-loop-traced-bounds --------------------------------------


def grad_of_while_loop(x, n):
    return jax.grad(_power_while)(x, n)


def jacrev_of_while_loop(x, n):
    return jax.jacrev(_power_while)(x, n)


def vjp_of_while_loop(x, n):
    _, pullback = jax.vjp(lambda v: _power_while(v, n), x)
    return pullback(jnp.ones_like(x))[0]


def jit_of_grad_fori(x, n):
    return jax.jit(jax.grad(_power_fori))(x, n)  # n is a traced jit argument


def grad_of_jit_fori(x, n):
    return jax.grad(jax.jit(_power_fori))(x, n)  # n is traced inside the jitted function


# --- list-to-jnp-error / list-explicit-array -----------------------------------------------------


def jnp_sum_of_list(xs):
    return jnp.sum(xs)


def jnp_mean_of_list(xs):
    return jnp.mean(xs)


def sum_asarray(xs):
    return jnp.sum(jnp.asarray(xs))


def sum_array(xs):
    return jnp.sum(jnp.array(xs))


def sum_stack(xs):
    return jnp.sum(jnp.stack(xs))


# --- dot-shape-mismatch / dot-matrix-vector ------------------------------------------------------


def dot_w_xs(w, xs):
    return jnp.dot(w, xs)


def matmul_w_xs(w, xs):
    return w @ xs


def dot_xs_w(w, xs):
    return jnp.dot(xs, w)


def matmul_xs_w(w, xs):
    return xs @ w


def vmap_row_dot(w, xs):
    return jax.vmap(jnp.dot, in_axes=(0, None))(xs, w)


def einsum_xs_w(w, xs):
    return jnp.einsum("nd,d->n", xs, w)


# --- stateful-counter-under-jit -------------------------------------------------------------------


class _Counter:
    """The seed's stateful counter: count() mutates self.n."""

    def __init__(self):
        self.n = 0

    def count(self):
        self.n += 1
        return self.n


def jit_bound_method(n_calls):
    counter = _Counter()
    fast_count = jax.jit(counter.count)
    outs = [int(fast_count()) for _ in range(n_calls)]
    return outs, counter.n


# --- hard-one-hot-zero-gradient ------------------------------------------------------------------


def one_hot_argmax(p, w):
    return jnp.dot(w, jax.nn.one_hot(jnp.argmax(p, axis=-1), p.shape[-1], dtype=p.dtype))


def equality_mask(p, w):
    return jnp.dot(w, (jnp.arange(p.shape[-1]) == jnp.argmax(p, axis=-1)).astype(p.dtype))


IMPLEMENTATIONS: list[Implementation] = [
    Implementation(pattern="inplace-assignment-error", name="setitem", fn=setitem,
                   notes="x[0] = value, the NumPy idiom; raises"),
    Implementation(pattern="inplace-assignment-error", name="setitem_slice", fn=setitem_slice,
                   notes="x[1:] = value; raises"),
    Implementation(pattern="removed-index-update", name="jax_ops_index_update", fn=jax_ops_index_update,
                   notes="jax.ops.index_update(x, jax.ops.index[idx], value), removed from JAX; raises"),
    Implementation(pattern="python-if-on-tracer", name="python_if", fn=python_if,
                   notes="Python `if x > 0` on an array argument"),
    Implementation(pattern="traced-branch-where", name="jnp_where", fn=jnp_where,
                   notes="jnp.where evaluates both branches and selects"),
    Implementation(pattern="traced-branch-where", name="lax_cond", fn=lax_cond,
                   notes="lax.cond; under vmap it becomes a select of both branches"),
    Implementation(pattern="traced-branch-where", name="lax_select", fn=lax_select, notes="lax.select"),
    Implementation(pattern="static-argnums-under-vmap-error", name="jit_static_argnums_then_vmap",
                   fn=jit_static_argnums_then_vmap, notes="vmap(jit(f, static_argnums=0)); raises"),
    Implementation(pattern="static-argnums-under-vmap-error", name="jit_static_argnames_then_vmap",
                   fn=jit_static_argnames_then_vmap, notes="vmap(jit(f, static_argnames='x')); raises"),
    Implementation(pattern="vmap-data-dependent-shape", name="ones_of_length", fn=ones_of_length,
                   notes="jnp.sum(jnp.ones((length,)) * val), as in the seed"),
    Implementation(pattern="vmap-data-dependent-shape", name="full_of_length", fn=full_of_length,
                   notes="jnp.sum(jnp.full((length,), val))"),
    Implementation(pattern="vmap-masked-length", name="where_mask", fn=where_mask,
                   notes="fixed size max_length, jnp.where over arange(max_length) < length"),
    Implementation(pattern="vmap-masked-length", name="multiply_mask", fn=multiply_mask,
                   notes="fixed size max_length, multiply by the boolean mask"),
    Implementation(pattern="string-arg-to-jit", name="python_string_branch", fn=python_string_branch,
                   notes="if op == 'add' ...; op is not marked static"),
    Implementation(pattern="grad-while-loop-error", name="grad", fn=grad_of_while_loop,
                   notes="jax.grad through lax.while_loop; raises"),
    Implementation(pattern="grad-while-loop-error", name="jacrev", fn=jacrev_of_while_loop,
                   notes="jax.jacrev through lax.while_loop; raises"),
    Implementation(pattern="grad-while-loop-error", name="vjp", fn=vjp_of_while_loop,
                   notes="jax.vjp through lax.while_loop; raises"),
    Implementation(pattern="grad-fori-loop-traced-bounds", name="jit_of_grad", fn=jit_of_grad_fori,
                   notes="jax.jit(jax.grad(f))(x, n): n is traced, fori_loop lowers to while_loop; raises"),
    Implementation(pattern="grad-fori-loop-traced-bounds", name="grad_of_jit", fn=grad_of_jit_fori,
                   notes="jax.grad(jax.jit(f))(x, n): n is traced inside jit; raises"),
    Implementation(pattern="list-to-jnp-error", name="jnp_sum", fn=jnp_sum_of_list,
                   notes="jnp.sum([...]); raises"),
    Implementation(pattern="list-to-jnp-error", name="jnp_mean", fn=jnp_mean_of_list,
                   notes="jnp.mean([...]); raises"),
    Implementation(pattern="list-explicit-array", name="asarray", fn=sum_asarray, notes="jnp.sum(jnp.asarray(xs))"),
    Implementation(pattern="list-explicit-array", name="array", fn=sum_array, notes="jnp.sum(jnp.array(xs))"),
    Implementation(pattern="list-explicit-array", name="stack", fn=sum_stack, notes="jnp.sum(jnp.stack(xs))"),
    Implementation(pattern="dot-shape-mismatch", name="jnp_dot", fn=dot_w_xs,
                   notes="jnp.dot(w, xs) with w: (D,), xs: (N, D); raises"),
    Implementation(pattern="dot-shape-mismatch", name="matmul_operator", fn=matmul_w_xs, notes="w @ xs; raises"),
    Implementation(pattern="dot-matrix-vector", name="dot", fn=dot_xs_w, notes="jnp.dot(xs, w)"),
    Implementation(pattern="dot-matrix-vector", name="matmul_operator", fn=matmul_xs_w, notes="xs @ w"),
    Implementation(pattern="dot-matrix-vector", name="vmap_row_dot", fn=vmap_row_dot,
                   notes="jax.vmap(jnp.dot, in_axes=(0, None))(xs, w), as the seed suggests"),
    Implementation(pattern="dot-matrix-vector", name="einsum", fn=einsum_xs_w, notes="jnp.einsum('nd,d->n', xs, w)"),
    Implementation(pattern="stateful-counter-under-jit", name="jit_bound_method", fn=jit_bound_method,
                   notes="jax.jit(counter.count) where count mutates self.n"),
    Implementation(pattern="hard-one-hot-zero-gradient", name="one_hot_argmax", fn=one_hot_argmax,
                   notes="w . jax.nn.one_hot(argmax p)"),
    Implementation(pattern="hard-one-hot-zero-gradient", name="equality_mask", fn=equality_mask,
                   notes="w . (arange == argmax p)"),
]
