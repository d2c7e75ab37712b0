"""What a run is asked to select, checked before any worker starts; node ids as selections.

* ``--jaxpat-pattern``, ``--jaxpat-impl`` and ``--jaxpat-family`` values that
  match nothing are typos: :class:`FilterCheck` reports each, with the
  closest id, as a usage error in ``pytest_sessionstart`` -- before xdist
  starts its workers (its own ``pytest_sessionstart`` runs last). Pattern
  ids come from the catalog the judge reads itself, implementation ids from
  the listing each plugin's executor gives (:func:`._collect.load_listing`,
  which the controller makes anyway for its local workers): no plugin code
  runs in this process.
* Node ids (``jaxpat::scan-cumsum::five[reference.lax_scan-cpu:0-jit]``, as
  a run prints them, or a prefix ``jaxpat::scan-cumsum``) given as pytest
  arguments select those items: :func:`take_node_ids` takes them out of
  pytest's path arguments (pytest would look for a file ``jaxpat``) and
  :class:`NodeIdSelection` deselects every other item. The ids are read with
  the one node-id codec, :mod:`jaxpat.report._nodeid`.
* :func:`cache_dir_problem`: ``--jaxpat-cache-dir`` naming a file is a usage error.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from jaxpat._util import did_you_mean
from jaxpat.report import parse_nodeid

from ._options import TRANSFORM_CHOICES

__all__ = ["FilterCheck", "NodeIdSelection", "cache_dir_problem", "filter_problems", "is_node_id", "selects",
           "take_node_ids"]

_PREFIX = re.compile(r"^jaxpat::([^:\[\]]+)(?:::([^:\[\]]+))?$")
_NODE_IDS = pytest.StashKey[list[str]]()


def is_node_id(arg: str) -> bool:
    """Whether a command-line argument is a jaxpat node id (or a ``jaxpat::PATTERN[::CASE]`` prefix)."""
    return arg.startswith("jaxpat::")


def take_node_ids(config: pytest.Config) -> list[str]:
    """Move the node ids out of ``config.args`` (pytest's paths) into the config; return them."""
    ids = [a for a in config.args if is_node_id(a)]
    if ids:
        config.args = [a for a in config.args if not is_node_id(a)]
        config.stash[_NODE_IDS] = ids
    return ids


def node_ids(config: pytest.Config) -> list[str]:
    """The node ids this run was asked for (empty: no selection by id)."""
    stash = getattr(config, "stash", None)
    return list(stash.get(_NODE_IDS, [])) if stash is not None else []


def selects(asked: str, nodeid: str) -> bool:
    """Whether the argument ``asked`` selects the item ``nodeid``: the same id, or a prefix ending at ``::``
    or ``[`` (``jaxpat::scan-cumsum`` selects every item of that pattern), as pytest's own node ids do."""
    return nodeid == asked or nodeid.startswith(asked + "::") or nodeid.startswith(asked + "[")


class NodeIdSelection:
    """Keeps only the items named by node id (every process that collects)."""

    def __init__(self, ids: list[str]) -> None:
        self.ids = ids

    @pytest.hookimpl(trylast=True)  # after jaxpat's own items were added
    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        keep: list[pytest.Item] = []
        drop: list[pytest.Item] = []
        for item in items:
            (keep if any(selects(a, item.nodeid) for a in self.ids) else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep


def cache_dir_problem(path: str | None) -> str | None:
    """Why ``path`` cannot be the compilation cache folder (a file, or a file on its way), or None."""
    if not path:
        return None
    p = Path(path)
    try:
        for at in (p, *p.parents):
            if at.exists():
                if not at.is_dir():
                    what = "is" if at == p else f"is inside {at}, which is"
                    return f"{what} a file, not a folder (give a folder for the XLA compilation cache, or --no-cache)"
                return None
    except OSError as exc:
        return str(exc)
    return None


def _unmatched(globs: list[str], ids: list[str]) -> list[str]:
    return [g for g in globs if not any(fnmatch.fnmatchcase(i, g) for i in ids)]


def _hint(glob: str, ids: Sequence[str]) -> str:
    return did_you_mean(glob.replace("*", "").replace("?", ""), ids)


def filter_problems(patterns: list[Any], impl_ids: list[str], *, pattern_globs: list[str],
                    impl_globs: list[str], family_globs: list[str], families: list[str],
                    asked_ids: Sequence[str] = (), impls_of: dict[str, list[str]] | None = None) -> list[str]:
    """One message per filter value that matches nothing, and per node id naming something that does not exist,
    each with the closest id. ``patterns`` are catalog patterns (``id``, ``family``, ``cases``)."""
    pattern_ids = [p.id for p in patterns]
    by_id = {p.id: p for p in patterns}
    out = []
    for glob in _unmatched(pattern_globs, pattern_ids):
        out.append(f"--pattern {glob!r} matches no pattern{_hint(glob, pattern_ids)}; `jaxpat list` shows them")
    for glob in _unmatched(impl_globs, impl_ids):
        out.append(f"--impl {glob!r} matches no implementation{_hint(glob, impl_ids)}; `jaxpat plugins` "
                   "lists them (PLUGIN.NAME)")
    for glob in _unmatched(family_globs, families):
        out.append(f"--family {glob!r} matches no family{_hint(glob, families)}; families: {', '.join(families)}")
    impls_of = impls_of or {}
    for asked in asked_ids:
        node = parse_nodeid(asked)
        prefix = _PREFIX.match(asked)
        pattern = node.pattern or (prefix.group(1) if prefix else None)
        if node.kind == "other" and prefix is None:
            out.append(f"{asked!r} is not a jaxpat node id (jaxpat::PATTERN::CASE[PLUGIN.IMPL-DEVICE-TRANSFORM], "
                       "as a run prints them, or a prefix jaxpat::PATTERN)")
            continue
        if node.kind == "setup":
            continue
        if pattern not in by_id:
            out.append(f"node id {asked!r}: no pattern {pattern!r}{_hint(str(pattern), pattern_ids)}")
            continue
        case = node.case or (prefix.group(2) if prefix else None)
        cases = [c.id for c in by_id[pattern].cases]
        if case is not None and node.kind != "claim" and not case.startswith("claim-") and case not in cases:
            out.append(f"node id {asked!r}: pattern {pattern!r} has no case {case!r}{_hint(case, cases)}")
        mine = impls_of.get(str(pattern), [])
        if node.implementation and node.implementation not in mine:
            out.append(f"node id {asked!r}: {node.implementation!r} implements no case of {pattern!r}"
                       f"{_hint(node.implementation, mine)}")
        if node.transform and node.transform not in TRANSFORM_CHOICES:
            out.append(f"node id {asked!r}: no transform {node.transform!r}{_hint(node.transform, TRANSFORM_CHOICES)}")
    return out


def _local_workers_only(config: pytest.Config) -> bool:
    """Whether every worker (if any) is a local ``popen`` worker of this interpreter (the listing made here
    is theirs)."""
    specs = [str(s) for s in (getattr(config.option, "tx", None) or [])]
    return all(s.split("//")[0].split("*")[-1] == "popen" and "python=" not in s for s in specs)


class FilterCheck:
    """Checks the run's filters and node ids against the catalog and the plugins' listing before workers start
    (the controller, or the single process)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        config = self.config
        if config.option.collectonly:  # collecting only: a filter that matches nothing is pytest's "no tests"
            return
        wanted = (config.getoption("jaxpat_pattern"), config.getoption("jaxpat_impl"),
                  config.getoption("jaxpat_family"), node_ids(config))
        if not any(wanted) or not _local_workers_only(config):
            return
        problems = self.problems()
        if problems:
            raise pytest.UsageError("\n".join(problems))

    def problems(self) -> list[str]:
        """The filter problems, from the listing (empty when it cannot be made: collection then says why)."""
        from jaxpat.catalog import FAMILIES

        from ._collect import load_listing, shared_listing

        config = self.config
        try:
            if getattr(config.option, "dist", "no") != "no" and shared_listing(config) is None:
                return []  # made once for the local workers anyway (its executors end there); None: it failed
            listing = load_listing(config)  # the controller: the listing just made; -n 0: made here, kept
        except Exception:  # an invalid catalog, a plugin that cannot start: the run reports it in full
            return []
        if listing.problems:  # a plugin that failed to load may be the one a filter names
            return []
        impls_of: dict[str, list[str]] = {}
        for impl in listing.impls:
            impls_of.setdefault(impl.pattern, []).append(impl.id)
        return filter_problems(list(listing.catalog), [i.id for i in listing.impls],
                               pattern_globs=list(config.getoption("jaxpat_pattern")),
                               impl_globs=list(config.getoption("jaxpat_impl")),
                               family_globs=list(config.getoption("jaxpat_family")), families=list(FAMILIES),
                               asked_ids=node_ids(config), impls_of=impls_of)
