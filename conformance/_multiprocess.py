"""Cases that span processes: ``processes: N`` in the catalog, run on ``jax.distributed``.

The item (:class:`DistributedItem`, on a worker or the single pytest process)
starts N Python processes of ``python -m jaxpat.conformance._multiprocess``,
each with its own CPU devices (``--xla_force_host_platform_device_count``),
joined by ``jax.distributed.initialize`` with a coordinator on 127.0.0.1 at a
free port. Every process loads the registry, calls the implementation with the
case's whole global input, gathers the global result
(``multihost_utils.process_allgather``) and writes it, with what it saw
(process and device counts), to a JSON file. The item then checks every
process's result against the catalog's expectation (NumPy values, the usual
comparison and tolerances).

A process that exits with an error, or dies, fails the item with its exit
status and the end of its stderr; processes still running at the deadline
(a collective waiting for a peer that will never come) are killed and the item
fails saying so -- unless every one of them is still using CPU (a loaded
machine, not a hang: a process waiting for a peer uses next to none), which
earns them up to ``EXTENSION`` times the deadline, after which the message
says how much CPU each was still using. Either way the run goes on. Where JAX's CPU backend offers no
cross-process collectives (no ``jax_cpu_collectives_implementation='gloo'``),
the item is skipped with that reason.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from ._collect import _ENV_SENT, environment, pattern_collectors

__all__ = ["DEVICES_PER_PROCESS", "DistributedItem", "distributed_items", "main"]

#: CPU devices each process of a multi-process case gets.
DEVICES_PER_PROCESS = 4
#: Seconds the other processes get to finish after one failed, before they are killed.
GRACE = 5.0
#: Lines of a failed process's stderr quoted in the item's message.
STDERR_LINES = 25
#: Past the deadline, processes that each still use at least MIN_PROGRESS CPU-seconds per PROGRESS_WINDOW
#: seconds are working on a slow machine, not hung: they get up to EXTENSION times the deadline in all.
PROGRESS_WINDOW = 10.0
MIN_PROGRESS = 0.1
EXTENSION = 2.5


def distributed_items(config: pytest.Config, root: pytest.Collector, registry: Any,
                      devices: list[Any]) -> list[pytest.Item]:
    """One item per multi-process case × implementation (selected by --jaxpat-pattern / --jaxpat-impl)."""
    platforms = config.getoption("jaxpat_platforms")
    if platforms and "cpu" not in [p.strip() for p in platforms.split(",")]:
        return []  # the harness runs its processes on CPU devices
    transforms = config.getoption("jaxpat_transform")
    out: list[pytest.Item] = []
    def multi_process(pattern: Any) -> bool:
        return any(c.processes for c in pattern.cases)

    for col, pattern, impls in pattern_collectors(config, root, registry, keep=multi_process):
        for case in (c for c in pattern.cases if c.processes):
            for impl in impls:
                for transform in case.transforms:
                    if transforms and transform not in transforms:
                        continue
                    out.append(DistributedItem.from_parent(
                        col, name=f"{case.id}[{impl.id}-{case.processes}proc-{transform}]",
                        pattern=pattern, case=case, impl=impl, transform=transform))
    return out


class DistributedItem(pytest.Item):
    """One multi-process case: starts the processes, gathers their results, compares them with the catalog."""

    def __init__(self, *, pattern: Any, case: Any, impl: Any, transform: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pattern, self.case, self.impl, self.transform = pattern, case, impl, transform
        self.user_properties.append(("jaxpat", {
            "nodeid": self.nodeid,
            "kind": "case",
            "pattern": pattern.id,
            "family": pattern.family,
            "case": case.id,
            "implementation": impl.id,
            "plugin": impl.plugin,
            "distribution": impl.distribution or None,
            "device": f"{case.processes}proc",
            "platform": "cpu",
            "transform": transform,
        }))

    def runtest(self) -> None:
        from ._collect import reuse_support
        from ._reuse import run_or_reuse

        run_or_reuse(self, self._runtest, reuse_support())  # a pass may be reused; a failure always runs

    def _runtest(self) -> None:
        if not self.config.stash.get(_ENV_SENT, False):
            self.user_properties.append(("jaxpat_env", environment(self.config)))
            self.config.stash[_ENV_SENT] = True
        timeout = float(self.config.getoption("jaxpat_timeout") or 0) or 120.0
        # leave the item's own (thread) timeout room to report what happened here
        outputs = run_processes(self.pattern.id, self.case.id, self.impl.id, self.case.processes,
                                loads=list(self.config.getoption("jaxpat_load")), deadline=0.75 * timeout,
                                plugin=self.impl.plugin)
        facts = {"processes": self.case.processes}
        self.user_properties.append(("jaxpat_facts", facts))
        skips = [o["skip"] for o in outputs if o.get("skip")]
        if skips:
            pytest.skip(skips[0])
        problems = check_outputs(self.case, outputs)
        if problems:
            facts["message"] = "\n".join(problems)
            raise MultiProcessFailure(facts["message"])

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, MultiProcessFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Any, int | None, str]:
        loc = self.case.location
        return (loc.file if loc else "catalog.yaml", (loc.line - 1) if loc else None, self.name)


class MultiProcessFailure(AssertionError):
    """A multi-process case failed: a process died or hung, or a result differs from the catalog."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    flags = [f for f in env.get("XLA_FLAGS", "").split() if "xla_force_host_platform_device_count" not in f]
    env["XLA_FLAGS"] = " ".join([*flags, f"--xla_force_host_platform_device_count={DEVICES_PER_PROCESS}"])
    env["JAX_PLATFORMS"] = "cpu"
    return env


def _tail(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    lines = [line for line in lines if not line.startswith("[Gloo]")]  # gloo's connection chatter
    return "\n".join("    " + line for line in lines[-STDERR_LINES:])


def run_processes(pattern: str, case: str, impl: str, processes: int, *, loads: list[str],
                  deadline: float, plugin: str | None = None) -> list[dict[str, Any]]:
    """Start the processes of one case and return each one's output (raises MultiProcessFailure if one failed)."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="jaxpat-mp-") as tmp:
        work = Path(tmp)
        procs: list[subprocess.Popen[bytes]] = []
        try:
            for i in range(processes):
                cmd = [sys.executable, "-m", "jaxpat.conformance._multiprocess", "--pattern", pattern, "--case", case,
                       "--impl", impl, "--process-id", str(i), "--processes", str(processes),
                       "--coordinator", f"127.0.0.1:{port}",
                       "--timeout", str(max(10, int(EXTENSION * deadline))),
                       "--out", str(work / f"out{i}.json")]
                cmd += [x for m in loads for x in ("--load", m)]
                if plugin:  # each process holds this plugin's code alone, like an executor
                    cmd += ["--plugin", plugin]
                with open(work / f"err{i}.txt", "wb") as err:
                    procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=_child_env()))
            problems = _wait(procs, work, deadline)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
            for p in procs:
                p.wait(timeout=30)
        if problems:
            raise MultiProcessFailure("\n".join(problems))
        outputs = []
        for i in range(processes):
            try:
                outputs.append(json.loads((work / f"out{i}.json").read_text(encoding="utf-8")))
            except (OSError, ValueError) as exc:
                raise MultiProcessFailure(f"process {i} exited 0 but wrote no result ({exc})\n"
                                          f"{_tail(work / f'err{i}.txt')}") from exc
        return outputs


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system, all threads) process ``pid`` has used; None where /proc cannot say."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _wait(procs: list[subprocess.Popen[bytes]], work: Path, deadline: float, *,
          clock: Any = time.monotonic, sleep: Any = time.sleep, cpu_of: Any = cpu_seconds) -> list[str]:
    """Wait for every process; the reasons the run failed (a process died, or they outlived the deadline).

    At the deadline, processes that each used at least ``MIN_PROGRESS`` CPU-seconds in the last
    ``PROGRESS_WINDOW`` seconds are still working (a slow machine): the wait goes on while they do, up to
    ``EXTENSION`` times the deadline. One that uses none (waiting for a peer, asleep) is a hang.
    """
    start = clock()
    failed_at: float | None = None
    samples: list[tuple[float, list[float | None]]] = []  # (time, CPU seconds per process)
    still_working = ""
    while None in [p.poll() for p in procs]:  # a list: every process polled, each time
        now = clock()
        if failed_at is None and any(p.returncode not in (None, 0) for p in procs):
            failed_at = now  # the others will likely wait for it forever: a little time, then stop them
        if failed_at is not None and now - failed_at > GRACE:
            break
        if not samples or now - samples[-1][0] >= 1.0:
            samples.append((now, [cpu_of(p.pid) if p.returncode is None else None for p in procs]))
            samples = [x for x in samples if now - x[0] <= PROGRESS_WINDOW + 1.0]
        if now - start > deadline:
            used = _recent_cpu(samples, [p.returncode is None for p in procs])
            if used is None or min(used) < MIN_PROGRESS or now - start > EXTENSION * deadline:
                if used is not None and min(used) >= MIN_PROGRESS:
                    still_working = (" -- each was still computing (CPU seconds in the last "
                                     f"{PROGRESS_WINDOW:g} s: {', '.join(f'{u:.2f}' for u in used)}), so this "
                                     "may be a machine too slow for the deadline rather than a hang: raise "
                                     "--jaxpat-timeout")
                break
        sleep(0.05)
    problems = []
    for i, p in enumerate(procs):
        p.poll()
        if p.returncode not in (None, 0):
            how = f"was killed by signal {-p.returncode}" if p.returncode < 0 else f"exited with status {p.returncode}"
            problems.append(f"process {i} of {len(procs)} {how}; its stderr ends:\n{_tail(work / f'err{i}.txt')}")
    running = [i for i, p in enumerate(procs) if p.returncode is None]
    if running and not problems:
        waited = clock() - start
        problems.append(f"process(es) {', '.join(map(str, running))} of {len(procs)} still running after "
                        f"{waited:.0f} s (deadline {deadline:.0f} s; a hang, e.g. a collective waiting for a "
                        f"peer){still_working}; killed. stderr of "
                        f"process {running[0]} ends:\n{_tail(work / f'err{running[0]}.txt')}")
    elif running:
        problems.append(f"process(es) {', '.join(map(str, running))} still running after the failure above; killed")
    return problems


def _recent_cpu(samples: list[tuple[float, list[float | None]]], running: list[bool]) -> list[float] | None:
    """CPU seconds each running process used over the window the samples span; None when it cannot be told
    (no /proc, or the samples span less than the window)."""
    if len(samples) < 2 or samples[-1][0] - samples[0][0] < PROGRESS_WINDOW:
        return None
    first, last = samples[0][1], samples[-1][1]
    used = []
    for i, alive in enumerate(running):
        if not alive:
            continue
        a, b = first[i], last[i]
        if a is None or b is None:
            return None
        used.append(b - a)
    return used or None


def check_outputs(case: Any, outputs: list[dict[str, Any]]) -> list[str]:
    """What is wrong with the processes' results: each must have run as part of the whole and equal the catalog's."""
    import numpy as np

    from ._compare import compare

    problems = []
    want = case.processes
    for i, out in enumerate(outputs):
        if out.get("process_count") != want or out.get("process_index") != i:
            problems.append(f"process {i}: ran as process {out.get('process_index')} of {out.get('process_count')}, "
                            f"not {i} of {want}: not a multi-process run")
            continue
        if out.get("device_count") != want * out.get("local_device_count", 0):
            problems.append(f"process {i}: saw {out.get('device_count')} devices in all, "
                            f"{out.get('local_device_count')} of them local: the processes are not one system")
            continue
        if "error" in out:
            problems.append(f"process {i}: the implementation raised {out['error']}")
            continue
        result = out["result"]
        actual = np.asarray(result["data"], dtype=result["dtype"]).reshape(result["shape"])
        expected = case.expected("eager")
        for msg in compare(expected, actual, tolerance=case.tolerance, platform="cpu"):
            problems.append(f"process {i}: {msg}")
    return problems


# ---------------------------------------------------------------------------
# the child process
# ---------------------------------------------------------------------------

def _gather(out: Any) -> Any:
    """The whole value of ``out`` on this process (a global array is all-gathered across processes)."""
    import jax
    import numpy as np
    from jax.experimental import multihost_utils

    if isinstance(out, jax.Array) and not out.is_fully_addressable:
        if out.is_fully_replicated:
            return np.asarray(out.addressable_data(0))
        return np.asarray(multihost_utils.process_allgather(out, tiled=True))
    return np.asarray(out)


def main(argv: list[str] | None = None) -> int:
    """One process of a multi-process case (``python -m jaxpat.conformance._multiprocess``); writes ``--out``."""
    p = argparse.ArgumentParser(prog="python -m jaxpat.conformance._multiprocess")
    for name in ("--pattern", "--case", "--impl", "--coordinator", "--out"):
        p.add_argument(name, required=True)
    p.add_argument("--process-id", type=int, required=True)
    p.add_argument("--processes", type=int, required=True)
    p.add_argument("--timeout", type=int, default=60)
    p.add_argument("--load", action="append", default=[])
    p.add_argument("--plugin")
    ns = p.parse_args(argv)
    out_path = Path(ns.out)

    import jax

    try:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    except (AttributeError, KeyError, ValueError) as exc:
        out_path.write_text(json.dumps({"skip": f"JAX {jax.__version__}'s CPU backend has no cross-process "
                                                f"collectives (jax_cpu_collectives_implementation='gloo'): {exc}"}))
        return 0
    jax.distributed.initialize(coordinator_address=ns.coordinator, num_processes=ns.processes,
                               process_id=ns.process_id, initialization_timeout=ns.timeout)
    import importlib

    from jaxpat.patterns import load_registry

    from ._execute import to_input

    loads = [m for m in ns.load if ns.plugin is None or m == ns.plugin]
    registry = load_registry(extra_plugins=[(m, importlib.import_module(m)) for m in loads], only=ns.plugin)
    pattern = registry.catalog.get(ns.pattern)
    case = next(c for c in pattern.cases if c.id == ns.case)
    impl = next(i for i in registry.implementations(ns.pattern) if i.id == ns.impl)
    facts: dict[str, Any] = {
        "process_index": jax.process_index(), "process_count": jax.process_count(),
        "device_count": jax.device_count(), "local_device_count": jax.local_device_count(),
    }
    args = [to_input(case.args[name], None, static=True) for name in pattern.signature.args]
    try:
        value = _gather(impl.fn(*args))
    except Exception as exc:  # reported by the item, with the other processes' results
        facts["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    else:
        facts["result"] = {"dtype": str(value.dtype), "shape": list(value.shape), "data": value.tolist()}
    out_path.write_text(json.dumps(facts))
    jax.distributed.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
