"""The suite's own scheduling under xdist (tests/conftest.py): slow tests first, shared fixtures on one worker."""

from __future__ import annotations

import ast
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import conftest  # tests/conftest.py, as pytest imported it
import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class FakeItem:
    nodeid: str
    fixturenames: list[str] = field(default_factory=list)
    markers: list[Any] = field(default_factory=list)

    def get_closest_marker(self, name: str) -> Any:
        return next((m for m in self.markers if m.name == name), None)

    def add_marker(self, marker: Any) -> None:
        self.markers.append(marker.mark if hasattr(marker, "mark") else marker)


def grouped(nodeid: str, group: str) -> FakeItem:
    return FakeItem(nodeid, markers=[pytest.mark.xdist_group(group).mark])


def test_most_expensive_first_groups_together_unknown_tests_keep_their_order() -> None:
    items = [FakeItem("t.py::a"), grouped("t.py::g1", "g"), FakeItem("t.py::b"), FakeItem("t.py::slow[1]"),
             grouped("t.py::g2", "g"), FakeItem("t.py::c")]
    durations = {"t.py::slow": 10.0, "t.py::g1": 4.0, "t.py::g2": 7.0, "t.py::b": 0.5}
    order = [i.nodeid for i in conftest.schedule(items, durations)]
    # the group costs 11 s (its tests' sum), more than the 10 s test (found by its parametrized function's name)
    assert order == ["t.py::g1", "t.py::g2", "t.py::slow[1]", "t.py::b", "t.py::a", "t.py::c"]
    # a cheaper group goes after: the order follows the costs, not the group marker
    assert [i.nodeid for i in conftest.schedule(items, {**durations, "t.py::slow": 12.0})][:3] == [
        "t.py::slow[1]", "t.py::g1", "t.py::g2"]
    # nothing recorded: pytest's order, except that a group's tests come together at its first test's place
    assert [i.nodeid for i in conftest.schedule(items, {})] == [
        "t.py::a", "t.py::g1", "t.py::g2", "t.py::b", "t.py::slow[1]", "t.py::c"]
    # a test of the table's "first" list (infinite cost) goes before everything
    assert conftest.schedule(items, {**durations, "t.py::c": float("inf")})[0].nodeid == "t.py::c"
    ungrouped = [i for i in items if not i.markers]
    assert conftest.schedule(ungrouped, {}) == ungrouped


def test_the_table_is_read_with_its_first_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = tmp_path / "durations.json"
    table.write_text(json.dumps({"first": ["t.py::ci_only"], "seconds": {"t.py::a": 2.5}}))
    monkeypatch.setattr(conftest, "DURATIONS_FILE", table)
    assert conftest._recorded_durations() == {"t.py::a": 2.5, "t.py::ci_only": float("inf")}
    table.write_text("not json")
    assert conftest._recorded_durations() == {}  # a broken table orders nothing; it never fails the suite


def test_workers_group_tests_by_shared_fixture_and_reorder(monkeypatch: pytest.MonkeyPatch) -> None:
    items: list[Any] = [FakeItem("t.py::plain", ["tmp_path"]), FakeItem("t.py::reads", ["runs", "sites"]),
                        FakeItem("t.py::other", ["broken_run"])]
    monkeypatch.setattr(conftest, "_recorded_durations", lambda: {"t.py::other": 5.0})

    class Config:
        pass

    conftest.pytest_collection_modifyitems(Config(), list(items))  # type: ignore[arg-type]  # not a worker
    assert all(not i.markers for i in items)
    worker = Config()
    worker.workerinput = {}  # type: ignore[attr-defined]
    conftest.pytest_collection_modifyitems(worker, items)  # type: ignore[arg-type]
    assert [i.nodeid for i in items] == ["t.py::other", "t.py::plain", "t.py::reads"]
    groups = {i.nodeid: (m.args[0] if (m := i.get_closest_marker("xdist_group")) else None) for i in items}
    assert groups == {"t.py::other": "conformance-broken-run", "t.py::plain": None, "t.py::reads": "hostile-plugins"}


@functools.cache
def _defined_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


def test_the_duration_table_names_existing_tests() -> None:
    """A renamed or deleted test must leave the table (`python tests/_durations.py JUNIT.xml` rewrites it)."""
    data = json.loads(conftest.DURATIONS_FILE.read_text(encoding="utf-8"))
    table = data["seconds"]
    assert table, "tests/durations.json is empty"
    missing: list[str] = []
    for nodeid in data.get("first", []):
        path, _, name = nodeid.partition("::")
        if not (ROOT / path).is_file() or name.split("[", 1)[0] not in _defined_functions(ROOT / path):
            missing.append(nodeid)
    for nodeid, seconds in table.items():
        assert isinstance(seconds, (int, float)), nodeid
        assert seconds >= 0, nodeid
        path, _, name = nodeid.partition("::")
        func = name.split("[", 1)[0].split("::")[-1]
        if not (ROOT / path).is_file() or func not in _defined_functions(ROOT / path):
            missing.append(nodeid)
    assert not missing, missing


def test_shared_fixtures_exist_and_xdist_keeps_the_order() -> None:
    defined = set().union(*(_defined_functions(p) for p in (ROOT / "tests").glob("*.py")))
    assert set(conftest.SHARED_FIXTURES) <= defined
    addopts = next(line for line in (ROOT / "pyproject.toml").read_text().splitlines() if line.startswith("addopts"))
    assert '"--dist", "loadgroup", "--no-loadscope-reorder"' in addopts


def test_a_shared_fixture_is_computed_on_one_worker_under_xdist(pytester: pytest.Pytester) -> None:
    """End to end, `pytest -n 2 --dist loadgroup` with this suite's conftest: the tests that read a shared fixture
    run on one worker, which computes it once (xdist 3.8's own group suffix is lost under pytest 9)."""
    pytester.makeconftest((Path(conftest.__file__)).read_text(encoding="utf-8"))
    log = pytester.path / "computed.log"
    pytester.makepyfile(test_shared=f"""
        import os
        import pytest

        @pytest.fixture(scope="session")
        def sites():
            with open({str(log)!r}, "a") as f:
                f.write(f"{{os.getpid()}}\\n")
            return 1

        @pytest.mark.parametrize("i", range(6))
        def test_reads(sites, i):
            pass

        @pytest.mark.parametrize("i", range(6))
        def test_other(i):
            pass
    """)
    result = pytester.runpytest_subprocess("-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=12)
    assert len(log.read_text().split()) == 1, result.stdout.str()
    result.stdout.fnmatch_lines(["*test_reads*@hostile-plugins*"])
