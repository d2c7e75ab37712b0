"""Figure 8 (growth per item) and ``tests/test_memory.py``: what a process running items one after another keeps.

Run as ``python -m benchmarks.memory [--pattern GLOB ...] [--no-release] [--out FILE]``.

It builds the suite's item specs (:func:`benchmarks.bare_loop.item_specs`, the
plugin's order: every item of a pattern together, as xdist's ``loadscope``
hands them to a worker) and runs each with
:func:`jaxpat.conformance._execute.run_item`, in one process, calling
:func:`jaxpat.conformance._execute.release_pattern` before each item exactly as
the pytest item does (``--no-release`` leaves that call out: the counter-case).
At every pattern boundary, after the release, it reads the process's resident
memory (``VmRSS``). **Growth per item** is the resident memory at the start of
the last pattern less that at the start of the first measured one, over the
items run in between: what each item leaves behind. The first measured pattern
is the second one, or with ``--warmup GLOB`` the first after the warm-up
patterns (run first, unmeasured): JAX's one-off costs (its first ``grad`` or
``vmap``, modules it imports lazily) are not per item. ``--budget`` is
``release_pattern``'s (default 0 here: release at every boundary, which is what
the suite does once a worker holds more than ``RELEASE_BUDGET``).
The persistent compilation cache is off. The JSON written to ``--out`` also
has the peak (``VmHWM``), the compilations (the suite's monitoring event) and
the seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any


def measure(patterns: list[str], *, release: bool = True, budget: int = 0,
            warmup: list[str] | None = None, passes: int = 1) -> dict[str, Any]:
    """Run every item of ``patterns`` (globs; all when empty) in this process; the figures as a dict.

    ``budget`` is :func:`release_pattern`'s (0: release at every pattern boundary). The items of
    the ``warmup`` patterns run first and are not measured (growth is counted from the first other
    pattern's start): JAX's one-off costs (its first ``grad``, its first ``vmap``) are not per item.
    With ``passes`` > 1 the items (less the warm-up's) run again, in the same order; each pass's growth
    is measured over its own patterns, and ``growth_per_item`` is the last pass's.
    """
    import jax
    import jax.monitoring

    from jaxpat.conformance import _execute
    from jaxpat.conformance._execute import select_devices
    from jaxpat.conformance._memory import current_rss, peak_rss
    from jaxpat.patterns import load_registry

    from .bare_loop import item_specs

    compiles = [0]

    def on_event(event: str, duration: float, **_: Any) -> None:
        if event == "/jax/core/compile/backend_compile_duration":
            compiles[0] += 1

    jax.monitoring.register_event_duration_secs_listener(on_event)
    jax.config.update("jax_enable_compilation_cache", False)
    registry = load_registry()
    devices, _ = select_devices(None, False)
    specs = item_specs(registry, devices[:1], patterns)
    first = item_specs(registry, devices[:1], warmup) if warmup else []
    ids = {s.pattern.id for s in first}
    again = [s for s in specs if s.pattern.id not in ids]
    runs = [(0, spec) for spec in first + again] + [(p, spec) for p in range(1, passes) for spec in again]
    rss_start = current_rss() or 0
    boundaries: list[dict[str, Any]] = []  # one per pattern: where it starts, resident memory there
    released = failed = 0
    previous = None
    t0 = time.perf_counter()
    for i, (p, spec) in enumerate(runs):
        if release:
            released += _execute.release_pattern(spec.pattern.id, budget)
        if spec.pattern.id != previous or (boundaries and boundaries[-1]["pass"] != p):
            boundaries.append({"index": i, "pass": p, "pattern": spec.pattern.id, "rss": current_rss() or 0,
                               "compiles": compiles[0]})
            previous = spec.pattern.id
        try:
            _execute.run_item(spec, {})
        except Exception:
            failed += 1
    seconds = time.perf_counter() - t0
    per_pass = []
    for p in range(passes):
        mine = [b for b in boundaries if b["pass"] == p and b["pattern"] not in ids]
        measured = mine[1:] if p == 0 and not ids else mine
        growth, items = None, 0
        if len(measured) >= 2:
            items = measured[-1]["index"] - measured[0]["index"]
            growth = (measured[-1]["rss"] - measured[0]["rss"]) / max(1, items)
        ends = [b["compiles"] for b in boundaries if b["pass"] == p + 1] or [compiles[0]]
        starts = [b["compiles"] for b in boundaries if b["pass"] == p]
        per_pass.append({"growth_per_item": growth, "measured_items": items, "compiles": ends[0] - starts[0]})
    return {
        "items": len(runs), "patterns": len({s.pattern.id for _, s in runs}), "passes": passes, "failed": failed,
        "release": release, "budget": budget, "warmup": sorted(ids),
        "measured_items": per_pass[-1]["measured_items"], "growth_per_item": per_pass[-1]["growth_per_item"],
        "releases": released, "rss_start": rss_start, "rss_end": current_rss() or 0, "peak_rss": peak_rss() or 0,
        "compiles": compiles[0], "seconds": round(seconds, 2), "per_pass": per_pass, "boundaries": boundaries,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__.splitlines()[0])
    ap.add_argument("--pattern", action="append", default=[], metavar="GLOB")
    ap.add_argument("--no-release", action="store_true",
                    help="do not call release_pattern between patterns (the counter-case)")
    ap.add_argument("--budget", type=int, default=0, metavar="BYTES",
                    help="release_pattern's budget (default 0: release at every pattern boundary)")
    ap.add_argument("--warmup", action="append", default=[], metavar="GLOB",
                    help="run these patterns' items first, unmeasured (default: the first pattern is the warm-up)")
    ap.add_argument("--passes", type=int, default=1, metavar="N",
                    help="run the items (less the warm-up's) N times; growth is the last pass's (default 1)")
    ap.add_argument("--out", metavar="FILE", help="write the figures as JSON")
    ns = ap.parse_args(argv)
    result = measure(ns.pattern, release=not ns.no_release, budget=ns.budget, warmup=ns.warmup, passes=ns.passes)
    summary = {k: v for k, v in result.items() if k != "boundaries"}
    print(json.dumps(summary))
    if ns.out:
        with open(ns.out, "w", encoding="utf-8") as f:
            json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
