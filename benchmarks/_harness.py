"""What every figure needs: fresh subprocesses, wall-clock timing, the pytest command line, the machine."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

#: The repository root (the parent of ``benchmarks/``).
REPO = Path(__file__).resolve().parents[1]

#: Environment variables that would make the two sides of a figure differ, or a run not the documented one.
_SCRUB = (
    "JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "JAX_ENABLE_X64",
    "JAX_DISABLE_JIT", "JAX_LOG_COMPILES", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "XLA_FLAGS",
    "JAXPAT_BLOCK_PLUGINS", "JAXPAT_DISABLE_PLUGIN_AUTOLOAD", "JAXPAT_CACHE_DIR", "JAXPAT_DISABLE_CATALOG_CACHE",
)


@dataclass
class Proc:
    """One finished subprocess: its wall time (seconds, start to exit), its CPU time and its output.

    ``cpu`` is user + system time of the process and of the children it waited for (xdist
    workers): the work done, which a busy machine disturbs less than the wall time.
    """

    wall: float
    returncode: int
    stdout: str
    stderr: str
    cpu: float = 0.0

    def tail(self, n: int = 15) -> str:
        return "\n".join((self.stdout + self.stderr).strip().splitlines()[-n:])


def env(extra: dict[str, str] | None = None, *, pythonpath: Sequence[str | Path] = (REPO,)) -> dict[str, str]:
    """The subprocess environment: this one, scrubbed of what would skew a run, plus ``extra``."""
    out = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    out.pop("PYTHONPATH", None)
    if pythonpath:
        out["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
    out.update(extra or {})
    return out


def run(cmd: Sequence[str], *, cwd: str | Path, environ: dict[str, str], timeout: float = 1800) -> Proc:
    """Run ``cmd`` to completion and time it with a monotonic clock (the whole process, start-up included)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(list(cmd), cwd=cwd, env=environ, capture_output=True, text=True, timeout=timeout,
                       check=False)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return Proc(wall, p.returncode, p.stdout, p.stderr, cpu)


def pytest_command(
    cwd: str | Path, *, report: str | None = None, workers: int = 0, no_cache: bool = True,
    cache_dir: str | None = None, patterns: Sequence[str] = (), transforms: Sequence[str] = (),
    loads: Sequence[str] = (), catalogs: Sequence[str] = (), extra: Sequence[str] = (), reuse: bool = False,
) -> list[str]:
    """``python -m pytest ...`` exactly as ``jaxpat check`` builds it: its own parser, then ``pytest_args``.

    Cases only: the claims (which ``jaxpat check`` also measures unless ``--no-claims``) are
    measurements of their own, not conformance items, and are left out of every figure.
    """
    from jaxpat.conformance._cli import _INI, add_check_parser, pytest_args

    parser = argparse.ArgumentParser(prog="jaxpat")
    add_check_parser(parser.add_subparsers(dest="command"))
    argv = ["check", "-n", str(workers), "--report", report or "jaxpat-report.json"]
    argv += ["--no-cache"] if no_cache else []
    argv += ["--cache-dir", cache_dir] if cache_dir else []
    # Results stored by earlier runs are reused only where a figure measures reuse (figure 9); every other
    # figure runs every item. A checkout without a result store has no `--fresh`: it runs every item anyway.
    if not reuse and "--fresh" in check_options():
        argv += ["--fresh"]
    for flag, values in (("--pattern", patterns), ("--transform", transforms), ("--load", loads),
                         ("--catalog", catalogs)):
        argv += [x for v in values for x in (flag, v)]
    ns = parser.parse_args(argv)
    ns.claims = False
    # every item runs (--fresh), except where a figure measures reuse (figure 9: --jaxpat-reuse, as `jaxpat check`
    # passes it by default)
    ns.reuse = reuse
    ns.pytest_args = ["-q", *extra]
    # jaxpat check passes its ini file and rootdir in $PYTEST_ADDOPTS; here they are plain arguments
    args = ["-c", str(_INI), "--rootdir", str(cwd), *pytest_args(ns)]
    if report is None:  # no report wanted: drop the option pytest_args always adds
        args = [a for a in args if not a.startswith("--jaxpat-report=")]
    return [sys.executable, "-m", "pytest", *args]


def check_options() -> set[str]:
    """The option strings ``jaxpat check`` accepts in this checkout (``--fresh`` only where results are reused)."""
    from jaxpat.conformance._cli import add_check_parser

    parser = argparse.ArgumentParser(prog="jaxpat")
    sub = parser.add_subparsers(dest="command")
    add_check_parser(sub)
    check = sub.choices["check"]
    return {s for a in check._actions for s in a.option_strings}


def junit_durations(path: str | Path) -> dict[str, float]:
    """Each test's duration (seconds, set-up + call + teardown) from a pytest junit xml file, by ``file::name``."""
    import xml.etree.ElementTree as ET  # a file pytest wrote in this run (not untrusted input)

    out: dict[str, float] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        key = f"{case.get('classname', '')}::{case.get('name', '')}"
        out[key] = out.get(key, 0.0) + float(case.get("time") or 0.0)
    return out


def load_json(path: str | Path) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory, versions and load: what a reader needs to compare figures (no JAX import)."""
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "absent"

    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gib": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "jax": version("jax"),
        "jaxlib": version("jaxlib"),
        "pytest": version("pytest"),
        "pytest_xdist": version("pytest-xdist"),
        "loadavg": _loadavg(),
    }


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


# ---------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------

@dataclass
class Figure:
    """One printed figure: two raw measurements, their ratio, the target and the verdict."""

    number: int
    name: str
    a_label: str
    a: float
    b_label: str
    b: float
    unit: str
    ratio: float
    target: str  # e.g. "<= 1.10"
    met: bool
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    #: Why the measurement cannot decide (then ``met`` is False and the verdict reads NOT MET (inconclusive: ...)).
    inconclusive: str = ""

    def lines(self) -> list[str]:
        verdict = "MET" if self.met else "NOT MET"
        if self.inconclusive:
            verdict = f"NOT MET (inconclusive: {self.inconclusive})"
        out = [
            f"[{self.number}] {self.name}",
            f"    {self.a_label}: {_fmt(self.a, self.unit)}",
            f"    {self.b_label}: {_fmt(self.b, self.unit)}",
            f"    ratio: {self.ratio:.3f}   target: {self.target}   {verdict}",
        ]
        out += [f"    {n}" for n in self.notes]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            # strict JSON: a figure that measured nothing (inconclusive) has null, not NaN
            "number": self.number, "name": self.name, "a_label": self.a_label, "a": _finite(self.a),
            "b_label": self.b_label, "b": _finite(self.b), "unit": self.unit, "ratio": _finite(self.ratio),
            "target": self.target, "met": self.met, "notes": self.notes, "extra": self.extra,
            **({"inconclusive": self.inconclusive} if self.inconclusive else {}),
        }


def _finite(x: float) -> float | None:
    return x if x == x and abs(x) != float("inf") else None


def _fmt(x: float, unit: str) -> str:
    if unit == "s":
        return f"{x:.3f} s" if x < 10 else f"{x:.1f} s"
    if unit == "ms":
        return f"{x:.2f} ms"
    if unit == "bare items":
        return f"{x:.2f} bare items"
    return f"{x:g} {unit}".rstrip()


def check(ratio: float, target: str) -> bool:
    """Whether ``ratio`` meets ``target`` ("<= X", ">= X", "== X" or "within A..B")."""
    op, _, value = target.partition(" ")
    if op == "within":
        lo, hi = (float(v) for v in value.split(".."))
        return lo <= ratio <= hi
    v = float(value)
    return {"<=": ratio <= v + 1e-12, ">=": ratio >= v - 1e-12, "==": abs(ratio - v) < 1e-9}[op]
