"""Shared fixtures. Catalog tests: ``valid_text`` (a catalog using every feature) and ``write_yaml``."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# jaxpat's per-user caches (catalog parse cache, XLA cache) go to a temporary
# folder for the whole run, never to ~/.cache: set at import, because catalog
# files are loaded at collection; xdist workers and subprocesses inherit it.
if "JAXPAT_TESTS_CACHE_DIR" not in os.environ:
    os.environ["JAXPAT_TESTS_CACHE_DIR"] = tempfile.mkdtemp(prefix="jaxpat-tests-cache-")
    atexit.register(shutil.rmtree, os.environ["JAXPAT_TESTS_CACHE_DIR"], True)
os.environ["JAXPAT_CACHE_DIR"] = os.environ["JAXPAT_TESTS_CACHE_DIR"]
# `jaxpat check` reuses stored results by default; tests that run it twice check fresh runs unless they say
# otherwise (tests/test_reuse.py unsets this)
os.environ["JAXPAT_FRESH"] = "1"

# pyproject.toml sets `pytester_example_dir`, an option only the pytester plugin declares
# (and --strict-config rejects unknown options); conformance tests use pytester too.
pytest_plugins = ("pytester",)

#: A valid catalog that uses every part of the format; tests mutate it.
VALID_TEXT = """\
version: 1
defaults:
  transforms: [eager, jit]
  tolerance:
    float32: {rtol: 1.0e-5}
    platforms:
      gpu: {float32: {atol: 1.0e-4}}
patterns:
  - id: scan-cumsum
    family: scan
    title: Cumulative sum with lax.scan
    summary: >
      Carry the running total through lax.scan and emit it at every step.
    tags: [loop-carry, scan]
    source: {seed: 000_4fac8296aef13308.txt, section: Using jax.lax.scan}
    signature: {args: [xs]}
    transforms: [eager, jit, vmap]
    tolerance:
      float32: {atol: 1e-6}
    claims:
      jit: true
      grad: {forward: true, reverse: {raises: ValueError}}
      memory: {param: xs, sizes: [100, 1000], forward: constant, backward: linear}
      program_size: {param: xs, sizes: [10, 100], growth: constant}
      residuals: {baseline: reference.python_loop, at_least: 2.0}
      seed_claim: "scan: one XLA loop"
      base_case: ints
      notes: measured on CPU
    deviations:
      - when: {platform: tpu, jax: "<0.5", transform: jit, case: floats}
        reason: old TPU compilers fused differently
    cases:
      - id: ints
        args: {xs: {$array: [0, 1, 2, 3, 4], dtype: int32}}
        expect: {$array: [0, 1, 3, 6, 10], dtype: int32}
        provenance: {kind: seed, seed: 000_4fac8296aef13308.txt, printed: "[0 1 3 6 10]"}
      - id: floats
        args: {xs: {$generate: arange, shape: [4], dtype: float32, start: 0.5, step: 0.0}}
        expect: {$array: [0.5, 1.0, 1.5, 2.0], dtype: float32}
        tolerance:
          float32: {rtol: 1.0e-3}
          platforms:
            tpu: {float32: {rtol: 1.0e-2}}
        provenance: {kind: math, note: "k/2 for k = 1..4"}
  - id: jit-python-if
    family: jit
    title: Python if on a traced value
    summary: Branching in Python on a traced value fails under jit; use lax.cond or jnp.where.
    tags: [gotcha]
    source: {doc: "https://docs.jax.dev/en/latest/errors.html"}
    signature: {args: [x, mode], static: [mode]}
    transforms: [eager, jit, grad]
    vmap: {in_axes: {x: 0, mode: null}}
    cases:
      - id: positive
        args: {x: 2.0, mode: relu}
        expect: 2.0
        expect_under:
          jit: {$error: TracerBoolConversionError, match: traced}
        grad: {wrt: x, expect: 1.0}
        config: {jax_enable_x64: false, jax_numpy_rank_promotion: raise}
        provenance: {kind: math, note: relu(2) = 2}
      - id: keys
        args: {x: {$key: 0}, mode: {$tuple: [1, 2]}}
        expect: {$key_data: [0, 0]}
        transforms: [eager]
        provenance: {kind: observed, jax: "0.10.2", note: read from jax.random directly}
        note: free text
      - id: wide
        args: {x: {$dict: {$weird: 1, normal: [1, .nan]}}, mode: null}
        expect: {$array: [[1, 2], [3, 4]], dtype: float64}
        transforms: [eager]
        config: {jax_enable_x64: true}
        provenance: {kind: oracle, oracle: numpy, note: "np.array([[1, 2], [3, 4]])"}
"""


@pytest.fixture
def valid_text() -> str:
    """The text of a valid catalog that uses every part of the format."""
    return VALID_TEXT


@pytest.fixture
def write_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """Return ``write(text, name="catalog.yaml")``: write a dedented file in a temporary working directory.

    The working directory moves there, so problems name files as written (``c.yaml:3:5``).
    """
    monkeypatch.chdir(tmp_path)

    def write(text: str | bytes, name: str = "catalog.yaml") -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


# ---------------------------------------------------------------------------
# Reliability counts: tests that feed jaxpat bad input or broken plugins call
# `record_property("reliability", KIND)`; the summary prints how many of each
# kind were tried and how many were handled (the test passed). Properties
# travel with xdist reports, so the controller sees every worker's.
# ---------------------------------------------------------------------------

_RELIABILITY: dict[str, list[int]] = {}


def pytest_runtest_logreport(report):
    if report.when != "call":
        return
    for name, kind in report.user_properties:
        if name == "reliability":
            counts = _RELIABILITY.setdefault(kind, [0, 0])
            counts[0] += 1
            counts[1] += int(report.passed)


def pytest_terminal_summary(terminalreporter, config):
    if _RELIABILITY and not hasattr(config, "workerinput"):
        terminalreporter.section("reliability")
        for kind, (tried, handled) in sorted(_RELIABILITY.items()):
            terminalreporter.write_line(f"{kind}: {tried} tried, {handled} handled")


# ---------------------------------------------------------------------------
# Scheduling under pytest-xdist (`pytest -n N`; pyproject.toml adds `--dist loadgroup
# --no-loadscope-reorder`): the suite's wall time is decided by a few end-to-end tests that
# run `jaxpat check` in subprocesses, install plugins or build environments.
#
# 1. Tests that read one expensive module- or session-scoped fixture (a `jaxpat check` run
#    whose report many tests read, the installed hostile plugins, ...) form one xdist group,
#    so the fixture is computed once, on one worker (with plain `--dist load` each worker
#    computed it again for the tests it happened to get).
# 2. Groups and tests are sent to the workers most expensive first, by the durations recorded
#    in tests/durations.json (`python tests/_durations.py JUNIT.xml` rewrites it; its "first" list
#    names tests that run only in CI, such as the whole-catalog report, and go before all): the long
#    ones start at once and the many short ones fill the other worker meanwhile, instead of
#    one long test starting last. Unknown tests count 0 s and keep their order.
# Without xdist the order is pytest's own. Nothing here changes what a test checks.
# ---------------------------------------------------------------------------

#: Fixture -> xdist group: every test that uses the fixture (directly or through another) runs on one worker.
SHARED_FIXTURES = {
    "all_runs": "hostile-plugin-runs",  # before "sites", which it uses: its runs apart from the other commands'
    "sites": "hostile-plugins",  # tests/test_hostile_plugins.py: installed plugins, and the commands run on them
    "broken_run": "conformance-broken-run",
    "eight": "devices-eight",
    "other_env": "distributed-other-env",
    "site": "example-plugin-site",
    "broken_report": "isolation-repro-report",
    "released": "memory-released",
}

DURATIONS_FILE = Path(__file__).with_name("durations.json")


def _recorded_durations() -> dict[str, float]:
    try:
        data = json.loads(DURATIONS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    seconds = data.get("seconds")
    out = {str(k): float(v) for k, v in seconds.items()} if isinstance(seconds, dict) else {}
    # tests measured nowhere but known to be long (CI-only ones): before everything else
    out.update({str(k): float("inf") for k in data.get("first") or []})
    return out


def schedule(items: list[Any], durations: dict[str, float]) -> list[Any]:
    """``items`` most expensive first, each group's tests together and in their own order (a stable sort).

    A test's cost is its recorded duration (its node id, else its parametrized function's ``path::name``);
    a group costs the sum of its tests' and sorts at its first test's place among equals.
    """
    def group_of(item: Any) -> str | None:
        marker = item.get_closest_marker("xdist_group")
        if marker is None:
            return None
        return str(marker.args[0] if marker.args else marker.kwargs.get("name", ""))

    def cost(item: Any) -> float:
        nodeid = item.nodeid
        return durations.get(nodeid, durations.get(nodeid.split("[", 1)[0], 0.0))

    units: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        units.setdefault(group_of(item) or f"\0{i}", []).append(i)
    unit_cost = {key: sum(cost(items[i]) for i in idx) for key, idx in units.items()}
    order = sorted(units, key=lambda key: (-unit_cost[key], units[key][0]))
    return [items[i] for key in order for i in units[key]]


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which turns the groups into node id suffixes
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not hasattr(config, "workerinput"):  # not an xdist worker: pytest's order
        return
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for fixture, group in SHARED_FIXTURES.items():
            if fixture in names:
                item.add_marker(pytest.mark.xdist_group(group))
                break
    items[:] = schedule(items, _recorded_durations())



class _GroupIds:
    """Gives each grouped test the ``@GROUP`` node id suffix that ``--dist loadgroup`` sends tests by.

    xdist (3.8) appends it by assigning ``item._nodeid``, which pytest 9 no longer reads (a node id is
    ``item._id`` there): the suffix never reached the controller, every group was split over both workers,
    and each worker computed the group's fixtures again (the hostile plugins' runs twice). Tests whose id
    already ends with the suffix (where xdist's assignment works) are left alone.
    """

    @pytest.hookimpl(trylast=True)  # after xdist's own hook
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if not config.getvalue("loadgroup"):
            return
        for item in items:
            groups = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                             for m in item.iter_markers("xdist_group")})
            suffix = "@" + "_".join(groups)
            node_id = getattr(item, "_id", None)
            if groups and node_id is not None and not item.nodeid.endswith(suffix):
                item._id = type(node_id).parse(item.nodeid + suffix)


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        config.pluginmanager.register(_GroupIds(), "jaxpat-tests-group-ids")
