"""Conformance beyond one process: xdist gateways to other environments and other hosts.

- ``popen//python=OTHER`` workers run on their own environment, each worker's
  results are credited to its host label, and workers that collect different
  items make the run refuse (never a ``complete`` report with nothing in it).
- Two real hosts: network namespaces joined to this one by veth pairs, each
  with its own sshd (key-based root login, keys generated per test) on its own
  address; ``jaxpat check --tx ssh=...`` runs a few patterns over them.

The ssh test needs root, ``ip netns`` and Debian's openssh-server (``.ci/run``
installs it); it skips, saying why, only where those are missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jaxpat import report as _report

pytest.importorskip("jax")

PYTHON = sys.executable
#: two small patterns: loadscope gives each of two workers one of them
PATTERNS = ["loop-while-converge", "loop-while-early-exit"]
#: one implementation and one transform of them (9 items of 54): these tests are about where items run and who
#: is credited with them, not about the items; each worker still starts its executor and runs its pattern
NARROW = ["--impl", "reference.while_loop", "--transform", "jit"]
TIMEOUT = 300  # seconds for one `jaxpat check` run (2 cores shared with other jobs)


def run_check(args: list[str], cwd: Path, *, timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JAXPAT_BLOCK_PLUGINS": "example"}
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("JAXPAT_LABEL", None)
    cmd = [PYTHON, "-m", "jaxpat", "check", "--no-claims", "--no-cache", "--report", "r.json"]
    for p in PATTERNS:
        cmd += ["--pattern", p]
    return subprocess.run([*cmd, *NARROW, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def load(path: Path) -> dict:
    """The report at ``path`` as JSON, after checking it is a valid report."""
    _report.load(path)
    return json.loads(path.read_text())


def _out(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stdout[-4000:] + "\n--- stderr ---\n" + proc.stderr[-4000:]


def _check_args(argv: list[str]) -> list[str]:
    import argparse

    from jaxpat.conformance import _cli

    parser = argparse.ArgumentParser(prog="jaxpat")
    _cli.add_check_parser(parser.add_subparsers(dest="command"))
    return _cli.pytest_args(parser.parse_args(["check", *argv]))


def test_check_passes_tx_instead_of_n_and_no_bare_path_argument(tmp_path: Path) -> None:
    """--tx replaces -n auto; no argument is an existing path (xdist would rewrite it for remote workers)."""
    (tmp_path / "r.json").write_text("{}")
    args = _check_args(["--tx", "ssh=a", "--tx", "2*popen", "--label", "a", "--label", "b",
                        "--report", str(tmp_path / "r.json"), "--catalog", str(tmp_path / "r.json")])
    assert "-n" not in args
    assert args[args.index("--tx") + 1] == "ssh=a"
    assert "--tx" in args[args.index("--tx") + 2:]
    assert args[args.index("--dist") + 1] == "loadscope"
    assert [a for a in args if a.startswith("--jaxpat-label=")] == ["--jaxpat-label=a", "--jaxpat-label=b"]
    assert not [a for a in args if Path(a).exists()]
    assert "-n" in _check_args([])


class _Spec:
    def __init__(self) -> None:
        self.env: dict[str, str] = {}


class _Config:
    def __init__(self, labels: list[str], tx: list[str]) -> None:
        self.options = {"jaxpat_label": labels, "tx": tx}

    def getoption(self, name: str, default: object = None) -> object:
        return self.options.get(name, default)


def test_labels_name_the_workers_of_each_tx_in_order() -> None:
    from jaxpat.conformance._hosts import assign_labels

    specs = [_Spec() for _ in range(3)]
    assign_labels(_Config(["a", "b"], ["2*ssh=x", "popen"]), specs)  # type: ignore[arg-type]
    assert [s.env["JAXPAT_LABEL"] for s in specs] == ["a", "a", "b"]
    specs = [_Spec() for _ in range(2)]
    assign_labels(_Config(["all"], ["popen", "popen"]), specs)  # type: ignore[arg-type]
    assert [s.env["JAXPAT_LABEL"] for s in specs] == ["all", "all"]
    with pytest.raises(pytest.UsageError, match="one per --tx"):
        assign_labels(_Config(["a", "b"], ["popen", "popen", "popen"]), [_Spec() for _ in range(3)])  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def other_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second virtual environment (its own interpreter path and prefix) with a module only it can import.

    It reaches this environment's packages through a ``.pth`` file, so JAX is
    the same, but ``jaxpat_only_in_other_env`` (an empty jaxpat plugin) exists
    only there: a worker that ran on the controller's ``sys.path`` could not import it.
    """
    root = tmp_path_factory.mktemp("other-env")
    base = Path(getattr(sys, "_base_executable", sys.executable))
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(root / "venv")], check=True, timeout=120)
    py = root / "venv" / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    ours = subprocess.run([PYTHON, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    Path(site, "jaxpat_test_base.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    Path(site, "jaxpat_only_in_other_env.py").write_text(
        '"""A jaxpat plugin that adds nothing."""\nfrom jaxpat.patterns import hookimpl\n\n\n'
        '@hookimpl\ndef jaxpat_catalog_files():\n    return []\n')
    return py


def test_popen_python_worker_uses_its_own_environment_and_mixed_collections_are_refused(
        tmp_path: Path, other_env: Path) -> None:
    """A ``popen//python=OTHER`` worker imports from OTHER's path; differing collections refuse the run.

    Only the other environment can import ``jaxpat_only_in_other_env``: the
    worker there collects the patterns, the local worker collects an import
    error instead. (Had the other worker used the controller's ``sys.path``,
    both would fail the same way, collect the same items and the run would pass.)
    """
    proc = run_check(["--tx", f"popen//python={other_env}", "--tx", "popen", "--label", "other", "--label", "local",
                      "--load", "jaxpat_only_in_other_env"], tmp_path)
    assert proc.returncode == 2, _out(proc)  # jaxpat check: a usage error (pytest's status 4, in the report)
    assert "collected 2 different sets of items" in proc.stdout, _out(proc)
    assert "(other)" in proc.stdout
    assert "(local)" in proc.stdout
    assert "jaxpat report merge" in proc.stdout
    report = load(tmp_path / "r.json")
    assert report["status"] == "incomplete"
    assert "different sets of items" in report["reason"]
    assert report["exitstatus"] == 4


def test_popen_python_worker_reports_its_own_environment(tmp_path: Path, other_env: Path) -> None:
    proc = run_check(["--tx", f"popen//python={other_env}", "--label", "other",
                      "--load", "jaxpat_only_in_other_env"], tmp_path)
    assert proc.returncode == 0, _out(proc)
    report = load(tmp_path / "r.json")
    env = report["environment"]
    assert env["host"] == "other"
    assert env["executable"] == str(other_env)
    assert "jaxpat_only_in_other_env" in {p["name"] for p in env["plugins"]}
    assert report["status"] == "complete"
    assert not [r for r in report["results"] if r["outcome"] != "passed"]


def test_each_result_names_the_worker_host_that_ran_it(tmp_path: Path) -> None:
    """Two labelled workers: one environment per host, every result names its host, the matrix a column each."""
    proc = run_check(["--tx", "popen", "--tx", "popen", "--label", "left", "--label", "right"], tmp_path)
    assert proc.returncode == 0, _out(proc)
    report = load(tmp_path / "r.json")
    hosts = {h["host"]: h for h in report["environment"]["hosts"]}
    assert set(hosts) == {"left", "right"}
    for h in hosts.values():
        assert h["jax"]
        assert h["jaxlib"]
        assert h["devices"]
    by_host = {}
    for r in report["results"]:
        by_host.setdefault(r["host"], set()).add(r["pattern"])
    # loadscope: one pattern per worker, so each host ran exactly one of the two patterns
    assert set(by_host) == {"left", "right"}
    assert sorted(p for ps in by_host.values() for p in ps) == sorted(PATTERNS)
    assert report["summary"]["passed"] == report["summary"]["total"] > 0
    assert_side_by_side(tmp_path / "r.json", ["left", "right"])


def assert_side_by_side(report: Path, hosts: list[str]) -> None:
    """`jaxpat report show` prints one block of columns per host, side by side."""
    show = subprocess.run([PYTHON, "-m", "jaxpat", "report", "show", str(report)], cwd=report.parent,
                          capture_output=True, text=True, timeout=60)
    assert show.returncode == 0, show.stderr
    lines = show.stdout.splitlines()
    blocks = lines[next(i for i, line in enumerate(lines) if line.startswith("pattern")) - 1]
    for host in hosts:
        assert f"{host}:cpu" in blocks


# ---------------------------------------------------------------------------
# two hosts: network namespaces with their own sshd
# ---------------------------------------------------------------------------

def _host_support() -> str | None:
    """Why two namespace hosts cannot be started here (``None``: they can)."""
    if sys.platform != "linux":
        return "network namespaces are Linux-only"
    if os.geteuid() != 0:
        return "creating network namespaces and running sshd needs root"
    for tool in ("ip", "ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            return f"`{tool}` is missing (apt-get install -y openssh-server iproute2)"
    if _sshd() is None:
        return "sshd is missing (apt-get install -y openssh-server)"
    probe = f"jxp{uuid.uuid4().hex[:8]}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, timeout=30)
    if made.returncode != 0:
        return f"no network namespace support: ip netns add: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=30)
    return None


def _sshd() -> str | None:
    return shutil.which("sshd") or next((p for p in ("/usr/sbin/sshd", "/sbin/sshd") if os.path.exists(p)), None)


def _sh(*cmd: str) -> None:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {proc.returncode}: {proc.stderr.strip()}")


def _free_subnet() -> int:
    """A third octet for 10.213.X.0/24 that no route here uses yet."""
    routes = subprocess.run(["ip", "-4", "route", "show", "table", "all"], capture_output=True, text=True,
                            timeout=30).stdout
    for _ in range(200):
        x = uuid.uuid4().int % 250 + 1
        if f"10.213.{x}." not in routes:
            return x
    raise RuntimeError("no free 10.213.X.0/24 subnet")


def _wait_port(addr: str, port: int, deadline: float) -> None:
    while True:
        try:
            with socket.create_connection((addr, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture
def two_hosts(tmp_path: Path) -> Iterator[list[tuple[str, str]]]:
    """Two hosts (network namespaces, veth-linked to this one, each with its own sshd); yields (label, --tx spec).

    Names are unique per run; namespaces, links and daemons are removed in
    ``finally`` whatever happens. Traffic stays on the addresses made here.
    """
    reason = _host_support()
    if reason:
        pytest.skip(reason)
    tag = uuid.uuid4().hex[:6]
    keys = tmp_path / "ssh"
    keys.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / "id")], check=True, timeout=60)
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
    namespaces: list[str] = []
    links: list[str] = []
    daemons: list[subprocess.Popen[bytes]] = []
    known_hosts: list[str] = []
    ssh_config: list[str] = []
    hosts: list[tuple[str, str]] = []
    try:
        for i in range(2):
            ns, outer, inner = f"jxp{tag}h{i}", f"jx{tag}o{i}", f"jx{tag}i{i}"
            net = _free_subnet()
            here, there = f"10.213.{net}.1", f"10.213.{net}.2"
            _sh("ip", "netns", "add", ns)
            namespaces.append(ns)
            _sh("ip", "link", "add", outer, "type", "veth", "peer", "name", inner)
            links.append(outer)
            _sh("ip", "link", "set", inner, "netns", ns)
            _sh("ip", "addr", "add", f"{here}/24", "dev", outer)
            _sh("ip", "link", "set", outer, "up")
            _sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{there}/24", "dev", inner)
            _sh("ip", "netns", "exec", ns, "ip", "link", "set", inner, "up")
            _sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
            hostkey = keys / f"host{i}"
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(hostkey)], check=True,
                           timeout=60)
            config = keys / f"sshd{i}.conf"
            config.write_text("\n".join([
                f"ListenAddress {there}", "Port 22", f"HostKey {hostkey}", f"PidFile {keys}/sshd{i}.pid",
                f"AuthorizedKeysFile {keys}/id.pub", "PermitRootLogin prohibit-password",
                "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no",
                "AcceptEnv none", "PrintMotd no", "MaxStartups 20", "",
            ]))
            with open(keys / f"sshd{i}.log", "wb") as log:
                daemons.append(subprocess.Popen(
                    ["ip", "netns", "exec", ns, str(_sshd()), "-D", "-e", "-f", str(config)],
                    stdout=subprocess.DEVNULL, stderr=log))
            known_hosts.append(f"{there} {(keys / f'host{i}.pub').read_text().split(' ', 2)[0]} "
                               f"{(keys / f'host{i}.pub').read_text().split(' ', 2)[1]}")
            name = f"host{i}"
            ssh_config += [f"Host {name}", f"  HostName {there}", "  User root", f"  IdentityFile {keys}/id",
                           "  IdentitiesOnly yes", "  BatchMode yes", f"  UserKnownHostsFile {keys}/known_hosts",
                           "  StrictHostKeyChecking yes", "  ConnectTimeout 20", "  ServerAliveInterval 10", ""]
            work = tmp_path / f"remote{i}"
            work.mkdir()
            spec = (f"ssh={name}//ssh_config={keys}/config//python={PYTHON}//chdir={work}"
                    f"//env:JAXPAT_CACHE_DIR={os.environ.get('JAXPAT_CACHE_DIR', str(tmp_path / 'cache'))}"
                    "//env:JAXPAT_BLOCK_PLUGINS=example")
            hosts.append((f"ns-host-{i}", spec))
        (keys / "known_hosts").write_text("\n".join(known_hosts) + "\n")
        (keys / "config").write_text("\n".join(ssh_config))
        deadline = time.monotonic() + 30
        for i, d in enumerate(daemons):
            if d.poll() is not None:
                raise RuntimeError(f"sshd {i} exited: {(keys / f'sshd{i}.log').read_text()}")
        for line in known_hosts:
            _wait_port(line.split()[0], 22, deadline)
        yield hosts
    finally:
        for d in daemons:
            d.terminate()
        for d in daemons:
            with contextlib.suppress(subprocess.TimeoutExpired):
                d.wait(timeout=10)
            if d.poll() is None:
                d.kill()
                d.wait(timeout=10)
        for link in links:
            subprocess.run(["ip", "link", "del", link], capture_output=True, timeout=30)
        for ns in namespaces:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


def test_check_over_two_ssh_hosts(tmp_path: Path, two_hosts: list[tuple[str, str]]) -> None:
    """``jaxpat check --tx ssh=... --tx ssh=...``: each host's environment and results, side by side."""
    args: list[str] = []
    for label, spec in two_hosts:
        args += ["--tx", spec, "--label", label]
    started = time.monotonic()
    proc = run_check(args, tmp_path)
    took = time.monotonic() - started
    assert proc.returncode == 0, _out(proc)
    report = load(tmp_path / "r.json")
    assert report["status"] == "complete"
    hosts = {h["host"]: h for h in report["environment"]["hosts"]}
    assert set(hosts) == {"ns-host-0", "ns-host-1"}, json.dumps(report["environment"])[:2000]
    for h in hosts.values():
        assert h["devices"]
        assert h["executable"] == PYTHON
    ran = {r["host"] for r in report["results"]}
    assert ran == {"ns-host-0", "ns-host-1"}
    assert report["summary"]["passed"] == report["summary"]["total"] > 0
    assert_side_by_side(tmp_path / "r.json", ["ns-host-0", "ns-host-1"])
    print(f"two ssh hosts: {report['summary']['total']} items in {took:.1f} s")


# ---------------------------------------------------------------------------
# multi-process patterns on jax.distributed
# ---------------------------------------------------------------------------

BAD_PLUGIN = '''"""Wrong multi-process implementations of distributed-global-array-sum (tests/test_distributed.py)."""
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec as P

from jaxpat.patterns import Implementation, hookimpl
from jaxpat.patterns.reference.distributed import _global, _global_sum_of_squares, _mesh_1d


def local_only(x):
    """Sums the shards this process holds: a process-local answer, not the global one."""
    g = _global(x, _mesh_1d(), P("i"))
    return np.float32(sum(float(jnp.sum(s.data * s.data)) for s in g.addressable_shards))


def dies(x):
    if jax.process_index() == 1:
        os._exit(3)
    return _global_sum_of_squares(x)


def hangs(x):
    if jax.process_index() == 1:
        time.sleep(3600)
    return _global_sum_of_squares(x)


@hookimpl
def jaxpat_implementations():
    return [Implementation(pattern="distributed-global-array-sum", name=f.__name__, fn=f)
            for f in (local_only, dies, hangs)]
'''


def test_multi_process_patterns_pass_across_two_processes(tmp_path: Path) -> None:
    """The reference multi-process patterns: 2 processes x 4 CPU devices, checked against the catalog."""
    proc = subprocess.run(
        [PYTHON, "-m", "jaxpat", "check", "-n", "0", "--no-claims", "--no-cache", "--report", "r.json",
         "--pattern", "distributed-*"],
        cwd=tmp_path, env={**os.environ, "JAXPAT_BLOCK_PLUGINS": "example"}, capture_output=True, text=True,
        timeout=TIMEOUT)
    assert proc.returncode == 0, _out(proc)
    report = load(tmp_path / "r.json")
    got = {r["pattern"]: r["outcome"] for r in report["results"]}
    assert got == {"distributed-global-array-sum": "passed", "distributed-psum": "passed",
                   "distributed-all-gather": "passed", "distributed-jit-global-mesh": "passed"}, got
    assert {r["device"] for r in report["results"]} == {"2proc"}


#: --timeout of the run with a hanging process: it waits 0.75 x this (12 s) before it ends the processes (the
#: whole cost of the hang). A 2-process item took at most 14.3 s on this 2-core machine at load average 17
#: (8.7-14.3 s for the reference ones): past the deadline, processes still computing (1 % of a core is enough,
#: conformance/_multiprocess.MIN_PROGRESS) get up to 2.5 x it (30 s); only the one that sleeps is ended at 12 s.
HANG_TIMEOUT = 16


def test_multi_process_harness_fails_wrong_dead_and_hung_processes_and_goes_on(tmp_path: Path) -> None:
    """A process-local answer fails on the value; a process that dies or hangs fails its item with the reason.

    One case of the pattern (its other case takes the same paths): a hang costs the whole deadline."""
    (tmp_path / "jaxpat_bad_distributed.py").write_text(BAD_PLUGIN)
    proc = subprocess.run(
        [PYTHON, "-m", "jaxpat", "check", "-n", "0", "--no-claims", "--no-cache", "--report", "r.json",
         "jaxpat::distributed-global-array-sum::two-processes-narrow", "--load", "jaxpat_bad_distributed",
         "--impl", "jaxpat_bad_distributed.*", "--timeout", str(HANG_TIMEOUT)],
        # only the wrong plugin's implementations are selected: the shipped ones need no executor
        cwd=tmp_path, env={**os.environ, "JAXPAT_BLOCK_PLUGINS": "example,reference"}, capture_output=True, text=True,
        timeout=TIMEOUT)
    assert proc.returncode == 1, _out(proc)
    report = load(tmp_path / "r.json")
    assert report["status"] == "complete"
    assert {r["case"] for r in report["results"]} == {"two-processes-narrow"}
    by_impl = {r["implementation"].split(".")[-1]: r for r in report["results"]}
    assert len(by_impl) == len(report["results"])
    assert {k: r["outcome"] for k, r in by_impl.items()} == {"local_only": "failed", "dies": "failed",
                                                           "hangs": "failed"}
    assert "process 0" in by_impl["local_only"]["message"]  # process 0 holds rows 0-3 only: a wrong value
    assert "process 1 of 2 exited with status 3" in by_impl["dies"]["message"]
    assert "still running after" in by_impl["hangs"]["message"]
