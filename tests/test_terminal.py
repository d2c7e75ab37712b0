"""The terminal view: a matrix within 100 columns, a legend for every symbol, ASCII and colour fallbacks."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jaxpat import report as _report
from jaxpat.report import Result


def result(pattern: str, transform: str, outcome: str = "passed", *, host: str | None = None,
           platform: str = "cpu", family: str = "scan", message: str | None = None) -> Result:
    nodeid = f"jaxpat::{pattern}::c[ref.impl-{platform}:0-{transform}]"
    return Result(nodeid=nodeid, outcome=outcome, pattern=pattern, family=family, platform=platform,
                  transform=transform, host=host, kind="case", message=message)


def wide() -> list[Result]:
    """Three hosts × two platforms × four transforms (24 columns) and a very long pattern id."""
    out = []
    for host in ("gpu-box", "tpu-pod", "laptop"):
        for platform in ("cpu", "gpu"):
            for t in ("eager", "jit", "vmap", "grad"):
                out.append(result("scan-cumsum", t, host=host, platform=platform))
                out.append(result("a-really-long-pattern-identifier-that-goes-on-and-on", t, host=host,
                                  platform=platform, family="loops", outcome="failed" if t == "jit" else "passed"))
    return out


def test_wide_matrix_fits_100_columns_in_blocks() -> None:
    lines = _report.matrix_lines(wide(), width=100)
    assert max(len(line) for line in lines) <= 100
    text = "\n".join(lines)
    for host in ("gpu-box", "tpu-pod", "laptop"):
        assert f"{host}:cpu" in text
        assert f"{host}:gpu" in text
    assert "columns 1-" in text  # wrapped into blocks, every column kept
    blocks = [line for line in lines if line.startswith("columns ")]
    last = blocks[-1].rstrip(":").split()[-1]
    assert last == "24"


def test_narrow_report_is_one_block_with_families() -> None:
    rs = [result("scan-cumsum", t) for t in ("eager", "jit")] + [result("loops-fori", "jit", family="loops")]
    lines = _report.matrix_lines(rs, width=100)
    assert not any(line.startswith("columns ") for line in lines)
    assert lines.index("loops (1 pattern)") < lines.index("scan (1 pattern)")
    row = next(line for line in lines if line.strip().startswith("loops-fori"))
    assert row.split()[1:] == [".", "✓1"]  # no eager item: "."


def test_legend_explains_every_symbol_drawn() -> None:
    rs = [result("p", t, o) for t, o in zip(("eager", "jit", "vmap", "grad"), ("passed", "failed", "xfailed",
                                                                                "skipped"), strict=True)]
    rs += [result("q", "eager", "error"), result("q", "jit", "xpassed")]
    for style in (_report.Style(unicode=True), _report.Style(unicode=False)):
        lines = _report.matrix_lines(rs, style=style)
        legend = lines[lines.index(next(x for x in lines if x.startswith("legend"))):]
        start = next(i for i, x in enumerate(lines) if x.startswith("pattern"))
        cells = {tok[0] for line in lines[start + 2:] for tok in line.split()[1:]
                 if line.startswith(" ") and not line.startswith("  ")}
        explained = {x.split()[0] for x in legend[2:] if x.startswith("  ")}
        assert cells <= explained, (cells, explained)
        assert "." in explained


def test_failure_line_carries_its_reason() -> None:
    r = result("p", "jit", "failed", message="wrong result:\n  expected [1 2], got [1 3]\n  max error 1")
    (line,) = _report.failure_lines([r])
    assert line.endswith("p::c[ref.impl-cpu:0-jit]: wrong result: expected [1 2], got [1 3]")
    full = _report.failure_lines([r], full=True)
    assert sum("expected [1 2]" in x for x in full) == 1  # not twice


class _Stream(io.StringIO):
    def __init__(self, encoding: str, tty: bool) -> None:
        super().__init__()
        self._encoding, self._tty = encoding, tty

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding

    def isatty(self) -> bool:
        return self._tty


def test_style_follows_encoding_tty_and_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert _report.style_for(_Stream("utf-8", True)) == _report.Style(unicode=True, colour=True)
    assert _report.style_for(_Stream("ascii", False)) == _report.Style(unicode=False, colour=False)
    monkeypatch.setenv("NO_COLOR", "1")
    assert _report.style_for(_Stream("utf-8", True)).colour is False
    painted = _report.matrix_lines([result("p", "jit", "failed")], style=_report.Style(colour=True))
    assert any("\x1b[31;1m" in line for line in painted)


def test_report_show_under_an_ascii_terminal(tmp_path: Path) -> None:
    """PYTHONIOENCODING=ascii: ASCII symbols, no crash, even with non-ASCII text in a message."""
    rep = _report.new_report({"host": "h", "devices": []}, ["t"])
    rep["status"] = "complete"
    for r in (result("scan-cumsum", "jit", "failed", message="wrong result: got ✗ café"),
              result("scan-cumsum", "eager")):
        rep["results"].append(r.to_dict())
    path = _report.write_report(rep, tmp_path / "r.json")
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "jaxpat", "report", "show", str(path)], capture_output=True,
                          env=env, check=False)
    assert proc.returncode == 1, proc.stderr  # findings: a failure
    out = proc.stdout.decode("ascii")  # nothing but ASCII
    assert "F1" in out
    assert "+1" in out
    assert "F jaxpat::scan-cumsum::c[ref.impl-cpu:0-jit]: wrong result: got \\u2717 caf\\xe9" in out
    assert "compilations: 0 (XLA programs compiled" in out


def test_progress_line_counts_and_estimates() -> None:
    from types import SimpleNamespace

    from jaxpat.conformance import _progress

    now = [100.0]
    lines: list[str] = []
    prog = _progress.Progress(SimpleNamespace(), clock=lambda: now[0], write=lines.append)  # type: ignore[arg-type]
    prog.pytest_xdist_node_collection_finished(None, [f"i{k}" for k in range(40)])
    for k in range(10):  # 10 items in 20 s: 2 s each, 30 left -> about 60 s
        now[0] += 2.0
        prog.pytest_runtest_logreport(SimpleNamespace(when="call", failed=k == 3))  # type: ignore[arg-type]
        prog.pytest_runtest_logreport(SimpleNamespace(when="teardown", failed=False))  # type: ignore[arg-type]
    # fewer than _progress.eta_after(40) == 20 items finished: no estimate yet
    assert lines == ["jaxpat: 5/40 items (12%), 1 failed; 10s elapsed"]
    assert prog.line(now[0]) == "jaxpat: 10/40 items (25%), 1 failed; 20s elapsed"
    for _ in range(10):  # 20 done; 2 s each since the first finished: 19 gaps of 2 s -> 20 left * 2 s = 40 s
        now[0] += 2.0
        prog.pytest_runtest_logreport(SimpleNamespace(when="teardown", failed=False))  # type: ignore[arg-type]
    assert prog.line(now[0]) == "jaxpat: 20/40 items (50%), 1 failed; 40s elapsed, about 40s left"
    assert _progress.duration(3725) == "1h02m"
