"""The plugin registry's entry points: build a :class:`Registry`, or the catalog with every plugin's files.

The jobs are in their own modules: ``_discovery`` (which plugins, in which
order), ``_session`` (import, register, call hooks, keep what passes),
``_rules`` (what passes), ``_records`` (``PluginInfo``, ``Registry``). A
plugin is validated as a whole before anything of it is kept: one bad
implementation and it contributes neither patterns nor implementations, is
unregistered, and is reported in ``Registry.errors``. The rules are written
out in ``docs/plugins.md``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jaxpat.catalog import load

from ._discovery import candidates
from ._errors import PluginLoadError
from ._records import Registry
from ._rules import CATALOG_HOOK
from ._session import Session

if TYPE_CHECKING:  # pragma: no cover
    from jaxpat.catalog import Catalog

__all__ = [
    "PluginCatalogWarning",
    "assemble_catalog",
    "get_registry",
    "load_catalog",
    "load_catalog_and_errors",
    "load_registry",
    "plugin_catalog_files",
    "plugin_catalog_sources",
]


def load_registry(
    *,
    autoload: bool | None = None,
    block: Iterable[str] = (),
    strict: bool = False,
    catalog: Catalog | None = None,
    extra_plugins: Iterable[tuple[str, object]] = (),
    only: str | None = None,
) -> Registry:
    """Discover, validate and register plugins; return the resulting registry.

    ``autoload`` (default: on unless ``JAXPAT_DISABLE_PLUGIN_AUTOLOAD`` is
    set) loads the ``jaxpat`` entry points. ``block`` names plugins to skip,
    added to those in ``JAXPAT_BLOCK_PLUGINS``. ``catalog`` replaces the
    shipped catalog as the base that plugin catalog files extend (tests use
    small ones). ``extra_plugins`` are ``(name, plugin)`` pairs registered
    last. ``only`` loads the plugin of that name alone (an executor holds
    one plugin's code; see docs/security.md). A plugin that fails is left out and recorded in
    ``Registry.errors``; with ``strict=True`` the first failure raises
    :class:`PluginValidationError` instead.

    :raises catalog.CatalogError: the base (shipped) catalog is invalid.
    """
    session = Session(strict=strict)
    loaded = session.register_all(candidates(autoload, block, extra_plugins, session, only))
    parsed: dict[Any, Any] = {}  # each file parsed, checked and built once in this call
    base = catalog if catalog is not None else load(parsed=parsed)
    loaded = session.add_catalog_files(loaded, base, parsed)
    loaded = session.add_implementations(loaded, base)
    files = [(p.name, f) for p in loaded for f in p.files]
    # The same function as load_catalog(): the registry's catalog is what it gives.
    final = assemble_catalog(files, base=catalog, parsed=parsed) if files else base
    return Registry(
        plugin_manager=session.pm,
        catalog=final,
        implementations=[i for p in loaded for i in p.implementations],
        plugins=[p.info() for p in loaded],
        errors=session.errors,
    )


@functools.lru_cache(maxsize=1)
def get_registry() -> Registry:
    """The registry of the default configuration, loaded once per process.

    Environment variables are read on the first call only;
    ``get_registry.cache_clear()`` forgets the cached registry.
    """
    return load_registry()


def assemble_catalog(
    plugin_files: Iterable[tuple[str, Path]], *, paths: Any = None, base: Catalog | None = None,
    parsed: dict[Any, Any] | None = None,
) -> Catalog:
    """``paths`` (default: the shipped catalog) or ``base``, then ``(plugin, path)`` files: one catalog.

    The one place "catalog + plugin files" is built, for :func:`load_catalog`
    and :func:`load_registry` alike: ``jaxpat.catalog.load`` with the plugin
    files as ``extra``, each tagged with its plugin's name as origin.
    ``parsed``: the caller's in-memory parses (``jaxpat.catalog.load``'s), so
    a file read earlier in the same call is not parsed or checked again.
    """
    if base is not None:
        return load(base=base, extra=plugin_files, parsed=parsed)
    return load(paths, extra=plugin_files, parsed=parsed)


def load_catalog(
    paths: Any = None, *, plugins: bool = True, autoload: bool | None = None, block: Iterable[str] = (),
    strict: bool = False,
) -> Catalog:
    """The catalog and every plugin's catalog files: what the registry's catalog holds.

    ``paths`` (default: the shipped catalog) are read first, then, when
    ``plugins``, the files each registered plugin returns from
    ``jaxpat_catalog_files`` (``autoload`` and ``block`` as for
    :func:`load_registry`), each pattern's ``origin`` being its plugin's
    name. ``jaxpat.catalog.load()`` is the catalog alone. A plugin whose
    files are invalid (bad YAML, an id already taken, too big, ...) is left
    out, as the registry leaves it out, with a :class:`PluginCatalogWarning`
    naming the plugin and its distribution; with ``strict=True`` it raises
    :class:`PluginValidationError` instead. With default arguments the
    result equals ``load_registry().catalog`` (patterns, files, digest).
    Never imports JAX as long as plugin entry modules do not.

    :raises jaxpat.catalog.CatalogError: a file of ``paths`` is invalid.
    """
    catalog, errors = load_catalog_and_errors(paths, plugins=plugins, autoload=autoload, block=block, strict=strict)
    for err in errors:
        if err.stage == CATALOG_HOOK:
            warnings.warn(PluginCatalogWarning(err.message), stacklevel=2)
    return catalog


class PluginCatalogWarning(UserWarning):
    """A plugin's catalog files were left out of :func:`load_catalog`; the message names the plugin and why."""


def load_catalog_and_errors(
    paths: Any = None, *, plugins: bool = True, autoload: bool | None = None, block: Iterable[str] = (),
    strict: bool = False,
) -> tuple[Catalog, list[PluginLoadError]]:
    """:func:`load_catalog`, and the plugins left out of it (import failures, bad files, ...), without warnings."""
    if not plugins:
        return assemble_catalog([], paths=paths), []
    session = Session(strict=strict)
    loaded = session.register_all(candidates(autoload, block, (), session, use_index=True))
    parsed: dict[Any, Any] = {}  # each file parsed, checked and built once in this call
    base = load(paths, parsed=parsed)
    kept = session.add_catalog_files(loaded, base, parsed)
    files = [(p.name, f) for p in kept for f in p.files]
    return (assemble_catalog(files, paths=paths, parsed=parsed) if files else base), session.errors


def plugin_catalog_files(*, autoload: bool | None = None, block: Iterable[str] = ()) -> list[tuple[str, Path]]:
    """Return ``(plugin name, absolute path)`` for every plugin catalog file.

    It imports the plugins' entry modules and calls only
    ``jaxpat_catalog_files``, so it never imports JAX provided the plugins
    follow the rule that their entry module does not. A plugin that fails
    to import, or returns a path that is not an existing absolute file, is
    skipped here; the registry (``jaxpat plugins``) reports why. The files'
    contents are not checked (``jaxpat validate`` checks them).
    """
    return [(name, path) for name, _, path in plugin_catalog_sources(autoload=autoload, block=block)[0]]


def plugin_catalog_sources(
    *, autoload: bool | None = None, block: Iterable[str] = ()
) -> tuple[list[tuple[str, str, Path]], list[PluginLoadError]]:
    """``(plugin name, its origin: distribution and module, path)`` per plugin catalog file, and the failures."""
    session = Session(strict=False)
    out: list[tuple[str, str, Path]] = []
    for plugin in session.register_all(candidates(autoload, block, (), session)):
        files = session.catalog_files(plugin)
        out.extend((plugin.name, plugin.cand.origin, f) for f in files or ())
    return out, session.errors
