"""Start-up of a ``jaxpat check`` re-run (conformance/_session.py, _collect.py, _reuse.py, catalog/_loader.py).

- A re-run whose every item is stored replays them in the controller: no xdist worker starts. A change of one
  byte in the catalog makes the run start its workers again and flips the changed case's verdict.
- The probe the controller ran is handed to a worker only when made in that worker's context and naming the
  JAX and jaxlib installed there (never across JAX versions).
- A catalog file is parsed once per judge process (``catalog.load(parsed=...)``), and parsed again when one
  byte of it changes.

The end-to-end tests run the tiny catalog of tests/examples/reuse (plugins ``alpha`` and ``beta``) with one
xdist worker and without the claims (a speed claim always runs: such a run always has workers).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

EXAMPLE = Path(__file__).parent / "examples" / "reuse"
ARGS = ["check", "--catalog", "rcat.yaml", "--pattern", "r-*", "--load", "alpha", "--load", "beta", "-n", "1",
        "--no-claims", "--report", "report.json"]
#: every item of the run (no claims)
ITEMS = {f"jaxpat::r-add::{c}[{p}.add-cpu:0-{t}]" for c in ("ints", "floats") for p in ("alpha", "beta")
         for t in ("eager", "jit")} | {
    "jaxpat::r-scale::near[alpha.scale-cpu:0-eager]", "jaxpat::r-scale::near[alpha.slow-cpu:0-eager]"}
SOLO = "every item's result is stored: replayed in this process, no workers started"


def _copy_example(work: Path) -> None:
    work.mkdir()
    for f in EXAMPLE.iterdir():
        if f.is_file():
            shutil.copy(f, work / f.name)


def _run(work: Path, *extra: str, claims: bool = False,
         workers: str = "1") -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    full = {k: v for k, v in os.environ.items() if k not in ("JAXPAT_FRESH", "FAKE_JAX_VERSION")}
    full.update({"JAXPAT_CACHE_DIR": str(work / "cache"), "JAXPAT_DISABLE_PLUGIN_AUTOLOAD": "1",
                 "JAXPAT_BLOCK_PLUGINS": "reference",
                 "PYTHONPATH": str(work) + os.pathsep + os.environ.get("PYTHONPATH", "")})
    args = [a for a in ARGS if a != "--no-claims"] if claims else ARGS
    args = [workers if a == "1" and args[i - 1] == "-n" else a for i, a in enumerate(args)]
    proc = subprocess.run([sys.executable, "-m", "jaxpat", *args, *extra], cwd=work, env=full,
                          capture_output=True, text=True, timeout=600, check=False)
    return proc, json.loads((work / "report.json").read_text())


def _reused(report: dict[str, Any]) -> set[str]:
    return {r["nodeid"] for r in report["results"] if r.get("reused")}


def _outcomes(report: dict[str, Any]) -> dict[str, str]:
    return {r["nodeid"]: r["outcome"] for r in report["results"]}


def test_a_rerun_with_every_result_stored_starts_no_worker_and_one_changed_byte_brings_them_back(
        tmp_path: Path) -> None:
    work = tmp_path / "w"
    _copy_example(work)
    proc, report = _run(work)  # cold: nothing stored, the items run in the worker
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert set(_outcomes(report)) == ITEMS
    assert not _reused(report)
    assert report["environment"]["judge"]["probe_handed"] is True
    assert SOLO not in proc.stdout
    assert "1 worker" in proc.stdout

    proc, report = _run(work)  # nothing changed: replayed by the controller, no worker
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert SOLO in proc.stdout
    assert "1 worker" not in proc.stdout
    # no worker named in the output; the outer suite's tmp folders ("./popen-gw0/...") are not a worker
    assert not re.search(r"(?<![-/\w])gw0\b", proc.stdout)
    assert _reused(report) == ITEMS
    assert set(_outcomes(report).values()) == {"passed"}
    assert report["environment"]["judge"]["executor_pids"] == {}  # no executor either
    assert report["environment"]["judge"]["probe_handed"] is False  # the controller's own probe
    assert set(report["peak_rss"]["by_process"]) == {"main"}  # the results came from this process alone
    assert "reused: 10 of 10 results (10 passed)" in proc.stdout

    # one byte of the catalog: the ints case now expects 5 where x + 1 is 4
    cat = work / "rcat.yaml"
    text = cat.read_text()
    assert text.count("expect: {$array: [2, 3, 4], dtype: int32}") == 1
    cat.write_text(text.replace("expect: {$array: [2, 3, 4], dtype: int32}",
                                "expect: {$array: [2, 3, 5], dtype: int32}"))
    proc, report = _run(work)
    ints = {n for n in ITEMS if "::ints[" in n}
    assert SOLO not in proc.stdout  # ints must run: the worker starts
    assert "1 worker" in proc.stdout
    assert _reused(report) == ITEMS - ints
    assert report["environment"]["judge"]["probe_handed"] is True  # the worker took the controller's probe
    assert {n: o for n, o in _outcomes(report).items() if n in ints} == dict.fromkeys(ints, "failed")
    assert proc.returncode == 1

    # --fresh (no store, no replay): the controller still probes once, beside its listing, for its workers
    proc, report = _run(work, "--fresh")
    assert "1 worker" in proc.stdout
    assert not _reused(report)
    assert report["environment"]["judge"]["probe_handed"] is True
    # and the worker's executors fork from the controller's fork server (no JAX import of the worker's own)
    assert report["environment"]["judge"]["fork_server"]["shared"] is True
    assert proc.returncode == 1


def test_a_rerun_whose_only_unstored_items_are_speed_claims_measures_them_again_without_workers(
        tmp_path: Path) -> None:
    work = tmp_path / "w"
    _copy_example(work)
    proc, report = _run(work, claims=True, workers="0")  # fills the store: no worker needed (one process fewer)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    speed = "jaxpat::r-scale::claim-speedup[alpha.scale-cpu:0]"
    every = ITEMS | {speed, "jaxpat::r-scale::claim-jit[alpha.scale-cpu:0]",
                     "jaxpat::r-scale::claim-jit[alpha.slow-cpu:0]"}
    assert set(_outcomes(report)) == every
    proc, report = _run(work, claims=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "every item's result is stored but 1 speed claim (never stored: measured again, here)" in proc.stdout
    assert "1 worker" not in proc.stdout
    assert _reused(report) == every - {speed}  # the speed claim was measured again: never reused
    claim = next(c for c in report["claims"] if c["claim"] == "speedup")
    assert "reused" not in claim
    assert claim.get("verdict")  # decided by this run


# ---------------------------------------------------------------------------
# the probe handed to workers
# ---------------------------------------------------------------------------

class _Config:
    """What probe_context and handed_probe read of a pytest config: options (their defaults) and workerinput."""

    def __init__(self, workerinput: dict[str, Any] | None = None) -> None:
        if workerinput is not None:
            self.workerinput = workerinput

    def getoption(self, name: str, default: Any = None) -> Any:
        return {"jaxpat_load": [], "jaxpat_catalog": [], "jaxpat_platforms": None, "jaxpat_all_devices": False,
                "jaxpat_no_cache": True, "jaxpat_cache_dir": None}.get(name, default)


def _answer(**override: Any) -> dict[str, Any]:
    from jaxpat._util import dist_version

    return {"jax": dist_version("jax"), "jaxlib": dist_version("jaxlib"), "numpy": dist_version("numpy"),
            "python": "3", "devices": [{"platform": "cpu", "id": 0, "kind": "cpu", "backend": "cpu"}],
            "platform_devices": {}, "absent": {}, "default_backend": "cpu", "jax_config": {}, **override}


def test_a_worker_takes_the_controllers_probe_only_from_its_own_context_and_jax() -> None:
    from jaxpat.conformance._collect import handed_probe, probe_context

    here = probe_context(_Config())  # type: ignore[arg-type]
    assert handed_probe(_Config({"jaxpat_probe": {"context": here, "answer": _answer()}})) == _answer()  # type: ignore[arg-type]
    # another JAX (or jaxlib) than the one installed here: the worker probes itself
    for field in ("jax", "jaxlib"):
        stale = {"context": here, "answer": _answer(**{field: "0.4.1"})}
        assert handed_probe(_Config({"jaxpat_probe": stale})) is None  # type: ignore[arg-type]
    # made in another context (another interpreter, environment or options): the worker probes itself
    assert handed_probe(_Config({"jaxpat_probe": {"context": "0" * 64, "answer": _answer()}})) is None  # type: ignore[arg-type]
    assert handed_probe(_Config({"jaxpat_probe": {"context": here, "answer": "cpu"}})) is None  # type: ignore[arg-type]
    assert handed_probe(_Config({})) is None  # type: ignore[arg-type]
    assert handed_probe(_Config()) is None  # type: ignore[arg-type]


def test_the_probe_context_follows_the_environment_but_not_pytest_or_the_memory_share(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from jaxpat.conformance._collect import probe_context

    config: Any = _Config()
    before = probe_context(config)
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")  # xdist's own: every worker has its own
    monkeypatch.setenv("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # a worker's memory share (_workers)
    assert probe_context(config) == before
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")  # a worker given its own devices sees other devices
    assert probe_context(config) != before
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    monkeypatch.setenv("JAX_ENABLE_X64", "1")
    assert probe_context(config) != before


# ---------------------------------------------------------------------------
# one parse per catalog file and process
# ---------------------------------------------------------------------------

def test_a_catalog_file_is_parsed_once_per_process_and_again_when_one_byte_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from jaxpat.catalog import _loader, load

    cat = tmp_path / "rcat.yaml"
    cat.write_bytes((EXAMPLE / "rcat.yaml").read_bytes())
    calls: list[str] = []
    real = _loader._parse
    monkeypatch.setattr(_loader, "_parse", lambda raw, name, cache: calls.append(name) or real(raw, name, cache))
    parsed: dict[Any, Any] = {}

    def ints_expect() -> Any:
        catalog = load([cat], use_cache=False, parsed=parsed)
        case = next(c for c in catalog.get("r-add").cases if c.id == "ints")
        return case.to_dict()["expect"]

    first = ints_expect()
    assert ints_expect() == first
    assert len(calls) == 1  # the second load parsed nothing
    text = cat.read_text()
    cat.write_text(text.replace("expect: {$array: [2, 3, 4], dtype: int32}",
                                "expect: {$array: [2, 3, 5], dtype: int32}"))
    assert len(cat.read_bytes()) == len(text.encode())  # one byte changed
    changed = ints_expect()
    assert len(calls) == 2  # parsed again: the new expected value
    assert changed != first
    assert json.dumps(changed).count("5") > json.dumps(first).count("5")
    # without the mapping every load parses (the default)
    load([cat], use_cache=False)
    assert len(calls) == 3


def test_the_judge_parses_the_catalog_while_the_plugins_executors_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """``listing_hellos`` starts the executors it needs, runs ``meanwhile`` (the judge's own catalog parse), and
    only then waits for their hellos: the parse no longer waits for JAX's import in every executor. Order of
    calls, not time (a fake pool records them)."""
    from jaxpat.conformance import _reuse

    calls: list[str] = []

    class Pool:
        def spawn(self, names: list[str]) -> None:
            calls.append("spawn " + ",".join(names))

        def start_all(self, names: list[str]) -> dict[str, Any]:
            calls.append("hellos " + ",".join(names))
            return {n: {"plugins": [], "implementations": []} for n in names}

    monkeypatch.setattr(_reuse, "store_of", lambda config: None)
    out = _reuse.listing_hellos(None, ["alpha", "beta"], Pool(), meanwhile=lambda: calls.append("parse"))  # type: ignore[arg-type]
    assert calls == ["spawn alpha,beta", "parse", "hellos alpha,beta"]
    assert set(out) == {"alpha", "beta"}
