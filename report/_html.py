"""``jaxpat report html``: one self-contained HTML page for a conformance report.

The page works offline: no CDN, no fonts, no libraries. Plots are inline SVG
drawn here; the interactive parts (matrix filter and search, paginated item
and failure lists, the diff) are a few hundred lines of plain JavaScript that
render from one JSON payload embedded in the page, so a report of 100,000
items stays a page of a few hundred rows at a time. All text from the report
reaches the page through ``textContent`` (never parsed as HTML).

The page reads its query string, so a link can carry a view:
``?q=scan`` (search patterns), ``family=loops``, ``failing=1`` (only rows with
failures), ``items=TEXT`` (search items), ``outcome=failed`` (item outcome).
Script errors are written into ``#js-errors`` (and the page's ``data-ready``
becomes ``1`` once everything rendered), which the browser test reads.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from ._matrix import build_matrix, column_of, worst
from ._report import OUTCOMES, Report

__all__ = ["MAX_MESSAGE", "MAX_PLOTS", "bar_plot", "line_plot", "render_html"]

#: Characters of a failure message kept in the page (the JSON report keeps all of it).
MAX_MESSAGE = 3000
#: At most this many claim plots (the rest are listed in the claims table).
MAX_PLOTS = 240

_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f")
_CODES = {o: i for i, o in enumerate(OUTCOMES)}


# ---------------------------------------------------------------------------
# the page
# ---------------------------------------------------------------------------

def render_html(report: Report, *, old: Report | None = None, title: str | None = None,
                source: str | None = None, old_source: str | None = None) -> str:
    """The report as one HTML document (a string); with ``old``, also what changed since ``old``.

    ``source`` and ``old_source`` are shown as where the reports came from.
    The result depends only on the reports and these arguments.
    """
    payload = _payload(report, old)
    payload["source"] = source
    payload["oldSource"] = old_source
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
    # inside <script>, "</" and "<!--" could end the element early: no "<" at all (it only occurs in strings)
    data = data.replace("<", "\\u003c")
    page_title = title or f"jaxpat conformance report ({report.status})"
    return (_TEMPLATE
            .replace("__TITLE__", html.escape(page_title))
            .replace("__PLOTS__", _plots_section(report))
            .replace("__CSS__", _CSS)
            .replace("__JS__", _JS)
            .replace("__DATA__", data))


def _payload(report: Report, old: Report | None) -> dict[str, Any]:
    matrix = build_matrix(report.results)
    col_index = {c: i for i, c in enumerate(matrix.columns)}
    fam_index = {f: i for i, f in enumerate(matrix.families())}
    row_index = {r.pattern: i for i, r in enumerate(matrix.rows)}
    rows = []
    for row in matrix.rows:
        cells = []
        for col, counts in row.cells.items():
            cells.append([col_index[col], _CODES[worst(counts) or "passed"], [counts.get(o, 0) for o in OUTCOMES]])
        rows.append([row.pattern, fam_index[row.family], cells])
    ids, codes, rix, cix, durs = [], [], [], [], []
    failures = []
    for i, r in enumerate(report.results):
        ids.append(r.nodeid if not r.host else f"{r.host}::{r.nodeid}")
        codes.append(_CODES.get(r.outcome, 0))
        rix.append(row_index[r.pattern_id])
        cix.append(col_index[column_of(r)])
        durs.append(round(r.duration or 0.0, 4))
        if r.outcome in ("failed", "error", "xpassed"):
            failures.append([i, r.first_line()[:300], _clip(r.message), r.repro])
    claims = [[c.pattern, c.implementation, c.claim, c.verdict, c.message or "",
               " ".join(x for x in (c.host, c.device) if x)] for c in report.claims]
    return {
        "status": report.status,
        "created": report.created,
        "command": " ".join(report.command),
        "summary": dict(report.summary),
        "outcomes": list(OUTCOMES),
        "compilations": int(report.compiles.get("count", 0) or 0),
        "wall": report.duration_wall,
        "envs": [_environment(e) for e in report.environments],
        "columns": matrix.columns,
        "families": matrix.families(),
        "rows": rows,
        "items": {"id": ids, "o": codes, "r": rix, "c": cix, "d": durs},
        "failures": failures,
        "claims": claims,
        "diff": _diff(old, report) if old is not None else None,
    }


def _clip(message: str | None) -> str:
    if not message:
        return ""
    if len(message) <= MAX_MESSAGE:
        return message
    return message[:MAX_MESSAGE] + f"\n… ({len(message) - MAX_MESSAGE} more characters in the JSON report)"


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


def _diff(old: Report, new: Report) -> dict[str, Any]:
    """What changed since ``old``, from :func:`._drift.drift` (the data behind ``jaxpat report diff``)."""
    from ._drift import CATEGORIES, drift

    d = drift(old, new)
    items: dict[str, list[list[str]]] = {c: [] for c in CATEGORIES}
    for item in sorted(d.items, key=lambda i: (CATEGORIES.index(i.category), i.host or "", i.nodeid)):
        what = "; ".join(c.text for c in item.changes[:3] if c.what != "outcome")
        if len(item.changes) > 3:
            what += f"; … {len(item.changes) - 3} more"
        nodeid = f"{item.host}::{item.nodeid}" if item.host else item.nodeid
        items[item.category].append([nodeid, item.old_outcome or "", item.new_outcome or "", what[:600]])
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

def _plots_section(report: Report) -> str:
    """Claim plots: memory and program size against n per implementation; speed and residual ratios."""
    growth: dict[tuple[str, str], list[tuple[str, list[float], list[float], str]]] = {}
    speed: list[tuple[str, float, float | None]] = []
    saving: list[tuple[str, float, float | None]] = []
    for c in report.claims:
        m = c.measured or {}
        label = c.implementation + (f" @{c.host}" if c.host else "")
        sizes = m.get("sizes")
        if c.claim == "memory" and isinstance(sizes, list):
            for part, key, what in (("forward", "temp_bytes", "forward temporary bytes"),
                                    ("backward", "residual_bytes", "backward residual bytes")):
                facts = m.get(part)
                ys: Any = facts.get(key) if isinstance(facts, Mapping) else None
                if isinstance(facts, Mapping) and _numbers(ys) and len(ys) == len(sizes):
                    grown = facts.get("growth", "")
                    growth.setdefault((c.pattern, f"{what} vs {m.get('param', 'n')}"), []).append(
                        (label, list(map(float, sizes)), list(map(float, ys)), str(grown)))
        elif c.claim == "program_size" and isinstance(sizes, list) and _numbers(m.get("equations")):
            if len(m["equations"]) == len(sizes):
                growth.setdefault((c.pattern, f"program size (equations) vs {m.get('param', 'n')}"), []).append(
                    (label, list(map(float, sizes)), list(map(float, m["equations"])), str(m.get("growth", ""))))
        elif c.claim == "speedup" and isinstance(m.get("speedup"), int | float):
            speed.append((f"{c.pattern} · {label}", float(m["speedup"]), _at_least(c.claimed)))
        elif c.claim == "residuals" and isinstance(m.get("saving_factor"), int | float):
            saving.append((f"{c.pattern} · {label}", float(m["saving_factor"]), _at_least(c.claimed)))
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
        return "<p class=note>No growth or ratio measurements in this report (run with claims).</p>"
    return (f'<div class="plots">{"".join(parts)}</div>'
            + "".join(f'<figure class="bars">{b}</figure>' for b in bars))


def _numbers(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value)


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
        colour = _PALETTE[i % len(_PALETTE)]
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(sx, sy, strict=True))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in zip(sx, sy, strict=True):
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}">'
                       f"<title>{html.escape(label)}: {_fmt(y)} at n={_fmt(x)}</title></circle>")
        ly = height + 14 * i + 2
        text = label + (f" ({note})" if note else "")
        out.append(f'<rect x="{left}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>'
                   f'<text x="{left + 14}" y="{ly + 1}" class="lg">{html.escape(text)}</text>')
    out.append("</svg>")
    return "".join(out)


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


# ---------------------------------------------------------------------------
# the template (CSS and JS inline: the page must work from a file, offline)
# ---------------------------------------------------------------------------

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>__CSS__</style></head>
<body data-ready="0">
<header><h1>__TITLE__</h1><div id="js-errors" role="alert"></div></header>
<nav><a href="#summary">Summary</a> <a href="#matrix">Matrix</a> <a href="#failures">Failures</a>
<a href="#claims">Claims</a> <a href="#items">Items</a> <a href="#diff" id="nav-diff" hidden>Changes</a></nav>
<section id="summary"><h2>Summary</h2><div id="summary-body"></div><div id="envs"></div></section>
<section id="diff" hidden><h2>Changes since the older report</h2><div id="diff-body"></div></section>
<section id="matrix"><h2>Matrix</h2>
<p class="note">Patterns (grouped by family) × platform/transform. Each cell is coloured by its worst outcome;
hover for the counts, click to list its items.</p>
<div class="controls"><input id="q" type="search" placeholder="search patterns (text or glob)" size="32">
<select id="family"><option value="">every family</option></select>
<label><input id="failing" type="checkbox"> only rows with failures</label>
<span id="matrix-count"></span></div>
<div id="legend"></div>
<div class="scroll"><table id="matrix-table" class="matrix"></table></div>
<div id="matrix-pages" class="pages"></div></section>
<section id="failures"><h2>Failures</h2>
<div class="controls"><input id="fq" type="search" placeholder="search failures" size="32">
<span id="failure-count"></span></div><div id="failure-list"></div><div id="failure-pages" class="pages"></div>
</section>
<section id="claims"><h2>Claims</h2>
<p class="note">Memory and program size against n per implementation (log scales), and ratios against
baselines, as measured in this run.</p>
__PLOTS__
<div class="controls"><input id="cq" type="search" placeholder="search claims" size="32">
<span id="claim-count"></span></div>
<table id="claim-table" class="list"></table><div id="claim-pages" class="pages"></div></section>
<section id="items"><h2>Items</h2>
<div class="controls"><input id="iq" type="search" placeholder="search node ids" size="40">
<select id="outcome"><option value="">every outcome</option></select>
<span id="item-count"></span> <button id="item-reset" type="button">clear</button></div>
<table id="item-table" class="list"></table><div id="item-pages" class="pages"></div></section>
<footer>Generated by <code>jaxpat report html</code>; the JSON report is the reference.</footer>
<script type="application/json" id="report-data">__DATA__</script>
<script>__JS__</script>
</body></html>
"""

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 1.5em 2em;color:#222;background:#fff}
header h1{font-size:1.4em;margin:.6em 0 .2em}
nav{position:sticky;top:0;background:#fff;padding:.3em 0;border-bottom:1px solid #ddd;z-index:3}
nav a{margin-right:1em}
h2{font-size:1.15em;margin:1.2em 0 .4em;border-bottom:1px solid #eee}
.note{color:#666;font-size:.9em;margin:.2em 0}
.controls{margin:.4em 0;display:flex;gap:.8em;align-items:center;flex-wrap:wrap}
.cards{display:flex;gap:.6em;flex-wrap:wrap;margin:.4em 0}
.card{border:1px solid #ddd;border-radius:6px;padding:.3em .8em;min-width:5em}
.card b{display:block;font-size:1.3em}
.card.bad{border-color:#d62728;background:#fdecea}
table{border-collapse:collapse}
.kv td{padding:1px .8em 1px 0;vertical-align:top}.kv td:first-child{color:#666;white-space:nowrap}
.envs{display:flex;gap:2em;flex-wrap:wrap}
.scroll{overflow:auto;max-height:75vh;border:1px solid #eee}
.matrix th,.matrix td{border:1px solid #fff;padding:1px 5px;font-size:12px;white-space:nowrap}
.matrix thead th{position:sticky;top:0;background:#f6f6f6;z-index:2;writing-mode:vertical-rl;
 transform:rotate(180deg);text-align:left;height:7em;vertical-align:bottom}
.matrix th.p{position:sticky;left:0;background:#fff;text-align:left;font-weight:normal;z-index:1}
.matrix tr.fam th{background:#eef2f7;font-weight:bold;text-align:left;position:sticky;left:0}
.matrix td{text-align:center;cursor:pointer;min-width:2.6em;font-variant-numeric:tabular-nums}
.o0{background:#a6dba0}.o1{background:#d73027;color:#fff}.o2{background:#67001f;color:#fff}
.o3{background:#d9f0d3}.o4{background:#fdb863}.o5{background:#e0e0e0}.o6{background:#9e9e9e;color:#fff}.empty{background:#fafafa;color:#bbb}
.legend span{display:inline-block;padding:0 .5em;border-radius:3px;margin-right:.3em}
.list td,.list th{border-bottom:1px solid #eee;padding:2px 8px;text-align:left;vertical-align:top;font-size:13px}
.list td.id{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
.badge{border-radius:3px;padding:0 .4em;font-size:12px}
.v-held{background:#a6dba0}.v-violated{background:#b2182b;color:#fff}.v-inconclusive{background:#fdb863}
.v-skipped,.v-reported{background:#e0e0e0}
.failure{border-left:4px solid #b2182b;padding:.2em .8em;margin:.6em 0;background:#fcf6f6}
.failure .id{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
pre{background:#f6f6f6;padding:.5em;overflow:auto;max-height:30em;font-size:12px}
.pages button{margin:.2em}.pages{margin:.3em 0}
.plots{display:flex;flex-wrap:wrap;gap:1em}
figure{margin:.3em 0}figcaption{font-size:12px;color:#444;text-align:center;font-family:ui-monospace,monospace}
svg text{font-size:10px;fill:#333}svg text.t{font-size:11px;font-weight:bold}svg text.lg{font-size:10px}
svg .frame{fill:none;stroke:#999}svg .grid{stroke:#e5e5e5}svg .bar{fill:#4c9be8}svg .bar.bad{fill:#d62728}
svg .thr{stroke:#000;stroke-width:2}svg .one{stroke:#999;stroke-dasharray:3 3}
#js-errors:not(:empty){background:#b2182b;color:#fff;padding:.5em;white-space:pre-wrap}
footer{margin-top:2em;color:#888;font-size:.85em}
"""

_JS = r"""
(function(){
"use strict";
var errbox=document.getElementById("js-errors");
function fail(msg){errbox.textContent+=(errbox.textContent?"\n":"")+msg;}
window.addEventListener("error",function(e){fail("script error: "+e.message+" (line "+e.lineno+")");});
var D=JSON.parse(document.getElementById("report-data").textContent);
var MARK=["\u2713","\u2717","E","x","X","s","-"];
var NAMES=D.outcomes, BADS={1:1,2:1,4:1};
var params=new URLSearchParams(location.search);
function $(id){return document.getElementById(id);}
function el(tag,attrs,text){var e=document.createElement(tag);if(attrs)for(var k in attrs)e.setAttribute(k,attrs[k]);
 if(text!==undefined&&text!==null)e.textContent=String(text);return e;}
function globRe(q){
 if(!/[*?]/.test(q))return null;
 var s=q.replace(/[.+^${}()|[\]\\]/g,"\\$&").replace(/\*/g,".*").replace(/\?/g,".");
 return new RegExp("^"+s+"$","i");}
function matcher(q){q=(q||"").trim();if(!q)return function(){return true;};var re=globRe(q);
 if(re)return function(s){return re.test(s);};q=q.toLowerCase();
 return function(s){return s.toLowerCase().indexOf(q)>=0;};}
function pager(box,total,size,page,go){
 box.textContent="";var n=Math.ceil(total/size);if(n<=1)return;
 function b(label,p){var x=el("button",{type:"button"},label);x.disabled=(p===page||p<0||p>=n);
  x.addEventListener("click",function(){go(p);});box.appendChild(x);}
 b("\u00ab first",0);b("\u2039 previous",page-1);
 box.appendChild(el("span",null," page "+(page+1)+" of "+n+" "));b("next \u203a",page+1);b("last \u00bb",n-1);}
function cellText(counts){
 var total=0,parts=[];for(var i=0;i<counts.length;i++)total+=counts[i];
 if(counts[0]===total)return "\u2713"+(total>1?total:"");
 for(var j=1;j<counts.length;j++)if(counts[j])parts.push(counts[j]+MARK[j]);
 return parts.join(" ");}
function countsTitle(counts){var p=[];for(var i=0;i<counts.length;i++)if(counts[i])p.push(counts[i]+" "+NAMES[i]);
 return p.join(", ");}

/* summary */
function summary(){
 var s=D.summary,box=$("summary-body"),cards=el("div",{"class":"cards"});
 function card(label,value,bad){var c=el("div",{"class":"card"+(bad?" bad":"")});c.appendChild(el("b",null,value));
  c.appendChild(el("span",null,label));cards.appendChild(c);}
 card("status",D.status,D.status!=="complete");card("items",s.total||0);
 for(var i=0;i<NAMES.length;i++){var v=s[NAMES[i]]||0;if(v||i<2)card(NAMES[i],v,BADS[i]&&v>0);}
 var cl=s.claims||{};for(var k in cl)card("claims "+k,cl[k],k==="violated"&&cl[k]>0);
 box.appendChild(cards);
 var kv=el("table",{"class":"kv"});
 function row(k,v){if(v===null||v===undefined||v==="")return;var tr=el("tr");tr.appendChild(el("td",null,k));
  tr.appendChild(el("td",null,v));kv.appendChild(tr);}
 row("created",D.created);row("command",D.command);row("report",D.source);
 row("wall time",D.wall!=null?D.wall.toFixed(1)+" s":null);
 row("item time",s.duration!=null?Number(s.duration).toFixed(1)+" s (summed over items)":null);
 row("compilations",D.compilations+" (XLA programs compiled during the run, over every process; "+
  "persistent-cache hits included)");
 box.appendChild(kv);
 var envs=$("envs");envs.className="envs";
 D.envs.forEach(function(e){var d=el("div");d.appendChild(el("h3",null,"environment: "+e.host));
  var t=el("table",{"class":"kv"});e.rows.forEach(function(r){var tr=el("tr");tr.appendChild(el("td",null,r[0]));
  tr.appendChild(el("td",null,r[1]));t.appendChild(tr);});d.appendChild(t);envs.appendChild(d);});}

/* matrix */
var MPAGE=200,mpage=0;
function legend(){var box=$("legend");box.className="legend note";
 box.appendChild(el("span",null,"cell colour = worst outcome:"));
 var order=[0,3,5,4,1,2];order.forEach(function(i){box.appendChild(el("span",{"class":"o"+i},MARK[i]+" "+NAMES[i]));});
 box.appendChild(el("span",{"class":"empty"},"\u00b7 no items"));
 box.appendChild(el("span",null,"\u2713N = N items, all passed; \u201c2\u2717 1s\u201d = 2 failed, 1 skipped"));}
function matrixRows(){
 var q=$("q").value,fam=$("family").value,failing=$("failing").checked,m=matcher(q),out=[];
 for(var i=0;i<D.rows.length;i++){var r=D.rows[i],fname=D.families[r[1]];
  if(fam!==""&&fname!==fam)continue;
  if(!(m(r[0])||(q&&!globRe(q)&&m(fname))))continue;
  if(failing&&!r[2].some(function(c){return BADS[c[1]];}))continue;
  out.push(i);}
 return out;}
function renderMatrix(){
 var t=$("matrix-table"),rows=matrixRows();t.textContent="";
 var head=el("thead"),hr=el("tr");hr.appendChild(el("th",{"class":"p"},"pattern"));
 D.columns.forEach(function(c){hr.appendChild(el("th",{title:c},c));});head.appendChild(hr);t.appendChild(head);
 var body=el("tbody"),start=mpage*MPAGE,lastFam=-1;
 if(start>=rows.length){mpage=0;start=0;}
 rows.slice(start,start+MPAGE).forEach(function(i){var r=D.rows[i];
  if(r[1]!==lastFam){lastFam=r[1];var fr=el("tr",{"class":"fam"});
   fr.appendChild(el("th",{colspan:D.columns.length+1},D.families[r[1]]));body.appendChild(fr);}
  var tr=el("tr",{"data-pattern":r[0]});tr.appendChild(el("th",{"class":"p"},r[0]));
  var byCol={};r[2].forEach(function(c){byCol[c[0]]=c;});
  for(var c=0;c<D.columns.length;c++){var cell=byCol[c];
   if(!cell){tr.appendChild(el("td",{"class":"empty",title:"no items"},"\u00b7"));continue;}
   var td=el("td",{"class":"cell o"+cell[1],title:r[0]+" \u00b7 "+D.columns[c]+": "+countsTitle(cell[2]),
    "data-col":D.columns[c]},cellText(cell[2]));
   (function(ri,ci){td.addEventListener("click",function(){showCell(ri,ci);});})(i,c);
   tr.appendChild(td);}
  body.appendChild(tr);});
 t.appendChild(body);
 $("matrix-count").textContent=rows.length+" of "+D.rows.length+" patterns";
 pager($("matrix-pages"),rows.length,MPAGE,mpage,function(p){mpage=p;renderMatrix();});}

/* failures */
var FPAGE=50,fpage=0;
function renderFailures(){
 var m=matcher($("fq").value),list=[],box=$("failure-list");box.textContent="";
 D.failures.forEach(function(f){if(m(D.items.id[f[0]])||m(f[2]||""))list.push(f);});
 $("failure-count").textContent=list.length+" of "+D.failures.length+" failing items";
 if(!D.failures.length){box.appendChild(el("p",{"class":"note"},"No failures."));}
 list.slice(fpage*FPAGE,fpage*FPAGE+FPAGE).forEach(function(f){
  var d=el("div",{"class":"failure"});d.appendChild(el("div",{"class":"id"},D.items.id[f[0]]));
  d.appendChild(el("div",null,NAMES[D.items.o[f[0]]]+": "+f[1]));
  if(f[2]){var m1=el("details");m1.appendChild(el("summary",null,"message"));m1.appendChild(el("pre",null,f[2]));
   d.appendChild(m1);}
  if(f[3]){var m2=el("details");m2.appendChild(el("summary",null,"reproduce (python repro.py)"));
   m2.appendChild(el("pre",{"class":"repro"},f[3]));d.appendChild(m2);}
  box.appendChild(d);});
 pager($("failure-pages"),list.length,FPAGE,fpage,function(p){fpage=p;renderFailures();});}

/* claims */
var CPAGE=100,cpage=0;
function renderClaims(){
 var m=matcher($("cq").value),t=$("claim-table"),list=[];t.textContent="";
 D.claims.forEach(function(c){if(m(c.join(" ")))list.push(c);});
 $("claim-count").textContent=list.length+" of "+D.claims.length+" claim measurements";
 var hr=el("tr");["pattern","implementation","claim","verdict","measured","where"].forEach(function(h){
  hr.appendChild(el("th",null,h));});t.appendChild(hr);
 list.slice(cpage*CPAGE,cpage*CPAGE+CPAGE).forEach(function(c){var tr=el("tr");
  tr.appendChild(el("td",{"class":"id"},c[0]));tr.appendChild(el("td",{"class":"id"},c[1]));
  tr.appendChild(el("td",null,c[2]));var v=el("td");v.appendChild(el("span",{"class":"badge v-"+c[3]},c[3]));
  tr.appendChild(v);tr.appendChild(el("td",null,c[4]));tr.appendChild(el("td",null,c[5]));t.appendChild(tr);});
 pager($("claim-pages"),list.length,CPAGE,cpage,function(p){cpage=p;renderClaims();});}

/* items */
var IPAGE=100,ipage=0,cellFilter=null;
function showCell(ri,ci){cellFilter=[ri,ci];ipage=0;renderItems();location.hash="items";}
function renderItems(){
 var m=matcher($("iq").value),oc=$("outcome").value,I=D.items,list=[],t=$("item-table");t.textContent="";
 var want=oc===""?-1:NAMES.indexOf(oc);
 for(var i=0;i<I.id.length;i++){
  if(want>=0&&I.o[i]!==want)continue;
  if(cellFilter&&(I.r[i]!==cellFilter[0]||I.c[i]!==cellFilter[1]))continue;
  if(!m(I.id[i]))continue;list.push(i);}
 var label=list.length+" of "+I.id.length+" items";
 if(cellFilter)label+=" in "+D.rows[cellFilter[0]][0]+" \u00b7 "+D.columns[cellFilter[1]];
 $("item-count").textContent=label;
 var hr=el("tr");["node id","column","outcome","seconds"].forEach(function(h){hr.appendChild(el("th",null,h));});
 t.appendChild(hr);
 list.slice(ipage*IPAGE,ipage*IPAGE+IPAGE).forEach(function(i){var tr=el("tr");
  tr.appendChild(el("td",{"class":"id"},I.id[i]));tr.appendChild(el("td",null,D.columns[I.c[i]]));
  var o=el("td");o.appendChild(el("span",{"class":"badge o"+I.o[i]},MARK[I.o[i]]+" "+NAMES[I.o[i]]));tr.appendChild(o);
  tr.appendChild(el("td",null,I.d[i]));t.appendChild(tr);});
 pager($("item-pages"),list.length,IPAGE,ipage,function(p){ipage=p;renderItems();});}

/* diff */
function renderDiff(){
 if(!D.diff)return;$("diff").hidden=false;$("nav-diff").hidden=false;
 var box=$("diff-body"),X=D.diff,kinds=X.categories,cards=el("div",{"class":"cards"});
 if(D.oldSource||X.oldCreated)box.appendChild(el("p",{"class":"note"},"older report: "+
  (D.oldSource||"")+(X.oldCreated?" (created "+X.oldCreated+")":"")));
 var st=el("div",{"class":"card"+(X.status==="regression"?" bad":"")});st.appendChild(el("b",null,X.status));
 st.appendChild(el("span",null,"status"));cards.appendChild(st);
 kinds.forEach(function(k){var c=el("div",{"class":"card"+(k==="regression"&&X.items[k].length?" bad":"")});
  c.appendChild(el("b",null,X.items[k].length));c.appendChild(el("span",null,k));cards.appendChild(c);});
 var u=el("div",{"class":"card"});u.appendChild(el("b",null,X.unchanged));u.appendChild(el("span",null,"unchanged"));
 cards.appendChild(u);box.appendChild(cards);
 if(X.env.length){var ed=el("details",{"data-kind":"environment"});
  ed.appendChild(el("summary",null,"environment and config ("+X.env.length+")"));var ul=el("ul");
  X.env.forEach(function(t){ul.appendChild(el("li",null,t));});ed.appendChild(ul);box.appendChild(ed);}
 kinds.forEach(function(k){var rows=X.items[k];if(!rows.length)return;
  var det=el("details",{"data-kind":k});if(k==="regression")det.open=true;
  det.appendChild(el("summary",null,k+" ("+rows.length+")"));var t=el("table",{"class":"list"}),shown=rows.slice(0,500);
  shown.forEach(function(r){var tr=el("tr");tr.appendChild(el("td",{"class":"id"},r[0]));
   tr.appendChild(el("td",null,(r[1]||"\u2013")+" \u2192 "+(r[2]||"\u2013")));tr.appendChild(el("td",null,r[3]));
   t.appendChild(tr);});
  det.appendChild(t);if(rows.length>shown.length)det.appendChild(el("p",{"class":"note"},
   (rows.length-shown.length)+" more: jaxpat report diff lists them all"));box.appendChild(det);});
 if(!kinds.some(function(k){return X.items[k].length;}))box.appendChild(el("p",null,"No changes."));}

function init(){
 summary();legend();
 var fam=$("family");D.families.forEach(function(f){fam.appendChild(el("option",{value:f},f));});
 var oc=$("outcome");NAMES.forEach(function(o){oc.appendChild(el("option",{value:o},o));});
 if(params.get("q"))$("q").value=params.get("q");
 if(params.get("family"))fam.value=params.get("family");
 if(params.get("failing"))$("failing").checked=true;
 if(params.get("items"))$("iq").value=params.get("items");
 if(params.get("outcome"))oc.value=params.get("outcome");
 $("q").addEventListener("input",function(){mpage=0;renderMatrix();});
 fam.addEventListener("change",function(){mpage=0;renderMatrix();});
 $("failing").addEventListener("change",function(){mpage=0;renderMatrix();});
 $("fq").addEventListener("input",function(){fpage=0;renderFailures();});
 $("cq").addEventListener("input",function(){cpage=0;renderClaims();});
 $("iq").addEventListener("input",function(){ipage=0;renderItems();});
 oc.addEventListener("change",function(){ipage=0;renderItems();});
 $("item-reset").addEventListener("click",function(){cellFilter=null;$("iq").value="";oc.value="";ipage=0;renderItems();});
 renderDiff();renderMatrix();renderFailures();renderClaims();renderItems();
 document.body.setAttribute("data-ready","1");}
try{init();}catch(e){fail("script error: "+(e&&e.stack||e));}
})();
"""
