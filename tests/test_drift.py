"""Observations in reports and `jaxpat report diff` (conformance/_observe.py, conformance/_drift.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jaxpat import report as _report
from jaxpat._cli import main
from jaxpat._util import Exit
from jaxpat.conformance._session import SUPPORTED_JAX, jax_warnings
from jaxpat.report import _drift

ROOT = Path(__file__).parents[1]
SCAN = "jaxpat::scan-cumsum::five[reference.lax_scan-cpu:0-jit]"
ERR = "jaxpat::jit-python-if::traced[reference.branch-cpu:0-jit]"
CLAIM = "jaxpat::checkpoint-scan-body::claim-residuals[reference.with_checkpoint-cpu:0]"
BIG = "jaxpat::big::case[reference.x-cpu:0-eager]"


def f32(x: float) -> float:
    """The float32 nearest ``x``, written as its shortest decimal (as the worker writes it)."""
    return float(str(np.float32(x)))


def report(host: str, jax: str, *, value: float, message: str, residual: int, outcome: str = "passed",
           compiles: int = 1, flag: bool = True, digest: str = "aaaa") -> dict[str, Any]:
    """A report as a worker would write it: a value case, an expected-error case, a claim."""
    rep = _report.new_report({"host": host, "jax": jax, "jaxlib": jax, "python": "3.12.1",
                              "devices": [{"id": "cpu:0", "platform": "cpu", "kind": "cpu"}],
                              "jax_config": {"jax_threefry_partitionable": flag}}, ["test"])
    rep["status"] = "complete"
    rep["results"] = [
        {"nodeid": SCAN, "kind": "case", "pattern": "scan-cumsum", "outcome": "passed", "duration": 0.1,
         "compiles": compiles, "observed": {"tree": "(*, *)", "leaves": [
             {"dtype": "float32", "shape": [3], "digest": f"d{value}", "values": [1.0, 2.5, value]},
             {"dtype": "int32", "shape": [], "digest": "i3", "values": [3]}]}},
        {"nodeid": ERR, "kind": "case", "pattern": "jit-python-if", "outcome": "passed", "duration": 0.1,
         "observed": {"error": {"type": "jax.errors.TracerBoolConversionError", "message": message}}},
        {"nodeid": CLAIM, "kind": "claim", "pattern": "checkpoint-scan-body", "claim": "residuals",
         "outcome": outcome, "duration": 0.2, "message": None if outcome == "passed" else "factor 1.00"},
        {"nodeid": BIG, "kind": "case", "pattern": "big", "outcome": "passed", "duration": 0.1,
         "observed": {"leaves": [{"dtype": "float32", "shape": [1000], "digest": digest}]}},
    ]
    rep["claims"] = [{
        "pattern": "checkpoint-scan-body", "implementation": "reference.with_checkpoint", "claim": "residuals",
        "claimed": {"baseline": "without_checkpoint", "at_least": 1.25}, "nodeid": CLAIM,
        "verdict": "held" if outcome == "passed" else "violated",
        "measured": {"residual_bytes": 76, "baseline_residual_bytes": residual,
                     "saving_factor": round(residual / 76, 3), "seconds": 0.1 * residual}}]
    return rep


def typed(data: dict[str, Any]) -> _report.Report:
    return _report.Report.from_dict(data)


OLD = report("old", "0.10.2", value=f32(-5.1666665), message="Attempted boolean conversion of traced array "
             "with shape bool[].\nSee https://docs.jax.dev/en/latest/errors.html", residual=100)


def test_identical_reports_do_not_drift() -> None:
    d = _report.drift(typed(OLD), typed(OLD))
    assert d.items == ()
    assert d.status == "none"
    assert d.exit_status() == Exit.OK
    assert d.counts()["unchanged"] == 4


def test_diff_names_changed_patterns_with_values_messages_and_claim_figures() -> None:
    """Drift inside expectations is reported with old and new values, messages and figures."""
    new_value = float(np.nextafter(np.float32(OLD["results"][0]["observed"]["leaves"][0]["values"][2]),
                                   np.float32(0)))
    new = report("new", "0.12.0.1", value=f32(new_value), message="Attempted boolean conversion of traced "
                 "array with shape bool[].\nThe error occurred while tracing the function f.", residual=76,
                 outcome="failed", compiles=2, flag=False, digest="bbbb")
    d = _report.drift(typed(OLD), typed(new))
    by_pattern = d.by_pattern()
    assert set(by_pattern) == {"scan-cumsum", "jit-python-if", "checkpoint-scan-body", "big"}
    assert d.status == "regression"
    assert d.exit_status() == Exit.FINDINGS

    (scan,) = by_pattern["scan-cumsum"]
    assert scan.category == "drift"
    value = next(c for c in scan.changes if c.what == "value")
    assert value.path == "result[0]"
    assert value.old[2] == -5.1666665
    assert value.new[2] == f32(new_value)
    assert value.figures["max_ulp"] == 1
    assert value.figures["differing"] == 1
    assert "-5.1666665 → -5.166666 (1 ulp)" in value.text
    assert any(c.what == "compiles" and (c.old, c.new) == (1, 2) for c in scan.changes)

    (err,) = by_pattern["jit-python-if"]
    msg = next(c for c in err.changes if c.what == "error")
    assert "docs.jax.dev" in msg.old
    assert "while tracing the function f" in msg.new

    (claim,) = by_pattern["checkpoint-scan-body"]
    assert claim.category == "regression"
    figures = {c.path: (c.old, c.new) for c in claim.changes if c.what == "claim"}
    assert figures["baseline_residual_bytes"] == (100, 76)
    assert figures["saving_factor"] == (1.316, 1.0)
    assert figures["verdict"] == ("held", "violated")
    assert "seconds" not in figures  # timings differ on every run: not drift

    (big,) = by_pattern["big"]
    assert "values not recorded" in big.changes[0].text

    env = {c.path: (c.old, c.new) for c in d.environment}
    assert env["jax"] == ("0.10.2", "0.12.0.1")
    assert env["jax_threefry_partitionable"] == (True, False)

    text = "\n".join(_report.format_drift(d))
    assert "REGRESSION" in text
    assert "checkpoint-scan-body" in text
    assert "jax_threefry_partitionable true → false" in text
    data = json.loads(json.dumps(d.to_dict()))
    assert data["status"] == "regression"
    assert data["exit"] == 1
    assert data["patterns"]["scan-cumsum"][0]["changes"][0]["figures"]["max_ulp"] == 1


def test_drift_without_regression_is_its_own_status() -> None:
    new = report("new", "0.12.0.1", value=f32(-5.25), message=OLD["results"][1]["observed"]["error"]["message"],
                 residual=100)
    d = _report.drift(typed(OLD), typed(new))
    assert [i.pattern for i in d.items] == ["scan-cumsum"]
    assert d.status == "drift"
    assert d.exit_status() == Exit.DRIFT


def test_error_to_value_and_structure_changes() -> None:
    old = typed(OLD)
    new_data = json.loads(json.dumps(OLD))
    new_data["results"][1]["observed"] = {"leaves": [{"dtype": "bool", "shape": [], "digest": "x", "values": [True]}]}
    new_data["results"][0]["observed"]["leaves"][1] = {"dtype": "int64", "shape": [], "digest": "j", "values": [3]}
    d = _report.drift(old, typed(new_data))
    texts = {i.pattern: [c.text for c in i.changes] for i in d.items}
    assert texts["jit-python-if"] == ["raises jax.errors.TracerBoolConversionError → returns bool[]"]
    assert texts["scan-cumsum"] == ["result[1]: int32[] → int64[]"]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_ulps_agree_with_numpy_nextafter(dtype: str) -> None:
    """Counted on bit patterns, checked against NumPy stepping one representable number at a time."""
    t = np.dtype(dtype).type
    for start in (-5.1666665, 0.0, 1e-3, -2.0, 65000.0 if dtype == "float16" else 1e30):
        x = t(start)
        y = x
        for steps in range(1, 5):
            y = np.nextafter(y, t(np.inf))
            assert _drift.ulps(float(x), float(y), dtype) == steps
    # across zero: -tiny, -0, +0, +tiny are 2 apart as representable magnitudes (signed zeros coincide)
    tiny = np.nextafter(t(0), t(1))
    assert _drift.ulps(float(-tiny), float(tiny), dtype) == 2
    assert _drift.ulps("nan", 1.0, dtype) is None
    assert _drift.ulps(1, 2, "int32") is None


def test_diff_of_merged_reports_matches_hosts() -> None:
    a = typed(report("a", "0.10.2", value=-1.0, message="m", residual=100))
    b = typed(report("b", "0.10.2", value=-1.0, message="m", residual=100))
    b2 = typed(report("b", "0.10.2", value=-2.0, message="m", residual=100))
    d = _report.drift(_report.merge([a, b]), _report.merge([a, b2]))
    assert [(i.host, i.pattern) for i in d.items] == [("b", "scan-cumsum")]
    assert d.counts()["unchanged"] == 7


# ---------------------------------------------------------------------------
# the command and its exit statuses
# ---------------------------------------------------------------------------

def test_diff_exit_statuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """0 no change, 5 drift only, 1 regression, 3 unreadable input, 2 usage; each is distinct."""
    old = _report.write_report(OLD, tmp_path / "old.json")
    drifted = _report.write_report(report("new", "0.12.0.1", value=-5.25, message=OLD["results"][1]["observed"]
                                          ["error"]["message"], residual=100), tmp_path / "drift.json")
    regressed = _report.write_report(report("new", "0.12.0.1", value=-5.25, message="m", residual=76,
                                            outcome="failed"), tmp_path / "regressed.json")
    assert main(["report", "diff", str(old), str(old)]) == Exit.OK
    assert "no change" in capsys.readouterr().out
    assert main(["report", "diff", str(old), str(drifted)]) == Exit.DRIFT
    out = capsys.readouterr().out
    assert "scan-cumsum" in out
    assert "-5.1666665 → -5.25" in out
    assert "drift only" in out
    assert main(["report", "diff", str(old), str(regressed)]) == Exit.FINDINGS
    assert "REGRESSION" in capsys.readouterr().out
    assert main(["report", "diff", str(old), str(regressed), "--format", "json"]) == Exit.FINDINGS
    assert json.loads(capsys.readouterr().out)["counts"]["regression"] == 1
    assert main(["report", "diff", str(old), str(tmp_path / "missing.json")]) == Exit.UNREADABLE
    assert "cannot read" in capsys.readouterr().err
    (tmp_path / "other.json").write_text('{"format": "something-else"}')
    assert main(["report", "diff", str(tmp_path / "other.json"), str(old)]) == Exit.UNREADABLE
    assert main(["report", "diff", str(old)]) == Exit.USAGE


def test_diff_fail_on_regressions_exits_non_zero_only_on_regressions(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--fail-on regressions` (alias `--regressions-only`): drift and fixes exit 0, a regression 1, unreadable 3."""
    old = _report.write_report(OLD, tmp_path / "old.json")
    drifted = _report.write_report(report("new", "0.12.0.1", value=-5.25, message=OLD["results"][1]["observed"]
                                          ["error"]["message"], residual=100), tmp_path / "drift.json")
    regressed = _report.write_report(report("new", "0.12.0.1", value=-5.25, message="m", residual=76,
                                            outcome="failed"), tmp_path / "regressed.json")
    # a run that only fixed things: the regressed run as OLD, the good one as NEW
    assert main(["report", "diff", str(regressed), str(old)]) == Exit.DRIFT
    assert "fixed" in capsys.readouterr().out
    for flag in (["--fail-on", "regressions"], ["--regressions-only"]):
        assert main(["report", "diff", str(regressed), str(old), *flag]) == Exit.OK
        assert "(exit 0: --fail-on regressions)" in capsys.readouterr().out
        assert main(["report", "diff", str(old), str(drifted), *flag]) == Exit.OK
        capsys.readouterr()
        assert main(["report", "diff", str(old), str(regressed), *flag]) == Exit.FINDINGS
        assert "REGRESSION" in capsys.readouterr().out
        assert main(["report", "diff", str(old), str(tmp_path / "missing.json"), *flag]) == Exit.UNREADABLE
        capsys.readouterr()
    assert main(["report", "diff", str(old), str(old), "--fail-on", "regressions"]) == Exit.OK
    assert main(["report", "diff", str(old), str(old), "--fail-on", "everything"]) == Exit.USAGE


def test_diff_help_documents_the_exit_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "diff", "--help"]) == Exit.OK
    text = capsys.readouterr().out
    for line in ("0  no change", "1  regression", "5  drift only", "3  unreadable input"):
        assert line in text
    cli_doc = (ROOT / "docs" / "cli.md").read_text()
    assert "drift only" in cli_doc
    assert "unreadable" in cli_doc


# ---------------------------------------------------------------------------
# the worker side
# ---------------------------------------------------------------------------

def test_observations_of_values_keys_and_errors() -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    from jaxpat.conformance._observe import MAX_VALUES, observe_error, observe_value

    obs = observe_value((jnp.float32(-31.0) / 6, {"n": jnp.arange(3)}))
    assert obs["tree"] == "(*, {'n': *})"
    x, n = obs["leaves"]
    assert x["dtype"] == "float32"
    assert x["shape"] == []
    assert x["values"] == [-5.1666665]
    assert n["dtype"] == "int32"
    assert n["values"] == [0, 1, 2]
    assert observe_value(jnp.zeros(3))["leaves"][0]["digest"] != observe_value(jnp.ones(3))["leaves"][0]["digest"]
    big = observe_value(jnp.zeros(MAX_VALUES + 1))["leaves"][0]
    assert "values" not in big
    assert big["shape"] == [MAX_VALUES + 1]
    special = observe_value(jnp.array([jnp.nan, jnp.inf, -jnp.inf, 1 + 2j], jnp.complex64))["leaves"][0]
    assert special["values"][3] == [1.0, 2.0]
    assert observe_value(jnp.array([jnp.nan, -jnp.inf]))["leaves"][0]["values"] == ["nan", "-inf"]
    key = observe_value(jax.random.key(0))["leaves"][0]
    assert key["dtype"].startswith("key<")
    assert key["values"] == [int(v) for v in jax.random.key_data(
        jax.random.key(0))]
    assert "tree" not in observe_value(3.5)
    assert observe_value(3.5)["leaves"][0]["dtype"] == "float"
    try:
        jax.jit(lambda x: int(x))(1.0)
    except jax.errors.ConcretizationTypeError as exc:
        err, text = observe_error(exc), str(exc)
    assert err["error"]["type"] == "jax.errors.ConcretizationTypeError"
    assert err["error"]["message"] == text  # the full message, several lines
    assert len(text.splitlines()) > 1
    _report.Observation.from_dict(obs)  # the typed model reads what the worker writes


def test_a_real_run_records_observations(tmp_path: Path) -> None:
    """A real run: value cases keep their values, expected errors their full message; the label is the host."""
    pytest.importorskip("jax")
    env = {**os.environ, "JAXPAT_BLOCK_PLUGINS": "example"}
    proc = subprocess.run(
        [sys.executable, "-m", "jaxpat", "check", "-n", "0", "--pattern", "loop-python-while-traced",
         "--no-claims", "--no-cache", "--label", "box-a", "--report", "r.json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rep = _report.load(tmp_path / "r.json")
    assert rep.environment.host == "box-a"
    assert rep.environment.hostname
    cases = [r for r in rep.results if r.kind == "case"]
    assert cases
    assert all(r.observed is not None for r in cases)
    errors = [r for r in cases if r.observed and r.observed.raised]
    values = [r for r in cases if r.observed and not r.observed.raised]
    assert errors
    assert values
    assert all(r.observed and r.observed.error_message for r in errors)
    assert all(r.observed and r.observed.leaves and r.observed.leaves[0].values is not None for r in values)
    assert _report.drift(rep, rep).status == "none"


# ---------------------------------------------------------------------------
# supported JAX
# ---------------------------------------------------------------------------

def test_supported_range_matches_pyproject() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    for dist in ("jax", "jaxlib"):
        (spec,) = re.findall(rf'"{dist}(>=[^"]+)"', text)
        assert spec == SUPPORTED_JAX


def test_jax_outside_the_supported_range_is_warned_about() -> None:
    low, high = re.findall(r"[\d.]+", SUPPORTED_JAX)
    assert jax_warnings(low, low) == []
    old = jax_warnings("0.4.38", low)
    assert len(old) == 1
    assert "jax 0.4.38 is outside" in old[0]
    assert len(jax_warnings(high, high)) == 2


def test_claim_deviations_apply_to_claim_items_only(tmp_path: Path) -> None:
    """`when: {claim: KIND}` makes that claim's items strict xfails; deviations without `claim` leave them alone."""
    pytest.importorskip("jax")
    src = ROOT / "tests" / "examples" / "conformance"
    for f in src.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    text = (tmp_path / "tcat.yaml").read_text()
    anchor = "      grad: {forward: true, reverse: true}\n"
    assert anchor in text
    text = text.replace(anchor, anchor + (
        "    deviations:\n"
        "      - when: {claim: grad, jax: \">=0.1\"}\n        reason: the claim deviation\n"
        "      - when: {transform: grad, case: three}\n        reason: the case deviation\n"), 1)
    (tmp_path / "tcat.yaml").write_text(text)
    env = {**os.environ, "JAXPAT_DISABLE_PLUGIN_AUTOLOAD": "1", "JAXPAT_BLOCK_PLUGINS": "reference",
           "PYTHONPATH": str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--jaxpat", "--jaxpat-only", "--jaxpat-catalog",
           "tcat.yaml", "--jaxpat-pattern", "t-square", "--jaxpat-no-cache", "--jaxpat-report", "report.json",
           "--jaxpat-load", "good", "--jaxpat-claims"]
    subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    results = {r.nodeid.split("::")[-1]: r for r in _report.load(tmp_path / "report.json").results}
    claim = results["claim-grad[good.square-cpu:0]"]
    assert claim.outcome == "xpassed"  # strict: the claim holds, so the deviation is reported as gone
    case = results["three[good.square-cpu:0-grad]"]
    assert case.outcome == "xpassed"
    assert "the case deviation" in (case.message or "")
    assert results["three[good.square-cpu:0-eager]"].outcome == "passed"


def test_ci_tests_the_oldest_supported_jax() -> None:
    """.ci/run's second environment installs a release of the lowest supported JAX series, inside the range."""
    text = (ROOT / ".ci" / "run").read_text()
    (oldest,) = re.findall(r"^OLDEST_JAX=(\S+)$", text, re.M)
    low = re.findall(r"[\d.]+", SUPPORTED_JAX)[0]
    assert oldest == low or oldest.startswith(low + ".")
    assert jax_warnings(oldest, oldest) == []


def test_run_specific_parts_of_messages_are_not_drift() -> None:
    """Object ids, addresses and source folders differ between runs of the same program; wording changes do not."""
    def with_message(text: str) -> _report.Report:
        data = json.loads(json.dumps(OLD))
        data["results"][1]["observed"]["error"]["message"] = text
        return typed(data)

    base = "This BatchTracer with object id {} was created on line:\n  {}/conformance/_execute.py:169:11 (_call)"
    a = with_message(base.format(140436232305152, "/work/wt/11"))
    b = with_message(base.format(140614097795584, "/usr/lib/python3.12/site-packages/jaxpat"))
    assert _report.drift(a, b).status == "none"
    reworded = with_message(base.format(1, "/x").replace("was created", "was made"))
    assert _report.drift(a, reworded).status == "drift"
    # the change shows the line that changed, not the ids and folders that differ on every run
    renamed = with_message(base.format(140270000000000, "/opt/x").replace("BatchTracer", "VmapTracer"))
    text = "\n".join(c.text for i in _report.drift(a, renamed).items for c in i.changes)
    assert "changed (1 of 2 lines)" in text, text
    assert "- This BatchTracer with object id … was created on line:" in text
    assert "+ This VmapTracer with object id … was created on line:" in text
    assert "140436232305152" not in text
    assert "_execute.py:169" not in text


def test_final_reports_write_each_observation_on_one_line(tmp_path: Path) -> None:
    """The indented report keeps an observation on one line (compact), and reads back unchanged."""
    path = _report.write_report(json.loads(json.dumps(OLD)), tmp_path / "r.json")
    lines = path.read_text().splitlines()
    observed = [line for line in lines if line.lstrip().startswith('"observed"')]
    assert len(observed) == 3
    assert all(line.rstrip(",").endswith("}") for line in observed)
    assert len(lines) > 50  # the rest is still indented
    back = json.loads(path.read_text())
    assert [r.get("observed") for r in back["results"]] == [r.get("observed") for r in OLD["results"]]


def test_an_observed_duration_is_not_drift_but_a_count_is() -> None:
    """An observe claim's durations (``dispatch_s``, ``ready_s``: a call's return and its result's readiness)
    differ on every run -- the history of 23 JAX releases listed them as 22 changes -- while its counts
    (copies, kernels) are behaviour."""
    from jaxpat.report._drift import claim_changes, is_timing
    from jaxpat.report._model import ClaimRecord

    def rec(**measured: object) -> ClaimRecord:
        return ClaimRecord(pattern="p", implementation="reference.x", claim="observe", verdict="held",
                           claimed={}, measured=dict(measured), nodeid="jaxpat::p::claim-observe[x]")

    a = rec(dispatch_s=0.000124, ready_s=0.18739, wait_ms=3.0, copies=0)
    b = rec(dispatch_s=0.000106, ready_s=0.12633, wait_ms=4.5, copies=0)
    assert claim_changes(a, b) == []
    assert [c.path for c in claim_changes(a, rec(dispatch_s=0.0001, ready_s=0.2, wait_ms=3.0, copies=1))] == [
        "copies"]
    assert not any(is_timing(n) for n in ("copies", "kernels", "status", "sizes"))


def test_speed_claim_timings_are_not_drift_but_a_verdict_change_is() -> None:
    """Every figure a speed measurement derives from its clock (the band, the rounds that fitted the budget)
    differs between two runs on one machine; only the verdict, and figures that are not timings, are drift."""
    from jaxpat.report._drift import claim_changes
    from jaxpat.report._model import ClaimRecord

    def rec(verdict: str, **measured: object) -> ClaimRecord:
        base = {"at_least": 2.0, "baseline": "python_loop", "device_kind": "cpu"}
        return ClaimRecord(pattern="p", implementation="reference.x", claim="speedup", verdict=verdict,
                           claimed={}, measured={**base, **measured}, nodeid="jaxpat::p::claim-speedup[x]")

    a = rec("held", seconds=1.0, baseline_seconds=3.0, speedup=3.0, band=[2.5, 3.5], elapsed_s=4.1, rounds=7,
            planned_rounds=7, calls_per_round=10, exhausted=False)
    b = rec("held", seconds=1.2, baseline_seconds=3.3, speedup=2.75, band=[2.2, 3.1], elapsed_s=9.9, rounds=4,
            planned_rounds=5, calls_per_round=3, exhausted=True)
    assert claim_changes(a, b) == []
    c = rec("inconclusive", seconds=1.2, speedup=2.75, device_kind="gpu")
    paths = {ch.path for ch in claim_changes(a, c)}
    assert paths == {"verdict", "device_kind"}
