"""Multi-device cases: placement and value checks catch wrong implementations; missing devices skip.

The conformance runs happen in subprocesses (JAX's CPU device count is fixed at
start-up) on 8 simulated CPU devices, limited to a few patterns so they stay quick.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jaxpat import catalog
from jaxpat.catalog._build import merge_tolerance
from jaxpat.conformance import _workers

EXAMPLES = Path(__file__).parent / "examples" / "devices"
BASE = ["-p", "no:cacheprovider", "--jaxpat", "--jaxpat-only", "--jaxpat-no-cache", "--jaxpat-report", "report.json"]


def conformance(tmp: Path, *args: str, wrong: bool = True) -> tuple[subprocess.CompletedProcess,
                                                                    dict[str, dict[str, Any]]]:
    """Run the suite in a subprocess with the wrong implementations loaded (unless not ``wrong``: the shipped
    ones alone, with no executor for a plugin that has nothing selected); results by node id."""
    for f in EXAMPLES.iterdir():
        (tmp / f.name).write_bytes(f.read_bytes())
    env = {**os.environ, "JAXPAT_DISABLE_PLUGIN_AUTOLOAD": "1",
           "PYTHONPATH": str(tmp) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("XLA_FLAGS", None)
    load = ["--jaxpat-load", "wrongdev"] if wrong else []
    cmd = [sys.executable, "-m", "pytest", *BASE, *load, "--jaxpat-catalog", "dcat.yaml", *args]
    proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
    report = json.loads((tmp / "report.json").read_text())
    return proc, {r["nodeid"]: r for r in report["results"]}


@pytest.fixture(scope="module")
def eight(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    patterns = ["sharding-jit-out-shardings", "shard-map-ppermute", "devices-committed", "devices-device-get",
                "devices-matmul-precision", "devices-scatter-add", "td-noisy-declared"]
    args = ["--jaxpat-cpu-devices", "8"] + [x for p in patterns for x in ("--jaxpat-pattern", p)]
    proc, results = conformance(tmp_path_factory.mktemp("eight"), *args)
    assert results, proc.stdout + proc.stderr
    return results


def pick(results: dict[str, dict[str, Any]], impl: str, case: str | None = None) -> list[dict[str, Any]]:
    out = [r for r in results.values() if r.get("implementation") == impl and (case is None or r["case"] == case)]
    assert out, f"no results for {impl} {case}"
    return out


def test_reference_passes_on_the_whole_device_set(eight: dict[str, dict[str, Any]]) -> None:
    """One item per case and transform runs on all 8 devices, with an id naming the device indices."""
    ref = [r for r in eight.values() if r.get("plugin") == "reference"]
    assert ref
    assert {r["outcome"] for r in ref} == {"passed"}, [r["message"] for r in ref if r["message"]]
    item = eight["jaxpat::shard-map-ppermute::ring-of-8[reference.shard_map-cpu:0..7-jit]"]
    assert item["devices"] == [f"cpu:{i}" for i in range(8)]
    assert item["device_kind"] == "cpu"
    assert item["backend"] == "cpu"


@pytest.mark.parametrize(("impl", "fragment"), [
    ("wrongdev.replicated", "placement differs from the case's `shards`"),
    ("wrongdev.reversed_devices", "missing:    device 0: [0:"),
    ("wrongdev.device_1", "unexpected: device 1: [0:3]"),
    ("wrongdev.no_host", "result[1]: expected a NumPy array on the host, got ArrayImpl"),
    ("wrongdev.roll_backwards", "values differ exactly"),
    ("wrongdev.bf16", "values differ beyond rtol=1e-06"),
])
def test_wrong_placement_or_values_fail(eight: dict[str, dict[str, Any]], impl: str, fragment: str) -> None:
    """Each kind of multi-device mistake fails every item it affects, with a message naming it."""
    results = pick(eight, impl)
    if impl == "wrongdev.bf16":
        # small integers are exact in bfloat16: that case passes on every platform, by design
        assert {r["outcome"] for r in results if r["case"] == "small-integers"} == {"passed"}
        results = [r for r in results if r["case"] != "small-integers"]
    assert {r["outcome"] for r in results} == {"failed"}, [r["message"] for r in results]
    assert all(fragment in (r["message"] or "") for r in results), [r["message"] for r in results]


def test_unavailable_api_skips_with_reason(eight: dict[str, dict[str, Any]]) -> None:
    results = pick(eight, "wrongdev.unavailable")
    assert {r["outcome"] for r in results} == {"skipped"}
    assert all("unavailable in this JAX: this API was removed" in r["message"] for r in results)


def test_nondeterminism_is_allowed_only_where_declared(eight: dict[str, dict[str, Any]]) -> None:
    """A case declaring `nondeterministic: [cpu]` tolerates last-bit differences on CPU; `[gpu]` does not."""
    assert {r["outcome"] for r in pick(eight, "wrongdev.noisy", "declared")} == {"passed"}
    assert "within tolerance" in json.dumps(pick(eight, "wrongdev.noisy", "declared"))
    for case in ("not-declared", "float-duplicates"):
        # eager: under jit the Python counter runs once, at trace time, and the program is deterministic
        failed = [r for r in pick(eight, "wrongdev.noisy", case) if r["transform"] == "eager"]
        assert {r["outcome"] for r in failed} == {"failed"}
        assert all("non-deterministic" in r["message"] for r in failed)


def test_case_needing_more_devices_skips_with_reason(tmp_path: Path) -> None:
    _, results = conformance(tmp_path, "--jaxpat-cpu-devices", "2", "--jaxpat-pattern", "shard-map-psum",
                             "--jaxpat-pattern", "devices-device-get", "--jaxpat-impl", "reference.*", wrong=False)
    psum = pick(results, "reference.shard_map")
    assert {r["outcome"] for r in psum} == {"skipped"}
    message = psum[0]["message"]
    assert "case 'rows-over-8' needs 8 cpu devices; this process sees 2 (cpu:0, cpu:1)" in message
    assert "jaxpat check --cpu-devices 8" in message
    assert results["jaxpat::shard-map-psum::rows-over-8[reference.shard_map-cpu:0..7-eager]"]
    assert {r["outcome"] for r in pick(results, "reference.put_and_get")} == {"passed"}  # needs 2


# --- the format ------------------------------------------------------------------------------

PATTERN = """\
version: 1
patterns:
  - id: p
    family: sharding
    title: t
    summary: s
    source: {doc: d}
    signature: {args: [x, mesh], static: [mesh]}
    devices: 4
    cases:
      - id: c
        args: {x: 1, mesh: {$mesh: [2, 2], axes: [a, b]}}
        expect: 1
        provenance: {kind: math}
"""


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return [p.message for p in catalog.validate([str(path)])]


def test_device_declarations_load(tmp_path: Path) -> None:
    text = PATTERN + "        shards: {result: replicated, 'result[0]': [{device: 3, index: [[0, 2]]}, {device: 1}]}\n"
    path = tmp_path / "c.yaml"
    path.write_text(text)
    case = catalog.load_files([str(path)]).get("p").cases[0]
    assert case.devices == 4
    assert case.args["mesh"] == catalog.MeshValue((2, 2), ("a", "b"))
    assert case.shards["result"] == "replicated"
    assert case.shards["result[0]"] == ((3, ((0, 2),)), (1, None))


@pytest.mark.parametrize(("edit", "message"), [
    (("devices: 4", "devices: 2"), "argument `mesh` needs 4 devices, more than the pattern's `devices`: 2"),
    (("static: [mesh]", "static: []"), "list it in `signature.static`"),
    (("axes: [a, b]", "axes: [a]"), "`axes` must be 2 distinct identifiers"),
    (("provenance: {kind: math}", "provenance: {kind: math}\n        shards: {result: [{device: 4}]}"),
     "device index 4 is outside the item's 4 devices"),
    (("provenance: {kind: math}", "provenance: {kind: math}\n        shards: {result: [{device: 0, index: [[3, 1]]}]}"),
     "START 3 is after STOP 1"),
    (("provenance: {kind: math}", "provenance: {kind: math}\n        shards: {out: replicated}"), "a result path"),
    (("provenance: {kind: math}", "provenance: {kind: math}\n        nondeterministic: [gpus]"), "gpus"),
])
def test_device_declarations_are_validated(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    found = problems(tmp_path, PATTERN.replace(*edit))
    assert any(message in p for p in found), found


def test_cuda_and_rocm_fall_back_to_gpu_tolerances() -> None:
    tol = merge_tolerance([("case", {"platforms": {"gpu": {"float32": {"rtol": 1e-3}},
                                                   "rocm": {"float32": {"rtol": 1e-2}}}})])
    assert tol.for_dtype("float32", "cuda")[0] == 1e-3
    assert tol.for_dtype("float32", "rocm")[0] == 1e-2
    assert tol.for_dtype("float32", "gpu")[0] == 1e-3
    assert tol.for_dtype("float32", "cpu")[0] == 1e-6


# --- workers ------------------------------------------------------------------------------------

def test_discovery_reads_the_environment_without_jax() -> None:
    def never(platform: str) -> bool:  # no JAX accelerator plugin installed
        return False

    def cuda(platform: str) -> bool:
        return platform == "cuda"

    assert _workers.discover({"JAXPAT_DEVICES": "cuda:0,1,2"}, installed=never) == \
        _workers.Accelerators("cuda", ("0", "1", "2"), "JAXPAT_DEVICES")
    assert _workers.discover({"CUDA_VISIBLE_DEVICES": "3,5"}, installed=cuda).ids == ("3", "5")
    assert _workers.discover({"CUDA_VISIBLE_DEVICES": "3,5"}, installed=never).platform == "cpu"
    assert _workers.discover({"CUDA_VISIBLE_DEVICES": "3", "JAX_PLATFORMS": "cpu"}, installed=cuda).platform == "cpu"
    assert _workers.discover({"CUDA_VISIBLE_DEVICES": ""}, installed=cuda).count == 0


@pytest.mark.parametrize(("ids", "per", "workers", "expect"), [
    (("0", "1", "2", "3"), 1, 4, ["0", "1", "2", "3"]),            # one GPU each
    (("0", "1"), 1, 4, ["0", "1", "0", "1"]),                      # two workers share each GPU
    (("0", "1", "2", "3"), 2, 2, ["0,1", "2,3"]),                  # two GPUs each
    (("4", "6"), None, 2, ["4,6", "4,6"]),                         # --worker-devices all
])
def test_each_worker_gets_its_device_group(ids: tuple, per: int | None, workers: int, expect: list[str]) -> None:
    acc = _workers.Accelerators("cuda", ids)
    settings = [_workers.worker_environment(acc, w, workers, per, env={}) for w in range(workers)]
    assert [s["CUDA_VISIBLE_DEVICES"] for s in settings] == expect
    sharing = workers // (len(ids) // (per or len(ids)))
    assert {s["XLA_PYTHON_CLIENT_MEM_FRACTION"] for s in settings} == {f"{0.75 / sharing:.3f}"}
    assert {s["XLA_PYTHON_CLIENT_PREALLOCATE"] for s in settings} == {"false"}


def test_user_memory_settings_win_and_cpu_hosts_only_stop_preallocation() -> None:
    acc = _workers.Accelerators("cuda", ("0",))
    mine = _workers.worker_environment(acc, 0, 1, 1, env={"XLA_PYTHON_CLIENT_MEM_FRACTION": ".3"})
    assert mine["XLA_PYTHON_CLIENT_MEM_FRACTION"] == ".3"
    assert _workers.worker_environment(_workers.Accelerators("cpu"), 3, 4, 1, env={}) == \
        {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
    tpu = _workers.worker_environment(_workers.Accelerators("tpu", ("0", "1", "2", "3")), 2, 4, 1, env={})
    assert tpu["TPU_VISIBLE_CHIPS"] == "2"
    assert tpu["TPU_CHIPS_PER_PROCESS_BOUNDS"] == "1,1,1"


def test_auto_workers_follow_devices_not_cores() -> None:
    assert _workers.auto_workers(_workers.Accelerators("cuda", ("0", "1", "2")), 1) == 3
    assert _workers.auto_workers(_workers.Accelerators("tpu", tuple("01234567")), 2) == 1  # TPU: 1 chip or all
    assert _workers.auto_workers(_workers.Accelerators("cuda", tuple("0123")), 2) == 2
    assert _workers.auto_workers(_workers.Accelerators("cpu"), 1) is None
    with pytest.raises(ValueError, match="positive count or 'all'"):
        _workers.parse_worker_devices("0")


def probe_run(tmp: Path, *args: str, devices: str) -> tuple[subprocess.CompletedProcess, dict[str, dict]]:
    """A real xdist run with the env probe plugin on a host that declares accelerators ``devices``."""
    for f in EXAMPLES.iterdir():
        (tmp / f.name).write_bytes(f.read_bytes())
    env = {**os.environ, "JAXPAT_DISABLE_PLUGIN_AUTOLOAD": "1", "JAXPAT_DEVICES": devices,
           "PYTHONPATH": str(tmp) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    # not ours: the memory settings the workers must choose, and the outer xdist run's worker identity
    for var in ("XLA_PYTHON_CLIENT_MEM_FRACTION", "XLA_PYTHON_CLIENT_PREALLOCATE", "CUDA_VISIBLE_DEVICES",
                "PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        env.pop(var, None)
    cmd = [sys.executable, "-m", "pytest", *BASE, "-p", "envprobe", "--jaxpat-pattern", "devices-x64",
           "--jaxpat-transform", "eager", "--jaxpat-cpu-devices", "2", *args]
    proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
    probes = {p.stem.removeprefix("env-"): json.loads(p.read_text()) for p in tmp.glob("env-*.json")}
    return proc, probes


def test_per_worker_devices_and_memory_reach_each_worker(tmp_path: Path) -> None:
    """Three workers on a host declaring 4 GPUs: each sees its own GPU, before JAX starts, with its memory share."""
    proc, probes = probe_run(tmp_path, "-n", "3", devices="cuda:0,1,2,3")
    assert proc.returncode == 0, proc.stdout[-3000:]
    workers = {k: v for k, v in probes.items() if k.startswith("gw")}
    assert {k: v["CUDA_VISIBLE_DEVICES"] for k, v in workers.items()} == {"gw0": "0", "gw1": "1", "gw2": "2"}
    assert {v["XLA_PYTHON_CLIENT_MEM_FRACTION"] for v in workers.values()} == {"0.750"}
    assert {v["XLA_PYTHON_CLIENT_PREALLOCATE"] for v in workers.values()} == {"false"}
    assert not any(v["jax_imported"] for v in workers.values())
    assert all("--xla_force_host_platform_device_count=2" in v["XLA_FLAGS"] for v in workers.values())
    assert probes["main"]["CUDA_VISIBLE_DEVICES"] is None  # the controller is left alone


def test_auto_starts_one_worker_per_device(tmp_path: Path) -> None:
    """-n auto on a host declaring 2 GPUs with --worker-devices 1 starts 2 workers, whatever the cores."""
    proc, probes = probe_run(tmp_path, "-n", "auto", devices="cuda:0,1")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert sorted(k for k in probes if k.startswith("gw")) == ["gw0", "gw1"]
    assert {probes["gw0"]["CUDA_VISIBLE_DEVICES"], probes["gw1"]["CUDA_VISIBLE_DEVICES"]} == {"0", "1"}


def test_device_kind_is_part_of_the_matrix_column() -> None:
    from jaxpat.report import Result, column_of

    gpu = Result.from_dict({"nodeid": "n", "outcome": "passed", "platform": "gpu", "transform": "jit",
                            "device_kind": "NVIDIA H100 80GB HBM3"})
    cpu = Result.from_dict({"nodeid": "n", "outcome": "passed", "platform": "cpu", "transform": "jit",
                            "device_kind": "cpu"})
    assert column_of(gpu) == "gpu(NVIDIA H100 80GB HBM3)/jit"
    assert column_of(cpu) == "cpu/jit"


def test_repro_of_a_multi_device_failure_runs_on_the_device_set(eight: dict[str, dict[str, Any]],
                                                               tmp_path: Path) -> None:
    """The report's reproduction of a device-set item asks for the devices and reproduces the failure.

    The item comes from the module's 8-device run (``eight``: shard-map-ppermute is in it); the
    reproduction runs here, next to a copy of the test plugins, in a process of its own."""
    failed = next(r for r in pick(eight, "wrongdev.roll_backwards") if r["transform"] == "eager")
    assert failed["outcome"] == "failed", failed
    for f in EXAMPLES.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    script = tmp_path / "repro.py"
    script.write_text(failed["repro"])
    env = {**os.environ, "PYTHONPATH": str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("XLA_FLAGS", None)
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "values differ exactly" in proc.stderr, proc.stderr[-2000:]
