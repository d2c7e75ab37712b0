"""Reuse of unchanged results (conformance/_reuse.py): a re-run reuses what nothing changed, and re-runs exactly
the items whose case, tolerance, implementation code or JAX version changed.

The end-to-end tests share one cold run (``cold``) of ``jaxpat check`` over a tiny catalog
(tests/examples/reuse: two patterns, plugins ``alpha`` and ``beta``); each copies its folder (catalog, plugins,
store), changes one thing and runs again. Each change also flips the verdict of the items it affects, so a key
that left that component out would reuse a stale pass: the counter-test is in the same assertions.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from jaxpat.conformance import _reuse

EXAMPLE = Path(__file__).parent / "examples" / "reuse"
ARGS = ["check", "--catalog", "rcat.yaml", "--pattern", "r-*", "--load", "alpha", "--load", "beta", "-n", "0",
        "--report", "report.json"]
#: every item of the run; the speedup claim is the one a re-run never reuses
ITEMS = {f"jaxpat::r-add::{c}[{p}.add-cpu:0-{t}]" for c in ("ints", "floats") for p in ("alpha", "beta")
         for t in ("eager", "jit")} | {
    "jaxpat::r-scale::near[alpha.scale-cpu:0-eager]", "jaxpat::r-scale::near[alpha.slow-cpu:0-eager]",
    "jaxpat::r-scale::claim-jit[alpha.scale-cpu:0]", "jaxpat::r-scale::claim-jit[alpha.slow-cpu:0]",
    "jaxpat::r-scale::claim-speedup[alpha.scale-cpu:0]"}
SPEED = "jaxpat::r-scale::claim-speedup[alpha.scale-cpu:0]"


def _run(work: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str],
                                                                             dict[str, Any]]:
    full = {k: v for k, v in os.environ.items() if k not in ("JAXPAT_FRESH", "FAKE_JAX_VERSION")}
    full.update({"JAXPAT_CACHE_DIR": str(work / "cache"), "JAXPAT_DISABLE_PLUGIN_AUTOLOAD": "1",
                 "JAXPAT_BLOCK_PLUGINS": "reference",
                 "PYTHONPATH": str(work) + os.pathsep + os.environ.get("PYTHONPATH", ""), **(env or {})})
    proc = subprocess.run([sys.executable, "-m", "jaxpat", *ARGS, *extra], cwd=work, env=full,
                          capture_output=True, text=True, timeout=600, check=False)
    report = json.loads((work / "report.json").read_text())
    return proc, report


def _reused(report: dict[str, Any]) -> set[str]:
    return {r["nodeid"] for r in report["results"] if r.get("reused")}


def _outcomes(report: dict[str, Any]) -> dict[str, str]:
    return {r["nodeid"]: r["outcome"] for r in report["results"]}


@pytest.fixture(scope="module")
def cold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder after one cold run: the catalog, the plugins, and the store that run filled."""
    work = tmp_path_factory.mktemp("reuse-cold")
    for f in EXAMPLE.iterdir():
        if f.is_file():
            shutil.copy(f, work / f.name)
    proc, report = _run(work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert set(_outcomes(report)) == ITEMS
    assert not _reused(report)
    assert "reused: none of 13 results" in proc.stdout
    return work


@pytest.fixture
def work(cold: Path, tmp_path: Path) -> Path:
    """A copy of the cold run's folder (store included), for one test to change."""
    dest = tmp_path / "w"
    shutil.copytree(cold, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_a_rerun_with_nothing_changed_reuses_everything_but_speed_claims(work: Path) -> None:
    proc, report = _run(work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _reused(report) == ITEMS - {SPEED}
    # the speed claim ran again: its figures are timings, never stored
    speed = next(c for c in report["claims"] if c["claim"] == "speedup")
    assert "reused" not in speed
    assert all(c.get("reused") for c in report["claims"] if c["claim"] != "speedup")
    assert "reused: 12 of 13 results (12 passed) from earlier runs" in proc.stdout
    assert report["compiles"]["count"] <= 2  # only the speed claim can compile: nothing of the cases ran
    # the listing came from the store: no executor had started when the first (reused) item was reported
    assert report["environment"]["judge"]["executor_pids"] == {}
    first = next(r for r in report["results"] if r["nodeid"] in ITEMS - {SPEED})
    assert set(first["reused"]) == {"run", "date"}
    from jaxpat._jsonschema import problems
    from jaxpat.report._model import schema

    assert problems(report, schema()) == []


def test_changing_a_cases_expected_value_reruns_only_that_cases_items(work: Path) -> None:
    cat = work / "rcat.yaml"
    text = cat.read_text()
    assert "expect: {$array: [2, 3, 4], dtype: int32}" in text
    cat.write_text(text.replace("expect: {$array: [2, 3, 4], dtype: int32}",
                                "expect: {$array: [2, 3, 5], dtype: int32}"))
    proc, report = _run(work)
    ints = {n for n in ITEMS if "::ints[" in n}
    assert _reused(report) == ITEMS - ints - {SPEED}
    # with the case left out of the key these would be stale passes
    assert {n: o for n, o in _outcomes(report).items() if n in ints} == dict.fromkeys(ints, "failed")
    assert proc.returncode == 1


def test_changing_a_tolerance_reruns_that_cases_items_and_the_patterns_claims(work: Path) -> None:
    cat = work / "rcat.yaml"
    text = cat.read_text()
    assert "rtol: 1.0e-3" in text
    cat.write_text(text.replace("rtol: 1.0e-3", "rtol: 1.0e-5"))
    proc, report = _run(work)
    scale = {n for n in ITEMS if n.startswith("jaxpat::r-scale::")}
    assert _reused(report) == ITEMS - scale  # a claim's key holds its whole pattern, tolerances included
    near = {n for n in scale if "::near[" in n}
    assert {n: o for n, o in _outcomes(report).items() if n in near} == dict.fromkeys(near, "failed")
    assert proc.returncode == 1


def test_changing_one_implementations_source_reruns_only_its_items(work: Path) -> None:
    src = work / "beta.py"
    src.write_text(src.read_text().replace("STEP = 1", "STEP = 2"))
    proc, report = _run(work)
    beta = {n for n in ITEMS if "[beta." in n}
    assert _reused(report) == ITEMS - beta - {SPEED}
    assert {n: o for n, o in _outcomes(report).items() if n in beta} == dict.fromkeys(beta, "failed")
    assert proc.returncode == 1


def test_changing_the_jax_version_in_the_probe_reruns_everything(work: Path) -> None:
    # sitecustomize.py makes jax.__version__ read 0.12.99 in the probe and the executors; alpha.add then adds 2
    proc, report = _run(work, env={"FAKE_JAX_VERSION": "0.12.99"})
    assert report["environment"]["jax"] == "0.12.99"
    assert not _reused(report)
    alpha_add = {n for n in ITEMS if "[alpha.add-" in n}
    assert {n: o for n, o in _outcomes(report).items() if n in alpha_add} == dict.fromkeys(alpha_add, "failed")
    assert proc.returncode == 1


def test_fresh_runs_every_item_and_leaves_the_store_as_it_was(work: Path) -> None:
    """--fresh neither reads nor writes the store: a verdict to cite comes from this run alone, and a run with
    --fresh cannot change what later runs reuse."""
    store = work / "cache" / "results"
    before = {p: p.stat().st_mtime_ns for p in store.rglob("*.json")}
    assert before
    for p in list(before)[:2]:  # two entries gone: a run that stored would write them again
        p.unlink()
    proc, report = _run(work, "--fresh")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not _reused(report)
    assert "reused:" not in proc.stdout
    after = {p: p.stat().st_mtime_ns for p in store.rglob("*.json")}
    assert after == {p: t for p, t in before.items() if p not in list(before)[:2]}
    proc, report = _run(work)  # the store as it was: the two items without an entry run, the rest are reused
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(ITEMS - {SPEED} - _reused(report)) <= 2


def test_jaxpat_fresh_turns_reuse_off() -> None:
    from jaxpat import _env

    assert _env.flag(_env.FRESH, {"JAXPAT_FRESH": "yes"})
    assert not _env.flag(_env.FRESH, {})


def test_corrupt_and_forged_store_entries_are_ignored_and_counted(work: Path) -> None:
    entries = sorted((work / "cache" / "results").rglob("*.json"))
    by_node = {e["nodeid"]: p for p in entries if "nodeid" in (e := json.loads(p.read_text()))}  # not hellos
    victims = sorted(n for n in by_node if "[beta." in n)
    assert len(victims) == 4
    by_node[victims[0]].write_bytes(by_node[victims[0]].read_bytes()[:40])  # truncated
    by_node[victims[1]].write_bytes(b"\x00\xff not json")
    forged = json.loads(by_node[victims[2]].read_text())
    forged["outcome"], forged["message"] = "failed", "forged"  # checksum no longer matches
    by_node[victims[2]].write_text(json.dumps(forged))
    other = json.loads(by_node[victims[0 + 3]].read_text())
    other["key"] = "0" * 64  # an entry of another key
    by_node[victims[3]].write_text(json.dumps(other))
    proc, report = _run(work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _reused(report) == ITEMS - set(victims) - {SPEED}
    assert {r["nodeid"] for r in report["results"] if r.get("reuse_ignored")} == set(victims)
    assert "4 stored entries ignored (corrupt or not jaxpat's)" in proc.stdout
    assert all(o == "passed" for o in _outcomes(report).values())


# ---------------------------------------------------------------------------
# the store and the digests, without JAX
# ---------------------------------------------------------------------------

def _entry(n: int = 0) -> dict[str, Any]:
    return {"outcome": "passed", "message": "", "facts": {"n": n}, "nodeid": "x", "traceback": "", "run": "r",
            "date": "d"}


def test_the_store_round_trips_and_refuses_what_is_not_an_entry_of_its_key(tmp_path: Path) -> None:
    store = _reuse.Store(tmp_path)
    key, other = "a" * 64, "b" * 64
    assert store.get(key) is None
    assert store.ignored == 0
    store.put(key, _entry())
    assert store.get(key)["facts"] == {"n": 0}
    store.path(other).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(store.path(key), store.path(other))  # a valid entry under the wrong name
    assert store.get(other) is None
    store.path(other).write_bytes(b"{" * 100_000)  # deep nesting
    assert store.get(other) is None
    store.path(other).write_bytes(b" " * (_reuse.MAX_ENTRY_BYTES + 10))
    assert store.get(other) is None
    assert store.ignored == 3
    assert not list(store.path(key).parent.glob(".tmp-*"))


def test_concurrent_writers_leave_a_whole_entry(tmp_path: Path) -> None:
    store = _reuse.Store(tmp_path)
    key = "c" * 64
    threads = [threading.Thread(target=lambda i=i: [store.put(key, _entry(i)) for _ in range(30)]) for i in range(8)]
    for t in threads:
        t.start()
    reads = [store.get(key) for _ in range(200)]
    for t in threads:
        t.join()
    assert store.ignored == 0
    assert store.write_errors == 0
    assert all(r is None or r["facts"]["n"] in range(8) for r in reads)
    assert store.get(key)["facts"]["n"] in range(8)


def test_a_tree_digest_follows_content_not_location(tmp_path: Path) -> None:
    a, b = tmp_path / "a" / "pkg", tmp_path / "b" / "pkg"
    for d in (a, b):
        (d / "__pycache__").mkdir(parents=True)
        (d / "__init__.py").write_text("X = 1\n")
        (d / "__pycache__" / "m.pyc").write_bytes(os.urandom(8))
    assert _reuse.tree_digest([a]) == _reuse.tree_digest([b])
    (b / "__init__.py").write_text("X = 2\n")
    assert _reuse.tree_digest([a]) != _reuse.tree_digest([b])
    (b / "__init__.py").write_text("X = 1\n")
    (b / "data.bin").write_bytes(b"weights")  # not only Python: any file of the package
    assert _reuse.tree_digest([a]) != _reuse.tree_digest([b])


def test_an_installed_distributions_files_are_in_its_digest() -> None:
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        distribution("jaxpat-example-plugin")
    except PackageNotFoundError:
        pytest.skip("the example plugin is not installed (README's set-up installs it)")
    digest = _reuse.plugin_digest("jaxpat_example_plugin", "jaxpat-example-plugin")
    assert digest is not None
    assert len(digest) == 64
    assert _reuse.plugin_digest("jaxpat_example_plugin", "no-such-distribution") is None
    assert _reuse.plugin_digest("no_such_module_anywhere", None) is None


def test_timing_figures_are_recognised() -> None:
    assert _reuse._timed([{"measured": {"seconds": [0.1], "baseline_seconds": [0.3]}}])
    assert not _reuse._timed([{"measured": {"jit": "works"}}])
    assert "speedup" in _reuse.TIMED_CLAIMS


def test_the_html_page_marks_reused_items() -> None:
    from jaxpat import report as _report
    from jaxpat.report._html import _payload

    data = _report.new_report({"host": "h"}, ["jaxpat", "check"])
    ran = {"nodeid": "jaxpat::p::c[x.y-cpu:0-jit]", "outcome": "passed", "duration": 0.5, "message": None,
           "pattern": "p", "kind": "case", "transform": "jit", "platform": "cpu"}
    data["results"] = [ran, {**ran, "nodeid": "jaxpat::p::c[x.y-cpu:0-eager]", "transform": "eager",
                             "reused": {"run": "abc", "date": "2026-12-07T07:00:00+0000"}}]
    data["status"] = "complete"
    _report.summarize(data)
    payload = _payload(_report.Report.from_dict(data), None)
    reused = [payload["items"]["id"][i] for i in payload["items"]["u"]]
    assert reused == ["jaxpat::p::c[x.y-cpu:0-eager]"]


_GAMMA_INIT = '''"""A plugin with a catalog file of its own (tests/test_reuse.py): its hello names the file by path."""
from pathlib import Path

from jaxpat.patterns import Implementation, hookimpl


def triple(x):
    return 3 * x


@hookimpl
def jaxpat_catalog_files():
    return [(Path(__file__).parent.parent / "gcat.yaml").resolve()]  # beside the package: not in its code digest


@hookimpl
def jaxpat_implementations():
    return [Implementation("g-triple", "triple", triple)]
'''

_GAMMA_CATALOG = """version: 1
patterns:
  - id: g-triple
    family: arrays
    title: Triple
    summary: 3x, elementwise.
    source: {doc: "tests/test_reuse.py"}
    signature: {args: [x]}
    transforms: [eager]
    cases:
      - id: ints
        args: {x: {$array: [1, 2], dtype: int32}}
        expect: {$array: [3, 6], dtype: int32}
        provenance: {kind: math, note: "3*1, 3*2"}
"""


def test_a_stored_listing_never_names_another_environments_catalog_file(tmp_path: Path) -> None:
    """A stored hello names its plugin's catalog file by absolute path. When the plugin's folder moves (another
    venv, another checkout, CI's temporary environment deleted), a re-run with the same store must list the
    plugin again from the files where they are now, not read (or fail to read) the old path. Counter-check:
    with the hello's key and entry blind to location, the second run fails on the deleted file."""
    cache = tmp_path / "cache"

    def run(site: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
        env = {k: v for k, v in os.environ.items() if k not in ("JAXPAT_FRESH", "FAKE_JAX_VERSION")}
        env.update({"JAXPAT_CACHE_DIR": str(cache), "JAXPAT_DISABLE_PLUGIN_AUTOLOAD": "1",
                    "JAXPAT_BLOCK_PLUGINS": "reference",
                    "PYTHONPATH": str(site) + os.pathsep + os.environ.get("PYTHONPATH", "")})
        proc = subprocess.run([sys.executable, "-m", "jaxpat", "check", "--load", "gamma", "--pattern", "g-*",
                               "-n", "0", "--no-claims", "--report", "report.json"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600, check=False)
        return proc, json.loads((tmp_path / "report.json").read_text())

    first = tmp_path / "env-a" / "gamma"
    first.mkdir(parents=True)
    (first / "__init__.py").write_text(_GAMMA_INIT)
    (first.parent / "gcat.yaml").write_text(_GAMMA_CATALOG)
    proc, report = run(first.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _outcomes(report) == {"jaxpat::g-triple::ints[gamma.triple-cpu:0-eager]": "passed"}
    # a copy elsewhere, the first still there (not on the path): its stored hello names env-a's file
    shutil.copytree(tmp_path / "env-a", tmp_path / "env-b")
    (tmp_path / "env-b" / "gcat.yaml").write_text(_GAMMA_CATALOG.replace("[3, 6]", "[3, 7]"))
    proc, report = run(tmp_path / "env-b")
    assert proc.returncode == 1, proc.stdout + proc.stderr  # env-b's catalog expects [3, 7]: a failure
    assert _outcomes(report) == {"jaxpat::g-triple::ints[gamma.triple-cpu:0-eager]": "failed"}
    shutil.rmtree(tmp_path / "env-b")
    shutil.move(str(tmp_path / "env-a"), str(tmp_path / "env-c"))  # the first environment is gone
    proc, report = run(tmp_path / "env-c")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "cannot read" not in proc.stdout + proc.stderr
    assert _outcomes(report) == {"jaxpat::g-triple::ints[gamma.triple-cpu:0-eager]": "passed"}
    # the listing came from the plugin where it is now: its executor started
    assert report["environment"]["judge"]["executor_pids"] != {}
    proc, report = run(tmp_path / "env-c")  # and, stored from there, is reused there
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["environment"]["judge"]["executor_pids"] == {}


def test_a_stored_hello_is_refused_when_a_catalog_file_it_names_changed_or_went(tmp_path: Path) -> None:
    """The entry checks behind the test above, on the store itself: a hello is reused only while every catalog
    file it names still has the content it had when stored, and lies where the plugin is found now."""
    cat = tmp_path / "site" / "gcat.yaml"
    cat.parent.mkdir()
    cat.write_text(_GAMMA_CATALOG)
    hello = {"protocol": 1, "plugins": [{"name": "gamma", "catalog_files": [str(cat)]}], "implementations": [],
             "errors": []}
    store = _reuse.Store(tmp_path / "store")
    key = "ab" + "0" * 62
    store.put(key, {"hello": hello, "files": {str(cat): _reuse._file_digest(cat)}, "run": "r", "date": "d"})
    assert store.get(key, _reuse._valid_hello) is not None
    assert _reuse._under(str(cat), [str(tmp_path / "site")])
    assert not _reuse._under(str(cat), [str(tmp_path / "elsewhere"), str(tmp_path / "sit")])
    cat.write_text(_GAMMA_CATALOG.replace("[3, 6]", "[3, 7]"))
    assert store.get(key, _reuse._valid_hello) is None
    cat.unlink()
    assert store.get(key, _reuse._valid_hello) is None
    # an entry without the files' digests (as stored before this check) is not reused either
    store.put(key, {"hello": hello, "run": "r", "date": "d"})
    assert store.get(key, _reuse._valid_hello) is None
