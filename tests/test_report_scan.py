"""Streamed report readers (report/_scan.py) against the in-memory ones: same views, same refusals, less memory.

The oracle for every streamed view is the reader that loads the whole report
(``load`` + ``build_matrix`` / ``tally`` / ``drift`` / ``merge`` + ``write_report``
/ ``render_html``): the streamed one must give the same answer on the same file,
including when a value spans the reader's pieces (``CHUNK`` made tiny) and
when messages hold non-ASCII text (the diff re-reads items by byte offset).
"""

from __future__ import annotations

import dataclasses
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from jaxpat import report as _report
from jaxpat._cli import main
from jaxpat.report import _html, _scan
from jaxpat.report._json import NON_FINITE

NODE = "jaxpat::{p}::{c}[reference.{i}-cpu:0-{t}]"


def rich(host: str, *, n: int = 60, drift: bool = False, hosts: tuple[str, ...] = (), per_pattern: int = 7
         ) -> dict[str, Any]:
    """A report with every shape of result the readers meet: families, a missing pattern (setup item), device
    kinds, claim items, errors, trees, NaN strings, complex values, long non-ASCII messages, peak_rss, claims."""
    rep = _report.new_report({"host": host, "jax": "0.10.2", "jaxlib": "0.10.2", "python": "3.12.1",
                              "devices": [{"id": "cpu:0", "platform": "cpu", "kind": "cpu"}],
                              "jax_config": {"jax_enable_x64": drift}}, ["jaxpat", "check"])
    if hosts:
        rep["environment"] = {"hosts": [{"host": h, "jax": "0.10.2", "devices": []} for h in hosts]}
    rep["status"] = "complete"
    rep["peak_rss"] = {"max": 300, "by_process": {"gw0": 300, "gw1": 200}}
    results, claims = [], []
    for i in range(n):
        p = f"pat-{i // per_pattern:03d}"
        t = ("eager", "jit", "vmap", "grad")[i % 4]
        nodeid = NODE.format(p=p, c=f"c{i % 3}", i=f"impl{i % 2}", t=t)
        r: dict[str, Any] = {"nodeid": nodeid, "kind": "case", "pattern": p, "family": f"fam{i // 20}",
                             "case": f"c{i % 3}", "implementation": f"reference.impl{i % 2}", "platform": "cpu",
                             "transform": t, "outcome": "passed", "duration": 0.125 * (i % 5), "compiles": 1,
                             "message": None}
        if i % 11 == 3:
            r["device_kind"] = "Fancy Accelerator ü"
        if i % 9 == 4:
            r["observed"] = {"error": {"type": "TypeError", "message": f"boom → {i} at 0x7f00deadbeef"}}
        elif i % 9 == 5:
            r["observed"] = {"leaves": [{"dtype": "complex64", "shape": [1], "digest": "c",
                                         "values": [[1.0, "nan" if drift else 2.0]]}]}
        else:
            r["observed"] = {"tree": "(*, *)", "leaves": [
                {"dtype": "float32", "shape": [2], "digest": f"d{i}",
                 "values": [1.5 + (1e-7 if drift and i % 13 == 0 else 0.0), "inf"]},
                {"dtype": "int32", "shape": [], "digest": "i", "values": [i]}]}
        if drift and i % 10 == 7:
            r["outcome"] = "failed"
            r["message"] = "wrong result: ünïcödé → " + "detail " * (50 + i) + "\n  second line"
            r["repro"] = "print('repro')\n"
        if drift and i % 17 == 2:
            r["outcome"] = "skipped"
        if i % 25 == 24:
            r = {"nodeid": f"jaxpat::{p}::claim-memory[reference.impl0-cpu:0]", "kind": "claim", "pattern": p,
                 "family": f"fam{i // 20}", "platform": "cpu", "transform": "claim:memory", "claim": "memory",
                 "outcome": "passed", "duration": 0.01, "message": None}
            claims.append({"pattern": p, "implementation": "reference.impl0", "claim": "memory",
                           "verdict": "held", "claimed": {"forward": "constant"}, "nodeid": r["nodeid"],
                           "measured": {"param": "n", "sizes": [10, 100],
                                        "forward": {"temp_bytes": [64, 64 + drift], "growth": "constant"}}})
        if hosts:
            r["host"] = hosts[i % len(hosts)]
        results.append(r)
    if not drift:
        results.append({"nodeid": "jaxpat::setup::plugin[broken]", "kind": "setup", "outcome": "error",
                        "duration": 0, "message": "the plugin did not load"})
    else:
        results.append({"nodeid": "jaxpat::new-pattern::c0[reference.impl0-cpu:0-jit]", "kind": "case",
                        "pattern": "new-pattern", "outcome": "passed", "duration": 1, "message": None})
    rep["results"] = results
    rep["claims"] = claims
    return rep


@pytest.fixture(params=[None, 97], ids=["default-chunk", "tiny-chunk"])
def chunk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.param:
        monkeypatch.setattr(_scan, "CHUNK", request.param)


def write(tmp_path: Path, name: str, doc: dict[str, Any], *, compact: bool = False) -> Path:
    return _report.write_report(doc, tmp_path / name, compact=compact, check=True)


@pytest.mark.parametrize("compact", [False, True], ids=["indented", "one-line"])
def test_scan_gives_the_loaded_reports_views(tmp_path: Path, chunk: None, compact: bool) -> None:
    path = write(tmp_path, "r.json", rich("h", drift=True), compact=compact)
    rep, s = _report.load(path), _report.scan(path, items=True, index=True)
    assert s.loaded is None  # streamed, not the whole-file fallback
    assert s.total == len(rep.results)
    assert s.matrix == _report.build_matrix(rep.results)
    assert s.tally() == rep.tally()
    assert s.failures == rep.failures()
    assert _report.matrix_lines(s.matrix, width=80) == _report.matrix_lines(rep.results, width=80)
    assert [s.result(i) for i in range(s.total)] == list(rep.results)
    assert s.environments == rep.environments
    assert s.claims == rep.claims


@pytest.mark.parametrize("hosted", [(False, False), (True, True), (True, False)], ids=["plain", "merged", "mixed"])
def test_drift_files_is_drift_of_the_loaded_reports(tmp_path: Path, chunk: None, hosted: tuple[bool, bool]) -> None:
    old = write(tmp_path, "old.json", rich("a", hosts=("x", "y") if hosted[0] else ()))
    new = write(tmp_path, "new.json", rich("b", drift=True, hosts=("x", "y") if hosted[1] else ()))
    expected = _report.drift(_report.load(old), _report.load(new))
    got = _report.drift_files(old, new)
    assert got == expected
    assert got.to_dict() == expected.to_dict()
    assert expected.items  # the comparison has both sides
    assert expected.unchanged
    assert _report.format_drift(got) == _report.format_drift(expected)


def test_drift_files_refuses_an_item_twice_as_drift_does(tmp_path: Path) -> None:
    doc = rich("a")
    doc["results"].append(dict(doc["results"][0]))
    twice = write(tmp_path, "twice.json", doc)
    good = write(tmp_path, "good.json", rich("b"))
    with pytest.raises(_report.ReportError) as loaded:
        _report.drift(_report.load(good), _report.load(twice))
    with pytest.raises(_report.ReportError) as streamed:
        _report.drift_files(good, twice)
    assert str(streamed.value) == str(loaded.value)


def test_merge_files_writes_the_merged_report(tmp_path: Path, chunk: None) -> None:
    a = write(tmp_path, "a.json", rich("a"))
    b = write(tmp_path, "b.json", rich("b", drift=True))
    m = write(tmp_path, "m.json", rich("m", hosts=("x", "y")))
    paths = [b, a, m]
    expected = _report.merge([_report.load(p) for p in paths])
    count = _report.merge_files(paths, tmp_path / "out" / "merged.json")
    got = _report.load(tmp_path / "out" / "merged.json")
    assert count == len(expected.results) == len(got.results)
    assert dataclasses.replace(got, created="") == dataclasses.replace(expected, created="")
    assert [r.key for r in got.results] == sorted(r.key for r in got.results)
    assert not list((tmp_path / "out").glob(".*"))  # no spool or temporary file left behind


def test_merge_keeps_peak_rss_per_host(tmp_path: Path) -> None:
    """The merged report's peak_rss: the largest of the reports', each process keyed by its host label."""
    one, two = rich("a"), rich("b")
    two["peak_rss"] = {"max": 900, "by_process": {"main": 900}}
    merged = _report.merge([_report.loads(json.dumps(one)), _report.loads(json.dumps(two))])
    want = {"max": 900, "by_process": {"a/gw0": 300, "a/gw1": 200, "b/main": 900}}
    assert merged.extra["peak_rss"] == want
    _report.merge_files([write(tmp_path, "a.json", one), write(tmp_path, "b.json", two)], tmp_path / "m.json")
    again = _report.load(tmp_path / "m.json")
    assert again.extra["peak_rss"] == want
    # a merged report merged again keeps its (already labelled) keys
    three = rich("c")
    del three["peak_rss"]
    twice = _report.merge([again, _report.loads(json.dumps(three))])
    assert twice.extra["peak_rss"] == want
    del one["peak_rss"], two["peak_rss"]
    assert "peak_rss" not in _report.merge([_report.loads(json.dumps(one)), _report.loads(json.dumps(two))]).extra


def test_merge_files_refuses_one_label_twice(tmp_path: Path) -> None:
    a, b = write(tmp_path, "a.json", rich("same")), write(tmp_path, "b.json", rich("same", drift=True))
    with pytest.raises(_report.ReportError, match="labelled 'same'"):
        _report.merge_files([a, b], tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


def same_page(a: str, b: str) -> bool:
    """Two pages are the same: equal text around the data, equal data (a duration written 1 in the report is
    1 in one payload and 1.0 in the other: the same number for the page's script)."""
    def split(page: str) -> tuple[str, str, Any]:
        head, _, rest = page.partition('id="report-data">')
        data, _, tail = rest.partition("</script>")
        return head, tail, json.loads(data)

    return split(a) == split(b)


def test_the_html_page_is_the_loaded_reports_page(tmp_path: Path, chunk: None) -> None:
    old = write(tmp_path, "old.json", rich("a"))
    new = write(tmp_path, "new.json", rich("b", drift=True))
    want = _report.render_html(_report.load(new), old=_report.load(old), source="n", old_source="o")
    got = _report.render_html(_report.scan(new, items=True, index=True), old=_report.scan(old, index=True),
                              source="n", old_source="o")
    assert same_page(got, want)
    assert same_page(_report.render_html(_report.scan(new, items=True)), _report.render_html(_report.load(new)))
    assert not same_page(got, _report.render_html(_report.load(old)))


def test_the_page_lists_a_bounded_number_of_items_and_every_failure(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_ITEMS the page keeps the first items and every failing one, and says how many it left out."""
    monkeypatch.setattr(_html, "MAX_ITEMS", 20)
    monkeypatch.setattr(_html, "MAX_FAILURES", 4)
    doc = rich("b", drift=True)
    path = write(tmp_path, "r.json", doc)
    for rep in (_report.load(path), _report.scan(path, items=True)):
        payload = _html._payload_scan(rep, None) if isinstance(rep, _report.ReportScan) else _html._payload(rep, None)
        failing = [r["nodeid"] for r in doc["results"] if r["outcome"] in _report.BAD]
        assert len(failing) > 4
        ids = payload["items"]["id"]
        assert ids[:16] == [r["nodeid"] for r in doc["results"][:16]]  # 20 less the 4 failures shown
        assert [ids[f[0]] for f in payload["failures"]] == failing[:4]
        assert payload["failuresLeftOut"] == len(failing) - 4
        assert payload["itemsLeftOut"] == len(doc["results"]) - len(ids)
        assert payload["summary"]["total"] == len(doc["results"])  # the counts still cover every item


def test_a_stream_that_gives_up_midway_starts_again_from_the_whole_file(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """When the stream refuses after some results (here: forced at the 5th), the whole-file reader decides and
    nothing the stream counted is counted twice."""
    path = write(tmp_path, "r.json", rich("b", drift=True))
    real = _scan._result_ok

    def refuse_fifth(element: Any, i: int, escapes: bool) -> None:
        if i == 5:
            raise _scan._Refuse
        real(element, i, escapes)

    monkeypatch.setattr(_scan, "_result_ok", refuse_fifth)
    rep, s = _report.load(path), _report.scan(path, items=True, index=True)
    assert s.loaded is not None
    assert s.total == len(rep.results)
    assert s.tally() == rep.tally()
    assert s.matrix == _report.build_matrix(rep.results)
    assert len(s.ids) == len(s.signatures) == s.total
    other = write(tmp_path, "o.json", rich("a"))
    count = _report.merge_files([other, path], tmp_path / "m.json")
    assert count == len(_report.load(tmp_path / "m.json").results) == len(rep.results) * 2


@pytest.mark.parametrize("where", ["first", "last"])
@pytest.mark.parametrize("damage", [
    ("duration", -1.0, "is below the minimum"),
    ("duration", 2e9, "above the maximum"),
    ("outcome", "great", "is not one of"),
    ("observed", {"leaves": [{"dtype": "float32", "shape": [3], "values": [1.0]}]}, "holds 1 values"),
    ("observed", {"leaves": [{"dtype": "float32", "shape": [1], "values": [[1.0, 2.0]]}]}, "must be a number"),
    ("extra", json.loads("[" * 40 + "]" * 40), "nested deeper than 32 levels"),
    ("extra", "\ud800", "lone UTF-16 surrogate"),
])
def test_a_bad_result_anywhere_is_refused_as_load_refuses_it(tmp_path: Path, chunk: None, where: str,
                                                             damage: tuple[str, Any, str]) -> None:
    doc = rich("h")
    key, value, fragment = damage
    doc["results"][0 if where == "first" else -1][key] = value
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(_report.ReportError) as loaded:
        _report.load(path)
    assert fragment in str(loaded.value)
    for read in (lambda: _report.scan(path), lambda: _report.drift_files(path, path),
                 lambda: _report.merge_files([path], tmp_path / "m.json")):
        with pytest.raises(_report.ReportError) as streamed:
            read()
        assert str(streamed.value) == str(loaded.value)


@pytest.mark.parametrize("text", [
    '{"format": "jaxpat-report", "format": "jaxpat-report"}',  # a key twice at the top level
    '{"results": [1,]}',
    '{"results": []} trailing',
    "[]",
    "",
    '{"results": [{"nodeid": "x", "outcome": "passed", "duration": 1e999}]}',
    '{"results": [{"nodeid": "x", "outcome": "passed", "duration": 1, "duration": 2}]}',
    '{"results": [{"nodeid": "x", "outcome": "passed", "duration": ' + "9" * 5000 + "}]}",
])
def test_malformed_files_are_refused_with_loads_message(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(_report.ReportError) as loaded:
        _report.load(path)
    with pytest.raises(_report.ReportError) as streamed:
        _report.scan(path)
    assert str(streamed.value) == str(loaded.value)


def test_an_unreadable_file_is_a_report_error(tmp_path: Path) -> None:
    with pytest.raises(_report.ReportError, match="cannot read"):
        _report.scan(tmp_path / "missing.json")
    (tmp_path / "bin.json").write_bytes(b'{"a": "\xff"}')
    with pytest.raises(_report.ReportError, match="not a text file"):
        _report.scan(tmp_path / "bin.json")


def test_scanning_keeps_a_few_bytes_per_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory bound: a scan keeps 8 bytes per passing result (its duration) besides the claims (every 25th
    result has one here: ~40 B per result) and the matrix; about 200 more with the diff index; its peak is that
    plus the reading buffer. Loading the same file keeps over 1.5 KB per result (the counter-check)."""
    monkeypatch.setattr(_scan, "CHUNK", 1 << 16)
    n = 4000
    path = write(tmp_path, "r.json", rich("h", n=n, per_pattern=200), compact=True)

    def memory(read: Any) -> tuple[float, float]:
        tracemalloc.start()
        try:
            kept = read()
            current, peak = tracemalloc.get_traced_memory()
            del kept
            return current / n, peak / n
        finally:
            tracemalloc.stop()

    plain, plain_peak = memory(lambda: _report.scan(path))
    index, _ = memory(lambda: _report.scan(path, index=True))
    loaded, _ = memory(lambda: _report.load(path))
    assert plain < 250, plain
    assert plain_peak < 500, plain_peak  # 64 KiB pieces: ~100 B per result here, and less the larger the file
    assert index < 500, index
    assert loaded > 1500, loaded


def test_the_cli_reads_streams(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """``jaxpat report`` show/diff/merge/html print what the loaded report gives."""
    monkeypatch.setenv("COLUMNS", "100")  # the width `report show` draws at, whatever terminal runs the suite
    old = write(tmp_path, "old.json", rich("a"))
    new = write(tmp_path, "new.json", rich("b", drift=True))
    assert main(["report", "show", str(new), "--failures"]) == 1
    out = capsys.readouterr().out
    rep = _report.load(new)
    for line in _report.matrix_lines(rep.results, width=100, style=_report.Style(unicode=True)):
        assert line in out
    assert f"{len(rep.failures())} failing items" in out
    assert main(["report", "diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert out == "\n".join(_report.format_drift(_report.drift(_report.load(old), rep), str(old), str(new))) + "\n"
    assert main(["report", "merge", str(old), str(new), "-o", str(tmp_path / "m.json")]) == 0
    assert f"({2 * len(rep.results)} results)" in capsys.readouterr().out
    assert main(["report", "html", str(new), "--diff", str(old), "-o", str(tmp_path / "p.html")]) == 0
    page = (tmp_path / "p.html").read_text(encoding="utf-8")
    assert same_page(page, _report.render_html(rep, old=_report.load(old), source=str(new), old_source=str(old)))


# ---------------------------------------------------------------------------
# merge_files copies an element's own text when that gives what re-encoding the loaded result gives
# ---------------------------------------------------------------------------

#: Result elements as a file may spell them, each paired with whether its text can be copied as it stands.
#: The oracle is merge_reports + write_report on the loaded reports (they re-encode every result).
ODD_ELEMENTS = [
    # escapes, non-ASCII text as UTF-8 and as \u escapes, a surrogate pair, quotes and brackets inside strings,
    # nested containers the schema leaves free, numbers spelled in several ways
    (r'{"nodeid": "jaxpat::esc::c0[i-cpu:0-jit]", "outcome": "passed", "duration": 1.50E0, "compiles": 1,'
     r' "message": "quote \" ] } [ { \\ \u00e9 é \ud83d\ude00 \/ \n", "extra": {"nested": ["[", "]",'
     r' "{\"a\": 1}", {"k": "\"}"}], "n": -0, "big": 12345678901234567890}, "observed": {"tree": "[*]",'
     r' "leaves": [{"dtype": "float32", "shape": [2], "digest": "d", "values": [1e0, -0.0]}]}}', True),
    # NaN and infinities, which the reader turns into the strings "nan", "inf", "-inf"
    ('{"nodeid": "jaxpat::nan::c0[i-cpu:0-jit]", "outcome": "passed", "duration": 1, "message": null,'
     ' "observed": {"leaves": [{"dtype": "float32", "shape": [3], "digest": "n",'
     ' "values": [NaN, Infinity, -Infinity]}]}}', False),
    # a null member the model leaves out, one it keeps (not one of its fields), "null" inside a string
    ('{"nodeid": "jaxpat::nulls::c0[i-cpu:0-jit]", "outcome": "failed", "duration": 0, "message": "null deref",'
     ' "pattern": null, "observed": {"error": {"type": "E", "message": ""}}}', False),
    ('{"nodeid": "jaxpat::nulls::c1[i-cpu:0-jit]", "outcome": "passed", "duration": 0, "message": null,'
     ' "distribution": null}', False),
    ('{"nodeid": "jaxpat::nulls::c2[i-cpu:0-jit]", "outcome": "failed", "duration": 0, "message": "null"}', False),
    # no message (the model writes message: null)
    ('{"nodeid": "jaxpat::bare::c0[i-cpu:0-jit]", "outcome": "passed", "duration": 2}', False),
    # observations the model writes otherwise: empty leaves without a tree (left out), a tree without leaves
    # (leaves: []), an error with another member (dropped), another member (kept)
    ('{"nodeid": "jaxpat::obs::c0[i-cpu:0-jit]", "outcome": "passed", "duration": 0, "message": null,'
     ' "observed": {"leaves": []}}', False),
    ('{"nodeid": "jaxpat::obs::c1[i-cpu:0-jit]", "outcome": "passed", "duration": 0, "message": null,'
     ' "observed": {"tree": "*"}}', False),
    ('{"nodeid": "jaxpat::obs::c2[i-cpu:0-jit]", "outcome": "error", "duration": 0, "message": "m",'
     ' "observed": {"error": {"type": "E", "message": "m", "note": 1}}}', False),
    ('{"nodeid": "jaxpat::obs::c3[i-cpu:0-jit]", "outcome": "passed", "duration": 0, "message": null,'
     ' "observed": {"tree": "*", "leaves": [], "x": [1, {"y": null}]}}', False),
    ('{"nodeid": "jaxpat::obs::c4[i-cpu:0-jit]", "outcome": "passed", "duration": 0, "message": null,'
     ' "observed": {}}', True),
    ('{"nodeid": "jaxpat::obs::c5[i-cpu:0-jit]", "outcome": "passed", "duration": 0, "message": null,'
     ' "observed": {"tree": "*", "leaves": []}}', True),
    # layout inside the element (white space before colons, tabs, line breaks)
    ('{ "nodeid" : "jaxpat::lay::c0[i-cpu:0-jit]",\n\t"outcome":"passed" ,\r\n "duration":1 , "message" : null }',
     True),
    # host labels: one of its own (kept), an empty one (the report's label)
    ('{"nodeid": "jaxpat::host::c0[i-cpu:0-jit]", "outcome": "passed", "duration": 0, "message": null,'
     ' "host": "elsewhere"}', True),
    ('{"nodeid": "jaxpat::host::c1[i-cpu:0-jit]", "outcome": "passed", "duration": 0, "message": null,'
     ' "host": ""}', False),
]


def with_elements(tmp_path: Path, name: str, host: str, elements: list[str], *, compact: bool) -> Path:
    """A rich() report with ``elements`` (JSON text, written as they stand) among its results."""
    doc = rich(host, n=30)
    doc["results"] = [f"\x00element{i}" for i in range(len(elements))] + doc["results"]
    text = json.dumps(doc, indent=None if compact else 1)
    for i, element in enumerate(elements):
        text = text.replace(json.dumps(f"\x00element{i}"), element, 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def merged_as_written(tmp_path: Path, paths: list[Path]) -> dict[str, Any]:
    """What merge_reports + write_report give for ``paths``, as plain JSON (``created`` left out)."""
    out = _report.write_report(_report.merge([_report.load(p) for p in paths]), tmp_path / "oracle.json")
    data = json.loads(out.read_text(encoding="utf-8"))
    del data["created"]
    return data


@pytest.mark.parametrize("compact", [False, True], ids=["indented", "one-line"])
def test_merge_files_writes_what_merge_and_write_report_write(tmp_path: Path, chunk: None, compact: bool,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Element by element, copied or re-encoded, the merged file holds the oracle's JSON values, is strict JSON
    (no NaN), loads, and has one result per line; the elements that can be copied are copied."""
    copied: list[tuple[str, bool]] = []
    real = _scan._verbatim

    def spy(el: dict[str, Any], text: str) -> bool:
        copied.append((el["nodeid"], real(el, text)))
        return copied[-1][1]

    monkeypatch.setattr(_scan, "_verbatim", spy)
    a = with_elements(tmp_path, "a.json", "a", [e for e, _ in ODD_ELEMENTS], compact=compact)
    b = write(tmp_path, "b.json", rich("b", drift=True, hosts=("x", "y")), compact=compact)
    count = _report.merge_files([a, b], tmp_path / "m.json")
    text = (tmp_path / "m.json").read_text(encoding="utf-8")
    got = json.loads(text, parse_constant=lambda name: pytest.fail(f"the merged file spells {name}"))
    del got["created"]
    assert got == merged_as_written(tmp_path, [a, b])
    assert count == len(got["results"])
    lines = text.splitlines()
    first = lines.index(' "results": [') + 1
    last = first + len(got["results"])
    assert lines[last] in (" ]", " ],")
    assert [json.loads(line.rstrip(",")) for line in lines[first:last]] == got["results"]  # one result per line
    loaded = _report.load(tmp_path / "m.json")
    assert dataclasses.replace(loaded, created="") == dataclasses.replace(
        _report.merge([_report.load(a), _report.load(b)]), created="")
    verdicts = dict(copied)
    for element, expected in ODD_ELEMENTS:
        nodeid = json.loads(element, parse_constant=str)["nodeid"]
        assert verdicts.get(nodeid, False) is expected, element  # an empty host label is not looked at
    assert sum(verdicts.values()) > len(verdicts) // 2  # the plain elements of rich() are copied


def test_copying_every_element_would_be_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The counter-check of the test above: an element copied that should have been re-encoded gives other JSON
    values (or NaN), which the comparison with the oracle sees."""
    a = with_elements(tmp_path, "a.json", "a", [e for e, ok in ODD_ELEMENTS if not ok], compact=True)
    oracle = merged_as_written(tmp_path, [a])
    monkeypatch.setattr(_scan, "_verbatim", lambda el, text: True)
    _report.merge_files([a], tmp_path / "m.json")
    got = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    del got["created"]
    differ = {x["nodeid"] for x, y in zip(got["results"], oracle["results"], strict=True) if x != y}
    # the others are re-encoded only for safety's sake (a null the model keeps, "null" in a string, an
    # observation's own member) or never reach the copy (an empty host label)
    assert differ == {"jaxpat::nulls::c0[i-cpu:0-jit]", "jaxpat::nan::c0[i-cpu:0-jit]",
                      "jaxpat::bare::c0[i-cpu:0-jit]", "jaxpat::obs::c0[i-cpu:0-jit]", "jaxpat::obs::c1[i-cpu:0-jit]",
                      "jaxpat::obs::c2[i-cpu:0-jit]"}


@pytest.mark.parametrize("element", [
    '{"nodeid": "x", "outcome": "passed", "duration": 1e400, "message": null}',
    '{"nodeid": "x", "outcome": "passed", "duration": NaN, "message": null}',
    '{"nodeid": "x", "outcome": "passed", "duration": 1, "message": null, "outcome": "failed"}',
    '{"nodeid": "x", "outcome": "passed", "duration": 1, "message": null, "observed": {"leaves": [{"dtype": "f",'
    ' "shape": [1], "digest": "d", "values": [1], "values": [2]}]}}',
    '{"nodeid": "x", "outcome": "passed", "duration": 1, "message": "\\ud800"}',
    '{"nodeid": "x", "outcome": "passed", "duration": 1, "message": null, "extra": [1e400]}',
])
def test_merge_files_refuses_an_element_as_load_does(tmp_path: Path, chunk: None, element: str) -> None:
    bad = with_elements(tmp_path, "bad.json", "a", [element], compact=True)
    good = write(tmp_path, "good.json", rich("b"))
    with pytest.raises(_report.ReportError) as loaded:
        _report.load(bad)
    with pytest.raises(_report.ReportError) as streamed:
        _report.merge_files([good, bad], tmp_path / "m.json")
    assert str(streamed.value) == str(loaded.value)
    assert not (tmp_path / "m.json").exists()


def test_the_diff_digest_tells_values_apart_and_not_their_copies() -> None:
    """``_signature`` (what drift_files compares before reading an item again): equal for equal values read
    separately (so unchanged items are not read again), different for values JSON tells apart -- 1, 1.0, true
    and "1", a message and none, another leaf value or an extra member."""
    base = ('{"nodeid": "n", "outcome": "passed", "duration": 1, "message": "ü → x", "compiles": 1, "observed":'
            ' {"tree": "*", "leaves": [{"dtype": "float32", "shape": [3], "digest": "d",'
            ' "values": [%s, "nan", "a"]}]}}')
    dec = json.JSONDecoder(parse_constant=NON_FINITE.__getitem__)

    def sig(text: str) -> bytes:
        return _scan._signature(dec.decode(text))

    assert sig(base % "1") == sig(base % "1")  # two parses: other objects, the same values
    assert sig(base % "1") == sig((base % "1").replace('"nan"', "NaN"))  # the reader's "nan" either way
    variants = [base % v for v in ("1", "1.0", "true", '"1"', "2")]
    variants += [(base % "1").replace('"message": "ü → x"', '"message": null'),
                 (base % "1").replace('"compiles": 1', '"compiles": 2'),
                 (base % "1").replace('"tree": "*",', '"tree": "*", "x": 0,')]
    assert len({sig(v) for v in variants}) == len(variants)
