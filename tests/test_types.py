"""The type checker is clean on the jaxpat package (catalog, patterns, report, conformance and the CLI).

One command, documented in the README: ``.venv/bin/python scripts/mypy`` (mypy -p jaxpat on the
package laid out from pyproject.toml's package-dir table; settings in pyproject.toml).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from importlib.machinery import SourceFileLoader
from pathlib import Path

import pytest

#: tests/test_types.py plants a probe module in report/ while it runs; the tests that read the source tree
#: (test_docs, test_structure, test_packaging) run on the same xdist worker, one at a time
pytestmark = pytest.mark.xdist_group("source-tree")

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "mypy"


def _script():  # scripts/mypy has no .py suffix: load it by path
    loader = SourceFileLoader("jaxpat_scripts_mypy", str(SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for both runs here, in the suite's cache folder (tests/conftest.py): mypy analyses JAX, NumPy
    and pytest once (most of a cold run's time), and checks again whatever changed since, as it does for a user.
    Where the suite's cache folder is kept between runs (``JAXPAT_TESTS_CACHE_DIR`` set), so is mypy's."""
    shared = os.environ.get("JAXPAT_TESTS_CACHE_DIR")
    return Path(shared) / "mypy" if shared else tmp_path_factory.mktemp("mypy-cache")


def test_mypy_is_clean(mypy_cache: Path) -> None:
    """`scripts/mypy` (mypy -p jaxpat, settings in pyproject.toml) reports no error."""
    pytest.importorskip("mypy")
    proc = subprocess.run([sys.executable, str(SCRIPT), "--cache-dir", str(mypy_cache)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]


def test_the_layout_is_the_builds(tmp_path: Path) -> None:
    """The tree holds every module at its import path, from pyproject's mapping (the one the wheel uses)."""
    mypy = _script()
    mapping = mypy.package_dirs()
    assert mapping["jaxpat.catalog"] == "catalog"
    assert set(mapping) == {"jaxpat", "jaxpat.catalog", "jaxpat.patterns", "jaxpat.report", "jaxpat.conformance"}
    mypy.lay_out(tmp_path, mapping)
    for path in ("jaxpat/_cli.py", "jaxpat/catalog/_loader.py", "jaxpat/report/_html.py",
                 "jaxpat/conformance/_session.py", "jaxpat/patterns/reference/scan.py"):
        assert (tmp_path / path).is_file(), path
    assert not (tmp_path / "jaxpat" / "jaxpat").exists()


def test_errors_name_the_repository_paths(mypy_cache: Path) -> None:
    """Counter-test: a type error in a module is reported, under its repository path (with the cache of the
    clean run: a new module is checked, cache or not)."""
    pytest.importorskip("mypy")
    bad = ROOT / "report" / "_zz_type_error_probe.py"
    bad.write_text("x: int = 'not an int'\n")
    try:
        proc = subprocess.run([sys.executable, str(SCRIPT), "--cache-dir", str(mypy_cache), "-p",
                               "jaxpat.report"], capture_output=True, text=True)
    finally:
        bad.unlink()
    assert proc.returncode == 1
    assert "report/_zz_type_error_probe.py:1: error: Incompatible types in assignment" in proc.stdout, proc.stdout

