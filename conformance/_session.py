"""The active conformance plugin, registered only when ``--jaxpat`` is given.

Roles: with pytest-xdist the *controller* never imports JAX — it only turns
worker reports into the conformance report; *workers* (or the single process
without xdist) collect items and run them. Items carry their metadata in
``user_properties`` so the controller needs nothing else.
"""

from __future__ import annotations

import gc
import os
import platform as _platform
import socket
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from jaxpat._util import dist_version as _version

from . import _report

#: Seconds between incremental report writes while a run is in progress.
#: Seconds between rewrites of the report while the run goes on (at least).
WRITE_INTERVAL = 2.0
#: ... and at least this many times the last rewrite's duration, so that
#: rewriting a large report costs at most ~1/WRITE_COST_FACTOR of the run.
WRITE_COST_FACTOR = 20.0


#: The JAX (and jaxlib) releases jaxpat supports: pyproject.toml's bounds (a test keeps them equal).
SUPPORTED_JAX = ">=0.6,<0.13"


def jax_warnings(jax: str | None, jaxlib: str | None) -> list[str]:
    """A warning for each of JAX and jaxlib installed outside :data:`SUPPORTED_JAX` (empty when both fit)."""
    from jaxpat.catalog._model import version_matches

    return [
        f"{name} {version} is outside the range jaxpat supports ({name}{SUPPORTED_JAX}): "
        "results may differ from the catalog's for reasons it does not record"
        for name, version in (("jax", jax), ("jaxlib", jaxlib))
        if version is not None and not version_matches(version, SUPPORTED_JAX)
    ]


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _is_controller(config: pytest.Config) -> bool:
    return not _is_worker(config) and getattr(config.option, "dist", "no") != "no"


class JaxpatSession:
    """Collects jaxpat items (workers) and writes the conformance report (controller)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.report_path = config.getoption("jaxpat_report")
        self.results: dict[str, dict[str, Any]] = {}
        self.environment: dict[str, Any] = {}
        self.compiles: dict[str, int] = {}
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

    # -- collection ---------------------------------------------------------

    def pytest_ignore_collect(self, collection_path: Path, config: pytest.Config) -> bool | None:
        return True if config.getoption("jaxpat_only") else None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        from ._collect import collect_items

        extra = []
        if config.getoption("jaxpat_claims"):
            from ._claims import claim_items

            extra.append(claim_items)
        items.extend(collect_items(session, extra))

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        lines = [
            f"jaxpat: jax {_version('jax')}, jaxlib {_version('jaxlib')}, python {_platform.python_version()}",
        ]
        lines += [f"jaxpat: WARNING: {w}" for w in jax_warnings(_version("jax"), _version("jaxlib"))]
        if config.getoption("jaxpat_label"):
            lines.append(f"jaxpat: host label {config.getoption('jaxpat_label')}")
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

        return CrashSafeScopeScheduling(config, log)

    # -- reporting (controller, or the single process) ------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if _is_worker(self.config):
            return
        props = dict(report.user_properties) if report.user_properties else {}
        if "jaxpat_env" in props and not self.environment:
            self.environment = dict(props["jaxpat_env"])
        # user_properties ride on every phase's report; the facts belong to the call phase only
        facts = (props.get("jaxpat_facts") or {}) if report.when == "call" else {}
        if "compiles" in facts:
            worker = getattr(getattr(report, "node", None), "gateway", None)
            name = getattr(worker, "id", "main")
            self.compiles[name] = self.compiles.get(name, 0) + int(facts["compiles"])
        for claim in facts.get("claims", []):
            self.claims.append(claim)
        record = props.get("jaxpat")
        if record is None:
            if not report.nodeid.startswith("jaxpat::"):
                return
            record = _record_from_nodeid(report.nodeid)
        self._merge_result(report, dict(record), facts)
        if self.report_path and time.monotonic() - self.last_write > self.write_gap:
            self._write("running")

    def _merge_result(self, report: pytest.TestReport, record: dict[str, Any], facts: dict[str, Any]) -> None:
        nodeid = record.get("nodeid", report.nodeid)
        outcome = _outcome(report)
        prev = self.results.get(nodeid)
        if prev is None:
            prev = {**record, "nodeid": nodeid, "outcome": "passed", "duration": 0.0, "message": None}
            self.results[nodeid] = prev
        prev["duration"] = round(prev["duration"] + float(report.duration or 0.0), 6)
        if outcome is None:
            return
        if report.when == "call" or outcome != "passed":
            if _rank(outcome) >= _rank(prev["outcome"]) or report.when == "call":
                prev["outcome"] = outcome if _rank(outcome) >= _rank(prev["outcome"]) else prev["outcome"]
            message = facts.get("message") or _message(report)
            if message and prev["outcome"] != "passed":
                prev["message"] = message
            if facts.get("repro") and prev["outcome"] in ("failed", "error"):
                prev["repro"] = facts["repro"]
        for key in ("check_grads", "compiles", "observed"):
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

    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        self.interrupted = True

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.froze:
            gc.unfreeze()
            self.froze = False
        if _is_worker(self.config) or not self.report_path:
            return
        status = "complete"
        if self.interrupted or exitstatus == pytest.ExitCode.INTERRUPTED:
            status = "interrupted"
        elif exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            status = "incomplete"
        self._write(status, exitstatus=int(exitstatus))

    def _write(self, status: str, exitstatus: int | None = None) -> None:
        env = {
            "python": _platform.python_version(),
            "os": f"{_platform.system()} {_platform.release()} ({_platform.machine()})",
            "host": socket.gethostname(),
            "jax": _version("jax"),
            "jaxlib": _version("jaxlib"),
            "jaxpat": _version("jaxpat"),
            **self.environment,
        }
        env["hostname"] = env.get("host") or socket.gethostname()
        env["host"] = self.config.getoption("jaxpat_label") or env["hostname"]
        warnings = jax_warnings(env.get("jax"), env.get("jaxlib"))
        if warnings:
            env["warnings"] = warnings
        rep = _report.new_report(env, ["pytest", *sys.argv[1:]] if "pytest" not in sys.argv[0] else sys.argv)
        rep["status"] = status
        rep["duration_wall"] = round(time.time() - self.started, 3)
        if exitstatus is not None:
            rep["exitstatus"] = exitstatus
        rep["results"] = sorted(self.results.values(), key=lambda r: r["nodeid"])
        rep["claims"] = sorted(self.claims, key=lambda c: (c.get("pattern", ""), c.get("nodeid", "")))
        rep["compiles"] = {"count": sum(self.compiles.values()), "by_process": dict(self.compiles)}
        t0 = time.monotonic()
        # an interim report is a checkpoint: compact JSON (the C encoder, ~3x faster); the final one is indented
        _report.write_report(rep, self.report_path, compact=status == "running")
        self.last_write = time.monotonic()
        self.write_gap = max(WRITE_INTERVAL, WRITE_COST_FACTOR * (self.last_write - t0))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if _is_worker(self.config) or not self.results:
            return
        tr = terminalreporter
        from ._terminal import COMPILATIONS_NOTE, Style, failure_lines, matrix_lines, style_for

        tr.section("jaxpat conformance matrix")
        # pytest's own colour decision (it honours NO_COLOR, FORCE_COLOR, --color) and the stream's encoding
        style = Style(unicode=style_for(sys.stdout).unicode, colour=bool(getattr(tr, "hasmarkup", False)))
        width = min(int(getattr(getattr(tr, "_tw", None), "fullwidth", 100) or 100), 100)
        results = sorted((_report.Result.from_dict(r) for r in self.results.values()), key=lambda r: r.nodeid)
        for line in matrix_lines(results, width=width, style=style):
            tr.write_line(line)
        failed = [r for r in results if r.outcome in _report.BAD]
        if failed:
            tr.write_line(f"{len(failed)} failing item{'s' if len(failed) != 1 else ''}:")
            for line in failure_lines(failed[:50], style=style, width=width):
                tr.write_line(line)
            if len(failed) > 50:
                tr.write_line(f"... and {len(failed) - 50} more: jaxpat report show REPORT")
        tr.write_line(f"compilations: {sum(self.compiles.values())} ({COMPILATIONS_NOTE})")
        for warning in jax_warnings(_version("jax"), _version("jaxlib")):
            tr.write_line(f"WARNING: {warning}", yellow=True)
        for r in results:  # a requested platform that is absent (an error under --jaxpat-strict-platforms)
            if r.kind == "setup" and r.outcome == "skipped" and r.message:
                tr.write_line(f"WARNING: {r.message.removeprefix('Skipped: ')} "
                              "(--strict-platforms makes this an error)", yellow=True, bold=True)
        if self.report_path:
            tr.write_line(f"report: {os.path.abspath(self.report_path)}")


# ---------------------------------------------------------------------------

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


_RANKS = {"passed": 0, "skipped": 1, "xfailed": 2, "xpassed": 3, "failed": 4, "error": 5}


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
    parts = nodeid.split("::")
    record: dict[str, Any] = {"nodeid": nodeid, "kind": "case"}
    if len(parts) >= 3:
        record["pattern"] = parts[1]
        case, _, rest = parts[2].partition("[")
        record["case"] = case
        fields = rest.rstrip("]").rsplit("-", 2)
        if len(fields) == 3:
            record["implementation"], record["device"], record["transform"] = fields
            record["platform"] = record["device"].split(":")[0]
    return record


__all__ = ["JaxpatSession"]
