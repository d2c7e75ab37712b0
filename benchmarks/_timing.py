"""A pytest plugin (``-p benchmarks._timing``) that times a jaxpat run phase by phase and item by item.

Environment:

- ``JAXPAT_BENCH_TIMING=FILE``: where to write the timings (JSON) at the end of the session;
- ``JAXPAT_BENCH_WARMUP=GLOB`` (optional): before the run loop, run the items of the
  patterns matching GLOB once, untimed (``jaxpat.conformance._execute.run_item``), then
  forget the suite's transformed-function cache. Figure 6 warms up replica 0
  (``*-r0``) so that every timed item finds JAX's trace and compile caches warm,
  whatever the catalog's size: the per-item time then compares the harness's
  work at 1× and 10×, not how many items happen to compile. The warmed items
  also calibrate the machine: their bare JAX work is timed (warm, median of 3
  passes) just before and just after the loop, so that figure 6 can express the
  per-item time in units of the machine's speed at the time of the run.

Timestamps come from ``pytest_runtest_logstart``/``logfinish``, so an item's
time includes everything pytest and the jaxpat plugin do for it (set-up,
call, teardown, report hooks, the incremental report writes).
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import sys
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
    warmed: list[Any] = []
    if glob and not session.config.option.collectonly:
        from jaxpat.conformance import _execute
        from jaxpat.conformance._collect import snapshot_config
        from jaxpat.patterns._guard import config_changes, restore_config

        # The timed loop measures the harness with JAX's caches warm: the items must not drop them at
        # pattern boundaries (each replica is a pattern of its own) once the process passes its budget.
        _execute.RELEASE_BUDGET = sys.maxsize
        for item in session.items:
            spec = getattr(item, "spec", None)
            if spec is None or not fnmatch.fnmatchcase(spec.pattern.id, glob):
                continue
            saved = snapshot_config()
            try:
                _execute.run_item(spec)
            except Exception:
                pass
            finally:
                restore_config(config_changes(saved, snapshot_config()))
            warmed.append(spec)
        _T["calibration_before"] = _calibrate(warmed)
        _execute._TRANSFORMED.clear()
    _T["warmed"] = warmed
    _T["warmup_seconds"] = time.perf_counter() - t0
    _T["warmed_items"] = len(warmed)
    _T["loop_start"] = time.perf_counter()


def _calibrate(specs: list[Any], rounds: int = 3) -> float | None:
    """Seconds per item of the items' bare JAX work, warm (median of ``rounds`` passes): the machine's speed now.

    Each pass does, per item, what figure 1's bare loop does on the happy path: ``build_args`` +
    the transformed call + ``block_until_ready``, under the case's config and device.
    """
    if not specs:
        return None
    import statistics

    import jax
    from jaxpat.conformance._execute import _call, build_args, config_scope

    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for spec in specs:
            with config_scope(spec.case.config), jax.default_device(spec.device), contextlib.suppress(Exception):
                jax.block_until_ready(_call(spec, build_args(spec.pattern, spec.case, spec.device)))
        times.append((time.perf_counter() - t0) / len(specs))
    return statistics.median(times)


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
    after = _calibrate(_T.get("warmed", [])) if _T.get("warmed") else None
    out = {
        "collected": _T.get("collected"),
        "configure_to_collected": _T.get("collection_finish", end) - _T.get("configure", end),
        "collection_seconds": _T.get("collection_finish", end) - _T.get("collection_start", end),
        "warmup_seconds": _T.get("warmup_seconds", 0.0),
        "warmed_items": _T.get("warmed_items", 0),
        # bare JAX seconds per warmed item, before and after the timed loop (see _calibrate)
        "calibration": [_T.get("calibration_before"), after],
        "items_run": len(finish),
        # first item's start to last item's finish: every per-item cost, nothing before or after
        "loop_seconds": (finish[-1] - start[0]) if finish else 0.0,
        "item_seconds": [round(b - a, 6) for a, b in zip(start, finish, strict=False)],
        "nodeids": _T["nodeids"],
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f)
