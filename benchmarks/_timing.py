"""A pytest plugin (``-p benchmarks._timing``) that times a jaxpat run phase by phase and item by item.

Environment: ``JAXPAT_BENCH_TIMING=FILE``: where to write the timings (JSON) at the end of the session.

Timestamps come from ``pytest_runtest_logstart``/``logfinish``, so an item's time includes everything
pytest and the jaxpat plugin do for it (set-up, the executor round trip, call, teardown, report hooks,
the incremental report writes). This plugin runs in the judge, which never imports JAX: it cannot warm
JAX's caches itself (it once did, calling ``run_item`` in the pytest process). Figure 6b gets warm caches
from the catalog's order instead: replica 0's items run first, and every later replica calls the same
functions with the same shapes, so it compiles nothing (the report's per-item ``compiles`` says which did).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest

_T: dict[str, Any] = {"start": [], "finish": [], "nodeids": [], "cpu_start": [], "cpu_finish": []}
try:
    _TICK = float(os.sysconf("SC_CLK_TCK"))
except (OSError, ValueError, AttributeError):
    _TICK = 100.0


def pytest_configure(config: pytest.Config) -> None:
    _T["configure"] = time.perf_counter()


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> None:
    _T["collection_start"] = time.perf_counter()


def pytest_collection_finish(session: pytest.Session) -> None:
    _T["collection_finish"] = time.perf_counter()
    _T["collected"] = len(session.items)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Any:
    _T["loop_start"] = time.perf_counter()
    _T["cpu_loop_start"] = tree_cpu()
    _T["pids"] = sorted(_T["cpu_loop_start"])  # the judge and the executors it started before the loop
    yield
    # before the session ends: the executors are still running, their CPU time still readable
    _T["cpu_loop_end"] = tree_cpu()


def tree_cpu() -> dict[int, tuple[str, float]]:
    """``{pid: (command name, user + system CPU seconds)}`` of this process and its descendants (``/proc``;
    empty where there is none): the judge's and its executors' work, which a busy machine disturbs less
    than their wall time."""
    try:
        tck = os.sysconf("SC_CLK_TCK")
        names = os.listdir("/proc")
    except (OSError, ValueError):
        return {}
    children: dict[int, list[int]] = {}
    stats: dict[int, tuple[str, float]] = {}
    for d in names:
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", encoding="utf-8", errors="replace") as f:
                s = f.read()
        except OSError:
            continue
        rest = s.rsplit(")", 1)[1].split()
        children.setdefault(int(rest[1]), []).append(int(d))
        stats[int(d)] = (s[s.find("(") + 1:s.rfind(")")], (int(rest[11]) + int(rest[12])) / tck)
    out: dict[int, tuple[str, float]] = {}
    todo = [os.getpid()]
    while todo:
        pid = todo.pop()
        if pid in stats:
            out[pid] = stats[pid]
        todo += children.get(pid, [])
    return out


def loop_cpu() -> dict[str, float]:
    """CPU seconds spent during the test loop: ``judge`` (this process), ``executors`` (its descendants that
    lived through the loop's end; one that started during the loop counts whole)."""
    a, b = _T.get("cpu_loop_start") or {}, _T.get("cpu_loop_end") or {}
    me = os.getpid()
    out = {"judge": 0.0, "executors": 0.0}
    for pid, (_, cpu) in b.items():
        out["judge" if pid == me else "executors"] += cpu - a.get(pid, ("", 0.0))[1]
    return {k: round(v, 3) for k, v in out.items()}


def pytest_runtest_logstart(nodeid: str, location: Any) -> None:
    _T["start"].append(time.perf_counter())
    _T["cpu_start"].append(pids_cpu(_T.get("pids") or []))
    _T["nodeids"].append(nodeid)


def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
    _T["cpu_finish"].append(pids_cpu(_T.get("pids") or []))
    _T["finish"].append(time.perf_counter())


def pids_cpu(pids: list[int]) -> float:
    """User + system CPU seconds of ``pids`` now (``/proc/PID/stat``, clock ticks: 10 ms; a process that has
    ended counts 0). Cheap (one small read per process), so it can run at every item's start and finish; a
    span of many items telescopes, so its error is one tick at each end, not one per item."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
                rest = f.read().rsplit(")", 1)[1].split()
            total += int(rest[11]) + int(rest[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / _TICK


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = os.environ.get("JAXPAT_BENCH_TIMING")
    if not path:
        return
    end = time.perf_counter()
    start, finish = _T["start"], _T["finish"]
    out = {
        "collected": _T.get("collected"),
        "configure_to_collected": _T.get("collection_finish", end) - _T.get("configure", end),
        "collection_seconds": _T.get("collection_finish", end) - _T.get("collection_start", end),
        "items_run": len(finish),
        # first item's start to last item's finish: every per-item cost, nothing before or after
        "loop_seconds": (finish[-1] - start[0]) if finish else 0.0,
        "item_seconds": [round(b - a, 6) for a, b in zip(start, finish, strict=False)],
        "nodeids": _T["nodeids"],
        "loop_cpu": loop_cpu(),
        # CPU seconds (judge + executors) at each item's start and finish
        "item_cpu_start": _T["cpu_start"],
        "item_cpu_finish": _T["cpu_finish"],
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f)
