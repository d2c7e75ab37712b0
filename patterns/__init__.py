"""jaxpat's plugin surface: the ``hookimpl`` marker, ``Implementation`` and the registry.

Importing this package never imports JAX; see ``docs/plugins.md``.
"""

from ._errors import PluginLoadError, PluginValidationError
from ._implementation import Implementation, Unavailable
from ._markers import hookimpl
from ._records import PluginInfo, Registry
from ._registry import (
    PluginCatalogWarning,
    get_registry,
    load_catalog,
    load_catalog_and_errors,
    load_registry,
    plugin_catalog_files,
)

__all__ = [
    "Implementation",
    "PluginCatalogWarning",
    "PluginInfo",
    "PluginLoadError",
    "PluginValidationError",
    "Registry",
    "Unavailable",
    "get_registry",
    "hookimpl",
    "load_catalog",
    "load_catalog_and_errors",
    "load_registry",
    "plugin_catalog_files",
]
