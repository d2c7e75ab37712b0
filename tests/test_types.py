"""The type checker is clean on the jaxpat package (catalog, patterns, conformance and the CLI)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def link_tree(into: Path) -> Path:
    """``into/jaxpat``: the package as it installs (jaxpat/ with catalog/, patterns/, report/, conformance/ inside).

    mypy cannot follow setuptools' ``package-dir`` mapping or an editable
    install's import hook, so it checks this tree of symbolic links instead.
    """
    pkg = into / "jaxpat"
    pkg.mkdir(parents=True)
    for item in (ROOT / "jaxpat").iterdir():
        if item.name != "__pycache__":
            (pkg / item.name).symlink_to(item)
    for folder in ("catalog", "patterns", "report", "conformance"):
        (pkg / folder).symlink_to(ROOT / folder, target_is_directory=True)
    return pkg


def test_mypy_is_clean(tmp_path: Path) -> None:
    """`mypy -p jaxpat` (settings in pyproject.toml) reports no error."""
    pytest.importorskip("mypy")
    link_tree(tmp_path / "tree")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
         "--cache-dir", str(tmp_path / "cache"), "-p", "jaxpat"],
        cwd=tmp_path / "tree", capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
