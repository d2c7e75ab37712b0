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

import numpy as np

__all__ = ["actual_placement", "check_placement", "judge_placement", "placement_facts", "platform_name"]

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


def placement_facts(result: Any, devices: Sequence[Any]) -> list[dict[str, Any]]:
    """What the executor reads from each leaf of ``result`` (JSON-able): kind, devices, shards, and bad shard data.

    The judge decides with :func:`judge_placement`; nothing here compares with the catalog.
    """
    import jax

    device_set = set(devices)
    out: list[dict[str, Any]] = []
    for path, leaf in jax.tree_util.tree_flatten_with_path(result)[0]:
        fact: dict[str, Any] = {"path": f"result{jax.tree_util.keystr(path)}", "type": type(leaf).__name__}
        out.append(fact)
        if not isinstance(leaf, jax.Array):
            fact["kind"] = "numpy" if isinstance(leaf, np.ndarray | np.generic) else "other"
            continue
        fact["kind"] = "jax"
        if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            leaf = jax.random.key_data(leaf)
        fact["devices"] = _devices(leaf)
        if leaf.devices() - device_set:
            fact["outside"] = True
            continue
        fact["shape"] = [int(n) for n in leaf.shape]
        fact["shards"] = sorted(([i if isinstance(i, int) else str(i), [list(r) for r in ranges]]
                                 for i, ranges in actual_placement(leaf, devices)), key=lambda p: (str(p[0]), p[1]))
        fact["sharding"] = str(leaf.sharding)[:500]
        whole = np.asarray(leaf)
        bad = []
        for s in leaf.addressable_shards:
            ranges = _ranges(s.index, leaf.shape)
            part = whole[tuple(slice(a, b) for a, b in ranges)]
            data = np.asarray(s.data).reshape(part.shape)
            if data.tobytes() != part.tobytes():
                bad.append(f"the shard on {s.device.platform}:{s.device.id} does not hold "
                           f"the array's values at {list(ranges)}")
        if bad:
            fact["bad_shards"] = bad
    return out


def judge_placement(facts: Sequence[Mapping[str, Any]], device_names: Sequence[str],
                    shards: Mapping[str, Any]) -> list[str]:
    """One message per placement problem (empty: all is where it should be); the judge's side, no JAX.

    Every array leaf must live on the item's devices only; leaves named in
    ``shards`` must have exactly the declared placement, and every shard's
    data must be the matching slice of the whole array.
    """
    problems: list[str] = []
    names = ", ".join(device_names)
    seen = set()
    for fact in facts:
        where = str(fact.get("path"))
        seen.add(where)
        want = shards.get(where)
        kind = fact.get("kind")
        if want == "host":
            if kind != "numpy":
                problems.append(f"{where}: expected a NumPy array on the host, got {fact.get('type')}"
                                + (f" on {fact.get('devices')}" if kind == "jax" else ""))
            continue
        if kind != "jax":
            if want is not None:
                problems.append(f"{where}: expected a jax.Array on the item's devices, got {fact.get('type')}")
            continue
        if fact.get("outside"):
            problems.append(f"output on the wrong device: {where} lives on {fact.get('devices')}, "
                            f"the item runs on {names}")
            continue
        if want is None:
            continue
        full = tuple((0, int(n)) for n in fact.get("shape", ()))
        expected = {(i, full) for i in range(len(device_names))} if want == "replicated" else {
            (d, tuple(tuple(r) for r in ranges) if ranges is not None else full) for d, ranges in want
        }
        actual = {(d, tuple(tuple(r) for r in ranges)) for d, ranges in fact.get("shards", ())}
        if actual != expected:
            lines = [f"{where}: placement differs from the case's `shards`"]
            if actual - expected:
                lines.append(f"  unexpected: {_show(actual - expected)}")
            if expected - actual:
                lines.append(f"  missing:    {_show(expected - actual)}")
            lines.append(f"  sharding:   {fact.get('sharding')}")
            problems.append("\n".join(lines))
            continue
        problems += [f"{where}: {b}" for b in fact.get("bad_shards", ())]
    for where in shards:
        if where not in seen:
            problems.append(f"{where}: the case's `shards` names it, but the result has no such leaf "
                            f"(leaves: {', '.join(sorted(seen)) or 'none'})")
    return problems


def check_placement(result: Any, devices: Sequence[Any], shards: Mapping[str, Any]) -> list[str]:
    """:func:`placement_facts` judged by :func:`judge_placement` in one process (tests, ``run_case``)."""
    return judge_placement(placement_facts(result, devices), [f"{d.platform}:{d.id}" for d in devices], shards)


def _devices(leaf: Any) -> str:
    return ", ".join(sorted(f"{d.platform}:{d.id}" for d in leaf.devices()))
