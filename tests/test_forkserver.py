"""Executors forked from the fork server (conformance/_forkserver.py) behave as fresh interpreters do.

The oracle is the fresh interpreter itself: a probe started with ``python -m
jaxpat.conformance._executor`` (JAXPAT_NO_FORK_SERVER's path) says the same
as a forked one, and where a fork could not start the same executor (the
environment changed since the server imported JAX) the judge starts a fresh
one. Exit statuses, sessions and the process group kill are checked on real
forks.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jaxpat.conformance import _forkserver
from jaxpat.conformance._forkserver import ForkServer
from jaxpat.conformance._pool import Executor, ExecutorFailure, Pool, finish_probe

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server runs on Linux only")

#: A module the forked executors load with ``--load``: what it does is chosen by the environment at import.
PLUGIN = """
import os, sys
what = os.environ.get("FORKTEST_DO", "")
if what == "exit3":
    os._exit(3)
print("forktest sees", os.environ.get("PYTEST_CURRENT_TEST"), os.getcwd(), file=sys.stderr, flush=True)
_setup = sys.modules.get("jaxpat.conformance._setup")
print("forktest parsed", len(_setup.PARSED) if _setup else 0, file=sys.stderr, flush=True)
"""


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ForkServer]:
    """A fork server whose interpreter finds ``forktest`` (the folder is on PYTHONPATH from its start)."""
    (tmp_path / "forktest.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.delenv("JAXPAT_NO_FORK_SERVER", raising=False)
    monkeypatch.chdir(tmp_path)
    srv = ForkServer()
    yield srv
    srv.close()


def _probe(server: ForkServer | None) -> tuple[Executor, dict]:
    ex = Executor(["--probe"], server=server)
    return ex, finish_probe(ex, 300.0)


def _read_all(ex: Executor) -> None:
    """Read the executor's messages until it ends (ExecutorFailure)."""
    while True:
        ex.read(300.0)


def test_a_forked_probe_says_what_a_fresh_one_says(server: ForkServer) -> None:
    forked, answer = _probe(server)
    fresh, oracle = _probe(None)
    assert forked.forked
    assert not fresh.forked
    assert answer == oracle
    assert forked.proc.returncode == 0  # reaped by the server, reported to the judge


def test_a_changed_environment_starts_a_fresh_interpreter(server: ForkServer,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """JAX reads its JAX_* settings at import, in the server: once the environment differs, a fork would carry
    the server's. Counter-check: forcing the fork (usable() always true) reports the stale setting."""
    monkeypatch.setenv("JAX_ENABLE_X64", "1")
    ex, answer = _probe(server)
    assert not ex.forked
    assert answer["jax_config"]["jax_enable_x64"] is True
    monkeypatch.setattr(server, "usable", lambda: True)
    ex, stale = _probe(server)
    assert ex.forked
    assert stale["jax_config"]["jax_enable_x64"] is False


def test_pytest_current_test_may_differ(server: ForkServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "elsewhere.py::test (call)")
    assert server.wait_ready()
    assert server.usable()
    monkeypatch.chdir(Path.home())
    assert not server.usable()  # another working folder: --load finds modules from it


def test_a_forked_executor_gets_the_judges_environment_and_folder(server: ForkServer, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "the judge's value")  # the one variable a fork may see change
    monkeypatch.setattr(_forkserver, "_SHARED", server)
    pool = Pool(base_args=["--load", "forktest"])
    pool.spawn(["forktest"])
    ex = pool.executors["forktest"]
    assert ex.forked
    assert os.getsid(ex.proc.pid) == ex.proc.pid  # a session of its own: the judge kills its process group
    hello = ex.read(300.0)
    while "phase" in hello:
        hello = ex.read(300.0)
    assert hello["pid"] == ex.proc.pid
    assert [e["plugin"] for e in hello["errors"]] == ["forktest"]  # imported, but it registers no hook
    output = ""
    for _ in range(300):  # the reader thread gets there (the import printed before the hello was sent)
        output += ex.take_output()
        if "forktest sees" in output:
            break
        time.sleep(0.1)
    assert f"forktest sees the judge's value {tmp_path}" in output
    pool.close()
    assert ex.proc.returncode == 0


def _forktest_output(ex: Executor, marker: str) -> str:
    """The executor's output once ``marker`` is in it (the import printed it before the hello was sent)."""
    hello = ex.read(300.0)
    while "phase" in hello:
        hello = ex.read(300.0)
    output = ""
    for _ in range(300):
        output += ex.take_output()
        if marker in output:
            break
        time.sleep(0.1)
    return output


def test_forks_find_the_shipped_catalog_parsed_by_the_server(server: ForkServer,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The server parses the shipped catalog once, before its first executor's fork: a forked executor finds it
    in jaxpat.conformance._setup.PARSED when its plugin is imported, a fresh interpreter finds nothing there."""
    import re

    found = {}
    for forked in (True, False):
        if forked:
            monkeypatch.setattr(_forkserver, "_SHARED", server)
        else:
            monkeypatch.setattr(_forkserver, "_SHARED", None)
            monkeypatch.setenv("JAXPAT_NO_FORK_SERVER", "1")
        pool = Pool(base_args=["--load", "forktest"])
        pool.spawn(["forktest"])
        ex = pool.executors["forktest"]
        assert ex.forked is forked
        output = _forktest_output(ex, "forktest parsed")
        pool.close()
        match = re.search(r"forktest parsed (\d+)", output)
        assert match, output
        found[forked] = int(match.group(1))
    assert found[False] == 0
    assert found[True] > 0


def test_a_preloaded_parse_is_what_a_fresh_parse_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the server keeps is the shipped catalog as a parse of its bytes gives it; with it, loading again
    parses nothing (the parser replaced by one that raises), without it the parser is needed."""
    from jaxpat.catalog import _loader
    from jaxpat.conformance import _setup

    monkeypatch.setattr(_setup, "PARSED", {})
    monkeypatch.setattr("gc.freeze", lambda: None)  # the server's, not this process's
    fresh, _ = _setup.catalog_with_files([], trust_cache=False)
    _forkserver.preload()
    assert _setup.PARSED

    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(_loader, "parse", no_parse)
    kept, _ = _setup.catalog_with_files([], trust_cache=False, parsed=_setup.PARSED)
    assert (kept.digest, kept.ids()) == (fresh.digest, fresh.ids())
    with pytest.raises(AssertionError, match="parsed again"):
        _setup.catalog_with_files([], trust_cache=False, parsed={})


def test_exit_statuses_of_forks_reach_the_judge(server: ForkServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """"exit status 3" and "killed by signal SIGKILL", as for a process of the judge's own: the server reaps
    its forks and says how each ended."""
    ex = Executor(["--load", "forktest", "--plugin", "forktest"], server=server)
    assert ex.forked
    ex.read(300.0)  # the "jaxpat" phase: the plugin has not run yet
    ex.kill()
    assert ex.proc.returncode == -signal.SIGKILL
    # the environment of the fork is the judge's at the time of the fork, except what JAX read at import
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "x")
    os.environ["FORKTEST_DO"] = "exit3"
    try:
        assert not server.usable()  # FORKTEST_DO is new: a fresh interpreter, which also exits 3
        ex = Executor(["--load", "forktest", "--plugin", "forktest"], server=server)
        assert not ex.forked
        with pytest.raises(ExecutorFailure) as fresh:
            _read_all(ex)
    finally:
        del os.environ["FORKTEST_DO"]
    assert "exit status 3" in fresh.value.message


def test_a_fork_that_exits_by_itself_is_reported_with_its_status(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "forktest.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("FORKTEST_DO", "exit3")
    monkeypatch.chdir(tmp_path)
    server = ForkServer()
    try:
        ex = Executor(["--load", "forktest", "--plugin", "forktest"], server=server)
        assert ex.forked
        with pytest.raises(ExecutorFailure) as info:
            _read_all(ex)
        assert info.value.kind == "crashed"
        assert "exit status 3" in info.value.message
    finally:
        server.close()


def test_a_gone_server_means_fresh_interpreters(server: ForkServer) -> None:
    ex, _ = _probe(server)
    assert ex.forked
    os.killpg(server.proc.pid, signal.SIGKILL)
    server.proc.wait(10)
    ex, answer = _probe(server)
    assert not ex.forked
    assert answer["devices"]


def test_it_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAXPAT_NO_FORK_SERVER", "1")
    monkeypatch.setattr(_forkserver, "_SHARED", None)
    assert _forkserver.shared() is None
    ex, answer = _probe(_forkserver.shared())
    assert not ex.forked
    assert answer["devices"]


def test_local_workers_fork_from_their_controllers_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A listening server (an xdist controller's) serves other judges (its workers) at its address: each is told of
    its own forks' ends, one client leaving does not end it, its owner leaving does (and removes the address)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JAXPAT_NO_FORK_SERVER", raising=False)
    owner = ForkServer(listen=True)
    assert owner.address is not None
    assert Path(owner.address).parent.stat().st_mode & 0o777 == 0o700  # only this user connects
    # a worker's own settings, read when a backend starts (after the fork), do not stop it from using the server
    monkeypatch.setenv("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    worker = ForkServer(connect=owner.address)
    assert worker.wait_ready()
    assert worker.usable()
    assert worker.shared
    assert not owner.shared
    assert owner.wait_ready()  # the owner learns its server's pid from its own ready message, read by its own thread
    assert worker.pid == owner.pid == owner.proc.pid  # type: ignore[union-attr]
    ex, answer = _probe(worker)
    assert ex.forked
    assert answer["devices"]
    assert ex.proc.returncode == 0  # reported to the worker, which asked for the fork
    other = ForkServer(connect=owner.address)
    ex = Executor(["--load", "forktest", "--plugin", "forktest"], server=other)
    assert ex.forked
    other.close()  # a worker leaves: the server goes on serving the others
    ex.kill()
    ex2, _ = _probe(worker)
    assert ex2.forked
    owner.close()  # the controller leaves: the server ends, its address is gone
    assert not Path(owner.address).exists()
    assert owner.proc.returncode is not None  # type: ignore[union-attr]
    ex3, answer = _probe(worker)
    assert not ex3.forked  # the worker starts fresh interpreters then
    assert answer["devices"]
    worker.close()


def test_a_server_that_does_not_answer_a_fork_in_time_is_not_asked_again(server: ForkServer,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Its late answer would be taken for the next request's: the judge starts fresh interpreters instead."""
    assert server.wait_ready()
    with monkeypatch.context() as m:
        m.setattr(socket, "send_fds", lambda *a, **k: 1)  # the request never reaches the server
        assert server.spawn(["--probe"], wait=0.5) is None
    assert server.usable() is False
    ex, answer = _probe(server)
    assert not ex.forked
    assert answer["devices"]
