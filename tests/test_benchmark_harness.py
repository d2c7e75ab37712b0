"""The benchmark harness's own parts: figures 10 and 11 read from committed results, CPU time read from /proc."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ is not installed: the repository root

from benchmarks import _timing
from benchmarks import run as bench_run

SUITE_TEXT = """jaxpat test suite, 2026-12-07 08:42-08:54 UTC, `pytest -n 2`
commit abc, Python 3.12.1, JAX 0.12.1,
the project's 2-core machine.

result: 1932 passed, 3 skipped
wall time: {wall} s (11:30); CPU time of every process: 1116 s
"""


def _bench(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> bench_run.Bench:
    ns = argparse.Namespace(quick=False, workdir=str(tmp_path), no_bytecode_cache=False)
    return bench_run.Bench(ns)


@pytest.mark.parametrize(("wall", "met"), [(250, True), (300, True), (690, False)])
def test_figure_10_reads_the_newest_suite_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str], wall: int, met: bool) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "2026-11-01-suite-2core.txt").write_text(SUITE_TEXT.format(wall=100), encoding="utf-8")
    (suite / "2026-12-07-suite-2core.txt").write_text(SUITE_TEXT.format(wall=wall), encoding="utf-8")
    monkeypatch.setattr(bench_run, "SUITE_RESULTS", suite)
    bench = _bench(tmp_path, capsys)
    bench.suite_from_results()
    (fig,) = bench.figures
    assert (fig.number, fig.a, fig.met) == (10, float(wall), met)
    assert fig.ratio == pytest.approx(wall / 300)
    out = capsys.readouterr().out
    assert "2026-12-07-suite-2core.txt (not run here" in out
    assert ("   MET" in out) is met


def test_figure_10_without_committed_results_is_inconclusive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(bench_run, "SUITE_RESULTS", tmp_path / "none")
    bench = _bench(tmp_path, capsys)
    bench.suite_from_results()
    assert not bench.figures[0].met
    assert "inconclusive" in capsys.readouterr().out


def test_figure_11_reads_the_committed_reports_as_figure_11(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    fig = {"number": 9, "name": "reports at scale: jaxpat report merge on 1,000,000 results", "a_label": "wall",
           "a": 96.1, "b_label": "rss", "b": 931, "unit": "", "ratio": 1.601, "target": "<= 1.00", "met": False,
           "notes": ["CPU time 77.2 s"], "extra": {"command": "merge"}}
    (reports / "2026-12-07-1M.json").write_text(json.dumps({"machine": {"date": "2026-12-07"}, "figures": [fig]}),
                                                encoding="utf-8")
    monkeypatch.setattr(bench_run, "REPORT_RESULTS", reports)
    bench = _bench(tmp_path, capsys)
    bench.reports_from_results()
    (got,) = bench.figures
    assert (got.number, got.a, got.ratio, got.met) == (11, 96.1, 1.601, False)
    assert "read from the committed" in capsys.readouterr().out


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_tree_cpu_counts_a_child_that_burned_cpu() -> None:
    """A child spins until its own clock says 0.3 s of CPU; /proc, read by the parent, says at least that less a
    tick, and the loop's CPU is split between this process (judge) and the child (executors)."""
    code = ("import sys, time\n"
            "while time.process_time() < 0.3: pass\n"
            "print(time.process_time(), flush=True); sys.stdin.read()")
    before = _timing.tree_cpu()
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        own = float(child.stdout.readline())
        after = _timing.tree_cpu()
        assert child.pid in after
        assert os.getpid() in after
        tick = 1 / os.sysconf("SC_CLK_TCK")
        assert after[child.pid][1] >= own - 2 * tick
        assert _timing.pids_cpu([child.pid]) == pytest.approx(after[child.pid][1], abs=2 * tick)
        _timing._T.update(cpu_loop_start=before, cpu_loop_end=after)
        split = _timing.loop_cpu()
        assert split["executors"] >= own - 2 * tick
        assert split["judge"] == pytest.approx(after[os.getpid()][1] - before[os.getpid()][1], abs=1e-3)
    finally:
        child.communicate("")
    assert _timing.pids_cpu([child.pid]) == 0.0  # an ended process counts 0


def _scale_run(cpu_ms: float, span: int, replicas: dict[str, float]) -> dict[str, object]:
    return {"items": span + 10, "timed_items": span, "loop": 1.0, "per_item_ms": cpu_ms, "cpu_per_item_ms": cpu_ms,
            "cpu_span_items": span, "cpu_by_replica_ms": replicas, "quiet_items": span, "wall": 2.0,
            "outcomes": "x passed", "compiles": 5, "deciles_ms": [1.0] * 10, "peak_rss": {}}


def test_figure_6b_pools_a_scales_alternating_runs_by_their_items() -> None:
    """Each scale's per-item figure is its runs' CPU time over their items (not the mean of the runs' means), each
    replica's figure is averaged over the runs, and each run's own figures stay under ``runs``."""
    one = _scale_run(3.0, 100, {"0": 9.0, "1": 3.0})
    two = _scale_run(5.0, 300, {"0": 8.0, "1": 5.0})
    pooled = bench_run._pooled([one, two])
    assert pooled["cpu_per_item_ms"] == pytest.approx((3.0 * 100 + 5.0 * 300) / 400)  # 4.5, not 4.0
    assert pooled["cpu_span_items"] == 400
    assert pooled["cpu_by_replica_ms"] == {"0": pytest.approx(8.5), "1": pytest.approx(4.0)}
    assert [r["cpu_per_item_ms"] for r in pooled["runs"]] == [3.0, 5.0]
    alone = bench_run._pooled([one])
    assert alone["cpu_per_item_ms"] == 3.0
    assert alone["runs"] == [one]
