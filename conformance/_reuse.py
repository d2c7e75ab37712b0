"""Reuse of unchanged results: a store of verdicts keyed on everything that decides them (judge side).

An item's *key* is a sha256 over everything its verdict depends on:

- the case as the judge parsed it (arguments, expectations, transforms, config, devices, shards, its
  effective tolerance) and the pattern's fields that shape the call (id, signature, ``vmap`` axes); for a
  claim item the whole pattern (its claims and cases);
- the known deviations that apply to the item (its ``xfail`` markers);
- the implementation's id and its plugin's code: the distribution's name, version and the sha256 of its
  files, read from disk by this process (:func:`plugin_digest`; nothing of the plugin is imported, nothing
  an executor says is trusted); an editable install's source tree; a ``--load`` module's file or package;
- jaxpat's own version and the sha256 of its source (the executor, the judge and the reference plugin);
- JAX, jaxlib, NumPy and Python as the plugin-free probe found them, the JAX config it read, the device
  kind(s), the run's options that change what runs (platforms, devices, timeout, ``--load``,
  ``--catalog``) and the ``JAX_*``/``XLA_*`` environment.

A result is stored only when it is a verdict: passed, failed on the judge's comparison, or skipped as
unavailable. Crashes, timeouts, items not run, and claims whose figures are timings are never stored (they
run again). The store is JSON files, one per key, under ``results/`` in jaxpat's cache folder
(``$JAXPAT_CACHE_DIR``); each is written to a temporary file and renamed, so concurrent xdist workers never
see half an entry. An entry that cannot be read, is not JSON, fails its checksum or its shape, or names
another key is ignored (and counted): its item runs.

The store is a user file: a plugin running as the user can write it (docs/security.md). ``--fresh``
(``JAXPAT_FRESH=1``) ignores it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

__all__ = ["FORMAT", "Store", "Support", "all_stored", "listing_hellos", "plugin_digest", "plugin_digests",
           "run_or_reuse", "store_of", "tree_digest"]

#: The store's layout and entry format; a new format starts a new folder (old entries are never read).
FORMAT = 1
#: Entries above this size are not jaxpat's (a result with its observation is a few kB).
MAX_ENTRY_BYTES = 4 * 1024 * 1024
#: An editable source tree is hashed in full only below these bounds; above them its items are not reused.
MAX_TREE_FILES, MAX_TREE_BYTES = 20_000, 512 * 1024 * 1024
#: Folders never hashed in a source tree (caches, environments, VCS data).
SKIP_DIRS = frozenset({"__pycache__", "node_modules", "build", "dist", "venv", "site-packages"})
#: Outcomes an entry may record: what ``runtest`` did.
OUTCOMES = ("passed", "failed", "skipped")
#: Claim kinds whose figures are timings: never stored.
TIMED_CLAIMS = frozenset({"speedup"})
#: Environment variables that change what JAX computes (prefixes) or what a result records; not those that
#: share memory and devices out among xdist workers (``_workers.worker_environment``: a worker and a single
#: process compute the same results; the device kind is in every key).
ENV_PREFIXES = ("JAX_", "XLA_")
ENV_SKIP = ("XLA_PYTHON_CLIENT_",)
ENV_NAMES = ("JAXPAT_DISABLE_OBSERVATIONS", "JAXPAT_DEVICES")
#: ``JAXPAT_*`` variables that cannot change what a plugin registers (every other one is in a hello's key).
HELLO_ENV_SKIP = ("JAXPAT_CACHE_DIR", "JAXPAT_HISTORY_DIR", "JAXPAT_LABEL", "JAXPAT_FRESH",
                  "JAXPAT_DISABLE_CATALOG_CACHE")

_STORE = pytest.StashKey[Any]()
_IGNORED = pytest.StashKey[bool]()
_KEY = pytest.StashKey[Any]()


def _sha(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


# ---------------------------------------------------------------------------
# code digests, read from disk (nothing imported)
# ---------------------------------------------------------------------------

def tree_digest(roots: Iterable[Path]) -> str | None:
    """sha256 over every file under ``roots`` (relative path and bytes), skipping hidden folders, byte-code and
    :data:`SKIP_DIRS`; a root may be one file. None when a file cannot be read or the tree exceeds
    :data:`MAX_TREE_FILES` / :data:`MAX_TREE_BYTES` (its items are then not reused)."""
    h = hashlib.sha256()
    count = size = 0
    for root in roots:
        root = Path(root)
        h.update(f"\0root\0{root.name}\0".encode())  # content decides, not where the tree lies
        if root.is_file():
            files = [(root.name, root)]
        elif root.is_dir():
            files = []
            for here, dirs, names in os.walk(root):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS
                                 and not d.endswith(".egg-info"))
                for n in sorted(names):
                    if n.endswith((".pyc", ".pyo")) or n.startswith("."):
                        continue
                    p = Path(here) / n
                    files.append((str(p.relative_to(root)), p))
        else:
            h.update(b"\0missing\0")
            continue
        for rel, p in files:
            count += 1
            try:
                data = p.read_bytes()
            except OSError:
                return None
            size += len(data)
            if count > MAX_TREE_FILES or size > MAX_TREE_BYTES:
                return None
            h.update(f"\0{rel}\0{len(data)}\0".encode())
            h.update(hashlib.sha256(data).digest())
    return h.hexdigest()


def _module_roots(module: str) -> list[Path] | None:
    """Where the top-level package of ``module`` lives (its folders, or its one file), found without importing
    it (``importlib.util.find_spec`` of a top-level name runs no code of the module); None if not found."""
    import importlib.util

    top = module.split(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return [Path(p) for p in spec.submodule_search_locations]
    return [Path(spec.origin)] if spec.origin and os.path.isfile(spec.origin) else None


def _distribution_digest(name: str) -> str | None:
    """sha256 over an installed distribution: name, version, the bytes of every file its RECORD lists, and, for
    an editable install, the source tree its ``direct_url.json`` points to. None when it is not installed."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution(name)
    except PackageNotFoundError:
        return None
    h = hashlib.sha256(f"{dist.metadata['Name']}\0{dist.version}\0".encode())
    for f in sorted(dist.files or [], key=str):
        if f.suffix in (".pyc", ".pyo"):
            continue
        try:
            data = Path(str(dist.locate_file(f))).read_bytes()
        except OSError:
            data = b"\0unreadable"
        h.update(f"\0{f}\0".encode())
        h.update(hashlib.sha256(data).digest())
    try:
        direct = json.loads(dist.read_text("direct_url.json") or "null")
    except ValueError:
        direct = None
    if isinstance(direct, dict) and (direct.get("dir_info") or {}).get("editable"):
        url = str(direct.get("url", ""))
        if not url.startswith("file://"):
            return None
        from urllib.parse import unquote, urlparse

        tree = tree_digest([Path(unquote(urlparse(url).path))])
        if tree is None:
            return None
        h.update(f"\0editable\0{tree}".encode())
    return h.hexdigest()


@functools.cache
def jaxpat_digest() -> str | None:
    """sha256 over jaxpat's source: its five packages (executor, judge, catalog, reference plugin, report)."""
    import importlib.util

    roots: list[Path] = []
    for pkg in ("jaxpat", "jaxpat.catalog", "jaxpat.patterns", "jaxpat.conformance", "jaxpat.report"):
        spec = importlib.util.find_spec(pkg)  # parents are jaxpat's own packages, imported here already
        if spec is None or not spec.submodule_search_locations:
            return None
        roots += [Path(p) for p in spec.submodule_search_locations]
    return tree_digest(roots)


def plugin_digest(module: str, distribution: str | None) -> str | None:
    """The digest of a plugin's code: its distribution's (:func:`_distribution_digest`) and the files of the
    top-level package its entry module belongs to; None when neither can be found (its items are not reused).
    The reference plugin is part of jaxpat: its code is in :func:`jaxpat_digest`."""
    parts: list[str] = []
    if distribution:
        d = _distribution_digest(distribution)
        if d is None:
            return None
        parts.append(d)
    roots = _module_roots(module)
    tree = tree_digest(roots) if roots else None
    if tree is None:
        return None
    parts.append(tree)
    return hashlib.sha256("\0".join([module, *parts]).encode()).hexdigest()


# ---------------------------------------------------------------------------
# the store
# ---------------------------------------------------------------------------

def _checksum(entry: Mapping[str, Any]) -> str:
    return _sha({k: v for k, v in entry.items() if k != "sha256"})


class Store:
    """Entries under ``root/v{FORMAT}/KEY[:2]/KEY.json``; counts what it ignored and wrote."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root) / f"v{FORMAT}"
        self.ignored = 0  # entries present but corrupt, hostile or of another key
        self.written = 0
        self.write_errors = 0

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str, valid: Callable[[bytes, str], dict[str, Any] | None] | None = None
            ) -> dict[str, Any] | None:
        """The entry stored for ``key``, or None (absent, or ignored because it is not a valid entry of it:
        ``valid``, by default :func:`_valid`, says)."""
        path = self.path(key)
        try:
            with open(path, "rb") as f:
                raw = f.read(MAX_ENTRY_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError:
            self.ignored += 1
            return None
        entry = (valid or _valid)(raw, key)
        if entry is None:
            self.ignored += 1
        return entry

    def put(self, key: str, entry: dict[str, Any]) -> None:
        """Store ``entry`` under ``key`` atomically (a temporary file renamed over the entry); errors are
        counted, never raised: a run does not fail because its results cannot be kept."""
        entry = {**entry, "format": FORMAT, "key": key}
        entry["sha256"] = _checksum(entry)
        path = self.path(key)
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(entry, f, sort_keys=True, separators=(",", ":"))
            os.replace(tmp, path)
            tmp = None
            self.written += 1
        except (OSError, TypeError, ValueError):
            self.write_errors += 1
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


def _whole(raw: bytes, key: str) -> dict[str, Any] | None:
    """``raw`` as an entry of ``key`` whatever it holds, or None: too big, not UTF-8 JSON, not an object, wrong
    format, key or checksum."""
    if len(raw) > MAX_ENTRY_BYTES:
        return None
    try:
        entry = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != key:
        return None
    if entry.get("sha256") != _checksum(entry):
        return None
    return entry


def _valid_hello(raw: bytes, key: str) -> dict[str, Any] | None:
    """``raw`` as a stored hello (what a plugin's executor said it holds) of ``key``, or None; also None when a
    catalog file the hello names is gone or no longer has the content it had when the hello was stored (a hello
    names files by absolute path: another environment's, or an edited one, must not be read in its place)."""
    entry = _whole(raw, key)
    if entry is None or not isinstance(entry.get("hello"), dict) or entry["hello"].get("errors"):
        return None
    hello = entry["hello"]
    if not isinstance(hello.get("plugins"), list) or not isinstance(hello.get("implementations"), list):
        return None
    files = entry.get("files")
    named = _catalog_files(hello)
    if not isinstance(files, dict) or named is None or set(files) != set(named):
        return None
    if any(not isinstance(d, str) or _file_digest(Path(f)) != d for f, d in files.items()):
        return None
    return entry


def _under(file: str, bases: Sequence[str]) -> bool:
    """Whether ``file`` lies under one of ``bases``. A hello stored in another environment (a venv elsewhere, a
    moved or copied folder on PYTHONPATH) names that environment's files: not this run's plugin's, even when they
    still exist with the same bytes."""
    path = os.path.realpath(file)
    return any(path.startswith(os.path.join(os.path.realpath(b), "")) for b in bases if b)


def _catalog_files(hello: Mapping[str, Any]) -> list[str] | None:
    """The catalog files a hello's plugins name (absolute paths), or None when the hello is not of that shape."""
    out: list[str] = []
    for plugin in hello.get("plugins") or ():
        files = plugin.get("catalog_files") if isinstance(plugin, dict) else None
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            return None
        out.extend(files)
    return out


def _valid(raw: bytes, key: str) -> dict[str, Any] | None:
    """``raw`` as a result entry of ``key``, or None: too big, not UTF-8 JSON, wrong shape, wrong key or checksum."""
    entry = _whole(raw, key)
    if entry is None:
        return None
    if entry.get("outcome") not in OUTCOMES or not isinstance(entry.get("facts"), dict):
        return None
    for name in ("message", "traceback", "run", "date"):
        if not isinstance(entry.get(name), str):
            return None
    if entry["outcome"] != "passed" and not entry["message"]:
        return None
    return entry


# ---------------------------------------------------------------------------
# keys
# ---------------------------------------------------------------------------

class Keys:
    """What every key of this judge process shares, computed once: jaxpat, the probe, options, environment;
    and each plugin's code digest (on first use)."""

    def __init__(self, config: pytest.Config, probe: Mapping[str, Any]) -> None:
        from jaxpat._util import dist_version

        opt = config.getoption
        self.config = config
        self.base = _sha({
            "format": FORMAT,
            "jaxpat": dist_version("jaxpat"),
            "jaxpat_source": jaxpat_digest(),
            "probe": {k: probe.get(k) for k in ("jax", "jaxlib", "numpy", "python", "default_backend",
                                                "jax_config", "protocol")},
            "judge": {"python": sys.version, "numpy": dist_version("numpy")},
            "options": {"platforms": opt("jaxpat_platforms"), "all_devices": opt("jaxpat_all_devices"),
                        "cpu_devices": opt("jaxpat_cpu_devices"), "worker_devices": opt("jaxpat_worker_devices"),
                        "timeout": opt("jaxpat_timeout"), "load": list(opt("jaxpat_load")),
                        "catalog": [Path(p).name for p in opt("jaxpat_catalog")]},  # contents: in each case
            "env": {k: v for k, v in sorted(os.environ.items())
                    if (k.startswith(ENV_PREFIXES) and not k.startswith(ENV_SKIP)) or k in ENV_NAMES},
        })
        self.known = probe.get("jax") is not None

    def plugin(self, name: str) -> str | None:
        """The code digest of plugin ``name`` (:func:`plugin_digests`)."""
        return plugin_digests(self.config).get(name)

    def item(self, item: pytest.Item) -> str | None:
        """The key of ``item`` (a case, agreement or claim item), or None when it cannot be reused."""
        if not self.known:
            return None
        # by shape, not class: _collect and _claims import this module (conformance has no import cycle)
        xfails = sorted(str(m.kwargs.get("reason", m.args)) for m in item.iter_markers("xfail"))
        spec, specs_of, claim = getattr(item, "spec", None), getattr(item, "specs", None), getattr(item, "claim", None)
        if spec is not None:
            specs = [spec]
            what: dict[str, Any] = {"kind": "case", "case": case_data(spec.pattern, spec.case)}
        elif specs_of:
            specs = list(specs_of)
            what = {"kind": "agreement", "case": case_data(specs[0].pattern, specs[0].case)}
        elif all(hasattr(item, a) for a in ("pattern", "case", "impl", "transform")) and claim is None:
            # a case run across processes (_multiprocess.DistributedItem): only a pass is ever stored
            item_d: Any = item
            what = {"kind": "distributed", "case": case_data(item_d.pattern, item_d.case),
                    "processes": item_d.case.processes, "transform": item_d.transform}
            return self._key(item_d.impl.id, item_d.impl.plugin, xfails, what)
        elif isinstance(claim, str) and hasattr(item, "siblings"):
            item_: Any = item
            if claim in TIMED_CLAIMS:
                return None
            plugins = sorted({s.plugin for s in item_.siblings})
            codes = {p: self.plugin(p) for p in plugins}
            if any(c is None for c in codes.values()):
                return None
            claims = item_.pattern.claims.for_implementation(item_.impl.id, item_.impl.name)
            what = {"kind": "claim", "claim": claim, "claims": _sha(claims.to_dict()),
                    "pattern": _sha([item_.pattern.to_dict(), [tolerance_data(c.tolerance)
                                                               for c in item_.pattern.cases]]),
                    "siblings": sorted(s.id for s in item_.siblings), "sibling_code": codes,
                    "device": _device(item_.device)}
            return self._key(item_.impl.id, item_.impl.plugin, xfails, what)
        else:
            return None
        first = specs[0]
        what.update(transform=first.transform,
                    devices=[[_device(d) for d in s.device_set] for s in specs])
        return self._key(first.impl.id, first.impl.plugin, xfails, what)

    def _key(self, impl: str, plugin: str, xfails: list[str], what: dict[str, Any]) -> str | None:
        code = self.plugin(plugin)
        if code is None:
            return None
        return _sha({"base": self.base, "impl": impl, "plugin": plugin, "code": code, "xfail": xfails, **what})


_DIGESTS = pytest.StashKey[dict]()
_MODULES = pytest.StashKey[dict]()


def plugin_digests(config: pytest.Config) -> dict[str, str | None]:
    """Each plugin's code digest, found by this process from distribution metadata and files (once per process);
    the reference plugin's is jaxpat's (in every key already)."""
    if _DIGESTS not in config.stash:
        from jaxpat.patterns._discovery import REFERENCE_MODULE, candidates
        from jaxpat.patterns._session import Session

        where: dict[str, tuple[str, str | None]] = {
            c.name: (c.module, c.distribution) for c in candidates(None, (), (), Session(strict=False))}
        for m in config.getoption("jaxpat_load"):
            where.setdefault(m, (m, None))
        config.stash[_DIGESTS] = {n: jaxpat_digest() if module == REFERENCE_MODULE else
                                  plugin_digest(module, dist or None) for n, (module, dist) in where.items()}
        config.stash[_MODULES] = {n: module for n, (module, _) in where.items()}
    return config.stash[_DIGESTS]


def _plugin_bases(config: pytest.Config, name: str) -> list[str]:
    """The folders plugin ``name``'s files may lie in, as this environment finds it now: the import-path entry
    its top-level package is found under, and ``sys.prefix`` (files a distribution installs)."""
    plugin_digests(config)
    module = config.stash[_MODULES].get(name)
    roots = _module_roots(module) if module else None
    return [str(r.parent) for r in roots or ()] + [sys.prefix]


def _hello_key(config: pytest.Config, name: str) -> str | None:
    """The key of plugin ``name``'s hello: its code, jaxpat's, the installed JAX/jaxlib/NumPy (their metadata:
    the controller of an xdist run starts no JAX), Python, the options and environment that reach executors."""
    from jaxpat._util import dist_version

    code = plugin_digests(config).get(name)
    if code is None:
        return None
    opt = config.getoption
    return _sha({"format": FORMAT, "hello": name, "code": code, "jaxpat": jaxpat_digest(),
                 "versions": [dist_version(d) for d in ("jaxpat", "jax", "jaxlib", "numpy")], "python": sys.version,
                 "options": {"load": list(opt("jaxpat_load")), "platforms": opt("jaxpat_platforms"),
                             "all_devices": opt("jaxpat_all_devices"), "cpu_devices": opt("jaxpat_cpu_devices"),
                             "catalog": [_file_digest(Path(p)) for p in opt("jaxpat_catalog")]},
                 "env": {k: v for k, v in sorted(os.environ.items())
                         if (k.startswith((*ENV_PREFIXES, "JAXPAT_")) and not k.startswith(ENV_SKIP)
                             and k not in HELLO_ENV_SKIP)}})


def _file_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def listing_hellos(config: pytest.Config, names: list[str], pool: Any,
                   meanwhile: Callable[[], None] | None = None) -> dict[str, Any]:
    """Each plugin's hello for the listing: the stored one where its key matches (no executor is started for
    it: an executor starts when an item of its plugin runs), else from its executor (:meth:`Pool.start_all`),
    stored when it reports no error. ``meanwhile`` runs once the executors needed are started, before their
    hellos are read (they import JAX and load their plugins in the meantime)."""
    reuse = store_of(config)
    if reuse is None:
        pool.spawn(names)
        if meanwhile is not None:
            meanwhile()
        return dict(pool.start_all(names))
    out: dict[str, Any] = {}
    keys: dict[str, str | None] = {}
    for name in names:
        try:
            keys[name] = _hello_key(config, name)
        except Exception:
            keys[name] = None
        k = keys[name]
        entry = reuse.store.get(k, _valid_hello) if k else None
        if entry is not None:
            bases = _plugin_bases(config, name)  # found once per plugin, not once per file
            if all(_under(f, bases) for f in entry["files"]):
                out[name] = entry["hello"]
    rest = [n for n in names if n not in out]
    if rest:
        pool.spawn(rest)
    if meanwhile is not None:
        meanwhile()
    if rest:
        fresh = pool.start_all(rest)
        for name in rest:
            hello, k = fresh[name], keys[name]
            named = _catalog_files(hello) if isinstance(hello, dict) else None
            if k and isinstance(hello, dict) and not hello.get("errors") and named is not None:
                files = {f: _file_digest(Path(f)) for f in named}
                if all(files.values()):
                    reuse.store.put(k, {"hello": hello, "files": files, "run": reuse.run, "date": reuse.date})
        out.update(fresh)
    return out


def _device(d: Any) -> list[Any]:
    return [d.platform, d.id, d.device_kind, d.backend]


def tolerance_data(tol: Any) -> Any:
    """A tolerance as plain data (its table and per-platform overrides)."""
    return {"table": {k: list(v) for k, v in sorted(tol.table.items())},
            "platforms": {p: {k: list(v) for k, v in sorted(t.items())} for p, t in sorted(tol.platforms.items())}}


def case_data(pattern: Any, case: Any) -> str:
    """The digest of a case as it decides a verdict: the case, its effective tolerance, and the pattern's
    fields that shape the call (not its other cases, not its text)."""
    return _sha({"pattern": pattern.id, "family": pattern.family,
                 "signature": [list(pattern.signature.args), list(pattern.signature.static)],
                 "vmap": dict(pattern.vmap_axes), "case": case.to_dict(),
                 "tolerance": tolerance_data(case.tolerance)})


# ---------------------------------------------------------------------------
# running or reusing an item
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Support:
    """What reuse needs of the collecting module (``_collect.reuse_support()``), passed in: that module imports
    this one. ``probe(config)``: the plugin-free probe's answer; ``send_environment(item)``: attach the run's
    environment to the first item; ``repro(item)``: a failing item's reproduction, or None."""

    probe: Callable[[pytest.Config], Mapping[str, Any]]
    send_environment: Callable[[pytest.Item], None]
    repro: Callable[[pytest.Item], str | None]


class Reuse:
    """This judge process's store, keys and run id (None from :func:`store_of` when reuse is off)."""

    def __init__(self, config: pytest.Config, root: Path) -> None:
        self.store = Store(root)
        self.keys: Keys | None = None
        self.config = config
        workerinput = getattr(config, "workerinput", {})
        self.run = str(workerinput.get("testrunuid") or uuid.uuid4().hex)
        self.date = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        #: entries :func:`all_stored` read and checked, by key: each replayed once without reading it again
        self.read_ahead: dict[str, dict[str, Any]] = {}

    def key(self, item: pytest.Item, support: Support) -> str | None:
        """The key of ``item`` (made once per item), or None when it cannot be reused."""
        if _KEY in item.stash:
            return item.stash[_KEY]
        if self.keys is None:
            self.keys = Keys(self.config, support.probe(self.config))
        try:
            key = self.keys.item(item)
        except Exception:  # a key that cannot be made: the item runs
            key = None
        item.stash[_KEY] = key
        return key


def all_stored(config: pytest.Config, items: Iterable[pytest.Item], support: Support,
               exempt: Callable[[pytest.Item], bool]) -> bool:
    """Whether every one of ``items`` would be replayed from the store: each has a key and a valid entry under it
    (read and checked as :func:`run_or_reuse` reads it, and kept for it), except those ``exempt`` names (the
    caller's: a setup error or a skip, which start no executor; a speed claim, never stored). False at the
    first other item that would run, and whenever reuse is off. Deciding where items go (no xdist workers when
    nothing runs) is all it is for: each item's verdict is still its own run's or replay's
    (:func:`run_or_reuse`)."""
    reuse = store_of(config)
    if reuse is None:
        return False
    for item in items:
        if exempt(item):
            continue
        key = reuse.key(item, support)
        if key is None:
            return False
        if key not in reuse.read_ahead:
            entry = reuse.store.get(key)
            if entry is None:
                return False
            reuse.read_ahead[key] = entry
    return True


def store_root(config: pytest.Config) -> Path:
    """The store's folder: ``results`` in jaxpat's cache folder."""
    from jaxpat._util import cache_root

    return cache_root() / "results"


def store_of(config: pytest.Config) -> Reuse | None:
    """This process's store, or None when reuse is off (``--jaxpat-reuse`` not given, ``JAXPAT_FRESH``)."""
    if _STORE not in config.stash:
        from jaxpat import _env

        on = bool(config.getoption("jaxpat_reuse", False)) and not _env.flag(_env.FRESH)
        config.stash[_STORE] = Reuse(config, store_root(config)) if on else None
    return config.stash[_STORE]


def _timed(facts: Any) -> bool:
    """Whether a claim's facts hold a timing (a key naming seconds or time, at any depth)."""
    if isinstance(facts, dict):
        return any(("second" in str(k) or "time" in str(k)) or _timed(v) for k, v in facts.items())
    if isinstance(facts, list):
        return any(_timed(v) for v in facts)
    return False


def _facts(item: pytest.Item) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in item.user_properties:
        if name == "jaxpat_facts" and isinstance(value, dict):
            out.update(value)
    return out


def run_or_reuse(item: pytest.Item, run: Callable[[], None], support: Support) -> None:
    """Run ``item`` (``run()``), or replay its stored result when its key is in the store; store what a run
    decided (see the module's docstring for what is never stored)."""
    from ._judge import ConformanceFailure

    reuse = store_of(item.config)
    key = reuse.key(item, support) if reuse is not None else None
    if reuse is None or key is None:
        return run()
    before = reuse.store.ignored
    entry = reuse.read_ahead.pop(key, None) or reuse.store.get(key)
    if entry is not None:
        return _replay(item, entry, support)
    if reuse.store.ignored > before:
        item.stash[_IGNORED] = True  # its entry was corrupt or not jaxpat's: recorded with its result
    outcome, message = "passed", ""
    try:
        run()
    except ConformanceFailure as exc:
        outcome, message = "failed", str(exc)
        if type(exc).__name__ == "NotRun" or getattr(exc, "transient", False):
            raise
        _keep(reuse, key, item, outcome, message)
        raise
    except pytest.skip.Exception as exc:
        if getattr(item, "spec", None) is not None or getattr(item, "claim", None) is not None:
            _keep(reuse, key, item, "skipped", str(exc.msg))  # not a multi-process case's: its skips may pass
        raise
    _keep(reuse, key, item, outcome, message)
    return None


def _keep(reuse: Reuse, key: str, item: pytest.Item, outcome: str, message: str) -> None:
    facts = _facts(item)
    if item.stash.get(_IGNORED, False):
        for name, value in reversed(item.user_properties):
            if name == "jaxpat_facts" and isinstance(value, dict):
                value["reuse_ignored"] = True
                break
    if facts.get("not_run") or (facts.get("claims") and _timed(facts["claims"])):
        return
    if outcome != "passed" and not message:
        return
    facts.pop("compiles", None)  # a count of this run's compilations: a replay compiles nothing
    facts.pop("released", None)  # nor releases anything
    facts.pop("repro", None)
    reuse.store.put(key, {"outcome": outcome, "message": message, "facts": facts, "nodeid": item.nodeid,
                          "traceback": str(getattr(item, "_traceback", "") or ""),
                          "run": reuse.run, "date": reuse.date})


def _replay(item: pytest.Item, entry: dict[str, Any], support: Support) -> None:
    """Give ``item`` the stored result: its facts (marked ``reused``), then pass, skip or fail as stored."""
    from ._judge import ConformanceFailure

    support.send_environment(item)
    reused = {"run": entry["run"], "date": entry["date"]}
    facts = {**entry["facts"], "reused": reused}
    if isinstance(facts.get("claims"), list):
        facts["claims"] = [{**c, "reused": reused} if isinstance(c, dict) else c for c in facts["claims"]]
    repro = support.repro(item) if entry["outcome"] == "failed" else None
    if repro:
        facts["repro"] = repro
    item.user_properties.append(("jaxpat_facts", facts))
    if entry["outcome"] == "skipped":
        pytest.skip(entry["message"])
    if entry["outcome"] == "failed":
        if hasattr(item, "_traceback"):
            item._traceback = entry["traceback"]
        raise ConformanceFailure(entry["message"])


def summary_line(results: Iterable[Mapping[str, Any]], config: pytest.Config) -> str | None:
    """The terminal's line on reuse: ``reused: 1790 of 1830 results (1788 passed, 2 failed) ...``; None when
    reuse is off and nothing was reused."""
    from collections import Counter

    results = list(results)
    reused = Counter(str(r.get("outcome")) for r in results if r.get("reused"))
    if not reused and not config.getoption("jaxpat_reuse", False):
        return None
    n = sum(reused.values())
    ignored = sum(1 for r in results if r.get("reuse_ignored"))
    note = (f"; {ignored} stored entr{'ies' if ignored != 1 else 'y'} ignored (corrupt or not jaxpat's): "
            "those items ran") if ignored else ""
    if not n:
        return (f"reused: none of {len(results)} results (nothing stored matched; the store is "
                f"{store_root(config)}){note}")
    parts = ", ".join(f"{c} {o}" for o, c in reused.most_common())
    return (f"reused: {n} of {len(results)} results ({parts}) from earlier runs, unchanged since "
            f"(`jaxpat check --fresh` runs every item){note}")
