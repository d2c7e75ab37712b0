"""Find catalog files, check them all, and build one :class:`Catalog`.

Nothing here imports NumPy or JAX: loading the catalog is cheap, and a
plugin's catalog files are read before any implementation is imported.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ._build import build_patterns
from ._errors import CatalogError, Problem
from ._model import Catalog
from ._parse_cache import cached_parse
from ._validate import Checked, check_document, check_pattern_ids
from ._yaml import Document, parse

__all__ = ["SHIPPED", "load", "load_files", "validate"]

#: The catalog shipped with jaxpat (a symlink to the repository's catalog.yaml).
SHIPPED = Path(__file__).parent / "catalog.yaml"

PathLike = str | os.PathLike

#: How parsing uses the parse cache (catalog/_parse_cache.py): not at all, read
#: only (``validate`` promises to write nothing), or read and store new entries.
_CacheUse = Literal["off", "read", "read-write"]


@dataclass(frozen=True)
class _Source:
    """One file to read: where it is, how problems name it, and who contributed it."""

    path: Path
    name: str
    origin: str


def load(paths: Iterable[PathLike] | PathLike | None = None, *, plugins: bool = True) -> Catalog:
    """Load and check ``paths`` (default: the shipped catalog), plus plugin files when ``plugins``.

    Raises :class:`CatalogError` listing every problem of every file; the
    returned catalog is immutable. Patterns contributed by a plugin have
    ``origin`` set to the plugin's name. Parsed files are kept in the per-user
    parse cache (see ``docs/catalog-format.md``), which never changes the result.
    """
    return _load(_sources(paths, plugins))


def load_files(paths: Iterable[PathLike] | PathLike) -> Catalog:
    """Load exactly ``paths`` (no plugin files); raise :class:`CatalogError` on any problem.

    Uses the parse cache as :func:`load` does.
    """
    return _load(_sources(paths, plugins=False))


def validate(paths: Iterable[PathLike] | PathLike | None = None, *, plugins: bool | None = None) -> list[Problem]:
    """Return every problem in ``paths`` (an empty list when they are valid); never writes anything.

    With no ``paths``, checks what :func:`load` would load. ``plugins``
    defaults to True only in that case, so ``validate([file])`` checks just
    that file. Only catalog problems are returned; bugs still raise. It may
    read the parse cache (which never changes the result) but never adds to it.
    """
    problems, _ = _check(_sources(paths, paths is None if plugins is None else plugins), cache="read")
    return problems


# -- finding files ---------------------------------------------------------------


def _sources(paths: Iterable[PathLike] | PathLike | None, plugins: bool) -> list[_Source]:
    if isinstance(paths, (str, os.PathLike)):  # one path, not an iterable of characters
        paths = [paths]
    if paths is None:
        sources = [_Source(SHIPPED, _display(SHIPPED), "catalog.yaml")]
    else:
        sources = [_Source(Path(p), _display(Path(p)), _display(Path(p))) for p in paths]
    if plugins:
        sources += [_Source(path, _display(path), name) for name, path in _plugin_files()]
    return _unique(sources)


def _plugin_files() -> list[tuple[str, Path]]:
    """``(plugin name, path)`` of every catalog file a registered plugin contributes."""
    try:
        from jaxpat.patterns._registry import plugin_catalog_files
    except ImportError as e:
        # The registry is optional (and is being written); a broken plugin
        # module imported *by* the registry must still fail loudly.
        if e.name in ("patterns", "jaxpat.patterns._registry"):
            return []
        raise
    return [(str(name), Path(path)) for name, path in plugin_catalog_files()]


def _unique(sources: list[_Source]) -> list[_Source]:
    seen: set[Path] = set()
    out = []
    for source in sources:
        key = source.path.resolve() if source.path.exists() else source.path
        if key not in seen:
            seen.add(key)
            out.append(source)
    return out


def _display(path: Path) -> str:
    """A short name for messages: relative to the working directory when the file is under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


# -- checking and building -------------------------------------------------------


def _check(sources: list[_Source], *, cache: _CacheUse) -> tuple[list[Problem], list[tuple[_Source, bytes, Checked]]]:
    problems: list[Problem] = []
    files: list[tuple[_Source, bytes]] = []
    for source in sources:
        try:
            files.append((source, source.path.read_bytes()))
        except OSError as e:
            problems.append(Problem(source.name, 0, 0, f"cannot read the file: {e.strerror or e}"))
    more, done = _check_bytes(files, cache=cache)
    return _in_file_order(problems + more, sources), done


def _check_bytes(
    files: list[tuple[_Source, bytes]], *, cache: _CacheUse
) -> tuple[list[Problem], list[tuple[_Source, bytes, Checked]]]:
    problems: list[Problem] = []
    done: list[tuple[_Source, bytes, Checked]] = []
    for source, raw in files:
        try:
            checked = check_document(_parse(raw, source.name, cache))
        except CatalogError as e:
            problems.extend(e.problems)
            continue
        problems.extend(checked.problems)
        done.append((source, raw, checked))
    problems.extend(check_pattern_ids([checked.doc for _, _, checked in done]))
    return problems, done


def _parse(raw: bytes, name: str, cache: _CacheUse) -> Document:
    """``parse(raw, name)``, through the parse cache unless ``cache`` is "off"; same result either way."""
    if cache == "off":
        return parse(raw, name)
    return cached_parse(raw, name, write=cache == "read-write")


def _in_file_order(problems: list[Problem], sources: list[_Source]) -> list[Problem]:
    order = {source.name: i for i, source in enumerate(sources)}
    return sorted(problems, key=lambda p: (order.get(p.file, len(order)), p.line, p.column))


def _load(sources: list[_Source]) -> Catalog:
    problems, done = _check(sources, cache="read-write")
    return _build(problems, done)


def _load_bytes(files: Sequence[tuple[str, bytes]]) -> Catalog:
    """Load in-memory files ``(name, content)``, as :func:`load_files` loads files (tests, fuzzing).

    The parse cache is not used: fuzzing exercises the parser and must not fill the cache.
    """
    sources = [(_Source(Path(name), name, name), raw) for name, raw in files]
    problems, done = _check_bytes(sources, cache="off")
    return _build(_in_file_order(problems, [s for s, _ in sources]), done)


def _build(problems: list[Problem], done: list[tuple[_Source, bytes, Checked]]) -> Catalog:
    if problems:
        raise CatalogError(problems)
    patterns = [p for source, _, checked in done for p in build_patterns(checked, source.origin)]
    return Catalog(
        patterns=tuple(patterns),
        files=tuple(source.name for source, _, _ in done),
        digest=_digest((source.name, raw) for source, raw, _ in done),
    )


def _digest(files: Iterable[tuple[str, bytes]]) -> str:
    """sha256 over every file's bytes, files sorted by name, each prefixed by its length."""
    h = hashlib.sha256()
    for _, raw in sorted(files):
        h.update(len(raw).to_bytes(8, "big"))
        h.update(raw)
    return h.hexdigest()
