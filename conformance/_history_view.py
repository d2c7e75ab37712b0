"""A history for people: the pattern × release matrix for a terminal, an HTML page and a Markdown page.

- :func:`terminal_lines`: the releases (Python, status), the matrix within
  100 columns (a legend explains every symbol), then each pattern's changes
  with the first release showing each.
- :func:`render_html`: one self-contained page (no script, no network):
  the same matrix with a tooltip per cell, every change grouped by pattern,
  and the items that changed with their outcome on every release. Every
  value is inserted with :func:`html.escape`.
- :func:`render_markdown`: docs/history.md -- what changed for the catalog's
  patterns from the oldest release to the newest, with the date, machine
  and command of the run; a test checks that it matches the history file.

Nothing here imports JAX.
"""

from __future__ import annotations

import html
import itertools
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from ._history import BisectResult, DeviationCheck, History, sorted_versions

__all__ = ["HistoryStyle", "bisect_lines", "catalog_check_lines", "render_html", "render_markdown", "style_for",
           "terminal_lines"]

#: Outcomes, worst first: a matrix cell shows its pattern's worst outcome on that release.
WORST_FIRST = ("error", "failed", "xpassed", "timeout", "not_run", "xfailed", "skipped", "passed")
_UNICODE = {"passed": "✓", "failed": "✗", "error": "E", "xfailed": "x", "xpassed": "X", "skipped": "s",
            "not_run": "-", "timeout": "t", "uninstallable": "u", "release-error": "!", "absent": "·"}
_ASCII = {**_UNICODE, "passed": "+", "failed": "F", "absent": "."}
MEANING = {
    "passed": "every item passed",
    "failed": "some item failed",
    "error": "some item errored",
    "xfailed": "some item xfailed (a known deviation still deviates), none failed",
    "xpassed": "some item xpassed (a known deviation no longer deviates)",
    "skipped": "some item skipped, none failed",
    "not_run": "some item did not run",
    "timeout": "some item ran out of time (a loaded machine or a hang): not compared with other releases",
    "uninstallable": "the release cannot be installed here (no wheel, resolver failure)",
    "release-error": "jaxpat check broke on that release (see its log)",
    "absent": "the pattern has no item on that release",
}
CHANGE_MARK = {"outcome": "!", "other": "*"}


@dataclass(frozen=True)
class HistoryStyle:
    """Unicode or ASCII symbols (colour is not used: the change markers carry the meaning)."""

    unicode: bool = True

    def mark(self, key: str) -> str:
        return (_UNICODE if self.unicode else _ASCII)[key]


def style_for(stream: TextIO) -> HistoryStyle:
    """Unicode symbols when ``stream`` can encode them."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        "✓✗·…".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return HistoryStyle(unicode=False)
    return HistoryStyle(unicode=True)


# ---------------------------------------------------------------------------
# the cells
# ---------------------------------------------------------------------------

def _cells(hist: History) -> dict[tuple[str, str], tuple[str, str]]:
    """Every (pattern, release) cell, computed in one pass over the changes."""
    marks: dict[tuple[str, str], str] = {}
    for _nodeid, item in hist.items.items():
        for c in item.get("changes", ()):
            key = (item["pattern"], c["release"])
            if any(x["what"] == "outcome" for x in c["changes"]):
                marks[key] = "outcome"
            else:
                marks.setdefault(key, "other")
    out = {}
    for pattern in hist.patterns:
        for r in hist.releases:
            rel = r["version"]
            if r["status"] != "ran":
                out[pattern, rel] = ("uninstallable" if r["status"] == "uninstallable" else "release-error", "")
                continue
            counts = hist.patterns[pattern].get("outcomes", {}).get(rel) or {}
            state = next((o for o in WORST_FIRST if counts.get(o)), "absent")
            out[pattern, rel] = (state, marks.get((pattern, rel), ""))
    return out


# ---------------------------------------------------------------------------
# the terminal
# ---------------------------------------------------------------------------

def terminal_lines(hist: History, *, width: int = 100, limit: int = 3, style: HistoryStyle | None = None
                   ) -> list[str]:
    """The history for a terminal, every line within ``width`` (at most 100) columns.

    ``limit`` > 0 lists at most that many change groups per pattern (the rest are counted).
    """
    style = style or HistoryStyle()
    width = min(width, 100)
    lines = [_fit(f"jax releases: {_releases_line(hist)}", width)]
    for r in hist.releases:
        if r["status"] != "ran":
            why = reason_line(r.get("reason"))
            lines.append(_fit(f"  jax {r['version']}: {r['status']}" + (f": {why}" if why else ""), width))
    lines.append("")
    lines += matrix_lines(hist, width=width, style=style)
    changed = [p for p in hist.patterns if hist.patterns[p].get("changed")]
    lines += ["", f"changes ({len(changed)} of {len(hist.patterns)} pattern{'s' if len(hist.patterns) != 1 else ''}"
              " changed; each with the first release showing it):" if changed else
              f"no change across {len(hist.ran())} releases"]
    for pattern in changed:
        groups = hist.grouped_changes(pattern)
        lines.append(_fit(f"{pattern}  ({_count(groups, 'change')})", width))
        shown = groups[:limit] if limit > 0 else groups
        for g in shown:
            lines += _group_lines(g, width, indent="  ")
        if len(groups) > len(shown):
            lines.append(f"  … {len(groups) - len(shown)} more (--limit 0 shows all)")
    return lines


def _group_lines(g: Mapping[str, Any], width: int, indent: str) -> list[str]:
    n = len(g["nodeids"])
    what = "/".join(g["what"])
    head = f"{indent}{g['release']} (since {g['since']}): {what} in {n} item{'s' if n != 1 else ''}"
    if n == 1:
        head += f": {_short(g['nodeids'][0])}"
    out = [_fit(head, width)]
    for text in g["texts"][:3]:
        for i, line in enumerate(text.splitlines()[:4]):
            out.append(_fit(f"{indent}    {line if i == 0 else '  ' + line.strip()}", width))
    if len(g["texts"]) > 3:
        out.append(f"{indent}    … {len(g['texts']) - 3} more different changes")
    return out


def matrix_lines(hist: History, *, width: int = 100, style: HistoryStyle | None = None) -> list[str]:
    """Pattern rows × release columns (vertical release headers), in blocks of columns that fit ``width``."""
    style = style or HistoryStyle()
    releases = [r["version"] for r in hist.releases]
    patterns = list(hist.patterns)
    if not releases or not patterns:
        return ["(no release ran)"]
    cells = _cells(hist)
    name_w = min(max(len(p) for p in patterns), 34)
    # a cell is its symbol, its change mark (or a space) and, when every column fits that way, a space
    cell_w = 3 if name_w + 2 + 3 * len(releases) <= width else 2
    per_block = max(1, (width - name_w - 2) // cell_w)
    out: list[str] = []
    for start in range(0, len(releases), per_block):
        block = releases[start:start + per_block]
        tall = max(len(r) for r in block)
        for i in range(tall):
            chars = "".join(f"{(r.rjust(tall)[i]):<{cell_w}}" for r in block)
            out.append((" " * (name_w + 2) + chars).rstrip())
        for p in patterns:
            row = ""
            for r in block:
                state, change = cells[p, r]
                row += (style.mark(state) + (CHANGE_MARK[change] if change else " ") + " ")[:cell_w]
            out.append(f"{_clip(p, name_w):<{name_w}}  {row}".rstrip())
        out.append("")
    used = {cells[k][0] for k in cells}
    legend = [f"{style.mark(k)} {MEANING[k]}" for k in ("passed", *WORST_FIRST[:-1], "uninstallable",
                                                       "release-error", "absent") if k in used]
    legend.append("! after a symbol: an item's outcome changed at that release (against the previous column that ran)")
    legend.append("* after a symbol: what an item observed changed there (value, message, claim figure, error)")
    out += [_fit(x, width) for x in legend]
    return out


def _releases_line(hist: History) -> str:
    ran = hist.ran()
    pythons = Counter(r.get("python") for r in hist.releases if r["status"] == "ran")
    py = ", ".join(f"python {p}" + (f" ×{n}" if len(pythons) > 1 else "") for p, n in pythons.items() if p)
    other = Counter(r["status"] for r in hist.releases if r["status"] != "ran")
    extra = "".join(f", {n} {s}" for s, n in other.items())
    span = f"{ran[0]} … {ran[-1]}" if len(ran) > 1 else (ran[0] if ran else "none")
    return f"{len(ran)} ran ({span}{'; ' + py if py else ''}){extra}"


def bisect_lines(result: BisectResult, *, width: int = 100, style: HistoryStyle | None = None) -> list[str]:
    """A bisect's answer: each changed item with the first release that differs from OLD, and the run count."""
    lines = [f"bisect jax {result.old} → {result.new}: {len(result.releases)} releases, "
             f"{len(result.firsts)} item{'s' if len(result.firsts) != 1 else ''} differ; "
             f"{result.run_count} jaxpat check runs"]
    by_first: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}
    for nodeid, entry in result.firsts.items():
        by_first.setdefault(entry["first"], []).append((nodeid, entry))
    for first in sorted_versions(by_first):
        entries = by_first[first]
        last = entries[0][1]["last_same"]
        lines += ["", _fit(f"first on {first} (same as {result.old} on {last}): {len(entries)} item"
                           f"{'s' if len(entries) != 1 else ''}", width)]
        for nodeid, e in entries:
            lines.append(_fit(f"  {_short(nodeid)}", width))
            for c in e["changes"][:3]:
                lines.append(_fit(f"      {c['text'].splitlines()[0]}", width))
            if e.get("ends"):
                lines.append(_fit(f"      then changed again; from {result.old} to {result.new}:", width))
                for c in e["ends"]["changes"][:3]:
                    lines.append(_fit(f"        {c['text'].splitlines()[0]}", width))
            if e.get("untested"):
                lines.append(_fit(f"      not narrowed: {', '.join(e['untested'])} could not be run", width))
    runs = ", ".join(f"{r.release}{'' if r.status == 'ran' else ' (' + r.status + ')'}" for r in result.runs)
    lines += ["", _fit(f"runs: {runs}", width)]
    return lines


def catalog_check_lines(checks: Sequence[DeviationCheck], *, source: str = "history") -> list[str]:
    """One block per version-keyed deviation: verdict, first release showing it, and why."""
    lines = []
    for c in checks:
        when = ", ".join(f"{k}: {v}" for k, v in c.when.items())
        tag = {"contradicted": "error", "unconfirmed": "note", "confirmed": "ok"}[c.verdict]
        lines.append(f"{c.location or c.pattern}: {tag}: {c.pattern} deviation {{{when}}} {c.verdict} by {source}"
                     + (f"; first release showing it: {c.first}" if c.first else ""))
        lines.append(f"    {c.detail}")
    counts = Counter(c.verdict for c in checks)
    lines.append(f"{len(checks)} version-keyed deviation{'s' if len(checks) != 1 else ''}: "
                 + ", ".join(f"{counts[v]} {v}" for v in ("confirmed", "unconfirmed", "contradicted")))
    return lines


def reason_line(reason: str | None) -> str:
    """One line of an installer's or a run's reason: its ``error`` line and the last line (the cause), or the last."""
    lines = [x.strip() for x in (reason or "").splitlines() if x.strip()]
    if not lines:
        return ""
    error = next((x for x in lines if x.lower().startswith(("error", "× ", "x "))), None)
    if error is None or error == lines[-1]:
        return lines[-1]
    return f"{error} ({lines[-1]})"


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def _short(nodeid: str) -> str:
    return nodeid.split("::", 2)[-1]


def _count(items: Sequence[Any], noun: str) -> str:
    return f"{len(items)} {noun}{'s' if len(items) != 1 else ''}"


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#222}
table.m{border-collapse:collapse;font-size:12px}
table.m th,table.m td{border:1px solid #ddd;padding:2px 4px;text-align:center}
table.m th.v{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:normal}
table.m td.p{text-align:left;white-space:nowrap}
td.passed{background:#e6f4ea}td.failed,td.error{background:#fbd3d0}td.xfailed{background:#fff3c4}
td.xpassed{background:#f3d1f4}td.skipped,td.absent{background:#f4f4f4;color:#999}
td.not_run{background:#ffe0b2}td.uninstallable{background:#e0e0e0;color:#666}td.release-error{background:#ffab91}
td.c-outcome{outline:2px solid #c00;outline-offset:-2px}td.c-other{outline:2px dashed #06c;outline-offset:-2px}
pre{white-space:pre-wrap;background:#f7f7f7;padding:.4em;margin:.2em 0}
code{background:#f2f2f2;padding:0 .2em}.meta td{padding:0 1em 0 0}
"""


def render_html(hist: History, *, title: str | None = None) -> str:
    """The history as one self-contained HTML page (no script, no network); every value is escaped."""
    e = html.escape
    title = title or "jaxpat history"
    releases = [r["version"] for r in hist.releases]
    cells = _cells(hist)
    parts = [f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{e(title)}</title>"
             f"<style>{_CSS}</style></head><body><h1>{e(title)}</h1>"]
    parts.append("<table class=meta>" + "".join(
        f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in _meta_rows(hist)) + "</table>")
    parts.append("<h2>Releases</h2><table class=m><tr><th>jax</th><th>python</th><th>status</th><th>items</th>"
                 "<th>seconds</th><th>reason</th></tr>")
    for r in hist.releases:
        total = sum((r.get("summary") or {}).get(k, 0) for k in ("passed", "failed", "error", "xfailed", "xpassed",
                                                                 "skipped", "not_run"))
        reason = (r.get("reason") or "").strip()
        parts.append(f"<tr><td>{e(r['version'])}</td><td>{e(str(r.get('python') or ''))}</td>"
                     f"<td>{e(r['status'])}</td><td>{total or ''}</td><td>{e(str(r.get('seconds', '')))}</td>"
                     f"<td style='text-align:left'>{f'<pre>{e(reason)}</pre>' if reason else ''}</td></tr>")
    parts.append("</table><h2>Pattern × release</h2><table class=m><tr><th>pattern</th>"
                 + "".join(f"<th class=v>{e(r)}</th>" for r in releases) + "</tr>")
    for p in hist.patterns:
        row = [f"<tr><td class=p><a href='#p-{e(p)}'>{e(p)}</a></td>"]
        for r in releases:
            state, change = cells[p, r]
            counts = hist.patterns[p].get("outcomes", {}).get(r) or {}
            tip = f"{p} on jax {r}: " + (", ".join(f"{n} {o}" for o, n in counts.items()) or MEANING[state])
            if change:
                tip += "; changed here" + (" (outcome)" if change == "outcome" else " (observation)")
            cls = f"{state}{' c-' + change if change else ''}"
            row.append(f"<td class='{e(cls)}' title='{e(tip)}'>{e(_UNICODE[state])}</td>")
        parts.append("".join(row) + "</tr>")
    parts.append("</table><p>" + " · ".join(f"{e(_UNICODE[k])} {e(MEANING[k])}" for k in
                                           ("passed", *WORST_FIRST[:-1], "uninstallable", "release-error", "absent"))
                 + "; a solid red frame: an item's outcome changed at that release; a dashed blue frame: what an "
                 "item observed changed there.</p>")
    parts.append("<h2>Changes by pattern</h2>")
    for p in hist.patterns:
        groups = hist.grouped_changes(p)
        if not groups:
            continue
        parts.append(f"<h3 id='p-{e(p)}'>{e(p)}</h3><ul>")
        for g in groups:
            ids = "".join(f"<li><code>{e(_short(n))}</code>: {_outcome_strip(hist, n, releases)}</li>"
                          for n in g["nodeids"])
            texts = "".join(f"<pre>{e(t)}</pre>" for t in g["texts"])
            parts.append(f"<li><b>first on {e(g['release'])}</b> (since {e(g['since'])}): {e('/'.join(g['what']))}"
                         f" in {len(g['nodeids'])} item{'s' if len(g['nodeids']) != 1 else ''}{texts}"
                         f"<details><summary>items</summary><ul>{ids}</ul></details></li>")
        parts.append("</ul>")
    if hist.bisect:
        b = hist.bisect
        parts.append(f"<h2>Bisect {e(b['old'])} → {e(b['new'])}</h2><p>{e(str(b['runs']))} runs; "
                     f"{len(b['firsts'])} items differ.</p><ul>")
        for n, entry in b["firsts"].items():
            parts.append(f"<li><code>{e(_short(n))}</code>: first on <b>{e(entry['first'])}</b> (same as "
                         f"{e(b['old'])} on {e(entry['last_same'])})</li>")
        parts.append("</ul>")
    parts.append("</body></html>\n")
    return "".join(parts)


def _outcome_strip(hist: History, nodeid: str, releases: Sequence[str]) -> str:
    outcomes = hist.items.get(nodeid, {}).get("outcomes", {})
    return " ".join(html.escape(f"{r}:{outcomes.get(r, '-')}") for r in releases if r in outcomes)


def command_text(command: Sequence[str] | None, *, most: int = 4) -> str:
    """The command as one line; a ``--merge`` list of more than ``most`` reports is cut to its first two and a
    count."""
    words = [str(w) for w in command or ["?"]]
    if "--merge" in words:
        at = words.index("--merge") + 1
        reports = list(itertools.takewhile(lambda w: not w.startswith("-"), words[at:]))
        if len(reports) > most:
            words = [*words[:at], *reports[:2], f"… ({len(reports)} reports)", *words[at + len(reports):]]
    return " ".join(words)


def updates_line(hist: History) -> str | None:
    """What the page says when some releases lay a later run of some patterns over a full run."""
    layered = [r for r in hist.releases if r.get("updated_by")]
    if not layered:
        return None
    return (f"{len(layered)} of {len(hist.releases)} releases combine a run of the whole catalog with a later run "
            "of some patterns on the same release (`updated_by` in the history file): those patterns' items come "
            "from the later run.")


def _meta_rows(hist: History) -> list[tuple[str, str]]:
    m = hist.meta
    mach = m.get("machine") or {}
    rows = [("created", str(m.get("created", "?"))),
            ("command", command_text(m.get("command"))),
            ("machine", f"{mach.get('hostname', '?')} ({mach.get('platform', '?')}, {mach.get('cpus', '?')} CPUs)"),
            ("range", str(m.get("range", "?"))),
            ("wall time", f"{m['wall_seconds']:.0f} s" if isinstance(m.get("wall_seconds"), int | float) else "?")]
    if m.get("note"):
        rows.append(("note", str(m["note"])))
    if (line := updates_line(hist)) is not None:
        rows.append(("updates", line))
    return rows


# ---------------------------------------------------------------------------
# Markdown (docs/history.md)
# ---------------------------------------------------------------------------

def _md(text: str) -> str:
    """Text for a Markdown table cell or line: pipes and backticks made harmless, no line breaks."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "'").replace("\n", " ")


def render_markdown(hist: History, *, source: str | None = None) -> str:
    """docs/history.md: what changed for the catalog's patterns from the oldest release to the newest.

    The page records when, where and how the history was made, and how to
    make it again; ``source`` is the history file's path as the page should
    name it. It is a function of the history alone (a test regenerates it).
    """
    m = hist.meta
    mach = m.get("machine") or {}
    ran = hist.ran()
    source = source.replace(os.sep, "/") if source else None
    lines = ["# What changed in JAX for the catalog's patterns", "",
             "<!-- generated by `jaxpat history --markdown`; do not edit by hand (regenerate it, below) -->", ""]
    lines.append(f"Releases: {len(ran)} ran"
                 + (f", from {ran[0]} to {ran[-1]}" if ran else "")
                 + "".join(f"; {n} {s}" for s, n in Counter(r["status"] for r in hist.releases
                                                            if r["status"] != "ran").items()) + ".")
    if m.get("partial"):
        pending = [str(x) for x in m.get("pending") or []]
        lines += ["", f"**Partial history**: {len(pending)} more release{'s' if len(pending) != 1 else ''} "
                      f"had not run when it was written ({', '.join(pending)}); releases run oldest, newest, "
                      "then the middles, so the ones that ran span the range. Each change below is listed at the "
                      "first release *that ran* showing it: the true first release may be one of the pending "
                      "releases before it (`jaxpat history --bisect` finds it)."]
    lines += ["",
              f"- made: {m.get('created', '?')}, on {mach.get('hostname', '?')} ({mach.get('platform', '?')}, "
              f"{mach.get('cpus', '?')} CPUs), "
              + (f"written after {_duration(m.get('wall_seconds'))} of the run" if m.get("partial") else
                 f"in {_duration(m.get('wall_seconds'))}"),
              f"- command: `{_md(command_text(m.get('command')))}`",
              f"- range: `{_md(str(m.get('range', '?')))}`; patterns: "
              f"{_md(', '.join((m.get('selection') or {}).get('patterns') or []) or 'the whole catalog')}; "
              f"{len(hist.patterns)} patterns, "
              f"{sum(int(p.get('items', 0)) for p in hist.patterns.values())} items",
              ]
    if m.get("note"):
        lines.append(f"- note: {_md(str(m['note']))}")
    if (line := updates_line(hist)) is not None:
        lines.append(f"- updates: {line}")
    if source:
        lines.append(f"- history file: [{source}]({source})")
    lines += ["", "Regenerate (docs/cli.md, `jaxpat history`):", "", "```",
              "jaxpat history --jobs 1 -n 2 --json docs/history/history.json --markdown docs/history.md "
              "-- --cpu-devices 8",
              "jaxpat history --from docs/history/history.json --markdown docs/history.md   # the page alone",
              "```", "", "## Releases", "",
              "| jax | python | status | passed | failed | xfailed | skipped | other |",
              "|---|---|---|---|---|---|---|---|"]
    for r in hist.releases:
        s = r.get("summary") or {}
        other = sum(s.get(k, 0) for k in ("error", "xpassed", "not_run"))
        if r["status"] == "ran":
            lines.append(f"| {r['version']} | {r.get('python') or ''} | ran | {s.get('passed', 0)} | "
                         f"{s.get('failed', 0)} | {s.get('xfailed', 0)} | {s.get('skipped', 0)} | {other} |")
        else:
            lines.append(f"| {r['version']} | {r.get('python') or ''} | {r['status']}: "
                         f"{_md(reason_line(r.get('reason')))} | | | | | |")
    changed = [p for p in hist.patterns if hist.patterns[p].get("changed")]
    lines += ["", "## Changes, by pattern", "",
              f"{len(changed)} of {len(hist.patterns)} patterns changed; each change is listed at the first "
              "release showing it (compared with the release before it that ran). XLA compilation counts "
              "are left out: they depend on the compilation cache.", ""]
    for p in changed:
        lines += [f"### {p}", ""]
        for g in hist.grouped_changes(p):
            n = len(g["nodeids"])
            lines.append(f"- **{g['release']}** (since {g['since']}): {'/'.join(g['what'])} in {n} item"
                         f"{'s' if n != 1 else ''}" + (f" (`{_md(_short(g['nodeids'][0]))}`)" if n == 1 else ""))
            for t in g["texts"][:4]:
                first = t.splitlines()
                body = " / ".join(x.strip() for x in first[:3])
                lines.append(f"  - {_md(body[:300])}{'…' if len(body) > 300 or len(first) > 3 else ''}")
            if len(g["texts"]) > 4:
                lines.append(f"  - … {len(g['texts']) - 4} more different changes")
        lines.append("")
    same = [p for p in hist.patterns if not hist.patterns[p].get("changed")]
    if same:
        lines += ["## Patterns with no change", "", ", ".join(f"`{p}`" for p in same), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return "?"
    minutes, s = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {s} s"
