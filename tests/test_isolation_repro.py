"""`jaxpat check` ignores the working directory's pytest setup; every failure's repro runs as is."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).parent / "examples" / "conformance"
HOSTILE_CONFTEST = '''
import os, pathlib
pathlib.Path(os.environ["HOSTILE_MARKER"]).write_text("conftest.py was imported")
os.environ["JAXPAT_CACHE_DIR"] = os.environ["HOSTILE_MARKER"] + ".cache"

def pytest_collection_modifyitems(items):
    items.clear()
'''


def env_for(tmp: Path) -> dict[str, str]:
    return {**os.environ, "JAXPAT_DISABLE_PLUGIN_AUTOLOAD": "1", "JAXPAT_BLOCK_PLUGINS": "reference",
            "PYTHONPATH": str(EXAMPLES) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "HOSTILE_MARKER": str(tmp / "marker")}


def check(cwd: Path, env: dict[str, str]) -> tuple[int, dict[str, str]]:
    cmd = [sys.executable, "-m", "jaxpat", "check", "-n", "0", "--catalog", str(EXAMPLES / "tcat.yaml"),
           "--load", "good", "--load", "broken", "--pattern", "t-cumsum", "--no-claims", "--no-cache",
           "--transform", "eager", "--report", str(cwd / "r.json")]
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)
    report = json.loads((cwd / "r.json").read_text())
    return proc.returncode, {r["nodeid"]: r["outcome"] for r in report["results"]}


def test_hostile_working_directory_changes_nothing(tmp_path: Path) -> None:
    """conftest.py, pytest.ini, setup.cfg and PYTEST_ADDOPTS in the working directory do not touch the run."""
    empty, hostile = tmp_path / "empty", tmp_path / "hostile"
    empty.mkdir()
    hostile.mkdir()
    (hostile / "conftest.py").write_text(HOSTILE_CONFTEST)
    (hostile / "pytest.ini").write_text("[pytest]\naddopts = -k nothing_at_all -p no:jaxpat\n")
    (hostile / "setup.cfg").write_text("[tool:pytest]\naddopts = -x\n")
    (hostile / "test_hostile.py").write_text("def test_extra():\n    assert False\n")
    env = env_for(tmp_path)
    code_empty, results_empty = check(empty, env)
    code_hostile, results_hostile = check(hostile, {**env, "PYTEST_ADDOPTS": "-k nothing_at_all"})
    assert not (tmp_path / "marker").exists(), "the working directory's conftest.py was imported"
    assert code_empty == code_hostile == 1  # the broken plugin fails, in both
    assert results_hostile == results_empty
    assert len(results_empty) > 4


@pytest.fixture(scope="module")
def broken_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    work = tmp_path_factory.mktemp("repro")
    env = env_for(work)
    cmd = [sys.executable, "-m", "jaxpat", "check", "-n", "0", "--catalog", str(EXAMPLES / "tcat.yaml"),
           "--load", "broken", "--pattern", "t-*", "--no-claims", "--no-cache", "--cpu-devices", "2",
           "--all-devices", "--report", "r.json"]
    subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=600, check=False)
    return work, json.loads((work / "r.json").read_text())


def test_repros_use_public_apis_only(broken_report: tuple[Path, dict[str, Any]]) -> None:
    _, report = broken_report
    repros = [r["repro"] for r in report["results"] if r.get("repro")]
    assert len(repros) >= 10
    for text in repros:
        imports = re.findall(r"^(?:from|import) (\S+)", text, re.M)
        assert all(not part.startswith("_") for m in imports for part in m.split(".")), imports
        assert "_execute" not in text
        compile(text, "repro.py", "exec")  # a complete program, not a fragment


def test_repros_run_and_reproduce(broken_report: tuple[Path, dict[str, Any]]) -> None:
    """Each failure's repro, saved as repro.py and run, fails with the message the report recorded."""
    work, report = broken_report
    failed = [r for r in report["results"] if r.get("repro")]
    chosen: dict[str, dict[str, Any]] = {}
    for r in failed:  # one per transform, the vmap and grad ones included, on cpu:1: a repro that lost its device
        if r["device"] == "cpu:1":  # argument would run on cpu:0 (JAX's first), where device_dependent passes
            chosen.setdefault(r["transform"], r)
    by_impl: dict[str, dict[str, Any]] = {}
    for r in failed:  # and the first failure of each of the first four implementations (their cpu:0 items)
        by_impl.setdefault(r["implementation"], r)
    picked = {r["implementation"] for r in chosen.values()}
    sample = [*chosen.values(), *[r for r in list(by_impl.values())[:4] if r["implementation"] not in picked]]
    assert {r["transform"] for r in sample} >= {"eager", "jit", "vmap", "grad"}
    assert {r["device"] for r in sample} == {"cpu:0", "cpu:1"}
    env = {k: v for k, v in env_for(work).items() if k != "XLA_FLAGS"}
    for r in sample:
        script = work / "repro.py"
        script.write_text(r["repro"])
        proc = subprocess.run([sys.executable, str(script)], cwd=work, env=env, capture_output=True, text=True,
                              timeout=300, check=False)
        assert proc.returncode != 0, (r["nodeid"], proc.stdout)
        first = next(line for line in r["message"].splitlines() if line.strip())
        assert "jaxpat.conformance._execute.ConformanceFailure" in proc.stderr or \
            "ConformanceFailure" in proc.stderr, proc.stderr[-2000:]
        assert first.strip() in proc.stderr, (r["nodeid"], first, proc.stderr[-2000:])
