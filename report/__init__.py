"""jaxpat.report: read, check, merge, diff and draw conformance reports (docs/report.md).

This package needs neither pytest nor JAX nor NumPy: ``jaxpat report``
reads reports anywhere, and the conformance plugin (``jaxpat.conformance``)
builds and writes them with it. It imports only the standard library and
``jaxpat``'s own helpers.

Reading::

    from jaxpat import report
    rep = report.load("jaxpat-report.json")      # ReportError names the member at fault
    rep.failures(), rep.tally(), rep.environments

Comparing and combining::

    d = report.drift(report.load("old.json"), rep)   # a Drift: .items, .status, .to_dict()
    print("\\n".join(report.format_drift(d)))
    merged = report.merge([rep, report.load("gpu.json")])
    report.write_report(merged, "all.json")

Reports of a million results, read as streams (a few hundred bytes per result, not kilobytes)::

    s = report.scan("big.json", items=True)  # a ReportScan: .matrix, .tally(), .failures, .environments
    report.matrix_lines(s.matrix); report.render_html(s)
    d = report.drift_files("old.json", "new.json")  # the same Drift as drift(load(old), load(new))
    report.merge_files(["a.json", "b.json"], "all.json")  # results spooled to disk, never all held

Views::

    report.matrix_lines(rep.results)      # the terminal matrix, with a legend
    report.failure_lines(rep.failures())  # one line per failing item
    report.render_html(rep, old=None)     # one self-contained HTML page (a string)

Node ids (``jaxpat::PATTERN::CASE[PLUGIN.IMPL-PLATFORM:ID-TRANSFORM]`` and the
other shapes) are built and taken apart by :func:`parse_nodeid` /
:func:`format_nodeid`. Every string of a report that a terminal view prints
goes through :func:`printable` (control characters escaped).
"""

from __future__ import annotations

import os
import stat

from ._claim_figures import Ratio, Series, verdict_figures
from ._drift import CATEGORIES, Change, Drift, ItemDrift, drift
from ._drift import format_text as format_drift
from ._html import render_html
from ._json import MAX_DEPTH, MAX_INT_DIGITS, dumps_strict
from ._matrix import Matrix, Row, build_matrix, column_of
from ._model import (
    BAD,
    FORMAT,
    OUTCOMES,
    SCHEMA_PATH,
    VERSION,
    ClaimRecord,
    Device,
    Environment,
    Leaf,
    Observation,
    Report,
    ReportError,
    Result,
    load_report,
    merge_reports,
    new_report,
    parse_report,
    schema,
    summarize,
    validate_report,
    write_report,
)
from ._nodeid import NodeId, format_nodeid, nodeid_record, parse_nodeid
from ._scan import ReportScan, drift_files, merge_files, scan
from ._terminal import COMPILATIONS_NOTE, Style, failure_lines, legend_lines, matrix_lines, style_for
from ._text import MAX_TERMINAL_MESSAGE, clip, printable

__all__ = [
    "BAD",
    "CATEGORIES",
    "COMPILATIONS_NOTE",
    "FORMAT",
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "MAX_TERMINAL_MESSAGE",
    "OUTCOMES",
    "SCHEMA_PATH",
    "VERSION",
    "Change",
    "ClaimRecord",
    "Device",
    "Drift",
    "Environment",
    "ItemDrift",
    "Leaf",
    "Matrix",
    "NodeId",
    "Observation",
    "Ratio",
    "Report",
    "ReportError",
    "ReportScan",
    "Result",
    "Row",
    "Series",
    "Style",
    "build_matrix",
    "check_output_path",
    "clip",
    "column_of",
    "drift",
    "drift_files",
    "dumps_strict",
    "failure_lines",
    "format_drift",
    "format_nodeid",
    "legend_lines",
    "load",
    "loads",
    "matrix_lines",
    "merge",
    "merge_files",
    "new_report",
    "nodeid_record",
    "parse_nodeid",
    "printable",
    "render_html",
    "scan",
    "schema",
    "style_for",
    "summarize",
    "validate",
    "verdict_figures",
    "write_report",
]


def load(path: str | os.PathLike[str]) -> Report:
    """Read the report at ``path``, parsed within bounds and checked against the format.

    Raises :class:`ReportError` -- one message naming the file and, for a
    bad member, its JSON path (``$.results[3].observed.leaves[0].values``) --
    when the file cannot be read, is not JSON, breaks a bound (nesting deeper
    than :data:`MAX_DEPTH`, integers over :data:`MAX_INT_DIGITS` digits, a key
    twice in an object), or is not a valid jaxpat report of this version.
    A report it returns can be shown, diffed, merged and drawn.
    """
    return load_report(path)


def loads(text: str, *, source: str = "report") -> Report:
    """:func:`load` for a report's JSON text; ``source`` names it in error messages."""
    return parse_report(text, source=source)


def merge(reports: list[Report]) -> Report:
    """Combine reports from several hosts into one, every result and claim keeping its host label.

    :class:`ReportError` when two reports come from hosts with the same label
    (pooling them would make their results indistinguishable) or there is nothing to merge.
    """
    return merge_reports(reports)


def validate(data: object) -> list[str]:
    """The ways a JSON document departs from the report format (schema and model rules); empty when valid."""
    return validate_report(data)


def check_output_path(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be a file to write (a report, a page), or None when it can be tried.

    A problem when ``path`` exists and is not a regular file (a directory, a
    device such as ``/dev/null``, a FIFO, a socket), or when one of its
    parent folders exists but is not a folder. These are usage errors, found
    before any work is done. Whether the file can actually be written
    (permissions, a full disk) is known only when writing: that raises ``OSError``.
    """
    target = os.fspath(path)
    if not target:
        return "an empty path"
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        return f"{target}: a parent of this path is not a folder"
    except OSError as exc:
        return f"{target}: {exc.strerror or exc}"
    if st is not None and not stat.S_ISREG(st.st_mode):
        what = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file (a device, FIFO or socket)"
        return f"{target} is {what}; give the path of a file to write"
    parent = os.path.dirname(os.path.abspath(target))
    while parent and not os.path.exists(parent):
        up = os.path.dirname(parent)
        if up == parent:
            break
        parent = up
    if parent and os.path.exists(parent) and not os.path.isdir(parent):
        return f"{target}: {parent} is not a folder"
    return None
