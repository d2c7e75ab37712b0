"""The registry's public records: :class:`PluginInfo` and the :class:`Registry` itself.

Both are read-only once built; ``_registry.load_registry`` builds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jaxpat._util import did_you_mean

from ._errors import PluginLoadError
from ._implementation import Implementation

if TYPE_CHECKING:  # pragma: no cover
    import pluggy

    from jaxpat.catalog import Catalog

__all__ = ["PluginInfo", "Registry"]


@dataclass(frozen=True)
class PluginInfo:
    """A registered plugin: where it comes from and what it contributed.

    ``module`` is the entry point's target (``jaxpat_example_plugin``), the
    module name of an in-process plugin, or its type for a plain object.
    ``distribution`` and ``version`` are empty for in-process plugins.
    """

    name: str
    distribution: str
    version: str
    module: str
    n_implementations: int
    n_patterns: int
    catalog_files: tuple[Path, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output (keys are stable)."""
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "module": self.module,
            "implementations": self.n_implementations,
            "patterns": self.n_patterns,
            "catalog_files": [str(p) for p in self.catalog_files],
        }


class Registry:
    """The loaded plugins, the catalog they extend, and their implementations.

    Built by :func:`load_registry`; immutable afterwards. Every list it
    returns is a new list in a deterministic order.
    """

    def __init__(
        self,
        *,
        plugin_manager: pluggy.PluginManager,
        catalog: Catalog,
        implementations: Sequence[Implementation],
        plugins: Sequence[PluginInfo],
        errors: Sequence[PluginLoadError],
    ) -> None:
        self._pm = plugin_manager
        self._catalog = catalog
        self._plugins = tuple(plugins)
        self._errors = tuple(errors)
        # Catalog order, then registration order, then name: stable test ids.
        pattern_index = {pid: i for i, pid in enumerate(catalog.ids())}
        plugin_index = {p.name: i for i, p in enumerate(self._plugins)}
        self._impls = tuple(sorted(
            implementations,
            key=lambda i: (pattern_index.get(i.pattern, len(pattern_index)), plugin_index.get(i.plugin, 0), i.name),
        ))
        self._by_pattern: dict[str, list[Implementation]] = {}
        for impl in self._impls:
            self._by_pattern.setdefault(impl.pattern, []).append(impl)

    @property
    def catalog(self) -> Catalog:
        """The shipped catalog plus the patterns of every registered plugin."""
        return self._catalog

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        """The underlying ``pluggy.PluginManager`` (only registered plugins remain in it)."""
        return self._pm

    @property
    def errors(self) -> list[PluginLoadError]:
        """The plugins that failed to load, in the order they were tried."""
        return list(self._errors)

    def plugins(self) -> list[PluginInfo]:
        """The registered plugins, in registration order (``reference`` first)."""
        return list(self._plugins)

    def implementations(self, pattern_id: str | None = None) -> list[Implementation]:
        """Implementations of ``pattern_id`` (all if ``None``).

        Ordered by the pattern's position in the catalog, then plugin
        registration order, then name. An id not in the catalog raises
        ``KeyError`` with a suggestion.
        """
        if pattern_id is None:
            return list(self._impls)
        self._catalog.get(pattern_id)  # KeyError with did-you-mean for a typo
        return list(self._by_pattern.get(pattern_id, ()))

    def missing(self) -> list[str]:
        """Ids of catalog patterns that no registered plugin implements, in catalog order."""
        done = {i.pattern for i in self._impls}
        return [pid for pid in self._catalog.ids() if pid not in done]

    def get(self, impl_id: str, pattern: str | None = None) -> Implementation:
        """Return the implementation ``PLUGIN.NAME`` of ``pattern``.

        Names are unique per (plugin, pattern), so ``pattern`` may be left
        out only when the id is used by one pattern. ``KeyError`` says which
        ids exist or which patterns share the id.
        """
        found = [i for i in self._impls if i.id == impl_id and (pattern is None or i.pattern == pattern)]
        if len(found) == 1:
            return found[0]
        if found:
            raise KeyError(
                f"implementation {impl_id!r} exists for several patterns "
                f"({', '.join(i.pattern for i in found)}); pass `pattern=`"
            )
        hint = did_you_mean(impl_id, {i.id for i in self._impls if pattern is None or i.pattern == pattern})
        where = f" for pattern {pattern!r}" if pattern else ""
        raise KeyError(f"no implementation {impl_id!r}{where}{hint}")

    def __repr__(self) -> str:
        return (
            f"<Registry {len(self._plugins)} plugins, {len(self._impls)} implementations, "
            f"{len(self._catalog)} patterns, {len(self._errors)} errors>"
        )
