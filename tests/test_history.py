"""``jaxpat history``: the release list, environments, the matrix, change detection, bisect, the catalog check.

Most tests inject a fake runner that returns canned reports per release
(expected values come from the canned data and the halving arithmetic, not
from the code under test). ``test_real_releases`` builds three real release
environments (uv or pip, from the package index) and runs one pattern on them.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jaxpat.catalog import Condition, Deviation
from jaxpat.conformance import _history as h
from jaxpat.conformance import _history_view as view
from jaxpat.report import Report, new_report, summarize

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------
# canned reports
# ---------------------------------------------------------------------------

def _result(nodeid: str, outcome: str, value: float | None, message: str | None = None,
            claim: str | None = None) -> dict[str, Any]:
    pattern = nodeid.split("::")[1]
    r: dict[str, Any] = {"nodeid": nodeid, "outcome": outcome, "duration": 0.01, "pattern": pattern,
                         "implementation": "reference.a", "platform": "cpu", "device": "cpu:0",
                         "kind": "claim" if claim else "case", "message": message}
    if claim:
        r["claim"] = claim
        r["transform"] = f"claim:{claim}"
    else:
        r["transform"] = "jit"
        r["case"] = "c1"
    if value is not None:
        r["observed"] = {"tree": "*", "leaves": [{"dtype": "float32", "shape": [], "digest": f"d{value!r}",
                                                  "values": [value]}]}
    return r


def make_report(release: str, items: dict[str, Any]) -> Report:
    """A valid report for ``release``: ``items`` maps node id → (outcome, value[, message[, claim]])."""
    data = new_report({"jax": release, "jaxlib": release, "python": "3.12.1", "host": f"jax-{release}"},
                      ["jaxpat", "check"])
    data["status"] = "complete"
    data["results"] = [_result(n, *spec) for n, spec in items.items()]
    summarize(data)
    return Report.from_dict(data)


class FakeRunner:
    """Returns canned reports; records every (release, patterns) it is asked to run."""

    def __init__(self, table: dict[str, dict[str, Any]], uninstallable: dict[str, str] | None = None) -> None:
        self.table = table
        self.uninstallable = uninstallable or {}
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def __call__(self, release: str, patterns: Any) -> h.ReleaseRun:
        self.calls.append((release, tuple(patterns)))
        if release in self.uninstallable:
            return h.ReleaseRun(release, "uninstallable", "3.12.1", reason=self.uninstallable[release])
        items = self.table[release]
        if patterns:
            items = {n: v for n, v in items.items() if n.split("::")[1] in patterns}
        return h.ReleaseRun(release, "ran", "3.12.1", report=make_report(release, items), exit=0,
                            patterns=tuple(patterns))


A, B, C = "jaxpat::pa::c1[reference.a-cpu:0-jit]", "jaxpat::pb::c1[reference.a-cpu:0-jit]", \
    "jaxpat::pc::c1[reference.a-cpu:0-jit]"


def three_patterns() -> dict[str, dict[str, Any]]:
    """pa: value 1.0 → 1.5 on 0.8.0; pb: passed → failed on 0.7.0; pc: never changes."""
    return {
        "0.6.0": {A: ("passed", 1.0), B: ("passed", 2.0), C: ("passed", 3.0)},
        "0.7.0": {A: ("passed", 1.0), B: ("failed", 2.0, "boom"), C: ("passed", 3.0)},
        "0.8.0": {A: ("passed", 1.5), B: ("failed", 2.0, "boom"), C: ("passed", 3.0)},
        "0.9.0": {A: ("passed", 1.5), B: ("failed", 2.0, "boom"), C: ("passed", 3.0)},
    }


# ---------------------------------------------------------------------------
# versions
# ---------------------------------------------------------------------------

def test_version_order_and_ranges() -> None:
    order = ["0.12.1", "0.6.0", "0.12.0.1", "0.9.0", "0.12.0", "0.10.2", "0.9.0.1"]
    assert h.sorted_versions(order) == ["0.6.0", "0.9.0", "0.9.0.1", "0.10.2", "0.12.0", "0.12.0.1", "0.12.1"]
    assert h.in_range("0.11.0", ">=0.11")
    assert not h.in_range("0.10.2", ">=0.11")
    assert h.in_range("0.12.1", ">=0.6,<0.13")
    assert not h.in_range("0.13.0", ">=0.6,<0.13")
    assert h.in_range("0.12.0.1", ">0.12.0")
    assert not h.in_range("0.12.0", ">0.12")
    with pytest.raises(ValueError, match="not a version range clause"):
        h.in_range("0.6.0", ">=0.6;rm -rf")


# ---------------------------------------------------------------------------
# releases and Pythons
# ---------------------------------------------------------------------------

def test_supported_range_is_jaxpats_own_requirement() -> None:
    import re

    (spec,) = re.findall(r'^\s*"jax([<>=][^"]*)",', (ROOT / "pyproject.toml").read_text(encoding="utf-8"), re.M)
    assert h.supported_range() == spec


def test_pythons_are_found_started_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    found = ("python3.11", "python3.12")
    monkeypatch.setattr(shutil, "which", lambda name: f"/shims/{name}" if name in found else None)

    def execute(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        if cmd[0] == "/shims/python3.11":  # a pyenv shim that selects no version
            return subprocess.CompletedProcess(cmd, 127, "", "pyenv: python3.11: command not found\n")
        return subprocess.CompletedProcess(cmd, 0, "/opt/py312/bin/python3.12\n3.12.1\n", "")

    assert h.find_interpreters(execute=execute) == [h.Interpreter("3.12", "3.12.1", "/opt/py312/bin/python3.12")]
    with pytest.raises(h.HistoryError, match=r"--python 3.11: cannot start it \(pyenv: python3.11: command not found"):
        h.find_interpreters(["3.11"], execute=execute)
    with pytest.raises(h.HistoryError, match=r"--python 3\.9: cannot start it"):
        h.find_interpreters(["3.9"], execute=execute)


def _pip_output(versions: list[str]) -> str:
    return f"jax ({versions[0]})\nAvailable versions: {', '.join(versions)}\n"


class FakeExec:
    """Answers ``pip index versions`` per Python and package; counts calls."""

    def __init__(self, offers: dict[tuple[str, str], list[str]], fail: bool = False) -> None:
        self.offers = offers
        self.fail = fail
        self.calls: list[list[str]] = []

    def __call__(self, cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append(cmd)
        if self.fail:
            return subprocess.CompletedProcess(cmd, 1, "", "ERROR: network is unreachable\n")
        versions = self.offers[(cmd[0], cmd[5])]
        return subprocess.CompletedProcess(cmd, 0, _pip_output(versions), "")


PY311 = h.Interpreter("3.11", "3.11.7", "/py311")
PY312 = h.Interpreter("3.12", "3.12.1", "/py312")


def test_release_list_needs_jax_and_jaxlib_per_python_and_is_cached(tmp_path: Path) -> None:
    offers = {("/py311", "jax"): ["0.10.2", "0.6.0", "0.5.0"], ("/py311", "jaxlib"): ["0.10.2", "0.6.0"],
              ("/py312", "jax"): ["0.12.1", "0.11.0", "0.10.2", "0.6.0"],
              ("/py312", "jaxlib"): ["0.12.1", "0.10.2", "0.6.0"]}
    run = FakeExec(offers)
    cache = tmp_path / "releases.json"
    got = h.list_releases([PY311, PY312], cache=cache, execute=run, clock=lambda: 1000.0)
    # 0.5.0 has no jaxlib wheel, 0.11.0 neither: left out
    assert got == {"0.6.0": ["3.11", "3.12"], "0.10.2": ["3.11", "3.12"], "0.12.1": ["3.12"]}
    assert len(run.calls) == 4
    again = h.list_releases([PY311, PY312], cache=cache, execute=run, clock=lambda: 2000.0)
    assert again == got
    assert len(run.calls) == 4
    h.list_releases([PY311, PY312], cache=cache, execute=run, clock=lambda: 1000.0 + 2 * h.RELEASES_TTL)
    assert len(run.calls) == 8  # stale: asked again
    notes: list[str] = []
    offline = h.list_releases([PY311, PY312], cache=cache, refresh=True, execute=FakeExec({}, fail=True),
                              note=notes.append)
    assert offline == got
    assert "network is unreachable" in notes[0]
    with pytest.raises(h.HistoryError, match="no cached release list"):
        h.list_releases([PY311], cache=tmp_path / "none.json", execute=FakeExec({}, fail=True))


def test_one_python_for_as_many_releases_as_possible() -> None:
    offered = {"0.5.0": ["3.10"], "0.6.0": ["3.10", "3.11", "3.12"], "0.10.2": ["3.11", "3.12"],
               "0.12.1": ["3.12"]}
    py310 = h.Interpreter("3.10", "3.10.13", "/py310")
    got = h.choose_pythons(list(offered), offered, [PY311, py310, PY312])
    # 3.12 installs three of the four: it takes them; 0.5.0 takes the only one that can
    assert {r: p.label for r, p in got.items()} == {"0.5.0": "3.10", "0.6.0": "3.12", "0.10.2": "3.12",
                                                    "0.12.1": "3.12"}
    # on a tie, the oldest; a release no Python offers gets the newest (its installer then says why)
    got = h.choose_pythons(["0.6.0", "0.99"], {"0.6.0": ["3.11", "3.12"]}, [PY311, PY312])
    assert (got["0.6.0"].label, got["0.99"].label) == ("3.11", "3.12")


# ---------------------------------------------------------------------------
# the matrix and change detection
# ---------------------------------------------------------------------------

def test_changes_have_their_first_release() -> None:
    runner = FakeRunner(three_patterns())
    hist = h.build_history(h.run_releases(list(runner.table), [], runner, jobs=2))
    assert hist.ran() == ["0.6.0", "0.7.0", "0.8.0", "0.9.0"]
    assert set(hist.items) == {A, B}  # pc passed everywhere and never changed
    (a,) = hist.items[A]["changes"]
    assert (a["release"], a["since"], a["category"]) == ("0.8.0", "0.7.0", "drift")
    assert [c["what"] for c in a["changes"]] == ["value"]
    assert "1.0 → 1.5" in a["changes"][0]["text"]
    (b,) = hist.items[B]["changes"]
    assert (b["release"], b["since"], b["category"]) == ("0.7.0", "0.6.0", "regression")
    assert hist.items[B]["outcomes"] == {"0.6.0": "passed", "0.7.0": "failed", "0.8.0": "failed",
                                         "0.9.0": "failed"}
    assert hist.patterns["pc"] == {"items": 1, "changed": 0,
                                   "outcomes": {r: {"passed": 1} for r in runner.table}}
    groups = hist.grouped_changes("pa")
    assert [(g["release"], g["nodeids"]) for g in groups] == [("0.8.0", [A])]


def test_no_change_when_only_the_label_or_compiles_differ() -> None:
    """Counter-case: the same outcomes and values on every release are no change at all."""
    table = {r: {A: ("passed", 1.0)} for r in ("0.6.0", "0.7.0")}
    runner = FakeRunner(table)
    runs = h.run_releases(list(table), [], runner)
    # a different compile count on the second release is not a change of behaviour
    rep = runs[1].report
    assert rep is not None
    data = rep.to_dict()
    data["results"][0]["compiles"] = 7
    runs[1].report = Report.from_dict(data)
    hist = h.build_history(runs)
    assert hist.items == {}
    assert hist.patterns["pa"]["changed"] == 0


def test_timing_figures_of_a_speed_claim_are_no_change() -> None:
    """A speedup claim's band moves on every run; its verdict changing is a change."""
    nodeid = "jaxpat::pa::claim-speedup[reference.a-cpu:0]"

    def with_claim(release: str, band: list[float], verdict: str) -> h.ReleaseRun:
        data = make_report(release, {nodeid: ("passed", None, None, "speedup")}).to_dict()
        data["claims"] = [{"pattern": "pa", "implementation": "reference.a", "claim": "speedup", "nodeid": nodeid,
                           "verdict": verdict, "claimed": {"at_least": 2},
                           "measured": {"speedup": band[0] + 1, "band": band, "seconds": band[1]}}]
        return h.ReleaseRun(release, "ran", "3.12.1", report=Report.from_dict(data))

    quiet = h.build_history([with_claim("0.6.0", [8.5, 13.4], "held"), with_claim("0.7.0", [5.9, 10.5], "held")])
    assert quiet.items == {}
    loud = h.build_history([with_claim("0.6.0", [8.5, 13.4], "held"), with_claim("0.7.0", [1.1, 1.5], "violated")])
    (change,) = loud.items[nodeid]["changes"]
    assert [c["text"] for c in change["changes"]] == ["claim speedup: verdict held → violated"]


def test_an_item_that_ran_out_of_time_is_not_compared() -> None:
    """A timeout or a multi-process case killed at its deadline on one release (a loaded machine) is no change on
    either side of it; the matrix says `timeout`; a failure with another message is a change."""
    hang = "process(es) 0, 1 of 2 still running after 45 s (a hang, e.g. a collective waiting for a peer); killed."
    table = {"0.6.0": {A: ("passed", 1.0), B: ("passed", 2.0)},
             "0.7.0": {A: ("failed", None, "timeout: the item ran longer than 60 s (--jaxpat-timeout)"),
                       B: ("failed", None, hang)},
             "0.8.0": {A: ("passed", 1.0), B: ("failed", None, "process 0: the implementation raised KeyError")}}
    hist = h.build_history(h.run_releases(list(table), [], FakeRunner(table)))
    assert hist.items[A]["outcomes"] == {"0.6.0": "passed", "0.7.0": "timeout", "0.8.0": "passed"}
    assert hist.items[A]["changes"] == []
    assert hist.items[B]["changes"] == []  # 0.7.0 hit the deadline; 0.8.0 is compared with it, not with 0.6.0
    assert hist.patterns["pa"]["outcomes"]["0.7.0"] == {"timeout": 1}
    assert h.hit_deadline(hist_result := make_report("0.9.0", {B: ("failed", None, hang)}).results[0])
    assert not h.hit_deadline(dataclasses.replace(hist_result, message="process 0 exited with status 1"))
    assert "t" in "\n".join(view.terminal_lines(hist))
    loud = {"0.6.0": {C: ("passed", None)}, "0.7.0": {C: ("skipped", None, "4.9× (band 2–6×): inconclusive")},
            "0.8.0": {C: ("passed", None)}}
    assert h.build_history(h.run_releases(list(loud), [], FakeRunner(loud))).items[C]["changes"] == []


def test_matrix_in_the_terminal() -> None:
    table = three_patterns()
    runner = FakeRunner(table, uninstallable={"0.7.5": "no wheel for this platform"})
    hist = h.build_history(h.run_releases([*table, "0.7.5"], [], runner))
    lines = view.terminal_lines(hist, style=view.HistoryStyle(unicode=False))
    assert all(len(line) <= 100 for line in lines)
    matrix = view.matrix_lines(hist, style=view.HistoryStyle(unicode=False))
    assert all(line in lines for line in matrix)
    rows = {line.split()[0]: line for line in matrix if line.startswith(("pa ", "pb ", "pc "))}
    # columns: 0.6.0 0.7.0 0.7.5 0.8.0 0.9.0
    assert rows["pa"].split()[1:] == ["+", "+", "u", "+*", "+"]
    assert rows["pb"].split()[1:] == ["+", "F!", "u", "F", "F"]
    assert rows["pc"].split()[1:] == ["+", "+", "u", "+", "+"]
    text = "\n".join(lines)
    for meaning in ("+ every item passed", "F some item failed", "u the release cannot be installed",
                    "! after a symbol", "* after a symbol"):
        assert meaning in text
    assert "0.7.5: uninstallable: no wheel for this platform" in text
    assert "0.8.0 (since 0.7.0): value in 1 item" in text


def test_uninstallable_release_is_not_a_failure_and_is_skipped_in_comparisons() -> None:
    table = three_patterns()
    runner = FakeRunner(table, uninstallable={"0.7.0": "uv pip install failed:\nno wheel"})
    runs = h.run_releases(list(table), [], runner)
    hist = h.build_history(runs)
    assert hist.release("0.7.0") == {"version": "0.7.0", "status": "uninstallable", "python": "3.12.1",
                                     "reason": "uv pip install failed:\nno wheel", "seconds": 0.0}
    # pb's failure is first seen on 0.8.0, compared with 0.6.0 (the previous release that ran)
    (b,) = hist.items[B]["changes"]
    assert (b["release"], b["since"]) == ("0.8.0", "0.6.0")


def test_a_release_whose_install_fails_is_uninstallable(tmp_path: Path) -> None:
    """The real environment builder and runner, with an installer that refuses the release."""
    calls: list[list[str]] = []

    def execute(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        if "install" in cmd:
            return subprocess.CompletedProcess(cmd, 1, "", "error: No solution found when resolving dependencies\n"
                                               "  Because there is no version of jax==0.99.0 ...\n")
        Path(cmd[-1]).mkdir(parents=True)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    builder = h.EnvironmentBuilder(tmp_path / "envs", h.Requirement(str(ROOT), editable=True), installer="uv",
                                   execute=execute)
    runner = h.CheckRunner(builder, {"0.99.0": PY312}, tmp_path / "out", execute=execute)
    run = runner("0.99.0", ["scan-*"])
    assert run.status == "uninstallable"
    assert run.report is None
    assert run.reason is not None
    assert "no version of jax==0.99.0" in run.reason
    assert not (tmp_path / "envs" / "jax-0.99.0-py3.12").exists()  # nothing half-built is kept
    assert calls[1][:3] == ["uv", "pip", "install"]
    assert "jax==0.99.0" in calls[1]
    assert "-e" in calls[1]


def test_jaxpat_and_plugins_are_installed_as_they_are_here() -> None:
    """The test environment (README): jaxpat editable from this checkout, the example plugin from its folder."""
    jaxpat, plugins = h.local_requirements()
    assert jaxpat == h.Requirement(str(ROOT), editable=True)
    assert h.Requirement(str(ROOT / "examples" / "jaxpat-example-plugin")) in plugins
    assert all(p.spec != str(ROOT) for p in plugins)  # jaxpat itself is not a plugin


def test_pip_builds_the_same_environment_when_uv_is_absent(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "uv" else f"/usr/bin/{name}")
    calls: list[list[str]] = []

    def execute(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        if cmd[1:3] == ["-m", "venv"]:
            (Path(cmd[-1]) / "bin").mkdir(parents=True)
            (Path(cmd[-1]) / "bin" / "jaxpat").write_text("")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    plugin = h.Requirement(str(tmp_path / "plugin"))
    builder = h.EnvironmentBuilder(tmp_path / "envs", h.Requirement(str(ROOT), editable=True), [plugin],
                                   execute=execute)
    assert builder.installer == "pip"
    env, reason, _ = builder.ensure("0.6.2", PY311)
    assert env == tmp_path / "envs" / "jax-0.6.2-py3.11"
    assert reason is None
    py = str(env / "bin" / "python")
    assert calls[0] == ["/py311", "-m", "venv", str(env)]
    assert calls[1][:3] == [py, "-m", "pip"]
    assert calls[1][-4:] == ["jax==0.6.2", "jaxlib==0.6.2", "-e", str(ROOT)]
    assert calls[2][:3] == [py, "-m", "pip"]
    assert calls[2][-1] == str(tmp_path / "plugin")  # the plugin after jaxpat, from its path


def test_environments_are_reused_while_unchanged(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def execute(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        if cmd[:2] == ["uv", "venv"]:
            (Path(cmd[-1]) / "bin").mkdir(parents=True)
            (Path(cmd[-1]) / "bin" / "jaxpat").write_text("")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname='p'\n")
    builder = h.EnvironmentBuilder(tmp_path / "envs", h.Requirement(str(project)), installer="uv", execute=execute)
    env, reason, reused = builder.ensure("0.6.2", PY312)
    assert env is not None
    assert reason is None
    assert not reused
    assert len(calls) == 2
    assert builder.ensure("0.6.2", PY312)[2] is True
    assert len(calls) == 2
    (project / "pyproject.toml").write_text("[project]\nname='p'\ndependencies=['x']\n")
    assert builder.ensure("0.6.2", PY312)[2] is False
    assert len(calls) == 4


def test_releases_run_oldest_newest_then_middles_and_report_as_they_finish() -> None:
    # by hand: ends r0 r8; middle r4; then r2 r6; then r1 r3 r5 r7
    assert h.spread_order(list(reversed(NINE))) == [NINE[i] for i in (0, 8, 4, 2, 6, 1, 3, 5, 7)]
    runner = FakeRunner(nine_releases())
    seen: list[list[str]] = []
    runs = h.run_releases(NINE, [], runner, done=lambda so_far: seen.append([r.release for r in so_far]))
    assert [r for r, _ in runner.calls] == h.spread_order(NINE)
    assert [r.release for r in runs] == NINE
    assert seen[1] == [NINE[0], NINE[8]]
    assert seen[-1] == NINE


def test_resume_reuses_a_finished_report_with_the_same_selection(tmp_path: Path) -> None:
    checks: list[list[str]] = []

    def execute(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        if cmd[:2] == ["uv", "venv"]:
            (Path(cmd[-1]) / "bin").mkdir(parents=True)
            (Path(cmd[-1]) / "bin" / "jaxpat").write_text("")
        elif len(cmd) > 1 and cmd[1] == "check":
            checks.append(cmd)
            target = Path(cmd[cmd.index("--report") + 1])
            data = make_report("0.6.2", {A: ("passed", 1.0)}).to_dict()
            target.write_text(json.dumps(data))
        return subprocess.CompletedProcess(cmd, 0, "", "")

    builder = h.EnvironmentBuilder(tmp_path / "envs", h.Requirement("jaxpat==0.1.0"), installer="uv",
                                   execute=execute)

    def runner(args: list[str], resume: bool) -> h.CheckRunner:
        return h.CheckRunner(builder, {"0.6.2": PY312}, tmp_path / "out", args, execute=execute, resume=resume)

    first = runner(["-n", "1"], False)("0.6.2", ["pa"])
    assert first.status == "ran"
    assert len(checks) == 1
    again = runner(["-n", "1"], True)("0.6.2", ["pa"])
    assert again.status == "ran"
    assert len(checks) == 1
    assert again.report is not None
    assert [r.nodeid for r in again.report.results] == [A]
    runner(["-n", "1"], True)("0.6.2", ["pb"])  # another selection: run again
    runner(["-n", "2"], True)("0.6.2", ["pa"])
    runner(["-n", "1"], False)("0.6.2", ["pa"])  # without --resume: always run
    assert len(checks) == 4


def test_a_stopped_or_failed_run_keeps_the_finished_report_it_would_replace(tmp_path: Path) -> None:
    """A run stopped half-way (Ctrl-C, a crash, a different selection tried and abandoned) must not cost the
    release's earlier finished report: --resume still finds it, and the half-written report is not it."""
    mode = {"exit": 0, "value": 1.0}

    def execute(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        if cmd[:2] == ["uv", "venv"]:
            (Path(cmd[-1]) / "bin").mkdir(parents=True)
            (Path(cmd[-1]) / "bin" / "jaxpat").write_text("")
        elif len(cmd) > 1 and cmd[1] == "check":
            target = Path(cmd[cmd.index("--report") + 1])
            if mode["exit"] == 0:
                target.write_text(json.dumps(make_report("0.6.2", {A: ("passed", mode["value"])}).to_dict()))
            else:
                target.write_text('{"format": "jaxpat-report", "results": [')  # stopped mid-write
        return subprocess.CompletedProcess(cmd, int(mode["exit"]), "", "stopped")

    builder = h.EnvironmentBuilder(tmp_path / "envs", h.Requirement("jaxpat==0.1.0"), installer="uv",
                                   execute=execute)

    def run(args: list[str], resume: bool) -> h.ReleaseRun:
        return h.CheckRunner(builder, {"0.6.2": PY312}, tmp_path / "out", args, execute=execute,
                             resume=resume)("0.6.2", ["pa"])

    assert run(["-n", "1"], False).status == "ran"
    mode.update(exit=130, value=2.0)
    assert run(["-n", "2"], False).status == "error"  # another selection, stopped
    assert run(["-n", "1"], False).status == "error"  # the same selection, stopped
    kept = run(["-n", "1"], True)
    assert kept.status == "ran"
    assert kept.report is not None
    assert [leaf.digest for r in kept.report.results if r.observed for leaf in r.observed.leaves] == ["d1.0"]
    mode.update(exit=0, value=2.0)
    fresh = run(["-n", "1"], False)  # a finished run replaces it
    assert fresh.report is not None
    assert [leaf.digest for r in fresh.report.results if r.observed for leaf in r.observed.leaves] == ["d2.0"]
    again = run(["-n", "1"], True)
    assert again.report is not None
    assert [leaf.digest for r in again.report.results if r.observed for leaf in r.observed.leaves] == ["d2.0"]


# ---------------------------------------------------------------------------
# bisect
# ---------------------------------------------------------------------------

X, Y, Z = "jaxpat::px::c1[reference.a-cpu:0-jit]", "jaxpat::py::c1[reference.a-cpu:0-jit]", \
    "jaxpat::pz::c1[reference.a-cpu:0-jit]"
NINE = [f"0.{i}.0" for i in range(1, 10)]  # r0 .. r8


def nine_releases() -> dict[str, dict[str, Any]]:
    """px's value changes on r5 (0.6.0); py fails from r2 (0.3.0); pz never changes."""
    return {r: {X: ("passed", 1.0 if i < 5 else 2.0), Y: ("passed" if i < 2 else "failed", 0.5),
                Z: ("passed", 9.0)} for i, r in enumerate(NINE)}


def test_bisect_halves_and_counts_its_runs() -> None:
    runner = FakeRunner(nine_releases())
    result = h.bisect(NINE[0], NINE[-1], NINE, [], runner, jobs=2)
    assert {n: (e["first"], e["last_same"]) for n, e in result.firsts.items()} == {
        X: (NINE[5], NINE[4]), Y: (NINE[2], NINE[1])}
    # by hand: the ends; r4 (both); r2 (py only) and r6 (px only); r1 (py) and r5 (px) = 7 runs, not 9
    assert result.run_count == 7
    asked = sorted((r, p) for r, p in runner.calls[2:])
    assert asked == [(NINE[1], ("py",)), (NINE[2], ("py",)), (NINE[4], ("px", "py")), (NINE[5], ("px",)),
                     (NINE[6], ("px",))]
    assert result.unresolved == {}


def test_bisect_says_what_changed_on_the_first_release_not_between_the_ends() -> None:
    """px goes 1.0 → 2.0 on r5 and 2.0 → 3.0 on r7: its first departure is r5, where it became 2.0 (not 3.0);
    the ends' difference is shown apart."""
    table = nine_releases()
    for r in NINE[7:]:
        table[r][X] = ("passed", 3.0)
    result = h.bisect(NINE[0], NINE[-1], NINE, [], FakeRunner(table), jobs=1)
    e = result.firsts[X]
    assert e["first"] == NINE[5]
    assert any("2.0" in c["text"] for c in e["changes"])
    assert not any("3.0" in c["text"] for c in e["changes"])
    assert any("3.0" in c["text"] for c in e["ends"]["changes"])
    assert "ends" not in result.firsts[Y]  # py changes once: its departure is the ends' difference
    text = "\n".join(view.bisect_lines(result))
    assert f"then changed again; from {NINE[0]} to {NINE[-1]}:" in text


def test_bisect_goes_around_an_uninstallable_release() -> None:
    runner = FakeRunner(nine_releases(), uninstallable={NINE[4]: "no wheel"})
    result = h.bisect(NINE[0], NINE[-1], NINE, ["px"], runner)
    assert result.firsts[X]["first"] == NINE[5]
    assert result.firsts[X]["last_same"] == NINE[3]
    assert result.firsts[X]["untested"] == [NINE[4]]
    assert X in result.unresolved


def test_bisect_refuses_bad_ends() -> None:
    runner = FakeRunner(nine_releases())
    with pytest.raises(h.HistoryError, match="not among"):
        h.bisect("0.0.1", NINE[-1], NINE, [], runner)
    with pytest.raises(h.HistoryError, match="earlier release"):
        h.bisect(NINE[3], NINE[1], NINE, [], runner)


# ---------------------------------------------------------------------------
# the catalog against history
# ---------------------------------------------------------------------------

R = "jaxpat::ck::claim-residuals[reference.a-cpu:0]"


def residual_history(outcomes: dict[str, str]) -> h.History:
    table = {rel: {R: (o, None, "m", "residuals"), A.replace("pa", "ck"): ("passed", 1.0)}
             for rel, o in outcomes.items()}
    runner = FakeRunner(table)
    return h.build_history(h.run_releases(list(table), [], runner))


def _dev(spec: str, **when: str) -> tuple[str, Deviation, str]:
    return ("ck", Deviation(Condition(jax=spec, **when), "r"), "catalog.yaml:1:1")


def test_catalog_bound_contradicted_confirmed_or_unconfirmed() -> None:
    hist = residual_history({"0.10.2": "passed", "0.11.0": "xpassed", "0.11.1": "xfailed", "0.12.1": "xfailed"})
    index = ["0.10.2", "0.11.0", "0.11.1", "0.11.2", "0.12.1"]
    wrong, right, edge_missing, other_claim = h.check_catalog(
        hist, [_dev(">=0.11", claim="residuals"), _dev(">=0.11.1", claim="residuals"),
               _dev(">=0.11.2", claim="residuals"), _dev(">=0.11", claim="memory")], index)
    assert wrong.verdict == "contradicted"
    assert "0.11.0 does not show it" in wrong.detail
    assert (wrong.first, wrong.absent) == ("0.11.1", ["0.10.2", "0.11.0"])
    assert right.verdict == "confirmed"
    assert right.first == "0.11.1"
    # 0.11.1 shows it outside >=0.11.2: contradicted as well
    assert edge_missing.verdict == "contradicted"
    assert "0.11.1 shows it" in edge_missing.detail
    assert other_claim.verdict == "unconfirmed"
    assert other_claim.items == 0
    # a bound that agrees with every release that ran, but whose neighbour release never ran
    hist2 = residual_history({"0.10.2": "passed", "0.12.1": "xfailed"})
    (c,) = h.check_catalog(hist2, [_dev(">=0.11.1", claim="residuals")], index)
    assert c.verdict == "unconfirmed"
    assert "0.11.0, 0.11.1 did not run" in c.detail


def test_check_catalog_command_on_the_shipped_catalog(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """checkpoint-scan-body says `jax >= 0.11.2`: a history where 0.11.1 already fails contradicts it."""
    from jaxpat._cli import main

    items = [f"jaxpat::checkpoint-scan-body::claim-residuals[reference.{i}-cpu:0]"
             for i in ("with_checkpoint", "remat", "nothing_saveable")]
    path = tmp_path / "history.json"
    for outcome_0111, status, verdict in (("failed", 1, "contradicted"), ("passed", 0, "confirmed")):
        table = {rel: {n: (o, None, "m", "residuals") for n in items}
                 for rel, o in {"0.10.2": "passed", "0.11.1": outcome_0111, "0.11.2": "xfailed"}.items()}
        h.build_history(h.run_releases(list(table), [], FakeRunner(table))).write(path)
        assert main(["history", "--check-catalog", str(path)]) == status
        out = capsys.readouterr().out
        line = next(x for x in out.splitlines() if "checkpoint-scan-body deviation" in x)
        assert f"checkpoint-scan-body deviation {{jax: >=0.11.2, claim: residuals}} {verdict}" in line
        assert line.endswith(f"first release showing it: {'0.11.1' if status else '0.11.2'}")
        assert ("0.11.1 shows it (failed) but is outside `jax: >=0.11.2`" in out) == bool(status)


# ---------------------------------------------------------------------------
# files: the history file, HTML, Markdown
# ---------------------------------------------------------------------------

def test_history_file_round_trip_and_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from jaxpat._cli import main

    hist = h.build_history(h.run_releases(list(three_patterns()), [], FakeRunner(three_patterns())),
                           {"created": "2026-12-07T00:00:00+0000", "command": ["jaxpat", "history"]})
    path = tmp_path / "h.json"
    hist.write(path)
    again = h.load_history(path)
    assert again.to_dict() == hist.to_dict()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "jaxpat-report", "version": 1}))
    with pytest.raises(h.HistoryError, match="not a jaxpat history"):
        h.load_history(bad)
    bad.write_text(json.dumps({"format": "jaxpat-history", "version": 1, "releases": [{"version": "1"}],
                               "patterns": {}, "items": {}}))
    with pytest.raises(h.HistoryError, match=r"releases\[0\]"):
        h.load_history(bad)
    assert main(["history", "--from", str(bad)]) == 3
    assert main(["history", "--check-catalog", str(tmp_path / "missing.json")]) == 3
    page = tmp_path / "docs" / "history.md"
    assert main(["history", "--from", str(path), "--html", str(tmp_path / "h.html"), "--markdown", str(page)]) == 0
    assert "pb" in capsys.readouterr().out
    assert (tmp_path / "h.html").is_file()
    assert page.read_text(encoding="utf-8") == view.render_markdown(hist, source="../h.json")


def test_merge_reports_then_rebuild_from_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from jaxpat._cli import main
    from jaxpat.report import write_report

    paths = []
    for release, items in three_patterns().items():
        paths.append(str(write_report(make_report(release, items), tmp_path / f"jax-{release}.json")))
    merged = tmp_path / "history.json"
    assert main(["history", "--merge", *reversed(paths), "--json", str(merged)]) == 0
    hist = h.load_history(merged)
    assert hist.ran() == list(three_patterns())
    assert [c["release"] for c in hist.changes()] == ["0.7.0", "0.8.0"]
    again = tmp_path / "again.json"
    assert main(["history", "--from", str(merged), "--rebuild", "--json", str(again)]) == 0
    assert h.load_history(again).items == hist.items
    (tmp_path / "jax-0.8.0.json").unlink()
    assert main(["history", "--from", str(merged), "--rebuild", "--json", str(again)]) == 3
    assert "the report of jax 0.8.0 (jax-0.8.0.json) is in none of" in capsys.readouterr().err


def test_merge_lays_a_later_run_of_some_patterns_over_a_full_run(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A pattern added (or changed) after a full history ran: a run of just that pattern on every release is
    laid over the full run's reports; the other patterns keep their items, the updated one is compared as it
    now is, and --rebuild finds the same history from the files."""
    from jaxpat._cli import main
    from jaxpat.report import write_report

    (tmp_path / "full").mkdir()
    (tmp_path / "new").mkdir()
    paths, updates = [], []
    d = "jaxpat::pd::c1[reference.a-cpu:0-jit]"
    for release, items in three_patterns().items():
        paths.append(str(write_report(make_report(release, items), tmp_path / "full" / f"jax-{release}.json")))
        # pa as it is now: its value changes on 0.7.0, not 0.8.0; pd is new and fails from 0.9.0
        update = {A: ("passed", 1.0 if release == "0.6.0" else 1.5),
                  d: ("failed" if release == "0.9.0" else "passed", 4.0)}
        updates.append(str(write_report(make_report(release, update), tmp_path / "new" / f"jax-{release}.json")))
    merged = tmp_path / "history.json"
    page = tmp_path / "history.md"
    assert main(["history", "--merge", *paths, *updates, "--json", str(merged), "--markdown", str(page),
                 "--note", "full run at commit A; pa and pd at commit B"]) == 0
    assert "jax 0.7.0: jax-0.7.0.json replaces 2 patterns of jax-0.7.0.json" in capsys.readouterr().err
    text = page.read_text(encoding="utf-8")
    assert "- note: full run at commit A; pa and pd at commit B" in text
    assert "- updates: 4 of 4 releases combine a run of the whole catalog with a later run" in text
    assert "… (8 reports)" in text
    assert updates[-1] not in text  # the long --merge list is cut
    hist = h.load_history(merged)
    firsts = {(c["nodeid"], c["release"]) for c in hist.changes()}
    assert firsts == {(A, "0.7.0"), (B, "0.7.0"), (d, "0.9.0")}  # pa's old change on 0.8.0 is gone
    assert {r["version"]: r.get("updated_by") for r in hist.releases} == {
        r: [str(tmp_path / "new" / f"jax-{r}.json")] for r in three_patterns()}
    assert hist.patterns["pc"]["items"] == 1
    assert hist.patterns["pd"]["outcomes"]["0.9.0"] == {"failed": 1}
    again = tmp_path / "again.json"
    assert main(["history", "--from", str(merged), "--rebuild", "--json", str(again)]) == 0
    assert h.load_history(again).items == hist.items
    with pytest.raises(h.HistoryError, match=r"cannot lay a report of jax 0\.7\.0 over one of jax 0\.6\.0"):
        h.layer_reports(make_report("0.6.0", {A: ("passed", 1.0)}), make_report("0.7.0", {A: ("passed", 1.0)}))


def test_html_escapes_every_value() -> None:
    evil = "jaxpat::<script>alert(1)</script>::c1[x]"
    table = {"0.6.0": {evil: ("passed", 1.0)}, "0.7.0": {evil: ("failed", 1.0, "<img src=x onerror=alert(2)>")}}
    hist = h.build_history(h.run_releases(list(table), [], FakeRunner(table)),
                           {"command": ["jaxpat", "history", "--pattern", "<marquee>"]})
    page = view.render_html(hist)
    assert "<script>" not in page
    assert "<img" not in page
    assert "<marquee>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page


def test_markdown_lists_changes_with_their_first_release() -> None:
    hist = h.build_history(h.run_releases(list(three_patterns()), [], FakeRunner(three_patterns())),
                           {"created": "2026-12-07T00:00:00+0000", "command": ["jaxpat", "history"],
                            "machine": {"hostname": "box", "platform": "Linux", "cpus": 2}, "wall_seconds": 75})
    page = view.render_markdown(hist, source="history/history.json")
    assert "- **0.7.0** (since 0.6.0): message/outcome in 1 item (`c1[reference.a-cpu:0-jit]`)" in page
    assert "- **0.8.0** (since 0.7.0): value in 1 item" in page
    assert "on box (Linux, 2 CPUs), in 1 min 15 s" in page
    assert "## Patterns with no change\n\n`pc`" in page


def test_docs_history_matches_its_history_file() -> None:
    """docs/history.md is generated from docs/history/history.json; regenerate both together (docs/history.md)."""
    hist = h.load_history(ROOT / "docs" / "history" / "history.json")
    page = (ROOT / "docs" / "history.md").read_text(encoding="utf-8")
    assert page == view.render_markdown(hist, source="history/history.json"), (
        "docs/history.md is out of date: jaxpat history --from docs/history/history.json --markdown docs/history.md")
    assert len(hist.ran()) >= 3
    # the README's sentence on it is the history file's
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    changed = sum(1 for p in hist.patterns.values() if p.get("changed"))
    assert (f"ran the whole catalog on all {len(hist.ran())} releases from {hist.ran()[0]} to {hist.ran()[-1]}"
            in readme)
    assert f"{changed} of {len(hist.patterns)} patterns changed somewhere on the way" in readme
    assert not hist.meta.get("partial")


def test_every_version_keyed_deviation_is_confirmed_by_a_committed_history() -> None:
    """Each deviation keyed on a JAX version has its bound confirmed -- absent and present on the releases each
    side of it -- by one of the committed history files (docs/history/*.json: the whole-catalog history and the
    targeted runs around each bound), and none contradicts it."""
    from jaxpat.catalog import load

    deviations = [(p.id, d, str(p.location)) for p in load() for d in p.deviations if d.when.jax]
    assert deviations
    confirmed: set[tuple[str, str]] = set()
    for path in sorted((ROOT / "docs" / "history").glob("*.json")):
        hist = h.load_history(path)
        for c in h.check_catalog(hist, deviations, hist.meta.get("index_releases") or []):
            assert c.verdict != "contradicted", (path.name, c.to_dict())
            if c.verdict == "confirmed":
                confirmed.add((c.pattern, str(c.to_dict().get("when"))))
    missing = [(pid, str(d.when)) for pid, d, _ in deviations
               if not any(pattern == pid for pattern, _ in confirmed)]
    assert missing == [], "a version bound no committed history confirms (jaxpat history --bisect OLD NEW)"


def test_the_catalog_agrees_with_the_committed_history() -> None:
    """No version-keyed deviation of the shipped catalog is contradicted by docs/history/history.json."""
    from jaxpat.catalog import load

    hist = h.load_history(ROOT / "docs" / "history" / "history.json")
    deviations = [(p.id, d, str(p.location)) for p in load() for d in p.deviations]
    checks = h.check_catalog(hist, deviations, hist.meta.get("index_releases") or [])
    assert len(checks) == sum(1 for _, d, _ in deviations if d.when.jax)
    assert [c.to_dict() for c in checks if c.verdict == "contradicted"] == []


# ---------------------------------------------------------------------------
# end to end: three real release environments
# ---------------------------------------------------------------------------

E2E_RELEASES = ("0.10.2", "0.11.1", "0.11.2")


def _python312() -> str:
    for name in ("python3.12", "python3.13"):
        exe = shutil.which(name)
        if exe and subprocess.run([exe, "-c", "pass"], capture_output=True, check=False).returncode == 0:
            return exe
    return sys.executable


def test_real_releases(tmp_path: Path) -> None:
    """Three real environments (jax 0.10.2, 0.11.1, 0.11.2) and one that cannot exist (jax 0.99.0).

    checkpoint-scan-body's residuals claim holds on 0.10.2 and 0.11.1 and no
    longer holds on 0.11.2 (the plain scan body saves as few residuals as the
    checkpointed one: 76 B vs 76 B instead of 100 B); 0.11.1 and 0.11.2 are
    consecutive releases, so the bisect finds the change's true first release. The bisect takes the
    matrix's reports of the same releases and selection (``--resume``): its halving, with the real runner,
    reads what a check there would write again, without running each check a second time. Environments go
    to $JAXPAT_HISTORY_DIR when set (kept between runs), else under the test's folder.
    """
    env = {**os.environ, "JAXPAT_HISTORY_DIR": os.environ.get("JAXPAT_HISTORY_DIR") or str(tmp_path / "envs"),
           # the example plugin is installed in each environment (as here) but has nothing selected: no executor
           "JAXPAT_BLOCK_PLUGINS": "example"}
    jaxpat = str(Path(sys.executable).with_name("jaxpat"))
    python = _python312()
    select = ["--pattern", "checkpoint-scan-body", "--python", python, "-n", "0", "--jobs", "2", "--",
              "--impl", "reference.with_checkpoint", "--impl", "reference.without_checkpoint", "--transform", "jit"]
    out = tmp_path / "hist"
    done = subprocess.run([jaxpat, "history", "--releases", ",".join([*E2E_RELEASES, "0.99.0"]), "-o", str(out),
                           *select], capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    hist = h.load_history(out / "history.json")
    assert hist.ran() == list(E2E_RELEASES)
    bad = hist.release("0.99.0")
    assert bad["status"] == "uninstallable"
    assert "0.99.0" in bad["reason"]
    residuals = "jaxpat::checkpoint-scan-body::claim-residuals[reference.with_checkpoint-cpu:0]"
    assert hist.items[residuals]["outcomes"] == {"0.10.2": "passed", "0.11.1": "passed", "0.11.2": "xfailed"}
    (change,) = hist.items[residuals]["changes"]
    assert change["release"] == "0.11.2"
    assert "verdict held → violated" in json.dumps(change, ensure_ascii=False)
    row = next(line for line in done.stdout.splitlines() if line.startswith("checkpoint-scan-body "))
    # the claim holds on 0.10.2 and 0.11.1; on 0.11.2 it no longer does: an expected failure (jax >= 0.11.2)
    assert row.split()[1:] in (["✓", "✓", "x!", "u"], ["+", "+", "x!", "u"])
    # the catalog's bound (jax >= 0.11.2) is confirmed: absent on 0.11.1, present on 0.11.2, consecutive releases
    checked = subprocess.run([jaxpat, "history", "--check-catalog", str(out / "history.json")],
                             capture_output=True, text=True, env=env, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    line = next(x for x in checked.stdout.splitlines() if "checkpoint-scan-body deviation" in x)
    assert "confirmed" in line
    assert line.endswith("first release showing it: 0.11.2")
    # bisect between the ends: one middle release, three runs in all, first release 0.11.2 (each release's
    # report is the matrix run's: same release, selection and environment)
    done = subprocess.run([jaxpat, "history", "--bisect", "0.10.2", "0.11.2", "--releases", ",".join(E2E_RELEASES),
                           "--resume", "-o", str(out), "--json", str(tmp_path / "bisect" / "history.json"),
                           "--html", str(tmp_path / "bisect" / "history.html"), *select],
                          capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr.count("reusing the report of an earlier run") == 3, done.stderr
    bis = h.load_history(tmp_path / "bisect" / "history.json").bisect
    assert bis is not None
    assert bis["runs"] == 3
    assert [r["release"] for r in bis["run_list"]] == ["0.10.2", "0.11.2", "0.11.1"]  # the ends, then the middle
    assert bis["firsts"][residuals]["first"] == "0.11.2"
    assert bis["firsts"][residuals]["last_same"] == "0.11.1"
