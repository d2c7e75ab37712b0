"""Crash and hang isolation: the watchdog in each worker, what a dead worker leaves, and the quarantine.

Standard library only (the controller never imports JAX).

* Each jaxpat item runs under a :class:`Watchdog`. When it runs past the
  limit (``--jaxpat-timeout``) the watchdog writes the item's id, the limit,
  the elapsed time and the main thread's Python stack to the run's crash
  directory, and ends the process: a hang inside XLA holds the interpreter
  in native code, where nothing gentler can stop it. The controller reads
  the record and reports a *timeout* with its limit and stack, instead of
  xdist's "worker crashed".
* Each worker points :mod:`faulthandler` at a file of its own in the same
  directory, so a segfault leaves its stack there too.
* :class:`Isolation` (controller) counts crashes and timeouts per
  implementation. After :data:`QUARANTINE_AFTER` of them the implementation
  is quarantined: the scheduler drops its remaining items, which the report
  lists as ``not_run`` with the reason, and every other item still runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["QUARANTINE_AFTER", "Isolation", "Watchdog", "implementation_of"]

#: Crashes or timeouts of one implementation after which its remaining items are not run.
QUARANTINE_AFTER = 2
#: Exit status of a worker ended by the watchdog.
TIMEOUT_EXIT = 70
#: Longest stack kept in a timeout record (characters, the innermost frames).
MAX_STACK = 12_000

# In ``[PLUGIN.NAME-cpu:0-jit]``, ``[PLUGIN.NAME-devices-jit]`` or ``[PLUGIN.NAME-cpu:0]`` (claims): NAME is an
# identifier, PLUGIN an entry-point name (dashes and dots allowed), then the device part.
_IMPL = re.compile(r"\[(.+?\.[A-Za-z_]\w*)-(?:[a-z]+:|devices-)")


def implementation_of(nodeid: str) -> str | None:
    """``PLUGIN.NAME`` of a jaxpat item id (``jaxpat::P::C[PLUGIN.NAME-cpu:0-jit]``), or None."""
    if not nodeid.startswith("jaxpat::"):
        return None
    match = _IMPL.search(nodeid)
    return match.group(1) if match else None


def _record_name(nodeid: str) -> str:
    return "timeout-" + hashlib.sha256(nodeid.encode()).hexdigest()[:32] + ".json"


# ---------------------------------------------------------------------------
# worker side
# ---------------------------------------------------------------------------

class Watchdog:
    """Ends the process when one item runs longer than ``limit`` seconds, leaving a record first.

    ``on_timeout(record)`` runs before the process ends (the single-process
    run uses it to write its final report).
    """

    def __init__(self, crash_dir: str | None, limit: float, on_timeout: Callable[[dict[str, Any]], None] | None = None,
                 ) -> None:
        self.crash_dir = crash_dir
        self.limit = limit
        self.on_timeout = on_timeout
        #: the item watched and when it started (None: none); replaced by a plain assignment, read by the thread
        self._current: tuple[str, float] | None = None
        self._thread: threading.Thread | None = None
        self._main = threading.main_thread().ident

    def start(self, nodeid: str) -> None:
        """Watch ``nodeid`` from now on, instead of the item watched before."""
        self._current = (nodeid, time.monotonic())
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="jaxpat-watchdog", daemon=True)
            self._thread.start()

    def cancel(self) -> None:
        self._current = None

    def _watch(self) -> None:
        # One thread for the run (a threading.Timer per item cost a thread start per item and a wake-up of the new
        # thread at each cancel): it sleeps until the watched item's deadline; an item started meanwhile has a
        # later deadline, and one started while nothing was watched has one after this sleep's end.
        while True:
            item = self._current
            if item is None:
                time.sleep(self.limit)
                continue
            left = item[1] + self.limit - time.monotonic()
            if left > 0:
                time.sleep(left)
            elif self._current is item:
                self._fire(*item)
                return

    def _fire(self, nodeid: str, started: float) -> None:
        frame = sys._current_frames().get(self._main) if self._main is not None else None
        stack = "".join(traceback.format_stack(frame)) if frame is not None else "(no Python frame)\n"
        record = {"nodeid": nodeid, "limit": self.limit, "elapsed": round(time.monotonic() - started, 3),
                  "stack": stack[-MAX_STACK:], "pid": os.getpid()}
        try:
            if self.crash_dir:
                path = Path(self.crash_dir) / _record_name(nodeid)
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps(record), encoding="utf-8")
                os.replace(tmp, path)
            sys.stderr.write(f"\njaxpat: {nodeid} ran longer than {self.limit:g} s (--jaxpat-timeout); "
                             "ending this process\n")
            sys.stderr.flush()
            if self.on_timeout is not None:
                self.on_timeout(record)
        finally:
            os._exit(TIMEOUT_EXIT)


def enable_fault_log(crash_dir: str, worker: str) -> Any:
    """Point faulthandler at ``crash_dir/fault-WORKER.txt`` (a segfault's stack lands there); return the file."""
    import faulthandler

    f = open(Path(crash_dir) / f"fault-{worker}.txt", "w", encoding="utf-8")  # noqa: SIM115 - kept open on purpose
    faulthandler.enable(file=f, all_threads=False)
    return f


# ---------------------------------------------------------------------------
# controller side
# ---------------------------------------------------------------------------

@dataclass
class Isolation:
    """The run's crash directory, crash counts per implementation, and the items left out (with why)."""

    crash_dir: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="jaxpat-run-"))
    threshold: int = QUARANTINE_AFTER
    crashes: dict[str, list[str]] = field(default_factory=dict)
    quarantined: dict[str, str] = field(default_factory=dict)
    not_run: dict[str, str] = field(default_factory=dict)

    def timeout_record(self, nodeid: str) -> dict[str, Any] | None:
        """What the watchdog wrote when ``nodeid`` timed out, or None (it crashed some other way)."""
        try:
            return dict(json.loads((Path(self.crash_dir) / _record_name(nodeid)).read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return None

    def fault_log(self, worker: str) -> str:
        """What faulthandler wrote for ``worker`` (a fatal error's stack), or ''."""
        try:
            return (Path(self.crash_dir) / f"fault-{worker}.txt").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def what_happened(self, nodeid: str) -> str:
        record = self.timeout_record(nodeid)
        return f"timed out after {record['limit']:g} s" if record else "crashed its worker"

    def record_crash(self, nodeid: str) -> str | None:
        """Count a crash or timeout of ``nodeid``; return its implementation when that is now quarantined."""
        impl = implementation_of(nodeid)
        if impl is None:
            return None
        events = self.crashes.setdefault(impl, [])
        events.append(f"{nodeid} {self.what_happened(nodeid)}")
        if len(events) >= self.threshold and impl not in self.quarantined:
            self.quarantined[impl] = (
                f"not run: implementation {impl} was quarantined after {len(events)} crashes or timeouts "
                f"({'; '.join(events[:3])})"
            )
            return impl
        return None

    def leave_out(self, nodeid: str) -> bool:
        """True (and recorded) when ``nodeid`` belongs to a quarantined implementation."""
        impl = implementation_of(nodeid)
        if impl is not None and impl in self.quarantined:
            self.not_run[nodeid] = self.quarantined[impl]
            return True
        return False

    def cleanup(self) -> None:
        shutil.rmtree(self.crash_dir, ignore_errors=True)
