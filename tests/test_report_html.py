"""``jaxpat report html``: one offline page, checked in headless Chromium (what is on the page, not just a file)."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _browser import open_page

from jaxpat import report as _report
from jaxpat._cli import main
from jaxpat.report import _html

FAMILIES = {"scan-cumsum": "scan", "scan-reverse": "scan", "loops-fori": "loops", "prng-split": "prng"}


def synthetic(n_patterns: int = 4, *, host: str = "h1", broken: str = "loops-fori",
              impls: tuple[str, ...] = ("reference.a", "example.b")) -> dict[str, Any]:
    """A report with every outcome, a failure with a repro, and memory/program-size/speedup claims."""
    rep = _report.new_report({"host": host, "jax": "0.10.2", "jaxlib": "0.10.2", "python": "3.11",
                              "devices": [{"id": "cpu:0", "platform": "cpu", "kind": "cpu"}]},
                             ["jaxpat", "check"])
    rep["status"] = "complete"
    names = list(FAMILIES)[:n_patterns] if n_patterns <= len(FAMILIES) else [f"p{i:05d}" for i in range(n_patterns)]
    for pid in names:
        for impl in impls:
            for transform in ("eager", "jit", "vmap", "grad"):
                nodeid = f"jaxpat::{pid}::c1[{impl}-cpu:0-{transform}]"
                outcome = "passed"
                message = None
                if pid == broken and impl == impls[-1] and transform == "jit":
                    outcome, message = "failed", "wrong result: expected [0 1 3], got [0 1 2]\nmore detail"
                if pid == broken and impl == impls[-1] and transform == "grad":
                    outcome, message = "xfailed", "known deviation"
                rec = {"nodeid": nodeid, "kind": "case", "pattern": pid, "family": FAMILIES.get(pid, "fam"),
                       "case": "c1", "implementation": impl, "platform": "cpu", "device": "cpu:0",
                       "transform": transform, "outcome": outcome, "duration": 0.01, "message": message}
                if outcome == "failed":
                    rec["repro"] = "from jaxpat.conformance import run_case\nrun_case('x')\n"
                rep["results"].append(rec)
    for k, impl in enumerate(impls):
        grow = [100 * (k + 1), 1000 * (k + 1) * k + 100]  # the second implementation grows, the first does not
        rep["claims"].append({"pattern": "scan-cumsum", "implementation": impl, "claim": "memory",
                              "claimed": {"forward": "constant"}, "verdict": "held" if k == 0 else "violated",
                              "measured": {"param": "xs", "sizes": [100, 1000],
                                           "forward": {"bytes": grow, "growth": "constant"}},
                              "message": "m", "device": "cpu:0"})
        rep["claims"].append({"pattern": "scan-cumsum", "implementation": impl, "claim": "program_size",
                              "claimed": {"growth": "constant"}, "verdict": "held",
                              "measured": {"param": "xs", "sizes": [10, 100], "hlo_instructions": [7, 7 + 90 * k],
                                           "growth": "constant"}, "message": "p", "device": "cpu:0"})
    rep["claims"].append({"pattern": "loops-fori", "implementation": impls[0], "claim": "speedup",
                          "claimed": {"baseline": "python_loop", "at_least": 2}, "verdict": "reported",
                          "measured": {"seconds": 0.001, "baseline_seconds": 0.05, "speedup": 50.0},
                          "message": "50x"})
    _report.summarize(rep)
    return rep


def write(tmp_path: Path, data: dict[str, Any], name: str = "r.json") -> Path:
    return _report.write_report(data, tmp_path / name)


def page(tmp_path: Path, *argv: str) -> tuple[int, Path]:
    out = tmp_path / "r.html"
    return main(["report", "html", *argv, "-o", str(out)]), out


# -- the document, without a browser -----------------------------------------------------------------------------


def test_page_is_self_contained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No network: no src/href to another origin, no @import; data embedded once as JSON."""
    code, out = page(tmp_path, str(write(tmp_path, synthetic())))
    assert code == 0
    text = out.read_text(encoding="utf-8")
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', text)
    assert "@import" not in text
    assert "url(" not in text
    data = json.loads(re.search(r'<script type="application/json" id="report-data">(.*?)</script>', text,
                                re.S).group(1))
    assert len(data["items"]["id"]) == 4 * 2 * 4
    assert data["columns"] == ["cpu/eager", "cpu/jit", "cpu/vmap", "cpu/grad"]
    assert [r[0] for r in data["rows"]] == ["loops-fori", "prng-split", "scan-cumsum", "scan-reverse"]
    assert "wrote" in capsys.readouterr().out


def test_report_text_cannot_escape_the_script_element(tmp_path: Path) -> None:
    """A failure message with </script> and HTML stays data (the page's JSON still parses to the same text)."""
    data = synthetic()
    evil = "</script><script>alert(1)</script><!-- <b>x</b>"
    data["results"][1]["outcome"] = "failed"
    data["results"][1]["message"] = evil
    rep = _report.Report.from_dict(_report.write_report(data, tmp_path / "e.json") and
                                   json.loads((tmp_path / "e.json").read_text()))
    text = _report.render_html(rep)
    assert text.count("</script>") == 2  # the data element's and the code's own
    blob = re.search(r'id="report-data">(.*?)</script>', text, re.S).group(1)
    assert any(f[2] == evil for f in json.loads(blob)["failures"])


def test_line_plot_places_points_by_value() -> None:
    """Larger values are drawn higher (smaller SVG y), larger n further right; log axes when positive."""
    svg = _html.line_plot("t", [("a", [100, 1000], [10, 10000], "linear"), ("b", [100, 1000], [50, 50], "constant")])
    pts = [tuple(map(float, p.split(","))) for p in re.findall(r'points="([^"]+)"', svg)[0].split()]
    flat = [tuple(map(float, p.split(","))) for p in re.findall(r'points="([^"]+)"', svg)[1].split()]
    assert pts[1][0] > pts[0][0]
    assert pts[1][1] < pts[0][1]
    assert flat[0][1] == flat[1][1]
    assert pts[0][1] > flat[0][1] > pts[1][1]
    assert ">10k<" in svg
    assert "a (linear)" in svg
    assert "b (constant)" in svg
    with_zero = _html.line_plot("t", [("a", [1, 10], [0, 5], "")])  # zero bytes: a linear axis, no log(0)
    assert "<polyline" in with_zero


def test_bar_plot_marks_a_missed_threshold() -> None:
    svg = _html.bar_plot("s", [("fast", 5.0, 2.0), ("slow", 1.5, 2.0)])
    assert svg.count('class="bar"') == 1
    assert svg.count('class="bar bad"') == 1


def test_diff_section_lists_regressions(tmp_path: Path) -> None:
    old = synthetic(broken="none")
    new = synthetic()
    code, out = page(tmp_path, str(write(tmp_path, new, "new.json")), "--diff", str(write(tmp_path, old, "old.json")))
    assert code == 0
    data = json.loads(re.search(r'id="report-data">(.*?)</script>', out.read_text(), re.S).group(1))
    assert [r[0] for r in data["diff"]["items"]["regression"]] == ["jaxpat::loops-fori::c1[example.b-cpu:0-jit]"]
    assert [r[0] for r in data["diff"]["items"]["changed"]] == ["jaxpat::loops-fori::c1[example.b-cpu:0-grad]"]
    assert data["diff"]["status"] == "regression"


def test_unreadable_report_is_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = page(tmp_path, str(tmp_path / "missing.json"))
    assert code == 3
    assert not out.exists()
    assert "missing.json" in capsys.readouterr().err


def synthetic_report(n_items: int) -> _report.Report:
    """A Report of ``n_items`` results over n_items/20 patterns, 1 % failing (built directly: no schema pass)."""
    results = []
    for i in range(n_items):
        pid = f"pattern-{i // 20:05d}"
        transform = ("eager", "jit", "vmap", "grad")[i % 4]
        outcome = "failed" if i % 100 == 7 else ("skipped" if i % 50 == 3 else "passed")
        results.append(_report.Result(
            nodeid=f"jaxpat::{pid}::case{i % 5}[plugin.impl{i % 3}-cpu:0-{transform}]", outcome=outcome,
            duration=0.01, kind="case", pattern=pid, family=f"family{i // 2000}", platform="cpu", device="cpu:0",
            transform=transform, message="wrong result: x\n" + "detail " * 40 if outcome == "failed" else None,
            repro="print('repro')\n" if outcome == "failed" else None))
    return _report.Report(status="complete", created="2026-12-01T00:00:00+0000", command=("jaxpat", "check"),
                          environment=_report.Environment(host="big"), results=tuple(results),
                          summary={"total": n_items})


def test_100k_item_page_size_is_bounded() -> None:
    """100,000 items make a page of well under 300 bytes per item (sizes, not times, are asserted here)."""
    text = _report.render_html(synthetic_report(100_000))
    assert len(text.encode("utf-8")) < 300 * 100_000
    blob = json.loads(re.search(r'id="report-data">(.*?)</script>', text, re.S).group(1))
    assert len(blob["items"]["id"]) == 100_000
    assert len(blob["failures"]) == 1000


def payload(text: str) -> dict[str, Any]:
    """The page's JSON payload, parsed strictly (NaN or Infinity would fail, as in a browser)."""
    blob = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', text, re.S).group(1)
    return json.loads(blob, parse_constant=lambda c: pytest.fail(f"non-strict JSON in the page: {c}"))


PWN = "<script>document.documentElement.setAttribute('data-pwned','1')</script>"
HOSTILE_TITLE = f"</title>{PWN} __DATA__ {{{{data}}}} {{{{js}}}} & <b>"


def test_title_and_messages_stay_data(tmp_path: Path) -> None:
    """A title or message holding the template's slot names, </script> or U+2028 cannot change the page."""
    data = synthetic()
    evil = f"</script>{PWN} __DATA__ {{{{data}}}} {{{{title}}}} \u2028 \u2029 <!-- & >"
    data["results"][1]["outcome"] = "failed"
    data["results"][1]["message"] = evil
    code, out = page(tmp_path, str(write(tmp_path, data)), "--title", HOSTILE_TITLE)
    assert code == 0
    text = out.read_text(encoding="utf-8")
    assert text.count("<script") == 2  # the data element and the page's own script, nothing else
    assert text.count("</script>") == 2
    escaped = html.escape(HOSTILE_TITLE, quote=True)
    assert "__DATA__ {{data}} {{js}} &amp; &lt;b&gt;" in escaped
    assert text.count(escaped) == 2  # <title> and <h1>, escaped, slot names left as text
    blob = re.search(r'id="report-data">(.*?)</script>', text, re.S).group(1)
    for raw in ("<", ">", "&", "\u2028", "\u2029"):
        assert raw not in blob
    assert any(f[2] == evil for f in payload(text)["failures"])


def test_the_template_is_filled_in_one_pass() -> None:
    """A value holding another slot's name is not filled again (chained replaces would do that)."""
    assert _html.fill("{{a}}|{{b}}", {"a": "{{b}}", "b": "B"}) == "{{b}}|B"
    with pytest.raises(KeyError):
        _html.fill("{{nope}}", {})


def test_nan_in_a_report_gives_a_correct_page(tmp_path: Path) -> None:
    """NaN where a report may hold any value (read as "nan") reaches the page as strict JSON."""
    data = synthetic()
    data["claims"][-1]["measured"]["speedup"] = float("nan")
    path = tmp_path / "nan.json"
    path.write_text(json.dumps(data))  # Python writes a bare NaN
    assert "NaN" in path.read_text()
    code, out = page(tmp_path, str(path))
    assert code == 0
    assert payload(out.read_text())["claims"]  # parses strictly


def test_summary_cards_come_from_the_results(tmp_path: Path) -> None:
    """A file whose `summary` lies does not lie on the page: the counts are the results'."""
    data = synthetic()
    path = write(tmp_path, data)
    doc = json.loads(path.read_text())
    doc["summary"] = {"passed": 999, "failed": 0, "total": 5}
    path.write_text(json.dumps(doc))
    _, out = page(tmp_path, str(path))
    summary = payload(out.read_text())["summary"]
    outcomes = [r["outcome"] for r in data["results"]]
    assert summary["total"] == len(outcomes) == 32
    assert summary["passed"] == outcomes.count("passed") == 30
    assert summary["failed"] == outcomes.count("failed") == 1


def test_claims_note_says_why_there_are_no_plots(tmp_path: Path) -> None:
    """No claims: "none were measured"; claims without plottable figures: not "run with claims"."""
    data = synthetic()
    data["claims"] = []
    _, out = page(tmp_path, str(write(tmp_path, data)))
    assert "No claims were measured" in out.read_text()
    data["claims"] = [{"pattern": "scan-cumsum", "implementation": "reference.a", "claim": "jit", "claimed": True,
                       "verdict": "held", "measured": {"jit": "works"}, "message": "works"}]
    _, out = page(tmp_path, str(write(tmp_path, data)))
    text = out.read_text()
    assert "run with claims" not in text
    assert "None of the 1 claim measurements" in text


def test_diff_entries_keep_line_breaks_and_whole_words(tmp_path: Path) -> None:
    old, new = synthetic(broken="none"), synthetic()
    long_line = " ".join(f"word{i}" for i in range(400))
    new["results"][[r["outcome"] for r in new["results"]].index("failed")]["message"] = "first\n" + long_line
    _, out = page(tmp_path, str(write(tmp_path, new, "new.json")), "--diff", str(write(tmp_path, old, "old.json")))
    (entry,) = payload(out.read_text())["diff"]["items"]["regression"]
    what = entry[3]
    assert "\n" in what  # the change's lines stay lines
    kept = what.split("\n… (")[0]
    last = kept.split()[-1]
    assert re.fullmatch(r"word\d+", last), last  # cut between words
    assert "jaxpat report diff shows all of it" in what


# -- in the browser -----------------------------------------------------------------------------------------------


def test_page_renders_in_chromium(tmp_path: Path) -> None:
    """Matrix cells with the right colours, a failure with its repro, plot SVGs, the summary; no script errors."""
    code, out = page(tmp_path, str(write(tmp_path, synthetic())))
    assert code == 0
    shot = tmp_path / "shot.png"
    p = open_page(out, screenshot=shot)
    assert p.console_errors == [], p.console_errors
    assert p.by_id("js-errors") == ""
    assert 'data-ready="1"' in p.dom
    cells = re.findall(r'<td class="cell o(\d)" title="([^"]+)"', p.dom)
    assert len(cells) == 4 * 4
    titles = {t: o for o, t in cells}
    assert titles["loops-fori · cpu/jit: 1 passed, 1 failed"] == "1"  # the failed outcome colours the cell
    assert titles["scan-cumsum · cpu/eager: 2 passed"] == "0"
    assert "4 of 4 patterns" in p.by_id("matrix-count")
    assert "wrong result: expected [0 1 3], got [0 1 2]" in p.by_id("failure-list")
    assert "run_case(" in p.by_id("failure-list")
    plots = re.findall(r'<svg[^>]*class="lineplot"', p.dom)
    assert len(plots) == 2  # memory and program size of scan-cumsum
    assert 'class="barplot"' in p.dom
    assert shot.exists()
    assert shot.stat().st_size > 10_000


def test_search_and_filters_from_the_query_string(tmp_path: Path) -> None:
    """?q= filters the matrix rows (text or glob), failing=1 keeps failing rows, items=/outcome= filter items."""
    _, out = page(tmp_path, str(write(tmp_path, synthetic())))
    p = open_page(out, "q=scan-*")
    rows = re.findall(r'<tr data-pattern="([^"]+)"', p.dom)
    assert rows == ["scan-cumsum", "scan-reverse"]
    assert "2 of 4 patterns" in p.by_id("matrix-count")
    p = open_page(out, "failing=1&outcome=failed")
    assert re.findall(r'<tr data-pattern="([^"]+)"', p.dom) == ["loops-fori"]
    assert "1 of 32 items" in p.by_id("item-count")
    p = open_page(out, "family=prng&items=reference.a")
    assert re.findall(r'<tr data-pattern="([^"]+)"', p.dom) == ["prng-split"]
    assert "16 of 32 items" in p.by_id("item-count")


def test_diff_page_in_chromium(tmp_path: Path) -> None:
    old, new = write(tmp_path, synthetic(broken="none"), "old.json"), write(tmp_path, synthetic(), "new.json")
    _, out = page(tmp_path, str(new), "--diff", str(old))
    p = open_page(out)
    assert p.console_errors == []
    assert p.by_id("js-errors") == ""
    body = p.by_id("diff-body")
    assert "regression (1)" in body
    assert "jaxpat::loops-fori::c1[example.b-cpu:0-jit]" in body
    assert "passed → failed" in body


def test_100k_item_page_in_chromium(tmp_path: Path) -> None:
    """The 100,000-item page loads without errors and renders one page of rows, not all of them."""
    out = tmp_path / "big.html"
    out.write_text(_report.render_html(synthetic_report(100_000)), encoding="utf-8")
    p = open_page(out, "items=pattern-04999")
    assert p.console_errors == []
    assert p.by_id("js-errors") == ""
    assert 'data-ready="1"' in p.dom
    assert "200 of 5000 patterns" not in p.by_id("matrix-count")  # the count is of all matching rows
    assert "5000 of 5000 patterns" in p.by_id("matrix-count")
    assert len(re.findall(r"<tr data-pattern=", p.dom)) == 200  # one page of the matrix
    assert "20 of 100000 items" in p.by_id("item-count")
    assert "1000 of 1000 failing items" in p.by_id("failure-count")


@pytest.mark.skipif(os.environ.get("JAXPAT_FULL_REPORT") != "1",
                    reason="runs the whole catalog (minutes); .ci/run sets JAXPAT_FULL_REPORT=1")
def test_full_catalog_report_in_chromium(tmp_path: Path) -> None:
    """The README's main command on the whole catalog, then its HTML page in Chromium: matrix and claim plots."""
    env = {**os.environ, "JAXPAT_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-m", "jaxpat", "check", "--report", "full.json"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=3600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    code, out = page(tmp_path, str(tmp_path / "full.json"))
    assert code == 0
    rep = _report.load(tmp_path / "full.json")
    p = open_page(out, screenshot=tmp_path / "full.png")
    assert p.console_errors == []
    assert p.by_id("js-errors") == ""
    patterns = {r.pattern_id for r in rep.results}
    assert len(patterns) >= 80
    assert f"{len(patterns)} of {len(patterns)} patterns" in p.by_id("matrix-count")
    assert len(re.findall(r"<tr data-pattern=", p.dom)) == min(len(patterns), 200)
    growth = {c.pattern for c in rep.claims if c.claim in ("memory", "program_size")}
    assert len(re.findall(r'<svg[^>]*class="lineplot"', p.dom)) >= len(growth) > 0


def test_hostile_title_and_message_in_chromium(tmp_path: Path) -> None:
    """In the browser: the hostile title is the page's text, no injected script ran, the page rendered."""
    data = synthetic()
    data["results"][1]["outcome"] = "failed"
    data["results"][1]["message"] = f"</script>{PWN}{{{{data}}}}"
    code, out = page(tmp_path, str(write(tmp_path, data)), "--title", HOSTILE_TITLE)
    assert code == 0
    p = open_page(out)
    assert p.console_errors == []
    assert p.by_id("js-errors") == ""
    assert 'data-ready="1"' in p.dom
    assert "data-pwned" not in p.dom.split(">", 2)[1]  # the <html> element: no injected script set it
    assert re.search(r"<title>(.*?)</title>", p.dom, re.S).group(1) == html.escape(HOSTILE_TITLE, quote=False)
    assert re.search(r"<h1>(.*?)</h1>", p.dom, re.S).group(1) == html.escape(HOSTILE_TITLE, quote=False)
    assert "{{data}}" in p.by_id("failure-list")


def test_cells_headlines_and_ids_read_clearly_in_chromium(tmp_path: Path) -> None:
    """Cells put the symbol before the count (sk1, never 1s); the failure headline is outside the folded
    message; ids carry <wbr> break points after separators only."""
    data = synthetic()
    for r in data["results"]:
        if r["pattern"] == "prng-split" and r["transform"] == "vmap":
            r["outcome"], r["message"] = "skipped", "no"
    _, out = page(tmp_path, str(write(tmp_path, data)))
    p = open_page(out)
    assert p.console_errors == []
    cells = dict(re.findall(r'<td class="cell o\d" title="([^"]+)"[^>]*>([^<]*)</td>', p.dom))
    assert cells["prng-split · cpu/vmap: 2 skipped"] == "sk2"
    assert cells["loops-fori · cpu/jit: 1 passed, 1 failed"] == "✗1"
    assert cells["scan-cumsum · cpu/eager: 2 passed"] == "✓2"
    assert not any(re.fullmatch(r"\d+[a-zA-Z]", v) for v in cells.values())
    assert "sk skipped" in p.by_id("legend")
    failure = re.search(r'<div class="failure">(.*?)</div>\s*(?=<div class="failure">|</div>)', p.dom, re.S).group(1)
    headline = re.search(r'<div class="headline">(.*?)</div>', failure, re.S).group(1)
    assert "wrong result: expected [0 1 3], got [0 1 2]" in headline
    assert failure.index('class="headline"') < failure.index("<details")
    ids = re.findall(r'<div class="id">(.*?)</div>', p.dom, re.S)
    assert ids
    for chunk in ids[0].split("<wbr>")[:-1]:
        assert chunk[-1] in ":.-[]_", chunk
    assert ids[0].replace("<wbr>", "") == "jaxpat::loops-fori::c1[example.b-cpu:0-jit]"
