"""Find catalog files, check them all, and build one :class:`Catalog`.

Nothing here imports NumPy or JAX: loading the catalog is cheap. This is the
pure catalog layer: it reads the files it is given and never looks for
plugins. Plugin catalog files arrive from above as ``extra=[(origin, path)]``
(``jaxpat.patterns.load_catalog`` gathers them); :func:`load` is the one
function that turns files into a catalog, for every caller.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import hashlib
import os
import stat
from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ._build import build_patterns
from ._errors import CatalogError, Problem
from ._model import Catalog, Location, Pattern
from ._parse_cache import cached_parse
from ._validate import Checked, check_document, check_pattern_ids
from ._yaml import DEFAULT_LIMITS, Document, parse

__all__ = ["SHIPPED", "load", "load_files", "read_catalog_file", "validate"]


def _shipped() -> Path:
    """The catalog shipped with jaxpat: ``catalog.yaml`` beside this module in an installed wheel
    (setup.py's build step copies it there), else the repository's top-level ``catalog.yaml`` (a
    source checkout or an editable install, where this module is ``catalog/_loader.py``). The
    repository holds one copy of the file, not a symlink."""
    here = Path(__file__).parent
    candidates = [here / "catalog.yaml", here.parent / "catalog.yaml",
                  Path(__file__).resolve().parent.parent / "catalog.yaml"]  # a strict editable install's links
    return next((c for c in candidates if c.is_file()), candidates[0])


#: The catalog shipped with jaxpat (see :func:`_shipped`).
SHIPPED = _shipped()

PathLike = str | os.PathLike
#: Extra files: ``(origin, path)`` pairs; ``origin`` becomes each pattern's ``origin`` (a plugin's name).
Extra = Iterable[tuple[str, PathLike]]

#: How parsing uses the parse cache (catalog/_parse_cache.py): not at all, read
#: only (``validate`` promises to write nothing), or read and store new entries.
_CacheUse = Literal["off", "read", "read-write"]
#: A caller's in-memory parses (see :func:`load`'s ``parsed``): (name, sha256) -> the file's Checked (or
#: Document), (name, sha256, origin) -> its patterns.
_Memo = MutableMapping[tuple[str, ...], Any]


@dataclass(frozen=True)
class _Source:
    """One file to read: where it is, how problems name it, and who contributed it."""

    path: Path
    name: str
    origin: str


def load(
    paths: Iterable[PathLike] | PathLike | None = None, *, extra: Extra = (), base: Catalog | None = None,
    use_cache: bool = True, parsed: _Memo | None = None,
) -> Catalog:
    """Load and check ``paths`` (default: the shipped catalog) followed by the ``extra`` files.

    ``extra`` holds ``(origin, path)`` pairs: each file's patterns get that
    ``origin`` (``jaxpat.patterns.load_catalog`` passes every plugin's files
    with the plugin's name); the patterns of ``paths`` have the file's name
    as origin (``catalog.yaml`` for the shipped one). No plugin is consulted
    here: ``load()`` is the shipped catalog alone. ``base``, instead of
    ``paths``, puts an already loaded catalog in front (tests use small
    in-memory ones); its ids count for the duplicate check.

    The result's ``files`` are the files' names in order (relative to the
    working directory when under it) and its ``digest`` is a sha256 over
    their bytes (and ``base.digest``). Raises :class:`CatalogError` listing
    every problem of every file; the returned catalog is immutable. Parsed
    files are kept in the per-user parse cache (see
    ``docs/catalog-format.md``), which never changes the result -- unless
    something rewrote an entry: the conformance run's judge passes
    ``use_cache=False`` and parses every file itself, since any process
    running as the user (a plugin, say) can write the cache
    (docs/security.md).

    ``parsed``, a mapping the caller owns and passes to each of its calls,
    keeps each file's parse and check in memory under its name and the
    sha256 of its bytes, as read by that call (and the patterns built from
    it, under its origin too): a later call with the same bytes skips the
    parse, the check and the build (a file changed by one byte is parsed and
    checked again). What is kept is what a fresh parse and check give, so
    the result is the same with or without it. Nothing else reads it.
    """
    if base is not None and paths is not None:
        raise TypeError("load() takes `paths` or `base`, not both")
    sources = _sources(paths, extra, base=base is not None)
    with _collector_paused():
        problems, done = _check(sources, cache="read-write" if use_cache else "off", parsed=parsed)
        return _build(problems, done, base, parsed)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a load builds its objects, and resume it after.

    Reading a file (from the parse cache or the parser), checking it and
    building its patterns allocates tens of thousands of containers that all
    stay alive; each allocation threshold reached meanwhile made the collector
    walk them again for nothing (about a tenth of ``load_catalog()``'s time
    for the shipped catalog, 2026-12-07). Nothing is freed later than it would
    be otherwise but cyclic garbage, which the next collection frees. The
    collector is resumed only when it was on (``gc.isenabled()``) when the load
    began, whatever the load raised.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def load_files(paths: Iterable[PathLike] | PathLike) -> Catalog:
    """Load exactly ``paths``; raise :class:`CatalogError` on any problem.

    The same as ``load(paths)`` (``paths`` is required here).
    """
    return load(_as_list(paths))


def validate(paths: Iterable[PathLike] | PathLike | None = None, *, extra: Extra = ()) -> list[Problem]:
    """Return every problem in ``paths`` and ``extra`` (an empty list when they are valid); never writes anything.

    ``paths`` and ``extra`` mean what they mean for :func:`load` (no
    ``paths``: the shipped catalog; no plugin is consulted). Only catalog
    problems are returned; bugs still raise. It may read the parse cache
    (which never changes the result) but never adds to it.
    """
    problems, _ = _check(_sources(paths, extra), cache="read")
    return problems


# -- finding files ---------------------------------------------------------------


def _as_list(paths: Iterable[PathLike] | PathLike) -> list[PathLike]:
    if isinstance(paths, (str, os.PathLike)):  # one path, not an iterable of characters
        return [paths]
    return list(paths)


def _sources(paths: Iterable[PathLike] | PathLike | None, extra: Extra, *, base: bool = False) -> list[_Source]:
    if base:
        sources = []
    elif paths is None:
        sources = [_Source(SHIPPED, _display(SHIPPED), "catalog.yaml")]
    else:
        sources = [_Source(Path(p), _display(Path(p)), _display(Path(p))) for p in _as_list(paths)]
    for origin, path in extra:
        sources.append(_Source(Path(path), _display(Path(path)), str(origin)))
    return _unique(sources)


def _unique(sources: list[_Source]) -> list[_Source]:
    seen: set[Path] = set()
    out = []
    for source in sources:
        key = _resolved(source.path) or source.path
        if key not in seen:
            seen.add(key)
            out.append(source)
    return out


def _resolved(path: Path) -> Path | None:
    """``path`` with every symlink followed, or None when that is impossible (missing, a loop, no access)."""
    try:
        return path.resolve(strict=True)
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop on Python < 3.13
        return None


def _display(path: Path) -> str:
    """A short name for messages: relative to the working directory when the file is under it."""
    try:
        return str((_resolved(path) or path.absolute()).relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


_KINDS = (
    (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
)


def read_catalog_file(path: Path, max_bytes: int = DEFAULT_LIMITS.max_bytes) -> bytes:
    """The bytes of one catalog file, read safely; :class:`OSError` or :class:`ValueError` says why not.

    A catalog file is a regular file of at most ``max_bytes`` bytes. The
    file is opened without blocking (a FIFO would otherwise wait for a
    writer forever), its type and size are checked on the open descriptor
    before anything is read (``/dev/zero`` or a 4 GiB file is refused
    without reading it), and at most ``max_bytes + 1`` bytes are read, so a
    file that grows while it is read is refused too. A symlink loop is an
    :class:`OSError` (``ELOOP``).
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = next((what for test, what in _KINDS if test(st.st_mode)), "not a regular file")
            raise ValueError(f"{kind}, not a regular file; a catalog file is a regular YAML file")
        if st.st_size > max_bytes:
            raise ValueError(f"the file is {st.st_size} bytes; the limit is {max_bytes} (nothing was read)")
        chunks, size = [], 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:
            raise ValueError(f"the file grew past the limit of {max_bytes} bytes while it was read")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _read_problem(source: _Source) -> tuple[bytes | None, Problem | None]:
    """``(bytes, None)``, or ``(None, the problem)`` naming the file when it cannot be read as a catalog file."""
    try:
        return read_catalog_file(source.path), None
    except ValueError as e:
        return None, Problem(source.name, 0, 0, f"cannot read the file: {e}")
    except OSError as e:
        why = "a symlink loop (too many levels of symbolic links)" if e.errno == errno.ELOOP else (e.strerror or e)
        return None, Problem(source.name, 0, 0, f"cannot read the file: {why}")


# -- checking and building -------------------------------------------------------


def _check(sources: list[_Source], *, cache: _CacheUse, parsed: _Memo | None = None,
           ) -> tuple[list[Problem], list[tuple[_Source, bytes, Checked]]]:
    problems: list[Problem] = []
    files: list[tuple[_Source, bytes]] = []
    for source in sources:
        raw, problem = _read_problem(source)
        if problem is not None:
            problems.append(problem)
        elif raw is not None:
            files.append((source, raw))
    more, done = _check_bytes(files, cache=cache, parsed=parsed)
    return _in_file_order(problems + more, sources), done


def _check_bytes(
    files: list[tuple[_Source, bytes]], *, cache: _CacheUse,
    parsed: _Memo | None = None,
) -> tuple[list[Problem], list[tuple[_Source, bytes, Checked]]]:
    problems: list[Problem] = []
    done: list[tuple[_Source, bytes, Checked]] = []
    for source, raw in files:
        key = (source.name, hashlib.sha256(raw).hexdigest()) if parsed is not None else None
        checked = parsed.get(key) if parsed is not None and key is not None else None
        if not isinstance(checked, Checked):
            try:
                checked = check_document(_parse_once(raw, source.name, cache, parsed, key))
            except CatalogError as e:
                problems.extend(e.problems)
                continue
            if parsed is not None and key is not None:
                parsed[key] = checked  # a check depends on the document alone (file name included)
        problems.extend(checked.problems)
        done.append((source, raw, checked))
    problems.extend(check_pattern_ids([checked.doc for _, _, checked in done]))
    return problems, done


def _parse_once(raw: bytes, name: str, cache: _CacheUse, parsed: _Memo | None,
                key: tuple[str, str] | None = None) -> Document:
    """:func:`_parse`, through the caller's in-memory ``parsed`` (name, sha256 of ``raw``) when given."""
    if parsed is None:
        return _parse(raw, name, cache)
    key = key or (name, hashlib.sha256(raw).hexdigest())
    kept = parsed.get(key)
    if isinstance(kept, Checked):
        return kept.doc
    if not isinstance(kept, Document):
        kept = parsed[key] = _parse(raw, name, cache)  # only a parse without problems gets here
    return kept


def _parse(raw: bytes, name: str, cache: _CacheUse) -> Document:
    """``parse(raw, name)``, through the parse cache unless ``cache`` is "off"; same result either way."""
    if cache == "off":
        return parse(raw, name)
    return cached_parse(raw, name, write=cache == "read-write")


def _in_file_order(problems: list[Problem], sources: list[_Source]) -> list[Problem]:
    order = {source.name: i for i, source in enumerate(sources)}
    return sorted(problems, key=lambda p: (order.get(p.file, len(order)), p.line, p.column))


def _load_bytes(files: Sequence[tuple[str, bytes]]) -> Catalog:
    """Load in-memory files ``(name, content)``, as :func:`load_files` loads files (tests, fuzzing).

    The parse cache is not used: fuzzing exercises the parser and must not fill the cache.
    """
    sources = [(_Source(Path(name), name, name), raw) for name, raw in files]
    problems, done = _check_bytes(sources, cache="off")
    return _build(_in_file_order(problems, [s for s, _ in sources]), done, None)


def _build_once(checked: Checked, source: _Source, raw: bytes, parsed: _Memo | None) -> list[Pattern]:
    """``build_patterns(checked, source.origin)``, kept in ``parsed`` (patterns are immutable) when given."""
    if parsed is None:
        return build_patterns(checked, source.origin)
    key = (source.name, hashlib.sha256(raw).hexdigest(), source.origin)
    kept = parsed.get(key)
    if not isinstance(kept, tuple):
        kept = parsed[key] = tuple(build_patterns(checked, source.origin))
    return list(kept)


def _build(problems: list[Problem], done: list[tuple[_Source, bytes, Checked]], base: Catalog | None,
           parsed: _Memo | None = None) -> Catalog:
    if problems:
        raise CatalogError(problems)
    patterns = [p for source, raw, checked in done for p in _build_once(checked, source, raw, parsed)]
    clashes = _base_clashes(base, patterns) if base is not None else []
    if clashes:
        raise CatalogError(clashes)
    files = tuple(source.name for source, _, _ in done)
    digest = _digest((source.name, raw) for source, raw, _ in done)
    if base is None:
        return Catalog(patterns=tuple(patterns), files=files, digest=digest)
    combined = hashlib.sha256(f"{base.digest}\n{digest}".encode()).hexdigest()
    return Catalog(patterns=base.patterns + tuple(patterns), files=base.files + files, digest=combined)


def _base_clashes(base: Catalog, patterns: Sequence[Pattern]) -> list[Problem]:
    """A pattern whose id ``base`` already declares is a duplicate, reported where it is declared."""
    out = []
    for p in patterns:
        if p.id in base:
            at = p.location or Location(p.origin, 0, 0)
            first = base.get(p.id).location or "the base catalog"
            message = f"duplicate pattern id {p.id!r} (first declared at {first})"
            out.append(Problem(at.file, at.line, at.column, message, p.id, "id"))
    return out


def _digest(files: Iterable[tuple[str, bytes]]) -> str:
    """sha256 over every file's bytes, files sorted by name, each prefixed by its length."""
    h = hashlib.sha256()
    for _, raw in sorted(files):
        h.update(len(raw).to_bytes(8, "big"))
        h.update(raw)
    return h.hexdigest()
