"""Executors forked from a process that has imported JAX once, instead of each importing it again.

An executor's start is mostly Python importing JAX, NumPy and jaxpat (0.7-1.0 s of
CPU each time); a run starts one per plugin per judge process, and again after
every crash or timeout. :class:`ForkServer` starts one plugin-free process
(``python -m jaxpat.conformance._forkserver``) that imports them, without
starting any JAX backend (JAX's backends start threads, and fork with threads
may deadlock: JAX warns only once a backend is up). Each executor is then a
fork of it that runs :func:`._executor.main`: the same code as
``python -m jaxpat.conformance._executor``, in a process of its own, with its
own session (made before the judge hears of the fork: the judge ends its
process group), standard streams (pipes the judge made, passed over a Unix
socket: nothing is pickled) and the judge's environment and working folder.

No plugin code ever runs in the fork server: it imports only JAX and jaxpat's
own modules, and a plugin is loaded only after the fork, by the executor.
Before its first executor's fork it also parses the shipped catalog, as each
executor would (:func:`preload`): the forks find the parse in memory. A
judge uses a fork server only where a fork starts the same executor a fresh
interpreter would: while its environment (but for :data:`ENV_FREE`) and working
folder are those the server started with. Otherwise, whenever the server
cannot start or has gone, off Linux, and with ``JAXPAT_NO_FORK_SERVER=1``,
:class:`._pool.Executor` starts a fresh interpreter as before.

There is one server per judge that starts executors, except under an xdist
controller of local workers: the controller starts one that also listens on a
Unix socket in a folder only this user can enter, its probe is the first fork,
and its workers connect to it (:func:`offer`, :func:`shared`).

The server reaps its children and tells the judge that asked for each one its
exit status, so the judge reports "exit status 3" or "killed by signal SIGKILL"
as it does for a process of its own.
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
from collections.abc import Sequence
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

__all__ = ["ForkServer", "ForkedProcess", "close_shared", "offer", "shared"]

#: Environment variables (prefixes) that may differ between the server and a judge it forks for: pytest's and
#: xdist's own (pytest sets PYTEST_CURRENT_TEST around each test), the per-worker memory settings JAX reads when a
#: backend starts, after the fork, and the terminal size. The fork gets the judge's values all the same.
ENV_FREE = ("PYTEST_", "XLA_PYTHON_CLIENT_", "COLUMNS", "LINES")


def _comparable(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if not k.startswith(ENV_FREE)}


#: The judge's handle on an executor forked by the server: the part of :class:`subprocess.Popen` that
#: :class:`._pool.Executor` uses (``pid``, ``args``, the three pipes, ``poll``, ``wait``, ``returncode``).
ForkedProcess = Forked


class ForkServer(Owner):
    """One plugin-free process that has imported JAX, forking executors on request (see the module)."""

    def __init__(self, *, listen: bool = False, connect: str | None = None) -> None:
        """Start the server (it imports JAX meanwhile; :meth:`spawn` waits for it). With ``listen``, it also takes
        connections from other judges (an xdist controller's local workers) at :attr:`address`. With ``connect``,
        start nothing: use the server listening at that address."""
        self._owner_init()
        self.env: dict[str, str] = {}  # the server's environment and folder (its "ready" message)
        self.cwd = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self.pid = 0  # the server's, once it said it is ready
        #: True when this process uses another judge's server (an xdist worker, its controller's)
        self.shared = connect is not None
        self.address: str | None = None
        self._folder: str | None = None
        if connect is not None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                self._sock.connect(connect)
            except OSError:
                self._sock.close()
                raise
        else:
            self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            fds = [theirs.fileno()]
            listener = self._listener() if listen else None
            if listener is not None:
                fds.append(listener.fileno())
            try:
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "jaxpat.conformance._forkserver", *map(str, fds)],
                    pass_fds=fds, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, start_new_session=True)
            finally:
                theirs.close()
                if listener is not None:
                    listener.close()
        self._reader = threading.Thread(target=self._read, name="jaxpat-fork-server", daemon=True)
        self._reader.start()

    def _listener(self) -> socket.socket | None:
        """A listening socket in a folder of its own (mode 0700: only this user connects); None if none can be
        made (a path too long for a Unix socket): the server then serves this process alone."""
        import tempfile

        folder = tempfile.mkdtemp(prefix="jaxpat-fork-")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            sock.bind(os.path.join(folder, "s"))
            sock.listen(64)
        except OSError:
            sock.close()
            os.rmdir(folder)
            return None
        self._folder, self.address = folder, os.path.join(folder, "s")
        return sock

    def _on_ready(self, msg: dict[str, Any]) -> None:
        self.pid = int(msg.get("pid") or 0)
        env = msg.get("env")
        self.env = _comparable(env) if isinstance(env, dict) else {}
        self.cwd = str(msg.get("cwd") or "")

    def wait_ready(self, wait: float = 300.0) -> bool:
        """Wait (at most ``wait`` seconds) until the server has imported JAX; whether it serves."""
        with self._cond:
            self._cond.wait_for(lambda: self._ready is not None, wait)
            return bool(self._ready) and not self._gone

    def usable(self) -> bool:
        """Whether a fork now starts the executor a fresh interpreter would: the server is up, this process's
        environment is the server's (but for what JAX reads only when a backend starts, :data:`ENV_FREE`) and
        so is its working folder."""
        return bool(self._ready) and not self._gone and _comparable(dict(os.environ)) == self.env \
            and os.getcwd() == self.cwd

    def spawn(self, args: Sequence[str], wait: float = 300.0) -> ForkedProcess | None:
        """Fork an executor with ``args`` (those of ``python -m jaxpat.conformance._executor``); None when the
        server cannot serve it (not usable here, failed to start, gone): the caller starts a fresh interpreter."""
        if not self.wait_ready(wait) or not self.usable():
            return None
        pipes = [os.pipe() for _ in range(3)]  # stdin, stdout, stderr: (read end, write end)
        theirs = [pipes[0][0], pipes[1][1], pipes[2][1]]
        ours = [pipes[0][1], pipes[1][0], pipes[2][0]]
        forked = self._request({"args": list(args), "env": dict(os.environ), "cwd": os.getcwd()}, theirs, wait)
        if forked is None:
            for fd in ours:
                os.close(fd)
            return None
        return ForkedProcess(self, *forked, ["<fork>", *args], os.fdopen(ours[0], "wb"), os.fdopen(ours[1], "rb"),
                             os.fdopen(ours[2], "rb"))

    def close(self) -> None:
        """End the server if this process started it, else leave it (its executors are the pool's to end: each
        has a session of its own)."""
        self._end(self.proc)
        if self._folder is not None and self.address is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.address)
            with contextlib.suppress(OSError):
                os.rmdir(self._folder)


_SHARED: ForkServer | None = None
_SHARED_PID = 0
#: The address of the server this process was offered (an xdist worker: its controller's), tried once.
_OFFERED: str | None = None


def offer(address: str | None) -> None:
    """Use the fork server listening at ``address`` (an xdist worker is handed its controller's), where it can
    serve this process; :func:`shared` tries it once, before starting one of its own."""
    global _OFFERED
    _OFFERED = address if isinstance(address, str) and address else None


def shared(start: bool = True, *, listen: bool = False) -> ForkServer | None:
    """This process's fork server (one offered is connected to, whatever ``start`` says; one of its own is
    started on first call with ``start``; with ``listen``, one that this
    process's local xdist workers can use too, see :meth:`ForkServer.__init__`); None where it is turned off
    (``JAXPAT_NO_FORK_SERVER``), cannot start, or the platform is not Linux (elsewhere fork() after importing
    NumPy or JAX is not known to be safe: macOS's system libraries refuse it). A server offered by
    :func:`offer` is used when it is up and serves this process's environment (:meth:`ForkServer.usable`)."""
    global _SHARED, _SHARED_PID, _OFFERED
    if _SHARED is not None and not _SHARED._gone and os.getpid() == _SHARED_PID:
        return _SHARED
    if (not start and _OFFERED is None) or not sys.platform.startswith("linux") or not hasattr(socket, "send_fds"):
        return None
    from jaxpat import _env

    try:
        if _env.flag(_env.NO_FORK_SERVER):
            return None
    except _env.EnvError:
        return None  # refused with its message where the run checks its environment (pytest_configure)
    offered, _OFFERED = _OFFERED, None
    if offered is not None:
        try:
            server = ForkServer(connect=offered)
        except OSError:
            pass
        else:
            if server.wait_ready() and server.usable():
                _SHARED, _SHARED_PID = server, os.getpid()
                return server
            server.close()
    if not start:
        return None
    try:
        _SHARED, _SHARED_PID = ForkServer(listen=listen), os.getpid()
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

def _child(fds: list[int], msg: dict[str, Any], sockets: Sequence[socket.socket], own: Sequence[int],
           set_by_imports: dict[str, str]) -> None:
    """In the fork: become the executor (never returns). ``sockets`` and ``own`` are the server's, closed here;
    the environment becomes the judge's, with what the server's imports set where the judge has no value."""
    code = 1
    try:
        become_child(sockets, own, fds)
        os.environ.clear()
        os.environ.update(msg["env"])
        for key, value in set_by_imports.items():
            os.environ.setdefault(key, value)
        os.chdir(msg["cwd"])
        args = [str(a) for a in msg["args"]]
        sys.argv = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "_executor.py"), *args]
        from . import _executor

        code = _executor.main(args)
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
    except BaseException:
        report_crash()
    os._exit(code)


def preload() -> None:
    """Parse the shipped catalog into :data:`._setup.PARSED`, as every executor would, once, in this plugin-free
    process: its forks find it there (each skips a parse of about 0.5 s of CPU). Called before the first
    executor's fork (not the probe's: the judge waits for the probe); whatever goes wrong leaves the forks to
    parse it themselves, and report it."""
    import gc

    with contextlib.suppress(Exception):
        from ._setup import PARSED, catalog_with_files

        catalog_with_files([], trust_cache=False, parsed=PARSED)
    gc.collect()
    gc.freeze()  # shared with every fork until written


def serve(fd: int, listen_fd: int | None = None) -> int:
    """Import what every executor imports, then fork one per request until the judge that started this process
    closes its socket. With ``listen_fd`` (a listening socket the judge made), other judges of the run (its local
    xdist workers) connect there and are served alike, each told of its own forks' ends."""
    import selectors

    ctl = socket.socket(fileno=fd)
    listener = socket.socket(fileno=listen_fd) if listen_fd is not None else None
    start_env = dict(os.environ)  # JAX's import sets a few variables (TF_CPP_MIN_LOG_LEVEL): the judge compares this
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
    sel, wake_r, wake_w = quiet_server()  # the judge ends this process by closing its socket
    if listener is not None:
        sel.register(listener, selectors.EVENT_READ)
    ready = json.dumps({"ready": True, "pid": os.getpid(), "env": start_env, "cwd": os.getcwd()}).encode()
    # what the imports set, as a fresh executor's own import would: each fork sets it again where the judge has not
    set_by_imports = {k: v for k, v in os.environ.items() if k not in start_env}
    clients: list[socket.socket] = []
    counter = itertools.count(1)
    owners: dict[int, tuple[socket.socket, int]] = {}  # pid -> (the client that asked, the fork's serial number)

    def send(client: socket.socket, msg: dict[str, Any]) -> None:
        try:
            client.send(json.dumps(msg).encode())
        except OSError:  # that judge has gone: its forks' ends go unreported
            drop(client)

    def drop(client: socket.socket) -> None:
        if client in clients:
            clients.remove(client)
            sel.unregister(client)
            client.close()

    def add(client: socket.socket) -> None:
        clients.append(client)
        sel.register(client, selectors.EVENT_READ)
        send(client, json.loads(ready))

    def ended(pid: int, code: int) -> None:
        client, serial = owners.pop(pid, (None, -1))
        if client is not None and client in clients:
            send(client, {"exit": pid, "serial": serial, "code": code})

    preloaded = False

    def fork(client: socket.socket, msg: Any, fds: list[int]) -> None:
        nonlocal preloaded
        if not isinstance(msg, dict) or len(fds) != 3:
            for f in fds:
                os.close(f)
            send(client, {"spawned": None})
            return
        if not preloaded and "--probe" not in (msg.get("args") or ()):
            preloaded = True
            preload()
        own = [wake_r, wake_w, selector_fd(sel)]
        sockets = [*clients, *([listener] if listener is not None else [])]
        pid = fork_in_session(lambda: _child(fds, msg, sockets, own, set_by_imports))
        for f in fds:
            os.close(f)
        serial = next(counter)
        owners[pid] = (client, serial)
        send(client, {"spawned": True, "pid": pid, "serial": serial})

    add(ctl)
    try:
        while ctl in clients:
            for key, _ in sel.select():
                if key.fileobj == wake_r:
                    reap(wake_r, ended)
                elif key.fileobj is listener:
                    with contextlib.suppress(OSError):
                        add(listener.accept()[0])
                elif key.fileobj in clients:
                    client = key.fileobj
                    assert isinstance(client, socket.socket)
                    request = receive(client, 3)
                    if request is None:  # that judge closed its socket
                        drop(client)
                        continue
                    fork(client, *request)
            reap(wake_r, ended)
    finally:
        for client in list(clients):
            drop(client)
    return 0


if __name__ == "__main__":
    os._exit(serve(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None))
