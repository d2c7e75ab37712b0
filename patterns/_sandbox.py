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
from pathlib import Path
from typing import Any

from ._discovery import REFERENCE, candidates
from ._errors import PluginLoadError
from ._guard import import_budget

__all__ = ["SLACK", "catalog_sources", "load_catalog_isolated"]

#: Seconds a plugin's process gets beyond its budgets (starting Python, reading the catalog).
SLACK = 5.0
#: Seconds a plugin's process may take to start Python and jaxpat, before its plugin's code runs.
START_LIMIT = 300.0
_MARK = "\x00jaxpat-sandbox "
_PHASE = "\x00jaxpat-sandbox-plugin-code\n"


def catalog_sources(
    *, autoload: bool | None = None, block: Iterable[str] = (),
) -> tuple[list[tuple[str, str, Path]], list[PluginLoadError]]:
    """``(plugin, origin, path)`` per plugin catalog file, and the plugins left out (as
    :func:`jaxpat.patterns.plugin_catalog_sources`), each plugin asked in a process of its own."""
    from ._session import Session

    session = Session(strict=False)
    cands = candidates(autoload, block, (), session)
    errors: list[PluginLoadError] = list(session.errors)
    out: list[tuple[str, str, Path]] = []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    procs = []
    for cand in cands:
        if cand.name == REFERENCE:
            from ._registry import plugin_catalog_sources

            ref, ref_errors = plugin_catalog_sources(autoload=False, block=block)
            out += [s for s in ref if s[0] == REFERENCE]
            errors += [e for e in ref_errors if e.plugin == REFERENCE]
            continue
        argv = [sys.executable, "-m", "jaxpat.patterns._sandbox", cand.name]
        if autoload is False:
            argv.append("--no-autoload")
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
        for e in answer.get("errors", []):
            if e.get("plugin") == cand.name:
                errors.append(PluginLoadError(**{k: str(e.get(k, "")) for k in (
                    "plugin", "distribution", "version", "module", "stage", "message", "traceback")}))
    return out, errors


def load_catalog_isolated(paths: Any = None, *, plugins: bool = True) -> tuple[Any, list[PluginLoadError]]:
    """:func:`jaxpat.patterns.load_catalog_and_errors` with each plugin asked in its own process
    (:func:`catalog_sources`); a plugin whose files are invalid, or clash with an earlier plugin's, is left
    out with an error naming it."""
    from jaxpat.catalog import CatalogError, load

    from ._registry import assemble_catalog
    from ._rules import CATALOG_HOOK

    if not plugins:
        return assemble_catalog([], paths=paths), []
    sources, errors = catalog_sources()
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

    session = Session(strict=False)
    sources = []
    os.write(out_fd, _PHASE.encode())  # the plugin's budget counts from here
    for plugin in session.register_all(candidates(autoload, (), (), session, name)):
        sources += [(plugin.name, plugin.cand.origin, str(f)) for f in session.catalog_files(plugin) or ()]
    answer = {"sources": sources, "errors": [e.to_dict() for e in session.errors]}
    os.write(out_fd, (_MARK + json.dumps(answer) + "\n").encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
