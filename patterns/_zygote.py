"""Plugin processes forked from one process that imported jaxpat's plugin-loading code (and JAX) once.

:func:`._sandbox.catalog_sources` asks each third-party plugin in a process of its own. Started as a fresh
interpreter, each such process spends about 0.15 s of CPU importing Python's and jaxpat's modules before its
plugin's code runs, and 0.7-1.0 s more importing JAX where the command imports it first (``jaxpat plugins``:
a hook that changes JAX's config is then seen). :class:`Zygote` starts one plugin-free process
(``python -m jaxpat.patterns._sandbox --zygote``) that imports them, without starting any JAX backend (JAX's backends
start threads, and fork with threads may deadlock), then forks one process per plugin that runs
:func:`._sandbox.main`, the code of ``python -m jaxpat.patterns._sandbox``: in a session of its own (made
before the command hears of the fork: the command ends a plugin's process group once it outlasts its
budget), with the pipes the command made as its standard output and error (passed over a Unix socket;
nothing is pickled). The zygote reaps its children and tells the command each one's exit status, so the
command says "exit status 3" as it does for a process of its own.

No plugin code ever runs in the zygote: it imports jaxpat and JAX only, and a plugin is loaded after the
fork. It is started with the environment and working folder of the plugin processes it forks, serves the
one command that started it and ends when that command closes its socket. Off Linux, where it cannot start,
and with ``JAXPAT_NO_FORK_SERVER=1``, each plugin's process is a fresh interpreter.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from jaxpat._forking import (
    Forked,
    Owner,
    become_child,
    fork_in_session,
    quiet_server,
    reap,
    receive,
    report_crash,
    selector_fd,
)

__all__ = ["ForkedPlugin", "Zygote", "start"]



#: The command's handle on a plugin's process forked by the zygote: the part of :class:`subprocess.Popen` that
#: :func:`._sandbox.catalog_sources` uses (``pid``, ``args``, ``stdout``, ``stderr``, ``poll``, ``wait``,
#: ``returncode``).
ForkedPlugin = Forked


class Zygote(Owner):
    """A plugin-free process that forks the plugin processes of one command (see the module's docstring)."""

    def __init__(self, env: dict[str, str], *, with_jax: bool) -> None:
        """Start it with the environment ``env`` (the plugin processes') in this working folder; it imports
        jaxpat's plugin-loading modules, and JAX with ``with_jax``, meanwhile (:meth:`spawn` waits for it)."""
        self._owner_init()
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "jaxpat.patterns._sandbox", "--zygote", str(theirs.fileno()),
                 *(["--jax"] if with_jax else [])],
                pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True)
        except BaseException:
            self._sock.close()
            raise
        finally:
            theirs.close()
        self._reader = threading.Thread(target=self._read, name="jaxpat-zygote", daemon=True)
        self._reader.start()

    def spawn(self, args: Sequence[str], wait: float = 300.0) -> ForkedPlugin | None:
        """Fork a plugin's process with ``args`` (those of ``python -m jaxpat.patterns._sandbox``); None when the
        zygote cannot (it failed to start, has gone, or did not answer within ``wait`` seconds): the caller
        starts a fresh interpreter."""
        with self._cond:
            self._cond.wait_for(lambda: self._ready is not None, wait)
            if not self._ready or self._gone:
                return None
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        forked = self._request({"args": list(args)}, [out_w, err_w], wait)
        if forked is None:
            os.close(out_r)
            os.close(err_r)
            return None
        return ForkedPlugin(self, *forked, ["<fork>", *args], None, os.fdopen(out_r, "rb"), os.fdopen(err_r, "rb"))

    def close(self) -> None:
        """End the zygote (the plugin processes it forked are the caller's to end: each has a session of its own)."""
        self._end(self.proc)


def start(env: dict[str, str], *, with_jax: bool) -> Zygote | None:
    """A zygote for the plugin processes of one command, or None where none is used: off Linux (elsewhere fork()
    after importing NumPy or JAX is not known to be safe), with ``JAXPAT_NO_FORK_SERVER`` set, or when it cannot
    start."""
    if not sys.platform.startswith("linux") or not hasattr(socket, "send_fds"):
        return None
    from jaxpat import _env

    try:
        if _env.flag(_env.NO_FORK_SERVER, env):
            return None
    except _env.EnvError:
        return None  # a fresh interpreter per plugin; the command's own check of its environment says why
    try:
        return Zygote(env, with_jax=with_jax)
    except OSError:
        return None


# ---------------------------------------------------------------------------
# the zygote's side
# ---------------------------------------------------------------------------

def _child(fds: list[int], args: list[str], close: Sequence[int], main: Callable[[list[str]], int]) -> None:
    """In the fork: become the plugin's process, ``main(args)`` (never returns)."""
    code = 1
    try:
        become_child((), close, fds)
        sys.argv = [sys.argv[0], *args]  # the zygote's argv[0]: patterns/_sandbox.py, as a fresh process's
        code = main(args)
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
    except SystemExit as exc:
        code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1  # as the interpreter's exit
    except BaseException:
        report_crash()
    os._exit(code)


def serve(fd: int, with_jax: bool, main: Callable[[list[str]], int]) -> int:
    """Import what every plugin's process imports before its plugin, then fork one per request, which runs
    ``main`` (:func:`._sandbox.main`) on the request's arguments, until the command that started this process
    closes its socket."""
    import selectors

    ctl = socket.socket(fileno=fd)
    try:
        if with_jax:
            import jax  # noqa: F401  - no backend: none starts before a plugin's hooks ask for one
        import importlib.metadata  # noqa: F401

        from . import _discovery, _registry, _session  # noqa: F401
    except BaseException as exc:
        with contextlib.suppress(OSError):
            ctl.send(json.dumps({"ready": False, "error": repr(exc)[:2000]}).encode())
        return 1
    sel, wake_r, wake_w = quiet_server()  # the command ends this process by closing its socket
    sel.register(ctl, selectors.EVENT_READ)
    counter = itertools.count(1)
    serials: dict[int, int] = {}  # pid -> the fork's serial number

    def send(msg: dict[str, Any]) -> bool:
        try:
            ctl.send(json.dumps(msg).encode())
        except OSError:
            return False
        return True

    def ended(pid: int, code: int) -> None:
        send({"exit": pid, "serial": serials.pop(pid, -1), "code": code})

    def fork(msg: Any, fds: list[int]) -> None:
        args = msg.get("args") if isinstance(msg, dict) else None
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args) or not args or len(fds) != 2:
            for f in fds:
                os.close(f)
            send({"spawned": None})
            return
        pid = fork_in_session(lambda: _child(fds, args, [fd, wake_r, wake_w, selector_fd(sel)], main))
        for f in fds:
            os.close(f)
        serial = next(counter)
        serials[pid] = serial
        send({"spawned": True, "pid": pid, "serial": serial})

    if not send({"ready": True, "pid": os.getpid()}):
        return 0
    while True:
        for key, _ in sel.select():
            if key.fileobj == wake_r:
                reap(wake_r, ended)
            else:
                request = receive(ctl, 2)
                if request is None:  # the command closed its socket
                    return 0
                fork(*request)
        reap(wake_r, ended)

