"""jaxpat: a catalog of JAX programming patterns, their implementations, and a conformance suite.

The package is four layers, each importable on its own, each importing only
the ones below it::

    jaxpat.catalog       load, validate and query catalog.yaml (no JAX, no NumPy)
    jaxpat.report        read, check, merge, diff and draw conformance reports (no pytest, JAX or NumPy)
    jaxpat.patterns      implementations registered through pluggy; plugins
    jaxpat.conformance   the pytest plugin that checks implementations against the catalog

Importing ``jaxpat`` itself imports none of them (and never JAX).
"""

from __future__ import annotations

from typing import Any

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    # ``__version__`` is read from the installed distribution on first use:
    # importlib.metadata costs ~20 ms and pulls in modules (zipfile, tempfile)
    # that ``import jaxpat.catalog`` promises not to import.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("jaxpat")
        except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
            value = "0+unknown"
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module 'jaxpat' has no attribute {name!r}")
