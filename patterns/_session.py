"""A loading session: import and register plugins, call their hooks, keep those that pass the rules."""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from . import hookspecs
from ._discovery import ENV_BLOCK, GROUP, Candidate
from ._errors import PluginLoadError, PluginValidationError, Problem, format_problems
from ._implementation import Implementation
from ._markers import PROJECT
from ._records import PluginInfo
from ._rules import (
    CATALOG_HOOK,
    IMPLEMENTATIONS_HOOK,
    check_paths,
    hook_problems,
    implementation_problems,
    load_contribution,
    pattern_file,
    raised,
)

if TYPE_CHECKING:  # pragma: no cover
    from jaxpat.catalog import Catalog, Pattern

__all__ = ["Session"]


@dataclass
class _Plugin:
    """A plugin while it is being validated."""

    cand: Candidate
    obj: object
    files: tuple[Path, ...] = ()
    patterns: tuple[Pattern, ...] = ()
    raw: list[Any] = field(default_factory=list)  # what jaxpat_implementations returned
    implementations: list[Implementation] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.cand.name

    def info(self) -> PluginInfo:
        c = self.cand
        return PluginInfo(c.name, c.distribution, c.version, c.module,
                          len(self.implementations), len(self.patterns), self.files)


class Session:
    """One loading of plugins: a fresh plugin manager, and the failures so far.

    Each step returns the plugins that passed it; a plugin that fails is
    unregistered and recorded in ``errors`` (or, when ``strict``, raises
    :class:`PluginValidationError`).
    """

    def __init__(self, *, strict: bool) -> None:
        self.strict = strict
        self.errors: list[PluginLoadError] = []
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)

    # -- failure -------------------------------------------------------------

    def fail(
        self, cand: Candidate, stage: str, problems: Sequence[Problem], *,
        tb: str = "", obj: object = None, cause: BaseException | None = None,
    ) -> None:
        """Record (or, if strict, raise) the failure of ``cand``; unregister it."""
        if obj is not None and self.pm.is_registered(obj):
            self.pm.unregister(obj)
        message = format_problems(cand.name, cand.origin, problems)
        self.errors.append(PluginLoadError(cand.name, cand.distribution, cand.version, cand.module, stage, message, tb))
        if self.strict:
            full = f"{message}\n{tb}".rstrip() if tb else message
            raise PluginValidationError(cand.name, full) from cause

    def name_clash(self, first: Candidate, second: Candidate) -> None:
        problem = Problem(
            "plugin name already taken",
            f"plugin names are unique; {second.name!r} is already registered by {first.origin}, "
            f"so {second.origin} cannot register under it",
            f"rename the entry point in the `[project.entry-points.{GROUP}]` table of one distribution, "
            f"or uninstall one of them",
        )
        self.fail(second, "register", [problem])

    # -- import and register ------------------------------------------------

    def register_all(self, cands: Iterable[Candidate]) -> list[_Plugin]:
        out = []
        for cand in cands:
            plugin = self.register(cand)
            if plugin is not None:
                out.append(plugin)
        return out

    def register(self, cand: Candidate) -> _Plugin | None:
        try:
            obj = cand.load()
        except Exception as exc:
            problem = Problem(
                "import failed",
                f"the plugin's entry point {cand.module!r} must import; it raised "
                f"{type(exc).__name__}: {exc} (traceback below)",
                "fix the import error, or block the plugin: "
                f"{ENV_BLOCK}={cand.name}",
            )
            self.fail(cand, "import", [problem], tb=traceback.format_exc(), cause=exc)
            return None
        try:
            self.pm.register(obj, name=cand.name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            # pluggy refuses an object registered twice, or a hookimpl whose
            # arguments the hookspec does not declare.
            problem = Problem("refused by pluggy", str(exc), "see the hook signatures in patterns/hookspecs.py")
            self.fail(cand, "register", [problem], cause=exc)
            return None
        problems = hook_problems(self.pm, obj)
        if problems:
            self.fail(cand, "register", problems, obj=obj)
            return None
        return _Plugin(cand, obj)

    def call(self, plugin: _Plugin, hook: str) -> list[Any]:
        """Call ``hook`` of this plugin only, through pluggy."""
        others = [p for p in self.pm.get_plugins() if p is not plugin.obj]
        return self.pm.subset_hook_caller(hook, remove_plugins=others)()

    # -- catalog files ------------------------------------------------------

    def catalog_files(self, plugin: _Plugin) -> tuple[Path, ...] | None:
        """The plugin's catalog files, checked; ``None`` if it failed (recorded)."""
        try:
            results = self.call(plugin, CATALOG_HOOK)
        except Exception as exc:
            self.fail(plugin.cand, CATALOG_HOOK, [raised(CATALOG_HOOK, exc)],
                      tb=traceback.format_exc(), obj=plugin.obj, cause=exc)
            return None
        files, problems = check_paths(results)
        if problems:
            self.fail(plugin.cand, CATALOG_HOOK, problems, obj=plugin.obj)
            return None
        return files

    def add_catalog_files(self, plugins: list[_Plugin], base: Catalog) -> list[_Plugin]:
        """Load each plugin's catalog files; drop plugins whose files are invalid."""
        origin = {p.id: pattern_file(p) for p in base}
        kept = []
        for plugin in plugins:
            files = self.catalog_files(plugin)
            if files is None:
                continue
            patterns, problems = load_contribution(files, origin, plugin.name)
            if problems:
                self.fail(plugin.cand, CATALOG_HOOK, problems, obj=plugin.obj)
                continue
            # As catalog.load() does: a contributed pattern's origin is its plugin.
            plugin.files, plugin.patterns = files, tuple(replace(p, origin=plugin.name) for p in patterns)
            origin.update({p.id: f"{pattern_file(p)} (plugin {plugin.name!r})" for p in patterns})
            kept.append(plugin)
        return kept

    # -- implementations -----------------------------------------------------

    def add_implementations(self, plugins: list[_Plugin], base: Catalog) -> list[_Plugin]:
        """Validate every plugin's implementations; drop (atomically) the plugins that fail.

        Repeats until nothing more fails, because a plugin may implement a
        pattern contributed by another plugin that has just been dropped.
        """
        kept = [p for p in plugins if self._collect(p)]
        withdrawn: dict[str, str] = {}
        while True:
            catalog = _merged(base, kept)
            failed = [p for p in kept if not self._validate(p, catalog, withdrawn)]
            if not failed:
                return kept
            for p in failed:
                withdrawn.update({pat.id: p.name for pat in p.patterns})
            kept = [p for p in kept if p not in failed]

    def _collect(self, plugin: _Plugin) -> bool:
        try:
            results = self.call(plugin, IMPLEMENTATIONS_HOOK)
        except Exception as exc:
            self.fail(plugin.cand, IMPLEMENTATIONS_HOOK, [raised(IMPLEMENTATIONS_HOOK, exc)],
                      tb=traceback.format_exc(), obj=plugin.obj, cause=exc)
            return False
        plugin.raw = results
        return True

    def _validate(self, plugin: _Plugin, catalog: Catalog, withdrawn: dict[str, str]) -> bool:
        problems = implementation_problems(plugin.name, plugin.raw, catalog, withdrawn)
        if problems:
            self.fail(plugin.cand, IMPLEMENTATIONS_HOOK, problems, obj=plugin.obj)
            return False
        c = plugin.cand
        plugin.implementations = [
            impl.bound(c.name, c.distribution, c.version) for result in plugin.raw for impl in result
        ]
        return True


def _merged(base: Catalog, plugins: Sequence[_Plugin]) -> Catalog:
    """``base`` followed by the plugins' patterns, to validate implementations against (no files, no digest)."""
    contributed = tuple(pat for p in plugins for pat in p.patterns)
    return type(base)(base.patterns + contributed) if contributed else base
