"""Hostile plugins, installed as real distributions, fail only themselves.

The distributions (tests/_hostile.py) are installed once per session into a
folder that subprocesses get on ``PYTHONPATH``: ``importlib.metadata`` finds
their entry points exactly as it finds a ``pip install``-ed plugin. Each
command is run in a subprocess, as a user runs it.

The central check: ``jaxpat check`` over two patterns with every hostile
plugin installed reports every other plugin's items exactly as a run
without them, and each hostile plugin is reported for what it did.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jaxpat.report import nodeid_record

sys.path.insert(0, str(Path(__file__).parent))
import _hostile

KIND = "broken or hostile plugins"
HOSTILE = {p.name for p in _hostile.PLUGINS}
PATTERNS = ("scan-cumsum", "prng-key-from-seed")
IMPORT_BUDGET = "3"  # seconds; slow_import sleeps 30
# --timeout of the conformance runs: hanger never returns, so its two timeouts (then quarantine) are most of the
# hostile run's time. It bounds one request, not the executor's start: at load average 12 on 2 cores the slowest
# other request of these runs took 2.3 s (the first of each executor, JAX's import included, at most 6.6 s)
TIMEOUT = "10"


@pytest.fixture(scope="session")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The good third-party plugin and the hostile ones, each installed once (pip, from wheels) into a folder."""
    root = tmp_path_factory.mktemp("plugins")
    good = _hostile.install([_hostile.GOOD], root / "wheels-good", root / "good")
    hostile = _hostile.install(_hostile.PLUGINS, root / "wheels-hostile", root / "hostile")
    return {"good": good, "hostile": hostile}


def _env(*paths: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAXPAT_PLUGIN_", "JAXPAT_BLOCK"))}
    env.pop("JAXPAT_DISABLE_PLUGIN_AUTOLOAD", None)
    env["PYTHONPATH"] = os.pathsep.join([*map(str, paths), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["JAXPAT_PLUGIN_IMPORT_TIMEOUT"] = IMPORT_BUDGET
    # the example plugin is installed in the development environment (README): the plugins here are the good
    # third-party one, the reference and the hostile ones, wherever the suite runs
    env["JAXPAT_BLOCK_PLUGINS"] = "example"
    env.update(extra)
    return env


def _jaxpat(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jaxpat", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)


def _python(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=900)


def _start(args: list[str], env: dict[str, str], cwd: Path,
           python: tuple[str, ...] = ("-m", "jaxpat")) -> tuple[subprocess.Popen[str], Path]:
    """Start ``jaxpat ARGS`` (or ``python PYTHON ARGS``) in ``cwd``, a folder of its own: its output goes to
    files there, so that commands run at once never block on a full pipe."""
    cwd.mkdir(parents=True, exist_ok=True)
    with open(cwd / "stdout.txt", "w") as stdout, open(cwd / "stderr.txt", "w") as stderr:
        proc = subprocess.Popen([sys.executable, *python, *args], cwd=cwd, env=env, stdout=stdout,
                                stderr=stderr, text=True)
    return proc, cwd


def _finish(started: tuple[subprocess.Popen[str], Path]) -> subprocess.CompletedProcess[str]:
    proc, cwd = started
    code = proc.wait(900)
    return subprocess.CompletedProcess(proc.args, code, (cwd / "stdout.txt").read_text(),
                                       (cwd / "stderr.txt").read_text())


# ---------------------------------------------------------------------------
# commands that never run an implementation
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def plugins_json(sites: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    proc = _jaxpat(["plugins", "--format", "json"], _env(sites["good"], sites["hostile"]),
                   tmp_path_factory.mktemp("plugins-json"))
    assert proc.returncode == 1, proc.stderr[-3000:]  # some plugins failed to load
    return {"data": json.loads(proc.stdout), "proc": proc}


LOAD_FAILURES = {
    "exit_import": ("import", "raised SystemExit: 3"),
    "ctrlc_import": ("import", "raised KeyboardInterrupt"),
    "slow_import": ("import", f"took longer than {IMPORT_BUDGET} s (JAXPAT_PLUGIN_IMPORT_TIMEOUT)"),
    "bad_yaml": ("jaxpat_catalog_files", "patterns.yaml:"),
    "taken_id": ("jaxpat_catalog_files", "'scan-cumsum'"),
    "exit_hook": ("jaxpat_implementations", "raised SystemExit: bye"),
    "x64_hook": ("jaxpat_implementations", "jax_enable_x64 False -> True (restored)"),
}


@pytest.mark.parametrize("name", sorted(LOAD_FAILURES))
def test_plugins_reports_each_plugin_that_fails_to_load(name: str, plugins_json: dict[str, Any],
                                                        record_property: Any) -> None:
    """`jaxpat plugins` survives every hostile plugin, and names each culprit with its distribution and why."""
    record_property("reliability", KIND)
    errors = [e for e in plugins_json["data"]["errors"] if e["plugin"] == name]
    assert len(errors) == 1, plugins_json["data"]["errors"]
    stage, fragment = LOAD_FAILURES[name]
    assert errors[0]["stage"] == stage
    assert errors[0]["distribution"] == f"jaxpat-hostile-{name.replace('_', '-')}"
    assert fragment in errors[0]["message"], errors[0]["message"]
    loaded = {p["name"] for p in plugins_json["data"]["plugins"]}
    assert name not in loaded
    assert {"reference", "goodtp", "crasher", "hanger", "flood"} <= loaded


def test_a_name_two_distributions_take_is_refused_for_both(plugins_json: dict[str, Any], record_property: Any) -> None:
    record_property("reliability", KIND)
    errors = [e for e in plugins_json["data"]["errors"] if e["plugin"] == "dup"]
    assert sorted(e["distribution"] for e in errors) == ["jaxpat-hostile-dup-a", "jaxpat-hostile-dup-b"]
    for e in errors:
        assert "jaxpat-hostile-dup-a 0.1.0" in e["message"]
        assert "jaxpat-hostile-dup-b 0.1.0" in e["message"]
        assert "JAXPAT_PLUGIN_DUP=" in e["message"]
    assert "dup" not in {p["name"] for p in plugins_json["data"]["plugins"]}


def test_the_user_picks_which_distribution_owns_a_name(sites: dict[str, Path], tmp_path: Path) -> None:
    blocked = ",".join(sorted(HOSTILE - {"dup"} | {"example"}))
    code = ("import json; from jaxpat.patterns import load_registry; r = load_registry(); "
            "print(json.dumps([[p.name, p.distribution] for p in r.plugins()] + "
            "[[e.plugin, e.distribution] for e in r.errors]))")
    proc = _python(code, _env(sites["hostile"], JAXPAT_BLOCK_PLUGINS=blocked,
                              JAXPAT_PLUGIN_DUP="jaxpat-hostile-dup-b"), tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    pairs = json.loads(proc.stdout)
    assert ["dup", "jaxpat-hostile-dup-b"] in pairs[:-1]  # loaded
    assert pairs[-1] == ["dup", "jaxpat-hostile-dup-a"]  # refused


def test_list_validate_and_load_catalog_survive_and_name_the_culprits(
    sites: dict[str, Path], tmp_path: Path, record_property: Any,
) -> None:
    """list and show work and say which plugins were left out; validate fails naming the plugin; load_catalog too."""
    record_property("reliability", KIND)
    env = _env(sites["good"], sites["hostile"])
    code = ("import warnings; from jaxpat.patterns import load_catalog\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    cat = load_catalog()\n"
            "print(len(cat), 'scan-cumsum' in cat, sorted(str(x.message).split(chr(39))[1] for x in w))")
    # five independent commands, run at once: each waits out slow_import's budget
    started = {
        "list": _start(["list"], env, tmp_path / "list"),
        "show": _start(["show", "scan-cumsum"], env, tmp_path / "show"),
        "validate": _start(["validate"], env, tmp_path / "validate"),
        "load": _start([code], env, tmp_path / "load", python=("-c",)),
        "strict": _start(["from jaxpat.patterns import load_catalog; load_catalog(strict=True)"],
                         _env(sites["hostile"],
                              JAXPAT_BLOCK_PLUGINS="exit_import,ctrlc_import,slow_import,dup,example"),
                         tmp_path / "strict", python=("-c",)),
    }
    listing, show, validate, proc, strict = (_finish(started[k]) for k in started)
    assert listing.returncode == 0, listing.stderr[-3000:]
    assert "scan-cumsum" in listing.stdout
    for name in ("exit_import", "ctrlc_import", "slow_import", "bad_yaml", "taken_id"):
        dist = f"jaxpat-hostile-{name.replace('_', '-')} 0.1.0"
        assert f"plugin {name!r} ({dist}) left out" in listing.stderr, listing.stderr
    assert "Traceback" not in listing.stderr
    assert show.returncode == 0, show.stderr[-3000:]
    assert validate.returncode == 1
    assert "plugin 'bad_yaml' (jaxpat-hostile-bad-yaml 0.1.0" in validate.stderr, validate.stderr
    assert "plugin 'taken_id' (jaxpat-hostile-taken-id 0.1.0" in validate.stderr
    assert "Traceback" not in validate.stderr
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split()[1:] == ["True", "['bad_yaml',", "'taken_id']"], proc.stdout
    assert strict.returncode == 1
    assert "PluginValidationError: jaxpat plugin 'bad_yaml' was not registered" in strict.stderr, strict.stderr[-2000:]
    assert "jaxpat-hostile-bad-yaml 0.1.0" in strict.stderr


# ---------------------------------------------------------------------------
# the conformance run
# ---------------------------------------------------------------------------

#: Every run's selection beyond its patterns: of the reference's implementations, one per pattern (lax_scan,
#: prngkey; 18 items instead of 72): other plugins' verdicts are the target of a hostile plugin, and more of the
#: same implementation's items take no other path (they were a third of these runs' CPU time, compiling).
SELECT = ("-k", "not reference or lax_scan or prngkey")


def _start_check(env: dict[str, str], cwd: Path, patterns: tuple[str, ...] = PATTERNS, workers: str = "2",
                 ids: tuple[str, ...] = ()) -> tuple[subprocess.Popen[str], Path]:
    args = ["check", "-n", workers, "--no-claims", "--no-cache", "--timeout", TIMEOUT, "--report", "r.json", *ids]
    for p in patterns:
        args += ["--pattern", p]
    return _start([*args, "--", *SELECT], env, cwd)


def _collected(started: tuple[subprocess.Popen[str], Path]) -> dict[str, Any]:
    """A ``-- --collect-only -q`` run: its node ids, each given the outcome it has without hostile plugins
    (``passed``: see :func:`all_runs`), the shape of :func:`_checked`'s ``by_id``."""
    proc = _finish(started)
    ids = [line for line in proc.stdout.splitlines() if line.startswith("jaxpat::")]
    by_id = {k: {**nodeid_record(k), "outcome": "passed"} for k in ids}
    return {"proc": proc, "by_id": by_id}


def _checked(started: tuple[subprocess.Popen[str], Path]) -> dict[str, Any]:
    proc = _finish(started)
    report = json.loads((started[1] / "r.json").read_text())
    return {"proc": proc, "report": report, "by_id": {r["nodeid"]: r for r in report["results"]}}


@pytest.fixture(scope="module")
def all_runs(sites: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every `jaxpat check` of this module, started side by side where nothing orders them (the hostile run spends
    most of its time waiting for its hanger's timeouts and its slow import's budget):

    * ``clean``: the baseline, the items the same selection collects with the good third-party plugin only
      (``--collect-only``: nothing runs). Every one of them passes without hostile plugins (the reference's and
      the good plugin's items pass in every other run of the suite), so each is expected to pass beside them;
    * ``hostile``: with every hostile plugin installed, under xdist (``-n 2``: hostile plugins must not crash or
      stop a worker either);
    * ``cheat``: with the cheaters installed (``-n 0``: the judge is the pytest process itself, the one whose
      ``Config`` gc_launder looks for), then ``after``, the next run without them on the case whose parse cache
      entry poison_cache rewrites, and ``validate``. The cheat run and the next share one catalog parse cache
      (``JAXPAT_CACHE_DIR``), so a rewritten entry would reach the next.
    """
    cheaters = _hostile.install(_hostile.CHEATERS, tmp_path_factory.mktemp("wheels-cheat"),
                                tmp_path_factory.mktemp("cheaters"))
    cache = tmp_path_factory.mktemp("shared-cache")
    # fill the parse cache (as `jaxpat list` does for its user) so that poison_cache finds an entry to rewrite
    assert _jaxpat(["list"], _env(sites["good"], JAXPAT_CACHE_DIR=str(cache)), cache).returncode == 0
    hostile = _start_check(_env(sites["good"], sites["hostile"]), tmp_path_factory.mktemp("hostile"))
    cheat = _start_check(_env(sites["good"], cheaters, JAXPAT_CACHE_DIR=str(cache)), tmp_path_factory.mktemp("cheat"),
                         workers="0")
    clean = _start(["check", "-n", "0", "--no-claims", *(a for p in PATTERNS for a in ("--pattern", p)), "--",
                    "--collect-only", "-q", *SELECT], _env(sites["good"]), tmp_path_factory.mktemp("clean"))
    out = {"cheat": _checked(cheat)}
    # the next run needs only the case whose cache entry poison_cache rewrites (scan-cumsum's seed-arange-five):
    # its reference items fail if the judge reads the rewritten entry
    after = _start_check(_env(sites["good"], JAXPAT_CACHE_DIR=str(cache)), tmp_path_factory.mktemp("after"),
                         patterns=(), workers="0", ids=(AFTER,))
    validate = _start(["validate"], _env(sites["good"], JAXPAT_CACHE_DIR=str(cache)), tmp_path_factory.mktemp("v"))
    out.update(clean=_collected(clean), after=_checked(after), validate=_finish(validate), hostile=_checked(hostile))
    return out


#: What the run after the cheaters' checks: every item of the case whose parse cache entry poison_cache rewrites.
AFTER = "jaxpat::scan-cumsum::seed-arange-five"


@pytest.fixture(scope="module")
def runs(all_runs: dict[str, Any]) -> dict[str, Any]:
    """The same `jaxpat check` without and with every hostile plugin installed."""
    return {"clean": all_runs["clean"], "hostile": all_runs["hostile"]}


def _plugin(result: dict[str, Any]) -> str | None:
    return result.get("plugin") or (result.get("implementation") or "").split(".")[0] or None


def test_every_other_plugins_items_are_reported_as_without_the_hostile_ones(runs: dict[str, Any]) -> None:
    clean, hostile = runs["clean"], runs["hostile"]
    assert clean["proc"].returncode == 0, clean["proc"].stdout[-3000:]
    others = {k: r["outcome"] for k, r in clean["by_id"].items()}
    assert len(others) > 20
    assert {_plugin(r) for r in clean["by_id"].values()} >= {"reference", "goodtp"}
    assert set(others.values()) == {"passed"}
    seen = {k: hostile["by_id"][k]["outcome"] for k in others if k in hostile["by_id"]}
    assert seen == others  # the same items, the same outcomes
    extra = {k for k, r in hostile["by_id"].items() if k not in others and _plugin(r) not in HOSTILE}
    assert all(k.startswith("jaxpat::plugin[") for k in extra), extra
    env = hostile["report"]["environment"]
    assert env["jax_config"]["jax_enable_x64"] is False


def test_the_hostile_run_says_it_is_incomplete_and_fails(runs: dict[str, Any]) -> None:
    hostile = runs["hostile"]
    report = hostile["report"]
    assert hostile["proc"].returncode != 0
    assert report["status"] == "incomplete"  # quarantined items did not run
    assert report["summary"]["not_run"] > 0
    assert report["summary"]["total"] == len(report["results"])
    assert "maximum crashed workers" not in hostile["proc"].stdout


def _items(runs: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [r for r in runs["hostile"]["report"]["results"] if (r.get("implementation") or "").startswith(name + ".")]


def _setup_error(runs: dict[str, Any], name: str) -> str:
    """The message of the plugin's load-error item (both items' when two distributions share the name)."""
    found = [r for r in runs["hostile"]["report"]["results"]
             if r["nodeid"] == f"jaxpat::plugin[{name}]" or r["nodeid"].startswith(f"jaxpat::plugin[{name}:")]
    assert len(found) == (2 if name == "dup" else 1), [r["nodeid"] for r in found]
    assert all(r["outcome"] == "error" for r in found)
    return "\n".join(str(r["message"]) for r in found)


@pytest.mark.parametrize("name", ["crasher", "hanger"])
def test_a_repeat_crasher_is_quarantined(runs: dict[str, Any], name: str, record_property: Any) -> None:
    record_property("reliability", KIND)
    items = _items(runs, name)
    assert len(items) == 12  # 4 cases x 3 transforms
    failed = [r for r in items if r["outcome"] == "failed"]
    not_run = [r for r in items if r["outcome"] == "not_run"]
    assert 1 <= len(failed) <= 3, [r["message"][:200] for r in items]  # two, or three if a worker had it queued
    assert len(failed) + len(not_run) == len(items)
    assert all(f"implementation {name}.cumsum was quarantined" in r["message"] for r in not_run)
    if name == "crasher":
        assert all(r["message"].startswith(f"crashed: {name}.cumsum's executor died") for r in failed)
    else:
        for r in failed:
            assert r["message"].startswith(f"timeout: the item ran longer than {TIMEOUT} s"), r["message"][:300]
            assert "jaxpat_hostile_hanger" in r["message"]  # the stack shows where it hung
            assert r["duration"] >= float(TIMEOUT)


@pytest.mark.parametrize(("name", "fragment"), [
    ("ctrlc_impl", "the implementation raised KeyboardInterrupt"),
    ("exit_impl", "the implementation raised SystemExit(1)"),
    ("seed_offset", "changed global JAX config: jax_random_seed_offset from 0 to 7"),
    ("flood", "wrong result"),
    ("patch_at_call", "wrong result"),  # it rebinds the comparison in its own executor: the judge is untouched
])
def test_an_item_level_hostile_fails_only_its_own_items(runs: dict[str, Any], name: str, fragment: str,
                                                        record_property: Any) -> None:
    record_property("reliability", KIND)
    items = _items(runs, name)
    assert items
    for r in items:
        assert r["outcome"] == "failed", r
        assert len(r["message"]) < 6000
    # seed_offset changes the config in Python: a cached jit trace of it (the offset baked in) only
    # gives a wrong result, without running the Python that changes the config again
    with_fragment = [r for r in items if fragment in r["message"]]
    assert with_fragment == items if name != "seed_offset" else with_fragment, [r["message"][:300] for r in items]


@pytest.mark.parametrize("name", ["exit_import", "ctrlc_import", "slow_import", "bad_yaml", "taken_id",
                                  "exit_hook", "x64_hook", "patch_compare", "dup"])
def test_a_plugin_that_fails_to_load_is_one_error_and_runs_nothing(runs: dict[str, Any], name: str,
                                                                   record_property: Any) -> None:
    record_property("reliability", KIND)
    message = _setup_error(runs, name)
    assert f"jaxpat plugin {name!r} was not registered" in message
    assert not _items(runs, name)
    if name == "patch_compare":
        assert "jaxpat.conformance._compare.compare" in message


def test_output_floods_are_bounded_in_the_terminal(runs: dict[str, Any]) -> None:
    """flood prints 2 MB per call on 12 items; the terminal shows a bounded part of each."""
    out = runs["hostile"]["proc"].stdout
    assert "characters of output left out; --jaxpat-full-output" in out
    assert len(out) < 1_000_000


# ---------------------------------------------------------------------------
# plugins written to cheat (clean-room verdicts, docs/security.md)
# ---------------------------------------------------------------------------

CHEATERS = {p.name for p in _hostile.CHEATERS}


@pytest.fixture(scope="module")
def cheat_runs(all_runs: dict[str, Any]) -> dict[str, Any]:
    """`jaxpat check` with the cheaters installed, then again without them (after one poisoned the parse cache),
    and the clean run to compare them with."""
    return {k: all_runs[k] for k in ("clean", "cheat", "after", "validate")}


def _cheat_items(cheat_runs: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [r for r in cheat_runs["cheat"]["report"]["results"]
            if (r.get("implementation") or "").startswith(name + ".")]


def test_cheaters_do_not_change_any_other_verdict(cheat_runs: dict[str, Any], record_property: Any) -> None:
    """Every item of the reference and the good plugin has the outcome it has without the cheaters, during
    their run and in the next run (a rewritten parse cache entry is never read by the judge)."""
    record_property("reliability", KIND)
    clean = {k: r["outcome"] for k, r in cheat_runs["clean"]["by_id"].items()}
    # the next run checks the case of the rewritten entry alone: all of its clean items, every plugin's
    for run, want in (("cheat", clean), ("after", {k: v for k, v in clean.items() if k.startswith(AFTER + "[")})):
        seen = {k: cheat_runs[run]["by_id"][k]["outcome"] for k in clean if k in cheat_runs[run]["by_id"]}
        assert seen == want, run
    assert any(k.startswith(AFTER + "[reference.") for k in cheat_runs["after"]["by_id"])
    assert set(cheat_runs["after"]["by_id"]) == {k for k in clean if k.startswith(AFTER + "[")}
    extra = {k for k, r in cheat_runs["cheat"]["by_id"].items()
             if k not in clean and _plugin(r) not in CHEATERS}
    assert all(k.startswith("jaxpat::plugin[") for k in extra), extra
    assert cheat_runs["cheat"]["proc"].returncode != 0
    judge = cheat_runs["cheat"]["report"]["environment"]["judge"]
    assert judge["jax_imported"] is False
    assert judge["plugin_modules_imported"] == []


@pytest.mark.parametrize(("name", "fragment"), [
    ("swap_code", "wrong result"),
    ("fake_module", ""),
    ("gc_launder", "wrong result"),
    ("rewrite_case", "wrong result"),
    ("object_eq", "got an object of type numpy.ndarray"),
])
def test_a_cheat_fails_its_own_items(cheat_runs: dict[str, Any], name: str, fragment: str,
                                     record_property: Any) -> None:
    """Rewriting the checking code, jaxpat's modules, pytest's hooks or the catalog objects in its own process,
    or returning an object that equals anything, leaves the cheater's own (wrong) items failed."""
    record_property("reliability", KIND)
    items = _cheat_items(cheat_runs, name)
    assert len(items) == 12  # 4 cases x 3 transforms
    assert {r["outcome"] for r in items} <= {"failed", "not_run"}, [r["message"] for r in items]
    # eagerly the wrong value reaches the judge; under jit JAX itself may refuse the object first
    eager = [r for r in items if r["transform"] == "eager" and r["outcome"] == "failed"]
    assert eager
    assert all(fragment in (r["message"] or "") for r in eager), [r["message"][:300] for r in eager]


def test_a_config_toggling_thread_blames_no_one_else(cheat_runs: dict[str, Any]) -> None:
    """x64_thread flips jax_enable_x64 in its own executor: nobody else's item mentions it."""
    others = [r for r in cheat_runs["cheat"]["report"]["results"] if _plugin(r) not in CHEATERS
              and r["nodeid"] not in {f"jaxpat::plugin[{name}]" for name in CHEATERS}]
    assert not [r["nodeid"] for r in others if "jax_enable_x64" in (r.get("message") or "")]


@pytest.mark.parametrize("name", ["exit0_import", "exit0_hook", "gil_import"])
def test_a_plugin_that_ends_or_holds_its_process_while_loading_is_one_failed_item(
        cheat_runs: dict[str, Any], name: str, record_property: Any) -> None:
    """os._exit(0) at import or in a hook, or C code holding the GIL past the import budget: a failed
    `plugin[NAME]` item, never a green run."""
    record_property("reliability", KIND)
    [r] = [r for r in cheat_runs["cheat"]["report"]["results"] if r["nodeid"] == f"jaxpat::plugin[{name}]"]
    assert r["outcome"] == "error"  # a setup item: E, not a failed check
    if name == "gil_import":
        assert "took longer than its budget" in r["message"], r["message"]
    else:
        assert "exit status 0" in r["message"], r["message"]
    assert not _cheat_items(cheat_runs, name)


def test_an_implementation_that_exits_0_fails_and_the_run_fails(cheat_runs: dict[str, Any]) -> None:
    items = _cheat_items(cheat_runs, "exit0_impl")
    assert items
    assert {r["outcome"] for r in items} <= {"failed", "not_run"}
    assert any(r["message"].startswith("crashed: exit0_impl.cumsum's executor died") for r in items)
    assert cheat_runs["cheat"]["report"]["status"] != "running"


def test_a_poisoned_parse_cache_is_reported_by_validate(cheat_runs: dict[str, Any]) -> None:
    """The cheater's run left a rewritten cache entry: the next run ignores it, `jaxpat validate` reports it."""
    assert {r["outcome"] for r in _cheat_items(cheat_runs, "poison_cache")} == {"passed"}
    proc = cheat_runs["validate"]
    assert proc.returncode == 1, proc.stderr
    assert "differs from the file's content" in proc.stderr


@pytest.mark.parametrize("name", ["referenc\u0435", "x]-lax_scan"])
def test_look_alike_and_bracketed_names_are_refused(cheat_runs: dict[str, Any], name: str) -> None:
    """A name that could pass for another plugin's, or break node ids, is refused: no item runs under it."""
    results = cheat_runs["cheat"]["report"]["results"]
    refused = [r for r in results if r["nodeid"].startswith("jaxpat::plugin[") and "refused" in (r["message"] or "")
               and ascii(name) in r["message"]]
    assert len(refused) == 1, [r["nodeid"] for r in results if r["nodeid"].startswith("jaxpat::plugin[")]
    assert all(ord(c) < 128 for c in refused[0]["nodeid"])
    assert not [r for r in results if (r.get("implementation") or "").startswith(name)]


def test_terminal_escapes_from_a_plugin_are_shown_escaped(cheat_runs: dict[str, Any]) -> None:
    items = _cheat_items(cheat_runs, "ansi")
    assert items
    assert all(r["outcome"] == "failed" for r in items)
    assert all("\x1b" not in (r["message"] or "") and "\\x1b[2J" in r["message"] for r in items)
    assert "\x1b[2J" not in cheat_runs["cheat"]["proc"].stdout
    assert "\x1b]0;" not in cheat_runs["cheat"]["proc"].stdout


def test_list_asks_each_plugin_in_a_process_of_its_own(sites: dict[str, Path], tmp_path: Path,
                                                      tmp_path_factory: pytest.TempPathFactory) -> None:
    """`jaxpat list` survives a plugin that ends its process at import and one that holds the GIL past its
    budget (C code): each is left out, named, and the listing is complete."""
    site = _hostile.install([p for p in _hostile.CHEATERS if p.name in ("exit0_import", "gil_import")],
                            tmp_path_factory.mktemp("wheels-list"), tmp_path_factory.mktemp("list-cheaters"))
    proc = _jaxpat(["list"], _env(sites["good"], site), tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "scan-cumsum" in proc.stdout
    assert "plugin 'exit0_import' (jaxpat-hostile-exit0-import 0.1.0) left out" in proc.stderr, proc.stderr
    assert "its process ended (exit status 0)" in proc.stderr
    assert "plugin 'gil_import' (jaxpat-hostile-gil-import 0.1.0) left out" in proc.stderr
    assert f"ended from outside after {2 * float(IMPORT_BUDGET) + 5:g} s" in proc.stderr
