"""The conformance report: a versioned JSON document (docs/report.md), written atomically.

Nothing here imports JAX: the report is built on the pytest controller from
what workers send, and ``jaxpat report`` reads it anywhere.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "FORMAT",
    "OUTCOMES",
    "VERSION",
    "ReportError",
    "diff_reports",
    "load_report",
    "matrix_lines",
    "merge_reports",
    "new_report",
    "summarize",
    "write_report",
]

FORMAT = "jaxpat-report"
VERSION = 1
OUTCOMES = ("passed", "failed", "error", "xfailed", "xpassed", "skipped")
#: Outcomes that count as a regression when an item had passed before.
BAD = frozenset({"failed", "error", "xpassed"})


class ReportError(Exception):
    """A file that is not a jaxpat report of a version this code reads."""


def new_report(environment: Mapping[str, Any], command: list[str]) -> dict[str, Any]:
    """An empty report in state ``running``."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "status": "running",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": list(command),
        "environment": dict(environment),
        "results": [],
        "claims": [],
        "compiles": {"count": 0, "by_process": {}},
        "summary": {},
    }


def summarize(report: dict[str, Any]) -> dict[str, Any]:
    """Recompute ``summary`` from ``results`` (counts per outcome, total, duration)."""
    counts = Counter(r["outcome"] for r in report["results"])
    summary = {o: counts.get(o, 0) for o in OUTCOMES}
    summary["total"] = len(report["results"])
    summary["duration"] = round(sum(r.get("duration") or 0.0 for r in report["results"]), 6)
    summary["claims"] = dict(Counter(c.get("verdict", "unknown") for c in report.get("claims", [])))
    report["summary"] = summary
    return summary


def write_report(report: dict[str, Any], path: str | os.PathLike[str], *, compact: bool = False) -> Path:
    """Write ``report`` to ``path`` atomically (temporary file, fsync, rename).

    The JSON is indented (one member per line) unless ``compact``, which
    writes it on one line, faster.
    """
    summarize(report)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; a report is an ordinary file
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=None if compact else 1, sort_keys=False, default=str)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load_report(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a report; ReportError says what is wrong with the file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReportError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from exc
    problems = validate_report(data)
    if problems:
        raise ReportError(f"{path}: not a valid jaxpat report:\n" + "\n".join(f"  {p}" for p in problems))
    return data


def validate_report(data: Any) -> list[str]:
    """Return the ways ``data`` departs from the report format (empty when valid)."""
    if not isinstance(data, dict):
        return ["the top level must be an object"]
    if data.get("format") != FORMAT:
        return [f"`format` must be {FORMAT!r}"]
    if data.get("version") != VERSION:
        return [f"`version` {data.get('version')!r} is not supported (this jaxpat reads {VERSION})"]
    problems = []
    for key, typ in (("status", str), ("environment", dict), ("results", list), ("summary", dict)):
        if not isinstance(data.get(key), typ):
            problems.append(f"`{key}` must be a {typ.__name__}")
    for i, r in enumerate(data.get("results") or []):
        if not isinstance(r, dict) or r.get("outcome") not in OUTCOMES or not isinstance(r.get("nodeid"), str):
            problems.append(f"results[{i}]: needs `nodeid` and an `outcome` in {OUTCOMES}")
            if len(problems) > 20:
                break
    return problems


# ---------------------------------------------------------------------------
# merge and diff
# ---------------------------------------------------------------------------

def merge_reports(reports: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Combine reports from several hosts into one; results keep their host."""
    reports = list(reports)
    if not reports:
        raise ReportError("nothing to merge")
    merged = new_report({"hosts": []}, ["jaxpat", "report", "merge"])
    statuses = set()
    for rep in reports:
        env = rep["environment"]
        host = env.get("host", "unknown")
        merged["environment"]["hosts"].append(env)
        statuses.add(rep["status"])
        for r in rep["results"]:
            merged["results"].append({**r, "host": r.get("host", host)})
        for c in rep.get("claims", []):
            merged["claims"].append({**c, "host": c.get("host", host)})
        merged["compiles"]["count"] += rep.get("compiles", {}).get("count", 0)
    merged["status"] = "complete" if statuses == {"complete"} else "incomplete"
    summarize(merged)
    return merged


def _key(r: Mapping[str, Any]) -> str:
    return r["nodeid"] if "host" not in r else f"{r['host']}::{r['nodeid']}"


def diff_reports(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """What changed between two runs: regressions, fixes, other changes, added and removed items.

    Items are matched by node id, and by host too when both reports are merged ones.
    """
    use_host = any("host" in r for r in old["results"]) and any("host" in r for r in new["results"])
    key = _key if use_host else (lambda r: r["nodeid"])
    before = {key(r): r for r in old["results"]}
    after = {key(r): r for r in new["results"]}
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for k in sorted(before.keys() | after.keys()):
        a, b = before.get(k), after.get(k)
        if a is None:
            out["added"].append({"nodeid": k, "new": b["outcome"]})
        elif b is None:
            out["removed"].append({"nodeid": k, "old": a["outcome"]})
        elif a["outcome"] != b["outcome"]:
            entry = {"nodeid": k, "old": a["outcome"], "new": b["outcome"], "message": b.get("message")}
            if b["outcome"] in BAD and a["outcome"] not in BAD:
                out["regressions"].append(entry)
            elif a["outcome"] in BAD and b["outcome"] not in BAD:
                out["fixes"].append(entry)
            else:
                out["changed"].append(entry)
    return {k: out.get(k, []) for k in ("regressions", "fixes", "changed", "added", "removed")}


# ---------------------------------------------------------------------------
# the matrix
# ---------------------------------------------------------------------------

_MARK = {"passed": "✓", "failed": "✗", "error": "E", "xfailed": "x", "xpassed": "X", "skipped": "s"}


def matrix_lines(report: Mapping[str, Any]) -> list[str]:
    """Patterns × platform/transform, each cell the counts per outcome (✓ passed, ✗ failed, …)."""
    cells: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    columns: set[str] = set()
    for r in report["results"]:
        pattern = r.get("pattern") or r["nodeid"].split("::")[-1].split("[")[0]
        col = f"{r.get('platform') or '-'}/{r.get('transform') or r.get('kind') or '-'}"
        if r.get("host"):
            col = f"{r['host']}:{col}"
        columns.add(col)
        cells[pattern][col][r["outcome"]] += 1
    if not cells:
        return ["(no results)"]
    cols = sorted(columns, key=_column_order)
    rendered = {p: {c: _cell(cells[p].get(c)) for c in cols} for p in cells}
    width0 = max(len("pattern"), *(len(p) for p in cells))
    widths = {c: max(len(c), *(len(rendered[p][c]) for p in cells)) for c in cols}
    head = "pattern".ljust(width0) + "  " + "  ".join(c.ljust(widths[c]) for c in cols)
    lines = [head, "-" * len(head)]
    for p in sorted(cells):
        lines.append(p.ljust(width0) + "  " + "  ".join(rendered[p][c].ljust(widths[c]) for c in cols))
    total = Counter(r["outcome"] for r in report["results"])
    lines.append("-" * len(head))
    lines.append("legend: ✓ passed  ✗ failed  E error  x xfailed  X xpassed (strict: fails)  s skipped")
    lines.append("total: " + ", ".join(f"{total[o]} {o}" for o in OUTCOMES if total[o]))
    return lines


def _column_order(col: str) -> tuple:
    order = {"eager": 0, "jit": 1, "vmap": 2, "grad": 3}
    platform, _, transform = col.rpartition("/")
    return (platform, order.get(transform, 9), transform)


def _cell(counts: Counter | None) -> str:
    if not counts:
        return "."
    return " ".join(f"{counts[o]}{_MARK[o]}" for o in OUTCOMES if counts.get(o))
