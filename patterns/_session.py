"""A loading session: import and register plugins, call their hooks, keep those that pass the rules."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from . import hookspecs
from ._discovery import ENV_BLOCK, GROUP, Candidate, choice_variable
from ._errors import PluginLoadError, PluginValidationError, Problem, format_problems
from ._guard import (
    ENV_HOOK_TIMEOUT,
    ENV_IMPORT_TIMEOUT,
    Guarded,
    Harness,
    call_guarded,
    config_changes,
    describe_config_changes,
    describe_replaced,
    hook_budget,
    import_budget,
    jax_config,
    restore_config,
)
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


class _Phases:
    """Who to tell when plugin code is about to run (``(plugin, stage, budget)``) and when jaxpat's code runs
    again (stage ``"jaxpat"``): an executor tells its judge, which enforces each budget from outside."""

    listener: Any = None


PHASES = _Phases()


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
        # jaxpat's own code as it is before any plugin runs: what plugin code must leave alone
        self.harness = Harness()

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

    def name_clash(self, cands: Sequence[Candidate], chosen: Candidate | None) -> None:
        """Several distributions register one plugin name: refuse every one but ``chosen`` (None: all)."""
        name = cands[0].name
        variable = choice_variable(name)
        listing = "; ".join(c.origin for c in cands)
        if chosen is None:
            rule = (f"plugin names are unique; {len(cands)} distributions register {name!r} ({listing}), so none "
                    "of them is loaded: one's results would be reported under the other's ids")
            fix = (f"choose one with {variable}=DISTRIBUTION (e.g. {variable}={cands[-1].distribution or 'NAME'}), "
                   f"or uninstall one, or rename the entry point in its `[project.entry-points.{GROUP}]` table")
        else:
            why = ("'reference' is jaxpat's own plugin" if chosen.module == "jaxpat.patterns.reference"
                   else f"{variable}={chosen.distribution} chose {chosen.origin}")
            rule = f"plugin names are unique; {len(cands)} distributions register {name!r} ({listing}); {why}"
            fix = f"rename the entry point in the `[project.entry-points.{GROUP}]` table, or uninstall it"
        for cand in cands:
            if cand is not chosen:
                self.fail(cand, "register", [Problem("plugin name already taken", rule, fix)])

    # -- running plugin code ---------------------------------------------------

    def run_plugin_code(
        self, cand: Candidate, stage: str, fn: Any, budget: float | None, *, obj: object = None,
    ) -> Guarded | None:
        """Run plugin code guarded (every exception, a time budget, damage checked); None if it failed (recorded).

        After the code ran -- whether it returned, raised or ran over -- every
        JAX config flag (when JAX is loaded) is compared with its value before
        and restored, and jaxpat's own code is checked for replacements and
        restored: the damage is this plugin's, and it is refused for it.
        """
        before = jax_config()
        if PHASES.listener is not None:
            PHASES.listener(cand.name, stage, budget)
        done = call_guarded(fn, budget, name=f"jaxpat-plugin-{cand.name}")
        if PHASES.listener is not None:
            PHASES.listener(cand.name, "jaxpat", None)
        problems = []
        if done.timed_out:
            problems.append(_too_slow(cand, stage, budget))
        elif done.exc is not None:
            problems.append(_raised(cand, stage, done.exc))
        changes = config_changes(before, jax_config())
        if changes:
            failed = restore_config(changes)
            problems.append(Problem(
                "changed global JAX config",
                f"plugin code leaves JAX's global config alone; {stage} changed "
                f"{describe_config_changes(changes, failed)} (restored)",
                "use `jax.config` context managers inside the implementation, or a case's `config:`",
                hook=stage if stage != "import" else "",
            ))
        replaced, not_restored = self.harness.check()
        if replaced:
            problems.append(Problem(
                "replaced jaxpat's own code",
                f"plugin code leaves jaxpat's checking code alone; {stage} rebound (now restored):\n"
                f"{describe_replaced(replaced, not_restored)}",
                "do not monkeypatch jaxpat, NumPy or JAX; a plugin adds implementations through its hooks",
                hook=stage if stage != "import" else "",
            ))
        if problems:
            cause = done.exc if isinstance(done.exc, Exception) else None
            self.fail(cand, stage, problems, tb=done.traceback, obj=obj, cause=cause)
            return None
        return done

    # -- import and register ------------------------------------------------

    def register_all(self, cands: Iterable[Candidate]) -> list[_Plugin]:
        out = []
        for cand in cands:
            plugin = self.register(cand)
            if plugin is not None:
                out.append(plugin)
        return out

    def register(self, cand: Candidate) -> _Plugin | None:
        done = self.run_plugin_code(cand, "import", cand.load, import_budget())
        if done is None:
            return None
        obj = done.value
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

    def call(self, plugin: _Plugin, hook: str) -> list[Any] | None:
        """Call ``hook`` of this plugin only, through pluggy, guarded; None when it failed (recorded)."""
        others = [p for p in self.pm.get_plugins() if p is not plugin.obj]
        caller = self.pm.subset_hook_caller(hook, remove_plugins=others)
        budget = hook_budget() if hook == IMPLEMENTATIONS_HOOK else import_budget()
        done = self.run_plugin_code(plugin.cand, hook, caller, budget, obj=plugin.obj)
        return None if done is None else list(done.value or [])

    # -- catalog files ------------------------------------------------------

    def catalog_files(self, plugin: _Plugin) -> tuple[Path, ...] | None:
        """The plugin's catalog files, checked; ``None`` if it failed (recorded)."""
        results = self.call(plugin, CATALOG_HOOK)
        if results is None:
            return None
        files, problems = check_paths(results)
        if problems:
            self.fail(plugin.cand, CATALOG_HOOK, problems, obj=plugin.obj)
            return None
        return files

    def add_catalog_files(self, plugins: list[_Plugin], base: Catalog,
                          parsed: dict[Any, Any] | None = None) -> list[_Plugin]:
        """Load each plugin's catalog files; drop plugins whose files are invalid (``parsed``: the caller's
        in-memory parses, ``jaxpat.catalog.load``'s ``parsed``)."""
        origin = {p.id: pattern_file(p) for p in base}
        kept = []
        for plugin in plugins:
            files = self.catalog_files(plugin)
            if files is None:
                continue
            patterns, problems = load_contribution(files, origin, plugin.name, parsed)
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
        results = self.call(plugin, IMPLEMENTATIONS_HOOK)
        if results is None:
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


def _raised(cand: Candidate, stage: str, exc: BaseException) -> Problem:
    if stage != "import":
        return raised(stage, exc)
    return Problem(
        "import failed",
        f"the plugin's entry point {cand.module!r} must import; it raised "
        f"{type(exc).__name__}: {exc} (traceback below)",
        f"fix the import error, or block the plugin: {ENV_BLOCK}={cand.name}",
    )


def _too_slow(cand: Candidate, stage: str, budget: float | None) -> Problem:
    variable = ENV_HOOK_TIMEOUT if stage == IMPLEMENTATIONS_HOOK else ENV_IMPORT_TIMEOUT
    what = f"importing the entry point {cand.module!r}" if stage == "import" else f"its {stage} hook"
    return Problem(
        "too slow",
        f"{what} took longer than {budget:g} s ({variable}); it was abandoned and the other plugins went on "
        "(it may still be running in the background)",
        "keep the entry module cheap (import JAX and heavy modules inside jaxpat_implementations), raise the "
        f"limit ({variable}=SECONDS; 0: no limit), or block the plugin: {ENV_BLOCK}={cand.name}",
        hook=stage if stage != "import" else "",
    )
