"""The registration rules: each function returns the problems of one part of a plugin.

A problem says which rule is broken and how to fix it (``_errors.Problem``);
the loading session (``_session.py``) decides what to do with them. The rules
are written out for plugin authors in ``docs/plugins.md``.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jaxpat._util import did_you_mean
from jaxpat.catalog import CatalogError, load

from ._errors import Problem
from ._implementation import Implementation

if TYPE_CHECKING:  # pragma: no cover
    import pluggy

    from jaxpat.catalog import Catalog, Pattern

__all__ = [
    "CATALOG_HOOK",
    "HOOKS",
    "IMPLEMENTATIONS_HOOK",
    "check_paths",
    "hook_problems",
    "implementation_problems",
    "load_contribution",
    "pattern_file",
    "raised",
]

CATALOG_HOOK = "jaxpat_catalog_files"
IMPLEMENTATIONS_HOOK = "jaxpat_implementations"
HOOKS = (CATALOG_HOOK, IMPLEMENTATIONS_HOOK)


def hook_problems(pm: pluggy.PluginManager, obj: object) -> list[Problem]:
    """A plugin must implement at least one jaxpat hook, and only known ones."""
    callers = pm.get_hookcallers(obj) or []
    problems = [
        Problem(
            "unknown hook",
            f"a plugin implements only jaxpat's hooks ({', '.join(HOOKS)}); "
            f"{c.name!r} is not one{did_you_mean(c.name, HOOKS)}",
            "rename the function to the hook it means to implement",
            hook=c.name,
        )
        for c in callers if c.name not in HOOKS
    ]
    if not callers:
        unmarked = sorted(n for n in dir(obj) if n.startswith("jaxpat_") and callable(getattr(obj, n, None)))
        seen = f"; found unmarked functions: {', '.join(unmarked)}" if unmarked else ""
        problems.append(Problem(
            "no hooks",
            f"a plugin implements at least one of {', '.join(HOOKS)}, decorated with "
            f"`@patterns.hookimpl`{seen}",
            "decorate the hook functions with `@patterns.hookimpl` (from jaxpat.patterns import hookimpl)",
        ))
    return problems


def raised(hook: str, exc: BaseException) -> Problem:
    return Problem(
        "hook raised",
        f"a hook returns normally; {hook} raised {type(exc).__name__}: {exc} (traceback below)",
        "fix the hook; it must not raise for the plugin to load",
        hook=hook,
    )


def check_paths(results: list[Any]) -> tuple[tuple[Path, ...], list[Problem]]:
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


def load_contribution(
    files: Sequence[Path], origin: dict[str, str], plugin: str, parsed: dict[Any, Any] | None = None,
) -> tuple[tuple[Pattern, ...], list[Problem]]:
    """Load a plugin's files; a file error or an id already taken is a problem.

    ``parsed``: the caller's in-memory parses (``jaxpat.catalog.load``'s ``parsed``)."""
    if not files:
        return (), []
    try:
        contributed = load(list(files), parsed=parsed)
    except CatalogError as exc:
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
            f"pattern ids are unique across every loaded file; {p.id!r} in {pattern_file(p)} "
            f"(plugin {plugin!r}) is already declared in {origin[p.id]}",
            "choose another id for the plugin's pattern (e.g. prefix it with the plugin's name), "
            "or implement the existing pattern instead",
            hook=CATALOG_HOOK, pattern=p.id,
        )
        for p in contributed if p.id in origin
    ]
    return tuple(contributed), problems


def implementation_problems(
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
            problems.extend(_oneimplementation_problems(plugin, impl, catalog, withdrawn, seen))
    return problems


def _oneimplementation_problems(
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
        why = did_you_mean(pid, catalog.ids())
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


def pattern_file(p: Pattern) -> str:
    """Where a pattern is declared, for messages: its file, else its origin."""
    return p.location.file if p.location is not None else p.origin
