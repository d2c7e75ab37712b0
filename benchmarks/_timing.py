"""A pytest plugin (``-p benchmarks._timing``) that times a jaxpat run phase by phase and item by item.

Environment:

- ``JAXPAT_BENCH_TIMING=FILE``: where to write the timings (JSON) at the end of the session;
- ``JAXPAT_BENCH_WARMUP=GLOB`` (optional): before the run loop, run the items of the
  patterns matching GLOB once, untimed (``conformance._execute.run_item``), then
  forget the suite's transformed-function cache. Figure 6 warms up replica 0
  (``*-r0``) so that every timed item finds JAX's trace and compile caches warm,
  whatever the catalog's size: the per-item time then compares the harness's
  work at 1× and 10×, not how many items happen to compile.

Timestamps come from ``pytest_runtest_logstart``/``logfinish``, so an item's
time includes everything pytest and the jaxpat plugin do for it (set-up,
call, teardown, report hooks, the incremental report writes).
"""

from __future__ import annotations

import fnmatch
import json
import os
import time
from typing import Any

import pytest

_T: dict[str, Any] = {"start": [], "finish": [], "nodeids": []}


def pytest_configure(config: pytest.Config) -> None:
    _T["configure"] = time.perf_counter()


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> None:
    _T["collection_start"] = time.perf_counter()


def pytest_collection_finish(session: pytest.Session) -> None:
    _T["collection_finish"] = time.perf_counter()
    _T["collected"] = len(session.items)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    glob = os.environ.get("JAXPAT_BENCH_WARMUP")
    t0 = time.perf_counter()
    warmed = 0
    if glob and not session.config.option.collectonly:
        from conformance import _execute
        from conformance._collect import _restore_config, _snapshot_config

        for item in session.items:
            spec = getattr(item, "spec", None)
            if spec is None or not fnmatch.fnmatchcase(spec.pattern.id, glob):
                continue
            saved = _snapshot_config()
            try:
                _execute.run_item(spec)
            except Exception:
                pass
            finally:
                _restore_config(saved)
            warmed += 1
        _execute._TRANSFORMED.clear()
    _T["warmup_seconds"] = time.perf_counter() - t0
    _T["warmed_items"] = warmed
    _T["loop_start"] = time.perf_counter()


def pytest_runtest_logstart(nodeid: str, location: Any) -> None:
    _T["start"].append(time.perf_counter())
    _T["nodeids"].append(nodeid)


def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
    _T["finish"].append(time.perf_counter())


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
        "warmup_seconds": _T.get("warmup_seconds", 0.0),
        "warmed_items": _T.get("warmed_items", 0),
        "items_run": len(finish),
        # first item's start to last item's finish: every per-item cost, nothing before or after
        "loop_seconds": (finish[-1] - start[0]) if finish else 0.0,
        "item_seconds": [round(b - a, 6) for a, b in zip(start, finish, strict=False)],
        "nodeids": _T["nodeids"],
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f)
