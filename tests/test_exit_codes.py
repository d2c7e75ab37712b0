"""One exit-status scheme for every subcommand (docs/cli.md), tested command by command.

0 success, 1 findings, 2 usage error (a filter that matches nothing included), 3 unreadable input,
4 internal error (``--traceback`` on every subcommand shows it), 5 drift only, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jaxpat import _cli
from jaxpat import report as _report
from jaxpat._cli import main
from jaxpat._util import Exit

EXAMPLES = Path(__file__).parent / "examples" / "conformance"


def leaf_parsers() -> dict[str, argparse.ArgumentParser]:
    """Every runnable subcommand ('list', 'report show', ...) and its parser."""
    parser, _ = _cli.build_parser()
    out: dict[str, argparse.ArgumentParser] = {}

    def walk(p: argparse.ArgumentParser, prefix: str) -> None:
        subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs and prefix:
            out[prefix] = p
        for action in subs:
            for name, sub in action.choices.items():
                walk(sub, f"{prefix} {name}".strip())

    walk(parser, "")
    return out


LEAVES = sorted(leaf_parsers())


def test_every_subcommand_is_covered() -> None:
    assert set(LEAVES) >= {"check", "claims", "list", "plugins", "report diff", "report html", "report merge",
                           "report show", "show", "validate"}


@pytest.mark.parametrize("command", LEAVES)
def test_help_has_description_examples_and_exit_codes(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command.split(), "--help"]) == 0
    out = capsys.readouterr().out
    parser = leaf_parsers()[command]
    assert len(parser.description or "") > 40, command
    assert "examples:" in out
    assert f"jaxpat {command}" in out
    assert "exit status" in out
    assert "--traceback" in out


@pytest.mark.parametrize("command", LEAVES)
def test_internal_error_is_4_and_traceback_shows_it(command: str, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A bug in any subcommand: exit 4 with one line naming --traceback; with --traceback, the traceback."""
    def boom(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("deliberate bug")

    _, runners = _cli.build_parser()
    top = command.split()[0]
    monkeypatch.setattr(runners[top].module, runners[top].function, boom, raising=False)
    argv = {"show": ["show", "scan-cumsum"], "report show": ["report", "show", "r.json"],
            "report html": ["report", "html", "r.json", "-o", "x.html"],
            "report merge": ["report", "merge", "r.json", "-o", "m.json"],
            "report diff": ["report", "diff", "r.json", "r.json"]}.get(command, command.split())
    assert main(argv) == 4
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: deliberate bug" in err
    assert "--traceback" in err
    assert main([*argv, "--traceback"]) == 4
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert "deliberate bug" in err


@pytest.mark.parametrize("command", LEAVES)
def test_unknown_option_is_usage_error(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command.split(), "--no-such-option"]) == 2


def report_file(tmp_path: Path, name: str, outcome: str) -> Path:
    rep = _report.new_report({"host": "h", "devices": []}, ["t"])
    rep["status"] = "complete"
    rep["results"].append({"nodeid": "jaxpat::p::c[i-cpu:0-jit]", "kind": "case", "pattern": "p",
                           "platform": "cpu", "transform": "jit", "outcome": outcome, "duration": 0.0,
                           "message": None if outcome == "passed" else "wrong result: x"})
    return _report.write_report(rep, tmp_path / name)


def test_report_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ok, bad = str(report_file(tmp_path, "ok.json", "passed")), str(report_file(tmp_path, "bad.json", "failed"))
    missing, notjson = str(tmp_path / "missing.json"), tmp_path / "not.json"
    notjson.write_text("{")
    table = [
        (["report", "show", ok], Exit.OK),
        (["report", "show", bad], Exit.FINDINGS),
        (["report", "show", missing], Exit.UNREADABLE),
        (["report", "show", str(notjson)], Exit.UNREADABLE),
        (["report", "merge", ok, "-o", str(tmp_path / "m.json")], Exit.OK),
        (["report", "merge", missing, "-o", str(tmp_path / "m2.json")], Exit.UNREADABLE),
        (["report", "diff", ok, ok], Exit.OK),
        (["report", "diff", ok, bad], Exit.FINDINGS),
        (["report", "diff", ok, missing], Exit.UNREADABLE),
        (["report", "html", ok, "-o", str(tmp_path / "r.html")], Exit.OK),
        (["report", "html", missing, "-o", str(tmp_path / "r2.html")], Exit.UNREADABLE),
        (["report", "html", ok, "--diff", missing, "-o", str(tmp_path / "r3.html")], Exit.UNREADABLE),
        (["report"], Exit.USAGE),
    ]
    for argv, want in table:
        assert main(argv) == want, argv
    capsys.readouterr()


def test_catalog_commands_table(tmp_path: Path, capsys: pytest.CaptureFixture[str], write_yaml: Any,
                                valid_text: str) -> None:
    good = str(write_yaml(valid_text, "good.yaml"))
    broken = str(write_yaml(valid_text.replace("family: scan", "family: scann", 1), "broken.yaml"))
    table = [
        (["list", "--catalog", good, "--no-plugins"], Exit.OK),
        (["list", "--catalog", good, "--no-plugins", "--family", "scna"], Exit.USAGE),
        (["list", "--catalog", good, "--no-plugins", "--family", "jit", "--tag", "loop-carry"], Exit.USAGE),
        (["list", "--catalog", broken, "--no-plugins"], Exit.FINDINGS),
        (["show", "scan-cumsum", "--catalog", good, "--no-plugins"], Exit.OK),
        (["show", "scan-cumsun", "--catalog", good, "--no-plugins"], Exit.FINDINGS),
        (["validate", good], Exit.OK),
        (["validate", broken], Exit.FINDINGS),
        (["validate", str(tmp_path / "missing.yaml")], Exit.UNREADABLE),
        (["nosuchcommand"], Exit.USAGE),
        ([], Exit.USAGE),
    ]
    for argv, want in table:
        assert main(argv) == want, argv
    capsys.readouterr()


def test_empty_filter_says_what_it_meant(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--family", "loop"]) == Exit.USAGE
    assert "did you mean 'loops'?" in capsys.readouterr().err


def test_plugins_table(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("JAXPAT_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert main(["plugins"]) == Exit.OK
    monkeypatch.setenv("JAXPAT_BLOCK_PLUGINS", "reference")
    assert main(["plugins", "--format", "json"]) == Exit.OK
    capsys.readouterr()


def jaxpat(cwd: Path, *argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {**os.environ, "JAXPAT_DISABLE_PLUGIN_AUTOLOAD": "1", "JAXPAT_BLOCK_PLUGINS": "reference",
            "PYTHONPATH": str(EXAMPLES) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "jaxpat", *argv], cwd=cwd, env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=600, check=False)


CHECK = ["check", "-n", "0", "--catalog", str(EXAMPLES / "tcat.yaml"), "--no-claims", "--no-cache",
         "--transform", "eager", "--report", "r.json"]


def test_check_table(tmp_path: Path) -> None:
    """check: 0 passed, 1 failures, 2 a glob that matches nothing (did-you-mean) or a bad option.

    A requested platform that is absent is a warning (0 still), unless --strict-platforms (1)."""
    # every item passed, one requested platform absent: 0, with the warning
    ok = jaxpat(tmp_path, *CHECK, "--load", "good", "--pattern", "t-cumsum", "--pattern", "t-raises",
                "--platforms", "cpu,tpu")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "WARNING: platform 'tpu' was requested but is absent" in ok.stdout
    failing = jaxpat(tmp_path, *CHECK, "--load", "broken", "--pattern", "t-cumsum", "--", "--junitxml", "j.xml")
    assert failing.returncode == 1, failing.stdout + failing.stderr
    import xml.etree.ElementTree as ET

    props = ET.parse(tmp_path / "j.xml").getroot().iter("property")
    records = [json.loads(p.get("value") or "") for p in props if p.get("name") == "jaxpat"]
    assert records
    assert all(r["pattern"] == "t-cumsum" for r in records)  # JSON, not a Python repr
    # each glob that matches nothing is named (one run: the filters are checked together, before any item)
    nomatch = jaxpat(tmp_path, *CHECK, "--load", "good", "--pattern", "t-cumsun", "--pattern", "nomatch-*")
    assert nomatch.returncode == 2, nomatch.stdout + nomatch.stderr
    assert "--pattern 't-cumsun' matches no pattern (did you mean 't-cumsum'?)" in nomatch.stderr
    assert "--pattern 'nomatch-*' matches no pattern" in nomatch.stderr
    bogus = jaxpat(tmp_path, *CHECK, "--", "--no-such-pytest-option")
    assert bogus.returncode == 2, bogus.stdout + bogus.stderr
    strict = jaxpat(tmp_path, *CHECK, "--load", "good", "--pattern", "t-cumsum", "--platforms", "tpu",
                    "--strict-platforms")
    assert strict.returncode == 1
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["command"][:2] == ["jaxpat", "check"]
