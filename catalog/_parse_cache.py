"""A persistent, content-addressed cache of parsed catalog files (:class:`~catalog._yaml.Document`).

Parsing the shipped catalog (about 11,700 YAML nodes, each with its line and
column) is most of what ``catalog.load()`` costs; reading the same document
back from JSON is several times cheaper. Promises:

* **It never changes a result.** An entry is found by the sha256 of the file's
  bytes, the :class:`~catalog._yaml.Limits` and a *parser version* (the cache
  format, the source bytes of ``_yaml.py`` and of this module, PyYAML's installed
  files -- its version and libyaml --, the Python version): editing the parser, even in
  an editable checkout, makes every old entry unreachable. What is read back
  is checked (format, key, a sha256 of the body, the type of every path item; the
  mark numbers are packed unsigned integers, see :func:`_pack`)
  and rebuilt into a Document equal to a fresh parse: same data (int, float,
  bool and None kept apart, ``-0.0``, ``inf`` and ``nan`` included), same
  ``marks``/``key_marks`` (tuple paths, ``(line, column)`` tuples, same order),
  same ``nodes``. Its ``file`` is always the caller's name. Anything odd
  (missing, truncated or corrupt file, other key, unreadable directory) is a
  miss: the file is parsed as if there were no cache. Callers still validate
  the Document exactly as a fresh one.
* **Only successful parses are stored**; a file with problems is parsed (and
  reports them) every time.
* **JSON only**: nothing is pickled or evaluated.
* **Writing is best effort and atomic**: a temporary file in the cache
  directory, then :func:`os.replace`; any error (read-only home, full disk, a
  value JSON cannot hold exactly) skips the write silently. Old entries are
  pruned so the directory keeps at most :data:`MAX_ENTRIES` of them.

Location: ``$JAXPAT_CACHE_DIR/catalog`` when ``JAXPAT_CACHE_DIR`` is set, else
``$XDG_CACHE_HOME/jaxpat/catalog``, else ``~/.cache/jaxpat/catalog`` (on every
platform; the XLA compilation cache of ``jaxpat check`` lives beside it, in
``.../jaxpat/xla``). ``JAXPAT_DISABLE_CATALOG_CACHE=1`` turns the cache off
(no read, no write). Both variables are parsed by :mod:`jaxpat._env`.

Importing this module imports neither :mod:`json` nor :mod:`tempfile`, and a
cache hit never imports PyYAML; they are imported on first use.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from pathlib import Path
from typing import Any

from jaxpat import _env

from . import _yaml
from ._yaml import DEFAULT_LIMITS, Document, Limits, parse

__all__ = ["CACHE_FORMAT", "ENV_CACHE_DIR", "ENV_DISABLE", "MAX_ENTRIES", "cache_dir", "cached_parse",
           "tampered"]

#: Bump when the layout of an entry changes (the source hash changes too, but say it).
CACHE_FORMAT = 2
#: The root of jaxpat's per-user caches; entries go in its ``catalog`` folder.
ENV_CACHE_DIR = "JAXPAT_CACHE_DIR"
#: Any value but ``""``, ``0``, ``false`` or ``no`` turns the catalog parse cache off.
ENV_DISABLE = "JAXPAT_DISABLE_CATALOG_CACHE"
#: Entries kept in the cache directory (oldest written first out); an entry of
#: the shipped catalog is about 320 kB.
MAX_ENTRIES = 32

_MAGIC = "jaxpat-catalog-parse-cache"
_HEX = frozenset("0123456789abcdef")
_INT = frozenset({int})
_PATH_ITEM = frozenset({str, int})
_TMP_MAX_AGE_S = 3600.0

_parser_version: str | None = None


def cache_dir() -> Path | None:
    """The directory entries are read from and written to, or None when the cache is disabled.

    Read from the environment at every call (nothing is remembered), so tests
    and callers can redirect or disable it at any time. A variable set to a
    value jaxpat does not accept (jaxpat/_env.py) disables the cache here: the
    ``jaxpat`` command has already refused it as a usage error, and a library
    caller's ``load()`` must not fail for a cache.
    """
    try:
        if _env.flag(_env.DISABLE_CATALOG_CACHE):
            return None
        return _env.cache_root() / "catalog"
    except _env.EnvError:
        return None


def cached_parse(raw: bytes, file: str, limits: Limits = DEFAULT_LIMITS, *, write: bool = True) -> Document:
    """Return ``parse(raw, file, limits)``, read from the cache when an entry exists.

    Raises :class:`~catalog.CatalogError` exactly when :func:`~catalog._yaml.parse`
    does (errors are never cached). ``write=False`` only reads: nothing is
    created, written or removed on disk. The cache itself never raises.
    """
    directory = cache_dir()
    key = _key(raw, limits) if directory is not None else None
    if directory is None or key is None:
        return parse(raw, file, limits)
    doc = _read(directory, key, file)
    if doc is not None:
        return doc
    doc = parse(raw, file, limits)
    if write:
        _write(directory, key, doc)
    return doc


def tampered(raw: bytes, file: str, limits: Limits = DEFAULT_LIMITS) -> str | None:
    """Why the cache entry for ``raw`` cannot be trusted (it differs from a fresh parse), or None.

    None also when there is no entry, no cache, or ``raw`` does not parse.
    The cache is keyed by content, so only something that rewrote an entry
    makes it differ; ``jaxpat validate`` reports it and the conformance
    run's judge never reads entries (docs/security.md).
    """
    directory = cache_dir()
    key = _key(raw, limits) if directory is not None else None
    if directory is None or key is None:
        return None
    cached = _read(directory, key, file)
    if cached is None:
        return None
    try:
        fresh = parse(raw, file, limits)
    except Exception:
        return None
    import json

    def canonical(doc: Document) -> str:
        return json.dumps(_encode(doc), sort_keys=True, separators=(",", ":"), default=str)

    if canonical(cached) == canonical(fresh):
        return None
    return (f"the parse cache entry {directory / (key + '.json')} for {file} differs from the file's content "
            "(it was rewritten outside jaxpat); delete it, or the directory, to rebuild it")


# -- key -------------------------------------------------------------------------


def _key(raw: bytes, limits: Limits) -> str | None:
    """sha256 (hex) of the parser version, the limits and the bytes; None when no version is known."""
    version = _version()
    if version is None:
        return None
    h = hashlib.sha256()
    h.update(f"{version}\n{limits.max_bytes},{limits.max_nodes},{limits.max_depth},{limits.max_scalar}\n".encode())
    h.update(hashlib.sha256(raw).digest())
    return h.hexdigest()


def _version() -> str | None:
    """What makes a parse result differ besides the input: computed once per process.

    PyYAML is not imported for it (a cache hit never needs PyYAML): its installed package stands in for
    its version and libyaml -- the bytes of ``yaml/__init__.py`` (which holds ``__version__`` and decides
    ``__with_libyaml__``) and the name and size of every file of the package (the libyaml extension
    included), so any other PyYAML gives another key."""
    global _parser_version
    if _parser_version is None:
        try:
            h = hashlib.sha256()
            for module_file in (_yaml.__file__, __file__):
                h.update(Path(module_file).read_bytes())
            pyyaml = _pyyaml_files()
        except (OSError, TypeError, AttributeError, ValueError, ImportError):  # no source to hash: no cache
            return None
        python = "{}.{}".format(*sys.version_info[:2])
        _parser_version = f"{CACHE_FORMAT}:{h.hexdigest()}:{pyyaml}:{python}"
    return _parser_version


def _pyyaml_files() -> str:
    """sha256 over PyYAML's ``__init__.py`` and the (name, size) of each file of its package, found without
    importing it; raises (no cache) when it cannot be found."""
    import importlib.util

    spec = importlib.util.find_spec("yaml")
    if spec is None or not spec.origin or not spec.submodule_search_locations:
        raise ImportError("PyYAML not found")
    h = hashlib.sha256(Path(spec.origin).read_bytes())
    for folder in spec.submodule_search_locations:
        with os.scandir(folder) as it:
            for name, size in sorted((e.name, e.stat().st_size) for e in it if e.is_file()):
                h.update(f"{name}:{size}\n".encode())
    return h.hexdigest()


# -- reading ---------------------------------------------------------------------


def _read(directory: Path, key: str, file: str) -> Document | None:
    """The cached Document for ``key`` named ``file``, or None on a miss or any problem."""
    try:
        blob = (directory / f"{key}.json").read_bytes()
    except (OSError, ValueError):
        return None
    try:
        return _decode(blob, key, file)
    except Exception:  # a corrupt entry of any shape is a miss, never an error
        return None


def _decode(blob: bytes, key: str, file: str) -> Document | None:
    """Rebuild a Document from an entry; None (or an exception) when the entry is not valid."""
    import json

    newline = blob.find(b"\n")
    if newline < 0:
        return None
    header = json.loads(blob[:newline])
    body = blob[newline + 1:]
    if (
        type(header) is not dict
        or header.get("magic") != _MAGIC
        or header.get("format") != CACHE_FORMAT
        or header.get("key") != key
        or header.get("sha256") != hashlib.sha256(body).hexdigest()
    ):
        return None
    entry = json.loads(body)
    if type(entry) is not dict:
        return None
    nodes, root, items = entry["nodes"], entry["root"], entry["items"]
    # the numbers are packed (see _pack): unsigned integers by construction, no per-element type to check
    parents, lines, columns, key_indices, key_lines, key_columns = map(entry.__getitem__, _PACKED)
    parents, lines, columns, key_indices, key_lines, key_columns = map(
        _unpack, (parents, lines, columns, key_indices, key_lines, key_columns))
    if type(nodes) is not int or not (root is None or (type(root) is list and set(map(type, root)) <= _INT)):
        return None
    if type(items) is not list or not set(map(type, items)) <= _PATH_ITEM:
        return None
    if (
        len(items) != len(parents)
        or len(lines) != len(columns)
        or len(lines) != len(parents)
        or len(key_lines) != len(key_indices)
        or len(key_columns) != len(key_indices)
        or (root is not None and len(root) != 2)
        or (key_indices and (min(key_indices) < 1 or max(key_indices) > len(parents)))
    ):
        return None
    # paths[0] is the root; paths[i] (i >= 1) is the i-th non-root mark, whose parent comes before it (checked
    # here: an entry that breaks it is a miss). Only the paths of at most _NEAR items are built now.
    near_paths: list[tuple[str | int, ...] | None] = [(), *([None] * len(parents))]
    near: dict[tuple[str | int, ...], tuple[int, int]] = {} if root is None else {(): (root[0], root[1])}
    for i, (parent, item, line, column) in enumerate(zip(parents, items, lines, columns, strict=True), 1):
        if parent >= i:
            return None
        base = near_paths[parent]
        if base is not None and len(base) < _NEAR:
            path = near_paths[i] = (*base, item)
            near[path] = (line, column)
    return _CachedDocument(file, entry["data"], nodes, near,
                           (root, parents, items, lines, columns, key_indices, key_lines, key_columns))


#: :meth:`_CachedDocument.locate` answers for paths of at most this many items without rebuilding every mark:
#: a pattern's ``("patterns", i)`` and a case's ``("patterns", i, "cases", j)``, what building the model asks.
_NEAR = 4


class _CachedDocument(Document):
    """A :class:`Document` read from the cache, equal to a fresh parse's (:func:`_decode`'s promises).

    Its ``marks`` and ``key_marks`` are rebuilt from the entry's lists on first use (the shipped catalog has
    about 17,000 marks and 10,000 key marks: building them was a third of reading the entry, and loading a
    valid catalog never reads them). Until then :meth:`locate` of a path of at most :data:`_NEAR` items answers
    from the marks of such paths, kept by the read: the same answer as from every mark, since each prefix of
    such a path has at most that many items too. Anything else (a problem's position, a key's) rebuilds them.
    """

    def __init__(self, file: str, data: Any, nodes: int, near: dict[tuple[str | int, ...], tuple[int, int]],
                 lists: tuple[Any, ...]) -> None:
        # not Document's __init__: marks and key_marks are properties here
        self.file = file
        self.data = data
        self.nodes = nodes
        self._near = near
        self._lists: tuple[Any, ...] | None = lists
        self._marks: dict[tuple[str | int, ...], tuple[int, int]] = {}
        self._key_marks: dict[tuple[str | int, ...], tuple[int, int]] = {}

    def _rebuild(self) -> None:
        """Build ``marks`` and ``key_marks`` from the entry's lists (checked by the read: this cannot fail)."""
        if self._lists is None:
            return
        root, parents, items, lines, columns, key_indices, key_lines, key_columns = self._lists
        paths: list[tuple[str | int, ...]] = [()]
        append = paths.append
        for parent, item in zip(parents, items, strict=True):
            append(paths[parent] + (item,))
        if root is not None:
            lines, columns = [root[0], *lines], [root[1], *columns]
            self._marks = dict(zip(paths, zip(lines, columns, strict=True), strict=True))
        else:
            self._marks = dict(zip(paths[1:], zip(lines, columns, strict=True), strict=True))
        self._key_marks = dict(
            zip(map(paths.__getitem__, key_indices), zip(key_lines, key_columns, strict=True), strict=True)
        )
        self._lists = None

    @property  # a field of Document, rebuilt on first use here
    def marks(self) -> dict[tuple[str | int, ...], tuple[int, int]]:
        self._rebuild()
        return self._marks

    @marks.setter
    def marks(self, value: dict[tuple[str | int, ...], tuple[int, int]]) -> None:
        self._rebuild()
        self._marks = value

    @property
    def key_marks(self) -> dict[tuple[str | int, ...], tuple[int, int]]:
        self._rebuild()
        return self._key_marks

    @key_marks.setter
    def key_marks(self, value: dict[tuple[str | int, ...], tuple[int, int]]) -> None:
        self._rebuild()
        self._key_marks = value

    def locate(self, path: tuple[str | int, ...], *, key: bool = False) -> tuple[int, int]:
        if self._lists is None or key or len(path) > _NEAR:
            return super().locate(path, key=key)
        for n in range(len(path), -1, -1):
            mark = self._near.get(path[:n])
            if mark is not None:
                return mark
        return (1, 1)

    def __eq__(self, other: object) -> bool:
        # Document's (dataclass) __eq__ compares instances of one class only; a cached document equals a fresh
        # one with the same fields, either way round (Python tries this method for ``fresh == cached`` too)
        if not isinstance(other, Document):
            return NotImplemented
        return (self.file, self.data, self.marks, self.key_marks, self.nodes) == (
            other.file, other.data, other.marks, other.key_marks, other.nodes)

    __hash__ = None  # type: ignore[assignment]  # mutable, as Document


#: The entry's packed number lists (see :func:`_pack`).
_PACKED = ("parents", "lines", "columns", "key_indices", "key_lines", "key_columns")


def _typecode(width: int) -> str:
    """The :mod:`array` type code of unsigned integers ``width`` bytes wide."""
    from array import array

    return next(code for code in "BHILQ" if array(code).itemsize == width)


def _pack(numbers: list[int]) -> str:
    """``"W:BASE64"``: ``numbers`` (non-negative, below 2**32) as little-endian unsigned integers of the smallest
    width W (1, 2 or 4 bytes) that holds them all, base64-encoded. Reading them back is one C call, where a JSON
    list of tens of thousands of numbers is parsed number by number. ValueError for a number out of range."""
    import binascii
    from array import array

    top = max(numbers, default=0)
    if min(numbers, default=0) < 0 or top >= 1 << 32:
        raise ValueError("a mark number out of range")
    width = 1 if top < 1 << 8 else 2 if top < 1 << 16 else 4
    packed = array(_typecode(width), numbers)
    if sys.byteorder == "big":  # pragma: no cover - entries are little-endian everywhere
        packed.byteswap()
    return f"{width}:" + binascii.b2a_base64(packed.tobytes(), newline=False).decode("ascii")


def _unpack(text: Any) -> Any:
    """The integers :func:`_pack` wrote (an :class:`array.array`); ValueError (a miss) for anything else."""
    import binascii
    from array import array

    if type(text) is not str or text[1:2] != ":" or text[:1] not in ("1", "2", "4"):
        raise ValueError("not a packed number list")
    width = int(text[0])
    raw = binascii.a2b_base64(text[2:])
    if len(raw) % width:
        raise ValueError("a truncated packed number list")
    numbers = array(_typecode(width))
    numbers.frombytes(raw)
    if sys.byteorder == "big":  # pragma: no cover
        numbers.byteswap()
    return numbers


# -- writing ---------------------------------------------------------------------


def _encode(doc: Document) -> dict[str, Any] | None:
    """The JSON-ready entry for ``doc``, or None when its marks do not form a tree (never for a valid parse).

    Each non-root mark is stored as (index of its parent path, last path item,
    line, column), in ``doc.marks`` order, so that paths are not repeated; the
    numbers are packed (:func:`_pack`), the path items are a JSON list.
    ValueError for a mark number a packed list cannot hold (no entry is written).
    """
    index: dict[tuple[str | int, ...], int] = {(): 0}
    root = None
    parents: list[int] = []
    items: list[str | int] = []
    lines: list[int] = []
    columns: list[int] = []
    for path, (line, column) in doc.marks.items():
        if not path:
            if lines:  # the root is recorded first or not at all
                return None
            root = [line, column]
            continue
        parent = index.get(path[:-1])
        if parent is None:
            return None
        parents.append(parent)
        items.append(path[-1])
        lines.append(line)
        columns.append(column)
        index[path] = len(parents)
    key_indices: list[int] = []
    for path in doc.key_marks:
        at = index.get(path, 0)
        if at == 0:
            return None
        key_indices.append(at)
    return {
        "nodes": doc.nodes,
        "root": root,
        "items": items,
        "parents": _pack(parents),
        "lines": _pack(lines),
        "columns": _pack(columns),
        "key_indices": _pack(key_indices),
        "key_lines": _pack([line for line, _ in doc.key_marks.values()]),
        "key_columns": _pack([column for _, column in doc.key_marks.values()]),
        "data": doc.data,
    }


def _write(directory: Path, key: str, doc: Document) -> None:
    """Store ``doc`` under ``key`` atomically; do nothing on any problem."""
    try:
        _store(directory, key, doc)
    except Exception:  # best effort: a cache that cannot be written is no cache
        return
    try:
        _prune(directory)
    except Exception:
        return


def _store(directory: Path, key: str, doc: Document) -> None:
    import json
    import tempfile

    entry = _encode(doc)
    if entry is None:
        return
    # ValueError for a value JSON cannot hold (an int past sys.get_int_max_str_digits()).
    body = json.dumps(entry, separators=(",", ":")).encode("ascii")
    header = {"magic": _MAGIC, "format": CACHE_FORMAT, "key": key, "sha256": hashlib.sha256(body).hexdigest()}
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(json.dumps(header).encode("ascii") + b"\n" + body)
        os.replace(tmp, directory / f"{key}.json")
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _prune(directory: Path) -> None:
    """Keep the :data:`MAX_ENTRIES` newest entries; drop temporary files an interrupted write left."""
    import time

    entries: list[tuple[float, str]] = []
    now = time.time()
    with os.scandir(directory) as it:
        for e in it:
            name = e.name
            try:
                if name.startswith(".tmp-") and name.endswith(".part"):
                    if now - e.stat().st_mtime > _TMP_MAX_AGE_S:
                        os.unlink(e.path)
                elif len(name) == 69 and name.endswith(".json") and set(name[:64]) <= _HEX:
                    entries.append((e.stat().st_mtime, e.path))
            except OSError:
                continue
    entries.sort()
    for _, path in entries[: max(0, len(entries) - MAX_ENTRIES)]:
        try:
            os.unlink(path)
        except OSError:
            continue
