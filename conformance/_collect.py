"""Collection, on the judge's side: one item per pattern × case × implementation × device × transform.

Node ids are ``jaxpat::PATTERN::CASE[PLUGIN.IMPL-PLATFORM:ID-TRANSFORM]``; the
order is the catalog's, so every xdist worker collects the same list.

This process (an xdist worker or the single pytest process) is the *judge*:
it never imports a plugin module and never imports JAX. What it knows of
the plugins comes from their executors (:mod:`._pool`, :mod:`._executor`):
each plugin's implementations and catalog files, from a process that holds
that plugin alone; the devices come from a plugin-free probe. The catalog
it judges with is its own, read from the YAML files (:func:`load_listing`).
"""

from __future__ import annotations

import fnmatch
import platform as _platform
import re
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from jaxpat._util import dist_version
from jaxpat.catalog import Catalog, Pattern

from ._setup import GUARDED_CONFIG, DeviceNaming, default_cache_dir

__all__ = ["GUARDED_CONFIG", "AgreementItem", "Device", "ErrorItem", "ImplRef", "JaxpatItem", "Listing",
           "PatternCollector", "SkipItem", "collect_items", "default_cache_dir", "environment", "load_listing",
           "pattern_collectors", "pool_of", "probe_of", "skip_reason_for_devices"]

_LISTING = pytest.StashKey[Any]()
_POOL = pytest.StashKey[Any]()
_PROBE = pytest.StashKey[dict]()
_ENV = pytest.StashKey[dict]()
_ENV_SENT = pytest.StashKey[bool]()
_PARSED = pytest.StashKey[dict]()
_PROBE_STARTED = pytest.StashKey[Any]()
_PROBE_HANDED = pytest.StashKey[bool]()
#: Environment variables (prefixes) that may differ between the controller and its local workers without
#: changing what the probe finds: pytest's and xdist's own, the terminal size a worker is given, and the
#: per-worker memory share (``_workers.worker_environment``).
PROBE_ENV_SKIP = ("PYTEST_", "XLA_PYTHON_CLIENT_", "COLUMNS", "LINES")


# ---------------------------------------------------------------------------
# what the judge knows: devices (the probe), plugins and implementations (executors), the catalog (YAML)
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Device:
    """A device as the judge knows it (from the probe): ``platform``, ``id``, ``device_kind``, ``backend``."""

    platform: str
    id: int
    device_kind: str
    backend: str  # the catalog platform: cpu, tpu, cuda, rocm (gpu if unknown)

    @classmethod
    def from_probe(cls, d: dict[str, Any]) -> Device:
        return cls(str(d["platform"]), int(d["id"]), str(d.get("kind", "")), str(d.get("backend", d["platform"])))


@dataclass(frozen=True)
class ImplRef:
    """An implementation as the judge knows it: names only; its code lives in its plugin's executor."""

    id: str
    name: str
    pattern: str
    plugin: str
    distribution: str | None = None


@dataclass(frozen=True)
class JudgeSpec(DeviceNaming):
    """What one item checks (the judge's twin of :class:`._execute.ItemSpec`, with no JAX objects)."""

    pattern: Pattern
    case: Any
    impl: ImplRef
    device: Device
    transform: str
    devices: tuple[Device, ...] = ()

    @property
    def platform(self) -> str:
        return self.device.backend

    def request(self) -> dict[str, Any]:
        """The executor request that runs this item."""
        return {"op": "case", "pattern": self.pattern.id, "case": self.case.id, "impl": self.impl.id,
                "transform": self.transform, "device": f"{self.device.platform}:{self.device.id}",
                "platform": self.device.platform, "count": len(self.devices) if self.devices else 0}


@dataclass
class Listing:
    """The run's plugins as the judge knows them; quacks like :class:`jaxpat.patterns.Registry` where items
    need it (``catalog``, ``implementations(pattern)``, ``plugins()``, ``errors``)."""

    catalog: Catalog
    impls: list[ImplRef] = field(default_factory=list)
    plugin_infos: list[dict[str, Any]] = field(default_factory=list)
    #: (item label, message): plugins that could not be loaded, validated or started
    problems: list[tuple[str, str]] = field(default_factory=list)
    #: (origin, path): the catalog files beyond the shipped one (``--catalog`` files, then plugins' files)
    files: list[tuple[str, str]] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        """Plain data (what the xdist controller sends its local workers: one listing for all of them)."""
        return {"files": [list(f) for f in self.files], "plugins": self.plugin_infos,
                "problems": [list(p) for p in self.problems],
                "impls": [[i.id, i.name, i.pattern, i.plugin, i.distribution] for i in self.impls]}

    @classmethod
    def from_data(cls, data: dict[str, Any], parsed: dict[Any, Any] | None = None) -> Listing:
        """The listing :meth:`to_data` described; the catalog is parsed here, from the same files."""
        from jaxpat.catalog import load

        files = [(str(o), str(p)) for o, p in data["files"]]
        catalog = load(extra=[(o, Path(p)) for o, p in files], use_cache=False, parsed=parsed)
        return cls(catalog, [ImplRef(*i) for i in data["impls"]], list(data["plugins"]),
                   [(str(a), str(b)) for a, b in data["problems"]], files)

    def implementations(self, pattern: str | None = None) -> list[ImplRef]:
        return [i for i in self.impls if pattern is None or i.pattern == pattern]

    def plugins(self) -> list[dict[str, Any]]:
        return list(self.plugin_infos)


def executor_args(config: pytest.Config) -> list[str]:
    """The options every executor of this run gets (extra modules and catalog files, devices, cache)."""
    args: list[str] = []
    for name in config.getoption("jaxpat_load"):
        args += ["--load", name]
    for path in config.getoption("jaxpat_catalog"):
        args += ["--catalog", str(Path(path).resolve())]
    platforms = config.getoption("jaxpat_platforms")
    if platforms:
        args += ["--platforms", platforms]
    if config.getoption("jaxpat_all_devices"):
        args.append("--all-devices")
    if not config.getoption("jaxpat_no_cache"):
        cache = Path(config.getoption("jaxpat_cache_dir") or default_cache_dir())
        try:
            cache.mkdir(parents=True, exist_ok=True)
        except OSError:
            pass  # the executors run without a persistent cache
        else:
            args += ["--cache-dir", str(cache)]
    return args


def item_limit(config: pytest.Config) -> float | None:
    """The per-item budget in seconds (``--jaxpat-timeout``; None: no limit)."""
    limit = float(config.getoption("jaxpat_timeout") or 0)
    return limit if limit > 0 else None


def pool_of(config: pytest.Config) -> Any:
    """This judge process's executors (started on first use; closed at the end of the session)."""
    if _POOL not in config.stash:
        from ._pool import Pool

        config.stash[_POOL] = Pool(base_args=executor_args(config))
    return config.stash[_POOL]


def probe_of(config: pytest.Config) -> dict[str, Any]:
    """The plugin-free probe's answer: devices, JAX versions and config of this host (once per process).

    A local xdist worker takes the answer its controller handed it (:func:`handed_probe`) when it was made in
    the same context; otherwise, and everywhere else, the probe runs here (or was started by
    :func:`start_probe`, and is read now)."""
    if _PROBE not in config.stash:
        from ._pool import finish_probe, probe

        handed = handed_probe(config)
        started = config.stash.get(_PROBE_STARTED, None)
        if handed is not None:
            config.stash[_PROBE] = handed
            config.stash[_PROBE_HANDED] = True
        elif started is not None:
            del config.stash[_PROBE_STARTED]
            config.stash[_PROBE] = finish_probe(started, 300.0)
        else:
            config.stash[_PROBE] = probe(executor_args(config), 300.0, fork=_runs_executors(config))
    return config.stash[_PROBE]


def start_probe(config: pytest.Config) -> None:
    """Start the probe now, in its own process (it imports JAX: seconds), so that it runs while this process
    does other work; :func:`probe_of` reads its answer. A probe that cannot start is left to ``probe_of``."""
    if _PROBE in config.stash or _PROBE_STARTED in config.stash:
        return
    import contextlib

    from ._pool import ExecutorFailure
    from ._pool import start_probe as start

    with contextlib.suppress(OSError, ExecutorFailure):
        config.stash[_PROBE_STARTED] = start(executor_args(config), fork=_runs_executors(config))


def _runs_executors(config: pytest.Config) -> bool:
    """Whether this process's probe is forked from its fork server (:mod:`._forkserver`): where it starts
    executors (all but an xdist controller, whose workers do), and in a controller that started a server for
    its local workers."""
    if hasattr(config, "workerinput") or getattr(config.option, "dist", "no") == "no":
        return True
    from ._forkserver import shared

    return shared(start=False) is not None


def probe_context(config: pytest.Config) -> str:
    """A digest of everything a probe's answer depends on, as this process sees it: the interpreter, the
    installed JAX, jaxlib and NumPy (their metadata: nothing imported), the executors' options, the working
    folder and the environment (all of it but :data:`PROBE_ENV_SKIP`). Two processes with the same context get
    the same answer from a probe, up to the host's devices changing in between."""
    import hashlib
    import json
    import os

    env = sorted((k, v) for k, v in os.environ.items() if not k.startswith(PROBE_ENV_SKIP))
    data = {"executable": sys.executable, "python": sys.version, "cwd": os.getcwd(),
            "versions": [dist_version(d) for d in ("jax", "jaxlib", "numpy")],
            "args": executor_args(config), "env": env}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def probe_for_worker(config: pytest.Config, *, wait: bool = False) -> dict[str, Any] | None:
    """This process's probe answer and its context (:func:`probe_context`), for a local worker; None when the
    probe has not run here (with ``wait``: nor was started here, see :func:`start_probe`) or failed."""
    if wait and _PROBE not in config.stash and _PROBE_STARTED in config.stash:
        from ._pool import ExecutorFailure

        try:
            probe_of(config)
        except (ExecutorFailure, OSError):
            return None  # each worker probes itself, and says what failed
    answer = config.stash.get(_PROBE, None)
    return {"context": probe_context(config), "answer": answer} if isinstance(answer, dict) else None


def handed_probe(config: pytest.Config) -> dict[str, Any] | None:
    """The probe answer the controller handed this worker (``workerinput["jaxpat_probe"]``), if it holds here:
    made in this worker's context (:func:`probe_context`: same interpreter, JAX, jaxlib, NumPy, options,
    environment, so a worker given its own devices probes itself) and naming the JAX and jaxlib installed here.
    None otherwise: the worker then runs the probe itself."""
    handed = getattr(config, "workerinput", {}).get("jaxpat_probe")
    if not isinstance(handed, dict) or not isinstance(handed.get("answer"), dict):
        return None
    answer = dict(handed["answer"])
    if handed.get("context") != probe_context(config):
        return None
    if answer.get("jax") != dist_version("jax") or answer.get("jaxlib") != dist_version("jaxlib"):
        return None
    if not isinstance(answer.get("devices"), list) or answer.get("fatal"):
        return None
    return answer


def parsed_catalogs(config: pytest.Config) -> dict[Any, Any]:
    """This process's in-memory catalog parses (``catalog.load(parsed=...)``): each file is parsed once here."""
    if _PARSED not in config.stash:
        config.stash[_PARSED] = {}
    return config.stash[_PARSED]


#: What a plugin's entry-point name and an implementation's name may be (ASCII: no look-alike of another name).
NAME_RULE = re.compile(r"[a-z][a-z0-9_]{0,63}")
#: ``--jaxpat-load`` takes a module name (dots allowed: the user typed it).
MODULE_RULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_SKELETON = str.maketrans({"0": "o", "1": "l", "5": "s", "_": ""})


def skeleton(name: str) -> str:
    """What ``name`` looks like: digits that read as letters (``examp1e`` looks like ``example``), ``rn`` as
    ``m``, ``vv`` as ``w``, underscores dropped."""
    return name.lower().translate(_SKELETON).replace("rn", "m").replace("vv", "w")


def safe_label(name: str) -> str:
    """``name`` as it may appear in a node id: characters outside the name rule become ``?``."""
    return re.sub(r"[^a-z0-9_.:]", "?", name)[:80] or "?"


def plugin_names(config: pytest.Config) -> tuple[list[str], list[tuple[str, str]]]:
    """The plugins of this run, from distribution metadata (nothing imported), and name problems.

    An entry-point name outside :data:`NAME_RULE` (non-ASCII, brackets, dashes...) or one that looks like an
    earlier plugin's name (:func:`skeleton`) is refused: node ids and reports name plugins, and a look-alike
    of ``reference`` would pass its failures off as the reference's.
    """
    from jaxpat.patterns._discovery import candidates
    from jaxpat.patterns._session import Session

    session = Session(strict=False)
    problems: list[tuple[str, str]] = []
    names: list[str] = []
    looks: dict[str, str] = {}
    for cand in candidates(None, (), (), session):
        name = cand.name
        if not NAME_RULE.fullmatch(name):
            problems.append((safe_label(name), f"jaxpat plugin {name!a} ({cand.origin}) was refused: a plugin "
                             f"name is ASCII lowercase letters, digits and underscores ({NAME_RULE.pattern})"))
            continue
        twin = looks.get(skeleton(name))
        if twin is not None:
            problems.append((safe_label(name), f"jaxpat plugin {name!r} ({cand.origin}) was refused: its name looks "
                             f"like the plugin {twin!r}'s"))
            continue
        looks[skeleton(name)] = name
        names.append(name)
    for m in config.getoption("jaxpat_load"):
        if m in names:
            continue
        if not MODULE_RULE.fullmatch(m):
            problems.append((safe_label(m), f"--jaxpat-load {m!a} is not a module name"))
            continue
        names.append(m)
    clashes = [(safe_label(str(getattr(e, "plugin", None) or "unknown")), str(getattr(e, "message", e)))
               for e in session.errors]  # two distributions for one name (docs/plugins.md)
    return names, clashes + problems


def load_listing(config: pytest.Config) -> Listing:
    """The catalog (shipped + plugin files, read here) and each plugin's implementations (from its executor)."""
    if _LISTING in config.stash:
        return config.stash[_LISTING]
    shared = getattr(config, "workerinput", {}).get("jaxpat_listing")
    if shared:
        # the controller listed the plugins once for its local workers: every worker collects the same items,
        # whatever a plugin that behaves differently from one process to the next does
        config.stash[_LISTING] = Listing.from_data(shared, parsed_catalogs(config))
        return config.stash[_LISTING]
    from jaxpat.catalog import CatalogError, load

    from ._setup import catalog_with_files

    names, name_problems = plugin_names(config)
    pool = pool_of(config)
    from ._reuse import listing_hellos

    parsed: dict[str, Any] = {}

    def parse() -> None:
        # the judge parses every file itself: the per-user parse cache is writable by any plugin
        # (docs/security.md); it does so while the plugins' executors start (JAX's import: seconds)
        parsed["catalog"], parsed["problems"] = catalog_with_files(
            config.getoption("jaxpat_catalog"), trust_cache=False, parsed=parsed_catalogs(config))

    # side by side: each executor loads its plugin meanwhile (stored hellos: no executor)
    hellos = listing_hellos(config, names, pool, meanwhile=parse)
    if not parsed:
        parse()
    catalog, file_problems = parsed["catalog"], parsed["problems"]
    bad = {label for label, _ in file_problems}
    base_extra = [(f"catalog:{Path(p).name}", Path(p).resolve()) for p in config.getoption("jaxpat_catalog")
                  if f"catalog:{Path(p).name}" not in bad]
    listing = Listing(catalog)
    listing.problems = file_problems + name_problems
    files: list[tuple[str, Path]] = list(base_extra)
    for name in names:
        hello = hellos[name]
        if not isinstance(hello, dict):
            listing.problems.append((name, f"plugin {name!r} could not be loaded: {hello.message}"))
            continue
        for err in hello.get("errors", []):
            label = str(err.get("plugin") or name)
            dist = err.get("distribution")
            listing.problems.append((f"{label}:{dist}" if dist and label != name else label, str(err.get("message"))))
        infos = [p for p in hello.get("plugins", []) if p.get("name") == name]
        if not infos or not any(i.get("plugin") == name for i in hello.get("implementations", [])):
            pool.retire(name)  # nothing of it can run: no process kept for it
        if not infos:
            continue
        info = infos[0]
        mine = [(name, Path(f)) for f in info.get("catalog_files", [])]
        if mine:
            try:
                catalog = load(extra=[*files, *mine], use_cache=False, parsed=parsed_catalogs(config))
            except CatalogError as exc:
                listing.problems.append((name, f"plugin {name!r}: its catalog files are invalid:\n{exc}"))
                continue
            files += mine
        listing.plugin_infos.append({"name": name, "distribution": info.get("distribution"),
                                     "version": info.get("version")})
        for i in hello.get("implementations", []):
            if i.get("plugin") != name:
                continue  # an executor speaks for its own plugin only
            if not NAME_RULE.fullmatch(str(i.get("name"))) or i.get("id") != f"{name}.{i.get('name')}":
                listing.problems.append((safe_label(name), f"plugin {name!r}: implementation name "
                                         f"{i.get('name')!a} refused (names follow {NAME_RULE.pattern})"))
                continue
            listing.impls.append(ImplRef(str(i["id"]), str(i["name"]), str(i["pattern"]), name,
                                         i.get("distribution")))
    listing.catalog = catalog
    listing.files = [(o, str(p)) for o, p in files]
    known = {p.id for p in catalog}
    listing.impls = [i for i in listing.impls if i.pattern in known]
    config.stash[_LISTING] = listing
    return listing


def select_devices(config: pytest.Config) -> tuple[list[Device], dict[str, list[str]]]:
    """The devices to test, and the requested platforms that are absent (with what exists), from the probe."""
    pr = probe_of(config)
    return [Device.from_probe(d) for d in pr["devices"]], dict(pr.get("absent", {}))


def platform_devices(config: pytest.Config, platform: str) -> list[Device]:
    """Every device of ``platform`` (for device-set items)."""
    return [Device.from_probe(d) for d in probe_of(config).get("platform_devices", {}).get(platform, [])]


def environment(config: pytest.Config) -> dict[str, Any]:
    """What this process runs on: devices, JAX config, plugins, catalog digest."""
    if _ENV not in config.stash:
        from ._hosts import host_label

        pr = probe_of(config)
        devices, _ = select_devices(config)
        env: dict[str, Any] = {
            "host": host_label(config),
            "hostname": socket.gethostname(),
            "python": _platform.python_version(),
            "executable": sys.executable,
            "os": f"{_platform.system()} {_platform.release()} ({_platform.machine()})",
            "jax": pr.get("jax"),
            "jaxlib": pr.get("jaxlib"),
            "jaxpat": dist_version("jaxpat"),
            "devices": [{"id": f"{d.platform}:{d.id}", "platform": d.platform, "kind": d.device_kind}
                        for d in devices],
            "platforms": sorted({d.platform for d in devices}),
            "default_backend": pr.get("default_backend"),
            "jax_config": dict(pr.get("jax_config", {})),
            "compilation_cache": None if config.getoption("jaxpat_no_cache")
            else str(config.getoption("jaxpat_cache_dir") or default_cache_dir()),
        }
        try:
            listing = load_listing(config)
            env["catalog_digest"] = listing.catalog.digest
            env["plugins"] = [{"name": p["name"], "distribution": p["distribution"], "version": p["version"]}
                              for p in listing.plugins()]
        except Exception as exc:  # the catalog error item reports it in full
            from jaxpat._util import first_line

            env["catalog_digest"] = None
            env["plugins"] = []
            env["registry_error"] = first_line(exc)
        env["judge"] = judge_facts(config)
        config.stash[_ENV] = env
    return config.stash[_ENV]


def judge_facts(config: pytest.Config) -> dict[str, Any]:
    """Evidence that this process stayed clean: its pid, whether JAX was imported here, the plugin modules
    loaded here (empty), the executors' pids (the processes where plugin code ran), and whether the probe's answer
    was handed by the xdist controller (:func:`handed_probe`) rather than made here."""
    import os
    from importlib.metadata import entry_points

    pool = config.stash.get(_POOL, None)
    modules = {ep.value.split(":")[0] for ep in entry_points(group="jaxpat")} | {"jaxpat.patterns.reference"}
    modules |= set(config.getoption("jaxpat_load"))
    return {
        "pid": os.getpid(),
        "jax_imported": "jax" in sys.modules,
        "plugin_modules_imported": sorted(m for m in modules if m in sys.modules),
        "executor_pids": {name: ex.proc.pid for name, ex in (pool.executors.items() if pool else [])},
        "probe_handed": config.stash.get(_PROBE_HANDED, False),  # the controller's probe, made in this context
        "fork_server": _fork_facts(),
    }


def _fork_facts() -> dict[str, Any] | None:
    """This process's fork server (:mod:`._forkserver`): its pid, and whether it is another judge's (an xdist
    worker using its controller's: ``shared``); None without one (turned off, or not started yet)."""
    from ._forkserver import shared

    server = shared(start=False)
    return None if server is None else {"pid": server.pid, "shared": server.shared}


def shared_listing(config: pytest.Config) -> dict[str, Any] | None:
    """The listing as data, made once in this process (the xdist controller) for its local workers; None when
    it cannot be made here (the workers then list the plugins themselves and report why)."""
    if _LISTING not in config.stash:
        try:
            load_listing(config)
        except Exception:
            return None
        finally:
            close(config)  # the controller runs no item: its executors only listed
    return config.stash[_LISTING].to_data()


def executor_peaks(config: pytest.Config) -> dict[str, int]:
    """The peak resident memory (bytes) each plugin's executor reported, by plugin (running or ended)."""
    pool = config.stash.get(_POOL, None)
    return dict(pool.peaks) if pool is not None else {}


def fork_server_peak() -> int | None:
    """The peak resident memory (bytes) of the fork server this process started (:mod:`._forkserver`; None if it
    started none, or where ``/proc`` cannot say): a process of the run like the executors, reported beside them."""
    from ._forkserver import shared
    from ._memory import process_peak_rss

    server = shared(start=False)
    if server is None or server.proc is None:
        return None
    return process_peak_rss(server.proc.pid)


def close(config: pytest.Config, *, probe: bool = False) -> None:
    """End this process's executors; with ``probe`` (session end), a probe started but never read too."""
    started = config.stash.get(_PROBE_STARTED, None) if probe else None
    if started is not None:
        del config.stash[_PROBE_STARTED]
        started.kill()
    pool = config.stash.get(_POOL, None)
    if pool is not None:
        pool.close()
    if probe:
        from ._forkserver import close_shared

        close_shared()


# ---------------------------------------------------------------------------
# collection
# ---------------------------------------------------------------------------

#: Makes more items under the root: ``(config, root, listing, devices) -> items`` (the claims' items).
ItemMaker = Callable[[pytest.Config, pytest.Collector, Any, list[Any]], list[pytest.Item]]


def collect_items(session: pytest.Session, extra: Sequence[ItemMaker] = (), *, announce: bool = True
                  ) -> list[pytest.Item]:
    """Every jaxpat item: setup errors, the cases' items, then what each of ``extra`` makes.

    ``extra`` is how upper modules add items (``_session`` passes
    ``_claims.claim_items`` under ``--jaxpat-claims``) without this module
    importing them: ``_claims`` builds on ``PatternCollector`` from here.
    ``announce=False`` leaves the announcement to a later :func:`announce_items`.
    """
    config = session.config
    root = JaxpatRoot.from_parent(session, name="jaxpat", nodeid="jaxpat")
    from jaxpat.catalog import CatalogError

    from ._pool import ExecutorFailure

    try:
        devices, absent = select_devices(config)
    except ExecutorFailure as exc:
        return [ErrorItem.from_parent(root, name="jax", message=f"JAX could not start: {exc.message}")]
    try:
        listing = load_listing(config)
    except CatalogError as exc:
        return [ErrorItem.from_parent(root, name="catalog", message=f"the catalog is invalid:\n{exc}")]
    items: list[pytest.Item] = []
    labels = [label for label, _ in listing.problems]
    for n, (label, message) in enumerate(listing.problems):
        # two problems for one name get an item each (node ids are unique)
        name = label if labels.count(label) == 1 else f"{label}:{n}"
        items.append(ErrorItem.from_parent(root, name=f"plugin[{name}]", message=message))
    for platform, existing in absent.items():
        reason = f"platform {platform!r} was requested but is absent; devices here: {', '.join(existing)}"
        if config.getoption("jaxpat_strict_platforms"):
            items.append(ErrorItem.from_parent(root, name=f"platform[{platform}]", message=reason))
        else:
            items.append(SkipItem.from_parent(root, name=f"platform[{platform}]", reason=reason))
    items.extend(_pattern_items(config, root, listing, devices))
    for make in extra:
        items.extend(make(config, root, listing, devices))
    if announce:
        announce_items(session, items)
    return items


def announce_items(session: pytest.Session, items: list[pytest.Item]) -> None:
    """Items made here bypass pytest's collection reports; announce them so that the terminal's count
    ("collected N items", --collect-only) includes them."""
    session.ihook.pytest_collectreport(report=pytest.CollectReport("jaxpat", "passed", None, list(items)))


def _matches(value: str, globs: list[str]) -> bool:
    return not globs or any(fnmatch.fnmatchcase(value, g) for g in globs)


def pattern_collectors(
    config: pytest.Config, root: pytest.Collector, registry: Any, *, keep: Callable[[Any], bool] = lambda p: True,
) -> Iterator[tuple[PatternCollector, Any, list[Any]]]:
    """``(collector, pattern, implementations)`` for each pattern that ``keep`` accepts and
    ``--jaxpat-pattern`` selects, with the implementations ``--jaxpat-impl`` selects (none: skipped)."""
    for pattern in registry.catalog:
        if not keep(pattern) or not _matches(pattern.id, config.getoption("jaxpat_pattern")) or not _matches(
                pattern.family, config.getoption("jaxpat_family")):
            continue
        impls = [i for i in registry.implementations(pattern.id) if _matches(i.id, config.getoption("jaxpat_impl"))]
        if not impls:
            continue
        col = PatternCollector.from_parent(root, name=pattern.id, pattern=pattern)
        # markers on the collector apply to all its items, at a fraction of per-item add_marker's cost
        col.add_marker(f"jaxpat_{pattern.family.replace('-', '_')}")
        yield col, pattern, impls


def _pattern_items(
    config: pytest.Config, root: pytest.Collector, listing: Listing, devices: list[Device],
) -> list[pytest.Item]:
    transforms = config.getoption("jaxpat_transform")
    out: list[pytest.Item] = []
    for col, pattern, impls in pattern_collectors(config, root, listing):
        for case in pattern.cases:
            if case.processes:  # runs across processes: _multiprocess.distributed_items
                continue
            for impl in impls:
                if case.devices > 1:
                    out.extend(_device_set_items(config, col, pattern, case, impl, devices, transforms))
                    continue
                for device in devices:
                    for transform in case.transforms:
                        if transforms and transform not in transforms:
                            continue
                        spec = JudgeSpec(pattern, case, impl, device, transform)
                        item = JaxpatItem.from_parent(
                            col, name=f"{case.id}[{impl.id}-{spec.device_id}-{transform}]", spec=spec,
                        )
                        _mark_deviations(config, item, spec)
                        out.append(item)
                if len(devices) > 1:
                    out.extend(_agreement_items(col, pattern, case, impl, devices, transforms))
    return out


def jax_version(config: pytest.Config) -> str:
    """The JAX version the executors run (deviations keyed on it)."""
    return str(probe_of(config).get("jax") or "")


def _mark_deviations(config: pytest.Config, item: pytest.Item, spec: JudgeSpec) -> None:
    for dev in spec.pattern.deviations:
        # `platform: cuda` / `rocm` match that kind of GPU only; `gpu` matches both
        platform = spec.platform if dev.when.platform in ("cuda", "rocm") else spec.device.platform
        if dev.matches(platform=platform, jax=jax_version(config), implementation=spec.impl.id,
                       transform=spec.transform, case=spec.case.id, device=spec.device_id):
            item.add_marker(pytest.mark.xfail(strict=True, reason=f"known deviation: {dev.reason}"))


def _device_set_items(config: pytest.Config, col: pytest.Collector, pattern: Pattern, case: Any,
                      impl: ImplRef, devices: list[Device], transforms: list[str]) -> list[pytest.Item]:
    """Items of a case that needs N > 1 devices: one per platform and transform, on the platform's first N devices.

    They run whether or not ``--all-devices`` is given (that option fans single-device
    items out); with fewer than N devices the items are skipped, saying what is needed.
    """
    need = case.devices
    out: list[pytest.Item] = []
    for platform in dict.fromkeys(d.platform for d in devices):
        have = platform_devices(config, platform)
        chosen = tuple(have[:need])
        reason = None if len(have) >= need else skip_reason_for_devices(case.id, platform, need, have)
        for transform in case.transforms:
            if transforms and transform not in transforms:
                continue
            spec = JudgeSpec(pattern, case, impl, chosen[0], transform, devices=chosen)
            item = JaxpatItem.from_parent(col, name=f"{case.id}[{impl.id}-{spec.device_id}-{transform}]", spec=spec)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))
            else:
                _mark_deviations(config, item, spec)
            out.append(item)
    return out


def skip_reason_for_devices(case_id: str, platform: str, need: int, have: Sequence[Any]) -> str:
    """Why a case needing ``need`` devices cannot run here, and how to get them."""
    listed = ", ".join(f"{d.platform}:{d.id}" for d in have) or "none"
    how = (f"simulate them with `jaxpat check --cpu-devices {need}` (pytest: --jaxpat-cpu-devices {need})"
           if platform == "cpu" else
           f"run on a host with {need} {platform} devices, and give each worker all of them "
           f"(`jaxpat check -n 0`, or `--worker-devices {need}`; see docs/devices.md)")
    return f"case {case_id!r} needs {need} {platform} devices; this process sees {len(have)} ({listed}): {how}"


def _agreement_items(col: pytest.Collector, pattern: Pattern, case: Any, impl: ImplRef,
                     devices: list[Device], transforms: list[str]) -> list[pytest.Item]:
    """One item per transform comparing every device's result with the first's (not for expected errors)."""
    from jaxpat.catalog import ExpectedError

    from ._judge import expectation

    out: list[pytest.Item] = []
    for transform in case.transforms:
        if transforms and transform not in transforms:
            continue
        specs = [JudgeSpec(pattern, case, impl, d, transform) for d in devices]
        try:
            if isinstance(expectation(case, transform), ExpectedError):
                continue
        except Exception:
            continue
        out.append(AgreementItem.from_parent(col, name=f"{case.id}[{impl.id}-devices-{transform}]", specs=specs))
    return out


def ask(item: pytest.Item, plugin: str, impl: str, request: dict[str, Any]) -> dict[str, Any]:
    """Send ``request`` to ``plugin``'s executor for ``item``; the answer, or ConformanceFailure saying what ended it.

    The plugin's captured output is printed here (pytest captures it into the item's report). The first item
    of this process also carries the environment, and every item the compile count of its request.
    """
    from ._judge import ConformanceFailure
    from ._pool import ExecutorFailure

    config = item.config
    send_environment(item)
    pool = pool_of(config)
    limit = item_limit(config)
    try:
        answer, output = pool.request(plugin, impl, request, limit)
    except ExecutorFailure as exc:
        if exc.kind == "quarantined":
            from ._judge import NotRun

            raise NotRun(exc.message) from None
        failure = ConformanceFailure(_failure_text(exc, impl))
        failure.transient = True  # type: ignore[attr-defined]  # a crash or timeout: never stored (_reuse)
        raise failure from None
    if output:
        from ._judge import printable

        sys.stdout.write(printable(output))
    if answer.get("ended"):
        failure = ConformanceFailure(
            f"the implementation raised {answer['ended']}: an implementation returns "
            "a result or raises an Exception; this one tried to end the process or the run")
        failure.transient = True  # type: ignore[attr-defined]
        raise failure
    if answer.get("broken"):
        failure = ConformanceFailure(f"the executor could not serve this item: {answer['broken']}\n"
                                     f"{answer.get('traceback', '')}")
        failure.transient = True  # type: ignore[attr-defined]
        raise failure
    if answer.get("unavailable") is not None:
        from ._judge import printable

        pytest.skip(printable(f"{impl} is unavailable in this JAX: {answer['unavailable']}"))
    return answer


def send_environment(item: pytest.Item) -> None:
    """The first item of this process carries the environment to the report (run or reused)."""
    config = item.config
    if not config.stash.get(_ENV_SENT, False):
        item.user_properties.append(("jaxpat_env", environment(config)))
        config.stash[_ENV_SENT] = True


def reuse_support() -> Any:
    """What :mod:`._reuse` needs from here (it cannot import this module: this one imports it)."""
    from ._reuse import Support

    def repro(item: pytest.Item) -> str | None:
        spec = getattr(item, "spec", None)
        return _repro(item.config, spec, item.nodeid) if spec is not None else None

    return Support(probe_of, send_environment, repro)


def _failure_text(exc: Any, impl: str) -> str:
    if exc.kind == "timeout":
        return (f"timeout: the item ran longer than {exc.limit:g} s (--jaxpat-timeout); its executor was "
                f"ended after {exc.elapsed:.1f} s and a fresh one serves the other items.\n"
                f"where it was (every thread, most recent call first):\n{exc.stack[-2500:]}")
    if exc.kind == "crashed":
        how = f"a fatal error:\n{exc.stack[-2500:]}" if exc.stack else \
            "the process ended without a Python error (os._exit, a signal, or the kernel's OOM killer)"
        return (f"crashed: {impl}'s executor died running this item ({exc.message}) -- {how}\n"
                "a fresh executor serves the other items.")
    return exc.message


class JaxpatRoot(pytest.Collector):
    """The parent of every jaxpat item; it is filled in by the plugin, not by walking files."""

    def collect(self) -> list[Any]:  # pragma: no cover - never walked
        return []


class PatternCollector(pytest.Collector):
    def __init__(self, *, pattern: Pattern, **kwargs: Any) -> None:
        loc = pattern.location
        if loc is not None and "path" not in kwargs:
            kwargs["path"] = Path(loc.file).resolve()
        super().__init__(**kwargs)
        self.pattern = pattern

    def collect(self) -> list[Any]:  # pragma: no cover - items are created directly
        return []


class JaxpatItem(pytest.Item):
    """One conformance check; its metadata travels in ``user_properties`` to the report."""

    def __init__(self, *, spec: JudgeSpec, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        impl = spec.impl
        self.user_properties.append(("jaxpat", {
            "nodeid": self.nodeid,
            "kind": "case",
            "pattern": spec.pattern.id,
            "family": spec.pattern.family,
            "case": spec.case.id,
            "implementation": impl.id,
            "plugin": impl.plugin,
            "distribution": impl.distribution or None,
            "device": spec.device_id,
            "devices": [f"{d.platform}:{d.id}" for d in spec.device_set],
            "device_kind": spec.device.device_kind,
            "platform": spec.device.platform,
            "backend": spec.platform,
            "transform": spec.transform,
        }))
        self._traceback = ""

    def runtest(self) -> None:
        from ._reuse import run_or_reuse

        run_or_reuse(self, self._runtest, reuse_support())

    def _runtest(self) -> None:
        from ._judge import ConformanceFailure, judge_case

        spec = self.spec
        facts: dict[str, Any] = {}
        try:
            answer = ask(self, spec.impl.plugin, spec.impl.id, spec.request())
            facts["compiles"] = int(answer.get("compiles", 0))
            if answer.get("released") is True:
                facts["released"] = True
            obs = answer.get("obs")
            if not isinstance(obs, dict):
                raise ConformanceFailure("the executor sent no observation for this item")
            if answer.get("damage"):
                obs = {**obs, "damage": answer["damage"]}
            judge_case(spec.pattern, spec.case, spec.transform, spec.platform,
                       [f"{d.platform}:{d.id}" for d in spec.device_set], obs, facts)
        except ConformanceFailure as exc:
            self._traceback = str(getattr(exc, "traceback", "") or "")
            facts["message"] = str(exc)
            if type(exc).__name__ == "NotRun":
                facts["not_run"] = True
            else:
                facts["repro"] = _repro(self.config, spec, self.nodeid)
            raise
        finally:
            self.user_properties.append(("jaxpat_facts", facts))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        from ._judge import ConformanceFailure

        exc = excinfo.value
        if not isinstance(exc, ConformanceFailure):
            return str(super().repr_failure(excinfo, style=style))
        spec = self.spec
        lines = [
            f"{spec.impl.id} does not conform to {spec.pattern.id} / case {spec.case.id!r} "
            f"under {spec.transform} on {spec.device_id}:",
            str(exc),
        ]
        if self._traceback and "unexpected exception" in str(exc):
            from ._judge import printable

            lines += ["", "traceback (most recent call last, last frames):",
                      *printable(self._traceback).splitlines()[-12:]]
        if spec.case.location:
            lines.append(f"case declared at {spec.case.location}")
        lines += ["", "reproduce (save as repro.py, run `python repro.py`):", _repro(self.config, spec, self.nodeid)]
        return "\n".join(lines)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        loc = self.spec.case.location
        return (self.path, (loc.line - 1) if loc else None, self.nodeid)


class AgreementItem(pytest.Item):
    """The same case on every selected device: results agree (bitwise for integers and keys)."""

    def __init__(self, *, specs: list[JudgeSpec], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.specs = specs
        first = specs[0]
        self.user_properties.append(("jaxpat", {
            "nodeid": self.nodeid, "kind": "agreement", "pattern": first.pattern.id,
            "family": first.pattern.family, "case": first.case.id, "implementation": first.impl.id,
            "plugin": first.impl.plugin, "device": ",".join(s.device_id for s in specs),
            "platform": "+".join(sorted({s.device.platform for s in specs})), "transform": first.transform,
        }))

    def runtest(self) -> None:
        from ._reuse import run_or_reuse

        run_or_reuse(self, self._runtest, reuse_support())

    def _runtest(self) -> None:
        from ._judge import ConformanceFailure, judge_agreement

        first = self.specs[0]
        try:
            request = {**first.request(), "op": "agree",
                       "devices": [f"{s.device.platform}:{s.device.id}" for s in self.specs]}
            answer = ask(self, first.impl.plugin, first.impl.id, request)
            judge_agreement(first.case, [s.platform for s in self.specs], [s.device_id for s in self.specs],
                            answer.get("obs") or {})
        except ConformanceFailure as exc:
            self.user_properties.append(("jaxpat_facts", {"message": str(exc),
                                                          **({"not_run": True} if type(exc).__name__ == "NotRun"
                                                             else {})}))
            raise

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return str(excinfo.value)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return (self.path, None, self.nodeid)


class ErrorItem(pytest.Item):
    """Reports a problem found while collecting (invalid catalog, broken plugin) as a failure."""

    def __init__(self, *, message: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message
        self.user_properties.append(("jaxpat", {"nodeid": self.nodeid, "kind": "setup", "pattern": None}))

    def runtest(self) -> None:
        from ._judge import ConformanceFailure

        self.user_properties.append(("jaxpat_facts", {"message": self.message}))
        raise ConformanceFailure(self.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return self.message

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return (self.path, None, self.nodeid)


class SkipItem(pytest.Item):
    """A requested platform that is absent: skipped, with the devices that do exist."""

    def __init__(self, *, reason: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        from jaxpat.report import printable

        self.reason = printable(reason)  # as every message shown: control characters escaped
        self.user_properties.append(("jaxpat", {"nodeid": self.nodeid, "kind": "setup", "pattern": None}))

    def runtest(self) -> None:
        pytest.skip(self.reason)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return (self.path, None, self.nodeid)


def _repro(config: pytest.Config, spec: JudgeSpec, nodeid: str) -> str:
    """The item's reproduction, with this run's extra plugin modules and catalog files."""
    from ._judge import repro_script

    cpu = len(platform_devices(config, "cpu")) if spec.device.platform == "cpu" else 0
    return repro_script(spec.pattern.id, spec.case.id, spec.impl.id, spec.transform, spec.device_id,
                        simulated_cpus=cpu if (spec.device.id > 0 or spec.devices) else 0,
                        load=config.getoption("jaxpat_load"), catalog=config.getoption("jaxpat_catalog"),
                        nodeid=nodeid)
