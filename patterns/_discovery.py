"""Which plugins to register, in which order, before any of them is imported.

The order is fixed, so every process (and every xdist worker) sees the same
registry: the built-in ``reference`` plugin, then the entry points of group
``jaxpat`` sorted by name (unless autoloading is off: ``autoload=False`` or
``JAXPAT_DISABLE_PLUGIN_AUTOLOAD``), then the caller's in-process plugins.
Names in ``block=`` or ``JAXPAT_BLOCK_PLUGINS`` are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

from jaxpat import _env
from jaxpat._util import dist_version

if TYPE_CHECKING:  # pragma: no cover
    import pluggy

__all__ = [
    "ENV_BLOCK",
    "ENV_DISABLE_AUTOLOAD",
    "GROUP",
    "REFERENCE",
    "REFERENCE_MODULE",
    "Candidate",
    "candidates",
    "choice_variable",
]

#: The entry-point group plugins register under.
GROUP = "jaxpat"
#: Set to ``1`` to skip third-party entry points (the reference plugin still loads).
ENV_DISABLE_AUTOLOAD = "JAXPAT_DISABLE_PLUGIN_AUTOLOAD"
#: Comma-separated plugin names to skip, e.g. ``example,reference``.
ENV_BLOCK = "JAXPAT_BLOCK_PLUGINS"

REFERENCE = "reference"
REFERENCE_MODULE = "jaxpat.patterns.reference"


class _Session(Protocol):
    """What :func:`candidates` needs of a loading session (``_session.Session``)."""

    pm: pluggy.PluginManager

    def name_clash(self, cands: Sequence[Candidate], chosen: Candidate | None) -> None: ...


@dataclass(frozen=True)
class Candidate:
    """A plugin that may be registered: its name, where it comes from, and how to import it."""

    name: str
    module: str
    distribution: str
    version: str
    load: Callable[[], object] = field(repr=False, compare=False)

    @property
    def origin(self) -> str:
        dist = f"{self.distribution} {self.version}".strip() if self.distribution else "none (in-process plugin)"
        return f"{dist}; module {self.module}"


def entry_points(group: str) -> Any:
    """``importlib.metadata.entry_points(group=group)``, imported on first use (tests replace this function)."""
    from importlib.metadata import entry_points as scan

    return scan(group=group)


_METADATA_ENTRY_POINTS = entry_points


def candidates(
    autoload: bool | None, block: Iterable[str], extra: Iterable[tuple[str, object]], session: _Session,
    only: str | None = None, *, use_index: bool = False,
) -> list[Candidate]:
    """The plugins to load, in order; with ``only``, the candidates of that one name (an executor's plugin).

    ``use_index``: read the entry points from the per-user index (``patterns/_index.py``) when its key
    matches, instead of importing :mod:`importlib.metadata`; the same candidates either way. Only
    ``load_catalog()`` asks for it: a conformance run's judge reads the installed metadata itself."""
    blocked = _blocked_names(block)
    for name in sorted(blocked):
        session.pm.set_blocked(name)
    indexed = None
    if use_index and entry_points is _METADATA_ENTRY_POINTS:
        from ._index import installed_entry_points

        indexed = installed_entry_points(GROUP)
    everything = [_reference_candidate(indexed[1][0] if indexed is not None else None)]
    if _autoload_enabled(autoload):
        everything += _entry_point_candidates(indexed[0] if indexed is not None else None)
    everything += [_in_process_candidate(name, obj) for name, obj in extra]
    if only is not None:
        everything = [c for c in everything if c.name == only]
    groups: dict[str, list[Candidate]] = {}
    for cand in everything:
        if cand.name not in blocked:
            groups.setdefault(cand.name, []).append(cand)
    out = []
    for cands in groups.values():
        if len(cands) == 1:
            out.append(cands[0])
            continue
        chosen = _choose(cands)
        if chosen is not None:
            out.append(chosen)
        session.name_clash(cands, chosen)
    return out


def choice_variable(name: str) -> str:
    """The environment variable that picks the distribution of plugin ``name``: ``JAXPAT_PLUGIN_<NAME>``."""
    return _env.choice_variable(name)


def _choose(cands: list[Candidate]) -> Candidate | None:
    """The one candidate of a name several register: jaxpat's reference plugin, or the user's pick, or None."""
    if cands[0].module == REFERENCE_MODULE:
        return cands[0]
    pick = _env.plugin_choice(cands[0].name) or ""
    return next((c for c in cands if pick and _normal(c.distribution) == pick), None)


def _normal(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist.strip()).lower()


def _blocked_names(block: Iterable[str]) -> set[str]:
    if isinstance(block, str):
        raise TypeError("`block` takes a list of plugin names, not a string")
    return {n.strip() for n in block if n.strip()} | _env.blocked_plugins()


def _autoload_enabled(autoload: bool | None) -> bool:
    if autoload is not None:
        return autoload
    # Unset, empty, "0", "false", "no" and "off" leave autoloading on (a CI
    # matrix writes these when the flag is unset); 1/true/yes/on disable it;
    # anything else is a usage error (jaxpat/_env.py).
    return not _env.flag(_env.AUTOLOAD)


def _reference_candidate(version: str | None = None) -> Candidate:
    def load() -> object:
        from . import reference

        return reference

    # "" when running from a source tree that is not installed.
    version = (dist_version("jaxpat") or "") if version is None else version
    return Candidate(REFERENCE, REFERENCE_MODULE, "jaxpat", version, load)


def _entry_point_candidates(indexed: list[tuple[str, str, str, str, str]] | None = None) -> list[Candidate]:
    if indexed is not None:  # the index's rows: what importlib.metadata listed
        rows = [Candidate(name, value, dist or "unknown distribution", version, _entry_point_loader(value))
                for name, value, dist, version, _ in indexed
                if not (name == REFERENCE and value == REFERENCE_MODULE)]
        return sorted(rows, key=lambda c: (c.name, c.distribution))
    out = []
    for ep in entry_points(group=GROUP):
        if ep.name == REFERENCE and ep.value == REFERENCE_MODULE:
            continue  # jaxpat's own entry point: the reference plugin is registered directly
        dist = getattr(ep, "dist", None)
        name, version = (dist.name, dist.version) if dist is not None else ("", "")
        out.append(Candidate(ep.name, ep.value, name or "unknown distribution", version, ep.load))
    return sorted(out, key=lambda c: (c.name, c.distribution))


def _in_process_candidate(name: str, obj: object) -> Candidate:
    if not isinstance(name, str) or not name:
        raise TypeError(f"`extra_plugins` takes (name, plugin) pairs with a non-empty name, got {name!r}")
    module = obj.__name__ if isinstance(obj, ModuleType) else f"<{type(obj).__module__}.{type(obj).__qualname__}>"
    return Candidate(name, module, "", "", lambda: obj)


#: ``importlib.metadata.EntryPoint``'s own pattern for a value: ``module[:attr.attr] [extras]``.
_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$")


def _entry_point_loader(value: str) -> Callable[[], object]:
    """What ``EntryPoint(value=value).load`` does: import the module, then follow the attributes."""

    def load() -> object:
        import importlib

        match = _VALUE.match(value)
        if match is None:
            raise ValueError(f"entry point value {value!r} is not `module` or `module:attribute`")
        obj: object = importlib.import_module(match.group("module"))
        for attr in filter(None, (match.group("attr") or "").split(".")):
            obj = getattr(obj, attr)
        return obj

    return load
