"""The example plugin's implementations (this module imports JAX)."""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from jaxpat.patterns import Implementation


def cumsum_associative_scan(xs):
    """Inclusive prefix sum along axis 0: ``lax.associative_scan(jnp.add, xs)``.

    ``jnp.add`` is associative, so the scan may combine elements in a tree of
    depth O(log n) instead of a chain of n steps.
    """
    return lax.associative_scan(jnp.add, xs)


def cumsum_triangular_matmul(xs):
    """Inclusive prefix sum along axis 0 as one matrix product.

    Row ``i`` of the lower-triangular matrix of ones selects ``xs[0..i]``:
    O(n^2) work, but a single dense contraction that accelerators like.
    """
    n = xs.shape[0]
    lower = jnp.tril(jnp.ones((n, n), dtype=xs.dtype))
    # HIGHEST: GPUs otherwise multiply float32 in TF32 (about 3 significant digits).
    return jnp.tensordot(lower, xs, axes=1, precision=lax.Precision.HIGHEST)


IMPLEMENTATIONS = [
    Implementation(
        pattern="associative-scan-cumsum", name="associative_scan", fn=cumsum_associative_scan,
        notes="lax.associative_scan(jnp.add, xs): parallel prefix sum, O(log n) depth",
    ),
    # One more implementation of a pattern of the shipped catalog: names are
    # unique per (plugin, pattern), and any plugin may implement any pattern.
    Implementation(
        pattern="scan-cumsum", name="triangular_matmul", fn=cumsum_triangular_matmul,
        notes="tril(ones((n, n))) contracted with xs along axis 0; O(n^2) work",
    ),
]
