"""The judge's side of the executor boundary: start executors, send requests, enforce budgets from outside.

Each judge process (a pytest-xdist worker, or the single pytest process)
keeps at most one executor per plugin (:mod:`._executor`), started on first
use. Requests and answers are JSON lines over pipes -- nothing is pickled.
Budgets are enforced here, by the parent: past its limit an executor's
process group is sent ``SIGUSR1`` (it writes its threads' stacks), then
``SIGKILL``, and the request fails with the limit, the time taken and the
stacks; code holding the GIL in the executor cannot delay this. An executor
that dies (``os._exit``, a signal, the OOM killer) fails the request it was
serving, saying how, and a fresh one serves the next. After
:data:`QUARANTINE_AFTER` crashes or timeouts, an implementation's remaining
requests fail at once, naming what happened before.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._forkserver import ForkServer

__all__ = ["QUARANTINE_AFTER", "Executor", "ExecutorFailure", "Pool"]

#: Must equal ``_executor.END_OF_OUTPUT`` (the executor is not imported here: it is the other side).
END_OF_OUTPUT = "\x00jaxpat-end-of-output"

#: Crashes or timeouts of one implementation after which its remaining items fail without running.
QUARANTINE_AFTER = 2
#: The largest answer an executor may send (bytes); a larger one is a failure of that request.
MAX_ANSWER = 512 * 1024 * 1024
#: Captured output kept per executor (characters, the most recent).
MAX_OUTPUT = 2_000_000
#: Seconds an executor gets beyond its plugin's import and hook budgets (reading the files, registering).
PHASE_SLACK = 5.0
#: Seconds between SIGUSR1 (stacks) and SIGKILL.
STACK_GRACE = 1.0


class ExecutorFailure(Exception):
    """A request did not get an answer: ``kind`` is ``timeout``, ``crashed``, ``start`` or ``protocol``."""

    def __init__(self, kind: str, message: str, *, elapsed: float = 0.0, limit: float | None = None,
                 stack: str = "") -> None:
        super().__init__(message)
        self.kind, self.message, self.elapsed, self.limit, self.stack = kind, message, elapsed, limit, stack


def _python_cmd() -> list[str]:
    return [sys.executable, "-X", "faulthandler", "-m", "jaxpat.conformance._executor"]


class Executor:
    """One executor process and its pipes (the judge's handle on it)."""

    def __init__(self, args: Sequence[str], *, env: dict[str, str] | None = None,
                 clock: Callable[[], float] = time.monotonic, command: Sequence[str] | None = None,
                 server: ForkServer | None = None) -> None:
        """Start ``python -m jaxpat.conformance._executor ARGS`` (``command`` replaces that, for tests): forked
        from ``server`` (:mod:`._forkserver`) where it can serve it, otherwise a fresh interpreter."""
        self.args = list(args)
        self.clock = clock
        forked = server.spawn(self.args) if server is not None and command is None and env is None else None
        self.forked = forked is not None
        # a Popen or a ForkedProcess (the part of Popen this class uses): its pipes are never None here
        self.proc: Any = forked if forked is not None else subprocess.Popen(
            [*(command if command is not None else _python_cmd()), *self.args], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, env=env,
        )
        self._out = bytearray()
        self._err: list[str] = []
        self._err_chars = 0
        self._err_lock = threading.Lock()
        self._err_more = threading.Condition(self._err_lock)  # notified whenever the reader adds output
        self._reader = threading.Thread(target=self._drain, name="jaxpat-executor-stderr", daemon=True)
        self._reader.start()
        self.seq = 0

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for raw in iter(lambda: self.proc.stderr.read1(65536), b""):
            text = raw.decode("utf-8", "replace")
            with self._err_more:
                self._err.append(text)
                self._err_chars += len(text)
                while self._err_chars > MAX_OUTPUT and len(self._err) > 1:
                    self._err_chars -= len(self._err.pop(0))
                self._err_more.notify_all()
        with self._err_more:
            self._err_more.notify_all()  # end of output: a waiting output_of stops waiting

    def take_output(self) -> str:
        """What the executor wrote to stdout/stderr since the last call (the plugin's prints, warnings)."""
        with self._err_lock:
            text, self._err, self._err_chars = "".join(self._err), [], 0
        return text

    def output_of(self, seq: int, wait: float = 5.0) -> str:
        """The output of request ``seq``: up to the executor's end-of-output marker (waiting for the reader
        thread to get there, at most ``wait`` seconds), without the marker."""
        marker = f"{END_OF_OUTPUT} {seq}\n"
        deadline = time.monotonic() + wait
        with self._err_more:
            while True:
                text = "".join(self._err)
                i = text.find(marker)
                if i >= 0:
                    rest = text[i + len(marker):]
                    self._err, self._err_chars = ([rest] if rest else []), len(rest)
                    return text[:i]
                left = deadline - time.monotonic()
                if left <= 0 or not self._reader.is_alive():
                    break
                # woken as soon as the reader adds output (it used to poll every 5 ms: up to 5 ms per item)
                self._err_more.wait(min(left, 0.1))
        return self.take_output()

    def read(self, limit: float | None) -> dict[str, Any]:
        """The next answer line, within ``limit`` seconds (None: no limit); ExecutorFailure otherwise."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        start = self.clock()
        sel = selectors.DefaultSelector()
        sel.register(fd, selectors.EVENT_READ)
        try:
            while b"\n" not in self._out:
                left = None if limit is None else limit - (self.clock() - start)
                if left is not None and left <= 0:
                    raise self._timeout(limit or 0.0, self.clock() - start)
                if not sel.select(timeout=None if left is None else min(left, 1.0)):
                    continue
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise self._died(self.clock() - start)
                self._out += chunk
                if len(self._out) > MAX_ANSWER:
                    self.kill()
                    raise ExecutorFailure("protocol", f"the executor's answer exceeded {MAX_ANSWER} bytes")
        finally:
            sel.close()
        line, _, rest = bytes(self._out).partition(b"\n")
        self._out = bytearray(rest)
        try:
            answer = json.loads(line)
        except ValueError as exc:
            self.kill()
            raise ExecutorFailure("protocol", f"the executor sent a line that is not JSON: {exc}") from None
        if not isinstance(answer, dict):
            self.kill()
            raise ExecutorFailure("protocol", "the executor sent an answer that is not a JSON object")
        return answer

    def request(self, msg: dict[str, Any], limit: float | None) -> dict[str, Any]:
        """Send ``msg`` and wait for its answer (see :meth:`read`)."""
        assert self.proc.stdin is not None
        self.seq += 1
        data = json.dumps({**msg, "seq": self.seq}, separators=(",", ":")).encode() + b"\n"
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._died(0.0) from None
        while True:
            answer = self.read(limit)
            if answer.get("seq") == self.seq:
                return answer

    def _timeout(self, limit: float, elapsed: float) -> ExecutorFailure:
        stack = ""
        if self.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGUSR1)
            time.sleep(STACK_GRACE)
            stack = self.take_output()
        self.kill()
        return ExecutorFailure("timeout", f"the item ran longer than {limit:g} s", elapsed=elapsed, limit=limit,
                               stack=_stack_of(stack))

    def _died(self, elapsed: float) -> ExecutorFailure:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.returncode
        self._reader.join(timeout=2)
        tail = self.take_output().strip()
        self.kill()
        how = (f"killed by signal {signal.Signals(-code).name}" if code is not None and code < 0
               and -code in signal.Signals._value2member_map_ else f"exit status {code}")
        return ExecutorFailure("crashed", f"the executor process ended ({how})", elapsed=elapsed,
                               stack=tail[-2500:])

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """End the executor and everything it started (its process group)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(Exception):
                stream.close()
        self._reader.join(timeout=2)
        with contextlib.suppress(Exception):
            self.proc.stderr.close()

    def close(self) -> None:
        """Ask the executor to exit, then make sure it did."""
        if self.alive():
            with contextlib.suppress(Exception):
                self.proc.stdin.write(b'{"op":"bye"}\n')
                self.proc.stdin.flush()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=2)
        self.kill()


def _stack_of(text: str) -> str:
    """The thread dump faulthandler wrote (the end of ``text``), most recent call last per thread."""
    i = text.find("Thread 0x")
    if i < 0:
        i = text.find("Current thread")
    return (text[i:] if i >= 0 else text)[-4000:]


@dataclass
class Pool:
    """The executors of one judge process, one per plugin, and what they said when they started."""

    base_args: list[str] = field(default_factory=list)
    #: seconds for an executor to import JAX and say it is about to load its plugin
    start_limit: float = 300.0
    clock: Callable[[], float] = time.monotonic
    executors: dict[str, Executor] = field(default_factory=dict)
    hellos: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: implementation id -> what ended its executor, in order (crashes and timeouts)
    incidents: dict[str, list[str]] = field(default_factory=dict)
    #: plugin -> the largest peak resident memory (bytes) its executors reported
    peaks: dict[str, int] = field(default_factory=dict)
    #: fork executors from this process's fork server (:mod:`._forkserver`) where it can serve them
    fork: bool = True

    def start(self, plugin: str) -> dict[str, Any]:
        """Start ``plugin``'s executor (if not running) and return its hello; ExecutorFailure("start") if it fails."""
        ex = self.executors.get(plugin)
        if ex is not None and ex.alive() and plugin in self.hellos:
            return self.hellos[plugin]
        self.spawn([plugin])
        return self._greet(plugin)

    def start_all(self, plugins: Sequence[str]) -> dict[str, dict[str, Any] | ExecutorFailure]:
        """Start the executors of ``plugins`` side by side; each one's hello, or the failure that ended it."""
        self.spawn(plugins)
        out: dict[str, dict[str, Any] | ExecutorFailure] = {}
        for plugin in plugins:
            try:
                out[plugin] = self.start(plugin)
            except ExecutorFailure as exc:
                out[plugin] = exc
        return out

    def spawn(self, plugins: Sequence[str]) -> None:
        """Start the processes of ``plugins`` that are not running (they load their plugin meanwhile)."""
        for plugin in plugins:
            ex = self.executors.get(plugin)
            if ex is None or not ex.alive():
                self.hellos.pop(plugin, None)
                self.executors[plugin] = Executor([*self.base_args, "--plugin", plugin], clock=self.clock,
                                                  server=_fork_server() if self.fork else None)

    def _greet(self, plugin: str) -> dict[str, Any]:
        ex = self.executors[plugin]
        stage = "start"
        try:
            hello = ex.read(self.start_limit)
            while "phase" in hello:  # plugin code runs: its import and hook budgets, enforced from here
                stage, budget = str(hello["phase"]), hello.get("budget")
                if stage == "jaxpat" or not isinstance(budget, int | float) or budget <= 0:
                    limit = self.start_limit
                else:
                    limit = float(budget) + PHASE_SLACK
                hello = ex.read(limit)
        except ExecutorFailure as exc:
            if exc.kind == "timeout" and stage not in ("start", "jaxpat"):
                exc.message = (f"its {stage} took longer than its budget and its process was ended from outside "
                               f"after {exc.elapsed:.1f} s (JAXPAT_PLUGIN_IMPORT_TIMEOUT / "
                               "JAXPAT_PLUGIN_HOOK_TIMEOUT)")
            ex.kill()
            del self.executors[plugin]
            output = ex.take_output().strip()
            detail = exc.stack or output
            raise ExecutorFailure("start", f"the plugin's executor did not start: {exc.message}"
                                  + (f"\n{detail[-3000:]}" if detail else ""), elapsed=exc.elapsed,
                                  limit=exc.limit) from None
        if hello.get("fatal"):
            ex.kill()
            del self.executors[plugin]
            raise ExecutorFailure("start", f"the plugin's executor failed to start:\n{hello['fatal']}")
        ex.take_output()
        self.hellos[plugin] = hello
        return hello

    def request(self, plugin: str, impl: str, msg: dict[str, Any], limit: float | None) -> tuple[dict[str, Any], str]:
        """``(answer, captured output)`` of one request to ``plugin``'s executor, on behalf of implementation ``impl``.

        A crash or a timeout is recorded against ``impl`` and raised as
        :class:`ExecutorFailure`; the next request starts a fresh executor.
        """
        past = self.incidents.get(impl, [])
        if len(past) >= QUARANTINE_AFTER:
            raise ExecutorFailure("quarantined", f"not run: implementation {impl} was quarantined after {len(past)} "
                                  "crashes or timeouts of its executor (" + "; ".join(past) + ")")
        self.start(plugin)
        ex = self.executors[plugin]
        ex.take_output()
        try:
            answer = ex.request(msg, limit)
            output = ex.output_of(ex.seq)
            peak = answer.get("peak_rss")
            if isinstance(peak, int) and peak > self.peaks.get(plugin, 0):
                self.peaks[plugin] = peak
        except ExecutorFailure as exc:
            if exc.kind in ("timeout", "crashed"):
                self.incidents.setdefault(impl, []).append(f"{msg.get('pattern')}/{msg.get('case') or ''}: "
                                                           f"{exc.kind}")
            ex.kill()
            raise
        return answer, output

    def retire(self, plugin: str) -> None:
        """End ``plugin``'s executor now (it has nothing to run here); its hello is kept."""
        ex = self.executors.pop(plugin, None)
        if ex is not None:
            ex.close()

    def close(self) -> None:
        for ex in self.executors.values():
            ex.close()
        self.executors.clear()


def _fork_server() -> ForkServer | None:
    from ._forkserver import shared

    return shared()


def probe(args: Sequence[str], limit: float, *, fork: bool = False) -> dict[str, Any]:
    """What a plugin-free executor says about this host (devices, JAX); ExecutorFailure if it cannot say."""
    return finish_probe(start_probe(args, fork=fork), limit)


def start_probe(args: Sequence[str], *, fork: bool = False) -> Executor:
    """Start a plugin-free executor that probes this host; :func:`finish_probe` reads what it says. With
    ``fork`` (a process that starts executors too), it is forked from this process's fork server, which it
    starts: the executors that follow fork from it without importing JAX again."""
    return Executor([*args, "--probe"], server=_fork_server() if fork else None)


def finish_probe(ex: Executor, limit: float) -> dict[str, Any]:
    """The answer of the probe ``ex`` (:func:`probe`), waiting at most ``limit`` seconds from now."""
    try:
        answer = ex.read(limit)
    except ExecutorFailure:
        ex.kill()
        raise
    ex.close()
    if answer.get("fatal"):
        raise ExecutorFailure("start", f"JAX could not start here:\n{answer['fatal']}")
    return answer
