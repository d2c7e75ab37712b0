"""The conformance suite catches wrong implementations, and reports them usefully.

Each test runs pytest in a subprocess (pytester) on a tiny catalog
(tests/examples/conformance/tcat.yaml) with deliberately broken plugins, then
reads the JSON report it wrote.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["pytester"]

#: A prelude that gives the command after it SIGINT's default disposition, then execs it.
SIGINT_AS_AT_A_TERMINAL = [sys.executable, "-c", "import os, signal, sys; signal.signal(signal.SIGINT, "
                           "signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])"]

BASE = ["-p", "no:cacheprovider", "--jaxpat", "--jaxpat-only", "--jaxpat-catalog", "tcat.yaml",
        "--jaxpat-pattern", "t-*", "--jaxpat-no-cache", "--jaxpat-report", "report.json"]


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester directory holding the test catalog and plugins, with only those plugins active."""
    pytester.copy_example("conformance")
    monkeypatch.setenv("JAXPAT_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("JAXPAT_BLOCK_PLUGINS", "reference")
    monkeypatch.setenv("PYTHONPATH", str(pytester.path) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return pytester


def run(pytester: pytest.Pytester, *args: str, timeout: float = 240) -> tuple[Any, dict[str, Any]]:
    result = pytester.runpytest_subprocess(*BASE, *args, timeout=timeout)
    report = json.loads((pytester.path / "report.json").read_text())
    return result, report


def by_impl(report: dict[str, Any], kind: str = "case") -> dict[str, list[dict[str, Any]]]:
    """Results by implementation id (collection problems by node id), of one kind of item."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in report["results"]:
        if r.get("kind") in (kind, "setup"):
            out.setdefault(r.get("implementation") or r["nodeid"], []).append(r)
    return out


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One run of the good and the broken plugins over the test catalog, on two simulated CPU devices."""
    src = Path(__file__).parent / "examples" / "conformance"
    work = tmp_path_factory.mktemp("broken")
    for f in src.iterdir():
        (work / f.name).write_bytes(f.read_bytes())
    env = {**os.environ, "JAXPAT_DISABLE_PLUGIN_AUTOLOAD": "1", "JAXPAT_BLOCK_PLUGINS": "reference",
           "PYTHONPATH": str(work) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "pytest", *BASE, "--jaxpat-load", "good", "--jaxpat-load", "broken",
           "--jaxpat-cpu-devices", "2", "--jaxpat-all-devices", "-rA"]
    proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=300)
    report = json.loads((work / "report.json").read_text())
    return {"proc": proc, "report": report, "impls": by_impl(report), "agreement": by_impl(report, "agreement")}


def outcomes(run: dict[str, Any], impl: str) -> set[str]:
    return {r["outcome"] for r in run["impls"][impl]}


def messages(run: dict[str, Any], impl: str) -> str:
    return "\n".join(r.get("message") or "" for r in run["impls"][impl])


# ---------------------------------------------------------------------------

def test_correct_plugin_passes_everything(broken_run: dict[str, Any]) -> None:
    """A correct third-party plugin passes every item on every device and transform."""
    for name in ("good.cumsum", "good.square", "good.setitem", "good.list_sum"):
        assert outcomes(broken_run, name) == {"passed"}, messages(broken_run, name)
    devices = {r["device"] for r in broken_run["impls"]["good.cumsum"]}
    transforms = {r["transform"] for r in broken_run["impls"]["good.cumsum"]}
    assert devices == {"cpu:0", "cpu:1"}
    assert transforms == {"eager", "jit", "vmap"}
    assert broken_run["proc"].returncode == 1  # the broken ones fail the run


@pytest.mark.parametrize(("impl", "fragment"), [
    ("broken.wrong_value", "values differ exactly"),
    ("broken.off_by_one", "expected 1, got 0"),
    ("broken.wrong_dtype", "dtype mismatch: expected int32, got float32"),
    ("broken.wrong_shape", "shape mismatch: expected ["),
    ("broken.wrong_tree", "expected a int32 array of shape [5], got a tuple of 1"),
    ("broken.raises", "unexpected exception RuntimeError: boom from a broken plugin"),
    ("broken.no_raise", "expected TypeError matching 'immutable' to be raised, but the call returned"),
    ("broken.mutates", "mutated its inputs"),
    ("broken.sets_x64", "changed global JAX config: jax_enable_x64 from False to True"),
])
def test_broken_implementation_fails_with_message(
    broken_run: dict[str, Any], impl: str, fragment: str, record_property: Any,
) -> None:
    """Each kind of wrong implementation fails, and the message names what is wrong.

    Every item fails, except for ``sets_x64``: its config change happens in
    Python, so only items that run its Python body (not a cached jit trace) see it.
    """
    record_property("reliability", "broken or hostile plugins")
    results = broken_run["impls"][impl]
    if impl == "broken.sets_x64":
        results = [r for r in results if r["transform"] == "eager"]
    assert {r["outcome"] for r in results} == {"failed"}, messages(broken_run, impl)
    assert all(fragment in (r["message"] or "") for r in results), messages(broken_run, impl)


def test_wrong_value_message_gives_errors_and_values(broken_run: dict[str, Any]) -> None:
    """A value mismatch reports the mismatch count, max errors, expected and actual."""
    text = messages(broken_run, "broken.wrong_value")
    for fragment in ("mismatched elements: 5 / 5", "max abs diff 1", "expected: [ 1,  3,  6, 10, 15]",
                     "actual:   [ 2,  4,  7, 11, 16]"):
        assert fragment in text


def test_output_on_wrong_device_is_caught(broken_run: dict[str, Any], record_property: Any) -> None:
    """Output placed on another device than the item's fails on that item only."""
    record_property("reliability", "broken or hostile plugins")
    results = {r["device"]: r for r in broken_run["impls"]["broken.wrong_device"] if r["transform"] == "eager"}
    assert results["cpu:0"]["outcome"] == "failed"
    assert "output on the wrong device: result lives on cpu:1, the item runs on cpu:0" in results["cpu:0"]["message"]
    assert results["cpu:1"]["outcome"] == "passed"


def test_nondeterministic_output_is_caught(broken_run: dict[str, Any], record_property: Any) -> None:
    """Two runs of the same item with different bits fail as non-deterministic."""
    record_property("reliability", "broken or hostile plugins")
    # the implementation adds a global call counter's parity: the first item's two runs differ; later items'
    # results depend on how many calls came before them (a trace under jit calls it once), so only it is checked
    [eager] = [r for r in broken_run["impls"]["broken.nondeterministic"]
               if r["transform"] == "eager" and r["device"] == "cpu:0"]
    assert eager["outcome"] == "failed"
    assert "non-deterministic" in eager["message"]


def test_devices_that_disagree_are_caught(broken_run: dict[str, Any]) -> None:
    """With several devices, one item per case and transform compares the devices' results with each other."""
    good = broken_run["agreement"]["good.cumsum"]
    assert {r["outcome"] for r in good} == {"passed"}
    assert {r["transform"] for r in good} == {"eager", "jit", "vmap"}
    bad = broken_run["agreement"]["broken.device_dependent"]
    assert {r["outcome"] for r in bad} == {"failed"}
    [eager] = [r for r in bad if r["transform"] == "eager"]  # under jit it fails earlier: .devices() of a tracer
    assert "devices disagree:\ncpu:0 vs cpu:1: result: differs bit for bit" in eager["message"]


def test_known_deviation_that_passes_is_reported(broken_run: dict[str, Any], record_property: Any) -> None:
    """A strict xfail from a catalog deviation that now passes is reported as xpassed and fails the run."""
    record_property("reliability", "broken or hostile plugins")
    [result] = [r for r in broken_run["impls"]["good.double"] if r["device"] == "cpu:0"]
    assert result["outcome"] == "xpassed"
    assert "known deviation" in (result["message"] or "")


def test_failures_carry_a_reproduction(broken_run: dict[str, Any]) -> None:
    """Every failure records a runnable reproduction naming the case, device and call."""
    [r] = [r for r in broken_run["impls"]["broken.wrong_dtype"] if r["transform"] == "jit" and r["device"] == "cpu:0"]
    assert "run_case('t-cumsum', 'five', 'broken.wrong_dtype', transform='jit', device='cpu:0'" in r["repro"]
    assert "from jaxpat.conformance import run_case" in r["repro"]


def test_grad_items_check_expected_gradient(broken_run: dict[str, Any]) -> None:
    """The grad transform compares the catalog's gradient and verifies the claimed modes numerically."""
    [r] = [r for r in broken_run["impls"]["good.square"] if r["transform"] == "grad" and r["device"] == "cpu:0"]
    assert r["outcome"] == "passed"
    assert r["check_grads"] == ["fwd", "rev"]


def test_report_is_complete_and_valid(broken_run: dict[str, Any]) -> None:
    """The report validates against its JSON Schema and records environment, counts and compiles."""
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(__file__).parents[1] / "report" / "report-schema.json").read_text())
    report = broken_run["report"]
    jsonschema.validate(report, schema)
    assert report["status"] == "complete"
    assert {d["id"] for d in report["environment"]["devices"]} == {"cpu:0", "cpu:1"}
    assert report["summary"]["total"] == len(report["results"]) > 40
    assert report["compiles"]["count"] > 0
    assert report["summary"]["failed"] > 0


def test_terminal_shows_the_matrix(broken_run: dict[str, Any]) -> None:
    """The terminal output ends with the pattern × platform/transform matrix."""
    out = broken_run["proc"].stdout
    assert "jaxpat conformance matrix" in out
    section = out[out.index("jaxpat conformance matrix"):]
    header = next(line for line in section.splitlines() if line.startswith("pattern"))
    assert header.split()[:3] == ["pattern", "eager", "jit"]
    assert "legend:" in section
    assert ". no item in this column" in section
    assert "compilations: " in section
    assert "XLA programs compiled" in section
    matrix = section[: section.index("legend:")]
    assert max(len(line) for line in matrix.splitlines()) <= 100
    # failing items are listed with their reason on the same line
    assert re.search(r"^(✗|F) jaxpat::\S+: \S", section, re.M)


# ---------------------------------------------------------------------------

def test_plugin_import_error_and_raising_hook_are_isolated(suite: pytest.Pytester, record_property: Any) -> None:
    """A plugin that fails to import or whose hook raises is one failing item; the others still run."""
    record_property("reliability", "broken or hostile plugins")
    _, report = run(suite, "--jaxpat-load", "import_error", "--jaxpat-load", "hook_raises",
                         "--jaxpat-load", "good")
    impls = by_impl(report)
    assert impls["jaxpat::plugin[import_error]"][0]["outcome"] == "error"
    assert "needs a library that is not installed" in impls["jaxpat::plugin[import_error]"][0]["message"]
    hook = [r for r in report["results"] if "hook_raises" in r["nodeid"]]
    assert hook
    assert hook[0]["outcome"] == "error"
    assert "hook exploded" in hook[0]["message"]
    assert outcomes({"impls": impls}, "good.cumsum") == {"passed"}


def test_invalid_catalog_is_reported_and_report_written(suite: pytest.Pytester, record_property: Any) -> None:
    """A malformed extra catalog fails one item naming file, line and field; the report is still written."""
    record_property("reliability", "malformed catalog files")
    suite.makefile(".yaml", bad="version: 1\npatterns:\n  - id: t-bad\n    family: scann\n")
    result, report = run(suite, "--jaxpat-catalog", "bad.yaml", "--jaxpat-load", "good")
    [r] = [r for r in report["results"] if r["nodeid"] == "jaxpat::plugin[catalog:bad.yaml]"]
    assert r["outcome"] == "error"
    assert "bad.yaml:4:13: pattern 't-bad', field 'family'" in r["message"]
    assert "did you mean `scan`?" in r["message"]
    assert outcomes({"impls": by_impl(report)}, "good.cumsum") == {"passed"}
    assert report["status"] == "complete"
    assert result.ret == 1


def test_absent_platform_is_skipped_with_existing_devices(suite: pytest.Pytester) -> None:
    """Requesting a platform JAX does not have skips with the devices that exist; strict makes it fail."""
    _, report = run(suite, "--jaxpat-platforms", "cpu,tpu", "--jaxpat-load", "good")
    [r] = [r for r in report["results"] if r["nodeid"] == "jaxpat::platform[tpu]"]
    assert r["outcome"] == "skipped"
    assert "devices here: cpu:0" in r["message"]
    _, report = run(suite, "--jaxpat-platforms", "tpu", "--jaxpat-strict-platforms")
    [r] = [r for r in report["results"] if r["nodeid"] == "jaxpat::platform[tpu]"]
    assert r["outcome"] == "error"


def test_hang_and_crash_are_isolated_under_xdist(suite: pytest.Pytester, record_property: Any) -> None:
    """A hang inside XLA times out, os._exit and a segfault crash a worker; each fails, the run goes on."""
    record_property("reliability", "broken or hostile plugins")
    pytest.importorskip("xdist")
    _, report = run(suite, "--jaxpat-load", "hangs", "--jaxpat-transform", "eager",
                         "--jaxpat-timeout", "3", "-n", "2", "--dist", "loadscope", timeout=300)
    impls = by_impl(report)
    forever = impls["hangs.forever"][0]
    exits = impls["hangs.exits"][0]
    segfault = impls["hangs.segfault"][0]
    assert forever["outcome"] in ("failed", "error"), forever
    for crashed in (exits, segfault):
        assert crashed["outcome"] in ("failed", "error"), crashed
        assert "crashed" in (crashed["message"] or "")
    assert impls["hangs.fine"][0]["outcome"] == "passed"
    assert report["status"] == "complete"


def test_sigint_leaves_a_valid_interrupted_report(suite: pytest.Pytester, record_property: Any) -> None:
    """Ctrl-C mid-run leaves a valid report marked interrupted: what finished, and every other item not run.

    The item that was running when Ctrl-C came is not run (it did not pass), and the exit status says so.
    """
    record_property("reliability", "interrupted runs")
    suite.makepyfile(slow="""
        import pathlib, time
        from jaxpat.patterns import Implementation, hookimpl

        def make(i):
            def f(xs):
                # the first item finishes; every later one announces itself, then takes long enough
                # that Ctrl-C (sent once the announcement is seen) surely lands while it runs
                if i > 0:
                    pathlib.Path(f"running-{i}").touch()
                    time.sleep(60)
                import jax.numpy as jnp
                return jnp.cumsum(xs)
            return f

        @hookimpl
        def jaxpat_implementations():
            return [Implementation("t-cumsum", f"slow{i}", make(i)) for i in range(30)]
    """)
    cmd = [sys.executable, "-m", "pytest", *BASE, "--jaxpat-load", "slow", "--jaxpat-transform", "eager"]
    # SIGINT's default disposition, as at a terminal (a suite run in the background of a non-interactive
    # shell would hand the child SIGINT ignored); set in an exec'd prelude, not a preexec_fn (threads)
    proc = subprocess.Popen([*SIGINT_AS_AT_A_TERMINAL, *cmd], cwd=suite.path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    report_path = suite.path / "report.json"
    deadline = time.time() + 120
    while time.time() < deadline and not (suite.path / "running-1").exists():  # slow0 passed, slow1 is running
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    report = json.loads(report_path.read_text())
    assert report["status"] == "interrupted"
    assert proc.returncode != 0
    done = [r for r in report["results"] if r["outcome"] == "passed"]
    assert len(done) == 1
    not_run = [r for r in report["results"] if r["outcome"] == "not_run"]
    assert len(done) + len(not_run) == 30 == report["summary"]["total"]
    assert all(r["message"].startswith("not run") and "interrupted" in r["message"] for r in not_run)
    in_flight = [r for r in not_run if "while this item was running" in r["message"]]
    assert len(in_flight) == 1, [r["message"] for r in not_run]


def _count_passed(path: Path) -> int:
    try:
        return sum(r["outcome"] == "passed" for r in json.loads(path.read_text())["results"])
    except (OSError, ValueError, KeyError):
        return 0


def test_plugin_is_inert_without_jaxpat(pytester: pytest.Pytester) -> None:
    """Without --jaxpat, a pytest run imports neither JAX nor the registry and collects nothing extra."""
    pytester.makepyfile(test_plain="""
        import sys
        def test_no_jax():
            assert "jax" not in sys.modules
            assert "jaxpat.patterns._registry" not in sys.modules
            assert "jaxpat.conformance._session" not in sys.modules
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
