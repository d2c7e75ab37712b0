"""``jaxpat report html``: one self-contained HTML page for a conformance report.

The page works offline: no CDN, no fonts, no libraries. Plots are inline SVG
drawn here; the interactive parts (matrix filter and search, paginated item
and failure lists, the diff) are a few hundred lines of plain JavaScript that
render from one JSON payload embedded in the page, so a report of 100,000
items stays a page of a few hundred rows at a time.

The page is a template (``html/page.html``, with ``page.css`` and
``page.js``, shipped as package data) filled in ONE pass: each slot
(``{{title}}``, ``{{css}}``, ``{{js}}``, ``{{plots}}``, ``{{data}}``) is
replaced by its value and no value is scanned again, so a title or a message
that contains ``{{data}}`` stays text. Every value goes in as data: the title
HTML-escaped; the payload as strict JSON (no ``NaN``) inside ``<script
type="application/json">`` with ``<``, ``>``, ``&``, U+2028 and U+2029
written as ``\\u`` escapes, so no report text can close the element; and the
script puts report text on the page only through ``textContent``.

The page reads its query string, so a link can carry a view:
``?q=scan`` (search patterns), ``family=loops``, ``failing=1`` (only rows with
failures), ``items=TEXT`` (search items), ``outcome=failed`` (item outcome).
Script errors are written into ``#js-errors`` (and the page's ``data-ready``
becomes ``1`` once everything rendered), which the browser test reads.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from ._claim_figures import Series, verdict_figures
from ._json import dumps_strict
from ._matrix import Matrix, build_matrix, column_of, worst
from ._model import BAD, OUTCOMES, Report
from ._scan import ReportScan, drift_files
from ._terminal import reason
from ._text import clip

__all__ = ["MAX_FAILURES", "MAX_ITEMS", "MAX_MESSAGE", "MAX_PLOTS", "bar_plot", "fill", "line_plot", "render_html"]

#: Characters of a failure message kept in the page (the JSON report keeps all of it).
MAX_MESSAGE = 3000
#: At most this many claim plots (the rest are listed in the claims table).
MAX_PLOTS = 240
#: At most this many items in the page's item list (beyond it: the first ones and every listed failure; the
#: matrix and the summary still count every item). 100,000 node ids are about 7 MB of page.
MAX_ITEMS = 100_000
#: At most this many failures in the page (each with its message, up to MAX_MESSAGE characters).
MAX_FAILURES = 10_000

_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f")
_CODES = {o: i for i, o in enumerate(OUTCOMES)}
#: The page's template and its style and script (package data).
HTML_DIR = Path(__file__).with_name("html")
_SLOT = re.compile(r"\{\{([a-z]+)\}\}")
#: Characters written as \\u escapes in the JSON payload: none of them can then end the script element
#: (``</script>``, ``<!--``) or change how the text is parsed.
_JSON_IN_HTML = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                               "\u2029": "\\u2029"})
#: Characters of a headline (a failure's reason) and of a diff entry's text kept in the page.
MAX_HEADLINE, MAX_CHANGE_TEXT = 300, 1200


@cache
def _asset(name: str) -> str:
    text = (HTML_DIR / name).read_text(encoding="utf-8")
    closing = {"page.css": "</style", "page.js": "</script"}.get(name)
    if closing and closing in text.lower():  # a packaging mistake, not report data
        raise RuntimeError(f"{name} must not contain {closing}")
    return text


def fill(template: str, values: Mapping[str, str]) -> str:
    """``template`` with each ``{{name}}`` replaced by ``values[name]``, in one pass (values are not rescanned).

    ``KeyError`` for a slot without a value; the values must already be
    escaped for where they go.
    """
    return _SLOT.sub(lambda m: values[m.group(1)], template)


def json_for_script(value: Any) -> str:
    """Strict JSON that is safe as the content of a ``<script type="application/json">`` element."""
    return dumps_strict(value, ensure_ascii=False, separators=(",", ":")).translate(_JSON_IN_HTML)


# ---------------------------------------------------------------------------
# the page
# ---------------------------------------------------------------------------

def render_html(report: Report | ReportScan, *, old: Report | ReportScan | None = None, title: str | None = None,
                source: str | None = None, old_source: str | None = None) -> str:
    """The report as one HTML document (a string); with ``old``, also what changed since ``old``.

    ``source`` and ``old_source`` are shown as where the reports came from.
    The result depends only on the reports and these arguments. ``report``
    may be a :class:`~._scan.ReportScan` read with ``items=True`` (and
    ``index=True`` when ``old`` is given, itself a scan with ``index=True``):
    the page is the same as for the loaded report. The page lists at most
    :data:`MAX_ITEMS` items (every failing one among them) and
    :data:`MAX_FAILURES` failures, and says how many it left out.
    """
    payload = _payload_scan(report, old) if isinstance(report, ReportScan) else _payload(report, old)
    payload["source"] = source
    payload["oldSource"] = old_source
    page_title = title or f"jaxpat conformance report ({report.status})"
    return fill(_asset("page.html"), {
        "title": html.escape(page_title, quote=True),
        "css": _asset("page.css"),
        "js": _asset("page.js"),
        "plots": _plots_section(report),
        "data": json_for_script(payload),
    })


def _payload(report: Report, old: Report | ReportScan | None) -> dict[str, Any]:
    matrix = build_matrix(report.results)
    col_index = {c: i for i, c in enumerate(matrix.columns)}
    row_index = {r.pattern: i for i, r in enumerate(matrix.rows)}
    rows = _rows(matrix)
    ids, codes, rix, cix, durs, reused = [], [], [], [], [], []
    failing = []
    for i, r in enumerate(report.results):
        ids.append(r.nodeid if not r.host else f"{r.host}::{r.nodeid}")
        codes.append(_CODES.get(r.outcome, 0))
        rix.append(row_index[r.pattern_id])
        cix.append(col_index[column_of(r)])
        durs.append(round(r.duration or 0.0, 4))
        if r.extra.get("reused"):
            reused.append(i)  # a stored result of an earlier run (docs/cli.md): the item did not run
        if r.outcome in BAD:
            failing.append(i)
    kept = _kept(len(ids), failing)
    columns: dict[str, list[Any]] = {"id": ids, "o": codes, "r": rix, "c": cix, "d": durs}
    if kept is not None:
        columns = {k: [column[i] for i in kept] for k, column in columns.items()}
    columns["u"] = _reused(kept, reused)
    return _assemble(report, matrix, rows, columns,
                     _failures(kept, failing, [report.results[i] for i in failing]),
                     len(report.results) - len(columns["id"]), _diff(old, report) if old is not None else None)


def _rows(matrix: Matrix) -> list[list[Any]]:
    col_index = {c: i for i, c in enumerate(matrix.columns)}
    fam_index = {f: i for i, f in enumerate(matrix.families())}
    rows = []
    for row in matrix.rows:
        cells = []
        for col, counts in row.cells.items():
            cells.append([col_index[col], _CODES[worst(counts) or "passed"], [counts.get(o, 0) for o in OUTCOMES]])
        rows.append([row.pattern, fam_index[row.family], cells])
    return rows


def _reused(kept: Sequence[int] | None, reused: Sequence[int]) -> list[int]:
    """The page's indices of the reused items (``reused``: their indices in the report)."""
    if kept is None:
        return list(reused)
    where = {i: k for k, i in enumerate(kept)}
    return [where[i] for i in reused if i in where]


def _kept(total: int, failing: Sequence[int]) -> list[int] | None:
    """The items the page lists when there are more than :data:`MAX_ITEMS`: the first ones and every
    failing one (its failure entry points at it), in report order; None when all are listed."""
    if total <= MAX_ITEMS:
        return None
    shown = failing[:MAX_FAILURES]
    return sorted(set(range(max(0, MAX_ITEMS - len(shown)))) | set(shown))


def _failures(kept: Sequence[int] | None, failing: Sequence[int], results: Sequence[Any]) -> list[list[Any]]:
    """The page's failure entries (at most :data:`MAX_FAILURES`): [item index in the page, headline, message,
    reproduction]."""
    where = None if kept is None else {i: k for k, i in enumerate(kept)}
    out = []
    for i, r in zip(failing[:MAX_FAILURES], results, strict=False):
        out.append([i if where is None else where[i], reason(r.message, r.outcome, MAX_HEADLINE), _clip(r.message),
                    r.repro])
    return out


def _payload_scan(s: ReportScan, old: Report | ReportScan | None) -> dict[str, Any]:
    """:func:`_payload` of a scanned report (``items=True``): the same payload as for the loaded report."""
    if not s.ids and s.total:
        raise ValueError("render_html needs a report scanned with items=True")
    kept = _kept(s.total, s.failing)
    chosen: Sequence[int] = range(s.total) if kept is None else kept
    cells, groups, ids, hosts, outcomes, durations = s.cells, s.groups, s.ids, s.hosts, s.outcomes, s.durations
    items = {
        "id": [ids[i] if not hosts[i] else f"{hosts[i]}::{ids[i]}" for i in chosen],
        "o": [outcomes[i] for i in chosen],
        "r": [cells[groups[i]][0] for i in chosen],
        "c": [cells[groups[i]][1] for i in chosen],
        "d": [round(durations[i], 4) for i in chosen],
        "u": _reused(kept, s.reused),
    }
    diff = None
    if old is not None:
        diff = _diff(old, s)
    return _assemble(s, s.matrix, _rows(s.matrix), items, _failures(kept, s.failing, s.failures),
                     s.total - len(chosen), diff)


def _assemble(report: Report | ReportScan, matrix: Matrix, rows: list[list[Any]], items: dict[str, Any],
              failures: list[list[Any]], left_out: int, diff: dict[str, Any] | None) -> dict[str, Any]:
    """The page's JSON payload (``page.js`` reads it)."""
    claims = [[c.pattern, c.implementation, c.claim, c.verdict, c.message or "",
               " ".join(x for x in (c.host, c.device) if x)] for c in report.claims]
    failing = report.tally()
    bad = sum(failing[o] for o in BAD)
    return {
        "status": report.status,
        "created": report.created,
        "command": " ".join(report.command),
        "summary": failing,  # from the results: the file's own summary is not trusted
        "outcomes": list(OUTCOMES),
        "compilations": int(report.compiles.get("count", 0) or 0),
        "wall": report.duration_wall,
        "envs": [_environment(e) for e in report.environments],
        "columns": matrix.columns,
        "families": matrix.families(),
        "rows": rows,
        "items": items,
        "itemsLeftOut": left_out,
        "failures": failures,
        "failuresLeftOut": bad - len(failures),
        "claims": claims,
        "diff": diff,
    }


def _clip(message: str | None) -> str:
    return clip(message or "", MAX_MESSAGE, hint="the JSON report holds all of it")


def _environment(env: Any) -> dict[str, Any]:
    devices = ", ".join(f"{d.id} ({d.kind})" for d in env.devices) or "unknown"
    plugins = ", ".join(f"{p.get('name')} {p.get('version') or ''}".strip() for p in env.plugins) or "-"
    rows = [["jax", env.jax], ["jaxlib", env.jaxlib], ["python", env.python], ["os", env.os],
            ["devices", devices], ["plugins", plugins], ["catalog digest", (env.catalog_digest or "")[:16]]]
    for key in ("jaxpat", "compilation_cache"):
        if env.extra.get(key):
            rows.append([key.replace("_", " "), env.extra[key]])
    config = ", ".join(f"{k}={v}" for k, v in sorted(env.jax_config.items()))
    if config:
        rows.append(["jax config", config])
    return {"host": env.host or "this host", "rows": [[k, str(v)] for k, v in rows if v not in (None, "")]}


def _diff(old: Report | ReportScan, new: Report | ReportScan) -> dict[str, Any]:
    """What changed since ``old``, from :func:`._drift.drift` (the data behind ``jaxpat report diff``)."""
    from ._drift import CATEGORIES, drift

    if isinstance(old, ReportScan) or isinstance(new, ReportScan):
        if not (isinstance(old, ReportScan) and isinstance(new, ReportScan)):
            raise ValueError("render_html: a scanned report is compared with a scanned one (both index=True)")
        d = drift_files(old, new)
    else:
        d = drift(old, new)
    items: dict[str, list[list[str]]] = {c: [] for c in CATEGORIES}
    for item in sorted(d.items, key=lambda i: (CATEGORIES.index(i.category), i.host or "", i.nodeid)):
        what = "\n".join(c.text for c in item.changes[:3] if c.what != "outcome")
        if len(item.changes) > 3:
            what += f"\n… {len(item.changes) - 3} more changes"
        nodeid = f"{item.host}::{item.nodeid}" if item.host else item.nodeid
        what = clip(what, MAX_CHANGE_TEXT, hint="jaxpat report diff shows all of it")
        items[item.category].append([nodeid, item.old_outcome or "", item.new_outcome or "", what])
    return {
        "status": d.status,
        "categories": list(CATEGORIES),
        "items": items,
        "unchanged": d.unchanged,
        "env": [c.text for c in d.environment],
        "oldCreated": old.created,
    }


# ---------------------------------------------------------------------------
# plots: inline SVG, drawn here
# ---------------------------------------------------------------------------

def _plots_section(report: Report | ReportScan) -> str:
    """Claim plots: memory and program size against n per implementation; speed and residual ratios."""
    growth: dict[tuple[str, str], list[tuple[str, list[float], list[float], str]]] = {}
    speed: list[tuple[str, float, float | None]] = []
    saving: list[tuple[str, float, float | None]] = []
    for c in report.claims:
        m = c.measured or {}
        label = c.implementation + (f" @{c.host}" if c.host else "")
        # exactly the figures the verdict was computed from (verdict_figures)
        for fig in verdict_figures(c.claim, m, c.claimed):
            if isinstance(fig, Series):
                growth.setdefault((c.pattern, fig.title), []).append((label, fig.sizes, fig.values, fig.growth))
            elif c.claim == "speedup" or fig.title.startswith("speedup"):
                speed.append((f"{c.pattern} · {label}", fig.value, fig.at_least))
            else:
                saving.append((f"{c.pattern} · {label}", fig.value, fig.at_least))
    parts = []
    keys = sorted(growth)
    for pattern, what in keys[:MAX_PLOTS]:
        svg = line_plot(what, growth[(pattern, what)])
        parts.append(f'<figure class="plot" data-pattern="{html.escape(pattern)}">{svg}'
                     f"<figcaption>{html.escape(pattern)}</figcaption></figure>")
    if len(keys) > MAX_PLOTS:
        parts.append(f"<p class=note>{len(keys) - MAX_PLOTS} more plots left out; the claims table lists "
                     "every measurement.</p>")
    bars = []
    if speed:
        bars.append(bar_plot("speedup over the baseline (×; reported, not enforced)", speed))
    if saving:
        bars.append(bar_plot("residual saving factor over the baseline (×)", saving))
    if not parts and not bars:
        if not report.claims:
            return ("<p class=note>No claims were measured in this report (jaxpat check measures them unless "
                    "--no-claims).</p>")
        return (f"<p class=note>None of the {len(report.claims)} claim measurements in this report has growth "
                "or ratio figures to plot; the table below lists them all.</p>")
    return (f'<div class="plots">{"".join(parts)}</div>'
            + "".join(f'<figure class="bars">{b}</figure>' for b in bars))


def _at_least(claimed: Any) -> float | None:
    if isinstance(claimed, Mapping) and isinstance(claimed.get("at_least"), int | float):
        return float(claimed["at_least"])
    return None


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"{v / div:.3g}{suffix}"
    return f"{v:.3g}"


def _ticks_linear(lo: float, hi: float) -> list[float]:
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / 4
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    return [start + i * step for i in range(int((hi - start) / step) + 2) if start + i * step <= hi + step / 2]


def _ticks_log(lo: float, hi: float) -> list[float]:
    ticks = [10.0 ** k for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)]
    return ticks if len(ticks) >= 2 else [lo, hi]


def line_plot(title: str, series: Sequence[tuple[str, Sequence[float], Sequence[float], str]],
              *, width: int = 380, height: int = 230) -> str:
    """An SVG line plot of ``series`` (label, xs, ys, note): log x; log y when every y is positive.

    Each series gets a colour, markers with a tooltip, and a legend entry
    ``label (note)``.
    """
    xs = [x for _, sx, _, _ in series for x in sx]
    ys = [y for _, _, sy, _ in series for y in sy]
    logy = all(y > 0 for y in ys)
    x_lo, x_hi = min(xs), max(xs)
    y_lo, y_hi = (min(ys), max(ys)) if logy else (min(0.0, min(ys)), max(ys))
    if logy:
        yt = _ticks_log(y_lo, y_hi)
        y_lo, y_hi = min(yt[0], y_lo), max(yt[-1], y_hi)
        if y_lo == y_hi:
            y_lo, y_hi = y_lo / 10, y_hi * 10
    else:
        yt = _ticks_linear(y_lo, y_hi)
        y_lo, y_hi = min(yt[0], y_lo), max(yt[-1], y_hi)
    xt = _ticks_log(x_lo, x_hi)
    x_lo, x_hi = min(xt[0], x_lo), max(xt[-1], x_hi)
    if x_lo == x_hi:
        x_lo, x_hi = x_lo / 10, x_hi * 10
    legend_h = 14 * len(series)
    left, right, top, _bottom = 52, 12, 24, 34 + legend_h
    pw, ph = width - left - right, height - top - 34

    def px(x: float) -> float:
        return left + pw * (math.log10(x) - math.log10(x_lo)) / (math.log10(x_hi) - math.log10(x_lo))

    def py(y: float) -> float:
        if logy:
            f = (math.log10(y) - math.log10(y_lo)) / (math.log10(y_hi) - math.log10(y_lo))
        else:
            f = (y - y_lo) / ((y_hi - y_lo) or 1)
        return top + ph * (1 - f)

    total_h = height + legend_h
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="lineplot" width="{width}" height="{total_h}" '
           f'viewBox="0 0 {width} {total_h}" role="img" aria-label="{html.escape(title)}">',
           f'<text x="{width / 2:.0f}" y="15" class="t" text-anchor="middle">{html.escape(title)}</text>',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" class="frame"/>']
    for t in yt:
        if y_lo <= t <= y_hi:
            y = py(t)
            out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                       f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end">{_fmt(t)}</text>')
    for t in xt:
        if x_lo <= t <= x_hi:
            x = px(t)
            out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + ph}" class="grid"/>'
                       f'<text x="{x:.1f}" y="{top + ph + 13}" text-anchor="middle">{_fmt(t)}</text>')
    out.append(f'<text x="{left + pw / 2:.0f}" y="{top + ph + 27}" text-anchor="middle" class="ax">n (log)</text>')
    for i, (label, sx, sy, note) in enumerate(series):
        # colour, dash and marker differ per series, so identical data stay visible as overlapping lines
        colour, dash = _PALETTE[i % len(_PALETTE)], _DASHES[i % len(_DASHES)]
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(sx, sy, strict=True))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2" '
                   f'stroke-dasharray="{dash}" data-series="{html.escape(label)}"/>')
        for x, y in zip(sx, sy, strict=True):
            out.append(_marker(i, px(x), py(y), colour, f' data-x="{x!r}" data-y="{y!r}"',
                               f"<title>{html.escape(label)}: {_fmt(y)} at n={_fmt(x)}</title>"))
        ly = height + 14 * i + 2
        text = label + (f" ({note})" if note else "")
        out.append(f'<line x1="{left}" x2="{left + 18}" y1="{ly - 3}" y2="{ly - 3}" stroke="{colour}" '
                   f'stroke-width="2" stroke-dasharray="{dash}"/>'
                   + _marker(i, left + 9, ly - 3, colour, "", "")
                   + f'<text x="{left + 22}" y="{ly + 1}" class="lg">{html.escape(text)}</text>')
    out.append("</svg>")
    return "".join(out)


#: Dash patterns, one per series ("none": solid).
_DASHES = ("none", "6 3", "2 3", "8 3 2 3", "1 5", "10 5")


def _marker(i: int, x: float, y: float, colour: str, attrs: str, title: str) -> str:
    """Series ``i``'s marker at (x, y): circle, square, triangle, diamond, cycling."""
    shape = i % 4
    if shape == 0:
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"{attrs}>{title}</circle>'
    if shape == 1:
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}"{attrs}>{title}</rect>'
    pts = ([(x, y - 4.5), (x + 4.5, y + 3.5), (x - 4.5, y + 3.5)] if shape == 2
           else [(x, y - 5), (x + 5, y), (x, y + 5), (x - 5, y)])
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
    return f'<polygon points="{points}" fill="none" stroke="{colour}" stroke-width="1.5"{attrs}>{title}</polygon>'


def bar_plot(title: str, bars: Sequence[tuple[str, float, float | None]], *, width: int = 760) -> str:
    """A horizontal SVG bar chart of ``(label, value, threshold)``; a tick marks each threshold and 1×."""
    row, left, top = 18, 330, 24
    height = top + row * len(bars) + 24
    hi = max([1.0, *(v for _, v, _ in bars), *(t for _, _, t in bars if t)]) * 1.1
    pw = width - left - 60

    def px(v: float) -> float:
        return left + pw * max(v, 0) / hi

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="barplot" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(title)}">',
           f'<text x="{width / 2:.0f}" y="15" class="t" text-anchor="middle">{html.escape(title)}</text>']
    for i, (label, value, threshold) in enumerate(bars):
        y = top + i * row
        ok = threshold is None or value >= threshold
        out.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end" class="lg">{html.escape(label[:60])}</text>'
                   f'<rect x="{left}" y="{y + 2}" width="{px(value) - left:.1f}" height="{row - 5}" '
                   f'class="{"bar" if ok else "bar bad"}"><title>{html.escape(label)}: {value:g}×'
                   + (f" (claimed ≥ {threshold:g}×)" if threshold else "") + "</title></rect>"
                   f'<text x="{px(value) + 4:.1f}" y="{y + 12}" class="lg">{value:.3g}×</text>')
        if threshold:
            out.append(f'<line x1="{px(threshold):.1f}" x2="{px(threshold):.1f}" y1="{y}" y2="{y + row - 2}" '
                       'class="thr"/>')
    one = px(1.0)
    out.append(f'<line x1="{one:.1f}" x2="{one:.1f}" y1="{top - 4}" y2="{height - 18}" class="one"/>'
               f'<text x="{one:.1f}" y="{height - 6}" text-anchor="middle" class="lg">1×</text></svg>')
    return "".join(out)
