"""Plugin processes of `jaxpat list`, `show`, `validate` and `plugins` forked from a zygote (patterns/_zygote.py).

Each check compares a run whose plugins are asked in forks of the zygote with one where
``JAXPAT_NO_FORK_SERVER=1`` starts a fresh interpreter per plugin: the same answers and errors, and the
plugin's own report of where it ran (its parent, its session, whether JAX was imported before it) tells the
two apart.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the zygote forks on Linux only")

PROBE = '''\
import json, os, sys
from pathlib import Path

from jaxpat.patterns import Implementation, hookimpl

with open(os.environ["ZPROBE_LOG"], "a") as f:
    f.write(json.dumps({"pid": os.getpid(), "ppid": os.getppid(), "own_session": os.getsid(0) == os.getpid(),
                        "jax": "jax" in sys.modules, "argv0": Path(sys.argv[0]).name}) + "\\n")


def cumsum(xs):
    import jax.numpy as jnp

    return jnp.cumsum(xs, axis=0)


@hookimpl
def jaxpat_implementations():
    return [Implementation("scan-cumsum", "cumsum", cumsum)]
'''


def _dist(site: Path, module: str, source: str) -> None:
    (site / f"{module}.py").write_text(source)
    info = site / f"{module}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[jaxpat]\n{module} = {module}\n")


@pytest.fixture(scope="module")
def zsite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """zprobe (reports where it runs, and is right) and zexit (ends its process with status 7 at import)."""
    site = tmp_path_factory.mktemp("zygote-site")
    _dist(site, "zprobe", PROBE)
    _dist(site, "zexit", "import os\n\nos._exit(7)\n")
    return site


def _run(site: Path, tmp: Path, args: list[str], *, fork: bool) -> tuple[subprocess.CompletedProcess[str],
                                                                       list[dict[str, Any]]]:
    log = tmp / f"probe-{args[0]}-{fork}.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAXPAT_PLUGIN_", "JAXPAT_BLOCK"))}
    env.pop("JAXPAT_DISABLE_PLUGIN_AUTOLOAD", None)
    env.update(PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
               ZPROBE_LOG=str(log), JAXPAT_BLOCK_PLUGINS="example", JAXPAT_NO_FORK_SERVER="0" if fork else "1",
               JAXPAT_DISABLE_CATALOG_CACHE="1")
    proc = subprocess.Popen([sys.executable, "-m", "jaxpat", *args], cwd=tmp, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=300)
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    probes = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    for p in probes:
        p["command_pid"] = proc.pid
    return done, probes


@pytest.mark.parametrize(("args", "jax_first"), [(["plugins", "--format", "json"], True), (["list"], False)])
def test_forked_plugin_processes_answer_as_fresh_interpreters(zsite: Path, tmp_path: Path, args: list[str],
                                                              jax_first: bool) -> None:
    """The same output and errors either way; the fork's parent is the zygote, the fresh one's the command; each
    has a session of its own; JAX is imported before the plugin where the command asks for it (`plugins`) and
    not otherwise, in both."""
    forked, fprobes = _run(zsite, tmp_path, args, fork=True)
    fresh, probes = _run(zsite, tmp_path, args, fork=False)
    assert (forked.returncode, forked.stdout, forked.stderr) == (fresh.returncode, fresh.stdout, fresh.stderr)
    if args[0] == "plugins":
        assert forked.returncode == 1  # zexit was left out
        data = json.loads(forked.stdout)
        assert {p["name"]: p["implementations"] for p in data["plugins"] if p["name"] != "reference"} == {"zprobe": 1}
        [error] = data["errors"]
        message = error["message"]
    else:
        assert forked.returncode == 0, forked.stderr  # a warning: the listing is complete without zexit
        assert "zprobe" not in forked.stdout  # it ships no pattern
        message = forked.stderr
    assert "jaxpat plugin 'zexit' was not registered: its process ended (exit status 7)" in message, message
    assert "Traceback" not in forked.stderr
    assert len(fprobes) == len(probes) == 1
    [fork], [own] = fprobes, probes
    assert own["ppid"] == own["command_pid"]  # a fresh interpreter, the command's child
    assert fork["ppid"] != fork["command_pid"]  # a fork of the zygote, the command's grandchild
    assert fork["own_session"]
    assert own["own_session"]
    assert fork["jax"] is own["jax"] is jax_first
    assert fork["argv0"] == own["argv0"] == "_sandbox.py"


def test_no_zygote_where_it_is_turned_off() -> None:
    from jaxpat.patterns import _zygote

    env = {**os.environ, "JAXPAT_NO_FORK_SERVER": "1"}
    assert _zygote.start(env, with_jax=False) is None
    zygote = _zygote.start({**os.environ, "JAXPAT_NO_FORK_SERVER": "0"}, with_jax=False)
    assert zygote is not None
    zygote.close()


def test_a_gone_zygote_means_fresh_interpreters(tmp_path: Path) -> None:
    """A zygote killed from outside forks nothing more: spawn says None (the caller starts a fresh interpreter),
    and a fork it made before still reports its end."""
    from jaxpat.patterns import _zygote

    zygote = _zygote.start({**os.environ, "JAXPAT_NO_FORK_SERVER": "0"}, with_jax=False)
    assert zygote is not None
    try:
        first = zygote.spawn(["no-such-plugin"])
        assert first is not None
        with first.stdout, first.stderr:
            assert b"jaxpat-sandbox" in first.stdout.read()  # its answer (no such plugin: an empty one)
        assert first.wait(120) == 0
        os.kill(zygote.proc.pid, signal.SIGKILL)
        zygote.proc.wait(30)
        assert zygote.spawn(["no-such-plugin"], wait=30) is None
    finally:
        zygote.close()
