"""``jaxpat check`` and ``jaxpat report``: run the conformance suite; read, merge and diff reports."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from jaxpat._util import Exit

from . import _report
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

exit status: 0 all items passed (or xfailed), 1 some failed, 2 interrupted,
3 internal error, 4 usage error, 5 nothing was collected.
The report (JSON, docs/report.md) is written even when the run fails or is interrupted.
"""


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
    p.add_argument("-n", "--numprocesses", default="auto", metavar="N",
                   help="worker processes: a number, 'auto' (one per core, the default) or 0 for no workers")
    add_check_arguments(p)
    p.add_argument("pytest_args", nargs="*", metavar="-- PYTEST_ARGS", help="passed to pytest unchanged")
    p.set_defaults(func=check)
    return p


def pytest_args(ns: argparse.Namespace) -> list[str]:
    """The pytest command line that ``jaxpat check`` runs for these options."""
    # hypothesis's pytest plugin (installed with the test extras) imports
    # hypothesis at the end of every run, 0.5-0.9 s; jaxpat items never use it.
    args = ["-c", str(_INI), "--rootdir", os.getcwd(), "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
            "--jaxpat", "--jaxpat-only"]
    if str(ns.numprocesses) not in ("0", "no"):
        args += ["-n", str(ns.numprocesses), "--dist", "loadscope"]
    args += to_pytest_args(ns)
    return args + list(ns.pytest_args)


def check(ns: argparse.Namespace) -> int:
    """Run the suite in this process (pytest.main) and return pytest's exit code."""
    import pytest

    return int(pytest.main(pytest_args(ns)))


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
    sub = p.add_subparsers(dest="report_command", required=True, metavar="{show,merge,diff}")
    show = sub.add_parser("show", help="print a report's matrix and failures")
    show.add_argument("path")
    show.add_argument("--format", choices=["text", "json"], default="text")
    show.add_argument("--failures", action="store_true", help="also print every failure message")
    merge = sub.add_parser("merge", help="combine reports from several hosts into one")
    merge.add_argument("paths", nargs="+")
    merge.add_argument("-o", "--output", required=True, metavar="PATH")
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
    page = sub.add_parser(
        "html", help="write one self-contained HTML page: matrix, failures, claim plots, changes",
        description="Write REPORT as one HTML file that works offline (no network, no CDN): summary and "
        "environment, the pattern x platform/transform matrix as a heatmap with filtering and search, every "
        "failure with its message and reproduction, the claims with plots (memory and program size against n "
        "per implementation, speed ratios), and with --diff OLD what changed since OLD.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  jaxpat report html jaxpat-report.json -o report.html\n"
        "  jaxpat report html new.json --diff old.json -o changes.html\n",
    )
    page.add_argument("path", metavar="REPORT")
    page.add_argument("--diff", metavar="OLD", help="also show what changed since the report OLD")
    page.add_argument("-o", "--output", required=True, metavar="FILE", help="the HTML file to write")
    page.add_argument("--title", help="the page title (default: from the report)")
    p.set_defaults(func=report)
    return p


def report(ns: argparse.Namespace) -> int:
    try:
        if ns.report_command == "show":
            return _show(ns)
        if ns.report_command == "merge":
            merged = _report.merge_reports(_report.load_report(p) for p in ns.paths)
            _report.write_report(merged, ns.output)
            s = merged.summary
            print(f"merged {len(ns.paths)} reports ({s['total']} results) into {ns.output}")
            return 0
        if ns.report_command == "html":
            return _html(ns)
        return _diff(ns)
    except _report.ReportError as exc:
        print(f"jaxpat report: {exc}", file=sys.stderr)
        return Exit.UNREADABLE


def _show(ns: argparse.Namespace) -> int:
    import shutil

    from ._terminal import COMPILATIONS_NOTE, failure_lines, matrix_lines, style_for

    rep = _report.load_report(ns.path)
    failed = rep.failures()
    if ns.format == "json":
        data = rep.to_dict()
        json.dump({"summary": data["summary"], "status": data["status"], "environment": data["environment"]},
                  sys.stdout, indent=1)
        print()
        return Exit.FINDINGS if failed else Exit.OK
    style = style_for(sys.stdout)
    if not style.unicode and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")  # messages may hold any character
    width = min(shutil.get_terminal_size((100, 24)).columns, 100)
    for h in rep.environments:
        devices = ", ".join(d.id for d in h.devices) or "unknown"
        print(f"{h.host or '?'}: jax {h.jax} jaxlib {h.jaxlib} python {h.python}; devices {devices}")
    print(f"status: {rep.status}")
    print(f"compilations: {rep.compiles.get('count', 0)} ({COMPILATIONS_NOTE})")
    print()
    for line in matrix_lines(rep.results, width=width, style=style):
        print(line)
    if failed:
        print(f"\n{len(failed)} failing item{'s' if len(failed) != 1 else ''}:")
        for line in failure_lines(failed, full=ns.failures, style=style, width=width):
            print(line)
    return Exit.FINDINGS if failed else Exit.OK


def _html(ns: argparse.Namespace) -> int:
    from jaxpat._util import atomic_write

    from ._html import render_html

    rep = _report.load_report(ns.path)
    old = _report.load_report(ns.diff) if ns.diff else None
    page = render_html(rep, old=old, title=ns.title, source=str(ns.path), old_source=ns.diff)
    target = Path(ns.output)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, page)
    print(f"wrote {target} ({len(page.encode('utf-8')) / 1024:.0f} KiB, {len(rep.results)} items)")
    return 0


DIFF_EPILOG = """\
exit status (a CI gate can tell these apart):
  0  no change: same outcomes and same observations (environment differences alone are not drift)
  1  regression: some item got worse (passed/skipped/xfailed -> failed, error or xpassed)
  5  drift only: observations, outcomes or items changed, none for the worse
  3  unreadable input: a report is missing, unreadable, or not a jaxpat report
  2  usage error
examples:
  jaxpat report diff jax-0.10.json jax-0.12.json
  jaxpat report diff old.json new.json --format json | jq '.patterns | keys'
"""


def _diff(ns: argparse.Namespace) -> int:
    from . import _drift

    try:
        old, new = _report.load_report(ns.old), _report.load_report(ns.new)
        result = _drift.drift(old, new)
    except _report.ReportError as exc:
        print(f"jaxpat report diff: {exc}", file=sys.stderr)
        return int(Exit.UNREADABLE)
    if ns.format == "json":
        json.dump(result.to_dict(), sys.stdout, indent=1)
        print()
    else:
        for line in _drift.format_text(result, ns.old, ns.new, limit=ns.limit):
            print(line)
    return int(result.exit_status())
