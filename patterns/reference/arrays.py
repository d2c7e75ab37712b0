"""Reference implementations of the ``arrays`` family: functional updates and copies.

JAX arrays are immutable: every ``.at[...]`` update returns a new array and the
input is left as it was. Update implementations therefore return
``(updated, original)`` so that the catalog can check both.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from .._implementation import Implementation


def _row_index(x, idx):
    """``idx`` as a non-negative row index of ``x`` (NumPy's negative-index rule)."""
    idx = jnp.asarray(idx)
    return jnp.where(idx < 0, idx + x.shape[0], idx)


def _row_mask(x, idx):
    """A boolean mask, broadcastable against ``x``, selecting row ``idx``."""
    rows = jnp.arange(x.shape[0]).reshape((-1,) + (1,) * (x.ndim - 1))
    return rows == _row_index(x, idx)


# --- at-set -----------------------------------------------------------------

def at_set(x, idx, value):
    return x.at[idx].set(value), x


def at_set_dynamic_update_slice(x, idx, value):
    update = jnp.broadcast_to(jnp.asarray(value, x.dtype), (1, *x.shape[1:]))
    starts = (_row_index(x, idx),) + (0,) * (x.ndim - 1)
    return lax.dynamic_update_slice(x, update, starts), x


def at_set_where_mask(x, idx, value):
    return jnp.where(_row_mask(x, idx), jnp.asarray(value, x.dtype), x), x


# --- at-add -----------------------------------------------------------------

def at_add(x, idx, value):
    return x.at[idx].add(value), x


def at_add_segment_sum(x, idx, value):
    idx = jnp.atleast_1d(_row_index(x, idx))
    data = jnp.broadcast_to(jnp.asarray(value, x.dtype), idx.shape + x.shape[1:])
    return x + jax.ops.segment_sum(data, idx, num_segments=x.shape[0]), x


# --- at-min / at-max --------------------------------------------------------

def at_min(x, idx, value):
    return x.at[idx].min(value), x


def at_min_gather_minimum(x, idx, value):
    return x.at[idx].set(jnp.minimum(x[idx], value)), x


def at_max(x, idx, value):
    return x.at[idx].max(value), x


def at_max_gather_maximum(x, idx, value):
    return x.at[idx].set(jnp.maximum(x[idx], value)), x


# --- slice-is-a-copy / reshape-is-a-copy -------------------------------------

def basic_slice(x, value):
    part = x[1:3]
    return x, part.at[0].set(value)


def dynamic_slice(x, value):
    part = lax.dynamic_slice_in_dim(x, 1, 2)
    return x, part.at[0].set(value)


def take_slice(x, value):
    part = jnp.take(x, jnp.arange(1, 3))
    return x, part.at[0].set(value)


def reshape_then_update(x, value):
    flat = x.reshape(-1)
    return x, flat.at[0].set(value)


def ravel_then_update(x, value):
    flat = jnp.ravel(x)
    return x, flat.at[0].set(value)


IMPLEMENTATIONS: list[Implementation] = [
    Implementation(pattern="at-set", name="at_set", fn=at_set,
                   notes="x.at[idx].set(value); the input array is returned unchanged alongside"),
    Implementation(pattern="at-set", name="dynamic_update_slice", fn=at_set_dynamic_update_slice,
                   notes="lax.dynamic_update_slice with a (1, ...) update block; negative idx normalised first"),
    Implementation(pattern="at-set", name="where_mask", fn=at_set_where_mask,
                   notes="jnp.where over a row mask: no scatter at all"),
    Implementation(pattern="at-add", name="at_add", fn=at_add,
                   notes="x.at[idx].add(value); repeated indices accumulate"),
    Implementation(pattern="at-add", name="segment_sum", fn=at_add_segment_sum,
                   notes="x + jax.ops.segment_sum(value broadcast over idx, idx)"),
    Implementation(pattern="at-min", name="at_min", fn=at_min, notes="x.at[idx].min(value)"),
    Implementation(pattern="at-min", name="gather_minimum_set", fn=at_min_gather_minimum,
                   notes="x.at[idx].set(jnp.minimum(x[idx], value)); differs from .min for repeated indices"),
    Implementation(pattern="at-max", name="at_max", fn=at_max, notes="x.at[idx].max(value)"),
    Implementation(pattern="at-max", name="gather_maximum_set", fn=at_max_gather_maximum,
                   notes="x.at[idx].set(jnp.maximum(x[idx], value)); differs from .max for repeated indices"),
    Implementation(pattern="slice-is-a-copy", name="basic_slice", fn=basic_slice,
                   notes="x[1:3] then .at[0].set"),
    Implementation(pattern="slice-is-a-copy", name="dynamic_slice", fn=dynamic_slice,
                   notes="lax.dynamic_slice_in_dim(x, 1, 2) then .at[0].set"),
    Implementation(pattern="slice-is-a-copy", name="take", fn=take_slice,
                   notes="jnp.take(x, [1, 2]) (a gather) then .at[0].set"),
    Implementation(pattern="reshape-is-a-copy", name="reshape", fn=reshape_then_update,
                   notes="x.reshape(-1) then .at[0].set"),
    Implementation(pattern="reshape-is-a-copy", name="ravel", fn=ravel_then_update,
                   notes="jnp.ravel(x) then .at[0].set"),
]
