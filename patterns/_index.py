"""A per-user index of the installed ``jaxpat`` entry points, so ``load_catalog()`` need not import
:mod:`importlib.metadata` (about a tenth of its start-up) to find the plugins.

What it stores, found by :func:`importlib.metadata.entry_points` on a miss: every entry point of group
``jaxpat`` (name, value, its distribution's name and version) and jaxpat's own version. What it is keyed by:
everything that decides that answer without importing anything -- the Python version, ``sys.path`` in order
(``""`` as the working directory), and in each folder of it the names of its ``*.dist-info`` / ``*.egg-info``
entries with the sha256 of each one's ``entry_points.txt`` (any file on ``sys.path``: its size, mtime and
inode). Installing, removing or upgrading a distribution, or editing any ``entry_points.txt``, changes the
key. The distributions it names (the plugins' and jaxpat's) have the sha256 of their ``METADATA`` (or
``PKG-INFO``) stored too and checked on every read, so an edited version is seen.

Promises, as the catalog parse cache's (``catalog/_parse_cache.py``): it never changes a result; JSON only,
nothing unpickled or evaluated; anything odd (missing, corrupt, another key, unreadable) is a miss and the
entry points are read as if there were no index; writes are atomic and best effort; at most
:data:`MAX_ENTRIES` entries are kept. It lives in ``<cache root>/entry-points`` and is off with the parse cache
(``JAXPAT_DISABLE_CATALOG_CACHE``). Only ``load_catalog()`` reads it: whatever decides which plugins a
conformance run's judge starts executors for reads the installed metadata itself (a plugin can write the
cache; docs/security.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from pathlib import Path
from typing import Any

from jaxpat import _env

__all__ = ["MAX_ENTRIES", "index_dir", "installed_entry_points"]

FORMAT = 1
#: Entries kept (one per environment that shares the cache folder; oldest written first out).
MAX_ENTRIES = 16
_MAGIC = "jaxpat-entry-point-index"
#: (name, value, distribution, version, metadata file or "") per entry point; jaxpat's (version, metadata file).
Answer = tuple[list[tuple[str, str, str, str, str]], tuple[str, str]]


def index_dir() -> Path | None:
    """Where entries are kept, or None when the catalog caches are off (read from the environment each call)."""
    try:
        if _env.flag(_env.DISABLE_CATALOG_CACHE):
            return None
        return _env.cache_root() / "entry-points"
    except _env.EnvError:
        return None


def installed_entry_points(group: str) -> Answer:
    """The entry points of ``group`` as ``importlib.metadata.entry_points(group=group)`` lists them, and
    jaxpat's installed version ("" when not installed), from the index when its key matches."""
    directory = index_dir()
    key = _key(group) if directory is not None else None
    if directory is not None and key is not None:
        found = _read(directory, key)
        if found is not None:
            return found
    answer = _scan(group)
    if directory is not None and key is not None:
        _write(directory, key, answer)
    return answer


# -- key -------------------------------------------------------------------------------


def _key(group: str) -> str | None:
    """sha256 of what decides the entry points (see the module's docstring); None when a folder cannot be read."""
    h = hashlib.sha256(f"{FORMAT}\n{group}\n{sys.version}\n{sys.prefix}\n".encode())
    try:
        for entry in sys.path:
            path = os.path.abspath(entry or os.getcwd())
            h.update(f"P {path}\n".encode())
            try:
                st = os.stat(path)
            except OSError:
                h.update(b"-\n")
                continue
            if not os.path.isdir(path):
                h.update(f"F {st.st_size} {st.st_mtime_ns} {st.st_ino}\n".encode())
                continue
            with os.scandir(path) as it:
                names = sorted(e.name for e in it if e.name.lower().endswith((".dist-info", ".egg-info")))
            for name in names:
                h.update(f"D {name} {_sha(os.path.join(path, name, 'entry_points.txt'))}\n".encode())
    except OSError:
        return None
    return h.hexdigest()


def _sha(path: str) -> str:
    """sha256 of a file's bytes; "-" when it is missing or not a file; an egg-info file: its stat."""
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        parent = os.path.dirname(path)
        if os.path.isfile(parent):  # an .egg-info file, not a folder
            st = os.stat(parent)
            return f"file {st.st_size} {st.st_mtime_ns} {st.st_ino}"
        return "-"


# -- a miss: importlib.metadata --------------------------------------------------------


def _scan(group: str) -> Answer:
    from importlib.metadata import PackageNotFoundError, distribution, entry_points

    out = []
    for ep in entry_points(group=group):
        dist = getattr(ep, "dist", None)
        name, version = (dist.name, dist.version) if dist is not None else ("", "")
        out.append((ep.name, ep.value, name or "", version or "", _metadata_file(dist)))
    try:
        own = distribution("jaxpat")
        jaxpat = (own.version or "", _metadata_file(own))
    except PackageNotFoundError:
        jaxpat = ("", "")
    return out, jaxpat


def _metadata_file(dist: Any) -> str:
    """The file a distribution's name and version are read from, when it is one on disk ("" otherwise)."""
    base = getattr(dist, "_path", None)
    if base is None:
        return ""
    for name in ("METADATA", "PKG-INFO"):
        candidate = Path(str(base)) / name
        if candidate.is_file():
            return str(candidate)
    return str(base) if Path(str(base)).is_file() else ""


# -- reading and writing ----------------------------------------------------------------


def _read(directory: Path, key: str) -> Answer | None:
    """The stored answer for ``key``, or None on a miss or anything odd (never raises)."""
    import json

    try:
        data = json.loads((directory / f"{key}.json").read_bytes())
        if type(data) is not dict or data.get("magic") != _MAGIC or data.get("format") != FORMAT:
            return None
        if data.get("key") != key:
            return None
        eps, jaxpat, shas = data["entry_points"], data["jaxpat"], data["metadata"]
        if type(eps) is not list or type(jaxpat) is not list or len(jaxpat) != 2 or type(shas) is not dict:
            return None
        rows = []
        for row in eps:
            if type(row) is not list or len(row) != 5 or not all(type(x) is str for x in row):
                return None
            rows.append((row[0], row[1], row[2], row[3], row[4]))
        if not all(type(x) is str for x in jaxpat):
            return None
        files = {r[4] for r in rows if r[4]} | ({jaxpat[1]} if jaxpat[1] else set())
        if set(shas) != files or any(shas[f] != _file_sha(f) for f in files):
            return None  # a version (or name) was edited in place
        return rows, (jaxpat[0], jaxpat[1])
    except Exception:  # a corrupt entry of any shape is a miss
        return None


def _file_sha(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "-"


def _write(directory: Path, key: str, answer: Answer) -> None:
    """Store ``answer`` under ``key`` atomically; do nothing on any problem."""
    import json
    import tempfile

    rows, jaxpat = answer
    files = {r[4] for r in rows if r[4]} | ({jaxpat[1]} if jaxpat[1] else set())
    data = {"magic": _MAGIC, "format": FORMAT, "key": key, "entry_points": [list(r) for r in rows],
            "jaxpat": list(jaxpat), "metadata": {f: _file_sha(f) for f in sorted(files)}}
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f)
            os.replace(tmp, directory / f"{key}.json")
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        entries = sorted((e.stat().st_mtime, e.path) for e in os.scandir(directory) if e.name.endswith(".json"))
        for _, path in entries[: max(0, len(entries) - MAX_ENTRIES)]:
            with contextlib.suppress(OSError):
                os.unlink(path)
    except Exception:  # best effort: an index that cannot be written is no index
        return
