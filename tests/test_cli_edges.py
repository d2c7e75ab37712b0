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


# -- progress: its own line, an estimate only after enough items ------------------------------------------------

def test_the_estimate_ignores_start_up_and_waits_for_enough_items() -> None:
    """A run whose first item takes 10 minutes (workers, JAX start-up) and the rest 1 s each: no estimate
    until eta_after(total) items finished, then one from the pace since the first item (not 10h)."""
    from types import SimpleNamespace

    from jaxpat.conformance import _progress

    now = [0.0]
    lines: list[str] = []
    prog = _progress.Progress(SimpleNamespace(), clock=lambda: now[0], write=lines.append)  # type: ignore[arg-type]
    prog.pytest_xdist_node_collection_finished(None, [f"i{k}" for k in range(1000)])
    assert _progress.eta_after(1000) == 50
    done = SimpleNamespace(when="teardown", failed=False)
    now[0] = 600.0
    prog.pytest_runtest_logreport(done)  # type: ignore[arg-type]
    assert lines == ["jaxpat: 1/1000 items (0%); 10m00s elapsed"]
    for _ in range(48):
        now[0] += 1.0
        prog.pytest_runtest_logreport(done)  # type: ignore[arg-type]
    assert "left" not in prog.line(now[0])  # 49 done: one short
    now[0] += 1.0
    prog.pytest_runtest_logreport(done)  # type: ignore[arg-type]
    # 50 done, 49 s since the first: 1 s per item, 950 left
    assert prog.line(now[0]) == "jaxpat: 50/1000 items (5%); 10m49s elapsed, about 15m50s left"


class _Writer:
    def __init__(self) -> None:
        self.text = ""

    @property
    def width_of_current_line(self) -> int:
        return len(self.text.rsplit("\n", 1)[-1])


class _Reporter:
    def __init__(self) -> None:
        self._tw = _Writer()

    def write(self, text: str) -> None:
        self._tw.text += text

    def write_line(self, text: str) -> None:
        self._tw.text += text + "\n"


def test_the_progress_line_is_never_glued_to_the_dots() -> None:
    from types import SimpleNamespace

    from jaxpat.conformance import _progress

    tr = _Reporter()
    config = SimpleNamespace(pluginmanager=SimpleNamespace(get_plugin=lambda name: tr), get_verbosity=lambda: 0)
    prog = _progress.Progress(config)  # type: ignore[arg-type]
    tr.write("....")
    prog.emit("jaxpat: 4/10 items (40%); 12s elapsed")
    tr.write("..")
    prog.emit("jaxpat: 6/10 items (60%); 27s elapsed")
    assert tr._tw.text.splitlines() == ["....", "jaxpat: 4/10 items (40%); 12s elapsed", "..",
                                        "jaxpat: 6/10 items (60%); 27s elapsed"]


# -- Ctrl-C in each phase of a run -------------------------------------------------------------------------------

SLOW_PLUGIN = '''
import os, time
from jaxpat.patterns import Implementation, hookimpl

with open(os.environ["SLOWINT_IMPORTED"], "a") as log:  # an executor imported this plugin
    log.write(f"{os.getpid()}\\n")

def make(i):
    def f(xs):
        time.sleep(0.5)
        import jax.numpy as jnp
        out = jnp.cumsum(xs, axis=0)  # right on every case: an item either passes or is not run
        with open(os.environ["SLOWINT_LOG"], "a") as log:  # one line per call that got to the end
            log.write(f"slowint.slow{i}\\n")
        return out
    return f

@hookimpl
def jaxpat_implementations():
    return [Implementation("scan-cumsum", f"slow{i}", make(i)) for i in range(4)]
'''


#: A run started from a terminal has SIGINT's default disposition; one started by a suite that a non-interactive
#: shell put in the background inherits SIGINT *ignored* (and then Python never raises KeyboardInterrupt): this
#: prelude gives the command after it the terminal's disposition back, then execs it (no preexec_fn: threads).
_SIGINT_AS_AT_A_TERMINAL = [sys.executable, "-c", "import os, signal, sys; signal.signal(signal.SIGINT, "
                            "signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])"]


#: Where each run of the Ctrl-C test is interrupted: (the event it waits for, seconds after it, the phase it
#: lands in). Each event is observed, not guessed from a clock, so each run interrupts its phase on a fast or a
#: loaded machine alike. One run per phase: more runs of one phase add no code path (20 seeded random moments
#: used to be drawn here; these six are the phases they landed in).
CTRL_C_MOMENTS = (
    ("header", 0.0, "pytest's session start: xdist starting its workers (pytest skips sessionfinish here)"),
    ("header", 1.0, "the workers starting up and collecting"),
    ("collected", 0.0, "collection finished: items about to be sent, executors starting"),
    ("imported", 0.0, "an executor imported the plugin: its first item is running"),
    ("called", 0.0, "the first call finished: its result on its way to the judge"),
    ("called", 1.5, "items running on both workers (at least 3.5 s of them left)"),
)


def test_ctrl_c_in_each_phase_of_a_run_is_recorded_as_interrupted_every_time(tmp_path: Path) -> None:
    """Runs of `jaxpat check -n 2` on 16 items, each given SIGINT (to its whole process group, as a terminal's
    Ctrl-C) at one of the moments of CTRL_C_MOMENTS, one per phase of a run from pytest's header to items
    running: every run exits 130 and leaves a report that says `interrupted`, claims no more passes than the
    implementations finished calls, gives every other item `not_run` with the interrupt as its reason, and the
    terminal shows no all-green summary.

    Each item sleeps 0.5 s in its implementation, so each worker's 8 items need at least 4 s: the interrupt
    always lands before the run could end, by construction, not by a clock assertion."""
    import signal
    import threading

    (tmp_path / "slowint.py").write_text(SLOW_PLUGIN)
    # slowint's items only (--impl): the other plugins are blocked, so that no run starts their executors to list them
    env = {**os.environ, "JAXPAT_BLOCK_PLUGINS": "example,reference", "PYTHONPATH": str(tmp_path), "NO_COLOR": "1"}
    exe = Path(sys.executable).with_name("jaxpat")
    problems = []
    for run, (anchor, delay, phase) in enumerate(CTRL_C_MOMENTS):
        log = tmp_path / f"calls-{run}.log"
        log.touch()
        imported = tmp_path / f"imported-{run}.log"
        imported.touch()
        report_path = tmp_path / f"r{run}.json"
        proc = subprocess.Popen(
            [*_SIGINT_AS_AT_A_TERMINAL, str(exe), "check", "-n", "2", "--no-claims", "--pattern", "scan-cumsum",
             "--impl", "slowint.*",
             "--transform", "eager", "--load", "slowint", "--report", str(report_path)],
            cwd=tmp_path, env={**env, "SLOWINT_LOG": str(log), "SLOWINT_IMPORTED": str(imported)},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        assert proc.stdout is not None
        lines: list[str] = []
        seen = {"header": threading.Event(), "collected": threading.Event()}

        def read(stream: Any = proc.stdout, lines: list[str] = lines, seen: dict = seen) -> None:
            for line in stream:
                lines.append(line)
                if "test session starts" in line:
                    seen["header"].set()
                if re.match(r"\d+ workers \[16 items\]", line):
                    seen["collected"].set()
            for event in seen.values():  # the run ended: nobody waits for what will not come
                event.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        if anchor in seen:
            seen[anchor].wait(300)
        else:
            watched = imported if anchor == "imported" else log
            while not watched.read_text() and proc.poll() is None:
                threading.Event().wait(0.02)
        threading.Event().wait(delay)
        os.killpg(proc.pid, signal.SIGINT)
        code = proc.wait(300)
        reader.join(60)
        proc.stdout.close()
        out = "".join(lines)
        where = f"run {run} (SIGINT {delay:.1f} s after {anchor}: {phase}), exit {code}:\n{out[-2500:]}"
        if not report_path.exists():
            problems.append(f"no report; {where}")
            continue
        rep = json.loads(report_path.read_text())
        results = rep["results"]
        calls = log.read_text().split()
        passed = [r for r in results if r["outcome"] == "passed"]
        for impl in {r["implementation"] for r in passed}:
            if sum(r["implementation"] == impl for r in passed) > calls.count(impl):
                problems.append(f"{impl}: more passes than finished calls; {where}")
        not_run = [r for r in results if r["outcome"] == "not_run"]
        if rep["status"] != "interrupted" or code != 130:
            problems.append(f"status {rep['status']}; {where}")
        elif [r for r in results if r["outcome"] not in ("passed", "not_run")]:
            problems.append(f"outcomes {sorted({r['outcome'] for r in results})}; {where}")
        elif results and len(passed) + len(not_run) != 16:
            problems.append(f"{len(passed)} passed + {len(not_run)} not run != 16; {where}")
        elif any("interrupted" not in (r.get("message") or "") for r in not_run):
            problems.append(f"a not-run item blames something else; {where}")
        elif re.search(r"=+ \d+ passed in [0-9.]+s", out):
            problems.append(f"an all-green summary line; {where}")
    assert not problems, "\n\n".join(problems)


# -- the end of a run: no phantom group, E for setup errors, one line for skips and xfails, never cut -----------

def test_records_of_items_that_never_ran_get_their_family_and_platform() -> None:
    """An interrupted run's not-run records come from node ids alone: they get the family (from a sibling or the
    catalog) and an agreement item's platforms, so the matrix has no `-` group and no `-` platform; a failed
    setup item is an error (the legend's E)."""
    from jaxpat.conformance._summary import complete_records
    from jaxpat.report import Result, matrix_lines, nodeid_record

    ids = ["jaxpat::scan-cumsum::five[reference.lax_scan-cpu:0-jit]",
           "jaxpat::scan-cumsum::five[reference.lax_scan-devices-jit]",
           "jaxpat::loop-lax-scan::five[reference.lax_scan-cpu:0-eager]",
           "jaxpat::plugin[broken]"]
    results = {i: {**nodeid_record(i), "outcome": "not_run", "duration": 0.0} for i in ids}
    results[ids[3]]["outcome"] = "failed"
    ran = "jaxpat::scan-cumsum::six[reference.lax_scan-cpu:0-jit]"
    results[ran] = {**nodeid_record(ran), "family": "scan", "platform": "cpu", "outcome": "passed", "duration": 1.0}
    before = "\n".join(matrix_lines([Result.from_dict(r) for r in results.values()], width=100))
    assert "- (2 patterns)" in before  # the phantom group this fixes
    complete_records(results, {"loop-lax-scan": "loops"}, ["cpu"])
    lines = matrix_lines([Result.from_dict(r) for r in results.values()], width=100)
    text = "\n".join(lines)
    assert "- (" not in text
    assert [line for line in lines if line.startswith(("scan (", "loops (", "setup ("))] == [
        "loops (1 pattern)", "scan (1 pattern)", "setup (1 pattern)"]
    assert results[ids[1]]["platform"] == "cpu"
    assert results[ids[3]]["outcome"] == "error"
    assert " E1" in text


def test_skips_and_xfails_are_one_line_each_unless_asked_for() -> None:
    from jaxpat.conformance._summary import outcome_lines

    outcomes = ["passed"] * 5 + ["skipped"] * 22 + ["xfailed"] * 3
    lines = outcome_lines(outcomes, "fE")
    assert lines == ["22 skipped (this host cannot run them, e.g. too few devices); -rs lists each with its reason",
                     "3 xfailed (known deviations declared in the catalog, still deviating); -rx lists each"]
    assert all(len(line) <= 100 for line in lines)
    assert outcome_lines(outcomes, "sxXEf")[0].endswith("; listed below")
    assert outcome_lines(["passed", "failed"], "") == []


def test_piped_output_is_drawn_at_100_columns_and_the_legend_wraps_instead_of_cutting() -> None:
    from jaxpat.conformance._summary import summary_width
    from jaxpat.report import Style, legend_lines

    class Tw:
        fullwidth = 80

    class Tr:
        _tw = Tw()

        def __init__(self, tty: bool) -> None:
            self.isatty = lambda: tty

    assert summary_width(Tr(False)) == 100  # a pipe: 100 columns, not the 80 a pipe reports
    assert summary_width(Tr(True)) == 80
    words = " ".join(legend_lines(Style(), 100)).split()
    for width in (40, 60, 80):
        lines = legend_lines(Style(), width)
        assert all(len(line) <= width for line in lines), width
        assert " ".join(lines).split() == words  # every word kept, none cut
        assert "…" not in "".join(lines)


def test_ctrl_c_before_pytest_runs_its_session_still_leaves_an_interrupted_report(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`jaxpat check` whose pytest is interrupted before any report is written (pytest skips
    pytest_sessionfinish when Ctrl-C lands in pytest_sessionstart, where xdist starts workers): exit 130 and a
    report that says `interrupted`, with no result and the reason; an earlier report at that path is replaced.
    A run that wrote its own report keeps it."""
    from jaxpat import report as _report
    from jaxpat._cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.json").write_text("{}")  # an older report: must not pass for this run's

    def interrupted(args: list[str]) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(pytest, "main", interrupted)
    assert main(["check", "-n", "0", "--report", "r.json"]) == 130
    rep = _report.load(tmp_path / "r.json")
    assert rep.status == "interrupted"
    assert list(rep.results) == []
    assert "no item ran" in json.loads((tmp_path / "r.json").read_text())["reason"]

    def writes_its_own(args: list[str]) -> int:
        (tmp_path / "r.json").write_text('{"own": 1}')
        return int(pytest.ExitCode.INTERRUPTED)

    monkeypatch.setattr(pytest, "main", writes_its_own)
    assert main(["check", "-n", "0", "--report", "r.json"]) == 130
    assert json.loads((tmp_path / "r.json").read_text()) == {"own": 1}


def test_items_that_never_ran_count_in_pytests_last_line() -> None:
    """pytest's last line of a run with not-run items says so (`3 passed, 13 not run`), not a green `3 passed`."""
    from types import SimpleNamespace

    from _pytest.terminal import TerminalReporter

    from jaxpat.conformance._summary import FinalReport

    results = {f"i{k}": {"outcome": "passed" if k < 3 else "not_run"} for k in range(16)}
    session = SimpleNamespace(results=results)
    config = SimpleNamespace(pluginmanager=SimpleNamespace(get_plugin=lambda name: session))
    tr = TerminalReporter.__new__(TerminalReporter)
    passed = SimpleNamespace(when="call", count_towards_summary=True)
    tr.stats = {"passed": [passed] * 3}
    tr._main_color = "green"
    tr._known_types = ["passed"]
    tr._session = SimpleNamespace(testscollected=16)  # type: ignore[assignment]
    tr._progress_nodeids_reported = set()
    FinalReport(config).pytest_terminal_summary(tr)  # type: ignore[arg-type]
    parts, colour = tr._build_normal_summary_stats_line()
    assert [text for text, _ in parts] == ["3 passed", "13 not run"]
    assert colour != "green"
