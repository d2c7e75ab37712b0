"""The plugin registry: discover jaxpat plugins, validate them, answer queries.

Plugins register in a fixed order, so every process (and every xdist worker)
sees the same registry:

1. the built-in ``reference`` plugin (``jaxpat.patterns.reference``);
2. the entry points of group ``jaxpat``, sorted by name (unless autoloading
   is disabled by ``autoload=False`` or ``JAXPAT_DISABLE_PLUGIN_AUTOLOAD=1``);
3. ``extra_plugins`` given by the caller (tests, the conformance suite).

Any of them is skipped by name with ``block=`` or ``JAXPAT_BLOCK_PLUGINS``.
Each plugin is then validated as a whole before anything of it is kept: a
plugin with one bad implementation contributes neither patterns nor
implementations, is unregistered, and is reported in ``Registry.errors``.
The rules are written out in ``docs/plugins.md``.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import os
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from importlib.metadata import PackageNotFoundError, entry_points
from importlib.metadata import version as dist_version
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

from . import hookspecs
from ._errors import PluginLoadError, PluginValidationError, Problem, format_problems
from ._implementation import Implementation
from ._markers import PROJECT

if TYPE_CHECKING:  # pragma: no cover
    from jaxpat.catalog import Catalog, Pattern

__all__ = [
    "ENV_BLOCK",
    "ENV_DISABLE_AUTOLOAD",
    "GROUP",
    "PluginInfo",
    "Registry",
    "assemble_catalog",
    "get_registry",
    "load_catalog",
    "load_registry",
    "plugin_catalog_files",
]

#: The entry-point group plugins register under.
GROUP = "jaxpat"
#: Set to ``1`` to skip third-party entry points (the reference plugin still loads).
ENV_DISABLE_AUTOLOAD = "JAXPAT_DISABLE_PLUGIN_AUTOLOAD"
#: Comma-separated plugin names to skip, e.g. ``example,reference``.
ENV_BLOCK = "JAXPAT_BLOCK_PLUGINS"

REFERENCE = "reference"
REFERENCE_MODULE = "jaxpat.patterns.reference"
CATALOG_HOOK = "jaxpat_catalog_files"
IMPLEMENTATIONS_HOOK = "jaxpat_implementations"
_HOOKS = (CATALOG_HOOK, IMPLEMENTATIONS_HOOK)


# ---------------------------------------------------------------------------
# Public records and the registry
# ---------------------------------------------------------------------------

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
        pool = sorted({i.id for i in self._impls if pattern is None or i.pattern == pattern})
        close = difflib.get_close_matches(impl_id, pool, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        where = f" for pattern {pattern!r}" if pattern else ""
        raise KeyError(f"no implementation {impl_id!r}{where}{hint}")

    def __repr__(self) -> str:
        return (
            f"<Registry {len(self._plugins)} plugins, {len(self._impls)} implementations, "
            f"{len(self._catalog)} patterns, {len(self._errors)} errors>"
        )


# ---------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------

def load_registry(
    *,
    autoload: bool | None = None,
    block: Iterable[str] = (),
    strict: bool = False,
    catalog: Catalog | None = None,
    extra_plugins: Iterable[tuple[str, object]] = (),
) -> Registry:
    """Discover, validate and register plugins; return the resulting registry.

    ``autoload`` (default: on unless ``JAXPAT_DISABLE_PLUGIN_AUTOLOAD`` is
    set) loads the ``jaxpat`` entry points. ``block`` names plugins to skip,
    added to those in ``JAXPAT_BLOCK_PLUGINS``. ``catalog`` replaces the
    shipped catalog as the base that plugin catalog files extend (tests use
    small ones). ``extra_plugins`` are ``(name, plugin)`` pairs registered
    last. A plugin that fails is left out and recorded in
    ``Registry.errors``; with ``strict=True`` the first failure raises
    :class:`PluginValidationError` instead.

    :raises catalog.CatalogError: the base (shipped) catalog is invalid.
    """
    session = _Session(strict=strict)
    loaded = session.register_all(_candidates(autoload, block, extra_plugins, session))
    base = catalog if catalog is not None else _catalog_module().load()
    loaded = session.add_catalog_files(loaded, base)
    loaded = session.add_implementations(loaded, base)
    files = [(p.name, f) for p in loaded for f in p.files]
    # The same function as load_catalog(): the registry's catalog is what it gives.
    final = assemble_catalog(files, base=catalog) if files else base
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
    plugin_files: Iterable[tuple[str, Path]], *, paths: Any = None, base: Catalog | None = None
) -> Catalog:
    """``paths`` (default: the shipped catalog) or ``base``, then ``(plugin, path)`` files: one catalog.

    The one place "catalog + plugin files" is built, for :func:`load_catalog`
    and :func:`load_registry` alike: ``jaxpat.catalog.load`` with the plugin
    files as ``extra``, each tagged with its plugin's name as origin.
    """
    mod = _catalog_module()
    if base is not None:
        return mod.load(base=base, extra=plugin_files)
    return mod.load(paths, extra=plugin_files)


def load_catalog(
    paths: Any = None, *, plugins: bool = True, autoload: bool | None = None, block: Iterable[str] = ()
) -> Catalog:
    """The catalog and every plugin's catalog files: what the registry's catalog holds.

    ``paths`` (default: the shipped catalog) are read first, then, when
    ``plugins``, the files each registered plugin returns from
    ``jaxpat_catalog_files`` (see :func:`plugin_catalog_files`; ``autoload``
    and ``block`` as for :func:`load_registry`), each pattern's ``origin``
    being its plugin's name. ``jaxpat.catalog.load()`` is the catalog alone.
    With default arguments the result equals ``load_registry().catalog``
    (patterns, files, digest) when every plugin loads. Never imports JAX as
    long as plugin entry modules do not.

    :raises jaxpat.catalog.CatalogError: a file is invalid (plugin files included).
    """
    files = plugin_catalog_files(autoload=autoload, block=block) if plugins else []
    return assemble_catalog(files, paths=paths)


def plugin_catalog_files(*, autoload: bool | None = None, block: Iterable[str] = ()) -> list[tuple[str, Path]]:
    """Return ``(plugin name, absolute path)`` for every plugin catalog file.

    Used by :func:`load_catalog`. It imports the plugins' entry modules and
    calls only ``jaxpat_catalog_files``, so it never imports JAX provided the
    plugins follow the rule that their entry module does not. A plugin that
    fails to import, or returns a path that is not an existing absolute
    file, is skipped here; the registry (``jaxpat plugins``) reports why.
    """
    session = _Session(strict=False)
    out: list[tuple[str, Path]] = []
    for plugin in session.register_all(_candidates(autoload, block, (), session)):
        files = session.catalog_files(plugin)
        out.extend((plugin.name, f) for f in files or ())
    return out


# ---------------------------------------------------------------------------
# Candidates: what could be registered, in order, before anything is imported
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Candidate:
    name: str
    module: str
    distribution: str
    version: str
    load: Callable[[], object] = field(repr=False, compare=False)

    @property
    def origin(self) -> str:
        dist = f"{self.distribution} {self.version}".strip() if self.distribution else "none (in-process plugin)"
        return f"{dist}; module {self.module}"


def _candidates(
    autoload: bool | None, block: Iterable[str], extra: Iterable[tuple[str, object]], session: _Session
) -> list[_Candidate]:
    blocked = _blocked_names(block)
    for name in sorted(blocked):
        session.pm.set_blocked(name)
    everything = [_reference_candidate()]
    if _autoload_enabled(autoload):
        everything += _entry_point_candidates()
    everything += [_in_process_candidate(name, obj) for name, obj in extra]
    chosen: dict[str, _Candidate] = {}
    for cand in everything:
        if cand.name in blocked:
            continue
        if cand.name in chosen:
            session.name_clash(chosen[cand.name], cand)
            continue
        chosen[cand.name] = cand
    return list(chosen.values())


def _blocked_names(block: Iterable[str]) -> set[str]:
    if isinstance(block, str):
        raise TypeError("`block` takes a list of plugin names, not a string")
    from_env = os.environ.get(ENV_BLOCK, "")
    return {n.strip() for n in (*block, *from_env.split(",")) if n.strip()}


def _autoload_enabled(autoload: bool | None) -> bool:
    if autoload is not None:
        return autoload
    # Any value disables autoloading, except the spellings of "off" a CI
    # matrix produces when the flag is unset (empty, "0", "false", "no").
    return os.environ.get(ENV_DISABLE_AUTOLOAD, "").strip().lower() in ("", "0", "false", "no")


def _reference_candidate() -> _Candidate:
    def load() -> object:
        from . import reference

        return reference

    return _Candidate(REFERENCE, REFERENCE_MODULE, "jaxpat", _version_of("jaxpat"), load)


def _entry_point_candidates() -> list[_Candidate]:
    out = []
    for ep in entry_points(group=GROUP):
        if ep.name == REFERENCE and ep.value == REFERENCE_MODULE:
            continue  # jaxpat's own entry point: the reference plugin is registered directly
        dist = getattr(ep, "dist", None)
        name, version = (dist.name, dist.version) if dist is not None else ("", "")
        out.append(_Candidate(ep.name, ep.value, name or "unknown distribution", version, ep.load))
    return sorted(out, key=lambda c: (c.name, c.distribution))


def _in_process_candidate(name: str, obj: object) -> _Candidate:
    if not isinstance(name, str) or not name:
        raise TypeError(f"`extra_plugins` takes (name, plugin) pairs with a non-empty name, got {name!r}")
    module = obj.__name__ if isinstance(obj, ModuleType) else f"<{type(obj).__module__}.{type(obj).__qualname__}>"
    return _Candidate(name, module, "", "", lambda: obj)


def _version_of(distribution: str) -> str:
    try:
        return dist_version(distribution)
    except PackageNotFoundError:  # running from a source tree that is not installed
        return ""


# ---------------------------------------------------------------------------
# A loading session: registers, validates, and records what failed
# ---------------------------------------------------------------------------

@dataclass
class _Plugin:
    """A plugin while it is being validated."""

    cand: _Candidate
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


class _Session:
    def __init__(self, *, strict: bool) -> None:
        self.strict = strict
        self.errors: list[PluginLoadError] = []
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)

    # -- failure -------------------------------------------------------------

    def fail(
        self, cand: _Candidate, stage: str, problems: Sequence[Problem], *,
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

    def name_clash(self, first: _Candidate, second: _Candidate) -> None:
        problem = Problem(
            "plugin name already taken",
            f"plugin names are unique; {second.name!r} is already registered by {first.origin}, "
            f"so {second.origin} cannot register under it",
            f"rename the entry point in the `[project.entry-points.{GROUP}]` table of one distribution, "
            f"or uninstall one of them",
        )
        self.fail(second, "register", [problem])

    # -- import and register ------------------------------------------------

    def register_all(self, cands: Iterable[_Candidate]) -> list[_Plugin]:
        out = []
        for cand in cands:
            plugin = self.register(cand)
            if plugin is not None:
                out.append(plugin)
        return out

    def register(self, cand: _Candidate) -> _Plugin | None:
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
        problems = _hook_problems(self.pm, obj)
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
            self.fail(plugin.cand, CATALOG_HOOK, [_raised(CATALOG_HOOK, exc)],
                      tb=traceback.format_exc(), obj=plugin.obj, cause=exc)
            return None
        files, problems = _check_paths(results)
        if problems:
            self.fail(plugin.cand, CATALOG_HOOK, problems, obj=plugin.obj)
            return None
        return files

    def add_catalog_files(self, plugins: list[_Plugin], base: Catalog) -> list[_Plugin]:
        """Load each plugin's catalog files; drop plugins whose files are invalid."""
        origin = {p.id: _pattern_file(p) for p in base}
        kept = []
        for plugin in plugins:
            files = self.catalog_files(plugin)
            if files is None:
                continue
            patterns, problems = _load_contribution(files, origin, plugin.name)
            if problems:
                self.fail(plugin.cand, CATALOG_HOOK, problems, obj=plugin.obj)
                continue
            # As catalog.load() does: a contributed pattern's origin is its plugin.
            plugin.files, plugin.patterns = files, tuple(replace(p, origin=plugin.name) for p in patterns)
            origin.update({p.id: f"{_pattern_file(p)} (plugin {plugin.name!r})" for p in patterns})
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
            self.fail(plugin.cand, IMPLEMENTATIONS_HOOK, [_raised(IMPLEMENTATIONS_HOOK, exc)],
                      tb=traceback.format_exc(), obj=plugin.obj, cause=exc)
            return False
        plugin.raw = results
        return True

    def _validate(self, plugin: _Plugin, catalog: Catalog, withdrawn: dict[str, str]) -> bool:
        problems = _implementation_problems(plugin.name, plugin.raw, catalog, withdrawn)
        if problems:
            self.fail(plugin.cand, IMPLEMENTATIONS_HOOK, problems, obj=plugin.obj)
            return False
        c = plugin.cand
        plugin.implementations = [
            impl.bound(c.name, c.distribution, c.version) for result in plugin.raw for impl in result
        ]
        return True


# ---------------------------------------------------------------------------
# Rules
# ---------------------------------------------------------------------------

def _hook_problems(pm: pluggy.PluginManager, obj: object) -> list[Problem]:
    """A plugin must implement at least one jaxpat hook, and only known ones."""
    callers = pm.get_hookcallers(obj) or []
    problems = [
        Problem(
            "unknown hook",
            f"a plugin implements only jaxpat's hooks ({', '.join(_HOOKS)}); "
            f"{c.name!r} is not one{_did_you_mean(c.name, _HOOKS)}",
            "rename the function to the hook it means to implement",
            hook=c.name,
        )
        for c in callers if c.name not in _HOOKS
    ]
    if not callers:
        unmarked = sorted(n for n in dir(obj) if n.startswith("jaxpat_") and callable(getattr(obj, n, None)))
        seen = f"; found unmarked functions: {', '.join(unmarked)}" if unmarked else ""
        problems.append(Problem(
            "no hooks",
            f"a plugin implements at least one of {', '.join(_HOOKS)}, decorated with "
            f"`@patterns.hookimpl`{seen}",
            "decorate the hook functions with `@patterns.hookimpl` (from jaxpat.patterns import hookimpl)",
        ))
    return problems


def _raised(hook: str, exc: BaseException) -> Problem:
    return Problem(
        "hook raised",
        f"a hook returns normally; {hook} raised {type(exc).__name__}: {exc} (traceback below)",
        "fix the hook; it must not raise for the plugin to load",
        hook=hook,
    )


def _check_paths(results: list[Any]) -> tuple[tuple[Path, ...], list[Problem]]:
    files: list[Path] = []
    problems: list[Problem] = []
    for result in results:
        if isinstance(result, (str, os.PathLike)) or not isinstance(result, (list, tuple)):
            problems.append(_path_problem(f"it returned {result!r}, not a list of paths"))
            continue
        for item in result:
            reason = _path_reason(item)
            if reason:
                problems.append(_path_problem(reason))
            else:
                files.append(Path(item))
    return tuple(files), problems


def _path_reason(item: object) -> str:
    if not isinstance(item, (str, os.PathLike)):
        return f"{item!r} is not a path"
    path = Path(item)
    if not path.is_absolute():
        return f"{str(path)!r} is relative"
    if not path.is_file():
        return f"{str(path)!r} is not an existing file"
    return ""


def _path_problem(reason: str) -> Problem:
    return Problem(
        "bad catalog file path",
        f"{CATALOG_HOOK} returns a list of absolute paths of existing YAML files; {reason}",
        "return e.g. `[Path(__file__).with_name('patterns.yaml')]` and ship the file as package data",
        hook=CATALOG_HOOK,
    )


def _load_contribution(
    files: Sequence[Path], origin: dict[str, str], plugin: str
) -> tuple[tuple[Pattern, ...], list[Problem]]:
    """Load a plugin's files; a file error or an id already taken is a problem."""
    if not files:
        return (), []
    mod = _catalog_module()
    try:
        contributed = mod.load_files(list(files))
    except mod.CatalogError as exc:
        detail = "\n".join(str(p) for p in getattr(exc, "problems", ())) or str(exc)
        return (), [Problem(
            "invalid catalog file",
            f"a plugin's catalog files follow docs/catalog-format.md:\n{detail}",
            "fix the file; `jaxpat validate FILE` checks one file",
            hook=CATALOG_HOOK,
        )]
    problems = [
        Problem(
            "duplicate pattern id",
            f"pattern ids are unique across every loaded file; {p.id!r} in {_pattern_file(p)} "
            f"(plugin {plugin!r}) is already declared in {origin[p.id]}",
            "choose another id for the plugin's pattern (e.g. prefix it with the plugin's name), "
            "or implement the existing pattern instead",
            hook=CATALOG_HOOK, pattern=p.id,
        )
        for p in contributed if p.id in origin
    ]
    return tuple(contributed), problems


def _implementation_problems(
    plugin: str, results: list[Any], catalog: Catalog, withdrawn: dict[str, str]
) -> list[Problem]:
    """Every problem of a plugin's ``jaxpat_implementations`` results (empty if valid)."""
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for result in results:
        if isinstance(result, (str, bytes)) or not isinstance(result, (list, tuple)):
            problems.append(Problem(
                "not a list", f"{IMPLEMENTATIONS_HOOK} returns a list of patterns.Implementation; got {result!r}",
                "return a list, e.g. `[Implementation(pattern=..., name=..., fn=...)]`",
                hook=IMPLEMENTATIONS_HOOK,
            ))
            continue
        for impl in result:
            problems.extend(_one_implementation_problems(plugin, impl, catalog, withdrawn, seen))
    return problems


def _one_implementation_problems(
    plugin: str, impl: object, catalog: Catalog, withdrawn: dict[str, str], seen: set[tuple[str, str]]
) -> list[Problem]:
    if not isinstance(impl, Implementation):
        return [Problem(
            "not an Implementation",
            f"{IMPLEMENTATIONS_HOOK} returns patterns.Implementation objects; got {type(impl).__name__} {impl!r}",
            "wrap the function: `Implementation(pattern='PATTERN-ID', name='NAME', fn=FUNCTION)`",
            hook=IMPLEMENTATIONS_HOOK,
        )]
    where = {"hook": IMPLEMENTATIONS_HOOK, "implementation": f"{plugin}.{impl.name}", "pattern": impl.pattern}
    if impl.pattern not in catalog:
        return [_unknown_pattern(impl.pattern, catalog, withdrawn, where)]
    problems = []
    if (impl.pattern, impl.name) in seen:
        problems.append(Problem(
            "duplicate implementation name",
            f"names are unique per (plugin, pattern); {plugin!r} returns two implementations named "
            f"{impl.name!r} for {impl.pattern!r}",
            "give each implementation of a pattern its own name", **where,
        ))
    seen.add((impl.pattern, impl.name))
    mismatch = _signature_mismatch(impl.fn, catalog.get(impl.pattern).signature.args)
    if mismatch:
        problems.append(_signature_problem(impl, catalog.get(impl.pattern).signature.args, mismatch, where))
    return problems


def _unknown_pattern(pid: str, catalog: Catalog, withdrawn: dict[str, str], where: dict[str, str]) -> Problem:
    if pid in withdrawn:
        why = f"; it was contributed by plugin {withdrawn[pid]!r}, which failed to load"
    else:
        why = _did_you_mean(pid, catalog.ids())
    return Problem(
        "unknown pattern id",
        f"an implementation names a pattern of the loaded catalog; {pid!r} is not one{why}",
        "use an id listed by `jaxpat list`, or contribute the pattern through jaxpat_catalog_files",
        **where,
    )


def _signature_problem(impl: Implementation, args: Sequence[str], mismatch: str, where: dict[str, str]) -> Problem:
    fn_name = getattr(impl.fn, "__name__", "fn")
    return Problem(
        "parameters do not match the pattern's signature",
        f"`fn` takes the pattern's arguments ({', '.join(args)}) first, by these names, in this order, "
        f"as ordinary parameters; any further parameter is optional (has a default, or is *args/**kwargs); "
        f"{mismatch}",
        f"define it as `def {fn_name}({', '.join(args)}): ...`",
        **where,
    )


_ORDINARY = inspect.Parameter.POSITIONAL_OR_KEYWORD
_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def _signature_mismatch(fn: Callable[..., Any], args: Sequence[str]) -> str:
    """Why ``fn`` cannot be called as a pattern with arguments ``args`` ("" if it can).

    The rule: the first ``len(args)`` parameters are ordinary
    (positional-or-keyword) parameters named ``args`` in order, because the
    conformance suite passes arguments by position and names static ones
    (``jax.jit(static_argnames=...)``); every further parameter can be
    omitted (has a default, or is ``*args``/``**kwargs``), because the suite
    never passes it.
    """
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        return f"its signature cannot be inspected ({exc})"
    params = list(sig.parameters.values())
    for i, want in enumerate(args):
        if i >= len(params) or params[i].kind in _VARIADIC:
            return f"it has {sig}, which lacks parameter {want!r}"
        p = params[i]
        if p.name != want:
            return f"it has {sig}: parameter {i + 1} is {p.name!r}, expected {want!r}"
        if p.kind is not _ORDINARY:
            kind = "positional-only" if p.kind is inspect.Parameter.POSITIONAL_ONLY else "keyword-only"
            return f"it has {sig}: parameter {want!r} is {kind}"
    extra = [p.name for p in params[len(args):] if p.kind not in _VARIADIC and p.default is inspect.Parameter.empty]
    if extra:
        return f"it has {sig}: extra parameter {extra[0]!r} has no default"
    return ""


def _did_you_mean(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# ---------------------------------------------------------------------------
# Catalog assembly
# ---------------------------------------------------------------------------

def _catalog_module() -> Any:
    from jaxpat import catalog

    return catalog


def _pattern_file(p: Pattern) -> str:
    return p.location.file if p.location is not None else p.origin


def _merged(base: Catalog, plugins: Sequence[_Plugin]) -> Catalog:
    """``base`` followed by the plugins' patterns, to validate implementations against (no files, no digest)."""
    contributed = tuple(pat for p in plugins for pat in p.patterns)
    return type(base)(base.patterns + contributed) if contributed else base
