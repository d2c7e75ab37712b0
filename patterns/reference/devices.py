"""Reference implementations of the ``devices`` family: placement, transfers, donation, per-platform numerics.

Device sets arrive as arguments (``{$devices: N}`` in the catalog): the
conformance suite passes the item's own devices, so the same code runs on
CPU, GPU and TPU, and the harness — not the implementation — reads where the
results landed (``shards`` expectations).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .._implementation import Implementation

# --- devices-put-each ---------------------------------------------------------


def put_each(x, devices):
    """Element ``i`` of ``x`` onto device ``i``: one committed 0-d array per device."""
    return [jax.device_put(x[i], d) for i, d in enumerate(devices)]


def put_each_host_slices(x, devices):
    """The same from host data: slice with NumPy first, then transfer each slice."""
    host = np.asarray(x)
    return [jax.device_put(host[i], d) for i, d in enumerate(devices)]


# --- devices-device-get -------------------------------------------------------


def put_and_get(x, devices):
    """To device 1 and back: ``device_get`` returns a NumPy array on the host."""
    on_device = jax.device_put(x, devices[1])
    return on_device, jax.device_get(on_device)


# --- devices-committed --------------------------------------------------------


def committed_wins(x, y, devices):
    """An uncommitted operand follows a committed one; uncommitted alone stays on the default device."""
    committed = jax.device_put(y, devices[2])
    return x + committed, x * 2


def committed_conflict(x, y, devices):
    """Two operands committed to different devices: JAX refuses to guess."""
    return jax.device_put(x, devices[0]) + jax.device_put(y, devices[1])


# --- devices-transfer ---------------------------------------------------------


def transfer(x, devices):
    """device 0 -> device 1 -> device 2; every hop keeps the values, the source stays where it was."""
    first = jax.device_put(x, devices[0])
    second = jax.device_put(first, devices[1])
    third = jax.device_put(second, devices[2])
    return first, third


# --- devices-default-device ---------------------------------------------------


def default_device_arange(n, devices):
    """Arrays created under ``jax.default_device(d)`` (without committed inputs) land on ``d``."""
    with jax.default_device(devices[1]):
        return jnp.arange(n, dtype=jnp.int32) * 3


# --- devices-donation ---------------------------------------------------------


def _scale(v):
    return v * 2


_SCALE_DONATING = jax.jit(_scale, donate_argnums=0)
_SCALE = jax.jit(_scale)


def donate(x, donate_input, devices):
    """``donate_argnums``: the donated buffer is deleted after the call (its memory may hold the result)."""
    own = jax.device_put(jnp.array(x, copy=True), devices[0])
    out = (_SCALE_DONATING if donate_input else _SCALE)(own)
    return out, own.is_deleted()


# --- devices-matmul-precision -------------------------------------------------


def matmul(a, b):
    """``a @ b`` at the default precision (platform-dependent: see docs/devices.md)."""
    return a @ b


def matmul_highest(a, b):
    """``jnp.matmul`` with ``precision=HIGHEST``: full float32 on every platform."""
    return jnp.matmul(a, b, precision=jax.lax.Precision.HIGHEST)


def matmul_dot_general(a, b):
    return jax.lax.dot_general(a, b, (((1,), (0,)), ((), ())))


# --- devices-scatter-add ------------------------------------------------------


def scatter_add(x, idx, values):
    """``x.at[idx].add(values)``; duplicate indices accumulate (in an order XLA chooses)."""
    return x.at[idx].add(values)


def scatter_add_segment_sum(x, idx, values):
    return x + jax.ops.segment_sum(values, idx, num_segments=x.shape[0])


# --- devices-x64 --------------------------------------------------------------


def default_dtypes(n):
    """Default dtypes of ``jnp.arange`` (int) and of a float computation: 32-bit unless x64 is on."""
    return jnp.arange(n), jnp.arange(n) / 2


IMPLEMENTATIONS = [
    Implementation(pattern="devices-put-each", name="put_each", fn=put_each,
                   notes="jax.device_put(x[i], devices[i])"),
    Implementation(pattern="devices-put-each", name="host_slices", fn=put_each_host_slices,
                   notes="slice on the host with NumPy, then transfer"),
    Implementation(pattern="devices-device-get", name="put_and_get", fn=put_and_get),
    Implementation(pattern="devices-committed", name="committed_wins", fn=committed_wins),
    Implementation(pattern="devices-committed-conflict", name="add_across_devices", fn=committed_conflict),
    Implementation(pattern="devices-transfer", name="device_put_chain", fn=transfer),
    Implementation(pattern="devices-default-device", name="default_device", fn=default_device_arange),
    Implementation(pattern="devices-donation", name="donate_argnums", fn=donate),
    Implementation(pattern="devices-matmul-precision", name="matmul", fn=matmul, notes="a @ b"),
    Implementation(pattern="devices-matmul-precision", name="dot_general", fn=matmul_dot_general),
    Implementation(pattern="devices-matmul-precision", name="highest", fn=matmul_highest,
                   notes="precision=HIGHEST"),
    Implementation(pattern="devices-scatter-add", name="at_add", fn=scatter_add),
    Implementation(pattern="devices-scatter-add", name="segment_sum", fn=scatter_add_segment_sum),
    Implementation(pattern="devices-x64", name="arange", fn=default_dtypes),
]
