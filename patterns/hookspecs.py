"""Hook specifications: what a jaxpat plugin can provide.

A plugin is a module (or object) with functions decorated by
:data:`jaxpat.patterns.hookimpl`, registered through the ``jaxpat`` entry-point
group. Each hook is called once per registry load; a plugin implements only
the hooks it needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ._markers import hookspec

if TYPE_CHECKING:  # pragma: no cover
    from ._implementation import Implementation


# ---------------------------------------------------------------------------
# Catalog contributions
# ---------------------------------------------------------------------------

@hookspec
def jaxpat_catalog_files() -> list[str | Path]:  # type: ignore[empty-body]  # a hook specification
    """Return paths of catalog YAML files that declare this plugin's new patterns.

    Called by :func:`jaxpat.catalog.load` when plugins are included, before any
    implementation is requested, so the plugin module must be importable
    without importing JAX (import JAX inside :func:`jaxpat_implementations`).
    Every file follows ``docs/catalog-format.md``; a pattern id that collides
    with an already-loaded one is a validation error naming both files.

    :return: a list of paths (empty if the plugin adds no pattern).

    .. versionadded:: 0.1
    """


# ---------------------------------------------------------------------------
# Implementations
# ---------------------------------------------------------------------------

@hookspec
def jaxpat_implementations() -> list[Implementation]:  # type: ignore[empty-body]  # a hook specification
    """Return the implementations this plugin provides.

    Called once when the registry loads. Each :class:`jaxpat.patterns.Implementation`
    names a catalog pattern id (the shipped catalog's, or one this plugin
    contributes through :func:`jaxpat_catalog_files`) and a name unique within
    this plugin. The registry validates every implementation of a plugin
    before registering any: an unknown pattern id, a duplicate name or a
    callable whose parameters do not match the pattern's signature rejects the
    whole plugin with a :class:`jaxpat.patterns.PluginValidationError`.

    :return: a list of implementations (empty is allowed).

    .. versionadded:: 0.1
    """
