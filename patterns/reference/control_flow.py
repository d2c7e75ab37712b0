"""Reference implementations for the ``control-flow`` family (seeds 003, 004)."""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from .._implementation import Implementation

# --- control-flow-cond: x**2 if x > 0 else -x -----------------------------------------


# The branch functions live at module level, not as lambdas inside the implementations:
# outside jit, JAX caches traced branches by function identity, so fresh lambdas would be
# retraced and recompiled on every eager call.


def _square(v):
    return v**2


def _negate(v):
    return -v


def _cond_lax(x):
    return lax.cond(x > 0, _square, _negate, x)


def _cond_where(x):
    return jnp.where(x > 0, x**2, -x)


def _cond_select(x):
    return lax.select(x > 0, x**2, -x)


def _cond_piecewise(x):
    return jnp.piecewise(x, [x > 0], [_square, _negate])


# --- control-flow-switch: branch by index, clamped to the valid range --------------------

_BRANCHES = (lambda v: v + 1, lambda v: 2 * v, lambda v: v**2)


def _switch_lax(index, x):
    return lax.switch(index, _BRANCHES, x)


def _switch_select_n(index, x):
    which = jnp.clip(index, 0, len(_BRANCHES) - 1).astype(jnp.int32)
    return lax.select_n(which, *(branch(x) for branch in _BRANCHES))


# --- control-flow-select: elementwise choice between two arrays ---------------------------


def _select_lax(pred, on_true, on_false):
    return lax.select(pred, on_true, on_false)


def _select_where(pred, on_true, on_false):
    return jnp.where(pred, on_true, on_false)


def _select_select_n(pred, on_true, on_false):
    return lax.select_n(pred, on_false, on_true)  # select_n picks case 0 where pred is False


# --- control-flow-logical-and: no short-circuit ------------------------------------------


def _and_logical(x):
    return jnp.logical_and(x != 0, 1.0 / x > 0.5)


def _and_operator(x):
    return (x != 0) & (1.0 / x > 0.5)


def _and_lax(x):
    return lax.bitwise_and(x != 0, 1.0 / x > 0.5)


# ---------------------------------------------------------------------------
# control-flow-jnp-select: the first true condition picks the choice (seed 004)
# ---------------------------------------------------------------------------


def select_jnp(x):
    return jnp.select([x < 0, x < 1], [-x, x * x], 1.0)


def select_nested_where(x):
    return jnp.where(x < 0, -x, jnp.where(x < 1, x * x, 1.0))


# ---------------------------------------------------------------------------
# control-flow-logical-or: jnp.logical_or evaluates both sides (seed 004)
# ---------------------------------------------------------------------------


def or_logical(x):
    return jnp.logical_or(x == 0, 1.0 / x > 2.0)


def or_operator(x):
    return (x == 0) | (1.0 / x > 2.0)


IMPLEMENTATIONS: list[Implementation] = [
    Implementation(pattern="control-flow-cond", name="lax_cond", fn=_cond_lax,
                   notes="lax.cond(pred, true_fn, false_fn, x); under vmap it becomes a select"),
    Implementation(pattern="control-flow-cond", name="jnp_where", fn=_cond_where,
                   notes="both branches computed, then selected"),
    Implementation(pattern="control-flow-cond", name="lax_select", fn=_cond_select,
                   notes="lax.select needs a bool predicate and equal shapes/dtypes"),
    Implementation(pattern="control-flow-cond", name="jnp_piecewise", fn=_cond_piecewise,
                   notes="jnp.piecewise with one condition and a default function"),
    Implementation(pattern="control-flow-switch", name="lax_switch", fn=_switch_lax,
                   notes="lax.switch clamps the index into [0, len(branches) - 1]"),
    Implementation(pattern="control-flow-switch", name="select_n", fn=_switch_select_n,
                   notes="evaluate every branch, pick with lax.select_n on the clamped index"),
    Implementation(pattern="control-flow-select", name="lax_select", fn=_select_lax,
                   notes="lax.select(pred, on_true, on_false); no dtype promotion"),
    Implementation(pattern="control-flow-select", name="jnp_where", fn=_select_where,
                   notes="jnp.where(pred, on_true, on_false); promotes dtypes and broadcasts"),
    Implementation(pattern="control-flow-select", name="select_n", fn=_select_select_n,
                   notes="lax.select_n(pred, on_false, on_true): note the reversed order"),
    Implementation(pattern="control-flow-logical-and", name="jnp_logical_and", fn=_and_logical,
                   notes="both operands are always evaluated (1/0 gives inf, no error)"),
    Implementation(pattern="control-flow-logical-and", name="and_operator", fn=_and_operator,
                   notes="the & operator on bool arrays"),
    Implementation(pattern="control-flow-logical-and", name="lax_bitwise_and", fn=_and_lax,
                   notes="lax.bitwise_and on bool arrays"),
    Implementation(pattern="control-flow-jnp-select", name="jnp_select", fn=select_jnp,
                   notes="jnp.select(condlist, choicelist, default)"),
    Implementation(pattern="control-flow-jnp-select", name="nested_where", fn=select_nested_where,
                   notes="the same choice as nested jnp.where"),
    Implementation(pattern="control-flow-logical-or", name="logical_or", fn=or_logical,
                   notes="jnp.logical_or: 1/0 = inf is computed, then or-ed"),
    Implementation(pattern="control-flow-logical-or", name="operator", fn=or_operator,
                   notes="the | operator on bool arrays"),
]
