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
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from jaxpat import report as _report

TRANSFORMS = ("eager", "jit", "vmap", "grad")


def _environment(host: str) -> dict[str, Any]:
    return {"host": host, "jax": "0.10.2", "jaxlib": "0.10.2", "python": "3.12.1",
            "devices": [{"id": "cpu:0", "platform": "cpu", "kind": "cpu"}],
            "plugins": [{"name": "reference", "distribution": "jaxpat", "version": "0.1.0"}]}


def records(n: int, *, drift: bool) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """The ``n`` results of :func:`synthetic`, each with its claim record (or None), one at a time."""
    for i in range(n):
        pattern = f"pattern-{i // 20:06d}"
        impl = f"reference.impl{i % 3}"
        if i % 25 == 24:
            nodeid = f"jaxpat::{pattern}::claim-memory[{impl}-cpu:0]"
            yield ({"nodeid": nodeid, "kind": "claim", "pattern": pattern, "family": f"family{i // 1000}",
                    "implementation": impl, "plugin": "reference", "device": "cpu:0", "platform": "cpu",
                    "transform": "claim:memory", "claim": "memory", "outcome": "passed",
                    "duration": 0.01, "message": None},
                   {"pattern": pattern, "implementation": impl, "claim": "memory", "verdict": "held",
                    "claimed": {"forward": "constant"}, "message": "constant", "device": "cpu:0",
                    "nodeid": nodeid, "measured": {"param": "n", "sizes": [100, 1000],
                                                   "forward": {"temp_bytes": [64, 64], "growth": "constant"}}})
            continue
        transform = TRANSFORMS[i % 4]
        failed = drift and i % 100 == 7
        value = 1.5 + (1e-7 if drift and i % 100 == 11 else 0.0)
        yield ({
            "nodeid": f"jaxpat::{pattern}::case{i % 5}[{impl}-cpu:0-{transform}]", "kind": "case",
            "pattern": pattern, "family": f"family{i // 1000}", "case": f"case{i % 5}", "implementation": impl,
            "plugin": "reference", "device": "cpu:0", "platform": "cpu", "transform": transform,
            "outcome": "failed" if failed else "passed", "duration": 0.01,
            "message": "wrong result: expected [1.5], got [2.5]\n" + "detail " * 20 if failed else None,
            "compiles": 1,
            "observed": {"leaves": [{"dtype": "float32", "shape": [3], "digest": f"{i:016x}",
                                     "values": [value, 2.0, -3.25]}]}}, None)


def synthetic(n: int, *, host: str, drift: bool) -> dict[str, Any]:
    """A report of ``n`` results: 20 items per pattern, 50 patterns per family, every 25th a claim item."""
    rep = _report.new_report(_environment(host), ["jaxpat", "check"])
    rep["status"] = "complete"
    results, claims = [], []
    for result, claim in records(n, drift=drift):
        results.append(result)
        if claim is not None:
            claims.append(claim)
    rep["results"] = results
    rep["claims"] = claims
    return rep


def write_synthetic(path: Path, n: int, *, host: str, drift: bool) -> None:
    """:func:`synthetic` written to ``path`` one result at a time (a million results never in memory at once),
    one result per line; the same document as ``write_report(synthetic(...))``, less the indentation."""
    rep = _report.new_report(_environment(host), ["jaxpat", "check"])
    rep["status"] = "complete"
    claims: list[dict[str, Any]] = []
    outcomes: Counter[str] = Counter()
    durations = array("d")
    token = "\x00results"
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", encoding="utf-8") as f:
        head, _, _ = json.dumps({**rep, "results": [token]}, indent=1).partition(json.dumps(token))
        f.write(head)
        for i, (result, claim) in enumerate(records(n, drift=drift)):
            if i:
                f.write(",\n  ")
            f.write(json.dumps(result))
            outcomes[result["outcome"]] += 1
            durations.append(result["duration"])
            if claim is not None:
                claims.append(claim)
        summary: dict[str, Any] = {o: outcomes.get(o, 0) for o in _report.OUTCOMES}
        summary.update(total=n, duration=round(sum(durations), 6), claims=dict(Counter(c["verdict"] for c in claims)))
        rest = {"claims": claims, "compiles": rep["compiles"], "summary": summary}
        tail = json.dumps(rest, indent=1)
        f.write("\n ],\n " + tail[2:] + "\n")
    tmp.replace(path)


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


#: What each command must keep to (issue 22): at most this many seconds and MiB of peak resident memory.
LIMIT_SECONDS, LIMIT_MIB = 60.0, 2048.0
#: Results per report of figure 11 (a full run) and of ``--quick``.
FULL_N, QUICK_N = 1_000_000, 100_000


def figure(name: str, n: int, wall: float, cpu: float, rss: float, code: int, size: float) -> Any:
    """Figure 11 for one command: ``wall`` and ``cpu`` seconds, ``rss`` MiB, exit status, ``size`` MiB per report."""
    from ._harness import Figure

    ratio = max(wall / LIMIT_SECONDS, rss / LIMIT_MIB)
    return Figure(
        11, f"reports at scale: jaxpat report {name} on {n:,} results ({size:.0f} MiB per report)",
        f"wall time, s (limit {LIMIT_SECONDS:.0f})", round(wall, 1),
        f"peak resident memory, MiB (limit {LIMIT_MIB:.0f})", round(rss), "", round(ratio, 3),
        "<= 1.00", code in (0, 1, 5) and wall <= LIMIT_SECONDS and rss <= LIMIT_MIB,
        notes=[f"CPU time {cpu:.1f} s (user + system; wall time also counts the machine's other load: "
               f"{cpu / LIMIT_SECONDS:.2f} of the limit in CPU time); exit status {code}"],
        extra={"command": name, "results": n, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
               "peak_rss_mib": round(rss), "exit": code, "report_mib": round(size)},
    )


def commands(out: Path) -> dict[str, list[str]]:
    """The four commands measured, on ``out/old.json`` and ``out/new.json``."""
    old, new = out / "old.json", out / "new.json"
    return {
        "show": ["report", "show", str(new)],
        "diff": ["report", "diff", str(old), str(new), "--limit", "5"],
        "merge": ["report", "merge", str(old), str(new), "-o", str(out / "merged.json")],
        "html": ["report", "html", str(new), "-o", str(out / "page.html")],
    }


def prepare(out: Path, n: int) -> float:
    """Write the two reports of ``n`` results under ``out`` (unless there); the seconds it took."""
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for name, host, drift in (("old", "old-host", False), ("new", "new-host", True)):
        path = out / f"{name}.json"
        if not path.exists():
            write_synthetic(path, n, host=host, drift=drift)
    return time.perf_counter() - t0


def figures(out: Path, n: int, *, only: Iterable[str] = ("show", "diff", "merge", "html")) -> list[Any]:
    """Figure 11 of ``python -m benchmarks``: per command, its wall time and peak RSS on ``n``-result reports
    against :data:`LIMIT_SECONDS` and :data:`LIMIT_MIB` (the ratio is the larger of the two fractions)."""
    prepare(out, n)
    size = (out / "new.json").stat().st_size / 2**20
    argv = commands(out)
    found = []
    for name in only:
        wall, cpu, rss, code = measure(argv[name])
        found.append(figure(name, n, wall, cpu, rss, code, size))
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.report_scale", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("n", type=int, help="results per report")
    p.add_argument("--dir", default=".", help="where to write the reports and outputs")
    p.add_argument("--only", nargs="*", default=["show", "diff", "merge", "html"])
    ns = p.parse_args(argv)
    out = Path(ns.dir)
    took = prepare(out, ns.n)
    print(f"reports of {ns.n} results: {(out / 'new.json').stat().st_size / 2**20:.0f} MiB each "
          f"(written in {took:.1f} s)")
    argvs = commands(out)
    figures = {}
    for name in ns.only:
        wall, cpu, rss, code = measure(argvs[name])
        figures[name] = {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "peak_rss_mib": round(rss), "exit": code}
        print(f"{name:6} wall {wall:7.1f} s  cpu {cpu:7.1f} s  {rss:7.0f} MiB  exit {code}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
