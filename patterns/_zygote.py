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
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import IO, Any

__all__ = ["ForkedPlugin", "Zygote", "start"]

#: The largest control message (bytes): a request carries a plugin's name and two flags.
MAX_MESSAGE = 1 << 16


class ForkedPlugin:
    """The command's handle on a plugin's process forked by the zygote: the part of :class:`subprocess.Popen`
    that :func:`._sandbox.catalog_sources` uses (``pid``, ``args``, ``stdout``, ``stderr``, ``poll``, ``wait``,
    ``returncode``)."""

    def __init__(self, zygote: Zygote, pid: int, serial: int, args: list[str], stdout: IO[bytes],
                 stderr: IO[bytes]) -> None:
        self.zygote, self.pid, self.serial, self.args = zygote, pid, serial, args
        self.stdout, self.stderr = stdout, stderr
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.zygote._status(self.pid, self.serial, 0.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = self.zygote._status(self.pid, self.serial, timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
        return self.returncode


class Zygote:
    """A plugin-free process that forks the plugin processes of one command (see the module's docstring)."""

    def __init__(self, env: dict[str, str], *, with_jax: bool) -> None:
        """Start it with the environment ``env`` (the plugin processes') in this working folder; it imports
        jaxpat's plugin-loading modules, and JAX with ``with_jax``, meanwhile (:meth:`spawn` waits for it)."""
        self._lock = threading.Lock()  # one request at a time
        self._cond = threading.Condition()
        self._ready: bool | None = None  # None: still importing
        self._answers: list[dict[str, Any]] = []
        self._exits: dict[int, int] = {}  # fork's serial number -> exit status (a pid may be reused)
        self._gone = False
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

    def _read(self) -> None:
        while True:
            try:
                data = self._sock.recv(MAX_MESSAGE)
                msg = json.loads(data) if data else None
            except (OSError, ValueError):
                msg = None
            with self._cond:
                if not isinstance(msg, dict):
                    self._gone, self._ready = True, bool(self._ready)
                    self._cond.notify_all()
                    return
                if "ready" in msg:
                    self._ready = msg["ready"] is True
                elif "spawned" in msg:
                    self._answers.append(msg)
                elif "exit" in msg and isinstance(msg.get("serial"), int) and isinstance(msg.get("code"), int):
                    self._exits[msg["serial"]] = msg["code"]
                self._cond.notify_all()

    def spawn(self, args: Sequence[str], wait: float = 300.0) -> ForkedPlugin | None:
        """Fork a plugin's process with ``args`` (those of ``python -m jaxpat.patterns._sandbox``); None when the
        zygote cannot (it failed to start, has gone, or did not answer within ``wait`` seconds): the caller
        starts a fresh interpreter."""
        with self._cond:
            self._cond.wait_for(lambda: self._ready is not None, wait)
            if not self._ready or self._gone:
                return None
        with self._lock:
            out_r, out_w = os.pipe()
            err_r, err_w = os.pipe()
            try:
                socket.send_fds(self._sock, [json.dumps({"args": list(args)}).encode()], [out_w, err_w])
                with self._cond:
                    self._cond.wait_for(lambda: self._answers or self._gone, wait)
                    answer = self._answers.pop(0) if self._answers else None
                    if answer is None:
                        self._gone = True  # no answer in time: a late one would be taken for the next request's
            except OSError:
                answer = None
            finally:
                os.close(out_w)
                os.close(err_w)
            if answer is None or not isinstance(answer.get("pid"), int) or not isinstance(answer.get("serial"), int):
                os.close(out_r)
                os.close(err_r)
                return None
        return ForkedPlugin(self, answer["pid"], answer["serial"], ["<fork>", *args], os.fdopen(out_r, "rb"),
                            os.fdopen(err_r, "rb"))

    def _status(self, pid: int, serial: int, timeout: float | None) -> int | None:
        """The exit status of fork ``serial`` (process ``pid``) as the zygote reaped it (waiting up to ``timeout``
        seconds; None: no limit), or None while it runs. Once the zygote has gone, a process that no longer
        exists ended unseen: -9."""
        with self._cond:
            self._cond.wait_for(lambda: serial in self._exits or self._gone, timeout)
            if serial in self._exits:
                return self._exits[serial]
            if not self._gone:
                return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return -signal.SIGKILL
        except PermissionError:
            pass
        return None

    def close(self) -> None:
        """End the zygote (the plugin processes it forked are the caller's to end: each has a session of its own)."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)
        with contextlib.suppress(Exception):
            self.proc.kill()
            self.proc.wait(timeout=5)
        self._sock.close()


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
        signal.set_wakeup_fd(-1)
        for fd in close:
            with contextlib.suppress(OSError):
                os.close(fd)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in zip((1, 2), fds, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        sys.argv = [sys.argv[0], *args]  # the zygote's argv[0]: patterns/_sandbox.py, as a fresh process's
        code = main(args)
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
    except SystemExit as exc:
        code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1  # as the interpreter's exit
    except BaseException:
        with contextlib.suppress(Exception):
            import traceback

            os.write(2, traceback.format_exc().encode("utf-8", "replace"))
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
    import gc
    import warnings

    # Python 3.12 warns on fork() in a process with threads; NumPy's BLAS pool has its own fork handlers
    warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
    gc.collect()
    gc.freeze()  # shared with every fork until written
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the command ends this process (it closes the socket)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sel = selectors.DefaultSelector()
    sel.register(wake_r, selectors.EVENT_READ)
    sel.register(ctl, selectors.EVENT_READ)
    counter = itertools.count(1)
    serials: dict[int, int] = {}  # pid -> the fork's serial number

    def send(msg: dict[str, Any]) -> bool:
        try:
            ctl.send(json.dumps(msg).encode())
        except OSError:
            return False
        return True

    def reap() -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            serial = serials.pop(pid, -1)
            send({"exit": pid, "serial": serial, "code": os.waitstatus_to_exitcode(status)})

    def fork(msg: Any, fds: list[int]) -> None:
        args = msg.get("args") if isinstance(msg, dict) else None
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args) or not args or len(fds) != 2:
            for f in fds:
                os.close(f)
            send({"spawned": None})
            return
        started_r, started_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.setsid()  # before the command hears of it: its first kill may come at once, to the process group
            os.close(started_w)
            os.close(started_r)
            _child(fds, args, [fd, wake_r, wake_w, getattr(sel, "fileno", lambda: -1)()], main)
        os.close(started_w)
        os.read(started_r, 1)  # end of file once the fork has its session (or has ended)
        os.close(started_r)
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
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_r, 4096)
                reap()
            else:
                try:
                    data, fds, _flags, _addr = socket.recv_fds(ctl, MAX_MESSAGE, 2)
                except OSError:
                    data, fds = b"", []
                if not data:
                    for f in fds:
                        os.close(f)
                    return 0
                try:
                    msg = json.loads(data)
                except ValueError:
                    msg = None
                fork(msg, fds)
        reap()

