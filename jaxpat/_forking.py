"""What jaxpat's two fork servers share: processes forked from a plugin-free process that imported once.

``conformance/_forkserver.py`` forks a conformance run's executors; ``patterns/_zygote.py`` forks the plugin
processes of ``jaxpat list``, ``show``, ``validate`` and ``plugins``. Both talk to their client over a Unix
socket (JSON; the child's standard streams are pipes the client made, passed with the request), and both:

- fork each child into a session of its own before the client hears of it (:func:`fork_in_session`: the
  client's first kill may come at once, to the process group);
- turn the child into a clean process before it runs anything (:func:`become_child`);
- reap the children and tell the client each one's exit status (:func:`reap`), which the client's handle
  (:class:`Forked`, through :class:`Owner`) reports as :class:`subprocess.Popen` would.

Nothing here imports JAX or a plugin; the servers decide what they import before forking.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Sequence
from typing import IO, Any

__all__ = ["MAX_MESSAGE", "Forked", "Owner", "become_child", "fork_in_session", "quiet_server", "reap", "receive",
           "report_crash", "selector_fd"]


#: The largest control message (bytes): a request carries argv, the environment and the working folder.
MAX_MESSAGE = 1 << 20


class Owner:
    """The client's side of a fork server, over its socket ``_sock``: the server's messages as they arrive
    (:meth:`_read`, in a thread), a request and its answer (:meth:`_request`), and the exit statuses the server
    reports (:meth:`_status`). A subclass calls :meth:`_owner_init` and starts :meth:`_read`'s thread."""

    _sock: socket.socket

    def _owner_init(self) -> None:
        self._lock = threading.Lock()  # one request at a time
        self._cond = threading.Condition()
        self._ready: bool | None = None  # None: the server is still importing
        self._answers: list[dict[str, Any]] = []
        self._exits: dict[int, int] = {}  # fork's serial number -> exit status (a pid may be reused)
        self._gone = False

    def _on_ready(self, msg: dict[str, Any]) -> None:
        """What the server's "ready" message says beyond it (a subclass's; called holding the condition)."""

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
                    self._on_ready(msg)
                    self._ready = msg["ready"] is True
                elif "spawned" in msg:
                    self._answers.append(msg)
                elif "exit" in msg and isinstance(msg.get("serial"), int) and isinstance(msg.get("code"), int):
                    self._exits[msg["serial"]] = msg["code"]
                self._cond.notify_all()

    def _request(self, msg: dict[str, Any], theirs: list[int], wait: float) -> tuple[int, int] | None:
        """Ask for a fork (``msg``, with the child's ends of its pipes ``theirs``, which are closed here): its
        ``(pid, serial)``, or None when the server did not fork it (gone, or no answer within ``wait`` seconds:
        then it is taken for gone, since a late answer would be taken for the next request's)."""
        with self._lock:
            try:
                socket.send_fds(self._sock, [json.dumps(msg).encode()], theirs)
                with self._cond:
                    self._cond.wait_for(lambda: self._answers or self._gone, wait)
                    answer = self._answers.pop(0) if self._answers else None
                    if answer is None:
                        self._gone = True
            except OSError:
                answer = None
            finally:
                for fd in theirs:
                    os.close(fd)
        if answer is None or not isinstance(answer.get("pid"), int) or not isinstance(answer.get("serial"), int):
            return None
        return answer["pid"], answer["serial"]

    def _end(self, proc: subprocess.Popen[bytes] | None) -> None:
        """Close the socket (the server ends when it sees that) and, when this process started the server
        (``proc``), wait a little for it to end, then kill it."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        if proc is not None:
            with contextlib.suppress(Exception):
                proc.wait(timeout=5)
            with contextlib.suppress(Exception):
                proc.kill()
                proc.wait(timeout=5)
        self._sock.close()

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


class Forked:
    """The client's handle on a process its server forked: the part of :class:`subprocess.Popen` that jaxpat
    uses (``pid``, ``args``, the pipes it was given, ``poll``, ``wait``, ``returncode``)."""

    def __init__(self, owner: Owner, pid: int, serial: int, args: list[str], stdin: IO[bytes] | None,
                 stdout: IO[bytes], stderr: IO[bytes]) -> None:
        self.owner, self.pid, self.serial, self.args = owner, pid, serial, args
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.owner._status(self.pid, self.serial, 0.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = self.owner._status(self.pid, self.serial, timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
        return self.returncode


def quiet_server() -> tuple[selectors.BaseSelector, int, int]:
    """Make this process a server that forks (after its imports): its objects frozen (shared with every fork
    until written), SIGINT ignored (its client ends it by closing the socket), and SIGCHLD waking a selector
    through a pipe. Returns the selector (the pipe's read end registered) and the pipe's two ends."""
    import gc
    import warnings

    # Python 3.12 warns on fork() in a process with threads; NumPy's BLAS pool has its own fork handlers
    warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
    gc.collect()
    gc.freeze()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sel = selectors.DefaultSelector()
    sel.register(wake_r, selectors.EVENT_READ)
    return sel, wake_r, wake_w


def reap(wake_r: int, report: Callable[[int, int], None]) -> None:
    """Empty the wake pipe, then reap every child that ended: ``report(pid, exit status)`` for each (a negative
    status: the signal that killed it, as :class:`subprocess.Popen` says)."""
    with contextlib.suppress(BlockingIOError):
        os.read(wake_r, 4096)
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        report(pid, os.waitstatus_to_exitcode(status))


def receive(sock: socket.socket, fds: int) -> tuple[Any, list[int]] | None:
    """A client's next request on ``sock``: its JSON (None if it is not JSON) and up to ``fds`` file descriptors
    passed with it; None once the client has closed its socket."""
    try:
        data, passed, _flags, _addr = socket.recv_fds(sock, MAX_MESSAGE, fds)
    except OSError:
        data, passed = b"", []
    if not data:
        for f in passed:
            os.close(f)
        return None
    try:
        return json.loads(data), passed
    except ValueError:
        return None, passed


def fork_in_session(child: Callable[[], None]) -> int:
    """Fork; the child makes a session of its own, then runs ``child()``, which must not return (it ends with
    ``os._exit``). Returns the child's pid once it has its session (or has ended)."""
    started_r, started_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.setsid()  # before the client hears of it: its first kill may come at once, to the process group
        os.close(started_w)
        os.close(started_r)
        try:
            child()
        finally:
            os._exit(1)
    os.close(started_w)
    os.read(started_r, 1)  # end of file once the fork has its session (or has ended)
    os.close(started_r)
    return pid


def become_child(sockets: Sequence[socket.socket], fds: Sequence[int], streams: Sequence[int]) -> None:
    """In a fork: close the server's ``sockets`` and ``fds`` (its selector, its wake pipe), give SIGCHLD and SIGINT
    their usual handling back, and make ``streams`` the standard streams, in order (0, 1, 2 or 1, 2)."""
    signal.set_wakeup_fd(-1)
    for sock in sockets:
        sock.close()
    for fd in fds:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    first = 3 - len(streams)
    for target, fd in enumerate(streams, start=first):
        os.dup2(fd, target)
        os.close(fd)


def report_crash() -> None:
    """In a fork whose work raised: its traceback on its standard error (best effort)."""
    with contextlib.suppress(Exception):
        import traceback

        os.write(2, traceback.format_exc().encode("utf-8", "replace"))


def selector_fd(sel: Any) -> int:
    """The selector's own file descriptor (epoll's), or -1: a fork closes it."""
    return int(getattr(sel, "fileno", lambda: -1)())
