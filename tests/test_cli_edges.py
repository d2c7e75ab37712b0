"""CLI and terminal rough edges (issue 24): failure wording, filter typos, node ids, terminal summary, Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from jaxpat.catalog import ArrayValue, Tolerance
from jaxpat.conformance import _compare
from jaxpat.conformance._filters import cache_dir_problem, filter_problems, selects
from jaxpat.conformance._judge import ConformanceFailure

# -- failure wording ------------------------------------------------------------------------------------------


def _tol(rtol: float = 1e-6, atol: float = 1e-6) -> Tolerance:
    return Tolerance(table={"float32": (rtol, atol), "int32": (0.0, 0.0)})


def test_value_mismatch_says_beyond_the_tolerance_with_the_largest_difference() -> None:
    """"values differ beyond rtol=..., atol=...: max abs diff D, max rel diff R" on the first line; D and R
    computed here independently with plain Python."""
    want = [1.0, 2.5, 4.0]
    got = [1.0, 2.5, 4.75]
    msgs = _compare.compare(ArrayValue("float32", (3,), tuple(want)), np.asarray(got, np.float32),
                            tolerance=_tol(), platform="cpu")
    assert len(msgs) == 1
    first = msgs[0].splitlines()[0]
    assert "within" not in first
    abs_diff = max(abs(g - w) for g, w in zip(got, want, strict=True))
    rel_diff = max(abs(g - w) / abs(w) for g, w in zip(got, want, strict=True))
    assert first == (f"result: values differ beyond rtol=1e-06, atol=1e-06 (float32 tolerance from built-in "
                     f"default): max abs diff {abs_diff:.6g}, max rel diff {rel_diff:.6g}")
    # a difference inside the tolerance is no failure (the wording's counter-case)
    assert _compare.compare(ArrayValue("float32", (3,), tuple(want)), np.asarray([1.0, 2.5, 4.000001], np.float32),
                            tolerance=_tol(), platform="cpu") == []


@pytest.mark.parametrize(("want", "got", "dtype"), [
    ([1.0, 2.5, 100.0, -3.0], [1.0, 2.5, 7.25, -3.0], "float32"),
    ([1, 3, 6, 10, 15], [2, 4, 7, 11, -160], "int32"),
    ([[1.0, 20.0], [300.0, 4.0]], [[1.5, 20.0], [3.0, -4.0]], "float32"),
], ids=["float", "int", "2d"])
def test_expected_and_actual_are_aligned_element_by_element(want: list, got: list, dtype: str) -> None:
    """Each element of the actual array ends in the same column as the same element of the expected one."""
    arr = np.asarray(want, dtype)
    msg = _compare.compare(ArrayValue(dtype, arr.shape, tuple(arr.ravel().tolist())), np.asarray(got, dtype),
                           tolerance=_tol(), platform="cpu")[0]
    lines = msg.splitlines()
    exp_at = next(i for i, line in enumerate(lines) if line.startswith("  expected: "))
    rows = arr.shape[0] if arr.ndim == 2 else 1
    exp_lines, act_lines = lines[exp_at:exp_at + rows], lines[exp_at + rows:exp_at + 2 * rows]
    assert act_lines[0].startswith("  actual:   ")

    def ends(line: str) -> list[int]:
        return [m.end() for m in re.finditer(r"-?[0-9][0-9.e+-]*", line[len("  expected: "):])]

    flat_want = [str(x) for x in np.asarray(want, dtype).ravel()]
    flat_got = [str(x) for x in np.asarray(got, dtype).ravel()]
    for e, a in zip(exp_lines, act_lines, strict=True):
        assert ends(e) == ends(a), (e, a)
    shown_want = re.findall(r"-?[0-9][0-9.e+-]*", " ".join(x[len("  expected: "):] for x in exp_lines))
    shown_got = re.findall(r"-?[0-9][0-9.e+-]*", " ".join(x[len("  expected: "):] for x in act_lines))
    assert shown_want == flat_want
    assert shown_got == flat_got


def test_failure_messages_still_escape_control_characters() -> None:
    """The new wording goes through ConformanceFailure, which escapes control characters."""
    assert str(ConformanceFailure("values differ \x1b[2J")) == "values differ \\x1b[2J"


# -- filter typos, before any worker starts ---------------------------------------------------------------------

def _pattern(pid: str, family: str, cases: tuple[str, ...]) -> Any:
    return SimpleNamespace(id=pid, family=family, cases=tuple(SimpleNamespace(id=c) for c in cases))


CATALOG = [_pattern("scan-cumsum", "scan", ("seed-arange-five", "empty")),
           _pattern("loop-lax-scan", "loops", ("five",))]
IMPLS = {"scan-cumsum": ["reference.lax_scan", "reference.jnp_cumsum"], "loop-lax-scan": ["reference.lax_scan"]}


def _problems(**kw: Any) -> list[str]:
    defaults: dict[str, Any] = {"pattern_globs": [], "impl_globs": [], "family_globs": [], "asked_ids": []}
    return filter_problems(CATALOG, sorted({i for v in IMPLS.values() for i in v}), families=["scan", "loops"],
                           impls_of=IMPLS, **{**defaults, **kw})


def test_every_filter_typo_is_named_with_a_did_you_mean() -> None:
    problems = _problems(pattern_globs=["scan-*", "scna-cumsum"], impl_globs=["reference.lax_scna"],
                         family_globs=["scna"])
    assert problems == [
        "--pattern 'scna-cumsum' matches no pattern (did you mean 'scan-cumsum'?); `jaxpat list` shows them",
        "--impl 'reference.lax_scna' matches no implementation (did you mean 'reference.lax_scan'?); "
        "`jaxpat plugins` lists them (PLUGIN.NAME)",
        "--family 'scna' matches no family (did you mean 'scan'?); families: scan, loops",
    ]
    # globs that match something are no typo
    assert _problems(pattern_globs=["scan-*", "loop-lax-scan"], impl_globs=["*.lax_scan"], family_globs=["lo*"]) == []


def test_node_ids_naming_what_does_not_exist_are_refused_with_the_closest() -> None:
    good = "jaxpat::scan-cumsum::seed-arange-five[reference.lax_scan-cpu:0-jit]"
    assert _problems(asked_ids=[good, "jaxpat::scan-cumsum", "jaxpat::scan-cumsum::empty",
                                "jaxpat::plugin[example]",
                                "jaxpat::scan-cumsum::claim-jit[reference.lax_scan-cpu:0]"]) == []
    problems = _problems(asked_ids=[
        good.replace("scan-cumsum", "scan-cumsun"), good.replace("arange-five", "arange-fiv"),
        good.replace("lax_scan", "lax_scna"), good.replace("-jit]", "-jti]"), "jaxpat::what[is-this"])
    assert problems[0].endswith("no pattern 'scan-cumsun' (did you mean 'scan-cumsum'?)")
    assert problems[1].endswith("has no case 'seed-arange-fiv' (did you mean 'seed-arange-five'?)")
    assert problems[2].endswith("'reference.lax_scna' implements no case of 'scan-cumsum' (did you mean "
                                "'reference.lax_scan'?)")
    assert problems[3].endswith("no transform 'jti' (did you mean 'jit'?)")
    assert "is not a jaxpat node id" in problems[4]
    assert len(problems) == 5


def test_node_ids_select_like_pytest_ids() -> None:
    item = "jaxpat::scan-cumsum::seed-arange-five[reference.lax_scan-cpu:0-jit]"
    for asked in (item, "jaxpat::scan-cumsum", "jaxpat::scan-cumsum::seed-arange-five"):
        assert selects(asked, item)
    for asked in ("jaxpat::scan-cum", "jaxpat::scan-cumsum::seed-arange", item.replace("jit", "vmap")):
        assert not selects(asked, item)


def _jaxpat(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("jaxpat")
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "JAXPAT_BLOCK_PLUGINS": "example"})


def test_a_pattern_typo_stops_the_run_before_any_worker_starts(tmp_path: Path) -> None:
    """`jaxpat check -n 2 --pattern TYPO`: exit 2 with the did-you-mean, and xdist never started a worker."""
    proc = _jaxpat(["check", "-n", "2", "--no-claims", "--pattern", "scan-*", "--pattern", "scna-cumsum",
                    "--report", "r.json"], tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out[-3000:]
    assert "--pattern 'scna-cumsum' matches no pattern (did you mean 'scan-cumsum'?)" in out
    assert "created:" not in out
    assert "[gw0]" not in out
    assert "workers" not in out


def test_cache_dir_naming_a_file_fails_early(tmp_path: Path) -> None:
    (tmp_path / "FILE").write_text("x")
    assert cache_dir_problem(str(tmp_path / "FILE")).startswith("is a file, not a folder")
    assert "is inside" in cache_dir_problem(str(tmp_path / "FILE" / "xla"))
    assert cache_dir_problem(str(tmp_path / "new" / "xla")) is None
    assert cache_dir_problem(str(tmp_path)) is None
    proc = _jaxpat(["check", "-n", "0", "--cache-dir", "FILE", "--pattern", "scan-cumsum"], tmp_path)
    assert proc.returncode == 2, (proc.stdout + proc.stderr)[-3000:]
    assert "jaxpat check: --cache-dir FILE: is a file, not a folder" in proc.stderr
    assert proc.stdout == ""


# -- node ids rerun exactly those items ---------------------------------------------------------------------------

def test_jaxpat_check_and_pytest_accept_the_node_ids_a_run_prints(tmp_path: Path) -> None:
    """The ids of a report, passed back to `jaxpat check` (with workers) and to `pytest --jaxpat`, run exactly
    those items; the report calls the selection partial."""
    ids = ["jaxpat::scan-cumsum::seed-arange-five[reference.lax_scan-cpu:0-jit]",
           "jaxpat::scan-cumsum::seed-arange-five[reference.jnp_cumsum-cpu:0-vmap]"]
    proc = _jaxpat(["check", "-n", "2", *ids, "--report", "r.json"], tmp_path)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    report = json.loads((tmp_path / "r.json").read_text())
    assert sorted(r["nodeid"] for r in report["results"]) == sorted(ids)
    assert {r["outcome"] for r in report["results"]} == {"passed"}
    assert report["selection"]["partial"] == ["node ids (2)"]
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--jaxpat", "--jaxpat-only",
                           "-n", "0", "--jaxpat-report", "p.json", ids[0]], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "JAXPAT_BLOCK_PLUGINS": "example"})
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert "not found" not in proc.stdout + proc.stderr
    assert [r["nodeid"] for r in json.loads((tmp_path / "p.json").read_text())["results"]] == ids[:1]
