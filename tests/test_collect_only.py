"""``--collect-only`` is not a run: exit 0, what was collected, and no report (docs/cli.md)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]

BASE = ["-p", "no:cacheprovider", "--jaxpat", "--jaxpat-only", "--jaxpat-catalog", "tcat.yaml",
        "--jaxpat-load", "good", "--jaxpat-no-cache", "--jaxpat-report", "report.json", "--collect-only", "-q"]
SENTINEL = '{"not": "touched"}'


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.copy_example("conformance")
    monkeypatch.setenv("JAXPAT_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("JAXPAT_BLOCK_PLUGINS", "reference")
    monkeypatch.setenv("PYTHONPATH", str(pytester.path) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    (pytester.path / "report.json").write_text(SENTINEL)
    return pytester


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["no-xdist", "n2"])
def test_collect_only_exits_0_lists_items_and_writes_no_report(suite: pytest.Pytester, workers: list[str]) -> None:
    result = suite.runpytest_subprocess(*BASE, "--jaxpat-pattern", "t-square", "--jaxpat-pattern", "t-cumsum",
                                        *workers, timeout=240)
    out = result.stdout.str()
    assert result.ret == 0, out[-3000:]
    listed = [line for line in out.splitlines() if line.startswith("jaxpat::")]
    # pytest's own count and listing, and jaxpat's summary of the same items
    assert f"{len(listed)} tests collected" in out
    assert {line.split("::")[1] for line in listed} == {"t-square", "t-cumsum"}
    assert "jaxpat: collected" in out
    assert f"{len(listed)} jaxpat items in 2 patterns" in out
    assert re.search(rf"^  good: {len(listed)} items, 2 patterns$", out, re.M), out[-2000:]
    assert "not run" not in out
    assert "conformance matrix" not in out
    assert (suite.path / "report.json").read_text() == SENTINEL


def test_collect_only_of_nothing_is_pytests_no_tests_status(suite: pytest.Pytester) -> None:
    result = suite.runpytest_subprocess(*BASE, "--jaxpat-pattern", "no-such-*", timeout=240)
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    assert (suite.path / "report.json").read_text() == SENTINEL


def test_jaxpat_check_collect_only_exits_0(tmp_path: pytest.TempPathFactory) -> None:
    """The CLI passes ``-- --collect-only`` through; it used to exit 1 with a matrix of "not run"."""
    proc = subprocess.run([sys.executable, "-m", "jaxpat", "check", "-n", "0", "--pattern", "arange-basic",
                           "--no-claims", "--report", "r.json", "--", "--collect-only", "-q"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert re.search(r"^\d+ jaxpat items in 1 pattern$", proc.stdout, re.M), proc.stdout[-2000:]
    assert not (tmp_path / "r.json").exists()
