"""Reference implementations of the ``sharding`` family: meshes, named shardings, shard_map and pmap.

Meshes arrive as arguments (``{$mesh: [4, 2], axes: [x, y]}`` in the catalog),
built by the conformance suite over the item's devices; the suite reads the
placement of every result from its ``addressable_shards``.

``shard_map`` moved from ``jax.experimental.shard_map`` to ``jax.shard_map``
(JAX 0.6+ has one or both); :func:`shard_map` takes whichever exists, with the
keyword arguments both accept. ``pmap`` implementations raise
:class:`~jaxpat.patterns.Unavailable` (a skip, not a pass) once ``jax.pmap`` is gone.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from .._implementation import Implementation, Unavailable


def shard_map(f: Callable[..., Any], *, mesh: Any, in_specs: Any, out_specs: Any,
              check: bool = True) -> Callable[..., Any]:
    """``jax.shard_map`` where it exists (JAX >= 0.6.1), else ``jax.experimental.shard_map.shard_map``.

    ``check=False`` turns off the replication check, spelt ``check_vma`` by newer
    JAX and ``check_rep`` by older.
    """
    fn: Any = getattr(jax, "shard_map", None)
    if fn is None:  # pragma: no cover - older JAX
        from jax.experimental.shard_map import shard_map as fn
    kwargs: dict[str, Any] = {}
    if not check:
        params = inspect.signature(fn).parameters
        kwargs["check_vma" if "check_vma" in params else "check_rep"] = False
    return fn(f, mesh=mesh, in_specs=in_specs, out_specs=out_specs, **kwargs)


def _pmap(f: Callable[..., Any], mesh: Any) -> Callable[..., Any]:
    pmap = getattr(jax, "pmap", None)
    if pmap is None:
        raise Unavailable("jax.pmap does not exist in this JAX; its shard_map equivalent is the other implementation")
    return pmap(f, axis_name=mesh.axis_names[0], devices=list(mesh.devices.flat))


def _spec(spec: tuple) -> P:
    return P(*spec)


# --- sharding-device-put --------------------------------------------------------


def device_put_named(x, mesh, spec):
    """``jax.device_put(x, NamedSharding(mesh, P(*spec)))``: the array is split (or copied) across the mesh."""
    return jax.device_put(x, NamedSharding(mesh, _spec(spec)))


def make_array_from_callback(x, mesh, spec):
    """Each device asks for its own block: ``jax.make_array_from_callback`` with the same sharding."""
    import numpy as np

    host = np.asarray(x)
    return jax.make_array_from_callback(host.shape, NamedSharding(mesh, _spec(spec)), lambda index: host[index])


# --- sharding-jit-out-shardings -----------------------------------------------------


def _affine(v):
    return v * 2 + 1


def jit_out_shardings(x, mesh):
    """``jax.jit(f, out_shardings=...)`` places the result as asked, whatever the input's placement."""
    return jax.jit(_affine, out_shardings=NamedSharding(mesh, P(mesh.axis_names[0])))(x)


def sharding_constraint(x, mesh):
    """``lax.with_sharding_constraint`` on the result inside the computation."""
    return lax.with_sharding_constraint(_affine(x), NamedSharding(mesh, P(mesh.axis_names[0])))


# --- sharding-follows-data ------------------------------------------------------


def follows_data(x, mesh):
    """Elementwise work on a row-sharded array stays row-sharded (computation follows data)."""
    rows = jax.device_put(x, NamedSharding(mesh, P(mesh.axis_names[0])))
    return rows * rows + 1


# --- sharding-reductions ------------------------------------------------------


def reductions(x, mesh):
    """A full sum of a row-sharded array is replicated; a per-row sum stays row-sharded."""
    rows = jax.device_put(x, NamedSharding(mesh, P(mesh.axis_names[0])))
    return jnp.sum(rows), jnp.sum(rows, axis=1)


# --- sharding-constraint-columns ------------------------------------------------


def constrain_columns(x, mesh):
    """Row-sharded in, column-sharded out: the constraint makes XLA move the data (an all-to-all)."""
    rows = jax.device_put(x, NamedSharding(mesh, P(mesh.axis_names[0], None)))
    return lax.with_sharding_constraint(rows * 10, NamedSharding(mesh, P(None, mesh.axis_names[0])))


# --- sharding-reshard -------------------------------------------------------------


def reshard(x, mesh):
    """``device_put`` of a sharded array onto other shardings: to columns, and to every device (replicated)."""
    rows = jax.device_put(x, NamedSharding(mesh, P(mesh.axis_names[0], None)))
    return jax.device_put(rows, NamedSharding(mesh, P(None, mesh.axis_names[0]))), \
        jax.device_put(rows, NamedSharding(mesh, P()))


# --- shard-map-psum ---------------------------------------------------------------


def psum_shard_map(x, mesh):
    """Each device holds a row block; ``psum`` adds the blocks across the mesh axis, every device gets the sum."""
    axis = mesh.axis_names[0]
    return shard_map(lambda b: lax.psum(b, axis), mesh=mesh, in_specs=P(axis), out_specs=P(axis))(x)


def psum_pmap(x, mesh):
    """The same with ``pmap``: one row per device, ``psum`` over the mapped axis."""
    return _pmap(lambda row: lax.psum(row, mesh.axis_names[0]), mesh)(x)


# --- shard-map-all-gather -----------------------------------------------------------


def all_gather_shard_map(x, mesh):
    """Every device gathers all the (doubled) blocks: the result is replicated.

    ``out_specs=P()`` promises that every device holds the same value; JAX
    cannot prove it for all_gather's output on every version, so the check is off.
    """
    axis = mesh.axis_names[0]
    return shard_map(lambda b: lax.all_gather(b * 2, axis, tiled=True), mesh=mesh,
                     in_specs=P(axis), out_specs=P(), check=False)(x)


def all_gather_compiler(x, mesh):
    """The compiler's way: shard, compute, then ask for a replicated result."""
    axis = mesh.axis_names[0]
    rows = jax.device_put(x, NamedSharding(mesh, P(axis)))
    return jax.device_put(rows * 2, NamedSharding(mesh, P()))


# --- shard-map-ppermute -------------------------------------------------------------


def _ring(n: int) -> list[tuple[int, int]]:
    return [(i, (i + 1) % n) for i in range(n)]


def ppermute_shard_map(x, mesh):
    """Each device sends its block to the next one around the ring."""
    axis = mesh.axis_names[0]
    n = mesh.shape[axis]
    return shard_map(lambda b: lax.ppermute(b, axis, _ring(n)), mesh=mesh, in_specs=P(axis), out_specs=P(axis))(x)


def ppermute_pmap(x, mesh):
    axis = mesh.axis_names[0]
    return _pmap(lambda row: lax.ppermute(row, axis, _ring(mesh.shape[axis])), mesh)(x)


# --- shard-map-axis-index -------------------------------------------------------------


def axis_index_shard_map(mesh):
    """Each device writes its own position along the mesh axis."""
    axis = mesh.axis_names[0]
    n = mesh.shape[axis]
    return shard_map(lambda b: b + lax.axis_index(axis), mesh=mesh, in_specs=P(axis), out_specs=P(axis))(
        jnp.zeros(n, jnp.int32))


def axis_index_pmap(mesh):
    n = mesh.devices.size
    return _pmap(lambda z: z + lax.axis_index(mesh.axis_names[0]), mesh)(jnp.zeros(n, jnp.int32))


IMPLEMENTATIONS = [
    Implementation(pattern="sharding-device-put", name="device_put", fn=device_put_named),
    Implementation(pattern="sharding-device-put", name="from_callback", fn=make_array_from_callback,
                   notes="jax.make_array_from_callback"),
    Implementation(pattern="sharding-jit-out-shardings", name="out_shardings", fn=jit_out_shardings),
    Implementation(pattern="sharding-jit-out-shardings", name="with_sharding_constraint", fn=sharding_constraint),
    Implementation(pattern="sharding-follows-data", name="elementwise", fn=follows_data),
    Implementation(pattern="sharding-reductions", name="jnp_sum", fn=reductions),
    Implementation(pattern="sharding-constraint-columns", name="with_sharding_constraint", fn=constrain_columns),
    Implementation(pattern="sharding-reshard", name="device_put", fn=reshard),
    Implementation(pattern="shard-map-psum", name="shard_map", fn=psum_shard_map),
    Implementation(pattern="shard-map-psum", name="pmap", fn=psum_pmap, notes="raises Unavailable without jax.pmap"),
    Implementation(pattern="shard-map-all-gather", name="shard_map", fn=all_gather_shard_map),
    Implementation(pattern="shard-map-all-gather", name="compiler", fn=all_gather_compiler,
                   notes="device_put to a replicated sharding"),
    Implementation(pattern="shard-map-ppermute", name="shard_map", fn=ppermute_shard_map),
    Implementation(pattern="shard-map-ppermute", name="pmap", fn=ppermute_pmap),
    Implementation(pattern="shard-map-axis-index", name="shard_map", fn=axis_index_shard_map),
    Implementation(pattern="shard-map-axis-index", name="pmap", fn=axis_index_pmap),
]
