"""The multi-process harness tells a hang from a slow machine by the CPU its processes still use.

Clocks, sleeps and CPU readings are injected: no test here waits for real time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jaxpat.conformance import _multiprocess as mp


class FakeProc:
    """A process that exits 0 at ``ends`` (None: never) on the fake clock."""

    def __init__(self, pid: int, clock: Any, ends: float | None) -> None:
        self.pid, self.clock, self.ends = pid, clock, ends
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and self.ends is not None and self.clock.now >= self.ends:
            self.returncode = 0
        return self.returncode


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, dt: float) -> None:
        self.now += max(dt, 0.5)  # coarse steps keep the loop short


def wait(tmp_path: Path, ends: list[float | None], rates: list[float], deadline: float = 40.0) -> tuple[
        list[str], float]:
    """Run ``_wait`` on fake processes that use ``rates[i]`` CPU-seconds per second; (problems, time waited)."""
    clock = Clock()
    procs = [FakeProc(100 + i, clock, e) for i, e in enumerate(ends)]

    def cpu_of(pid: int) -> float:
        return rates[pid - 100] * clock.now

    problems = mp._wait(procs, tmp_path, deadline, clock=clock, sleep=clock.sleep,  # type: ignore[arg-type]
                        cpu_of=cpu_of)
    return problems, clock.now


def test_processes_still_computing_at_the_deadline_are_given_time(tmp_path: Path) -> None:
    # a loaded machine: both processes get a tenth of a core and finish at 70 s, past the 40 s deadline
    problems, waited = wait(tmp_path, [70.0, 70.0], [0.1, 0.1])
    assert problems == []
    assert 70.0 <= waited < 72.0


def test_a_process_that_uses_no_cpu_is_a_hang_at_the_deadline(tmp_path: Path) -> None:
    # process 0 computes, process 1 waits for a collective (no CPU): killed at the deadline, as a hang
    problems, waited = wait(tmp_path, [None, None], [0.5, 0.0])
    assert 40.0 < waited < 42.0
    assert len(problems) == 1
    assert "still running after 4" in problems[0]
    assert "a hang" in problems[0]
    assert "still computing" not in problems[0]


def test_computing_past_the_extension_fails_and_says_the_machine_may_be_slow(tmp_path: Path) -> None:
    problems, waited = wait(tmp_path, [None, None], [0.2, 0.3])
    assert mp.EXTENSION * 40.0 < waited < mp.EXTENSION * 40.0 + 2.0
    assert len(problems) == 1
    assert "each was still computing" in problems[0]
    assert "raise --jaxpat-timeout" in problems[0]


def test_without_cpu_figures_the_deadline_is_the_limit(tmp_path: Path) -> None:
    clock = Clock()
    procs = [FakeProc(100 + i, clock, 70.0) for i in range(2)]
    problems = mp._wait(procs, tmp_path, 40.0, clock=clock, sleep=clock.sleep,  # type: ignore[arg-type]
                        cpu_of=lambda pid: None)
    assert 40.0 < clock.now < 42.0
    assert "still running" in problems[0]


def test_cpu_seconds_reads_this_process() -> None:
    import os

    used = mp.cpu_seconds(os.getpid())
    assert used is None or used > 0.0
    assert mp.cpu_seconds(2**22 + 12345) is None  # no such process


def test_docs_state_the_harness_constants() -> None:
    """docs/distributed.md gives the hang rule's figures: they are the module's."""
    text = " ".join((Path(__file__).resolve().parents[1] / "docs" / "distributed.md").read_text(
        encoding="utf-8").split())
    assert f"at least {mp.MIN_PROGRESS:g} CPU-seconds in the last {mp.PROGRESS_WINDOW:g} s" in text
    assert f"up to {mp.EXTENSION:g} times that deadline" in text
