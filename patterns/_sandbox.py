"""Plugin catalog files read in short-lived processes, one plugin each, with budgets enforced from outside.

``jaxpat list``, ``show`` and ``validate`` need each plugin's catalog files,
which only the plugin's ``jaxpat_catalog_files`` hook can say. Calling it in
the command's own process lets a plugin hang the command in C code holding
the GIL (a thread-based budget cannot interrupt it), end the process with
``os._exit(0)``, or reach the command's state. :func:`catalog_sources` asks
each plugin in a process of its own (``python -m jaxpat.patterns._sandbox
NAME``), side by side, and kills a process group that outlasts its budget
(``JAXPAT_PLUGIN_IMPORT_TIMEOUT`` for the import and again for the hook, plus
:data:`SLACK`). The reference plugin is jaxpat's own code and is asked in
process. Answers are JSON; nothing is unpickled.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._discovery import REFERENCE, candidates
from ._errors import PluginLoadError
from ._guard import import_budget

__all__ = ["SLACK", "RegistryView", "catalog_sources", "load_catalog_isolated", "registry_isolated"]

#: Seconds a plugin's process gets beyond its budgets (starting Python, reading the catalog).
SLACK = 5.0
#: Seconds a plugin's process may take to start Python and jaxpat, before its plugin's code runs.
START_LIMIT = 300.0
_MARK = "\x00jaxpat-sandbox "
_PHASE = "\x00jaxpat-sandbox-plugin-code\n"


def catalog_sources(
    *, autoload: bool | None = None, block: Iterable[str] = (), registry: dict[str, dict[str, Any]] | None = None,
) -> tuple[list[tuple[str, str, Path]], list[PluginLoadError]]:
    """``(plugin, origin, path)`` per plugin catalog file, and the plugins left out (as
    :func:`jaxpat.patterns.plugin_catalog_sources`), each plugin asked in a process of its own.

    With ``registry`` (a dict to fill), each plugin's process also registers its implementations and
    ``registry[name]`` receives ``{"plugin": PluginInfo.to_dict(), "implementations": [[id, pattern], ...]}``
    as data (for ``jaxpat plugins``)."""
    from ._session import Session

    session = Session(strict=False)
    cands = candidates(autoload, block, (), session)
    errors: list[PluginLoadError] = list(session.errors)
    out: list[tuple[str, str, Path]] = []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    # the plugins' processes fork from one zygote that imported jaxpat (and JAX, where the command imports it
    # before a plugin) once; where it cannot, each is a fresh interpreter (patterns/_zygote.py)
    zygote = None
    if any(cand.name != REFERENCE for cand in cands):
        from ._zygote import start

        zygote = start(env, with_jax=registry is not None)
    try:
        procs = []
        for cand in cands:
            if cand.name == REFERENCE:
                from ._registry import plugin_catalog_sources

                ref, ref_errors = plugin_catalog_sources(autoload=False, block=block)
                out += [s for s in ref if s[0] == REFERENCE]
                errors += [e for e in ref_errors if e.plugin == REFERENCE]
                if registry is not None:  # jaxpat's own code: asked in process
                    registry[REFERENCE] = _registry_answer(REFERENCE, False)
                continue
            argv = [sys.executable, "-m", "jaxpat.patterns._sandbox", cand.name]
            if autoload is False:
                argv.append("--no-autoload")
            if registry is not None:
                argv.append("--registry")
            proc: Any = zygote.spawn(argv[3:]) if zygote is not None else None
            if proc is None:
                proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                        start_new_session=True)
            procs.append((cand, proc, time.monotonic()))
        budget = import_budget()
        limit = None if budget is None else 2 * budget + SLACK
        watched = [_Watched(cand, proc) for cand, proc, _ in procs]
        while any(w.proc.poll() is None for w in watched):
            now = time.monotonic()
            for w in watched:
                if w.proc.poll() is not None:
                    continue
                # Python's start is not the plugin's: its budget counts from the moment its code is about to run
                since = w.phase_at if w.phase_at is not None else w.started
                allowed = START_LIMIT if w.phase_at is None else limit
                if allowed is not None and now - since > allowed:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(w.proc.pid, signal.SIGKILL)
                    w.killed = allowed
            time.sleep(0.05)
        for w in watched:
            w.reader.join(timeout=5)
            w.err_reader.join(timeout=5)
            w.proc.wait()
            for stream in (w.proc.stdout, w.proc.stderr):
                with contextlib.suppress(Exception):
                    stream.close()  # type: ignore[union-attr]
            cand, proc = w.cand, w.proc
            if w.killed is not None:
                what = ("its import or jaxpat_catalog_files took longer than its budget" if w.phase_at is not None
                        else "its process did not get to the plugin")
                errors.append(_error(cand, "import", f"{what}; its process was ended from outside after "
                                     f"{w.killed:g} s (JAXPAT_PLUGIN_IMPORT_TIMEOUT)"))
                continue
            answer = _answer(bytes(w.out))
            if answer is None:
                tail = bytes(w.err).decode("utf-8", "replace").strip()[-1500:]
                errors.append(_error(cand, "import", f"its process ended (exit status {proc.returncode}) while it was "
                                     f"loaded{': ' + tail if tail else ''}"))
                continue
            for name, origin, path in answer.get("sources", []):
                if name == cand.name:  # a plugin's process speaks for that plugin only
                    out.append((name, origin, Path(path)))
            if registry is not None and isinstance(answer.get("registry"), dict):
                registry[cand.name] = answer["registry"]
            for e in answer.get("errors", []):
                if e.get("plugin") == cand.name:
                    errors.append(PluginLoadError(**{k: str(e.get(k, "")) for k in (
                        "plugin", "distribution", "version", "module", "stage", "message", "traceback")}))
        return out, errors
    finally:
        if zygote is not None:
            zygote.close()


def load_catalog_isolated(
    paths: Any = None, *, plugins: bool = True, registry: dict[str, dict[str, Any]] | None = None,
) -> tuple[Any, list[PluginLoadError]]:
    """:func:`jaxpat.patterns.load_catalog_and_errors` with each plugin asked in its own process
    (:func:`catalog_sources`, which fills ``registry`` when given); a plugin whose files are invalid, or clash
    with an earlier plugin's, is left out with an error naming it (and dropped from ``registry``)."""
    from jaxpat.catalog import CatalogError, load

    from ._registry import assemble_catalog
    from ._rules import CATALOG_HOOK

    if not plugins:
        return assemble_catalog([], paths=paths), []
    sources, errors = catalog_sources(registry=registry)
    catalog = load(paths)
    files: list[tuple[str, Path]] = []
    origins = {name: origin for name, origin, _ in sources}
    for name in dict.fromkeys(n for n, _, _ in sources):
        mine = [(n, p) for n, _, p in sources if n == name]
        try:
            catalog = assemble_catalog([*files, *mine], paths=paths)
        except CatalogError as exc:
            dist, _, module = origins[name].partition("; module ")
            errors.append(PluginLoadError(
                name, dist.rsplit(" ", 1)[0], dist.rsplit(" ", 1)[-1] if " " in dist else "", module, CATALOG_HOOK,
                f"jaxpat plugin {name!r} was not registered: its catalog files are invalid.\n{exc}"))
            if registry is not None:
                registry.pop(name, None)
            continue
        files += mine
    return catalog, errors


class _Watched:
    """A plugin's process, its answer as it arrives, and when it said its plugin's code is about to run."""

    def __init__(self, cand: Any, proc: subprocess.Popen[bytes]) -> None:
        self.cand, self.proc = cand, proc
        self.started = time.monotonic()
        self.phase_at: float | None = None
        self.killed: float | None = None
        self.out = bytearray()
        self.err = bytearray()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.err_reader = threading.Thread(target=self._read_err, daemon=True)
        self.err_reader.start()

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for chunk in iter(lambda: self.proc.stderr.read1(65536), b""):  # type: ignore[union-attr,attr-defined]
            self.err = (self.err + chunk)[-4000:]

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in iter(self.proc.stdout.readline, b""):
            if line.startswith(_PHASE.encode()) and self.phase_at is None:
                self.phase_at = time.monotonic()
            else:
                self.out += line


def _error(cand: Any, stage: str, why: str) -> PluginLoadError:
    return PluginLoadError(cand.name, cand.distribution, cand.version, cand.module, stage,
                           f"jaxpat plugin {cand.name!r} was not registered: {why}.\n"
                           f"  distribution:   {cand.distribution} {cand.version}".rstrip())


def _answer(stdout: bytes) -> dict[str, Any] | None:
    text = stdout.decode("utf-8", "replace")
    i = text.rfind(_MARK)
    if i < 0:
        return None
    try:
        data = json.loads(text[i + len(_MARK):])
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def main(argv: list[str] | None = None) -> int:
    """Load one plugin and call its ``jaxpat_catalog_files``; print the files (not yet checked) as JSON."""
    args = list(sys.argv[1:] if argv is None else argv)
    name = args[0]
    autoload = False if "--no-autoload" in args else None
    out_fd = os.dup(1)
    os.dup2(2, 1)  # the plugin's prints go to stderr
    from ._session import Session

    if "--registry" in args:
        # JAX first, as in an executor: its import is not the plugin's (budget), and a hook that changes JAX's
        # config is then seen
        import jax  # noqa: F401
    session = Session(strict=False)
    sources = []
    os.write(out_fd, _PHASE.encode())  # the plugin's budget counts from here
    for plugin in session.register_all(candidates(autoload, (), (), session, name)):
        sources += [(plugin.name, plugin.cand.origin, str(f)) for f in session.catalog_files(plugin) or ()]
    answer: dict[str, Any] = {"sources": sources, "errors": [e.to_dict() for e in session.errors]}
    if "--registry" in args and not session.errors:
        answer["registry"] = _registry_answer(name, autoload)
    os.write(out_fd, (_MARK + json.dumps(answer) + "\n").encode())
    return 0


def _registry_answer(name: str, autoload: bool | None) -> dict[str, Any]:
    """The plugin ``name`` registered alone (its implementations too), as plain data."""
    import jax  # noqa: F401  - before the plugin's hooks (main imported it already), as in an executor

    from ._registry import load_registry

    reg = load_registry(autoload=autoload, only=name)
    return {"plugin": next((p.to_dict() for p in reg.plugins() if p.name == name), None),
            "implementations": [[i.id, i.pattern] for i in reg.implementations() if i.plugin == name],
            "errors": [e.to_dict() for e in reg.errors]}


@dataclass(frozen=True)
class ImplementationView:
    """An implementation as a plugin's process described it: its id and pattern (no code)."""

    id: str
    pattern: str


class RegistryView:
    """What ``jaxpat plugins`` shows, built from each plugin's answer in its own process (no plugin code
    here): the same read methods as :class:`~._records.Registry` that the plugins table uses."""

    def __init__(self, catalog: Any, answers: dict[str, dict[str, Any]], errors: list[PluginLoadError]) -> None:
        from ._records import PluginInfo

        self.catalog = catalog
        self.errors = list(errors)
        self._plugins: list[PluginInfo] = []
        self._impls: list[ImplementationView] = []
        known = set(catalog.ids())
        failed = {e.plugin for e in self.errors}
        for name, answer in answers.items():
            for e in answer.get("errors") or ():
                if isinstance(e, dict) and e.get("plugin") == name and name not in failed:
                    self.errors.append(PluginLoadError(**{k: str(e.get(k, "")) for k in (
                        "plugin", "distribution", "version", "module", "stage", "message", "traceback")}))
            info = answer.get("plugin")
            if not isinstance(info, dict) or info.get("name") != name:
                continue
            self._plugins.append(PluginInfo(
                name=name, distribution=str(info.get("distribution", "")), version=str(info.get("version", "")),
                module=str(info.get("module", "")), n_implementations=int(info.get("implementations", 0)),
                n_patterns=int(info.get("patterns", 0)),
                catalog_files=tuple(Path(str(f)) for f in info.get("catalog_files") or ())))
            self._impls += [ImplementationView(str(i), str(p)) for i, p in answer.get("implementations") or ()
                            if str(i).startswith(name + ".") and str(p) in known]
        order = {pid: k for k, pid in enumerate(catalog.ids())}
        self._impls.sort(key=lambda i: (order.get(i.pattern, 0), i.id))

    def plugins(self) -> list[Any]:
        """The plugins that answered, reference first."""
        return list(self._plugins)

    def implementations(self) -> list[ImplementationView]:
        """Every implementation, in catalog order."""
        return list(self._impls)

    def missing(self) -> list[str]:
        """Catalog patterns nobody implements, in catalog order."""
        done = {i.pattern for i in self._impls}
        return [pid for pid in self.catalog.ids() if pid not in done]


def registry_isolated() -> RegistryView:
    """The registry ``jaxpat plugins`` shows, each plugin loaded in a process of its own.

    :raises jaxpat.catalog.CatalogError: the shipped catalog is invalid."""
    answers: dict[str, dict[str, Any]] = {}
    catalog, errors = load_catalog_isolated(registry=answers)
    return RegistryView(catalog, answers, errors)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--zygote"]:  # the plugin processes' zygote (patterns/_zygote.py); no plugin is named so
        from ._zygote import serve

        os._exit(serve(int(sys.argv[2]), "--jax" in sys.argv[3:], main))
    sys.exit(main())
