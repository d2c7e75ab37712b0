"""Helpers for plugin authors' own test suites.

:func:`check_plugin` registers one plugin the way ``jaxpat`` will once the
plugin is installed, applies every registration rule, and raises
:class:`jaxpat.patterns.PluginValidationError` on the first invalid plugin::

    import my_jaxpat_plugin
    from jaxpat.patterns.testing import check_plugin

    def test_plugin_registers():
        registry = check_plugin(my_jaxpat_plugin, name="mine")
        assert registry.implementations()

It checks registration only (pattern ids, names, signatures, catalog files);
running the catalog's cases against the implementations is the conformance
suite's job (``pytest --jaxpat``).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from ._discovery import REFERENCE
from ._errors import PluginValidationError
from ._records import Registry
from ._registry import load_registry

if TYPE_CHECKING:  # pragma: no cover
    from jaxpat.catalog import Catalog

__all__ = ["check_plugin"]


def check_plugin(plugin: object, *, name: str | None = None, catalog: Catalog | None = None) -> Registry:
    """Register ``plugin`` alone, validate it strictly, and return the registry.

    ``plugin`` is a module, an importable module name, or any object with
    ``@hookimpl`` functions. ``name`` is the name it registers under
    (default: the module's ``__name__``; use your entry point's name so that
    implementation ids match the installed plugin's). ``catalog`` is the base
    catalog its catalog files extend (default: the shipped one). Neither the
    reference plugin nor installed plugins are registered. If
    ``JAXPAT_BLOCK_PLUGINS`` names the plugin, it raises rather than pass
    without checking anything.

    :raises PluginValidationError: the plugin breaks a registration rule;
        the message lists every problem and how to fix it.
    """
    if isinstance(plugin, str):
        plugin = importlib.import_module(plugin)
    name = name or _default_name(plugin)
    if name == REFERENCE and _is_reference(plugin):
        # The built-in plugin is registered by the registry itself.
        registry = load_registry(autoload=False, strict=True, catalog=catalog)
    else:
        registry = load_registry(
            autoload=False, block=[REFERENCE], strict=True, catalog=catalog, extra_plugins=[(name, plugin)]
        )
    if name not in [p.name for p in registry.plugins()]:
        raise PluginValidationError(
            name, f"jaxpat plugin {name!r} was not registered: it is blocked by JAXPAT_BLOCK_PLUGINS"
        )
    return registry


def _default_name(plugin: object) -> str:
    if isinstance(plugin, ModuleType):
        return plugin.__name__
    return type(plugin).__name__


def _is_reference(plugin: object) -> bool:
    return isinstance(plugin, ModuleType) and plugin.__name__ == "jaxpat.patterns.reference"
