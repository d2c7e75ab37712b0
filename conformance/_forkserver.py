"""Executors forked from a process that has imported JAX once, instead of each importing it again.

An executor's start is mostly Python importing JAX, NumPy and jaxpat (0.7-1.0 s of
CPU each time); a run starts one per plugin per judge process, and again after
every crash or timeout. :class:`ForkServer` starts one plugin-free process per
judge (``python -m jaxpat.conformance._forkserver``) that imports them, without
starting any JAX backend (JAX's backends start threads, and fork with threads
may deadlock: JAX warns only once a backend is up). Each executor is then a
fork of it that runs :func:`._executor.main`: the same code as
``python -m jaxpat.conformance._executor``, in a process of its own, with its
own session (the judge ends its process group), standard streams (pipes the
judge made, passed over a Unix socket: nothing is pickled) and the judge's
environment and working folder.

No plugin code ever runs in the fork server: it imports only JAX and jaxpat's
own modules, and a plugin is loaded only after the fork, by the executor. The
judge uses the fork server only where a fork starts the same executor a fresh
interpreter would: while the environment (except ``PYTEST_CURRENT_TEST``) and
the working folder are those the server started with. Otherwise, and whenever
the server cannot start or has gone, :class:`._pool.Executor` starts a fresh
interpreter as before. ``JAXPAT_NO_FORK_SERVER=1`` turns it off.

The server reaps its children and tells the judge each one's exit status, so
the judge reports "exit status 3" or "killed by signal SIGKILL" as it does for
a process of its own.
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
from collections.abc import Sequence
from typing import IO, Any

__all__ = ["ForkServer", "ForkedProcess", "close_shared", "shared"]

#: The largest control message (bytes): a request carries argv, the environment and the working folder.
MAX_MESSAGE = 1 << 20
#: Environment variables that may differ from the server's start without refusing a fork (pytest sets this one
#: around each test; the executor gets the judge's value all the same).
ENV_FREE = ("PYTEST_CURRENT_TEST",)


def _comparable(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in ENV_FREE}


class ForkedProcess:
    """The judge's handle on an executor forked by the server: the part of :class:`subprocess.Popen` that
    :class:`._pool.Executor` uses (``pid``, ``args``, the three pipes, ``poll``, ``wait``, ``returncode``)."""

    def __init__(self, server: ForkServer, pid: int, serial: int, args: list[str], stdin: IO[bytes],
                 stdout: IO[bytes], stderr: IO[bytes]) -> None:
        self.server, self.pid, self.serial, self.args = server, pid, serial, args
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.server._status(self.pid, self.serial, 0.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = self.server._status(self.pid, self.serial, timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
        return self.returncode


class ForkServer:
    """One plugin-free process that has imported JAX, forking executors on request (see the module)."""

    def __init__(self) -> None:
        """Start the server (it imports JAX meanwhile; :meth:`spawn` waits for it)."""
        self.env = _comparable(dict(os.environ))
        self.cwd = os.getcwd()
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._lock = threading.Lock()  # one request at a time
        self._cond = threading.Condition()
        self._ready: bool | None = None  # None: still importing
        self._spawned: list[dict[str, Any]] = []
        self._exits: dict[int, int] = {}  # fork's serial number -> exit status (a pid may be reused)
        self._gone = False
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "jaxpat.conformance._forkserver", str(theirs.fileno())],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True)
        finally:
            theirs.close()
        self._reader = threading.Thread(target=self._read, name="jaxpat-fork-server", daemon=True)
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
                    self._ready = bool(msg["ready"])
                elif "spawned" in msg:
                    self._spawned.append(msg)
                elif "exit" in msg:
                    self._exits[int(msg["serial"])] = int(msg["code"])
                self._cond.notify_all()

    def usable(self) -> bool:
        """Whether a fork now starts the executor a fresh interpreter would (same environment and folder)."""
        return _comparable(dict(os.environ)) == self.env and os.getcwd() == self.cwd

    def spawn(self, args: Sequence[str], wait: float = 300.0) -> ForkedProcess | None:
        """Fork an executor with ``args`` (those of ``python -m jaxpat.conformance._executor``); None when the
        server cannot serve it (not usable here, failed to start, gone): the caller starts a fresh interpreter."""
        if not self.usable():
            return None
        with self._cond:
            if not self._cond.wait_for(lambda: self._ready is not None, wait) or not self._ready or self._gone:
                return None
        with self._lock:
            pipes = [os.pipe() for _ in range(3)]  # stdin, stdout, stderr: (read end, write end)
            theirs = [pipes[0][0], pipes[1][1], pipes[2][1]]
            ours = [pipes[0][1], pipes[1][0], pipes[2][0]]
            msg = {"args": list(args), "env": dict(os.environ), "cwd": os.getcwd()}
            try:
                socket.send_fds(self._sock, [json.dumps(msg).encode()], theirs)
                with self._cond:
                    self._cond.wait_for(lambda: self._spawned or self._gone, wait)
                    answer = self._spawned.pop(0) if self._spawned else None
            except OSError:
                answer = None
            finally:
                for fd in theirs:
                    os.close(fd)
            if answer is None or not isinstance(answer.get("pid"), int) or not isinstance(answer.get("serial"), int):
                for fd in ours:
                    os.close(fd)
                return None
        return ForkedProcess(self, answer["pid"], answer["serial"], ["<fork>", *args], os.fdopen(ours[0], "wb"),
                             os.fdopen(ours[1], "rb"), os.fdopen(ours[2], "rb"))

    def _status(self, pid: int, serial: int, timeout: float | None) -> int | None:
        """The exit status of fork ``serial`` (process ``pid``) as the server reaped it (waiting up to
        ``timeout`` seconds; None: no limit), or None while it runs. Once the server has gone, a process that
        no longer exists ended unseen: -9."""
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
        """End the server (its executors are the pool's to end: each has a session of its own)."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)
        with contextlib.suppress(Exception):
            self.proc.kill()
            self.proc.wait(timeout=5)
        self._sock.close()


_SHARED: ForkServer | None = None
_SHARED_PID = 0


def shared(start: bool = True) -> ForkServer | None:
    """This process's fork server (started on first call with ``start``); None where it is turned off
    (``JAXPAT_NO_FORK_SERVER``), cannot start, or the platform is not Linux (elsewhere fork() after importing
    NumPy or JAX is not known to be safe: macOS's system libraries refuse it)."""
    global _SHARED, _SHARED_PID
    if _SHARED is not None and not _SHARED._gone and os.getpid() == _SHARED_PID:
        return _SHARED
    if not start or not sys.platform.startswith("linux") or not hasattr(socket, "send_fds"):
        return None
    from jaxpat import _env

    try:
        if _env.flag(_env.NO_FORK_SERVER):
            return None
    except _env.EnvError:
        return None  # refused with its message where the run checks its environment (pytest_configure)
    try:
        _SHARED, _SHARED_PID = ForkServer(), os.getpid()
    except OSError:
        return None
    return _SHARED


def close_shared() -> None:
    """End this process's fork server, if it started one (its executors are ended first: the pool's close)."""
    global _SHARED
    server, _SHARED = _SHARED, None
    if server is not None and os.getpid() == _SHARED_PID:
        server.close()


# ---------------------------------------------------------------------------
# the server's side
# ---------------------------------------------------------------------------

def _child(fds: list[int], msg: dict[str, Any], ctl: socket.socket, own: Sequence[int]) -> None:
    """In the fork: become the executor (never returns). ``own`` are the server's descriptors, closed here."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        ctl.close()
        for fd in own:
            if fd >= 0:
                os.close(fd)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setsid()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update(msg["env"])
        os.chdir(msg["cwd"])
        args = [str(a) for a in msg["args"]]
        sys.argv = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "_executor.py"), *args]
        from . import _executor

        code = _executor.main(args)
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
    except BaseException:
        with contextlib.suppress(Exception):
            import traceback

            os.write(2, traceback.format_exc().encode("utf-8", "replace"))
    os._exit(code)


def serve(fd: int) -> int:
    """Import what every executor imports, then fork one per request until the judge closes the socket."""
    import selectors

    ctl = socket.socket(fileno=fd)
    try:
        # what an executor imports before it loads its plugin (_executor._setup_jax, _Server); no plugin, no backend
        import jax
        import jax.monitoring

        import jaxpat.patterns  # noqa: F401

        from . import (  # noqa: F401
            _compare,
            _execute,
            _executor,
            _judge,
            _measure,
            _memory,
            _observe,
            _placement,
            _setup,
            _wire,
        )

        del jax
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
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the judge ends this process (it closes the socket)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sel = selectors.DefaultSelector()
    sel.register(ctl, selectors.EVENT_READ)
    sel.register(wake_r, selectors.EVENT_READ)
    ctl.send(json.dumps({"ready": True, "pid": os.getpid()}).encode())

    counter = itertools.count(1)
    serials: dict[int, int] = {}  # pid -> serial number of the fork (a pid is reused once reaped)

    def reap() -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            ctl.send(json.dumps({"exit": pid, "serial": serials.pop(pid, -1),
                                 "code": os.waitstatus_to_exitcode(status)}).encode())

    try:
        while True:
            for key, _ in sel.select():
                if key.fileobj == wake_r:
                    with contextlib.suppress(BlockingIOError):
                        os.read(wake_r, 4096)
                    reap()
                    continue
                data, fds, _flags, _addr = socket.recv_fds(ctl, MAX_MESSAGE, 3)
                if not data:
                    return 0
                try:
                    msg = json.loads(data)
                except ValueError:
                    msg = None
                if not isinstance(msg, dict) or len(fds) != 3:
                    for f in fds:
                        os.close(f)
                    ctl.send(json.dumps({"spawned": None}).encode())
                    continue
                pid = os.fork()
                if pid == 0:
                    _child(fds, msg, ctl, (wake_r, wake_w, getattr(sel, "fileno", lambda: -1)()))
                for f in fds:
                    os.close(f)
                serials[pid] = serial = next(counter)
                ctl.send(json.dumps({"spawned": True, "pid": pid, "serial": serial}).encode())
            reap()
    except (BrokenPipeError, ConnectionResetError):
        return 0


if __name__ == "__main__":
    os._exit(serve(int(sys.argv[1])))
