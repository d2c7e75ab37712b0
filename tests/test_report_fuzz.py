"""Fuzzing the report readers: every member of a small valid report, replaced by every kind of JSON value.

Each mutation is written to a file and given to ``jaxpat report show``,
``diff``, ``merge`` and ``html`` through the CLI's entry function, in this
process. Each command must either accept the file and render it or refuse it
with exit 3 (a ReportError) -- never exit 4 (an internal error, i.e. an
uncaught exception). The mutations are deterministic (every JSON path × a
fixed list of values, plus seeded picks of long and odd strings); the run
takes well under a minute on one core.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jaxpat import _cli
from jaxpat import report as _report
from jaxpat._cli import main

#: The values every member is replaced by (the issue's list).
VALUES: list[Any] = [None, 0, -1, 2.5, "x", "", [], [1], {}, {"a": 1}, True]
#: Raw JSON texts put where a member was (what json.dumps cannot produce from Python values).
DEEP = "[" * 5000 + "]" * 5000
BIG_INT = "9" * 5000
SEED = 20261207


def base_report() -> dict[str, Any]:
    """A small valid report with every kind of member: observations (values, a tree, an error), a failure with
    a repro, a claim item and claims with sizes, figures and thresholds, plugins, devices, JAX config, warnings."""
    rep = _report.new_report({
        "host": "fuzz", "hostname": "fuzz.local", "jax": "0.10.2", "jaxlib": "0.10.2", "python": "3.12.1",
        "os": "Linux", "jaxpat": "0.1.0", "catalog_digest": "ab" * 32,
        "devices": [{"id": "cpu:0", "platform": "cpu", "kind": "cpu"}],
        "plugins": [{"name": "reference", "distribution": "jaxpat", "version": "0.1.0"}],
        "jax_config": {"jax_enable_x64": False, "jax_default_prng_impl": "threefry2x32"},
        "warnings": ["jax outside the tested range"],
    }, ["jaxpat", "check"])
    rep["status"] = "complete"
    rep["duration_wall"] = 1.5
    rep["exitstatus"] = 1
    common = {"pattern": "scan-cumsum", "family": "scan", "plugin": "reference", "device": "cpu:0",
              "platform": "cpu", "device_kind": "cpu"}
    rep["results"] = [
        {"nodeid": "jaxpat::scan-cumsum::five[reference.lax_scan-cpu:0-jit]", "kind": "case", "case": "five",
         "implementation": "reference.lax_scan", "transform": "jit", "outcome": "passed", "duration": 0.25,
         "message": None, "compiles": 1, **common,
         "observed": {"tree": "(*, *)", "leaves": [
             {"dtype": "float32", "shape": [2], "digest": "00ff", "values": [1.5, "nan"]},
             {"dtype": "complex64", "shape": [], "digest": "0a0b", "values": [[1.0, -2.0]]}]}},
        {"nodeid": "jaxpat::scan-cumsum::five[reference.lax_scan-cpu:0-grad]", "kind": "case", "case": "five",
         "implementation": "reference.lax_scan", "transform": "grad", "outcome": "failed", "duration": 0.5,
         "message": "wrong result:\n  expected [1 2]\n  got [1 3]", "repro": "print('repro')\n", "compiles": 2,
         **common, "observed": {"error": {"type": "TypeError", "message": "boom at 0x7f00deadbeef"}}},
        {"nodeid": "jaxpat::scan-cumsum::claim-memory[reference.lax_scan-cpu:0]", "kind": "claim",
         "implementation": "reference.lax_scan", "transform": "claim:memory", "claim": "memory",
         "outcome": "passed", "duration": 0.1, "message": None, **common},
    ]
    rep["claims"] = [
        {"pattern": "scan-cumsum", "implementation": "reference.lax_scan", "claim": "memory",
         "claimed": {"forward": "linear"}, "verdict": "held", "message": "grows linearly",
         "measured": {"param": "xs", "sizes": [10, 100],
                      "forward": {"temp_bytes": [40, 400], "growth": "linear"},
                      "backward": {"residual_bytes": [8, 80], "growth": "linear"}},
         "seed_claim": "scan keeps a carry", "device": "cpu:0",
         "nodeid": "jaxpat::scan-cumsum::claim-memory[reference.lax_scan-cpu:0]"},
        {"pattern": "scan-cumsum", "implementation": "reference.lax_scan", "claim": "speedup",
         "claimed": {"baseline": "python_loop", "at_least": 2}, "verdict": "reported", "message": "3x",
         "measured": {"seconds": 0.01, "baseline_seconds": 0.03, "speedup": 3.0}},
        {"pattern": "scan-cumsum", "implementation": "reference.lax_scan", "claim": "program_size",
         "claimed": {"growth": "constant"}, "verdict": "held", "message": "constant",
         "measured": {"param": "n", "sizes": [10, 100], "equations": [7, 7], "growth": "constant"}},
    ]
    rep["compiles"] = {"count": 3, "by_process": {"gw0": 3}}
    _report.summarize(rep)
    return rep


def paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every JSON path in ``value`` (the root included), containers before their members."""
    yield at
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, (*at, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, (*at, i))


def replaced(doc: Any, at: tuple[Any, ...], new: Any) -> Any:
    if not at:
        return new
    out = json.loads(json.dumps(doc))
    node = out
    for key in at[:-1]:
        node = node[key]
    node[at[-1]] = new
    return out


def deleted(doc: Any, at: tuple[Any, ...]) -> Any:
    out = json.loads(json.dumps(doc))
    node = out
    for key in at[:-1]:
        node = node[key]
    del node[at[-1]]
    return out


TOKEN = "\u0000fuzz-raw-token"


def with_raw(doc: Any, at: tuple[Any, ...], raw: str) -> str:
    """The document's text with the member at ``at`` replaced by the raw JSON text ``raw``."""
    return json.dumps(replaced(doc, at, TOKEN)).replace(json.dumps(TOKEN), raw, 1)


def duplicated_key(doc: Any, at: tuple[Any, ...]) -> str | None:
    """The text with the object at ``at`` holding its first key twice (None when it is not a non-empty object)."""
    node = doc
    for key in at:
        node = node[key]
    if not isinstance(node, dict) or not node:
        return None
    first = next(iter(node))
    inner = json.dumps(node)[1:-1]
    return with_raw(doc, at, "{" + inner + ", " + json.dumps(first) + ": " + json.dumps(node[first]) + "}")


def mutations(doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``(description, JSON text)`` for every mutation (deterministic: seeded)."""
    rng = random.Random(SEED)
    odd = ["\x1b[2J\x1b]0;t\x07", "</script><script>x()</script>", "{{data}} __DATA__", "\u2028\u202e", "9" * 400,
           "nan", "-inf", "jaxpat::p::c[a-cpu:0-jit]", "1e999"]
    for at in paths(doc):
        where = "$" + "".join(f"[{k!r}]" for k in at)
        for value in VALUES:
            yield f"{where} = {json.dumps(value)}", json.dumps(replaced(doc, at, value))
        yield f"{where} = deep nesting", with_raw(doc, at, DEEP)
        yield f"{where} = 5000-digit integer", with_raw(doc, at, BIG_INT)
        yield f"{where} = NaN", with_raw(doc, at, "NaN")
        long = "x" * 50_000 + "\n" + rng.choice(odd) * 3
        yield f"{where} = long message", json.dumps(replaced(doc, at, long))
        yield f"{where} = odd string", json.dumps(replaced(doc, at, rng.choice(odd)))
        dup = duplicated_key(doc, at)
        if dup is not None:
            yield f"{where} has a duplicate key", dup
        if at:
            yield f"{where} deleted", json.dumps(deleted(doc, at))


ALLOWED = {"show": {0, 1, 3}, "diff": {0, 1, 3, 5}, "merge": {0, 3}, "html": {0, 3}}


def run(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


def test_every_mutation_is_rendered_or_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """No mutation makes any command fail with an internal error; accepted files are rendered by every command,
    refused ones are refused by every command with exit 3."""
    # the entry function as is, with its argparse tree built once (building it is 60 % of a call's time)
    monkeypatch.setattr(_cli, "build_parser", functools.cache(_cli.build_parser))
    doc = base_report()
    assert _report.validate(doc) == []
    other = json.loads(json.dumps(doc))
    other["environment"]["host"] = "other-host"
    base = _report.write_report(other, tmp_path / "base.json")
    target = tmp_path / "m.json"
    tried = accepted = 0
    internal: list[str] = []
    inconsistent: list[str] = []
    for what, text in mutations(doc):
        tried += 1
        target.write_text(text, encoding="utf-8")
        try:
            _report.load(target)
            ok = True
        except _report.ReportError:
            ok = False
        accepted += ok
        codes = {}
        for name, argv in (("show", ["report", "show", str(target), "--failures"]),
                           ("diff", ["report", "diff", str(base), str(target)]),
                           ("merge", ["report", "merge", str(base), str(target), "-o", str(tmp_path / "o.json")]),
                           ("html", ["report", "html", str(target), "--diff", str(base), "-o",
                                     str(tmp_path / "o.html")])):
            code, err = run(argv)
            codes[name] = code
            if code not in ALLOWED[name] or "internal error" in err:
                internal.append(f"{what}: {name} exit {code}: {err.strip()[-300:]}")
        if not ok and set(codes.values()) != {3}:
            inconsistent.append(f"{what}: refused by load, but {codes}")
        if ok and (codes["show"] == 3 or codes["html"] == 3):
            inconsistent.append(f"{what}: accepted by load, but {codes}")
    with capsys.disabled():
        print(f"\nreport fuzz: {tried} mutations, {accepted} accepted, {tried - accepted} refused, "
              f"{len(internal)} internal errors, {len(inconsistent)} inconsistent")
    assert internal == [], "\n".join(internal[:20])
    assert inconsistent == [], "\n".join(inconsistent[:20])
    assert tried > 1000
    assert 0 < accepted < tried  # the fuzzing reached both sides


def test_the_fuzzer_can_find_an_internal_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader that crashes on an accepted value is caught: the check is not vacuous."""
    doc = base_report()
    path = tmp_path / "r.json"
    path.write_text(json.dumps(replaced(doc, ("claims", 0, "measured", "sizes"), [10, 100])))

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("a reader bug")

    monkeypatch.setattr(_report, "render_html", broken)
    code, err = run(["report", "html", str(path), "-o", str(tmp_path / "o.html")])
    assert code == 4
    assert "internal error" in err
