"""``python -m benchmarks.report_scale N``: time and peak memory of ``jaxpat report show/diff/merge/html`` on N results.

Writes two synthetic reports of N results each (``old`` and ``new``: the same
items, 1 % failing in ``new`` and a value drifted in 1 %) shaped like a real
run's -- real node ids, families, observations with values, claim items and
claims with sizes -- then runs each command in a fresh process and prints its
wall time, CPU time (user + system: on a shared machine wall time says more
about the neighbours) and peak resident memory (``ru_maxrss`` of that process)::

    python -m benchmarks.report_scale 1000000 --dir /tmp/rs

Nothing is asserted: this measures (docs/report.md quotes the figures).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from jaxpat import report as _report

TRANSFORMS = ("eager", "jit", "vmap", "grad")


def synthetic(n: int, *, host: str, drift: bool) -> dict[str, Any]:
    """A report of ``n`` results: 20 items per pattern, 50 patterns per family, every 25th a claim item."""
    rep = _report.new_report({"host": host, "jax": "0.10.2", "jaxlib": "0.10.2", "python": "3.12.1",
                              "devices": [{"id": "cpu:0", "platform": "cpu", "kind": "cpu"}],
                              "plugins": [{"name": "reference", "distribution": "jaxpat", "version": "0.1.0"}]},
                             ["jaxpat", "check"])
    rep["status"] = "complete"
    results, claims = [], []
    for i in range(n):
        pattern = f"pattern-{i // 20:06d}"
        impl = f"reference.impl{i % 3}"
        if i % 25 == 24:
            nodeid = f"jaxpat::{pattern}::claim-memory[{impl}-cpu:0]"
            results.append({"nodeid": nodeid, "kind": "claim", "pattern": pattern, "family": f"family{i // 1000}",
                            "implementation": impl, "plugin": "reference", "device": "cpu:0", "platform": "cpu",
                            "transform": "claim:memory", "claim": "memory", "outcome": "passed",
                            "duration": 0.01, "message": None})
            claims.append({"pattern": pattern, "implementation": impl, "claim": "memory", "verdict": "held",
                           "claimed": {"forward": "constant"}, "message": "constant", "device": "cpu:0",
                           "nodeid": nodeid, "measured": {"param": "n", "sizes": [100, 1000],
                                                          "forward": {"temp_bytes": [64, 64], "growth": "constant"}}})
            continue
        transform = TRANSFORMS[i % 4]
        failed = drift and i % 100 == 7
        value = 1.5 + (1e-7 if drift and i % 100 == 11 else 0.0)
        results.append({
            "nodeid": f"jaxpat::{pattern}::case{i % 5}[{impl}-cpu:0-{transform}]", "kind": "case",
            "pattern": pattern, "family": f"family{i // 1000}", "case": f"case{i % 5}", "implementation": impl,
            "plugin": "reference", "device": "cpu:0", "platform": "cpu", "transform": transform,
            "outcome": "failed" if failed else "passed", "duration": 0.01,
            "message": "wrong result: expected [1.5], got [2.5]\n" + "detail " * 20 if failed else None,
            "compiles": 1,
            "observed": {"leaves": [{"dtype": "float32", "shape": [3], "digest": f"{i:016x}",
                                     "values": [value, 2.0, -3.25]}]}})
    rep["results"] = results
    rep["claims"] = claims
    return rep


def measure(argv: list[str]) -> tuple[float, float, float, int]:
    """(wall seconds, CPU seconds, peak RSS in MiB, exit status) of ``python -m jaxpat ARGV`` in a fresh process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "jaxpat", *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1, 5):
        print(err[-2000:], file=sys.stderr)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.report_scale", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("n", type=int, help="results per report")
    p.add_argument("--dir", default=".", help="where to write the reports and outputs")
    p.add_argument("--only", nargs="*", default=["show", "diff", "merge", "html"])
    ns = p.parse_args(argv)
    out = Path(ns.dir)
    out.mkdir(parents=True, exist_ok=True)
    old, new = out / "old.json", out / "new.json"
    t0 = time.perf_counter()
    for path, host, drift in ((old, "old-host", False), (new, "new-host", True)):
        if not path.exists():
            _report.write_report(synthetic(ns.n, host=host, drift=drift), path)
    print(f"reports of {ns.n} results: {new.stat().st_size / 2**20:.0f} MiB each "
          f"(written in {time.perf_counter() - t0:.1f} s)")
    commands = {
        "show": ["report", "show", str(new)],
        "diff": ["report", "diff", str(old), str(new), "--limit", "5"],
        "merge": ["report", "merge", str(old), str(new), "-o", str(out / "merged.json")],
        "html": ["report", "html", str(new), "-o", str(out / "page.html")],
    }
    figures = {}
    for name in ns.only:
        wall, cpu, rss, code = measure(commands[name])
        figures[name] = {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "peak_rss_mib": round(rss), "exit": code}
        print(f"{name:6} wall {wall:7.1f} s  cpu {cpu:7.1f} s  {rss:7.0f} MiB  exit {code}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
