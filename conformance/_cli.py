"""``jaxpat check`` and ``jaxpat report``: run the conformance suite; read, merge and diff reports."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from jaxpat import report as _report
from jaxpat._util import Exit

from ._options import add_check_arguments, to_pytest_args

__all__ = ["add_parser", "check", "report"]

_INI = Path(__file__).with_name("check.ini")

CHECK_EPILOG = """\
examples:
  jaxpat check                          every implementation, every platform, -n auto
  jaxpat check -n 0 --cpu-devices 2     serial, with two simulated CPU devices
  jaxpat check --pattern 'scan-*' --transform jit
  jaxpat check --platforms gpu --strict-platforms
  jaxpat check --no-claims              cases only, without measuring claims
  jaxpat check -- -k lax_scan -x        anything after -- goes to pytest
  jaxpat check --tx ssh=me@gpu-box//python=/opt/venv/bin/python --label gpu-box
                                        workers on other hosts (docs/distributed.md)

The run is isolated from the working directory: its conftest.py, pytest.ini,
setup.cfg, tox.ini and pyproject.toml are not read, and PYTEST_ADDOPTS and
PYTEST_PLUGINS are ignored; pass pytest options after -- instead. jaxpat's and
xdist's pytest plugins are loaded by name (-p), so the run also works under
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1.

exit status: 0 every item passed (or xfailed); 1 some item failed; 2 usage
error: a bad option, or --pattern/--impl/--transform that select nothing
(with a did-you-mean); 3 a --catalog file cannot be read; 4 internal error
(jaxpat's or pytest's; rerun with --traceback); 130 interrupted. A requested
platform that is absent is a warning (an error with --strict-platforms).
The report (JSON, docs/report.md) is written even when the run fails or is interrupted.
"""

#: pytest's exit codes (pytest.ExitCode) in jaxpat's scheme (jaxpat._util.Exit).
FROM_PYTEST = {0: Exit.OK, 1: Exit.FINDINGS, 2: Exit.INTERRUPTED, 3: Exit.INTERNAL, 4: Exit.USAGE, 5: Exit.USAGE}
#: The pytest plugins ``jaxpat check`` needs, by pytest11 entry-point name (``-p NAME``), and the
#: filter for the one warning that ``-p jaxpat`` gives in this process (jaxpat is imported already,
#: so pytest cannot assertion-rewrite it; jaxpat has no test code to rewrite).
PLUGIN_ARGS = ("-W", "ignore:Module already imported so cannot be rewritten; jaxpat:pytest.PytestAssertRewriteWarning",
               "-pjaxpat", "-pxdist")  # one token each: xdist rewrites a separate `jaxpat` (a folder here) as a path
#: Environment variables that would change what a run checks; ``jaxpat check`` leaves them out.
IGNORED_ENV = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")


def add_parser(subparsers: Any) -> None:
    """Add the ``check`` and ``report`` subcommands to an argparse subparsers object."""
    add_check_parser(subparsers)
    add_report_parser(subparsers)


def add_check_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "check", help="run the conformance suite on the local devices and write a report",
        description="Verify every registered implementation against the catalog, on every device "
        "JAX can see, under each transform the catalog declares, in parallel (pytest + pytest-xdist).",
        epilog=CHECK_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("-n", "--numprocesses", default=None, metavar="N",
                   help="worker processes: a number, 'auto' (one per core, the default without --tx) "
                   "or 0 for no workers")
    p.add_argument("--tx", action="append", default=[], metavar="SPEC",
                   help="an execnet gateway for workers (pytest-xdist): popen//python=PATH, "
                   "ssh=HOST//python=PATH, socket=HOST:PORT, N*SPEC; repeatable; replaces -n "
                   "(docs/distributed.md)")
    add_check_arguments(p)
    p.add_argument("pytest_args", nargs="*", metavar="-- PYTEST_ARGS", help="passed to pytest unchanged")
    p.set_defaults(func=check)
    return p


def pytest_args(ns: argparse.Namespace) -> list[str]:
    """The pytest command line that ``jaxpat check`` runs for these options.

    pytest runs with jaxpat's own ini file (``-c``), no conftest.py files
    (``--noconftest``) and no cache (``-p no:cacheprovider``), so that nothing
    in the working directory changes what is checked or where it caches.
    """
    # hypothesis's pytest plugin (installed with the test extras) imports
    # hypothesis at the end of every run, 0.5-0.9 s; jaxpat items never use it.
    # The ini file and rootdir are the controller's own business: they go through
    # PYTEST_ADDOPTS (check_addopts), which workers on other hosts never see; xdist
    # would otherwise rewrite them, as every argument naming an existing path, relative
    # to an rsync root for remote (ssh, socket) workers, and stop on them.
    # jaxpat's and xdist's pytest plugins by their entry-point names: loaded even under
    # PYTEST_DISABLE_PLUGIN_AUTOLOAD, and not twice when autoloading is on (pytest skips
    # an entry point whose name is already registered).
    args = [*PLUGIN_ARGS, "--noconftest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--jaxpat",
            "--jaxpat-only"]
    numprocesses = getattr(ns, "numprocesses", None)
    tx = list(getattr(ns, "tx", None) or [])
    if tx and numprocesses is None:
        args += [x for spec in tx for x in ("--tx", spec)] + ["--dist", "loadscope"]
    elif str(numprocesses or "auto") not in ("0", "no"):
        args += ["-n", str(numprocesses or "auto"), "--dist", "loadscope"]
    args += to_pytest_args(ns)
    return args + list(ns.pytest_args)


def check_addopts() -> str:
    """What ``jaxpat check`` sets ``$PYTEST_ADDOPTS`` to (the user's own is ignored): its ini file and rootdir.

    Only the controller (and local popen workers, which inherit the environment)
    read it; a worker on another host needs neither.
    """
    return f"-c {shlex.quote(str(_INI))} --rootdir {shlex.quote(os.getcwd())}"


def check(ns: argparse.Namespace) -> int:
    """Run the suite in this process (pytest.main); return the status in jaxpat's scheme (FROM_PYTEST)."""
    import pytest

    for path in ns.catalog:
        if not os.path.isfile(path):
            print(f"jaxpat check: --catalog {path}: no such file", file=sys.stderr)
            return Exit.UNREADABLE
    from ._filters import cache_dir_problem

    problem = None if ns.no_cache else cache_dir_problem(ns.cache_dir)
    if problem:
        print(f"jaxpat check: --cache-dir {_report.printable(ns.cache_dir)}: {problem}", file=sys.stderr)
        return Exit.USAGE
    saved = {name: os.environ.pop(name) for name in IGNORED_ENV if name in os.environ}
    if saved:
        print(f"jaxpat check: ignoring {', '.join(saved)} (pass pytest options after --)", file=sys.stderr)
    # the controller's own ini file and rootdir (check_addopts); workers on other hosts never see them
    os.environ["PYTEST_ADDOPTS"] = check_addopts()
    from ._summary import stamp, write_interrupted_report

    before = stamp(ns.report)
    try:
        code = int(pytest.main(pytest_args(ns)))
    except KeyboardInterrupt:  # Ctrl-C before pytest could handle it (its start-up)
        code = int(pytest.ExitCode.INTERRUPTED)
    finally:
        os.environ.pop("PYTEST_ADDOPTS", None)
        os.environ.update(saved)
    if code == pytest.ExitCode.INTERRUPTED and ns.report and stamp(ns.report) == before:
        write_interrupted_report(ns.report, ["jaxpat", *sys.argv[1:]])  # the run wrote none: say it was cut short
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        _explain_nothing_selected(ns)
    return int(FROM_PYTEST.get(code, Exit.INTERNAL))


def _explain_nothing_selected(ns: argparse.Namespace) -> None:
    """Say which filter selected nothing, with the closest id.

    No plugin code runs here (this process decides the exit status): pattern ids come from the catalog files
    (the shipped one, ``--catalog`` files and plugins' files found through their metadata are not read), so an
    implementation filter is explained by pointing at ``jaxpat plugins``.
    """
    import fnmatch

    from jaxpat._util import did_you_mean

    from ._setup import catalog_with_files

    def unmatched(globs: list[str], ids: list[str]) -> list[str]:
        return [g for g in globs if not any(fnmatch.fnmatchcase(i, g) for i in ids)]

    try:
        catalog, _ = catalog_with_files(list(ns.catalog), trust_cache=False)
    except Exception as exc:  # the run itself has reported what is wrong
        print(f"jaxpat check: nothing was selected ({type(exc).__name__}: {exc})", file=sys.stderr)
        return
    pattern_ids = catalog.ids()
    said = False
    for flag, globs, ids, what in (("--pattern", ns.pattern, pattern_ids, "pattern"),):
        for glob in unmatched(list(globs), ids):
            hint = did_you_mean(glob.replace("*", "").replace("?", ""), ids)
            print(f"jaxpat check: {flag} {glob!r} matches no {what}{hint}; `jaxpat "
                  f"{'list' if what == 'pattern' else 'plugins'}` shows them", file=sys.stderr)
            said = True
    if not said and ns.impl:
        print(f"jaxpat check: no item matches --impl {' '.join(ns.impl)}; `jaxpat plugins` lists the "
              "implementations", file=sys.stderr)
        said = True
    if not said:
        asked = " ".join(f"{f} {v}" for f, vs in (("--pattern", ns.pattern), ("--impl", ns.impl),
                                                   ("--transform", ns.transform)) for v in vs)
        print(f"jaxpat check: no item matches {asked or 'this run'} (implementations for those patterns, "
              "transforms their cases declare)", file=sys.stderr)


# ---------------------------------------------------------------------------

def add_report_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "report", help="show, merge or diff conformance reports",
        description="Read conformance reports written by `jaxpat check --report`.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  jaxpat report show jaxpat-report.json\n"
        "  jaxpat report merge gpu.json tpu.json laptop.json -o all.json\n"
        "  jaxpat report diff jax-0.10.json jax-0.12.json  # exit 1 regression, 5 drift only, 0 no change\n",
    )
    sub = p.add_subparsers(dest="report_command", required=True, metavar="{show,merge,diff,html}")
    raw = argparse.RawDescriptionHelpFormatter
    show = sub.add_parser(
        "show", help="print a report's environment, matrix and failures", formatter_class=raw,
        description="Print where a report was made (hosts, versions, devices), its status and compilation "
        "count, the pattern x platform/transform matrix grouped by family (within 100 columns, with a legend), "
        "and every failing item with its reason. Symbols fall back to ASCII when the terminal cannot show them; "
        "NO_COLOR turns colour off.",
        epilog="examples:\n  jaxpat report show jaxpat-report.json\n"
        "  jaxpat report show jaxpat-report.json --failures   # messages (clipped; --full) and reproductions\n"
        "  jaxpat report show jaxpat-report.json --format json | jq .summary\n\n"
        "exit status: 0 the report is complete and has no failing item; 1 it has some (failed, error,\n"
        "xpassed), or it is not complete (status running, incomplete or interrupted); 2 usage error;\n"
        "3 the report cannot be read or is not a jaxpat report; 4 internal error.\n",
    )
    show.add_argument("path", metavar="REPORT")
    show.add_argument("--format", choices=["text", "json"], default="text",
                      help="text (default) or json (summary, status and environment)")
    show.add_argument("--failures", action="store_true",
                      help="print every failure's message and its reproduction (messages clipped at "
                      f"{_report.MAX_TERMINAL_MESSAGE} characters unless --full)")
    show.add_argument("--full", action="store_true", help="with --failures: print messages in full, unclipped")
    merge = sub.add_parser(
        "merge", help="combine reports from several hosts into one", formatter_class=raw,
        description="Combine reports from several hosts into one: every result and claim keeps its host label, "
        "so the matrix gets a column per host x platform x transform. Two reports from hosts with the same "
        "label are refused (give each run its own: jaxpat check --label NAME).",
        epilog="examples:\n  jaxpat report merge gpu.json tpu.json laptop.json -o all.json\n\n"
        "exit status: 0 merged; 2 usage error (-o names a folder or a device); 3 a report cannot be read,\n"
        "is not a jaxpat report, or two share a host label, or -o cannot be written; 4 internal error.\n",
    )
    merge.add_argument("paths", nargs="+", metavar="REPORT")
    merge.add_argument("-o", "--output", required=True, metavar="PATH", help="the merged report to write")
    diff = sub.add_parser(
        "diff", help="what changed between two runs: regressions, fixes and drift (exit 0/1/5/3)",
        description="Compare two reports item by item: outcomes that got worse (regressions) or better "
        "(fixes), and what the items observed even where both passed -- output values (max abs / rel / "
        "ulp difference), structure, dtypes and shapes, exception types and messages, claim figures, XLA "
        "compilation counts -- grouped by pattern, after the environment and JAX config differences. "
        "Items match by node id (and host label, for merged reports).",
        epilog=DIFF_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    diff.add_argument("old", help="the report of the earlier run (e.g. the JAX you upgrade from)")
    diff.add_argument("new", help="the report of the later run")
    diff.add_argument("--format", choices=["text", "json"], default="text",
                      help="text for a terminal (default), or JSON for tools (shape in docs/report.md)")
    diff.add_argument("--limit", type=int, default=0, metavar="N",
                      help="text: at most N items per pattern (default 0: all)")
    diff.add_argument("--full", action="store_true",
                      help="text: print changed messages in full (they are clipped at "
                      f"{_report.MAX_TERMINAL_MESSAGE} characters otherwise)")
    diff.add_argument("--fail-on", choices=["drift", "regressions"], default="drift",
                      help="drift (default): exit 1 on a regression, 5 on drift only; regressions: exit 1 on a "
                      "regression and 0 otherwise (a CI gate that fixes and drift do not trip)")
    diff.add_argument("--regressions-only", dest="fail_on", action="store_const", const="regressions",
                      help="the same as --fail-on regressions")
    page = sub.add_parser(
        "html", help="write one self-contained HTML page: matrix, failures, claim plots, changes",
        description="Write REPORT as one HTML file that works offline (no network, no CDN): summary and "
        "environment, the pattern x platform/transform matrix as a heatmap with filtering and search, every "
        "failure with its message and reproduction, the claims with plots (memory and program size against n "
        "per implementation, speed ratios), and with --diff OLD what changed since OLD.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  jaxpat report html jaxpat-report.json -o report.html\n"
        "  jaxpat report html new.json --diff old.json -o changes.html\n\n"
        "exit status: 0 written; 2 usage error (-o names a folder or a device); 3 a report cannot be read\n"
        "or is not a jaxpat report, or -o cannot be written; 4 internal error. The exit status is 0 even\n"
        "when the report has failures (jaxpat report show says 1 then).\n",
    )
    page.add_argument("path", metavar="REPORT")
    page.add_argument("--diff", metavar="OLD", help="also show what changed since the report OLD")
    page.add_argument("-o", "--output", required=True, metavar="FILE", help="the HTML file to write")
    page.add_argument("--title", help="the page title (default: from the report)")
    p.set_defaults(func=report)
    return p


def report(ns: argparse.Namespace) -> int:
    """``jaxpat report show|merge|diff|html``; a report that cannot be read is exit 3 with one clear message."""
    try:
        if ns.report_command == "show":
            return _show(ns)
        if ns.report_command == "merge":
            return _merge(ns)
        if ns.report_command == "html":
            return _html(ns)
        return _diff(ns)
    except _report.ReportError as exc:
        print(f"jaxpat report {ns.report_command}: {_report.printable(exc, newlines=True)}", file=sys.stderr)
        return Exit.UNREADABLE


def _output_problem(ns: argparse.Namespace) -> int | None:
    """Exit 2 (usage) when ``-o`` names something that is not a file to write (a folder, a device)."""
    problem = _report.check_output_path(ns.output)
    if problem is None:
        return None
    print(f"jaxpat report {ns.report_command}: -o {_report.printable(problem)}", file=sys.stderr)
    return Exit.USAGE


def _cannot_write(ns: argparse.Namespace, exc: OSError) -> int:
    reason = exc.strerror or str(exc)
    print(f"jaxpat report {ns.report_command}: cannot write {_report.printable(ns.output)}: "
          f"{_report.printable(reason)}", file=sys.stderr)
    return Exit.UNREADABLE


def _merge(ns: argparse.Namespace) -> int:
    bad = _output_problem(ns)
    if bad is not None:
        return bad
    try:  # streamed: a million results are never held (jaxpat.report.merge_files)
        count = _report.merge_files(ns.paths, ns.output)
    except OSError as exc:
        return _cannot_write(ns, exc)
    print(f"merged {len(ns.paths)} reports ({count} results) into {_report.printable(ns.output)}")
    return Exit.OK


def _show(ns: argparse.Namespace) -> int:
    import shutil

    esc = _report.printable
    rep = _report.scan(ns.path)  # streamed: the matrix, tally and failures, not every result
    failed = rep.failures
    finished = rep.status == "complete"
    code = Exit.FINDINGS if failed or not finished else Exit.OK
    if ns.format == "json":
        data = rep.head.to_dict()
        print(_report.dumps_strict({"summary": rep.tally(), "status": data["status"],
                                    "environment": data["environment"]}, indent=1))
        return code
    style = _report.style_for(sys.stdout)
    if not style.unicode and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")  # messages may hold any character
    width = min(shutil.get_terminal_size((100, 24)).columns, 100)
    for h in rep.environments:
        devices = ", ".join(d.id for d in h.devices) or "unknown"
        print(esc(f"{h.host or '?'}: jax {h.jax} jaxlib {h.jaxlib} python {h.python}; devices {devices}"))
    print(f"status: {rep.status}" + ("" if finished else
                                     " (the run did not finish: not every item has its final result)"))
    print(f"compilations: {rep.compiles.get('count', 0)} ({_report.COMPILATIONS_NOTE})")
    print()
    for line in _report.matrix_lines(rep.matrix, width=width, style=style):
        print(line)
    if failed:
        print(f"\n{len(failed)} failing item{'s' if len(failed) != 1 else ''}:")
        for line in _report.failure_lines(failed, full=ns.failures, style=style, width=width,
                                          limit=0 if ns.full else None):
            print(line)
    return code


def _html(ns: argparse.Namespace) -> int:
    from jaxpat._util import atomic_write

    bad = _output_problem(ns)
    if bad is not None:
        return bad
    rep = _report.scan(ns.path, items=True, index=bool(ns.diff))
    old = _report.scan(ns.diff, index=True) if ns.diff else None
    page = _report.render_html(rep, old=old, title=ns.title, source=str(ns.path), old_source=ns.diff)
    target = Path(ns.output)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, page)
    except OSError as exc:
        return _cannot_write(ns, exc)
    print(f"wrote {_report.printable(target)} ({len(page.encode('utf-8')) / 1024:.0f} KiB, "
          f"{rep.total} items)")
    return Exit.OK


DIFF_EPILOG = """\
exit status (a CI gate can tell these apart):
  0  no change: same outcomes and same observations (environment differences alone are not drift)
  1  regression: some item got worse (passed/skipped/xfailed -> failed, error or xpassed)
  5  drift only: observations, outcomes or items changed, none for the worse
  3  unreadable input: a report is missing, unreadable, or not a jaxpat report
  2  usage error
With --fail-on regressions (or --regressions-only), drift only exits 0: only a
regression fails a CI job; fixes, added or removed items and drift are printed.
examples:
  jaxpat report diff jax-0.10.json jax-0.12.json
  jaxpat report diff base.json pr.json --fail-on regressions   # CI: fail on regressions only
  jaxpat report diff old.json new.json --format json | jq '.patterns | keys'
"""


def _diff(ns: argparse.Namespace) -> int:
    result = _report.drift_files(ns.old, ns.new)  # streamed; the same Drift as drift(load(old), load(new))
    if ns.format == "json":
        print(_report.dumps_strict(result.to_dict(), indent=1))
    else:
        lines = _report.format_drift(result, ns.old, ns.new, limit=ns.limit, clip_at=0 if ns.full else None)
        if ns.fail_on == "regressions" and result.status == "drift" and lines:
            lines[-1] = lines[-1].replace("(exit 5)", "(exit 0: --fail-on regressions)")
        for line in lines:
            print(line)
    status = result.exit_status()
    if ns.fail_on == "regressions" and status == Exit.DRIFT:
        return int(Exit.OK)
    return int(status)
