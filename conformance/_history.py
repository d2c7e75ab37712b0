"""``jaxpat history``: the catalog's patterns on every JAX release, and the release where each behaviour changed.

The engine (docs/history.md explains the choices):

- **Releases** come from the package index (``pip index versions jax`` and
  ``jaxlib`` under each candidate Python, so each release's Requires-Python
  and wheel tags decide), filtered to a range (default: jaxpat's own
  ``jax`` requirement); the answer is cached (:func:`list_releases`).
- **Environments**: one virtual environment per release under a cache folder
  (``$JAXPAT_HISTORY_DIR``, else ``~/.cache/jaxpat/history``), built with
  ``uv`` when it is installed and ``pip`` otherwise, kept and reused while
  what it should hold is unchanged (:class:`EnvironmentBuilder`). jaxpat is
  installed from where this one came from (an editable checkout stays
  editable), and so is every installed jaxpat plugin that came from a local
  path. A release whose environment cannot be built is ``uninstallable``,
  with the installer's reason -- not a failure.
- **Runs**: one ``jaxpat check --label jax-X --report OUT/jax-X.json`` per
  release (the public command line only), ``--jobs`` at a time
  (:func:`run_releases`); the reports are then read back and compared, each
  release with the previous one that ran (:func:`build_history`, on
  :func:`jaxpat.report.drift`).
- **Bisect** (:func:`bisect`): run two releases, then only the patterns whose
  items differ on the releases between them, halving each item's interval
  until every change has its first release.
- **The catalog against history** (:func:`check_catalog`): each deviation keyed
  on a JAX version is confirmed or contradicted by the outcomes of the items
  it names.

A *runner* -- ``runner(release, patterns) -> ReleaseRun`` -- is the one seam
between the engine and the machine: :class:`CheckRunner` builds environments
and runs ``jaxpat check``; tests inject a function returning canned reports.

Nothing here imports JAX: the environments do.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import itertools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jaxpat.report import Change, Report, ReportError, drift, load_report, summarize

__all__ = [
    "FORMAT",
    "VERSION",
    "BisectResult",
    "CheckRunner",
    "DeviationCheck",
    "EnvironmentBuilder",
    "History",
    "HistoryError",
    "Interpreter",
    "ReleaseRun",
    "bisect",
    "build_history",
    "check_catalog",
    "choose_pythons",
    "find_interpreters",
    "history_dir",
    "in_range",
    "list_releases",
    "load_history",
    "run_releases",
    "spread_order",
    "supported_range",
    "version_key",
]

FORMAT = "jaxpat-history"
VERSION = 1
#: Change kinds that are not a change of behaviour: XLA compilation counts depend on the compilation cache.
IGNORED_CHANGES = frozenset({"compiles"})
#: Outcomes that show a deviation's behaviour (the item does not do what the case or claim says).
PRESENT = frozenset({"failed", "xfailed"})
#: Outcomes that show its absence.
ABSENT = frozenset({"passed", "xpassed"})
#: What a history keeps of each item, for matching deviations (``when:`` keys).
ITEM_FIELDS = ("kind", "implementation", "transform", "case", "claim", "platform", "device")
#: Longest change text kept in a history file (messages can be pages long; the reports keep them whole).
TEXT_LIMIT = 1500
#: How long a cached release list is used without asking the index again.
RELEASES_TTL = 24 * 3600.0


class HistoryError(Exception):
    """A history that cannot be made or read (no Python, no release list, a damaged history file)."""


# ---------------------------------------------------------------------------
# versions
# ---------------------------------------------------------------------------

def version_key(version: str) -> tuple[int, ...]:
    """``"0.12.0.1"`` → ``(0, 12, 0, 1)``: release order (non-digits in a part are ignored)."""
    out = []
    for part in version.strip().split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits or 0))
    while len(out) > 1 and out[-1] == 0:
        out.pop()
    return tuple(out)


_CLAUSE = re.compile(r"^\s*(<=|>=|==|!=|<|>)?\s*([0-9][0-9.]*)\s*$")


def in_range(version: str, spec: str) -> bool:
    """True when ``version`` satisfies ``spec`` (comma-separated ``<``, ``<=``, ``>``, ``>=``, ``==``, ``!=``).

    :raises ValueError: a clause that is not an operator and a version.
    """
    have = version_key(version)
    for clause in spec.split(","):
        if not clause.strip():
            continue
        m = _CLAUSE.match(clause)
        if m is None:
            raise ValueError(f"not a version range clause: {clause.strip()!r} (e.g. '>=0.8,<0.10')")
        op, want = m.group(1) or "==", version_key(m.group(2))
        n = max(len(have), len(want))
        a, b = have + (0,) * (n - len(have)), want + (0,) * (n - len(want))
        if not {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]:
            return False
    return True


def sorted_versions(versions: Iterable[str]) -> list[str]:
    """Distinct versions in release order."""
    return sorted(set(versions), key=version_key)


def supported_range() -> str:
    """The ``jax`` range jaxpat supports: its distribution's ``jax`` requirement (``>=0.6,<0.13``)."""
    from importlib import metadata

    try:
        requires = metadata.requires("jaxpat") or []
    except metadata.PackageNotFoundError:
        requires = []
    for req in requires:
        m = re.match(r"^\s*jax\s*(?:\[[^\]]*\])?\s*([<>=!~][^;]*)", req)
        if m:  # lower bounds first, as people write them: >=0.6,<0.13
            clauses = [c.strip() for c in m.group(1).split(",") if c.strip()]
            return ",".join(sorted(clauses, key=lambda c: not c.startswith(">")))
    return ">=0.6,<0.13"


def history_dir() -> Path:
    """Where environments and the release list are kept: ``$JAXPAT_HISTORY_DIR``, else ``~/.cache/jaxpat/history``."""
    from jaxpat._env import HISTORY_DIR

    chosen = HISTORY_DIR.read()
    return Path(chosen) if chosen else Path.home() / ".cache" / "jaxpat" / "history"


# ---------------------------------------------------------------------------
# Pythons and releases
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Interpreter:
    """A Python that can host an environment: ``label`` like ``3.12``, the full ``version``, and its executable."""

    label: str
    version: str
    path: str


#: Pythons looked for on PATH (as ``pythonX.Y``) when ``--python`` is not given.
CANDIDATE_PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")

Exec = Callable[..., "subprocess.CompletedProcess[str]"]


def _run(cmd: Sequence[str], *, timeout: float = 600, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, check=False, **kw)


def find_interpreters(asked: Sequence[str] = (), *, execute: Exec = _run) -> list[Interpreter]:
    """The Pythons to build environments with: ``asked`` (``3.12`` or a path), else every ``pythonX.Y`` on PATH.

    Each is started once to learn its real executable and version (a pyenv
    shim that selects nothing is left out).

    :raises HistoryError: an asked Python that cannot be found or started.
    """
    probe = "import sys; print(sys.executable); print('%d.%d.%d' % sys.version_info[:3])"
    out: list[Interpreter] = []
    for name in asked or CANDIDATE_PYTHONS:
        exe = name if os.sep in name else shutil.which(name if name.startswith("python") else f"python{name}")
        failure = "not found on PATH"
        if exe:
            try:
                done = execute([exe, "-c", probe], timeout=60)
            except (OSError, subprocess.SubprocessError) as exc:
                done, failure = None, str(exc)
            if done is not None and done.returncode == 0 and len(done.stdout.split()) >= 2:
                real, version = done.stdout.split()[:2]
                label = ".".join(version.split(".")[:2])
                if all(i.path != real for i in out):
                    out.append(Interpreter(label, version, real))
                continue
            if done is not None:
                failure = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        if asked:
            raise HistoryError(f"--python {name}: cannot start it ({failure})")
    if not out:
        raise HistoryError("no Python found: none of " + ", ".join(f"python{v}" for v in CANDIDATE_PYTHONS)
                           + " runs here; name one with --python")
    return sorted(out, key=lambda i: version_key(i.version))


def _index_versions(python: Interpreter, package: str, execute: Exec) -> list[str]:
    """The versions of ``package`` with a wheel for ``python`` on this platform (``pip index versions``)."""
    cmd = [python.path, "-m", "pip", "index", "versions", package, "--only-binary", ":all:",
           "--disable-pip-version-check"]
    done = execute(cmd, timeout=300)
    found = re.search(r"^Available versions:\s*(.*)$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or not found:
        why = (done.stderr.strip().splitlines() or done.stdout.strip().splitlines() or [f"exit {done.returncode}"])
        raise HistoryError(f"cannot list {package} releases with {python.path} -m pip index versions: {why[-1]}")
    return [v.strip() for v in found.group(1).split(",") if v.strip()]


def list_releases(pythons: Sequence[Interpreter], *, cache: Path | None = None, refresh: bool = False,
                  execute: Exec = _run, clock: Callable[[], float] = time.time,
                  note: Callable[[str], None] = lambda s: None) -> dict[str, list[str]]:
    """Every jax release the index offers, with the Pythons (labels) that can install it (jax and jaxlib wheels).

    The answer is cached in ``cache`` (a JSON file) for a day; ``refresh``
    asks the index again. When the index cannot be reached, a cached answer
    of any age is used (``note`` says so).

    :raises HistoryError: the index cannot be asked and nothing is cached.
    """
    labels = sorted({p.label for p in pythons}, key=version_key)
    cached: dict[str, Any] | None = None
    if cache is not None and cache.is_file():
        try:
            cached = json.loads(cache.read_text(encoding="utf-8"))
            if not isinstance(cached, dict) or not isinstance(cached.get("by_python"), dict):
                cached = None
        except (OSError, ValueError):
            cached = None
    if cached and not refresh and all(lb in cached["by_python"] for lb in labels) \
            and clock() - float(cached.get("time", 0)) < RELEASES_TTL:
        by_python = {lb: list(cached["by_python"][lb]) for lb in labels}
    else:
        try:
            firsts = list({py.label: py for py in reversed(pythons)}.values())  # one Python per label
            asks = [(py, pkg) for py in firsts for pkg in ("jax", "jaxlib")]
            with concurrent.futures.ThreadPoolExecutor(max_workers=min(8, len(asks) or 1)) as pool:
                answers = list(pool.map(lambda a: set(_index_versions(a[0], a[1], execute)), asks))
            by_python = {py.label: sorted_versions(answers[2 * i] & answers[2 * i + 1]) for i, py in enumerate(firsts)}
        except (HistoryError, OSError, subprocess.SubprocessError) as exc:
            if cached and all(lb in cached["by_python"] for lb in labels):
                note(f"{exc}; using the release list cached on {cached.get('created', '?')}")
                by_python = {lb: list(cached["by_python"][lb]) for lb in labels}
            else:
                raise HistoryError(f"{exc} (and no cached release list); name releases with --releases") from exc
        else:
            if cache is not None:
                cache.parent.mkdir(parents=True, exist_ok=True)
                stored = {"created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "time": clock(), "by_python": by_python}
                cache.write_text(json.dumps(stored, indent=1) + "\n", encoding="utf-8")
    out: dict[str, list[str]] = {}
    for label in labels:
        for v in by_python.get(label, []):
            out.setdefault(v, []).append(label)
    return {v: out[v] for v in sorted_versions(out)}


def choose_pythons(releases: Sequence[str], offered: Mapping[str, Sequence[str]],
                   pythons: Sequence[Interpreter]) -> dict[str, Interpreter]:
    """One Python per release: the same one for as many releases as possible.

    The Python that can install the most of ``releases`` (the oldest on a tie)
    takes every release it can install, so that a change between two
    releases is not a change of Python; each remaining release takes the
    oldest Python that can install it. A release no Python offers takes the
    newest Python (its installer then says why it cannot be installed).
    """
    by_label = {p.label: p for p in sorted(pythons, key=lambda p: version_key(p.version))}
    if not by_label:
        raise HistoryError("no Python to build environments with")
    counts = Counter(lb for r in releases for lb in offered.get(r, ()) if lb in by_label)
    main = max(by_label, key=lambda lb: (counts.get(lb, 0), [-x for x in version_key(lb)]))
    out: dict[str, Interpreter] = {}
    for r in releases:
        can = [lb for lb in by_label if lb in offered.get(r, ())]
        if main in can:
            out[r] = by_label[main]
        elif can:
            out[r] = by_label[can[0]]
        else:
            out[r] = by_label[list(by_label)[-1]]
    return out


# ---------------------------------------------------------------------------
# what one release's run gives
# ---------------------------------------------------------------------------

@dataclass
class ReleaseRun:
    """One release's run: ``status`` ``ran``, ``uninstallable`` or ``error``, and its report when it ran.

    ``reason`` says why a release did not run (the installer's or jaxpat
    check's last lines); ``exit`` is ``jaxpat check``'s exit status;
    ``report_path`` where its report lies.
    """

    release: str
    status: str
    python: str | None = None
    report: Report | None = None
    report_path: str | None = None
    reason: str | None = None
    exit: int | None = None
    seconds: float = 0.0
    patterns: tuple[str, ...] = ()
    updated_by: tuple[str, ...] = ()

    def brief(self) -> dict[str, Any]:
        out: dict[str, Any] = {"version": self.release, "status": self.status, "python": self.python}
        if self.report is not None:
            env = self.report.environment
            out["jax"], out["jaxlib"] = env.jax, env.jaxlib
            out["summary"] = {k: v for k, v in self.report.summary.items() if k != "claims" and v}
        if self.exit is not None:
            out["exit"] = self.exit
        if self.report_path:
            out["report"] = Path(self.report_path).name  # in the run's output folder (meta `reports`)
        if self.updated_by:
            out["updated_by"] = list(self.updated_by)
        if self.reason:
            out["reason"] = self.reason
        out["seconds"] = round(self.seconds, 1)
        return out


Runner = Callable[[str, Sequence[str]], ReleaseRun]
Progress = Callable[[str], None]


def _tail(text: str, lines: int = 12, limit: int = 2000) -> str:
    """The last meaningful lines of a command's output (ANSI colours and blank lines removed)."""
    clean = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)
    kept = [ln.rstrip() for ln in clean.splitlines() if ln.strip()]
    out = "\n".join(kept[-lines:])
    return out[-limit:]


# ---------------------------------------------------------------------------
# environments
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Requirement:
    """What to install: ``spec`` (a path, or ``name==version``) and whether it is an editable install."""

    spec: str
    editable: bool = False

    def args(self) -> list[str]:
        return ["-e", self.spec] if self.editable else [self.spec]


def _origin(dist: Any) -> Requirement:
    """How to install this distribution again: from its local path (editable if it was), else name==version."""
    name, version = dist.metadata["Name"], dist.version
    try:
        raw = dist.read_text("direct_url.json")
        info = json.loads(raw) if raw else {}
    except (OSError, ValueError):
        info = {}
    url = info.get("url", "") if isinstance(info, dict) else ""
    if url.startswith("file://"):
        from urllib.parse import unquote, urlparse

        path = unquote(urlparse(url).path)
        editable = bool((info.get("dir_info") or {}).get("editable"))
        if os.path.exists(path):
            return Requirement(path, editable)
    return Requirement(f"{name}=={version}")


def local_requirements() -> tuple[Requirement, list[Requirement]]:
    """jaxpat and the installed jaxpat plugins (distributions with a ``jaxpat`` entry point), as installed here."""
    from importlib import metadata

    # A checkout can hold a stale ``jaxpat.egg-info`` (a wheel built in place) that shadows the installed
    # distribution when the checkout is on sys.path: the one pip recorded (direct_url.json) is what runs here.
    found = list(metadata.distributions(name="jaxpat"))
    recorded = [d for d in found if d.read_text("direct_url.json")]
    jaxpat = _origin((recorded or found or [metadata.distribution("jaxpat")])[0])
    plugins: dict[str, Requirement] = {}
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name == "jaxpat" or name in plugins:
            continue
        if any(ep.group == "jaxpat" for ep in dist.entry_points):
            plugins[name] = _origin(dist)
    return jaxpat, [plugins[k] for k in sorted(plugins)]


def _fingerprint(req: Requirement) -> str:
    """What makes an installed requirement stale: a local project's pyproject/setup files, else its spec."""
    h = hashlib.sha256(json.dumps(dataclasses.asdict(req)).encode())
    path = Path(req.spec)
    if path.is_dir():
        for name in ("pyproject.toml", "setup.py", "setup.cfg"):
            if (path / name).is_file():
                h.update(name.encode() + (path / name).read_bytes())
    elif path.is_file():
        st = path.stat()
        h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


class EnvironmentBuilder:
    """Builds (or reuses) one virtual environment per release under ``root``; thread-safe per release.

    ``installer`` is ``uv`` or ``pip`` (default: ``uv`` when it is on PATH).
    An environment is reused when its ``jaxpat-history.json`` marker says it
    holds exactly what it should (release, Python, and the fingerprints of
    jaxpat and the plugins); otherwise it is rebuilt from scratch.
    """

    MARKER = "jaxpat-history.json"

    def __init__(self, root: Path, jaxpat: Requirement, plugins: Sequence[Requirement] = (), *,
                 installer: str | None = None, execute: Exec = _run) -> None:
        self.root = root
        self.jaxpat = jaxpat
        self.plugins = list(plugins)
        self.installer = installer or ("uv" if shutil.which("uv") else "pip")
        self.execute = execute

    def path(self, release: str, python: Interpreter) -> Path:
        return self.root / f"jax-{release}-py{python.label}"

    def wanted(self, release: str, python: Interpreter) -> dict[str, Any]:
        return {"release": release, "python": python.path, "python_version": python.version,
                "installer": self.installer, "jaxpat": _fingerprint(self.jaxpat),
                "plugins": [_fingerprint(p) for p in self.plugins]}

    def ensure(self, release: str, python: Interpreter) -> tuple[Path | None, str | None, bool]:
        """``(environment, None, reused)`` when ready; ``(None, the installer's reason, False)`` when not."""
        env = self.path(release, python)
        marker = env / self.MARKER
        wanted = self.wanted(release, python)
        try:
            if json.loads(marker.read_text(encoding="utf-8")) == wanted and (env / "bin" / "jaxpat").exists():
                return env, None, True
        except (OSError, ValueError):
            pass
        if env.exists():
            shutil.rmtree(env)
        env.parent.mkdir(parents=True, exist_ok=True)
        py = str(env / "bin" / "python")
        pins = [f"jax=={release}", f"jaxlib=={release}"]
        if self.installer == "uv":
            steps = [["uv", "venv", "--quiet", "--python", python.path, str(env)],
                     ["uv", "pip", "install", "--python", py, *pins, *self.jaxpat.args()]]
            steps += [["uv", "pip", "install", "--python", py, *p.args()] for p in self.plugins]
        else:
            steps = [[python.path, "-m", "venv", str(env)],
                     [py, "-m", "pip", "install", "--disable-pip-version-check", "-q", *pins, *self.jaxpat.args()]]
            # one by one after jaxpat: pip cannot resolve a plugin's `jaxpat` requirement against an editable
            # install in the same command
            steps += [[py, "-m", "pip", "install", "--disable-pip-version-check", "-q", *p.args()]
                      for p in self.plugins]
        for cmd in steps:
            try:
                done = self.execute(cmd, timeout=1800)
            except (OSError, subprocess.SubprocessError) as exc:
                shutil.rmtree(env, ignore_errors=True)
                return None, f"{' '.join(cmd[:3])}: {exc}", False
            if done.returncode != 0:
                shutil.rmtree(env, ignore_errors=True)
                why = _tail(done.stderr or done.stdout) or f"exit {done.returncode}"
                return None, f"{cmd[0]} {cmd[1]} {cmd[2] if len(cmd) > 2 else ''}".rstrip() + f" failed:\n{why}", False
        marker.write_text(json.dumps(wanted, indent=1) + "\n", encoding="utf-8")
        return env, None, False


class CheckRunner:
    """The real runner: builds the release's environment, then runs ``jaxpat check`` there.

    Reports go to ``out/jax-X.json`` and each run's output to
    ``out/logs/jax-X.log``. ``check_args`` are passed to every ``jaxpat
    check`` (``-n``, ``--cpu-devices``, ``--no-claims`` ...).
    """

    def __init__(self, builder: EnvironmentBuilder, pythons: Mapping[str, Interpreter], out: Path,
                 check_args: Sequence[str] = (), *, execute: Exec = _run, progress: Progress = lambda s: None,
                 clock: Callable[[], float] = time.monotonic, resume: bool = False) -> None:
        self.resume = resume
        self.builder = builder
        self.pythons = dict(pythons)
        self.out = out
        self.check_args = list(check_args)
        self.execute = execute
        self.progress = progress
        self.clock = clock
        self._count: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, release: str, patterns: Sequence[str]) -> ReleaseRun:
        start = self.clock()
        python = self.pythons.get(release)
        if python is None:
            raise HistoryError(f"no Python chosen for jax {release}")
        if self.resume:
            kept = self._kept(release, patterns, python)
            if kept is not None:
                return kept
        self.progress(f"jax {release}: environment (python {python.version}, {self.builder.installer})")
        env, reason, reused = self.builder.ensure(release, python)
        if env is None:
            self.progress(f"jax {release}: uninstallable")
            return ReleaseRun(release, "uninstallable", python.version, reason=reason,
                              seconds=self.clock() - start, patterns=tuple(patterns))
        with self._lock:
            self._count[release] += 1
            n = self._count[release]
        name = f"jax-{release}" if n == 1 else f"jax-{release}.{n}"
        report = self.out / f"{name}.json"
        # The check writes beside the kept report and replaces it only once it has finished: a run that is
        # stopped or fails leaves an earlier finished report (and its sidecar, for --resume) as they were.
        running = self.out / f"{name}.running.json"
        log = self.out / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        running.unlink(missing_ok=True)  # a stopped run's leftovers must not stand in for this one's
        cmd = [str(env / "bin" / "jaxpat"), "check", "--label", f"jax-{release}", "--report", str(running)]
        cmd += [x for p in patterns for x in ("--pattern", p)] + self.check_args
        self.progress(f"jax {release}: {'reusing' if reused else 'built'} {env}; running jaxpat check"
                      + (f" on {len(patterns)} pattern{'s' if len(patterns) != 1 else ''}" if patterns else ""))
        environ = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
        try:
            done = self.execute(cmd, timeout=None, cwd=str(self.out), env=environ)
        except (OSError, subprocess.SubprocessError) as exc:
            return ReleaseRun(release, "error", python.version, reason=str(exc), seconds=self.clock() - start,
                              patterns=tuple(patterns))
        log.write_text(f"$ {' '.join(cmd)}\n{done.stdout}\n{done.stderr}", encoding="utf-8")
        seconds = self.clock() - start
        if done.returncode not in (0, 1) or not running.is_file():
            why = _tail(done.stderr or done.stdout) or "no report written"
            self.progress(f"jax {release}: jaxpat check exited {done.returncode} (log: {log})")
            return ReleaseRun(release, "error", python.version, reason=f"jaxpat check exited {done.returncode}:\n{why}",
                              exit=done.returncode, seconds=seconds, patterns=tuple(patterns))
        try:
            rep = load_report(running)
        except ReportError as exc:
            return ReleaseRun(release, "error", python.version, reason=str(exc), exit=done.returncode,
                              seconds=seconds, patterns=tuple(patterns))
        os.replace(running, report)
        if n == 1:
            self._sidecar(release).write_text(json.dumps(
                {**self._selection(release, patterns, python), "exit": done.returncode, "seconds": seconds},
                indent=1) + "\n", encoding="utf-8")
        s = rep.summary
        counts = ", ".join(f"{s[k]} {k}" for k in ("passed", "failed", "error", "xfailed", "xpassed", "skipped",
                                                     "not_run") if s.get(k))
        self.progress(f"jax {release}: {s.get('total', 0)} items: {counts or 'none'} ({seconds:.0f} s)")
        return ReleaseRun(release, "ran", python.version, report=rep, report_path=str(report), exit=done.returncode,
                          seconds=seconds, patterns=tuple(patterns))

    def _sidecar(self, release: str) -> Path:
        return self.out / f"jax-{release}.run.json"

    def _selection(self, release: str, patterns: Sequence[str], python: Interpreter) -> dict[str, Any]:
        return {"release": release, "patterns": list(patterns), "check_args": self.check_args,
                "python": python.version, "environment": self.builder.wanted(release, python)}

    def _kept(self, release: str, patterns: Sequence[str], python: Interpreter) -> ReleaseRun | None:
        """The report an earlier run with the same selection left in ``out`` (``--resume``), if it is complete."""
        try:
            side = json.loads(self._sidecar(release).read_text(encoding="utf-8"))
            wanted = self._selection(release, patterns, python)
            if not isinstance(side, dict) or any(side.get(k) != v for k, v in wanted.items()):
                return None
            path = self.out / f"jax-{release}.json"
            rep = load_report(path)
        except (OSError, ValueError, ReportError):
            return None
        if rep.status != "complete":
            return None
        with self._lock:
            self._count[release] += 1
        self.progress(f"jax {release}: reusing the report of an earlier run, {path}")
        return ReleaseRun(release, "ran", python.version, report=rep, report_path=str(path), exit=side.get("exit"),
                          seconds=float(side.get("seconds") or 0.0), patterns=tuple(patterns))


def spread_order(releases: Sequence[str]) -> list[str]:
    """The releases in the order a history runs them: the oldest, the newest, then the middles, halving.

    A history stopped early (or still running) then covers the whole range
    coarsely rather than its oldest part finely: 0.6.0, 0.12.1, 0.9.1, 0.7.2, 0.11.0, ...
    """
    ordered = sorted_versions(releases)
    if len(ordered) <= 2:
        return ordered
    out = [ordered[0], ordered[-1]]
    spans = [(0, len(ordered) - 1)]
    while spans:
        nxt = []
        for a, b in spans:
            if b - a < 2:
                continue
            m = (a + b) // 2
            out.append(ordered[m])
            nxt += [(a, m), (m, b)]
        spans = nxt
    return out


def run_releases(releases: Sequence[str], patterns: Sequence[str], runner: Runner, *, jobs: int = 1,
                 done: Callable[[list[ReleaseRun]], None] | None = None) -> list[ReleaseRun]:
    """Run ``runner`` on each release, ``jobs`` at a time, in :func:`spread_order`; the runs in release order.

    ``done``, when given, is called with the runs finished so far after each
    one finishes (``jaxpat history`` rewrites its history file then). A
    runner that raises makes that release an ``error`` (with the exception),
    never the whole history.
    """
    finished: list[ReleaseRun] = []
    lock = threading.Lock()

    def one(release: str) -> ReleaseRun:
        try:
            run = runner(release, patterns)
        except Exception as exc:  # one release's trouble is that release's result
            run = ReleaseRun(release, "error", reason=f"{type(exc).__name__}: {exc}", patterns=tuple(patterns))
        if done is not None:
            with lock:
                finished.append(run)
                done(sorted(finished, key=lambda r: version_key(r.release)))
        return run

    order = spread_order(releases)
    if jobs <= 1 or len(order) <= 1:
        runs = [one(r) for r in order]
    else:
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            runs = list(pool.map(one, order))
    return sorted(runs, key=lambda r: version_key(r.release))


# ---------------------------------------------------------------------------
# the history model
# ---------------------------------------------------------------------------

#: Outcomes that differ only in how the catalog marked the item (a known deviation or not), not in behaviour.
BEHAVIOUR = {"xpassed": "passed", "xfailed": "failed"}


def _stripped(rep: Report) -> Report:
    """The report as compared across releases: no host labels, and outcomes as behaviour.

    ``xpassed`` counts as ``passed`` (and, like it, without a message) and
    ``xfailed`` as ``failed``: whether a catalog deviation marked an item
    depends on the deviation's version bound, not on what JAX did, and
    ``jaxpat history --check-catalog`` is what holds those bounds to account.
    """
    def item(r: Any) -> Any:
        outcome = BEHAVIOUR.get(r.outcome, r.outcome)
        return dataclasses.replace(r, host=None, outcome=outcome,
                                   message=None if outcome == "passed" else r.message)

    return dataclasses.replace(rep, hosts=(), results=tuple(item(r) for r in rep.results),
                               claims=tuple(dataclasses.replace(c, host=None) for c in rep.claims))


def _change_dict(c: Change) -> dict[str, Any]:
    text = c.text if len(c.text) <= TEXT_LIMIT else c.text[:TEXT_LIMIT] + " …"
    out: dict[str, Any] = {"what": c.what, "text": text}
    if c.path is not None:
        out["path"] = c.path
    return out


@dataclass
class History:
    """A history: releases with their status, per-pattern outcome counts per release, and every change.

    ``items`` holds the items that changed or did not pass somewhere
    (``outcomes``: release → outcome; ``changes``: one entry per release at
    which the item differed from the previous release that ran, with the
    changes -- outcome, value, message, claim figure ...); ``patterns`` holds,
    per pattern, the number of items and the outcome counts per release.
    """

    releases: list[dict[str, Any]]
    patterns: dict[str, dict[str, Any]]
    items: dict[str, dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)
    bisect: dict[str, Any] | None = None

    # -- views ---------------------------------------------------------------

    def ran(self) -> list[str]:
        """The releases that ran, in order."""
        return [r["version"] for r in self.releases if r["status"] == "ran"]

    def release(self, version: str) -> dict[str, Any]:
        return next(r for r in self.releases if r["version"] == version)

    def changes(self, pattern: str | None = None) -> list[dict[str, Any]]:
        """Every change, as ``{release, since, nodeid, pattern, category, changes}``, in release then node order."""
        out = []
        for nodeid, item in self.items.items():
            if pattern is not None and item["pattern"] != pattern:
                continue
            for ch in item.get("changes", ()):
                out.append({"nodeid": nodeid, "pattern": item["pattern"], **ch})
        order = {v: i for i, v in enumerate(r["version"] for r in self.releases)}
        return sorted(out, key=lambda c: (order.get(c["release"], 1 << 30), c["nodeid"]))

    def grouped_changes(self, pattern: str) -> list[dict[str, Any]]:
        """A pattern's changes grouped by (first release, kind of change, what changed): one entry per group.

        Each group has ``release`` (the first release showing it), ``since``
        (the release before it that ran), ``category``, ``what`` (change
        kinds), ``nodeids`` and ``texts`` (distinct texts, in order).
        """
        groups: dict[tuple[Any, ...], dict[str, Any]] = {}
        for c in self.changes(pattern):
            whats = tuple(sorted({x["what"] for x in c["changes"]})) or ("outcome",)
            outcome = next((x["text"] for x in c["changes"] if x["what"] == "outcome"), None)
            key = (c["release"], c["since"], c["category"], whats, outcome)
            g = groups.setdefault(key, {"release": c["release"], "since": c["since"], "category": c["category"],
                                        "what": list(whats), "nodeids": [], "texts": []})
            g["nodeids"].append(c["nodeid"])
            for x in c["changes"]:
                if x["what"] != "outcome" and x["text"] not in g["texts"]:
                    g["texts"].append(x["text"])
            if outcome and outcome not in g["texts"]:
                g["texts"].insert(0, outcome)
        return list(groups.values())

    def outcome(self, nodeid: str, release: str) -> str | None:
        """The item's outcome on ``release`` (``passed`` for an item that passed everywhere it ran)."""
        item = self.items.get(nodeid)
        if item is not None:
            return item["outcomes"].get(release)
        return None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": FORMAT, "version": VERSION, **self.meta, "releases": self.releases,
                               "patterns": self.patterns, "items": self.items}
        if self.bisect is not None:
            out["bisect"] = self.bisect
        return out

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "history") -> History:
        """Read a history document; :class:`HistoryError` names what is wrong."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise HistoryError(f"{source}: not a jaxpat history (`format` must be {FORMAT!r})")
        if data.get("version") != VERSION:
            raise HistoryError(f"{source}: history version {data.get('version')!r} is not supported "
                               f"(this jaxpat reads {VERSION})")
        for key, kind in (("releases", list), ("patterns", dict), ("items", dict)):
            if not isinstance(data.get(key), kind):
                raise HistoryError(f"{source}: `{key}` must be a{'n object' if kind is dict else ' list'}")
        for i, r in enumerate(data["releases"]):
            if not isinstance(r, dict) or not isinstance(r.get("version"), str) or \
                    r.get("status") not in ("ran", "uninstallable", "error"):
                raise HistoryError(f"{source}: releases[{i}] needs a `version` string and a `status` "
                                   "(ran, uninstallable or error)")
        for nodeid, item in data["items"].items():
            if not isinstance(item, dict) or not isinstance(item.get("pattern"), str) or \
                    not isinstance(item.get("outcomes"), dict) or not isinstance(item.get("changes", []), list):
                raise HistoryError(f"{source}: items[{nodeid!r}] needs `pattern`, `outcomes` and `changes`")
        meta = {k: v for k, v in data.items()
                if k not in ("format", "version", "releases", "patterns", "items", "bisect")}
        return cls(list(data["releases"]), dict(data["patterns"]), dict(data["items"]), meta, data.get("bisect"))

    def write(self, path: Path) -> None:
        from jaxpat._util import atomic_write

        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n")


def load_history(path: str | os.PathLike[str]) -> History:
    """Read a history file written by ``jaxpat history``; :class:`HistoryError` says what is wrong."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise HistoryError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise HistoryError(f"{path}: not valid JSON: {exc}") from exc
    return History.from_dict(data, source=str(path))


def layer_reports(base: Report, update: Report) -> tuple[Report, list[str]]:
    """``base`` with the patterns ``update`` ran taken from ``update``: a run of a few patterns laid over a
    full run of the same release (patterns added or changed since the full run).

    Every result and claim of a pattern that ``update`` has results for is
    replaced by ``update``'s (items the update no longer has are gone, new
    ones appear); the rest of ``base`` is kept as it was. Returns the layered
    report and the patterns taken from ``update``, sorted.

    :raises HistoryError: the two reports ran on different JAX releases.
    """
    if base.environment.jax != update.environment.jax:
        raise HistoryError(f"cannot lay a report of jax {update.environment.jax} over one of jax "
                           f"{base.environment.jax}")
    taken = {r.pattern_id for r in update.results}
    data = base.to_dict()
    new = update.to_dict()
    data["results"] = [r for r in data["results"] if r.get("pattern") not in taken] + new["results"]
    data["claims"] = [c for c in data.get("claims", []) if c.get("pattern") not in taken] + new.get("claims", [])
    if data.get("status") == "complete":  # an unfinished update makes the layered report unfinished
        data["status"] = new.get("status")
    summarize(data)
    try:
        return Report.from_dict(data), sorted(taken)
    except (ReportError, ValueError) as exc:
        raise HistoryError(f"the layered report of jax {base.environment.jax} is not valid: {exc}") from exc


#: How a result's message starts (or what it says) when the item hit a deadline rather than showing a behaviour:
#: an item timeout, or a multi-process case whose processes were still running at the harness's deadline.
_DEADLINE_MARKS = ("timeout: the item ran longer than", "still running after")


def hit_deadline(result: Any) -> bool:
    """Whether ``result`` failed because it ran out of time (``--jaxpat-timeout``, or a multi-process case's
    deadline): on a loaded machine that says nothing of the release, so a history does not compare it."""
    message = getattr(result, "message", None) or ""
    return result.outcome in ("failed", "error") and any(m in message for m in _DEADLINE_MARKS)


def inconclusive(result: Any) -> bool:
    """Whether ``result`` is a claim whose measurement could not decide (skipped as ``inconclusive``, e.g. a speed
    claim whose noise band straddled its bound on a loaded machine): not compared across releases either."""
    return result.outcome == "skipped" and (getattr(result, "message", None) or "").rstrip().endswith("inconclusive")


def item_changes(old: Report, new: Report) -> dict[str, tuple[str, list[Change]]]:
    """Items whose behaviour differs between two reports: node id → (category, changes).

    Compared as :func:`_stripped` says (an item that went from ``passed`` to
    ``xpassed`` did not change); XLA compilation counts alone are no change.
    An item that ran out of time (:func:`hit_deadline`) or measured nothing
    conclusive (:func:`inconclusive`) in either report is not compared: the
    release did not show its behaviour. An outcome change's
    text gives the outcomes as the reports have them.
    """
    raw_old = {r.nodeid: r.outcome for r in old.results}
    raw_new = {r.nodeid: r.outcome for r in new.results}
    timed_out = {r.nodeid for rep in (old, new) for r in rep.results if hit_deadline(r) or inconclusive(r)}
    out: dict[str, tuple[str, list[Change]]] = {}
    for item in drift(_stripped(old), _stripped(new)).items:
        if item.category in ("added", "removed") or item.nodeid in timed_out:
            continue
        # timing figures of claims are left out by drift itself (jaxpat.report._drift.is_timing)
        changes = [c for c in item.changes if c.what not in IGNORED_CHANGES]
        changes = [dataclasses.replace(c, text=f"{raw_old.get(item.nodeid)} → {raw_new.get(item.nodeid)}",
                                       old=raw_old.get(item.nodeid), new=raw_new.get(item.nodeid))
                   if c.what == "outcome" else c for c in changes]
        if changes:
            out[item.nodeid] = (item.category, changes)
    return out


def build_history(runs: Sequence[ReleaseRun], meta: Mapping[str, Any] | None = None) -> History:
    """The history of these runs: each release that ran compared with the previous one that ran.

    Reports are read one after the other; only the previous one is kept.
    """
    runs = sorted(runs, key=lambda r: version_key(r.release))
    outcomes: dict[str, dict[str, str]] = {}
    pattern_of: dict[str, str] = {}
    fields_of: dict[str, dict[str, str]] = {}
    changes: dict[str, list[dict[str, Any]]] = {}
    per_pattern: dict[str, dict[str, Counter[str]]] = {}
    prev: ReleaseRun | None = None
    for run in runs:
        if run.report is None:
            continue
        for r in run.report.results:
            outcomes.setdefault(r.nodeid, {})[run.release] = "timeout" if hit_deadline(r) else r.outcome
            pattern_of[r.nodeid] = r.pattern_id
            fields_of[r.nodeid] = {k: v for k in ITEM_FIELDS if isinstance(v := getattr(r, k), str)}
            shown = "timeout" if hit_deadline(r) else r.outcome
            per_pattern.setdefault(r.pattern_id, {}).setdefault(run.release, Counter())[shown] += 1
        if prev is not None and prev.report is not None:
            for nodeid, (category, chs) in item_changes(prev.report, run.report).items():
                changes.setdefault(nodeid, []).append({
                    "release": run.release, "since": prev.release, "category": category,
                    "changes": [_change_dict(c) for c in chs]})
        prev = run
    items: dict[str, dict[str, Any]] = {}
    for nodeid in sorted(outcomes):
        seen = outcomes[nodeid]
        if nodeid in changes or any(o != "passed" for o in seen.values()):
            items[nodeid] = {"pattern": pattern_of[nodeid], "fields": fields_of[nodeid], "outcomes": seen,
                             "changes": changes.get(nodeid, [])}
    patterns: dict[str, dict[str, Any]] = {}
    for pattern in sorted(per_pattern):
        by_release = per_pattern[pattern]
        nodeids = [n for n, p in pattern_of.items() if p == pattern]
        patterns[pattern] = {
            "items": len(nodeids),
            "outcomes": {rel: dict(sorted(c.items())) for rel, c in sorted(by_release.items(),
                                                                          key=lambda kv: version_key(kv[0]))},
            "changed": sum(1 for n in nodeids if n in changes),
        }
    return History([r.brief() for r in runs], patterns, items, dict(meta or {}))


# ---------------------------------------------------------------------------
# bisect
# ---------------------------------------------------------------------------

@dataclass
class BisectResult:
    """A bisect's answer: per changed item, the first release that differs from ``old``; and the runs it took."""

    old: str
    new: str
    releases: list[str]
    firsts: dict[str, dict[str, Any]]
    runs: list[ReleaseRun]
    unresolved: dict[str, str] = field(default_factory=dict)

    @property
    def run_count(self) -> int:
        return len(self.runs)

    def to_dict(self) -> dict[str, Any]:
        return {"old": self.old, "new": self.new, "releases": self.releases, "runs": self.run_count,
                "run_list": [{"release": r.release, "status": r.status, "patterns": list(r.patterns)}
                             for r in self.runs],
                "firsts": self.firsts, "unresolved": self.unresolved}


def bisect(old: str, new: str, releases: Sequence[str], patterns: Sequence[str], runner: Runner, *,
           jobs: int = 1, progress: Progress = lambda s: None) -> BisectResult:
    """Find, for each item that differs between ``old`` and ``new``, the first release where it differs from ``old``.

    Runs ``old`` and ``new`` with ``patterns``; then, while some item's
    interval (last release known the same as ``old``, first known different)
    has releases between its ends, runs the middle release of each such
    interval -- with only the patterns whose items' intervals contain it,
    ``jobs`` at a time -- and narrows every interval that contains it. An
    item that differs on a middle release moves its upper end there;
    otherwise its lower end. A release that cannot be run leaves it out of
    the interval (the halving goes on over the rest). The answer is a first
    release where the item departs from ``old``'s state (the first one when
    it changes once between the ends); its ``changes`` say how it differs
    from ``old`` there, and ``ends`` how it differs on ``new`` when that is
    not the same (it changed again).

    :raises HistoryError: ``old`` or ``new`` is not in ``releases`` or cannot be run.
    """
    order = sorted_versions(releases)
    for end in (old, new):
        if end not in order:
            raise HistoryError(f"--bisect {end}: not among the releases ({', '.join(order)})")
    lo_i, hi_i = order.index(old), order.index(new)
    if lo_i >= hi_i:
        raise HistoryError(f"--bisect {old} {new}: {old} must be an earlier release than {new}")
    span = order[lo_i:hi_i + 1]
    runs: list[ReleaseRun] = []
    progress(f"bisect: running the ends, jax {old} and {new}")
    ends = run_releases([old, new], patterns, runner, jobs=jobs)
    runs += ends
    for run in ends:
        if run.report is None:
            raise HistoryError(f"--bisect: jax {run.release} did not run ({run.status}): {run.reason}")
    base = ends[0].report
    assert base is not None
    assert ends[1].report is not None
    differing = item_changes(base, ends[1].report)
    pattern_of = {r.nodeid: r.pattern_id for r in base.results}
    # per item: candidate releases still possible, lower end (same as old), upper end (differs)
    lo: dict[str, str] = {n: old for n in differing}
    hi: dict[str, str] = {n: new for n in differing}
    departure = dict(differing)  # per item: how it differs from old on its upper end (what changed on `first`)
    skipped: set[str] = set()
    progress(f"bisect: {len(differing)} item{'s' if len(differing) != 1 else ''} differ between {old} and {new}"
             + (f" ({len({pattern_of.get(n, '?') for n in differing})} patterns)" if differing else ""))

    not_there: dict[str, set[str]] = {n: set() for n in differing}  # releases without the item

    def inside(n: str) -> list[str]:
        a, b = span.index(lo[n]), span.index(hi[n])
        return [r for r in span[a + 1:b] if r not in skipped and r not in not_there[n]]

    while True:
        open_items = {n: inside(n) for n in differing}
        open_items = {n: rs for n, rs in open_items.items() if rs}
        if not open_items:
            break
        # each open interval's middle release, run with the patterns of every item whose interval holds it;
        # every round narrows each open interval or takes a release out of it, so the loop ends
        mids = sorted_versions(rs[(len(rs) - 1) // 2] for rs in open_items.values())
        wanted = {m: sorted({pattern_of.get(n, "*") for n, rs in open_items.items() if m in rs}) for m in mids}
        progress("bisect: running " + ", ".join(f"jax {m} ({len(p)} pattern{'s' if len(p) != 1 else ''})"
                                                for m, p in wanted.items()))
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
            batch = list(pool.map(_safe, [runner] * len(mids), mids, [wanted[m] for m in mids]))
        runs += batch
        for run in batch:
            if run.report is None:
                skipped.add(run.release)
                progress(f"bisect: jax {run.release} left out ({run.status})")
                continue
            seen = {r.nodeid for r in run.report.results}
            changed = item_changes(base, run.report)
            for n, rs in open_items.items():
                if run.release not in rs:
                    continue
                if n not in seen:
                    not_there[n].add(run.release)  # no evidence either way
                elif n in changed:
                    hi[n] = run.release
                    departure[n] = changed[n]
                else:
                    lo[n] = run.release
    firsts: dict[str, dict[str, Any]] = {}
    unresolved: dict[str, str] = {}
    for n, (category, chs) in sorted(differing.items()):
        gap = span[span.index(lo[n]) + 1:span.index(hi[n])]
        first_category, first_changes = departure[n]
        entry: dict[str, Any] = {"pattern": pattern_of.get(n, "?"), "first": hi[n], "last_same": lo[n],
                                 "category": first_category, "changes": [_change_dict(c) for c in first_changes]}
        if hi[n] != new and [c.text for c in first_changes] != [c.text for c in chs]:
            # it changed again before `new`: what differs between the ends is not what changed on `first`
            entry["ends"] = {"category": category, "changes": [_change_dict(c) for c in chs]}
        if gap:
            entry["untested"] = gap
            unresolved[n] = f"releases {', '.join(gap)} between {lo[n]} and {hi[n]} could not be run"
        firsts[n] = entry
    return BisectResult(old, new, span, firsts, runs, unresolved)


def _safe(runner: Runner, release: str, patterns: Sequence[str]) -> ReleaseRun:
    try:
        return runner(release, patterns)
    except Exception as exc:
        return ReleaseRun(release, "error", reason=f"{type(exc).__name__}: {exc}", patterns=tuple(patterns))


# ---------------------------------------------------------------------------
# the catalog against history
# ---------------------------------------------------------------------------

@dataclass
class DeviationCheck:
    """One version-keyed deviation held against a history.

    ``verdict``: ``confirmed`` (every release in the history agrees with the
    bound, and the releases on each side of it ran), ``unconfirmed`` (no
    release contradicts it, but the history lacks items or releases that
    would test the bound), or ``contradicted`` (some release shows the
    behaviour outside the bound, or lacks it inside). ``present`` and
    ``absent`` list the releases where the deviation's items did (failed or
    xfailed) and did not (passed or xpassed) show the behaviour.
    """

    pattern: str
    when: dict[str, str]
    location: str | None
    verdict: str
    present: list[str]
    absent: list[str]
    detail: str
    items: int = 0

    @property
    def first(self) -> str | None:
        """The first release in the history showing the behaviour."""
        return self.present[0] if self.present else None

    def to_dict(self) -> dict[str, Any]:
        return {"pattern": self.pattern, "when": self.when, "location": self.location, "verdict": self.verdict,
                "first": self.first, "present": self.present, "absent": self.absent, "items": self.items,
                "detail": self.detail}


def check_catalog(history: History, deviations: Iterable[tuple[str, Any, str | None]],
                  all_releases: Sequence[str] = ()) -> list[DeviationCheck]:
    """Hold every deviation with a ``jax`` bound against the history.

    ``deviations`` yields ``(pattern id, Deviation, location)``. An item is
    the deviation's when the deviation's other fields (claim, implementation,
    transform, case, platform, device) equal the item's as recorded in the
    history. On each release that ran, the behaviour is *present* when such
    an item failed or xfailed and *absent* when it passed or xpassed (how the
    run marked it does not matter, so a history made with an older catalog
    still counts). A release inside the bound where it is absent, or outside
    it where it is present, contradicts the bound. ``all_releases`` (the
    index's releases) tells whether the releases next to the bound ran.
    """
    ran = history.ran()
    out: list[DeviationCheck] = []
    for pattern, dev, location in deviations:
        when = dev.when.to_dict()
        spec = when.get("jax")
        if not spec:
            continue
        others = {k: v for k, v in when.items() if k != "jax"}
        mine = [n for n, item in history.items.items() if item["pattern"] == pattern
                and _matches(n, item, others)]
        covered = pattern in history.patterns
        present: list[str] = []
        absent: list[str] = []
        wrong: list[str] = []
        for rel in ran:
            seen = [history.items[n]["outcomes"].get(rel) for n in mine]
            seen = [s for s in seen if s is not None]
            if any(s in PRESENT for s in seen):
                present.append(rel)
                if not in_range(rel, spec):
                    bad = sorted({s for s in seen if s in PRESENT})
                    wrong.append(f"{rel} shows it ({', '.join(bad)}) but is outside `jax: {spec}`")
            elif any(s in ABSENT for s in seen):
                absent.append(rel)
                if in_range(rel, spec):
                    wrong.append(f"{rel} does not show it (the items {'xpassed' if 'xpassed' in seen else 'passed'})"
                                 f" but is inside `jax: {spec}`")
        inside = [r for r in ran if in_range(r, spec)]
        outside = [r for r in ran if not in_range(r, spec)]
        if wrong:
            verdict, detail = "contradicted", "; ".join(wrong)
        elif not mine or not (present or absent):
            verdict = "unconfirmed"
            detail = ("the history has no item of this deviation" if covered else
                      f"the history did not run {pattern}")
        else:
            gaps = _edges(spec, all_releases or ran, set(present) | set(absent))
            if not inside or not outside:
                verdict = "unconfirmed"
                detail = f"every release in the history is {'inside' if inside else 'outside'} the bound"
            elif gaps:
                verdict = "unconfirmed"
                detail = "agrees with every release that ran, but " + ", ".join(gaps) + " did not run"
            else:
                verdict = "confirmed"
                detail = (f"absent on {_span(absent)}, present on {_span(present)}; first release showing it: "
                          f"{present[0] if present else '-'}")
        out.append(DeviationCheck(pattern, when, location, verdict, present, absent, detail, len(mine)))
    return out


def _matches(nodeid: str, item: Mapping[str, Any], want: Mapping[str, str]) -> bool:
    have = item.get("fields") or {}
    for key, value in want.items():
        if key == "claim":
            if have.get("claim") != value:
                return False
        elif have.get(key) != value:
            return False
    # deviations without a claim never apply to claim items
    return "claim" in want or not have.get("claim")


def _edges(spec: str, releases: Sequence[str], ran: set[str]) -> list[str]:
    """The releases next to the bound (last outside / first inside, on each side) that the history lacks."""
    order = sorted_versions(releases)
    lacking = []
    for a, b in itertools.pairwise(order):
        if in_range(a, spec) != in_range(b, spec):
            lacking += [r for r in (a, b) if r not in ran]
    return sorted_versions(lacking)


def _span(versions: Sequence[str]) -> str:
    if not versions:
        return "no release"
    if len(versions) == 1:
        return versions[0]
    return f"{versions[0]}–{versions[-1]} ({len(versions)} releases)"


# ---------------------------------------------------------------------------
# a run's record
# ---------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    """Where a history was made: host name, OS and CPU count."""
    return {"hostname": platform.node(), "platform": platform.platform(terse=True),
            "machine": platform.machine(), "cpus": os.cpu_count(), "python": sys.version.split()[0]}
