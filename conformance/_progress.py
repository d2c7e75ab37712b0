"""A progress line for long conformance runs: items done of the total, failures so far, elapsed and ETA.

pytest's own output is a dot per item. On the controller (or the single
process), once the run has gone on for :data:`FIRST_AFTER` seconds and then
at most every :data:`INTERVAL` seconds, a line like::

    jaxpat: 523/1792 items (29%), 2 failed; 1m02s elapsed, about 2m31s left

is written on a line of its own (never glued to pytest's row of dots). The
estimate is given only once :func:`eta_after` items have finished (before that,
start-up -- workers, executors, JAX's first compilations -- would dominate it:
"about 10h11m left" after one item), and it counts from the first finished
item: the mean time per item since then times the items left.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

__all__ = ["ETA_FRACTION", "ETA_MIN_ITEMS", "FIRST_AFTER", "INTERVAL", "Progress", "duration", "eta_after"]

#: Seconds before the first progress line (short runs get none).
FIRST_AFTER = 10.0
#: Seconds between progress lines.
INTERVAL = 15.0
#: The least number of finished items before an estimate is given (and at least :data:`ETA_FRACTION` of all).
ETA_MIN_ITEMS = 20
ETA_FRACTION = 0.05


def eta_after(total: int) -> int:
    """How many items must have finished before the line estimates the time left."""
    return max(ETA_MIN_ITEMS, int(total * ETA_FRACTION + 0.999))


def duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``1h02m``."""
    s = round(max(seconds, 0.0))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class Progress:
    """Counts finished items and writes a progress line now and then (a pytest plugin object)."""

    def __init__(self, config: pytest.Config, *, clock: Callable[[], float] = time.monotonic,
                 write: Callable[[str], None] | None = None) -> None:
        self.config = config
        self.clock = clock
        self.started = clock()
        self.next_at = self.started + FIRST_AFTER
        self.total = 0
        self.done = 0
        self.failed = 0
        self.first_done_at: float | None = None  # when the first item finished (start-up is over)
        self._write = write

    # -- the total -----------------------------------------------------------------------------------------------

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not self.total:
            self.total = len(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.total = max(self.total, len(ids))

    # -- counting ------------------------------------------------------------------------------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed and report.when != "teardown":
            self.failed += 1
        if report.when != "teardown":
            return
        self.done += 1
        now = self.clock()
        if self.first_done_at is None:
            self.first_done_at = now
        if now >= self.next_at and self.total:
            self.next_at = now + INTERVAL
            self.emit(self.line(now))

    def line(self, now: float) -> str:
        """The progress line at time ``now``."""
        elapsed = now - self.started
        pct = 100 * self.done / self.total if self.total else 0.0
        text = f"jaxpat: {self.done}/{self.total} items ({pct:.0f}%)"
        text += f", {self.failed} failed" if self.failed else ""
        text += f"; {duration(elapsed)} elapsed"
        left = self.total - self.done
        if left > 0 and self.done >= eta_after(self.total) and self.first_done_at is not None:
            per_item = (now - self.first_done_at) / (self.done - 1)
            text += f", about {duration(per_item * left)} left"
        return text

    def emit(self, text: str) -> None:
        if self._write is not None:
            self._write(text)
            return
        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        if tr is not None and self.config.get_verbosity() >= 0:
            tw = getattr(tr, "_tw", None)
            if getattr(tw, "width_of_current_line", 0) and not getattr(tr, "currentfspath", None):
                tr.write("\n")  # pytest's dots (or xdist's) are on this line: the progress gets its own
            tr.write_line(text)  # ends the line: the dots go on below it
