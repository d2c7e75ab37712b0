"""Reference implementations of the speed patterns: the same values, computed the fast way and the slow way.

Each pattern's ``speedup`` claim (docs/claims.md, *Speed claims*) times the fast
implementation against the slow one in one process, interleaved, with a noise band.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._implementation import Implementation

# ---------------------------------------------------------------------------
# jit-speedup-elementwise: seed 002's "18x speedup for the JIT-compiled version"
# ---------------------------------------------------------------------------

ALPHA = 1.6732632423543772
SCALE = 1.0507009873554805


def _selu(x):
    # the JAX documentation's jit example: a chain of elementwise operations
    return SCALE * jnp.where(x > 0, x, ALPHA * jnp.exp(x) - ALPHA)


_selu_jit = jax.jit(_selu)


def selu_eager(x):
    return _selu(x)


def selu_jit(x):
    return _selu_jit(x)


# ---------------------------------------------------------------------------
# vmap-speedup-batch: vmap vs a Python loop over the batch (seed 001)
# ---------------------------------------------------------------------------


def _norm(x):
    return jnp.sqrt(jnp.sum(x * x))


def norms_vmap(xs):
    return jax.vmap(_norm)(xs)


def norms_python_loop(xs):
    return jnp.stack([_norm(xs[i]) for i in range(xs.shape[0])])


IMPLEMENTATIONS: list[Implementation] = [
    Implementation(pattern="jit-speedup-elementwise", name="eager", fn=selu_eager,
                   notes="op by op: each jnp call dispatched on its own"),
    Implementation(pattern="jit-speedup-elementwise", name="jit", fn=selu_jit,
                   notes="jax.jit(selu), compiled once and fused by XLA"),
    Implementation(pattern="vmap-speedup-batch", name="vmap", fn=norms_vmap,
                   notes="jax.vmap over the batch axis: a few batched operations"),
    Implementation(pattern="vmap-speedup-batch", name="python_loop", fn=norms_python_loop,
                   notes="one norm per row in a Python loop, stacked"),
]
