"""Deliberately wrong multi-device implementations: each must fail the kind of check it targets."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from jaxpat.patterns import Implementation, Unavailable, hookimpl

_COUNTER = itertools.count()


def replicated_instead_of_sharded(x, mesh):
    """Right values, wrong placement: every device holds the whole result."""
    return jax.lax.with_sharding_constraint(x * 2 + 1, NamedSharding(mesh, P()))


def rows_on_wrong_devices(x, mesh):
    """Right values, sharded over the mesh in reverse device order."""
    rev = jax.sharding.Mesh(np.array(list(mesh.devices.flat))[::-1].reshape(mesh.devices.shape), mesh.axis_names)
    return jax.lax.with_sharding_constraint(x * 2 + 1, NamedSharding(rev, P(mesh.axis_names[0])))


def roll_backwards(x, mesh):
    """Right placement, wrong values: the ring turns the other way."""
    return jax.lax.with_sharding_constraint(jnp.roll(x, -1, axis=0), NamedSharding(mesh, P(mesh.axis_names[0])))


def lands_on_device_1(x, y, devices):
    """Right values, wrong device for the committed result."""
    return jax.device_put(x + y, devices[1]), x * 2


def never_reaches_host(x, devices):
    on_device = jax.device_put(x, devices[1])
    return on_device, on_device


def bf16_matmul(a, b):
    """One bfloat16 pass, as TPUs do by default: too coarse for a CPU's float32 expectation."""
    return (a.astype(jnp.bfloat16) @ b.astype(jnp.bfloat16)).astype(jnp.float32)


def noisy(x, idx, values):
    """Adds one ulp on every other call: non-deterministic."""
    out = x.at[idx].add(values)
    return out if next(_COUNTER) % 2 else jnp.nextafter(out, jnp.float32(np.inf))


def gone(x, mesh):
    raise Unavailable("this API was removed")




@hookimpl
def jaxpat_implementations():
    return [
        Implementation(pattern="sharding-jit-out-shardings", name="replicated", fn=replicated_instead_of_sharded),
        Implementation(pattern="sharding-jit-out-shardings", name="reversed_devices", fn=rows_on_wrong_devices),
        Implementation(pattern="sharding-jit-out-shardings", name="unavailable", fn=gone),
        Implementation(pattern="shard-map-ppermute", name="roll_backwards", fn=roll_backwards),
        Implementation(pattern="devices-committed", name="device_1", fn=lands_on_device_1),
        Implementation(pattern="devices-device-get", name="no_host", fn=never_reaches_host),
        Implementation(pattern="devices-matmul-precision", name="bf16", fn=bf16_matmul),
        Implementation(pattern="devices-scatter-add", name="noisy", fn=noisy),
        Implementation(pattern="td-noisy-declared", name="noisy", fn=noisy),
    ]
