"""The conformance suite's JAX work, without pytest: the baseline of figure 1 and the passes of figure 4.

Run as ``python -m benchmarks.bare_loop [--pattern GLOB ...] [--passes N] [--out FILE]``.

It loads the registry, selects the devices with ``jaxpat.conformance._collect``'s
own logic, and builds the same :class:`jaxpat.conformance._execute.ItemSpec` list
in the same order as the pytest plugin (pattern × case × implementation ×
device × transform, catalog order). For each item it does the JAX work the
item does, under the case's ``config_scope`` and ``jax.default_device``:

- an expected-error case: ``build_args`` and one call, inside try/except;
- otherwise: ``build_args`` + ``_call`` + ``jax.block_until_ready``, the fresh
  ``build_args`` of the input-mutation check, then ``build_args`` + ``_call`` +
  ``block_until_ready`` again (the determinism check's second run);
- for ``grad`` items, also ``_check_grads`` (numerical gradient checks in the
  modes the pattern claims), which is JAX work the item does too.

What it leaves out is what figure 1 measures: pytest, the plugin's
bookkeeping, comparison with the expected values, reporting.

The process persistent compilation cache is left off (as ``--jaxpat-no-cache``
does). XLA compilations are counted with the same monitoring event as the
suite (``/jax/core/compile/backend_compile_duration``). With ``--passes 2`` a
second pass runs the same specs again in the same process; the JSON written
to ``--out`` has each pass's wall time and compilations, the compilations per
transform, and for ``jit`` items the number of distinct signatures (see
``benchmarks/README.md``, figure 4).

A ``jit`` item that compiles again in pass 2 is examined (``jit_recompiles``): how
many programs JAX's jit lowering cache (``jax._src.pjit._pjit_lower``, an LRU of
2048 entries in JAX 0.12.1) took in between (its misses since the signature's last
item in pass 1), and one more call of the item, now warm: its compilations and its
lookups in that cache. JAX runs a jit program with effects (``jax.debug.callback``:
``jaxpat.patterns.observe.operand``) through its Python dispatch, which looks the
program up in that bounded cache on every call, instead of the C++ per-function
cache that other programs use; after that many other programs, it is lowered and
compiled again (figure 4 lists such items apart, with these figures).
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import sys
import time
from collections import Counter
from typing import Any

_COMPILES = [0]


def _on_event(event: str, duration: float, **_: Any) -> None:
    if event == "/jax/core/compile/backend_compile_duration":
        _COMPILES[0] += 1


class _Options:
    """Stands in for ``pytest.Config`` where ``jaxpat.conformance._collect`` reads options (the defaults)."""

    def __init__(self, **options: Any) -> None:
        self.options = {"jaxpat_platforms": None, "jaxpat_all_devices": False, **options}

    def getoption(self, name: str) -> Any:
        return self.options[name]


def item_specs(registry: Any, devices: list[Any], pattern_globs: list[str]) -> list[Any]:
    """The specs ``jaxpat.conformance._collect._pattern_items`` creates, in its order (no item filters but patterns)."""
    from jaxpat.conformance._execute import ItemSpec

    specs = []
    for pattern in registry.catalog:
        if pattern_globs and not any(fnmatch.fnmatchcase(pattern.id, g) for g in pattern_globs):
            continue
        impls = registry.implementations(pattern.id)
        for case in pattern.cases:
            for impl in impls:
                for device in devices:
                    for transform in case.transforms:
                        specs.append(ItemSpec(pattern, case, impl, device, transform))
    return specs


def run_spec(spec: Any, by_transform: Counter, call_compiles: Counter) -> None:
    """One item's JAX work (see the module docstring); exceptions are the suite's business, not ours."""
    import jax

    from jaxpat.catalog import ExpectedError
    from jaxpat.conformance._execute import _call, _check_grads, build_args, config_scope, expectation

    before = _COMPILES[0]
    try:
        expected = expectation(spec)
    except Exception:
        return
    with config_scope(spec.case.config), jax.default_device(spec.device):
        if isinstance(expected, ExpectedError):
            args = build_args(spec.pattern, spec.case, spec.device)
            with contextlib.suppress(Exception):
                jax.block_until_ready(_call(spec, args))
        else:
            try:
                args = build_args(spec.pattern, spec.case, spec.device)
                c0 = _COMPILES[0]
                jax.block_until_ready(_call(spec, args))
                call_compiles[spec.transform] += _COMPILES[0] - c0
                build_args(spec.pattern, spec.case, spec.device)  # the input-mutation check's fresh inputs
                args = build_args(spec.pattern, spec.case, spec.device)
                jax.block_until_ready(_call(spec, args))
                if spec.transform == "grad":
                    _check_grads(spec)
            except Exception:
                pass
    by_transform[spec.transform] += _COMPILES[0] - before


def lowering_cache() -> tuple[int, int, int] | None:
    """(hits, misses, maxsize) of JAX's jit lowering cache (``jax._src.pjit._pjit_lower``); ``None`` where this
    JAX has no such cache (the figures that need it are then ``None``, and figure 4 excuses nothing)."""
    try:
        from jax._src import pjit

        info = pjit._pjit_lower.cache_info()
        return int(info.hits), int(info.misses), int(info.maxsize)
    except Exception:
        return None


def warm_call(spec: Any) -> dict[str, int | None]:
    """One more call of a jit item whose program was just compiled: its compilations (0 when the program is
    reused) and its lookups in JAX's lowering cache (``None``: not measurable). A program on JAX's C++ dispatch
    path is not looked up there when warm; one with effects is, on every call."""
    import jax

    from jaxpat.conformance._execute import _call, build_args, config_scope

    with config_scope(spec.case.config), jax.default_device(spec.device):
        args = build_args(spec.pattern, spec.case, spec.device)
        before, c0 = lowering_cache(), _COMPILES[0]
        with contextlib.suppress(Exception):
            jax.block_until_ready(_call(spec, args))
        after = lowering_cache()
    return {"compiles": _COMPILES[0] - c0,
            "lowering_lookups": after[0] - before[0] if before is not None and after is not None else None}


def _leaf_signature(x: Any) -> Any:
    import numpy as np

    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return ("array", tuple(x.shape), str(x.dtype), bool(getattr(x, "weak_type", False)))
    if isinstance(x, (bool, int, float, complex, np.generic)):
        # Python scalars are weakly typed: jit keys them by type, not value.
        return ("scalar", type(x).__name__)
    return ("other", repr(x))


def jit_signature(spec: Any) -> tuple:
    """What ``jax.jit`` keys a compiled program on, for this item (dynamic avals, static values, config)."""
    import jax

    from jaxpat.conformance._execute import build_args

    sig = spec.pattern.signature
    args = build_args(spec.pattern, spec.case, spec.device)
    dynamic = []
    static = []
    for name, value in zip(sig.args, args, strict=True):
        if name in sig.static:
            static.append((name, repr(value)))
        else:
            leaves, tree = jax.tree.flatten(value)
            dynamic.append((name, str(tree), tuple(_leaf_signature(v) for v in leaves)))
    config = tuple(sorted((k, repr(v)) for k, v in spec.case.config.items()))
    return (id(spec.impl.fn), spec.device_id, tuple(dynamic), tuple(static), config)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bare_loop", description=__doc__.splitlines()[0])
    ap.add_argument("--pattern", action="append", default=[], metavar="GLOB", help="only matching pattern ids")
    ap.add_argument("--passes", type=int, default=1, help="run every item this many times over (default 1)")
    ap.add_argument("--out", metavar="FILE", help="write the figures as JSON")
    ns = ap.parse_args(argv)

    t_start = time.perf_counter()
    import jax
    import jax.monitoring

    jax.monitoring.register_event_duration_secs_listener(_on_event)

    from jaxpat import patterns
    from jaxpat.catalog import ExpectedError
    from jaxpat.conformance._execute import expectation, select_devices

    registry = patterns.load_registry()
    devices, _ = select_devices(None, False)
    specs = item_specs(registry, devices, ns.pattern)
    t_ready = time.perf_counter()

    # the jit lowering cache's misses at the end of each jit item in pass 1 and at its start in pass 2 (figure 4;
    # signatures are computed after the passes: building their inputs is JAX work that pass 1 must do first)
    pass_1_end: dict[str, int] = {}
    pass_2_start: dict[str, int] = {}

    passes = []
    t_first_pass_end = None
    cpu_first_pass_end = 0.0
    for number in range(ns.passes):
        by_transform: Counter = Counter()
        call_compiles: Counter = Counter()
        per_item: Counter = Counter()
        c0, t0, cpu0 = _COMPILES[0], time.perf_counter(), time.process_time()
        for spec in specs:
            before = _COMPILES[0]
            nodeid = _item_id(spec)
            cache = lowering_cache() if spec.transform == "jit" and number < 2 else None
            if number == 1 and cache is not None:
                pass_2_start[nodeid] = cache[1]
            run_spec(spec, by_transform, call_compiles)
            if number == 0 and cache is not None and (cache := lowering_cache()) is not None:
                pass_1_end[nodeid] = cache[1]
            if _COMPILES[0] > before:
                per_item[nodeid] = _COMPILES[0] - before
        passes.append({
            "seconds": round(time.perf_counter() - t0, 3),
            "cpu": round(time.process_time() - cpu0, 3),  # this process's CPU seconds in the pass (all threads)
            "compiles": _COMPILES[0] - c0,
            "compiles_by_transform": dict(by_transform),
            "first_call_compiles_by_transform": dict(call_compiles),
            "items_that_compiled": len(per_item),
            "compiles_by_item": dict(per_item) if passes else {},  # listed from the second pass on
        })
        if t_first_pass_end is None:
            t_first_pass_end = time.perf_counter()
            cpu_first_pass_end = time.process_time()  # CPU seconds of this process since it started

    # Distinct jit signatures among the items whose jit call is expected to compile (no expected error).
    jit_specs = [s for s in specs if s.transform == "jit" and not isinstance(_safe(expectation, s), ExpectedError)]
    signature_of = {_item_id(s): jit_signature(s) for s in jit_specs}

    # jit items that compiled again in pass 2: how many programs the lowering cache took since their signature's
    # last item in pass 1, and one more (warm) call
    jit_recompiles: dict[str, dict[str, Any]] = {}
    if len(passes) >= 2:
        cache = lowering_cache()
        last_use: dict[tuple, int] = {}
        for nodeid, sig in signature_of.items():
            if nodeid in pass_1_end:
                last_use[sig] = max(last_use.get(sig, 0), pass_1_end[nodeid])
        for spec in jit_specs:
            nodeid = _item_id(spec)
            again = passes[1]["compiles_by_item"].get(nodeid, 0)
            if not again:
                continue
            start, last = pass_2_start.get(nodeid), last_use.get(signature_of[nodeid])
            jit_recompiles[nodeid] = {
                "compiles": again,
                "lowered_between": start - last if start is not None and last is not None else None,
                "lowering_cache_size": cache[2] if cache is not None else None,
                "warm_call": warm_call(spec),
            }

    signatures = set(signature_of.values())
    numbered = {sig: i for i, sig in enumerate(dict.fromkeys(signature_of.values()))}
    out = {
        "items": len(specs),
        "setup_seconds": round(t_ready - t_start, 3),
        "passes": passes,
        "jit_items": len(jit_specs),
        "jit_signatures": len(signatures),
        # those items' node ids, each with its signature's number: figure 4 counts the suite's compilations and
        # the distinct signatures over the items the suite ran
        "jit_signature_of": {nodeid: numbered[sig] for nodeid, sig in signature_of.items()},
        "jit_recompiles": jit_recompiles,
        "compiles_total": _COMPILES[0],
        # what this process did after its first pass (figure 1 subtracts it from the process's wall time)
        "cpu_at_first_pass_end": round(cpu_first_pass_end, 3),
        "seconds_after_first_pass": round(time.perf_counter() - (t_first_pass_end or time.perf_counter()), 3),
    }
    if ns.out:
        with open(ns.out, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=1)
    print(json.dumps(out))
    return 0


def _item_id(spec: Any) -> str:
    """The item's pytest node id."""
    return f"jaxpat::{spec.pattern.id}::{spec.case.id}[{spec.impl.id}-{spec.device_id}-{spec.transform}]"


def _safe(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception as exc:
        return exc


if __name__ == "__main__":
    sys.exit(main())
