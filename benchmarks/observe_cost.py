"""Figure 7: what recording observations costs, measured inside one conformance pass.

Run as ``python -m benchmarks.observe_cost [--pattern GLOB ...] [--out FILE]``.

It builds the suite's item specs (:func:`benchmarks.bare_loop.item_specs`, the
plugin's order) and runs every item exactly as the pytest item does
(:func:`jaxpat.conformance._execute.run_item`: inputs, transform, comparison,
determinism re-run, gradient checks), cold, in one process. The observation
functions (``observe_value`` and ``observe_error``, as ``_execute`` calls them)
are wrapped to add up their own CPU time. The figure is the pass's CPU time
with observations over the same pass's CPU time less what they took: both
sides come from the same items in the same process at the same moment, so a
busy machine (this one is shared) cannot tilt the ratio the way it tilts two
runs taken minutes apart. pytest's own per-item work is not in the
denominator, so the ratio overstates the overhead of a real run slightly.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.observe_cost", description=__doc__.splitlines()[0])
    ap.add_argument("--pattern", action="append", default=[], metavar="GLOB")
    ap.add_argument("--out", metavar="FILE", help="write the figures as JSON")
    ns = ap.parse_args(argv)

    import jax

    from jaxpat.conformance import _execute
    from jaxpat.conformance._execute import select_devices
    from jaxpat.patterns import load_registry

    from .bare_loop import item_specs

    spent = [0.0]
    calls = [0]

    def timed(fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[0] += time.process_time() - t
                calls[0] += 1
        return wrapper

    _execute.observe_value = timed(_execute.observe_value)  # type: ignore[assignment]
    _execute.observe_error = timed(_execute.observe_error)  # type: ignore[assignment]
    registry = load_registry()
    devices, _ = select_devices(None, False)
    specs = item_specs(registry, devices, ns.pattern)
    jax.config.update("jax_enable_compilation_cache", False)
    failed = 0
    t_cpu, t_wall = time.process_time(), time.perf_counter()
    for spec in specs:
        try:
            _execute.run_item(spec, {})
        except Exception:
            failed += 1
    total = time.process_time() - t_cpu
    wall = time.perf_counter() - t_wall
    result = {"items": len(specs), "failed": failed, "observations": calls[0], "cpu_total": total,
              "cpu_observing": spent[0], "wall": wall, "ratio": total / (total - spent[0])}
    print(json.dumps(result))
    if ns.out:
        with open(ns.out, "w", encoding="utf-8") as f:
            json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
