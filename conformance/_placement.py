"""Where results live: read by the harness from the arrays themselves, never reported by an implementation.

A case's ``shards`` maps result paths (``result``, ``result[0]``, ``result['w']``)
to the expected placement: ``replicated`` (every device of the item holds the
whole array), ``host`` (a NumPy array, on no device), or a list of
``(device index, index ranges or None)``. Device *indices* are positions in the
item's device set (the devices ``$devices`` and ``$mesh`` are built from), so
expectations do not depend on a host's device ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import numpy as np

__all__ = ["actual_placement", "check_placement", "platform_name"]

Range = tuple[int, int]


def platform_name(device: Any) -> str:
    """The most specific catalog platform of ``device``: ``cpu``, ``tpu``, ``cuda`` or ``rocm`` (``gpu`` if unknown).

    JAX reports ``gpu`` for both NVIDIA and AMD GPUs; the client's platform
    version says which (``cuda 12040`` or ``rocm ...``).
    """
    platform = str(device.platform)
    if platform != "gpu":
        return platform
    try:
        version = str(device.client.platform_version).lower()
    except Exception:  # pragma: no cover - an exotic client
        return "gpu"
    if "rocm" in version or "hip" in version:
        return "rocm"
    return "cuda" if "cuda" in version else "gpu"


def _ranges(index: Sequence[Any], shape: Sequence[int]) -> tuple[Range, ...]:
    """A shard's index as [start, stop) per dimension (ints, as pmap shards use, become one-element ranges)."""
    out = []
    for dim, ix in zip(shape, index, strict=False):
        if isinstance(ix, slice):
            start, stop, _ = ix.indices(dim)
            out.append((start, stop))
        else:
            out.append((int(ix), int(ix) + 1))
    for dim in shape[len(out):]:
        out.append((0, dim))
    return tuple(out)


def actual_placement(leaf: Any, devices: Sequence[Any]) -> set[tuple[int | str, tuple[Range, ...]]]:
    """``{(device index in devices, or the device's name if outside), ranges}`` for every addressable shard."""
    where = {d: i for i, d in enumerate(devices)}
    return {
        (where.get(s.device, f"{s.device.platform}:{s.device.id}"), _ranges(s.index, leaf.shape))
        for s in leaf.addressable_shards
    }


def _show(placement: set) -> str:
    def one(p: tuple) -> str:
        dev, ranges = p
        return f"device {dev}: " + ("[]" if not ranges else " x ".join(f"[{a}:{b}]" for a, b in ranges))
    return "; ".join(one(p) for p in sorted(placement, key=lambda p: (str(p[0]).zfill(8), p[1])))


def check_placement(result: Any, devices: Sequence[Any], shards: Mapping[str, Any]) -> list[str]:
    """One message per placement problem of ``result`` on the item's ``devices`` (empty: all is where it should be).

    Every array leaf must live on the item's devices only; leaves named in
    ``shards`` must have exactly the declared placement, and every shard's
    data must be the matching slice of the whole array.
    """
    problems: list[str] = []
    device_set = set(devices)
    names = ", ".join(f"{d.platform}:{d.id}" for d in devices)
    seen = set()
    for path, leaf in jax.tree_util.tree_flatten_with_path(result)[0]:
        where = f"result{jax.tree_util.keystr(path)}"
        seen.add(where)
        want = shards.get(where)
        if want == "host":
            if isinstance(leaf, jax.Array) or not isinstance(leaf, np.ndarray | np.generic):
                problems.append(f"{where}: expected a NumPy array on the host, got {type(leaf).__name__}"
                                + (f" on {_devices(leaf)}" if isinstance(leaf, jax.Array) else ""))
            continue
        if not isinstance(leaf, jax.Array):
            if want is not None:
                problems.append(f"{where}: expected a jax.Array on the item's devices, got {type(leaf).__name__}")
            continue
        if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            leaf = jax.random.key_data(leaf)
        outside = leaf.devices() - device_set
        if outside:
            problems.append(f"output on the wrong device: {where} lives on {_devices(leaf)}, the item runs on {names}")
            continue
        if want is None:
            continue
        full = tuple((0, n) for n in leaf.shape)
        expected = {(i, full) for i in range(len(devices))} if want == "replicated" else {
            (d, tuple(ranges) if ranges is not None else full) for d, ranges in want
        }
        actual = actual_placement(leaf, devices)
        if actual != expected:
            lines = [f"{where}: placement differs from the case's `shards`"]
            if actual - expected:
                lines.append(f"  unexpected: {_show(actual - expected)}")
            if expected - actual:
                lines.append(f"  missing:    {_show(expected - actual)}")
            lines.append(f"  sharding:   {leaf.sharding}")
            problems.append("\n".join(lines))
            continue
        whole = np.asarray(leaf)
        for s in leaf.addressable_shards:
            ranges = _ranges(s.index, leaf.shape)
            part = whole[tuple(slice(a, b) for a, b in ranges)]
            data = np.asarray(s.data).reshape(part.shape)
            if data.tobytes() != part.tobytes():
                problems.append(f"{where}: the shard on {s.device.platform}:{s.device.id} does not hold "
                                f"the array's values at {list(ranges)}")
    for where in shards:
        if where not in seen:
            problems.append(f"{where}: the case's `shards` names it, but the result has no such leaf "
                            f"(leaves: {', '.join(sorted(seen)) or 'none'})")
    return problems


def _devices(leaf: Any) -> str:
    return ", ".join(sorted(f"{d.platform}:{d.id}" for d in leaf.devices()))
