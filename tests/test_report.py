"""Reports: written atomically, validated on reading, shown, merged across hosts and diffed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jaxpat import report as _report
from jaxpat._cli import main


def make(host: str, outcomes: dict[str, str]) -> dict[str, Any]:
    rep = _report.new_report({"host": host, "jax": "0.10.2", "devices": [{"id": "cpu:0", "platform": "cpu",
                                                                            "kind": "cpu"}]}, ["test"])
    rep["status"] = "complete"
    for nodeid, outcome in outcomes.items():
        pattern = nodeid.split("::")[1]
        rep["results"].append({"nodeid": nodeid, "kind": "case", "pattern": pattern, "platform": "cpu",
                               "transform": nodeid.rsplit("-", 1)[1].rstrip("]"), "outcome": outcome,
                               "duration": 0.01, "message": None if outcome == "passed" else "boom"})
    return rep


A = "jaxpat::scan-cumsum::five[reference.lax_scan-cpu:0-jit]"
B = "jaxpat::scan-cumsum::five[reference.lax_scan-cpu:0-eager]"
C = "jaxpat::vmap-square::two[reference.vmap-cpu:0-vmap]"


def test_write_is_atomic_and_valid(tmp_path: Path) -> None:
    """A written report reads back, validates, and leaves no temporary file behind."""
    path = _report.write_report(make("h", {A: "passed", B: "failed"}), tmp_path / "r.json")
    data = _report.load(path)
    assert data.summary["passed"] == 1
    assert data.summary["failed"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_compact_write_reads_back_the_same(tmp_path: Path) -> None:
    """An interim (compact, one-line) report holds exactly what the indented one holds."""
    rep = make("h", {A: "passed", B: "failed"})
    compact = _report.write_report(rep, tmp_path / "c.json", compact=True)
    indented = _report.write_report(rep, tmp_path / "i.json")
    assert len(compact.read_text().splitlines()) == 1 < len(indented.read_text().splitlines())
    assert _report.load(compact) == _report.load(indented)


def test_interim_rewrites_back_off_when_writing_is_slow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rewrite that took t seconds waits max(WRITE_INTERVAL, WRITE_COST_FACTOR * t) before the next one."""
    import time
    from types import SimpleNamespace

    from jaxpat.conformance import _session

    config = SimpleNamespace(getoption=lambda name: str(tmp_path / "r.json") if name == "jaxpat_report" else None,
                             option=SimpleNamespace(dist="no"))
    session = _session.JaxpatSession(config)  # type: ignore[arg-type]
    session._write("running")
    assert session.write_gap == _session.WRITE_INTERVAL  # a small report is fast to write
    written = _report.write_report
    monkeypatch.setattr(_report, "write_report", lambda *a, **k: (time.sleep(0.25), written(*a, **k))[1])
    session._write("running")
    assert session.write_gap >= _session.WRITE_COST_FACTOR * 0.25 > _session.WRITE_INTERVAL
    assert _report.load(tmp_path / "r.json").status == "running"


def test_write_matches_the_json_schema(tmp_path: Path) -> None:
    """The writer's output validates against report/report-schema.json."""
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(__file__).parents[1] / "report" / "report-schema.json").read_text())
    path = _report.write_report(make("h", {A: "passed"}), tmp_path / "r.json")
    jsonschema.validate(json.loads(path.read_text()), schema)


@pytest.mark.parametrize(("content", "fragment"), [
    ("{not json", "not valid JSON"),
    ('{"format": "something-else"}', "`format` must be"),
    ('{"format": "jaxpat-report", "version": 99}', "version` 99 is not supported"),
    ("[]", "top level must be an object"),
])
def test_invalid_reports_are_refused(tmp_path: Path, content: str, fragment: str) -> None:
    """Reading a file that is not a report of this version says what is wrong with it."""
    path = tmp_path / "r.json"
    path.write_text(content)
    with pytest.raises(_report.ReportError, match=fragment):
        _report.load(path)


def typed(host: str, outcomes: dict[str, str]) -> _report.Report:
    return _report.Report.from_dict(make(host, outcomes))


CRAFTED = [
    ("results", "not a list", "$.results: must be array"),
    ("results", [{"nodeid": 3, "outcome": "passed", "duration": 0}], "$.results[0].nodeid: must be string"),
    ("results", [{"nodeid": "x", "outcome": "won", "duration": 0}], "$.results[0].outcome: 'won' is not one of"),
    ("results", [{"nodeid": "x", "outcome": "passed"}], "$.results[0]: the member 'duration' is missing"),
    ("results", [{"nodeid": "x", "outcome": "passed", "duration": -1}], "below the minimum"),
    ("environment", {"devices": [{"id": "cpu:0"}]}, "$.environment.devices[0]: the member 'platform' is missing"),
    ("environment", {"hosts": "h"}, "$.environment.hosts: must be array"),
    ("claims", [{"pattern": "p"}], "$.claims[0]: the member 'implementation' is missing"),
    ("compiles", {"count": "many"}, "$.compiles.count: must be integer"),
    ("status", "done", "$.status: 'done' is not one of"),
    ("command", "jaxpat check", "$.command: must be array"),
]


@pytest.mark.parametrize(("member", "value", "fragment"), CRAFTED)
def test_crafted_reports_give_a_clear_error(tmp_path: Path, member: str, value: Any, fragment: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """A report that is valid JSON but breaks the schema is refused with the member at fault, by every reader."""
    data = make("h", {A: "failed"})
    data[member] = value
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    with pytest.raises(_report.ReportError, match=re.escape(fragment)):
        _report.load(path)
    for argv in (["report", "show", str(path)], ["report", "diff", str(path), str(path)],
                 ["report", "merge", str(path), "-o", str(tmp_path / "m.json")]):
        assert main(argv) == 3  # unreadable input
        assert fragment in capsys.readouterr().err


@pytest.mark.parametrize(("member", "value", "fragment"), CRAFTED)
def test_our_schema_checker_agrees_with_jsonschema(member: str, value: Any, fragment: str) -> None:
    """jaxpat._jsonschema and the jsonschema package (an independent oracle) give the same verdicts."""
    jsonschema = pytest.importorskip("jsonschema")
    good = make("h", {A: "failed"})
    bad = {**good, member: value}
    assert _report.validate(good) == []
    assert jsonschema.Draft202012Validator(_report.schema()).is_valid(good)
    assert _report.validate(bad) != []
    assert not jsonschema.Draft202012Validator(_report.schema()).is_valid(bad)


def test_the_writer_refuses_to_write_a_report_that_breaks_the_schema(tmp_path: Path) -> None:
    """A final report that does not match the schema is a writer bug: ValueError, nothing written."""
    data = make("h", {A: "passed"})
    data["results"][0]["outcome"] = "sort of"
    with pytest.raises(ValueError, match="does not match its schema"):
        _report.write_report(data, tmp_path / "r.json")
    assert not (tmp_path / "r.json").exists()


def test_merge_keeps_hosts_and_counts() -> None:
    """Merging reports from two hosts keeps every result with its host, and one column per host."""
    merged = _report.merge([typed("gpu-box", {A: "passed"}), typed("laptop", {A: "failed", C: "passed"})])
    assert merged.summary["total"] == 3
    assert {r.host for r in merged.results} == {"gpu-box", "laptop"}
    assert [h.host for h in merged.environments] == ["gpu-box", "laptop"]
    header = _report.matrix_lines(merged.results)[0]
    assert "gpu-box:cpu" in header
    assert "laptop:cpu" in header


def test_merge_refuses_two_hosts_with_the_same_label() -> None:
    """Two reports from hosts with the same label are not pooled: the merge says why and how to fix it."""
    with pytest.raises(_report.ReportError, match=r"labelled 'box'.*--label"):
        _report.merge([typed("box", {A: "passed"}), typed("box", {A: "failed"})])


def test_merging_merged_reports_keeps_hosts_and_diff_drops_nothing() -> None:
    """A merge of merges keeps one environment per host; diff of merged reports matches (host, node id)."""
    one = _report.merge([typed("a", {A: "passed"}), typed("b", {A: "passed"})])
    two = _report.merge([one, typed("c", {A: "failed"})])
    assert [h.host for h in two.environments] == ["a", "b", "c"]
    d = _report.drift(one, _report.merge([typed("a", {A: "passed"}), typed("b", {A: "failed"})]))
    assert [(i.host, i.nodeid) for i in d.items if i.category == "regression"] == [("b", A)]
    assert [i for i in d.items if i.category in ("added", "removed")] == []
    assert d.unchanged == 1  # a's item: matched by (host, node id), not pooled with b's


def test_round_trip_keeps_unknown_members() -> None:
    """Members this version does not model (from a newer writer) survive reading and writing."""
    data = make("h", {A: "passed"})
    data["results"][0]["observed"] = {"digest": "abc"}
    data["environment"]["accelerator_notes"] = "x"
    data["something_new"] = [1, 2]
    back = _report.Report.from_dict(data).to_dict()
    assert back["results"][0]["observed"] == {"digest": "abc"}
    assert back["environment"]["accelerator_notes"] == "x"
    assert back["something_new"] == [1, 2]


def test_diff_finds_regressions_and_fixes() -> None:
    """Diff sorts changes into regressions, fixes, added and removed."""
    old = typed("h", {A: "passed", B: "failed", C: "passed"})
    new = typed("h", {A: "failed", B: "passed", "jaxpat::x::y[p.q-cpu:0-jit]": "passed"})
    d = _report.drift(old, new)
    by = {k: [i.nodeid for i in d.items if i.category == k] for k in _report.CATEGORIES}
    assert by["regression"] == [A]
    assert by["fix"] == [B]
    assert by["removed"] == [C]
    assert by["added"] == ["jaxpat::x::y[p.q-cpu:0-jit]"]
    assert d.exit_status() == 1


def test_cli_show_merge_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`jaxpat report show/merge/diff` print the matrix, write the merge and exit 1 on regressions."""
    old = _report.write_report(make("h1", {A: "passed", C: "passed"}), tmp_path / "old.json")
    new = _report.write_report(make("h2", {A: "failed", C: "passed"}), tmp_path / "new.json")
    assert main(["report", "show", str(new), "--failures"]) == 1  # findings: the report has a failure
    out = capsys.readouterr().out
    assert "scan-cumsum" in out
    assert "1 failing item:" in out
    assert main(["report", "merge", str(old), str(new), "-o", str(tmp_path / "m.json")]) == 0
    assert _report.load(tmp_path / "m.json").summary["total"] == 4
    capsys.readouterr()
    assert main(["report", "diff", str(old), str(new)]) == 1
    assert "REGRESSION" in capsys.readouterr().out
    assert main(["report", "diff", str(old), str(old)]) == 0
    assert main(["report", "show", str(tmp_path / "missing.json")]) == 3


def test_check_command_runs_and_reports(tmp_path: Path) -> None:
    """`jaxpat check` runs the suite (cases and claims) in parallel and writes a complete report."""
    pytest.importorskip("jax")
    env = {**os.environ, "JAXPAT_BLOCK_PLUGINS": "example"}
    proc = subprocess.run(
        [sys.executable, "-m", "jaxpat", "check", "-n", "2", "--pattern", "loop-while-*", "--report", "r.json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "jaxpat conformance matrix" in proc.stdout
    report = _report.load(tmp_path / "r.json")
    assert report.status == "complete"
    assert report.summary["failed"] == 0
    assert report.summary["claims"]["held"] > 0
    assert report.compiles["count"] > 0
    assert {p["name"] for p in report.environment.plugins} == {"reference"}
    # the node-id codec agrees with what every real item recorded about itself (case and claim items)
    kinds = set()
    for r in report.results:
        own = r.to_dict()
        implied = _report.nodeid_record(r.nodeid)
        kinds.add(implied["kind"])
        assert {k: v for k, v in implied.items() if k in own} == {k: own[k] for k in implied if k in own}, r.nodeid
        assert _report.format_nodeid(_report.parse_nodeid(r.nodeid)) == r.nodeid
    assert kinds == {"case", "claim"}
