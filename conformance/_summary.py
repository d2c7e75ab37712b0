"""The end of a run in the terminal and the records it ends with: pieces the session calls (no JAX, no plugin).

* :func:`complete_records` fills what a record made from a node id alone
  lacks (an item that never ran: interrupted, stopped early) -- the pattern's
  family and an agreement item's platforms -- so the matrix has no phantom
  ``-`` group or ``-`` platform; a setup item that failed (a plugin that
  cannot load, an invalid catalog) is an ``error``, as the legend says.
* :func:`outcome_lines`: skips and xfails in one line each (pytest's ``-rs``
  / ``-rx`` list them one by one).
* :func:`summary_width`: 100 columns when the output is not a terminal (piped
  output is never cut at 80), else the terminal's width up to 100.
* :class:`FinalReport` and :func:`write_interrupted_report`: a run interrupted
  (Ctrl-C) before pytest finished its session still leaves a report that says
  ``interrupted`` (and claims nothing ran).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["FinalReport", "complete_records", "complete_run_records", "outcome_lines", "stamp", "summary_width",
           "write_interrupted_report"]

#: The widest terminal summary, in columns.
MAX_WIDTH = 100


def summary_width(tr: Any) -> int:
    """The width the jaxpat summary is drawn at: the terminal's (at most 100), or 100 when not a terminal."""
    tw = getattr(tr, "_tw", None)
    isatty = getattr(tr, "isatty", None)
    if isatty is None or not (isatty() if callable(isatty) else isatty):
        return MAX_WIDTH
    return min(int(getattr(tw, "fullwidth", MAX_WIDTH) or MAX_WIDTH), MAX_WIDTH)


def complete_records(results: Mapping[str, dict[str, Any]], families: Mapping[str, str] | None = None,
                     platforms: Iterable[str] = ()) -> None:
    """Fill, in place, each record's missing ``family`` (from another record of its pattern, else
    ``families``), an agreement record's missing ``platform`` (the run's ``platforms`` joined with ``+``, as an
    agreement item records them) and turn a failed setup item into an ``error``."""
    known: dict[str, str] = dict(families or {})
    for rec in results.values():
        if rec.get("family") and rec.get("pattern"):
            known.setdefault(str(rec["pattern"]), str(rec["family"]))
    joined = "+".join(sorted(set(platforms)))
    for rec in results.values():
        if rec.get("kind") == "setup":
            rec.setdefault("family", "setup")
            if rec.get("outcome") == "failed":
                rec["outcome"] = "error"
            continue
        if not rec.get("family") and rec.get("pattern") in known:
            rec["family"] = known[str(rec["pattern"])]
        if rec.get("kind") == "agreement" and not rec.get("platform") and joined:
            rec["platform"] = joined


def outcome_lines(outcomes: Iterable[str], reportchars: str = "") -> list[str]:
    """One line for the skipped items and one for the xfailed ones (none when there are none), saying how to
    list them: pytest's ``-rs`` / ``-rx`` (``jaxpat check ... -- -rs``), unless this run lists them already
    (``reportchars``: pytest's, after ``a`` and ``N`` were expanded)."""
    counts = Counter(outcomes)
    chars = reportchars or ""
    every = "a" in chars or "A" in chars
    lines = []
    if counts["skipped"]:
        how = "listed below" if every or "s" in chars else "-rs lists each with its reason"
        lines.append(f"{counts['skipped']} skipped (this host cannot run them, e.g. too few devices); {how}")
    if counts["xfailed"]:
        how = "listed below" if every or "x" in chars else "-rx lists each"
        lines.append(f"{counts['xfailed']} xfailed (known deviations declared in the catalog, still deviating); "
                     f"{how}")
    return lines


def complete_run_records(config: Any, results: Mapping[str, dict[str, Any]], environment: Mapping[str, Any]) -> None:
    """:func:`complete_records` for a run: families from the catalog the judge read (parsed again only when
    some record lacks one), platforms from the environment the workers sent."""
    families: dict[str, str] = {}
    if any(not r.get("family") and r.get("pattern") and r.get("kind") != "setup" for r in results.values()):
        families = _catalog_families(config)
    complete_records(results, families, environment.get("platforms") or ())


def _catalog_families(config: Any) -> dict[str, str]:
    from ._collect import _LISTING

    listing = config.stash.get(_LISTING, None)
    if listing is not None:
        return {p.id: p.family for p in listing.catalog}
    try:  # the controller of remote workers read no catalog yet: the files the judge reads (plugins' aside)
        from ._setup import catalog_with_files

        catalog, _ = catalog_with_files(list(config.getoption("jaxpat_catalog")), trust_cache=False)
    except Exception:
        return {}
    return {p.id: p.family for p in catalog}


#: Why a run interrupted before its session finished has no item in its report.
EARLY_INTERRUPT = ("interrupted (Ctrl-C) while the run was starting (before or while its workers and executors "
                   "started): no item ran")


def stamp(path: str | None) -> tuple[int, int] | None:
    """What identifies one write of ``path`` (modification time, size); None when there is no such file."""
    try:
        st = os.stat(path) if path else None
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size) if st is not None else None


def write_interrupted_report(path: str, command: list[str], reason: str = EARLY_INTERRUPT) -> str | None:
    """Write a report with status ``interrupted``, no results and ``reason`` to ``path`` (for a run interrupted
    before its session could write one); return why it could not be written, or None."""
    import platform
    import socket

    from jaxpat import _env
    from jaxpat import report as _report

    try:
        label = _env.label() or socket.gethostname()
    except Exception:  # a bad JAXPAT_LABEL was reported when the run started
        label = socket.gethostname()
    rep = _report.new_report({"python": platform.python_version(), "hostname": socket.gethostname(),
                              "host": label}, command)
    rep.update(status="interrupted", reason=reason, exitstatus=2)
    try:
        _report.write_report(rep, path)
    except OSError as exc:
        return str(exc)
    return None


class FinalReport:
    """Writes the report of a run interrupted before pytest finished its session (pytest calls no
    ``pytest_sessionfinish`` when Ctrl-C lands in ``pytest_sessionstart``, where xdist starts its workers):
    registered on the controller or the single process."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.finished = False
        self.interrupted = False

    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        self.interrupted = True

    def pytest_sessionfinish(self, session: Any, exitstatus: int) -> None:
        self.finished = True

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Items that never ran count in pytest's last line (``3 passed, 13 not run``, not a green ``3 passed``)."""
        session = self.config.pluginmanager.get_plugin("jaxpat-session")
        results = getattr(session, "results", None) or {}
        count = sum(1 for r in results.values() if r.get("outcome") == "not_run")
        stats = getattr(terminalreporter, "stats", None)
        if count and isinstance(stats, dict):
            stats.setdefault("not run", []).extend(_NotRun() for _ in range(count))
            if hasattr(terminalreporter, "_main_color"):
                terminalreporter._main_color = None  # pytest recomputes its colour and kinds with "not run"

    def pytest_unconfigure(self, config: Any) -> None:
        path = config.getoption("jaxpat_report")
        if self.finished or not self.interrupted or not path:
            return
        session = config.pluginmanager.get_plugin("jaxpat-session")
        if session is not None and hasattr(session, "_write"):
            session._write("interrupted", exitstatus=2, reason=EARLY_INTERRUPT)
            if getattr(session, "isolation", None) is not None:
                session.isolation.cleanup()
        else:
            write_interrupted_report(path, list(getattr(config.invocation_params, "args", ())))


class _NotRun:
    """An entry of pytest's terminal statistics for an item that never ran (it counts in the last line)."""

    count_towards_summary = True
