"""The conformance matrix and failures for a terminal: fits 100 columns, explains every symbol.

Rows are patterns grouped by family; columns are platform × transform (claim
items in one ``claims`` column per platform), with a two-line header. When
the columns do not fit the width, the matrix is printed in several blocks of
columns. Each cell shows the worst outcome of its items and how many items
had it (``✓4``: four items, all passed; ``✗1``: one failed, whatever else
passed). Symbols fall back to ASCII when the stream cannot encode them
(``PYTHONIOENCODING=ascii``, a C locale), and colour is used only on a
terminal without ``NO_COLOR``. Every string taken from a report goes through
:func:`._text.printable` (control characters escaped), so a crafted report
cannot move the cursor or repaint the screen; long messages are clipped.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TextIO

from ._matrix import Matrix, build_matrix, worst
from ._model import OUTCOMES, Result
from ._text import MAX_TERMINAL_MESSAGE, clip, printable

__all__ = ["COMPILATIONS_NOTE", "Style", "failure_lines", "matrix_lines", "reason", "style_for"]

#: What the "compilations" figure counts.
COMPILATIONS_NOTE = "XLA programs compiled during the run, over every process; persistent-cache hits included"

_UNICODE = {"passed": "✓", "failed": "✗", "error": "E", "xfailed": "x", "xpassed": "X", "skipped": "s",
            "not_run": "-"}
_ASCII = {"passed": "+", "failed": "F", "error": "E", "xfailed": "x", "xpassed": "X", "skipped": "s", "not_run": "-"}
_COLOUR = {"passed": "32", "failed": "31;1", "error": "31;1", "xfailed": "33", "xpassed": "35;1", "skipped": "2",
           "not_run": "33;1"}
_MEANING = {
    "passed": "passed",
    "failed": "failed",
    "error": "error (outside the check itself: setup, a plugin or catalog problem)",
    "xfailed": "xfailed (a known deviation, declared in the catalog, that still deviates)",
    "xpassed": "xpassed (a known deviation that now passes: fails the run)",
    "skipped": "skipped",
    "not_run": "not run (quarantined, interrupted or stopped early: the report says why; fails the run)",
}


@dataclass(frozen=True)
class Style:
    """How to draw: Unicode or ASCII symbols, colour or not."""

    unicode: bool = True
    colour: bool = False

    def mark(self, outcome: str) -> str:
        return (_UNICODE if self.unicode else _ASCII)[outcome]

    @property
    def rule(self) -> str:
        return "─" if self.unicode else "-"

    @property
    def ellipsis(self) -> str:
        return "…" if self.unicode else "~"

    def paint(self, text: str, outcome: str | None) -> str:
        if not self.colour or outcome is None:
            return text
        return f"\x1b[{_COLOUR[outcome]}m{text}\x1b[0m"


def style_for(stream: TextIO | Any) -> Style:
    """The style a stream can show: Unicode when its encoding encodes the symbols; colour on a TTY without NO_COLOR."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        "".join(_UNICODE.values()).join("─…").encode(encoding)
        unicode = True
    except (UnicodeEncodeError, LookupError):
        unicode = False
    isatty = getattr(stream, "isatty", None)
    colour = bool(isatty and isatty()) and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
    return Style(unicode=unicode, colour=colour)


def reason(message: str | None, outcome: str = "failed", limit: int = 240) -> str:
    """A failure's reason on one line: its first line, joined with the next when it ends in ``:``.

    Control characters are escaped (:func:`._text.printable`); at most ``limit`` characters.
    """
    lines = [printable(line.strip()) for line in (message or "").splitlines() if line.strip()]
    if not lines:
        return outcome
    text = lines[0]
    if text.endswith(":") and len(lines) > 1:
        text = f"{text} {lines[1]}"
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", max(0, limit - 40), limit - 1)  # at a space near the limit, not inside a word
    return text[: cut if cut > 0 else limit - 1] + "…"


def _cell(counts: Any, style: Style) -> tuple[str, str | None]:
    outcome = worst(counts)
    if outcome is None:
        return ".", None
    return f"{style.mark(outcome)}{counts[outcome]}", outcome


def matrix_lines(results: Iterable[Result] | Matrix, *, width: int = 100, style: Style | None = None) -> list[str]:
    """The matrix, a legend and the totals, every line at most ``width`` characters (colour codes aside).

    ``results`` may be a :class:`~._matrix.Matrix` already built (a scanned report's ``matrix``).
    """
    style = style or Style()
    matrix = results if isinstance(results, Matrix) else build_matrix(results)
    if not matrix.rows:
        return ["(no results)"]
    cells = {(row.pattern, col): _cell(row.cells.get(col), style) for row in matrix.rows for col in matrix.columns}
    headers = [printable(col).rpartition("/") for col in matrix.columns]
    shown = {row.pattern: printable(row.pattern) for row in matrix.rows}
    widths = [max(len(h[2]), *(len(cells[(r.pattern, c)][0]) for r in matrix.rows))
              for h, c in zip(headers, matrix.columns, strict=True)]
    longest = max(len(shown[r.pattern]) for r in matrix.rows)
    # the pattern column takes what the cells leave (ids are shortened to no less than 16 characters);
    # when even that does not fit, the columns are printed in blocks
    cells_w = sum(w + 2 for w in widths)
    name_w = longest + 1
    if name_w + cells_w > width:
        name_w = max(width - cells_w, min(longest + 1, max(16, width // 3)))
    per_block = _blocks(widths, width - name_w, [h[0] for h in headers])
    lines: list[str] = []
    for b, block in enumerate(per_block):
        if len(per_block) > 1:
            lines.append(f"columns {block[0] + 1}-{block[-1] + 1} of {len(matrix.columns)}:")
        top, sub = " " * name_w, "pattern".ljust(name_w)
        last = None
        for i in block:
            where, _, transform = headers[i]
            top += "  " + (where if where != last else "").ljust(widths[i])
            sub += "  " + transform.ljust(widths[i])
            last = where
        lines += [_fit(top.rstrip(), width, style), sub.rstrip(), style.rule * min(width, len(sub.rstrip()))]
        family = None
        for row in matrix.rows:
            if row.family != family:
                family = row.family
                n = sum(1 for r in matrix.rows if r.family == family)
                lines.append(_fit(f"{printable(family)} ({n} pattern{'s' if n != 1 else ''})", width, style))
            name = shown[row.pattern]
            name = name if len(name) <= name_w - 1 else name[: name_w - 2] + style.ellipsis
            text = " " + name.ljust(name_w - 1)
            for i in block:
                cell, outcome = cells[(row.pattern, matrix.columns[i])]
                text += "  " + style.paint(cell.ljust(widths[i]), outcome)
            lines.append(text.rstrip())
        if b < len(per_block) - 1:
            lines.append("")
    lines.append(style.rule * min(width, 60))
    lines += legend_lines(style, width)
    total = matrix.totals
    lines.append("total: " + ", ".join(f"{total[o]} {o}" for o in OUTCOMES if total[o]))
    return lines


def legend_lines(style: Style, width: int = 100) -> list[str]:
    """Every symbol of the matrix, explained."""
    parts = [f"{style.mark(o)} {_MEANING[o]}" for o in OUTCOMES]
    parts.append(". no item in this column (the case does not declare that transform)")
    lines = ["legend: a cell shows its worst outcome and how many items had it",
             f"  ({style.mark('passed')}4: 4 items, all passed; {style.mark('failed')}1: 1 item failed)"]
    for part in parts:
        lines.append(f"  {part}")
    # wrapped, never cut: a narrow terminal (or a pipe) still reads every word
    return [wrapped for line in lines
            for wrapped in (textwrap.wrap(line, width, subsequent_indent="      ", break_on_hyphens=False)
                            if len(line) > width else [line])]


def _blocks(widths: list[int], room: int, groups: list[str] | None = None) -> list[list[int]]:
    """Column indexes split into blocks whose cells (two spaces apart) fit ``room``.

    Columns of one group (a host's platform) stay in one block when the group fits a block.
    """
    groups = groups or [""] * len(widths)
    spans: list[list[int]] = []
    for i, g in enumerate(groups):
        if spans and groups[spans[-1][-1]] == g:
            spans[-1].append(i)
        else:
            spans.append([i])
    blocks: list[list[int]] = [[]]
    used = 0
    for span in spans:
        need = sum(widths[i] + 2 for i in span)
        if blocks[-1] and used + need > room:
            blocks.append([])
            used = 0
        for i in span:
            if blocks[-1] and used + widths[i] + 2 > room:
                blocks.append([])
                used = 0
            blocks[-1].append(i)
            used += widths[i] + 2
    return blocks


def _fit(line: str, width: int, style: Style) -> str:
    return line if len(line) <= width else line[: width - 1] + style.ellipsis


def failure_lines(results: Iterable[Result], *, full: bool = False, style: Style | None = None,
                  width: int = 100, limit: int | None = None) -> list[str]:
    """One line per failing item: mark, node id and the reason; with ``full``, the message and repro follow.

    With ``full``, a message (and a reproduction) longer than ``limit``
    characters (default :data:`._text.MAX_TERMINAL_MESSAGE`; 0: no limit) is
    clipped, saying how much was left out. Report text is escaped
    (:func:`._text.printable`): line breaks are kept, other control characters shown as escapes.
    """
    style = style or Style()
    limit = MAX_TERMINAL_MESSAGE if limit is None else limit
    lines = []
    for r in results:
        mark = style.paint(style.mark(r.outcome), r.outcome)
        nodeid = printable(r.nodeid)
        if full:
            lines.append(f"{mark} {nodeid}")
            body = clip(printable((r.message or r.outcome).rstrip(), newlines=True), limit)
            lines += ["    " + line for line in body.splitlines()]
            if r.repro:
                lines += ["    reproduce (save as repro.py, run python repro.py):"]
                repro = clip(printable(r.repro.rstrip(), newlines=True), limit)
                lines += ["      " + line for line in repro.splitlines()]
            lines.append("")
        else:
            lines.append(f"{mark} {nodeid}: {reason(r.message, r.outcome)}")
    return lines
