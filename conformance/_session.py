"""The active conformance plugin, registered only when ``--jaxpat`` is given.

Roles: with pytest-xdist the *controller* never imports JAX — it only turns
worker reports into the conformance report; *workers* (or the single process
without xdist) collect items and run them. Items carry their metadata in
``user_properties`` so the controller needs nothing else.
"""

from __future__ import annotations

import functools
import gc
import os
import platform as _platform
import socket
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from jaxpat import report as _report
from jaxpat._util import dist_version

from ._isolation import Isolation, Watchdog, enable_fault_log

#: The installed version of a distribution, looked up once per process: each importlib.metadata lookup scans
#: sys.path (~0.7 ms on the 2-core machine), and every rewrite of the interim report asked for three.
_version = functools.cache(dist_version)

#: Captured output of one item shown in the terminal: this many characters from its start and from its end
#: (``--jaxpat-full-output`` shows all of it).
OUTPUT_HEAD, OUTPUT_TAIL = 2_000, 6_000

#: Seconds between incremental report writes while a run is in progress.
#: Seconds between rewrites of the report while the run goes on (at least).
WRITE_INTERVAL = 2.0
#: ... and at least this many times the last rewrite's duration, so that
#: rewriting a large report costs at most ~1/WRITE_COST_FACTOR of the run.
WRITE_COST_FACTOR = 20.0


#: The JAX (and jaxlib) releases jaxpat supports: pyproject.toml's bounds (a test keeps them equal).
SUPPORTED_JAX = ">=0.6,<0.13"


def jax_warnings(jax: str | None, jaxlib: str | None) -> list[str]:
    """A warning for each of JAX and jaxlib installed outside :data:`SUPPORTED_JAX` (empty when both fit).

    PEP 440 (catalog._model.version_matches): a nightly or release candidate of
    0.13 counts as before 0.13, so it is inside ``<0.13``; being a pre-release,
    it gets its own warning. A version that is not PEP 440 is a warning too.
    """
    from jaxpat.catalog._model import is_prerelease, version_matches

    out = []
    for name, version in (("jax", jax), ("jaxlib", jaxlib)):
        try:
            outside = version is not None and not version_matches(version, SUPPORTED_JAX)
            early = version is not None and is_prerelease(version)
        except ValueError:
            outside, early = True, False
        if outside:
            out.append(f"{name} {version} is outside the range jaxpat supports ({name}{SUPPORTED_JAX}): "
                       "results may differ from the catalog's for reasons it does not record")
        elif early:
            out.append(f"{name} {version} is a pre-release (dev, alpha, beta or rc): jaxpat is checked against "
                       f"releases ({name}{SUPPORTED_JAX}); results may differ from the catalog's")
    return out


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _is_controller(config: pytest.Config) -> bool:
    return not _is_worker(config) and getattr(config.option, "dist", "no") != "no"


class JaxpatSession:
    """Collects jaxpat items (workers) and writes the conformance report (controller)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.report_path = config.getoption("jaxpat_report")
        if self.report_path and not _is_worker(config):
            problem = report_path_problem(self.report_path)
            if problem:
                raise pytest.UsageError(f"--jaxpat-report {self.report_path}: {problem}")
        #: (session, items) collected at configure when every item's result was stored (no workers then)
        self.prebuilt: tuple[pytest.Session, list[pytest.Item]] | None = None
        #: True when this process was to be an xdist controller but replays every stored result itself
        self.solo = False
        self.solo_timed = 0  # ... and runs this many speed claims (never stored) itself
        if self._may_go_solo():
            self._check_solo()
        #: why the report could not be written (the run then fails), if so
        self.write_error: str | None = None
        self.results: dict[str, dict[str, Any]] = {}
        self.environment: dict[str, Any] = {}
        #: host label -> that host's environment (the first its workers sent)
        self.environments: dict[str, dict[str, Any]] = {}
        #: node id -> host label of the worker that ran it (distributed runs)
        self.hosts: dict[str, str] = {}
        #: xdist worker id (gw0, ...) -> its host label, learned from its reports
        self.node_labels: dict[str, str] = {}
        #: why the run could not go on (workers collected different items), if so
        self.refused: str | None = None
        self.compiles: dict[str, int] = {}
        self.peak_rss: dict[str, int] = {}  # process (gw0, ..., or main) -> its peak resident memory, bytes
        self.claims: list[dict[str, Any]] = []
        self.last_write = 0.0  # time.monotonic() of the last rewrite
        self.write_gap = WRITE_INTERVAL
        self.started = time.time()
        self.interrupted = False
        self.froze = False
        manager = getattr(config, "pluginmanager", None)
        if manager is not None and not _is_worker(config):  # items done, failures and an ETA during long runs
            from ._progress import Progress

            manager.register(Progress(config), "jaxpat-progress")
        self.collected: list[str] = []  # jaxpat item ids, in collection order (controller / single process)
        self.running: dict[str, float] = {}  # item id -> time.monotonic() at its start, until its last report
        self.isolation: Isolation | None = None
        self.scheduler: Any = None
        self.watchdog: Watchdog | None = None
        self._fault_log: Any = None
        if not _is_worker(config):
            self.isolation = Isolation()
        workerinput: dict[str, Any] = getattr(config, "workerinput", {})  # set by xdist on workers only
        crash_dir = workerinput.get("jaxpat_crash_dir") if _is_worker(config) else (
            self.isolation.crash_dir if self.isolation else None)
        if _is_worker(config) and crash_dir:
            self._fault_log = enable_fault_log(crash_dir, str(workerinput.get("workerid", "gw")))
        limit = config.getoption("jaxpat_timeout")
        if limit and not _is_controller(config):
            # A backstop for the judge itself: items' budgets are enforced on their executors (_pool), so this
            # fires only if the judge's own code hangs.
            self.watchdog = Watchdog(crash_dir, 2 * float(limit) + 30, None if _is_worker(config) else self._hung)

    # -- a re-run where every result is stored: no workers --------------------

    def _may_go_solo(self) -> bool:
        """Whether this would-be xdist controller checks, before xdist starts any worker, that every item's
        result is stored: reuse on, local workers only, jaxpat's items only (``--jaxpat-only``, as ``jaxpat
        check`` runs: other tests are not this check's to move out of the workers), and neither --collect-only
        nor --jaxpat-explore."""
        config = self.config
        if not _is_controller(config) or config.option.collectonly or config.getoption("jaxpat_explore"):
            return False
        if not config.getoption("jaxpat_only"):
            return False
        from ._filters import _local_workers_only
        from ._reuse import store_of

        return _local_workers_only(config) and store_of(config) is not None

    def start_probe_early(self) -> None:
        """Start the probe now (``pytest_configure``) where this process will need its answer
        (:meth:`_probes_here`): JAX starts in its own process while this one lists the plugins and collects."""
        config = self.config
        if _is_worker(config):
            from ._forkserver import offer

            offer(config.workerinput.get("jaxpat_fork_server"))  # type: ignore[attr-defined]
        if self._probes_here():
            from ._collect import start_probe

            if _is_controller(config):
                from ._forkserver import shared

                # one fork server for the run: the probe is its first fork, and the local workers' executors fork
                # from it too (pytest_configure_node hands them its address) instead of each importing JAX again
                shared(listen=True)
            start_probe(config)

    def _probes_here(self) -> bool:
        """Whether this process will need the probe's answer (and so starts the probe at once, beside the
        plugins' listing, instead of after it): the single process of a run, an xdist worker its controller
        handed no usable answer, and a controller of local workers (its answer is handed to them,
        :meth:`pytest_configure_node`: one probe for the run, not one per worker)."""
        config = self.config
        if config.getoption("jaxpat_explore") and _is_controller(config):
            return False
        if _is_worker(config):
            from ._collect import handed_probe

            return handed_probe(config) is None
        if not _is_controller(config):
            return True
        from ._filters import _local_workers_only

        return bool(config.getoption("jaxpat_only")) and _local_workers_only(config)

    def _check_solo(self) -> None:
        """At ``pytest_configure`` (before xdist's, which starts its session only in distribution mode):
        collect here and, when every item's result is stored (:func:`._reuse.all_stored`), run as a single
        process (as ``-n 0``) that replays them: no worker starts. Otherwise nothing changes, and the probe made
        here is handed to the workers (:meth:`pytest_configure_node`)."""
        config = self.config
        session = config.pluginmanager.get_plugin("session")  # made before pytest_configure (wrap_session)
        if not isinstance(session, pytest.Session):
            return
        from ._collect import ErrorItem, SkipItem, close, reuse_support, start_probe
        from ._reuse import TIMED_CLAIMS, all_stored

        def timed(item: pytest.Item) -> bool:
            return getattr(item, "claim", None) in TIMED_CLAIMS

        start_probe(config)  # JAX starts in its own process while this one reads the catalog and the plugins
        try:
            items = self._make_items(session, announce=False)
            # Setup errors and skips (a device-set case with too few devices is marked skip) start no executor;
            # speed claims are never stored and run here (alone: no other item competes with their timings).
            # Reversed: claims come last and are the likeliest to settle it.
            stored = all_stored(config, reversed(items), reuse_support(),
                                lambda item: isinstance(item, (ErrorItem, SkipItem)) or timed(item)
                                or item.get_closest_marker("skip") is not None)
        except Exception:  # whatever failed fails again where it is reported: in the workers
            return
        finally:
            close(config)  # the executors that listed the plugins (an item that runs starts its own again)
        if stored:
            config.option.dist = "no"
            config.option.tx = []
            config.option.numprocesses = 0
            self.prebuilt = (session, items)
            self.solo = True
            self.solo_timed = sum(1 for item in items if timed(item))

    # -- collection ---------------------------------------------------------

    def pytest_ignore_collect(self, collection_path: Path, config: pytest.Config) -> bool | None:
        return True if config.getoption("jaxpat_only") else None

    def _make_items(self, session: pytest.Session, *, announce: bool = True) -> list[pytest.Item]:
        from ._collect import collect_items
        from ._multiprocess import distributed_items

        config = self.config
        extra: list[Any] = [distributed_items]
        if config.getoption("jaxpat_explore"):
            from ._explore_items import explore_items

            extra.append(explore_items)
        if config.getoption("jaxpat_claims"):
            from ._claims import claim_items

            extra.append(claim_items)
        return collect_items(session, extra, announce=announce)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        if self.prebuilt is not None and self.prebuilt[0] is session:
            from ._collect import announce_items

            new = self.prebuilt[1]
            self.prebuilt = None
            announce_items(session, new)
        else:
            new = self._make_items(session)
        if _is_worker(config):
            # every report names the host that ran it (the controller cannot know a remote host's name)
            from ._hosts import host_label

            label = host_label(config)
            for item in new:
                item.user_properties.append(("jaxpat_host", label))
        items.extend(new)

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        lines = [
            f"jaxpat: jax {_version('jax')}, jaxlib {_version('jaxlib')}, python {_platform.python_version()}",
        ]
        if self.solo:
            timed = (f" but {self.solo_timed} speed claim{'s' if self.solo_timed != 1 else ''} (never stored: "
                     "measured again, here)") if self.solo_timed else ""
            lines.append(f"jaxpat: every item's result is stored{timed}: replayed in this process, no workers "
                         "started (--fresh runs every item)")
        lines += [f"jaxpat: WARNING: {w}" for w in jax_warnings(_version("jax"), _version("jaxlib"))]
        if config.getoption("jaxpat_label"):
            lines.append(f"jaxpat: host label {', '.join(config.getoption('jaxpat_label'))}")
        opts = []
        if config.getoption("jaxpat_platforms"):
            opts.append(f"platforms={config.getoption('jaxpat_platforms')}")
        if config.getoption("jaxpat_cpu_devices"):
            opts.append(f"simulated cpu devices={config.getoption('jaxpat_cpu_devices')}")
        if config.getoption("jaxpat_all_devices"):
            opts.append("all devices")
        if opts:
            lines.append("jaxpat: " + ", ".join(opts))
        if not _is_controller(config):
            from ._collect import environment

            env = environment(config)
            lines.append("jaxpat: devices " + ", ".join(f"{d['id']} ({d['kind']})" for d in env["devices"]))
            lines.append("jaxpat: plugins " + ", ".join(
                f"{p['name']}{' ' + p['version'] if p.get('version') else ''}" for p in env["plugins"]))
        return lines

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        if getattr(config.option, "dist", None) != "loadscope":
            return None
        from ._scheduler import CrashSafeScopeScheduling

        self.scheduler = CrashSafeScopeScheduling(config, log, self.isolation)
        return self.scheduler

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """Tell each worker where to leave timeout records and fault logs, and whether to keep its own sys.path."""
        from ._hosts import uses_other_interpreter

        if self.isolation is not None:
            node.workerinput["jaxpat_crash_dir"] = self.isolation.crash_dir
        other = uses_other_interpreter(node)
        node.workerinput["jaxpat_own_sys_path"] = other
        if getattr(node.gateway.spec, "popen", False) and not other:
            # local workers share this interpreter and its plugins: one listing for all of them
            from ._collect import shared_listing

            listing = shared_listing(self.config)
            if listing is not None:
                node.workerinput["jaxpat_listing"] = listing
            from ._collect import probe_for_worker

            probe = probe_for_worker(self.config, wait=True)  # the worker takes it only if made in its context
            if probe is not None:
                node.workerinput["jaxpat_probe"] = probe
            from ._forkserver import shared

            server = shared(start=False)
            if server is not None and server.address is not None:
                node.workerinput["jaxpat_fork_server"] = server.address  # used where it serves the worker's env

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if not self.collected:
            self.collected = [i for i in ids if i.startswith("jaxpat::")]

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # (xdist stands aside under --collect-only: the controller collects, as a single process would)
        if not _is_worker(self.config) and (not _is_controller(self.config) or self.config.option.collectonly):
            self.collected = [i.nodeid for i in session.items if i.nodeid.startswith("jaxpat::")]

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport, sched: Any) -> None:
        """A worker died running ``crashitem``: say why (timeout, with limit and stack; or a crash) and how long."""
        if self.isolation is None:
            return
        started = self.running.pop(crashitem, None)
        record = self.isolation.timeout_record(crashitem)
        worker = getattr(getattr(getattr(report, "node", None), "gateway", None), "id", "?")
        if record is not None:
            report.longrepr = (
                f"timeout: the item ran longer than {record['limit']:g} s (--jaxpat-timeout) and its worker "
                f"{worker} was ended and replaced; the other items go on.\n"
                f"where it was (main thread, most recent call last; innermost frames):\n{record['stack'][-2500:]}"
            )
            report.duration = float(record.get("elapsed") or record["limit"])
        else:
            fault = self.isolation.fault_log(worker).strip()
            how = (f"a fatal error:\n{fault[-2500:]}" if fault else
                   "the process ended without a Python error (os._exit, a signal, or the kernel's OOM killer)")
            report.longrepr = (f"crashed: worker {worker} died running this item -- {how}\n"
                               "the worker was replaced; the other items go on.")
            if started is not None:
                report.duration = time.monotonic() - started
        report.outcome = "failed"
        report.when = "call"
        # An item crash does not count against xdist's --max-worker-restart: crashes are bounded by the items
        # and the quarantine, and only crashes outside an item (start-up, collection) should end the run.
        from ._xdist import forgive_item_crash

        forgive_item_crash(self.config)

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        if not _is_worker(self.config) and nodeid.startswith("jaxpat::"):
            self.running[nodeid] = time.monotonic()

    # -- running items safely (workers, or the single process) ----------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: Any) -> Any:
        if self.watchdog is None or not item.nodeid.startswith("jaxpat::"):
            return (yield)
        self.watchdog.start(item.nodeid)
        try:
            return (yield)
        finally:
            self.watchdog.cancel()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: Any) -> Any:
        report = yield
        if item.nodeid.startswith("jaxpat::") and not self.config.getoption("jaxpat_full_output"):
            report.sections = [(title, _bounded(text)) for title, text in report.sections]
        return report

    def _hung(self, record: dict[str, Any]) -> None:
        """Without workers a hang ends the process (the watchdog's thread calls this first): write the report."""
        nodeid = record["nodeid"]
        rec = self.results.setdefault(nodeid, {**_record_from_nodeid(nodeid), "nodeid": nodeid, "duration": 0.0})
        rec.update(outcome="failed", duration=float(record["elapsed"]), message=(
            f"timeout: the item ran longer than {record['limit']:g} s (--jaxpat-timeout); without xdist workers "
            f"(-n 0) a hang ends the whole run (use -n 1 or more to isolate it).\n"
            f"where it was (main thread, most recent call last):\n{record['stack'][-2500:]}"))
        if self.report_path:
            self._write("incomplete", exitstatus=int(pytest.ExitCode.TESTS_FAILED))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_setupnodes(self, config: pytest.Config, specs: Any) -> None:
        from ._hosts import assign_labels

        assign_labels(config, specs)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_getremotemodule(self) -> Any:
        from ._hosts import remote_module_source

        return remote_module_source()

    def refuse(self, message: str) -> None:
        """The run cannot go on (called by the scheduler): the report is incomplete and the exit non-zero."""
        self.refused = message

    # -- reporting (controller, or the single process) ------------------------

    @pytest.hookimpl(tryfirst=True)  # before junitxml, which writes each property as str(value)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if _is_worker(self.config):
            return
        if report.user_properties:
            report.user_properties = [(k, _JsonDict(v) if isinstance(v, dict) else v)
                                      for k, v in report.user_properties]
        props: dict[str, Any] = dict(report.user_properties) if report.user_properties else {}
        host = self._host_of(report, props)
        if "jaxpat_env" in props:
            env = dict(props["jaxpat_env"])
            if not self.environment:
                self.environment = env
            self.environments.setdefault(host or env.get("host") or "unknown", env)
        # user_properties ride on every phase's report; the facts belong to the call phase only
        facts = (props.get("jaxpat_facts") or {}) if report.when == "call" else {}
        if "compiles" in facts:
            worker = getattr(getattr(report, "node", None), "gateway", None)
            name = getattr(worker, "id", "main")
            self.compiles[name] = self.compiles.get(name, 0) + int(facts["compiles"])
        for claim in facts.get("claims", []):
            self.claims.append({**claim, "host": host} if host else claim)
        record = props.get("jaxpat")
        if record is None:
            if not report.nodeid.startswith("jaxpat::"):
                return
            record = _record_from_nodeid(report.nodeid)
        self._merge_result(report, dict(record), facts)
        if host is not None:
            self.hosts[record.get("nodeid", report.nodeid)] = host
        if self.report_path and time.monotonic() - self.last_write > self.write_gap:
            self._write("running")

    def _host_of(self, report: pytest.TestReport, props: dict[str, Any]) -> str | None:
        """The label of the host that ran ``report``'s item (``None`` without xdist workers)."""
        node = getattr(report, "node", None)
        if node is None:
            return None
        from ._hosts import node_label

        gw = getattr(getattr(node, "gateway", None), "id", None) or "?"
        label = props.get("jaxpat_host")
        if label:
            self.node_labels[gw] = str(label)
            return str(label)
        # a crashed item's report is made by the controller, without the worker's properties
        return self.node_labels.get(gw) or node_label(node) or gw

    def _merge_result(self, report: pytest.TestReport, record: dict[str, Any], facts: dict[str, Any]) -> None:
        nodeid = record.get("nodeid", report.nodeid)
        outcome = _outcome(report)
        prev = self.results.get(nodeid)
        if prev is None:
            # not_run until a phase gives it an outcome: an item cut off after its setup did not pass
            prev = {**record, "nodeid": nodeid, "outcome": "not_run", "duration": 0.0, "message": None}
            self.results[nodeid] = prev
        if report.when == "teardown" or outcome not in (None, "passed"):
            self.running.pop(nodeid, None)
        prev["duration"] = round(prev["duration"] + float(report.duration or 0.0), 6)
        if outcome is None:
            return
        if report.when == "call" and facts.get("not_run"):
            # the item was never run (quarantine): it has no verdict, and the run is incomplete
            prev["outcome"], prev["message"] = "not_run", facts.get("message")
            return
        if report.when == "call" or outcome != "passed":
            if _rank(outcome) >= _rank(prev["outcome"]) or report.when == "call":
                prev["outcome"] = outcome if _rank(outcome) >= _rank(prev["outcome"]) else prev["outcome"]
            message = facts.get("message") or _message(report)
            if message and prev["outcome"] != "passed":
                prev["message"] = message
            if facts.get("repro") and prev["outcome"] in ("failed", "error"):
                prev["repro"] = facts["repro"]
        for key in ("check_grads", "compiles", "released", "observed", "determinism", "reused", "reuse_ignored",
                    "explore"):
            if key in facts:
                prev[key] = facts[key]

    # -- running ------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> None:
        # What is alive now (JAX's modules, the catalog, the registry, the
        # items) lives to the end of the run: move it out of the garbage
        # collector's reach, so that the collections triggered by each item's
        # allocations do not walk it again and again (measured: GC time over
        # 364 items 1.9 s -> 1.25 s; a bare loop without pytest: 1.4 s).
        if not session.config.option.collectonly and any(i.nodeid.startswith("jaxpat::") for i in session.items):
            gc.collect()
            gc.freeze()
            self.froze = True

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """A worker finished: keep the peak resident memory it sent (none if it crashed)."""
        out = getattr(node, "workeroutput", {})
        gw = str(getattr(getattr(node, "gateway", None), "id", "?"))
        rss = out.get("jaxpat_peak_rss")
        if isinstance(rss, int):
            self.peak_rss[gw] = rss
        for plugin, peak in dict(out.get("jaxpat_executor_peaks") or {}).items():
            if isinstance(peak, int):
                self.peak_rss[f"{gw}/{plugin}"] = peak  # the executors, where the implementations ran

    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        self.interrupted = True

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        from ._collect import close, executor_peaks, fork_server_peak

        peaks = executor_peaks(self.config)
        server_peak = fork_server_peak()  # read before it ends
        # a plugin's name may hold "-": one named "fork-server" keeps its key, and the server's peak is left out
        if server_peak is not None and "fork-server" not in peaks:
            peaks = {**peaks, "fork-server": server_peak}
        close(self.config, probe=True)  # this process's executors
        if self.froze:
            gc.unfreeze()
            self.froze = False
        if self.watchdog is not None:
            self.watchdog.cancel()
        from ._memory import peak_rss

        rss = peak_rss()  # a worker sends it to the controller (pytest_testnodedown); the report records it
        if _is_worker(self.config):
            self.config.workeroutput["jaxpat_peak_rss"] = rss  # type: ignore[attr-defined]
            self.config.workeroutput["jaxpat_executor_peaks"] = peaks  # type: ignore[attr-defined]
            return
        if rss is not None and not _is_controller(self.config):
            self.peak_rss["main"] = rss
            self.peak_rss.update({f"main/{plugin}": peak for plugin, peak in peaks.items()})
        elif "fork-server" in peaks:
            self.peak_rss["fork-server"] = peaks["fork-server"]  # the controller's, which its local workers used
        if session.config.option.collectonly:  # collecting is not a run: pytest's exit status, and no report
            if self.isolation is not None:
                self.isolation.cleanup()
            return
        interrupted = self.interrupted or exitstatus == pytest.ExitCode.INTERRUPTED
        missing = self._account_for_every_item(interrupted)
        from ._summary import complete_run_records

        complete_run_records(self.config, self.results, self.environment)  # family, platform; setup E
        status = "complete"
        reason = None
        if interrupted:
            status = "interrupted"
        elif self.refused:
            # the workers collected different items (docs/distributed.md): nothing was spread over them
            status, reason = "incomplete", self.refused
            if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
                session.exitstatus = exitstatus = pytest.ExitCode.USAGE_ERROR
        elif not self.results and not missing:
            # nothing ran (none collected, all deselected, or the run stopped before any): whatever pytest
            # thinks, that is not a complete conformance run; pytest's own status 5 says so too
            status, reason = "incomplete", "no item ran"
            if exitstatus == pytest.ExitCode.OK:
                session.exitstatus = exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED
        elif exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or missing:
            status = "incomplete"
        if missing and exitstatus == pytest.ExitCode.OK:
            # "all passed" would hide the items that never ran
            session.exitstatus = exitstatus = pytest.ExitCode.TESTS_FAILED
        if self.report_path:
            self._write(status, exitstatus=int(exitstatus), reason=reason)
            if self.write_error and exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.INTERNAL_ERROR  # no report: the run did not do its job
        if self.isolation is not None:
            self.isolation.cleanup()

    def _account_for_every_item(self, interrupted: bool) -> int:
        """Give every collected item without an outcome the outcome ``not_run`` and the reason; return how many."""
        left_out = self.isolation.not_run if self.isolation is not None else {}
        if interrupted:
            started = "not run to the end: the run was interrupted (Ctrl-C) while this item was running"
            waiting = "not run: the run was interrupted (Ctrl-C) before this item"
        else:
            started = "not run to the end: the run stopped while this item was running"
            waiting = ("not run: the run stopped before this item (-x/--maxfail, or xdist gave up after too many "
                       "crashed workers)")
        count = 0
        for nodeid in self.collected:
            rec = self.results.get(nodeid)
            if rec is None:
                rec = self.results[nodeid] = {**_record_from_nodeid(nodeid), "nodeid": nodeid,
                                              "outcome": "not_run", "duration": 0.0, "message": None}
                rec["message"] = left_out.get(nodeid, waiting)
            if rec["outcome"] == "not_run":
                rec["message"] = rec.get("message") or left_out.get(nodeid, started)
                count += 1
        for rec in self.results.values():  # items whose setup ran but that were never collected here (no -n)
            if rec["outcome"] == "not_run" and not rec.get("message"):
                rec["message"] = started
                count += rec["nodeid"] not in self.collected
        return count

    def _write(self, status: str, exitstatus: int | None = None, reason: str | None = None) -> None:
        from ._hosts import host_label

        multi = len(self.environments) > 1 or len(set(self.hosts.values())) > 1
        if multi:
            # one environment per host; each result names its host (as in a merged report)
            hosts = []
            for label, e in sorted(self.environments.items()):
                warnings = jax_warnings(e.get("jax"), e.get("jaxlib"))
                hosts.append({"host": label, **e, **({"warnings": warnings} if warnings else {})})
            env: dict[str, Any] = {"hosts": hosts}
        else:
            # the worker's own facts (python, jax, jaxlib, host label, ...) override the controller's
            env = {
                "python": _platform.python_version(),
                "os": f"{_platform.system()} {_platform.release()} ({_platform.machine()})",
                "host": host_label(self.config),
                "hostname": socket.gethostname(),
                "jax": _version("jax"),
                "jaxlib": _version("jaxlib"),
                "jaxpat": _version("jaxpat"),
                **self.environment,
            }
            warnings = jax_warnings(env.get("jax"), env.get("jaxlib"))
            if warnings:
                env["warnings"] = warnings
        rep = _report.new_report(env, _command())
        rep["status"] = status
        if reason:
            rep["reason"] = reason
        rep["duration_wall"] = round(time.time() - self.started, 3)
        if exitstatus is not None:
            rep["exitstatus"] = exitstatus
        results = sorted(self.results.values(), key=lambda r: r["nodeid"])
        if multi:
            results = [{**r, "host": self.hosts.get(r["nodeid"], "unknown")} for r in results]
        rep["results"] = results
        claims = self.claims if multi else [{k: v for k, v in c.items() if k != "host"} for c in self.claims]
        rep["claims"] = sorted(claims, key=lambda c: (c.get("pattern", ""), c.get("nodeid", "")))
        rep["compiles"] = {"count": sum(self.compiles.values()), "by_process": dict(self.compiles)}
        rep["selection"] = selection(self.config)
        if self.config.getoption("jaxpat_explore"):
            from ._explore_items import explore_summary

            rep["explore"] = explore_summary(self.config)
        if self.peak_rss:
            rep["peak_rss"] = {"max": max(self.peak_rss.values()), "by_process": dict(self.peak_rss)}
        t0 = time.monotonic()
        # an interim report is a checkpoint: compact JSON (the C encoder, ~3x faster); the final one is indented
        try:
            _report.write_report(rep, self.report_path, compact=status == "running")
        except OSError as exc:
            if self.write_error is None:
                sys.stderr.write(f"jaxpat: cannot write the report {self.report_path}: {exc}\n")
            self.write_error = str(exc)
        self.last_write = time.monotonic()
        self.write_gap = max(WRITE_INTERVAL, WRITE_COST_FACTOR * (self.last_write - t0))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if _is_worker(self.config):
            return
        tr = terminalreporter
        from jaxpat.report import COMPILATIONS_NOTE, Style, failure_lines, matrix_lines, style_for

        if self.refused:
            tr.section("jaxpat: run refused")
            for line in self.refused.splitlines():
                tr.write_line(line)
        if self.config.option.collectonly:
            tr.section("jaxpat: collected (nothing run, no report written)")
            for line in collected_lines(self.collected):
                tr.write_line(line)
            return
        if not self.results:
            return
        tr.section("jaxpat conformance matrix")
        # pytest's own colour decision (it honours NO_COLOR, FORCE_COLOR, --color) and the stream's encoding
        style = Style(unicode=style_for(sys.stdout).unicode, colour=bool(getattr(tr, "hasmarkup", False)))
        from ._summary import outcome_lines, summary_width

        width = summary_width(tr)  # piped output: 100 columns, never the 80 of a pipe
        multi = len(set(self.hosts.values())) > 1  # each result names its host: a column block per host
        results = sorted((_report.Result.from_dict({**r, "host": self.hosts.get(r["nodeid"], "unknown")} if multi
                                                   else r) for r in self.results.values()), key=lambda r: r.nodeid)
        for line in matrix_lines(results, width=width, style=style):
            tr.write_line(line)
        for line in outcome_lines((r.outcome for r in results), getattr(tr, "reportchars", "")):
            tr.write_line(line)
        failed = [r for r in results if r.outcome in _report.BAD]
        if failed:
            tr.write_line(f"{len(failed)} failing item{'s' if len(failed) != 1 else ''}:")
            for line in failure_lines(failed[:50], style=style, width=width):
                tr.write_line(line)
            if len(failed) > 50:
                tr.write_line(f"... and {len(failed) - 50} more: jaxpat report show REPORT")
        tr.write_line(f"compilations: {sum(self.compiles.values())} ({COMPILATIONS_NOTE})")
        from ._reuse import summary_line

        reuse_line = summary_line(self.results.values(), self.config)
        if reuse_line:
            tr.write_line(reuse_line)
        if self.config.getoption("jaxpat_explore"):
            from ._explore_items import explore_lines

            for line in explore_lines(self.config, self.results.values()):
                tr.write_line(line)
        for warning in jax_warnings(_version("jax"), _version("jaxlib")):
            tr.write_line(f"WARNING: {warning}", yellow=True)
        for r in results:  # a requested platform that is absent (an error under --jaxpat-strict-platforms)
            if r.kind == "setup" and r.outcome == "skipped" and r.message:
                tr.write_line(f"WARNING: {r.message.removeprefix('Skipped: ')} "
                              "(--strict-platforms makes this an error)", yellow=True, bold=True)
        sel = selection(self.config)
        if sel.get("partial"):
            tr.write_line(f"NOTE: a partial selection ({'; '.join(sel['partial'])}): the report says so",
                          yellow=True, bold=True)
        if self.report_path and self.write_error:
            tr.write_line(f"report: NOT WRITTEN to {os.path.abspath(self.report_path)}: {self.write_error}",
                          red=True, bold=True)
        elif self.report_path:
            tr.write_line(f"report: {os.path.abspath(self.report_path)}")


# ---------------------------------------------------------------------------

def collected_lines(nodeids: list[str]) -> list[str]:
    """What ``--collect-only`` collected: jaxpat items and patterns in all, then items and patterns per plugin."""
    patterns: set[str] = set()
    plugins: dict[str, tuple[int, set[str]]] = {}
    for nodeid in nodeids:
        parts = nodeid.split("::")
        pattern = parts[1] if len(parts) >= 3 else None
        if pattern is not None:
            patterns.add(pattern)
        param = nodeid.partition("[")[2]
        plugin = param.partition(".")[0] if pattern is not None and "." in param else "(setup)"
        count, pats = plugins.get(plugin, (0, set()))
        plugins[plugin] = (count + 1, pats | ({pattern} if pattern else set()))
    lines = [f"{len(nodeids)} jaxpat item{'s' if len(nodeids) != 1 else ''} in {len(patterns)} "
             f"pattern{'s' if len(patterns) != 1 else ''}"]
    lines += [f"  {name}: {count} item{'s' if count != 1 else ''}, {len(pats)} pattern{'s' if len(pats) != 1 else ''}"
              for name, (count, pats) in sorted(plugins.items())]
    return lines


def _bounded(text: str) -> str:
    """At most ``OUTPUT_HEAD + OUTPUT_TAIL`` characters of captured output, saying how much was left out."""
    if len(text) <= OUTPUT_HEAD + OUTPUT_TAIL + 200:
        return text
    cut = len(text) - OUTPUT_HEAD - OUTPUT_TAIL
    return (f"{text[:OUTPUT_HEAD]}\n[... jaxpat: {cut} characters of output left out; "
            f"--jaxpat-full-output (jaxpat check --full-output) shows all of it ...]\n{text[-OUTPUT_TAIL:]}")


class _JsonDict(dict[str, Any]):
    """A dict whose text (what JUnit XML records for a property) is JSON, not a Python repr."""

    def __str__(self) -> str:
        import json

        return json.dumps(self, sort_keys=True, default=str)


def report_path_problem(path: str) -> str | None:
    """Why ``path`` cannot take the report (an existing non-regular file, a missing or non-folder parent)."""
    p = Path(path)
    try:
        if p.exists() and not p.is_file():
            kind = "a directory" if p.is_dir() else "not a regular file (a device, a pipe or a socket)"
            return f"is {kind}; give a file path"
        parent = p.parent if str(p.parent) else Path(".")
        if not parent.is_dir():
            return f"its folder {parent} does not exist"
    except OSError as exc:
        return str(exc)
    return None


#: Environment variables that change what a plain pytest run selects or loads.
SELECTION_ENV = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")


def selection(config: pytest.Config) -> dict[str, Any]:
    """What chose this run's items beyond jaxpat's own filters: pytest's ``-k``/``-m``/``--deselect``/``-p``,
    ``-x``/``--maxfail``, and the environment that adds options or plugins; ``partial`` lists what made the
    selection partial (empty: every collected jaxpat item was asked for)."""
    opt: Any = getattr(config, "option", None)
    params = getattr(config, "invocation_params", None)
    out: dict[str, Any] = {"args": [str(a) for a in getattr(params, "args", ())]}
    env = {k: os.environ[k] for k in SELECTION_ENV if os.environ.get(k)}
    if env:
        out["env"] = env
    partial = []
    if getattr(opt, "keyword", ""):
        partial.append(f"-k {opt.keyword!r}")
    if getattr(opt, "markexpr", ""):
        partial.append(f"-m {opt.markexpr!r}")
    if getattr(opt, "deselect", None):
        partial.append(f"--deselect ({len(opt.deselect)})")
    from ._filters import node_ids

    if node_ids(config):
        partial.append(f"node ids ({len(node_ids(config))})")
    # jaxpat's and xdist's own plugins (`jaxpat check` names them: they load even without autoload)
    own = ("jaxpat", "xdist", "xdist.plugin", "xdist.looponfail", "jaxpat.conformance.plugin")
    plugins = [p for p in (getattr(opt, "plugins", None) or []) if p not in own]
    if plugins:
        out["plugins"] = plugins
    extra = [p for p in plugins if not p.startswith("no:")]  # `-p no:NAME` only turns a plugin off
    if extra:
        partial.append(f"-p {' '.join(extra)} (extra plugins can change items and reports)")
    if getattr(opt, "maxfail", 0):
        partial.append(f"--maxfail {opt.maxfail}")
    if env.get("PYTEST_PLUGINS"):
        partial.append("PYTEST_PLUGINS")
    out["partial"] = partial
    return out


def _command() -> list[str]:
    """The command line of this run: ``jaxpat check ...`` when run through jaxpat, else ``pytest ...``."""
    prog = os.path.basename(sys.argv[0]) if sys.argv else ""
    if prog in ("jaxpat", "jaxpat.exe") or sys.argv[0].replace(os.sep, "/").endswith("jaxpat/__main__.py"):
        return ["jaxpat", *sys.argv[1:]]
    return ["pytest", *sys.argv[1:]]


def _outcome(report: pytest.TestReport) -> str | None:
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    if report.failed:
        if "XPASS(strict)" in (report.longreprtext or ""):
            return "xpassed"
        return "failed" if report.when == "call" else "error"
    if report.skipped:
        return "skipped"
    return "passed" if report.when == "call" else None


_RANKS = {"not_run": -1, "passed": 0, "skipped": 1, "xfailed": 2, "xpassed": 3, "failed": 4, "error": 5}


def _rank(outcome: str) -> int:
    return _RANKS.get(outcome, 0)


def _message(report: pytest.TestReport) -> str | None:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    text = report.longreprtext or ""
    if hasattr(report, "wasxfail") and report.wasxfail:
        return str(report.wasxfail)
    # xdist prefixes a worker's failure with "[gw0] linux -- Python 3.x /path": not the message
    lines = text.splitlines()
    if lines and lines[0].startswith("[gw") and " -- Python " in lines[0]:
        text = "\n".join(lines[1:])
    return text[-4000:] if text else None


def _record_from_nodeid(nodeid: str) -> dict[str, Any]:
    """Best-effort metadata for a result that arrived without its own (a crashed worker's item)."""
    return _report.nodeid_record(nodeid)


__all__ = ["JaxpatSession"]
