"""Family ``distributed``: programs that span processes joined by ``jax.distributed``.

These run only under the multi-process harness (``jaxpat.conformance._multiprocess``):
every process calls the implementation with the whole global input (a NumPy
array) after ``jax.distributed.initialize``; the implementation builds the global
``jax.Array`` over ``jax.devices()`` (the devices of *all* processes) and returns
a global result, which the harness gathers on every process and compares.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from .._implementation import Implementation


def _mesh_1d() -> Mesh:
    """One axis ``i`` over every device of every process (process 0's devices first)."""
    return Mesh(np.array(jax.devices()), ("i",))


def _mesh_2d() -> Mesh:
    """Axes ``proc`` (one row per process) × ``dev`` (the devices of a process)."""
    devices = sorted(jax.devices(), key=lambda d: (d.process_index, d.id))
    return Mesh(np.array(devices).reshape(jax.process_count(), -1), ("proc", "dev"))


def _global(x: np.ndarray, mesh: Mesh, spec: P) -> jax.Array:
    """The global array of ``x``: each process supplies (from its copy of ``x``) only the shards it holds."""
    x = np.asarray(x)
    return jax.make_array_from_callback(x.shape, NamedSharding(mesh, spec), lambda index: x[index])


# --- a global array and a jitted reduction ------------------------------------------


def _square_sum(a):
    return jnp.sum(a * a)


def _global_sum_of_squares(x):
    return jax.jit(_square_sum)(_global(x, _mesh_1d(), P("i")))


# --- psum and all_gather in shard_map ---------------------------------------------------


def _psum_block(b):
    return lax.psum(b, "i")


def _psum_blocks(x):
    mesh = _mesh_1d()
    f = jax.jit(jax.shard_map(_psum_block, mesh=mesh, in_specs=P("i"), out_specs=P()))
    return f(_global(x, mesh, P("i")))


def _scale_and_gather_block(b):
    scaled = b * (lax.axis_index("i") + 1).astype(b.dtype)
    return lax.all_gather(scaled, "i", tiled=True)


def _all_gather_scaled(x):
    mesh = _mesh_1d()
    # every device holds the whole gathered array: replicated, which shard_map cannot infer for all_gather
    f = jax.jit(jax.shard_map(_scale_and_gather_block, mesh=mesh, in_specs=P("i"), out_specs=P(), check_vma=False))
    return f(_global(x, mesh, P("i")))


# --- jit over a 2-D global mesh ---------------------------------------------------------------


def _matmul_plus_one(x, w):
    return x @ w + 1


def _jit_global_matmul(x, w):
    mesh = _mesh_2d()
    # columns of x (the contraction axis) over processes: the reduction crosses processes
    gx = _global(x, mesh, P("dev", "proc"))
    gw = _global(w, mesh, P("proc", None))
    f = jax.jit(_matmul_plus_one, out_shardings=NamedSharding(mesh, P("dev", None)))
    return f(gx, gw)


IMPLEMENTATIONS = [
    Implementation(pattern="distributed-global-array-sum", name="jit_global_array", fn=_global_sum_of_squares,
                   notes="make_array_from_callback over all processes' devices; jit(sum(x * x))"),
    Implementation(pattern="distributed-psum", name="shard_map_psum", fn=_psum_blocks,
                   notes="shard_map over a 1-D mesh of every device; lax.psum over the mesh axis"),
    Implementation(pattern="distributed-all-gather", name="shard_map_all_gather", fn=_all_gather_scaled,
                   notes="shard_map; lax.all_gather(tiled=True) of blocks scaled by axis_index + 1"),
    Implementation(pattern="distributed-jit-global-mesh", name="jit_sharded_matmul", fn=_jit_global_matmul,
                   notes="x sharded (dev, proc), w (proc, None); jit with out_shardings on the 2-D global mesh"),
]
