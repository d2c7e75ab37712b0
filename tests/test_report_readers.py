"""Report readers refuse what they cannot show (one ReportError with the JSON path, exit 3), and print safely."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

from jaxpat import report as _report
from jaxpat._cli import main

A = "jaxpat::scan-cumsum::five[reference.lax_scan-cpu:0-jit]"
B = "jaxpat::scan-cumsum::five[reference.lax_scan-cpu:0-eager]"


def make(host: str = "h", *, outcome: str = "failed", message: str | None = "boom") -> dict[str, Any]:
    rep = _report.new_report({"host": host, "jax": "0.10.2", "devices": [{"id": "cpu:0", "platform": "cpu",
                                                                            "kind": "cpu"}]}, ["test"])
    rep["status"] = "complete"
    for nodeid, out in ((A, outcome), (B, "passed")):
        rep["results"].append({
            "nodeid": nodeid, "kind": "case", "pattern": "scan-cumsum", "case": "five", "platform": "cpu",
            "transform": nodeid.rsplit("-", 1)[1].rstrip("]"), "outcome": out, "duration": 0.01,
            "message": None if out == "passed" else message,
            "observed": {"leaves": [{"dtype": "float32", "shape": [2], "digest": "ab", "values": [1.0, 2.0]}]}})
    rep["claims"].append({"pattern": "scan-cumsum", "implementation": "reference.lax_scan", "claim": "memory",
                          "claimed": {"forward": "constant"}, "verdict": "held",
                          "measured": {"param": "xs", "sizes": [100, 1000],
                                       "forward": {"temp_bytes": [10, 10], "growth": "constant"}}})
    _report.summarize(rep)
    return rep


def write_text(tmp_path: Path, text: str, name: str = "r.json") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused_everywhere(path: Path, fragment: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Every reader refuses ``path`` with exit 3 and a message holding ``fragment``."""
    with pytest.raises(_report.ReportError) as info:
        _report.load(path)
    assert fragment in str(info.value)
    good = _report.write_report(make("other"), tmp_path / "good.json")
    for argv in (["report", "show", str(path)], ["report", "diff", str(good), str(path)],
                 ["report", "merge", str(good), str(path), "-o", str(tmp_path / "m.json")],
                 ["report", "html", str(path), "-o", str(tmp_path / "p.html")]):
        assert main(argv) == 3, argv
        err = capsys.readouterr().err
        assert fragment in err, (argv, err)
        assert "Traceback" not in err


# -- bounds -------------------------------------------------------------------------------------------------------


def test_deep_nesting_is_refused_with_its_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Nesting past the bound (in a member the schema leaves free) is refused where it happens."""
    data = make()
    data["results"][0]["extra_member"] = json.loads("[" * 40 + "]" * 40)
    path = write_text(tmp_path, json.dumps(data))
    refused_everywhere(path, f"$.results[0].extra_member{'[0]' * (_report.MAX_DEPTH - 3)}", capsys, tmp_path)
    with pytest.raises(_report.ReportError, match="nested deeper than 32 levels"):
        _report.load(path)


def test_nesting_too_deep_for_the_json_parser_is_a_report_error(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """100,000 levels (a RecursionError inside json) become the same ReportError, with the path found by a scan."""
    text = json.dumps(make())
    text = text[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path = write_text(tmp_path, text)
    refused_everywhere(path, "$.deep" + "[0]" * (_report.MAX_DEPTH - 1), capsys, tmp_path)


@pytest.mark.parametrize("digits", [65, 4300, 5000])
def test_a_long_integer_is_refused_with_its_path(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 digits: int) -> None:
    """Past 64 digits (json's own limit is 4300, with a bare ValueError) the integer's member is named."""
    text = json.dumps(make()).replace('"count": 0', '"count": -' + "7" * digits)
    path = write_text(tmp_path, text)
    refused_everywhere(path, f"$.compiles.count: an integer of {digits} digits (at most 64)", capsys, tmp_path)
    ok = json.dumps(make()).replace('"count": 0', '"count": ' + "7" * 64)
    assert _report.load(write_text(tmp_path, ok, "ok.json")).compiles["count"] == int("7" * 64)


def test_a_number_out_of_float_range_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = json.dumps(make()).replace('"duration": 0.01', '"duration": 1e999', 1)
    refused_everywhere(write_text(tmp_path, text), "$.results[0].duration: a number out of a float's range",
                       capsys, tmp_path)


def test_a_duplicate_key_is_refused_with_its_object(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Which of two equal keys wins differs between JSON parsers: a report must not say two things."""
    text = json.dumps(make()).replace('"outcome": "failed"', '"outcome": "failed", "outcome": "passed"', 1)
    refused_everywhere(write_text(tmp_path, text), "$.results[0]: the member 'outcome' appears more than once",
                       capsys, tmp_path)


def test_a_lone_surrogate_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = json.dumps(make()).replace('"boom"', '"bo\\ud800om"', 1)
    refused_everywhere(write_text(tmp_path, text), "$.results[0].message: a string with a lone UTF-16 surrogate",
                       capsys, tmp_path)


@pytest.mark.parametrize(("change", "fragment"), [
    (lambda d: d["results"][0]["observed"]["leaves"][0].update(values=[1.0, 2.0, 3.0]),
     "$.results[0].observed.leaves[0].values: holds 3 values; the shape [2] has 2 elements"),
    (lambda d: d["results"][0]["observed"]["leaves"][0].update(values=[1.0, [1, 2]]),
     "$.results[0].observed.leaves[0].values[1]: must be a number, boolean or string"),
    (lambda d: d["results"][0]["observed"]["leaves"][0].update(shape=[1] * 65, values=[1.0]),
     "$.results[0].observed.leaves[0].shape: has 65 dimensions"),
    (lambda d: d["results"][0]["observed"]["leaves"][0].update(dtype="complex64", values=[1.0, 2.0]),
     "$.results[0].observed.leaves[0].values[0]: must be an [re, im] pair"),
    (lambda d: d["results"][0]["observed"]["leaves"][0].pop("shape"),
     "$.results[0].observed.leaves[0]: `values` without a `shape`"),
    (lambda d: d["claims"][0]["measured"].update(sizes=[100, 0]),
     "$.claims[0].measured.sizes: must be a list of numbers greater than 0"),
    (lambda d: d["claims"][0]["measured"].update(sizes="many"),
     "$.claims[0].measured.sizes: must be a list of numbers greater than 0"),
    (lambda d: d["claims"][0].update(claimed={"at_least": "2"}), "$.claims[0].claimed.at_least: must be a number"),
    (lambda d: d["results"][0].update(duration=1e300), "$.results[0].duration: 1e+300 is above the maximum"),
    (lambda d: d["environment"]["devices"].append({"id": "cpu:0", "platform": "cpu", "kind": "cpu"}),
     "$.environment.devices: the device 'cpu:0' is listed twice"),
    (lambda d: d["environment"].update(hosts=[{"host": "a"}, {"host": "a"}]),
     "$.environment.hosts: two hosts are labelled 'a'"),
])
def test_model_rules_the_schema_cannot_say(tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Any,
                                           fragment: str) -> None:
    """Rules beyond the schema (each one a reader would otherwise trip on) are refused like schema errors."""
    data = make()
    assert _report.validate(data) == []
    change(data)
    assert any(fragment in p for p in _report.validate(data)), _report.validate(data)
    refused_everywhere(write_text(tmp_path, json.dumps(data)), fragment, capsys, tmp_path)


def test_nan_and_infinity_read_as_the_reports_own_strings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """NaN where any value may go reads as "nan" (and every view works); where a number must go, a clear error."""
    data = make()
    data["claims"][0]["measured"]["speedup"] = float("nan")
    data["claims"][0]["measured"]["seconds"] = float("inf")
    text = json.dumps(data)  # Python writes NaN and Infinity by default
    assert "NaN" in text
    assert "Infinity" in text
    rep = _report.load(write_text(tmp_path, text))
    assert rep.claims[0].measured["speedup"] == "nan"
    assert rep.claims[0].measured["seconds"] == "inf"
    bad = json.dumps(make()).replace('"duration": 0.01', '"duration": NaN', 1)
    refused_everywhere(write_text(tmp_path, bad, "bad.json"), "$.results[0].duration: must be number, not string",
                       capsys, tmp_path)


def test_the_writer_writes_strict_json(tmp_path: Path) -> None:
    """A NaN or infinity handed to the writer is written as "nan"/"inf", never as bare NaN."""
    data = make()
    data["claims"][0]["measured"]["ratio"] = float("nan")
    data["claims"][0]["measured"]["top"] = [float("-inf")]
    for compact in (False, True):
        path = _report.write_report(data, tmp_path / f"w{compact}.json", compact=compact)
        strict = json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"non-strict JSON: {c}"))
        assert strict["claims"][0]["measured"]["ratio"] == "nan"
        assert strict["claims"][0]["measured"]["top"] == ["-inf"]
    assert math.isnan(data["claims"][0]["measured"]["ratio"])  # the caller's data is left alone


def test_a_nan_in_a_number_member_is_a_writer_bug(tmp_path: Path) -> None:
    data = make()
    data["results"][0]["duration"] = float("nan")
    with pytest.raises(ValueError, match=r"\$\.results\[0\]\.duration: must be number"):
        _report.write_report(data, tmp_path / "r.json")


# -- terminal safety ----------------------------------------------------------------------------------------------

EVIL = "wrong:\x1b[2J\x1b]0;pwned\x07 \r\u202eevil\x9b31m"


def test_printable_escapes_every_control_character() -> None:
    out = _report.printable(EVIL)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or c == "\u202e" for c in out), repr(out)
    assert out == "wrong:\\x1b[2J\\x1b]0;pwned\\x07 \\x0d\\u202eevil\\x9b31m"
    assert _report.printable("a\nb\tc", newlines=True) == "a\nb\tc"
    assert _report.printable("a\nb") == "a\\x0ab"
    assert _report.printable("déjà vu ✓ 数") == "déjà vu ✓ 数"
    # the check can fail: without escaping, the text holds the escape character
    assert "\x1b" in EVIL


def test_show_and_diff_print_no_control_characters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A message, pattern id and host label with terminal escapes are printed as visible escapes, by every view."""
    data = make(host="box\x1b]0;x\x07", message=EVIL + "\nsecond line")
    data["results"][0]["pattern"] = "scan\x1b[31m-red"
    new = _report.write_report(data, tmp_path / "new.json")
    old = _report.write_report(make(outcome="passed"), tmp_path / "old.json")
    for argv in (["report", "show", str(new)], ["report", "show", str(new), "--failures"],
                 ["report", "diff", str(old), str(new)], ["report", "diff", str(new), str(old)]):
        main(argv)
        out = capsys.readouterr().out
        assert [c for c in ("\x1b", "\r", "\x07", "\u202e", "\x9b") if c in out] == [], argv
        assert "\\x1b" in out, argv


def test_long_messages_are_clipped_unless_full(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    words = " ".join(f"word{i}" for i in range(3000))  # ~26,000 characters
    new = _report.write_report(make(message="head line\n" + words), tmp_path / "new.json")
    old = _report.write_report(make(message="head line\nother"), tmp_path / "old.json")
    main(["report", "show", str(new), "--failures"])
    out = capsys.readouterr().out
    assert "head line" in out
    assert "word2999" not in out
    assert "more characters; --full shows all of it" in out
    assert len(out) < 6000
    main(["report", "show", str(new), "--failures", "--full"])
    assert "word2999" in capsys.readouterr().out
    main(["report", "diff", str(old), str(new)])
    out = capsys.readouterr().out
    assert "word2999" not in out
    assert "--full shows all of it" in out
    assert len(out) < 6000
    main(["report", "diff", str(old), str(new), "--full"])
    assert "word2999" in capsys.readouterr().out


def test_clip_cuts_at_a_word_boundary() -> None:
    text = "alpha beta gamma delta"
    assert _report.clip(text, 100) == text
    clipped = _report.clip(text, 13)
    assert clipped.startswith("alpha beta\n")  # not "alpha beta ga"
    assert "12 more characters" in clipped


# -- exit statuses ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "outcome", "code"), [
    ("complete", "passed", 0), ("complete", "failed", 1), ("running", "passed", 1), ("incomplete", "passed", 1),
    ("interrupted", "passed", 1),
])
def test_show_exits_nonzero_for_unfinished_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str], status: str,
                                                   outcome: str, code: int) -> None:
    data = make(outcome=outcome, message=None if outcome == "passed" else "boom")
    data["status"] = status
    path = _report.write_report(data, tmp_path / "r.json")
    assert main(["report", "show", str(path)]) == code
    out = capsys.readouterr().out
    assert f"status: {status}" in out
    assert ("did not finish" in out) == (status != "complete")
    assert main(["report", "show", str(path), "--format", "json"]) == code


def test_output_that_is_not_a_regular_file_is_a_usage_error(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = _report.write_report(make(), tmp_path / "r.json")
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    targets = [str(tmp_path / "folder"), str(tmp_path / "file" / "under-a-file.html")]
    if Path("/dev/null").exists():
        targets.append("/dev/null")
    for target in targets:
        assert _report.check_output_path(target) is not None
        for argv in (["report", "html", str(path), "-o", target], ["report", "merge", str(path), "-o", target]):
            assert main(argv) == 2, argv
            err = capsys.readouterr().err
            assert target in err
            assert "Traceback" not in err
    assert _report.check_output_path(tmp_path / "new" / "page.html") is None
    assert _report.check_output_path(tmp_path / "file") is None  # an existing file is replaced


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc, where no file can be created")
def test_an_unwritable_output_is_exit_3_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _report.write_report(make(), tmp_path / "r.json")
    for argv in (["report", "html", str(path), "-o", "/proc/jaxpat-page.html"],
                 ["report", "merge", str(path), "-o", "/proc/jaxpat/merged.json"]):
        assert main(argv) == 3, argv
        err = capsys.readouterr().err
        assert "cannot write /proc/jaxpat" in err
        assert "Traceback" not in err
