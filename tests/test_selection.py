"""Plain pytest runs are honest about what chose their items, and the report goes only where a report can go."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

BASE = ["-p", "no:cacheprovider", "--jaxpat", "--jaxpat-only", "--jaxpat-pattern", "scan-cumsum",
        "--jaxpat-impl", "reference.lax_scan", "--jaxpat-transform", "eager", "-n", "0"]


def _pytest(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": os.pathsep.join([str(cwd), os.environ.get("PYTHONPATH", "")]), **env}
    return subprocess.run([sys.executable, "-m", "pytest", *args], cwd=cwd, env=full, capture_output=True,
                          text=True, timeout=600)


LAUNDER = """
def pytest_runtest_logreport(report):
    if report.failed:
        report.outcome = "passed"
"""


def test_an_extra_plugin_from_the_environment_is_recorded_and_marks_the_run_partial(tmp_path: Path) -> None:
    """`PYTEST_ADDOPTS="-p launder"` can change outcomes (it is the user's own pytest plugin): the report
    records it, calls the selection partial, and the terminal says so."""
    (tmp_path / "launder.py").write_text(LAUNDER)
    proc = _pytest([*BASE, "--jaxpat-report", "r.json"], tmp_path, PYTEST_ADDOPTS="-p launder")
    report = json.loads((tmp_path / "r.json").read_text())
    sel = report["selection"]
    assert sel["env"]["PYTEST_ADDOPTS"] == "-p launder"
    assert "launder" in sel["plugins"]
    assert any("launder" in p for p in sel["partial"]), sel
    assert "NOTE: a partial selection" in proc.stdout


def test_k_deselects_and_is_recorded(tmp_path: Path) -> None:
    proc = _pytest([*BASE, "-k", "not matrix", "--jaxpat-report", "r.json"], tmp_path)
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["selection"]["partial"] == ["-k 'not matrix'"]
    assert not [r for r in report["results"] if "matrix-rows" in r["nodeid"]]
    assert proc.returncode == 0, proc.stdout[-2000:]


def test_a_plain_run_is_not_partial(tmp_path: Path) -> None:
    proc = _pytest([*BASE, "--jaxpat-report", "r.json"], tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert json.loads((tmp_path / "r.json").read_text())["selection"]["partial"] == []
    assert "partial selection" not in proc.stdout


@pytest.mark.parametrize("target", ["/dev/null", "DIR"])
def test_a_report_target_that_is_not_a_file_is_a_usage_error(tmp_path: Path, target: str) -> None:
    """A device node or a directory is never replaced by a report: exit 2 (jaxpat's usage), nothing written."""
    if target == "DIR":
        target = str(tmp_path / "adir")
        os.mkdir(target)
    before = os.stat(target)
    proc = subprocess.run([sys.executable, "-m", "jaxpat", "check", "--pattern", "scan-cumsum", "-n", "0",
                           "--report", target], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert f"--jaxpat-report {target}: is " in proc.stderr
    after = os.stat(target)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode)
    assert "Traceback" not in proc.stderr
