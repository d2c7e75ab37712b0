"""Reference implementations of the ``vmap`` family.

Each pattern has a ``vmap`` implementation and, where the seeds show them, the
alternatives it replaces: a hand-batched version (``manual_batch``), a
sequential ``jax.lax.map`` (``lax_map``) and a Python loop (``python_loop``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from .._implementation import Implementation

# ---------------------------------------------------------------------------
# vmap-square (seed 001)
# ---------------------------------------------------------------------------


def _square(x):
    return x * x


def square_vmap(x):
    return jax.vmap(_square)(x)


def square_manual_batch(x):
    # Element-wise ops already broadcast over a leading batch axis.
    return x * x


def square_lax_map(x):
    return lax.map(_square, x)


def square_python_loop(x):
    if x.shape[0] == 0:  # no row: jnp.stack needs at least one (found by jaxpat check --explore)
        return jnp.zeros_like(x)
    return jnp.stack([_square(x[i]) for i in range(x.shape[0])])


# ---------------------------------------------------------------------------
# vmap-reduce-axis: jnp.sum(x, axis=k) collapses axis k (seed 001)
# ---------------------------------------------------------------------------


def reduce_axis_jnp_sum(x, axis):
    return jnp.sum(x, axis=axis)


def reduce_axis_vmap(x, axis):
    # Collapsing axis k of a 2-d array == mapping a full sum over the other axis.
    return jax.vmap(jnp.sum, in_axes=1 - axis)(x)


def reduce_axis_python_loop(x, axis):
    kept = 1 - axis
    return jnp.stack([jnp.sum(jnp.take(x, i, axis=kept)) for i in range(x.shape[kept])])


# ---------------------------------------------------------------------------
# vmap-in-axes: vmap(sum_array, in_axes=k) maps over axis k (seed 001)
# ---------------------------------------------------------------------------


def _sum_array(x):
    return jnp.sum(x)


def in_axes_vmap(x, in_axes):
    return jax.vmap(_sum_array, in_axes=in_axes)(x)


def in_axes_manual_batch(x, in_axes):
    # Keep the mapped axis, sum over every other one.
    others = tuple(a for a in range(x.ndim) if a != in_axes)
    return jnp.sum(x, axis=others)


def in_axes_lax_map(x, in_axes):
    return lax.map(_sum_array, jnp.moveaxis(x, in_axes, 0))


def in_axes_python_loop(x, in_axes):
    return jnp.stack([_sum_array(jnp.take(x, i, axis=in_axes)) for i in range(x.shape[in_axes])])


# ---------------------------------------------------------------------------
# vmap-euclidean-distance: pairwise rows, in_axes=(0, 0) (seed 001)
# ---------------------------------------------------------------------------


def _euclidean_distance(x, y):
    return jnp.sqrt(jnp.sum((x - y) ** 2))


def distance_vmap(x, y):
    return jax.vmap(_euclidean_distance, in_axes=(0, 0))(x, y)


def distance_manual_batch(x, y):
    return jnp.sqrt(jnp.sum((x - y) ** 2, axis=-1))


def distance_lax_map(x, y):
    return lax.map(lambda xy: _euclidean_distance(*xy), (x, y))


def distance_python_loop(x, y):
    return jnp.stack([_euclidean_distance(x[i], y[i]) for i in range(x.shape[0])])


# ---------------------------------------------------------------------------
# vmap-unbatched-argument: in_axes=(0, 0, None) (seed 001)
# ---------------------------------------------------------------------------


def _add_and_multiply_scalar(x, y, scalar):
    return (x + y) * scalar


def unbatched_vmap(x, y, scalar):
    return jax.vmap(_add_and_multiply_scalar, (0, 0, None))(x, y, scalar)


def unbatched_manual_batch(x, y, scalar):
    return (x + y)[:, None] * scalar[None, :]


def unbatched_lax_map(x, y, scalar):
    return lax.map(lambda xy: _add_and_multiply_scalar(xy[0], xy[1], scalar), (x, y))


def unbatched_python_loop(x, y, scalar):
    return jnp.stack([_add_and_multiply_scalar(x[i], y[i], scalar) for i in range(x.shape[0])])


# ---------------------------------------------------------------------------
# vmap-conv1d: many vectors, many kernels (seed 003)
# ---------------------------------------------------------------------------


def _convolve(x, w):
    """'valid' 1-d convolution of one vector with one kernel (the kernel is flipped)."""
    k = w.shape[0]
    wf = w[::-1]
    return jnp.stack([jnp.dot(x[i:i + k], wf) for i in range(x.shape[0] - k + 1)])


def conv1d_vmap(xs, ws):
    return jax.vmap(_convolve)(xs, ws)


def conv1d_manual_batch(xs, ws):
    k = ws.shape[-1]
    wf = ws[:, ::-1]
    return jnp.stack([jnp.sum(xs[:, i:i + k] * wf, axis=1) for i in range(xs.shape[-1] - k + 1)], axis=1)


def conv1d_lax_map(xs, ws):
    return lax.map(lambda xw: _convolve(*xw), (xs, ws))


def conv1d_python_loop(xs, ws):
    return jnp.stack([_convolve(xs[b], ws[b]) for b in range(xs.shape[0])])


def conv1d_vmap_jnp_convolve(xs, ws):
    return jax.vmap(lambda x, w: jnp.convolve(x, w, mode="valid", precision=lax.Precision.HIGHEST))(xs, ws)


# ---------------------------------------------------------------------------
# vmap-per-example-grads: vmap(grad(loss), in_axes=(None, 0)) (seed 003)
# ---------------------------------------------------------------------------


def _loss(w, x):
    return 0.5 * jnp.dot(w, x) ** 2


def per_example_vmap(w, xs):
    return jax.vmap(jax.grad(_loss), in_axes=(None, 0))(w, xs)


def per_example_jacrev(w, xs):
    # The Jacobian of the vector of per-example losses has one row per example.
    return jax.jacrev(lambda w_: jax.vmap(_loss, in_axes=(None, 0))(w_, xs))(w)


def per_example_lax_map(w, xs):
    return lax.map(lambda x: jax.grad(_loss)(w, x), xs)


def per_example_python_loop(w, xs):
    return jnp.stack([jax.grad(_loss)(w, xs[i]) for i in range(xs.shape[0])])


# ---------------------------------------------------------------------------
# vmap-lax-map-batch-size: chunked mapping to bound memory (seed 003, jax.lax.map docs)
# ---------------------------------------------------------------------------


def _row_sum_of_squares(row):
    return jnp.sum(row * row)


def chunked_vmap(x, batch_size):
    # Fully vectorised: ignores batch_size (all rows at once).
    del batch_size
    return jax.vmap(_row_sum_of_squares)(x)


def chunked_lax_map(x, batch_size):
    return lax.map(_row_sum_of_squares, x, batch_size=batch_size)


def chunked_manual_batch(x, batch_size):
    # vmap over each chunk of batch_size rows, concatenate (the remainder is a smaller chunk).
    n = x.shape[0]
    chunks = [jax.vmap(_row_sum_of_squares)(x[i:i + batch_size]) for i in range(0, n, batch_size)]
    return jnp.concatenate(chunks)


def chunked_python_loop(x, batch_size):
    del batch_size
    return jnp.stack([_row_sum_of_squares(x[i]) for i in range(x.shape[0])])


def _impls(pattern: str, entries: list[tuple[str, Callable[..., Any], str]]) -> list[Implementation]:
    return [Implementation(pattern=pattern, name=name, fn=fn, notes=notes) for name, fn, notes in entries]


# ---------------------------------------------------------------------------
# vmap-default-in-axes: without in_axes, vmap maps over axis 0 (seed 001)
# ---------------------------------------------------------------------------


def default_in_axes(x):
    return jax.vmap(_sum_array)(x)


def explicit_in_axes_zero(x):
    return jax.vmap(_sum_array, in_axes=0)(x)



# ---------------------------------------------------------------------------
# vmap-in-axes-list: in_axes=[0, None] as a list (seed 003)
# ---------------------------------------------------------------------------


def _predict_single(w, x):
    return jnp.dot(w, x)


def in_axes_list_vmap(xs, w):
    # seed 003 passes a list; vmap treats it like the tuple (it must match the number of arguments)
    return jax.vmap(lambda x, w_: _predict_single(w_, x), in_axes=[0, None])(xs, w)


def in_axes_tuple_vmap(xs, w):
    return jax.vmap(lambda x, w_: _predict_single(w_, x), in_axes=(0, None))(xs, w)


def in_axes_list_matmul(xs, w):
    return xs @ w


IMPLEMENTATIONS: list[Implementation] = [
    *_impls("vmap-square", [
        ("vmap", square_vmap, "jax.vmap(square)(x): maps over the leading axis"),
        ("manual_batch", square_manual_batch, "x * x: element-wise ops already broadcast over the batch"),
        ("lax_map", square_lax_map, "jax.lax.map: sequential loop over the leading axis"),
        ("python_loop", square_python_loop, "Python loop over rows + jnp.stack; unrolls at trace time"),
    ]),
    *_impls("vmap-reduce-axis", [
        ("jnp_sum", reduce_axis_jnp_sum, "jnp.sum(x, axis=axis): axis names the dimension collapsed"),
        ("vmap", reduce_axis_vmap, "jax.vmap(jnp.sum, in_axes=1 - axis): in_axes names the dimension kept (2-d only)"),
        ("python_loop", reduce_axis_python_loop, "Python loop over the kept axis; 2-d only"),
    ]),
    *_impls("vmap-in-axes", [
        ("vmap", in_axes_vmap, "jax.vmap(sum_array, in_axes=in_axes)"),
        ("manual_batch", in_axes_manual_batch, "jnp.sum over every axis except in_axes"),
        ("lax_map", in_axes_lax_map, "jax.lax.map over jnp.moveaxis(x, in_axes, 0)"),
        ("python_loop", in_axes_python_loop, "Python loop over slices along in_axes"),
    ]),
    *_impls("vmap-euclidean-distance", [
        ("vmap", distance_vmap, "jax.vmap(euclidean_distance, in_axes=(0, 0))"),
        ("manual_batch", distance_manual_batch, "reduce over the last axis only"),
        ("lax_map", distance_lax_map, "jax.lax.map over the pair (x, y)"),
        ("python_loop", distance_python_loop, "Python loop over row pairs"),
    ]),
    *_impls("vmap-unbatched-argument", [
        ("vmap", unbatched_vmap, "jax.vmap(add_and_multiply_scalar, (0, 0, None)): scalar is shared"),
        ("manual_batch", unbatched_manual_batch, "outer product by broadcasting (x + y)[:, None] * scalar"),
        ("lax_map", unbatched_lax_map, "jax.lax.map over (x, y), scalar closed over"),
        ("python_loop", unbatched_python_loop, "Python loop over rows of x and y"),
    ]),
    *_impls("vmap-conv1d", [
        ("vmap", conv1d_vmap, "jax.vmap of a single-vector convolution written with slices"),
        ("manual_batch", conv1d_manual_batch, "hand-batched: slices over the last axis, sum over the kernel"),
        ("lax_map", conv1d_lax_map, "jax.lax.map of the single-vector convolution"),
        ("python_loop", conv1d_python_loop, "Python loop over the batch; unrolls at trace time"),
        ("vmap_jnp_convolve", conv1d_vmap_jnp_convolve,
         "jax.vmap(jnp.convolve(..., mode='valid')) with precision=HIGHEST"),
    ]),
    *_impls("vmap-per-example-grads", [
        ("vmap", per_example_vmap, "jax.vmap(jax.grad(loss), in_axes=(None, 0))"),
        ("jacrev", per_example_jacrev, "Jacobian of the vector of per-example losses"),
        ("lax_map", per_example_lax_map, "jax.lax.map of grad(loss) over examples"),
        ("python_loop", per_example_python_loop, "Python loop of grad(loss) over examples"),
    ]),
    *_impls("vmap-lax-map-batch-size", [
        ("vmap", chunked_vmap, "jax.vmap over all rows at once; ignores batch_size"),
        ("lax_map", chunked_lax_map, "jax.lax.map(f, x, batch_size=batch_size): vmap inside a scan over chunks"),
        ("manual_batch", chunked_manual_batch, "vmap over Python-sliced chunks, then concatenate"),
        ("python_loop", chunked_python_loop, "Python loop over rows; ignores batch_size"),
    ]),
    Implementation(pattern="vmap-default-in-axes", name="default", fn=default_in_axes,
                   notes="jax.vmap(sum_array)(x)"),
    Implementation(pattern="vmap-default-in-axes", name="in_axes_0", fn=explicit_in_axes_zero,
                   notes="jax.vmap(sum_array, in_axes=0)(x), as the seed writes it"),
    *_impls("vmap-in-axes-list", [
        ("vmap_list", in_axes_list_vmap, "jax.vmap(f, in_axes=[0, None]): a list, as seed 003 writes it"),
        ("vmap_tuple", in_axes_tuple_vmap, "jax.vmap(f, in_axes=(0, None)): the tuple form"),
        ("matmul", in_axes_list_matmul, "xs @ w: the batched product written by hand"),
    ]),
]
