"""Build step that pyproject.toml cannot express: ship the repository's one catalog.yaml in the wheel.

The catalog lives at the repository's top level (catalog.yaml); the package jaxpat.catalog is the
folder catalog/. A symlink catalog/catalog.yaml would break on checkouts without symlinks, so the
wheel build copies the top-level file to jaxpat/catalog/catalog.yaml instead. Source checkouts and
editable installs read the top-level file directly (catalog/_loader.py, ``SHIPPED``).
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildPy(build_py):
    """build_py that also copies catalog.yaml into jaxpat/catalog/ (not for editable installs)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "jaxpat" / "catalog" / "catalog.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        self.copy_file(str(ROOT / "catalog.yaml"), str(target))


setup(cmdclass={"build_py": BuildPy})
