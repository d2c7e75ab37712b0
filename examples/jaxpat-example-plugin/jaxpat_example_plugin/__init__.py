"""An example jaxpat plugin (entry point ``example``).

It contributes one catalog pattern, ``associative-scan-cumsum`` (declared in
``patterns.yaml`` next to this file), and implementations of that pattern
and of one pattern of the shipped catalog.

This module is imported by ``catalog.load()`` just to find the catalog file,
so it must not import JAX: the implementations, which do, live in
``_implementations`` and are imported inside the hook.
"""

from __future__ import annotations

from pathlib import Path

from jaxpat.patterns import Implementation, hookimpl

__version__ = "0.1.0"

#: The catalog file this plugin contributes (installed as package data).
CATALOG_FILE = Path(__file__).with_name("patterns.yaml")


@hookimpl
def jaxpat_catalog_files() -> list[Path]:
    """The plugin's catalog file; an absolute path, as jaxpat requires."""
    return [CATALOG_FILE.resolve()]


@hookimpl
def jaxpat_implementations() -> list[Implementation]:
    """The plugin's implementations; importing them imports JAX."""
    from ._implementations import IMPLEMENTATIONS

    return list(IMPLEMENTATIONS)
