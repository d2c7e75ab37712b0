"""Reference implementations for the ``arange`` family (seed 000)."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jax import lax

from .._implementation import Implementation

# --- arange-basic: start/stop/step are static Python numbers -----------------


def _basic_jnp(start, stop, step):
    return jnp.arange(start, stop, step)


def _basic_numpy(start, stop, step):
    # NumPy builds the sequence on the host (int64/float64); jnp.asarray then
    # canonicalizes it to JAX's default int32/float32 (int64/float64 under x64).
    return jnp.asarray(np.arange(start, stop, step))


def _basic_iota(start, stop, step):
    dtype = jnp.result_type(start, stop, step)
    length = max(0, math.ceil((stop - start) / step))
    return start + step * lax.iota(dtype, length)


# --- arange-dtype --------------------------------------------------------------


def _dtype_jnp(start, stop, dtype):
    return jnp.arange(start, stop, dtype=dtype)


def _dtype_astype(start, stop, dtype):
    out = jnp.arange(start, stop)
    return out if dtype is None else out.astype(dtype)


def _dtype_numpy(start, stop, dtype):
    return jnp.asarray(np.arange(start, stop), dtype=dtype)


# --- arange-traced-length: the length must be concrete -------------------------


def _traced_jnp(n):
    return jnp.arange(n)


# --- arange-loop-carry: arange as the xs of lax.scan (seed 000) -----------------


def _loop_carry(carry, x):
    # At module level, not inside _loop_carry_scan: outside jit, JAX caches the traced
    # scan body by function identity, so a nested body would recompile on every call.
    carry = carry + x  # update the carried value
    return carry, carry  # (new carry, per-step output)


def _loop_carry_scan(n):
    init_carry = 0
    inputs = jnp.arange(n)
    _final_carry, outputs = lax.scan(_loop_carry, init_carry, inputs)
    return outputs


def _loop_carry_cumsum(n):
    return jnp.cumsum(jnp.arange(n))


def _loop_carry_python(n):
    carry = jnp.zeros((), jnp.int32)
    outputs = []
    for x in jnp.arange(n):
        carry = carry + x
        outputs.append(carry)
    return jnp.array(outputs, dtype=jnp.int32)


IMPLEMENTATIONS: list[Implementation] = [
    Implementation(pattern="arange-basic", name="jnp_arange", fn=_basic_jnp,
                   notes="jnp.arange(start, stop, step); bounds must be concrete"),
    Implementation(pattern="arange-basic", name="numpy_arange", fn=_basic_numpy,
                   notes="np.arange on the host, then jnp.asarray (dtype canonicalized to int32/float32)"),
    Implementation(pattern="arange-basic", name="lax_iota", fn=_basic_iota,
                   notes="start + step * lax.iota(dtype, ceil((stop - start) / step))"),
    Implementation(pattern="arange-dtype", name="jnp_arange", fn=_dtype_jnp,
                   notes="jnp.arange(start, stop, dtype=dtype)"),
    Implementation(pattern="arange-dtype", name="astype", fn=_dtype_astype,
                   notes="jnp.arange(start, stop).astype(dtype)"),
    Implementation(pattern="arange-dtype", name="numpy_arange", fn=_dtype_numpy,
                   notes="jnp.asarray(np.arange(start, stop), dtype=dtype)"),
    Implementation(pattern="arange-traced-length", name="jnp_arange", fn=_traced_jnp,
                   notes="jnp.arange(n) with n a traced value fails under jit and vmap"),
    Implementation(pattern="arange-loop-carry", name="lax_scan", fn=_loop_carry_scan,
                   notes="seed 000: lax.scan(loop_carry, 0, jnp.arange(n)), returns the outputs"),
    Implementation(pattern="arange-loop-carry", name="jnp_cumsum", fn=_loop_carry_cumsum,
                   notes="jnp.cumsum(jnp.arange(n))"),
    Implementation(pattern="arange-loop-carry", name="python_loop", fn=_loop_carry_python,
                   notes="Python for loop over jnp.arange(n); unrolls n steps when traced"),
]
