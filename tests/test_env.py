"""jaxpat/_env.py: every JAXPAT_* variable declared once, parsed by one rule, documented in docs/cli.md."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jaxpat import _env
from jaxpat._cli import main
from jaxpat._env import EnvError
from jaxpat._util import Exit

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("catalog", "patterns", "conformance", "jaxpat")


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No JAXPAT_* variable set (the tests set their own)."""
    for name in list(os.environ):
        if name.startswith("JAXPAT_") and name != "JAXPAT_TESTS_CACHE_DIR":
            monkeypatch.delenv(name)
    return monkeypatch


# -- one place ------------------------------------------------------------------------------


def test_docs_table_is_the_modules() -> None:
    """docs/cli.md shows exactly markdown_table() between its markers: the docs cannot drift."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- env-table:[^\n]*-->\n(.*?)\n<!-- env-table: end -->", text, re.S)
    assert found, "docs/cli.md lost its env-table markers"
    assert found.group(1) == _env.markdown_table()
    for v in _env.VARIABLES:  # and the table names every variable
        assert f"| `{v.name}` |" in found.group(1)


def test_every_variable_product_code_names_is_declared_and_read_only_in_env() -> None:
    """Every JAXPAT_* name in product code is declared; only jaxpat/_env.py reads os.environ for one."""
    declared = {v.name for v in _env.VARIABLES if not v.prefix}
    named: dict[str, str] = {}
    for folder in PRODUCT:
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for name in re.findall(r"JAXPAT_[A-Z0-9_]*[A-Z0-9]", text):
                named.setdefault(name, str(path.relative_to(ROOT)))
            if path.name != "_env.py":
                assert not re.search(r"environ(?:\.get)?\(\s*[\"']JAXPAT_|environ\[[\"']JAXPAT_", text), path
    assert named, "the scan found nothing: it is broken"
    undeclared = {n: p for n, p in named.items() if n not in declared and n != "JAXPAT_PLUGIN"}
    assert not undeclared, f"undeclared JAXPAT_* variables in product code: {undeclared}"
    # and the scan can fail: a name the module does not declare is reported
    assert "JAXPAT_SOMETHING_NEW" not in declared


def test_problems_lists_each_bad_variable_and_nothing_else(clean: pytest.MonkeyPatch) -> None:
    env = {"JAXPAT_DEVICES": "::::", "JAXPAT_PLUGIN_IMPORT_TIMEOUT": "nan", "JAXPAT_LABEL": "ok",
           "JAXPAT_PLUGIN_DUP": "::", "JAXPAT_UNRELATED": "x", "PATH": "/bin"}
    found = _env.problems(env)
    assert sorted(e.name for e in found) == ["JAXPAT_DEVICES", "JAXPAT_PLUGIN_DUP", "JAXPAT_PLUGIN_IMPORT_TIMEOUT"]
    with pytest.raises(EnvError) as info:
        _env.check_environment(env)
    assert str(info.value).count("\n") == 2  # one line per bad variable
    assert _env.problems({"JAXPAT_DEVICES": "cuda:0"}) == []
    _env.check_environment({})


# -- each kind ------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "on"), [(None, False), ("", False), ("  ", False), ("0", False), ("no", False),
                                           ("Off", False), ("FALSE", False), ("1", True), ("yes", True),
                                           (" On ", True), ("true", True)])
def test_flags(value: str | None, on: bool) -> None:
    env = {} if value is None else {"JAXPAT_DISABLE_OBSERVATIONS": value}
    assert _env.flag(_env.DISABLE_OBSERVATIONS, env) is on


@pytest.mark.parametrize("value", ["anything", "2", "y e s", "nan", "-1"])
def test_a_flag_that_is_neither_yes_nor_no_is_refused(value: str) -> None:
    with pytest.raises(EnvError, match=rf"JAXPAT_DISABLE_PLUGIN_AUTOLOAD={re.escape(repr(value))}: not a yes/no "
                       r"value; it accepts 1/true/yes/on or 0/false/no/off"):
        _env.flag(_env.AUTOLOAD, {"JAXPAT_DISABLE_PLUGIN_AUTOLOAD": value})


@pytest.mark.parametrize(("value", "want"), [(None, 10.0), ("", 10.0), ("2.5", 2.5), ("1", 1.0), ("0", None),
                                             ("-0", None), ("1e6", 1e6), (" 30 ", 30.0)])
def test_seconds(value: str | None, want: float | None) -> None:
    env = {} if value is None else {"JAXPAT_PLUGIN_IMPORT_TIMEOUT": value}
    assert _env.seconds(_env.IMPORT_TIMEOUT, 10.0, env) == want


@pytest.mark.parametrize(("value", "why"), [("nan", "not a finite number"), ("inf", "not a finite number"),
                                            ("-inf", "not a finite number"), ("-1", "negative"),
                                            ("abc", "not a number"), ("1e-9", "below the minimum of 1 s"),
                                            ("0.999", "below the minimum"), ("1e300", "above the maximum"),
                                            ("9" * 400, "above the maximum")])
def test_bad_seconds_name_the_variable_the_value_and_the_range(value: str, why: str) -> None:
    with pytest.raises(EnvError) as info:
        _env.seconds(_env.HOOK_TIMEOUT, 120.0, {"JAXPAT_PLUGIN_HOOK_TIMEOUT": value})
    text = str(info.value)
    assert text.startswith("JAXPAT_PLUGIN_HOOK_TIMEOUT='")
    assert why in text
    assert text.endswith("it accepts 0 (no limit) or seconds from 1 to 1e+06")


@pytest.mark.parametrize(("value", "want"), [("cuda:0,1,2", ("cuda", ("0", "1", "2"))), ("CUDA: 3 ", ("cuda", ("3",))),
                                             ("cuda:-1", ("cuda", ())), ("tpu", ("tpu", ())), ("cpu:", ("cpu", ())),
                                             ("cuda:GPU-8f1e2a3b-0000-1111", ("cuda", ("GPU-8f1e2a3b-0000-1111",)))])
def test_devices(value: str, want: tuple[str, tuple[str, ...]]) -> None:
    assert _env.devices({"JAXPAT_DEVICES": value}) == want


@pytest.mark.parametrize(("value", "why"), [("::::", "unknown platform ''"), ("gpu:0", "unknown platform 'gpu'"),
                                            ("cuda:0,,1", "'' is not a device index"),
                                            ("cuda:0,0", "listed twice"), ("cuda:-2", "'-2' is not")])
def test_bad_devices(value: str, why: str) -> None:
    with pytest.raises(EnvError, match=re.escape(why)):
        _env.devices({"JAXPAT_DEVICES": value})


def test_devices_reach_discovery() -> None:
    from jaxpat.conformance import _workers

    acc = _workers.discover({"JAXPAT_DEVICES": "rocm:1,0"}, installed=lambda _: False)
    assert acc == _workers.Accelerators("rocm", ("1", "0"), "JAXPAT_DEVICES")
    with pytest.raises(EnvError, match="JAXPAT_DEVICES"):
        _workers.discover({"JAXPAT_DEVICES": "::::"}, installed=lambda _: False)


def test_cache_dir_is_created_or_refused(tmp_path: Path) -> None:
    made = tmp_path / "a" / "b"
    assert _env.cache_root({"JAXPAT_CACHE_DIR": str(made)}) == made
    assert made.is_dir()
    (tmp_path / "file").write_text("x")
    for value, why in ((str(tmp_path / "file"), "not a directory"), ("/dev/null", "not a directory"),
                       (str(tmp_path / "file" / "sub"), f"{str(tmp_path / 'file')!r} is not a directory"),
                       ("relative/dir", "not an absolute path"), ("/proc/jaxpat-missing/cache", "cannot create it"),
                       ("/tmp/a\x01b", "control character"), ("/" + "x" * 5000, "longer than 4096"),
                       (str(tmp_path / ("n" * 300)), "cannot create it (OSError: File name too long)")):
        with pytest.raises(EnvError, match=re.escape(why)):
            _env.cache_root({"JAXPAT_CACHE_DIR": value})
    assert not (Path("relative") / "dir").exists()


def test_cache_dir_default_ignores_an_empty_value(tmp_path: Path) -> None:
    env = {"JAXPAT_CACHE_DIR": "  ", "XDG_CACHE_HOME": str(tmp_path)}
    assert _env.cache_root(env) == tmp_path / "jaxpat"
    assert not (tmp_path / "jaxpat").exists()  # the default is not created here


def test_a_bad_cache_dir_turns_the_parse_cache_off_for_library_callers(clean: pytest.MonkeyPatch) -> None:
    from jaxpat import catalog
    from jaxpat.catalog import _parse_cache

    clean.setenv("JAXPAT_CACHE_DIR", "/dev/null")
    assert _parse_cache.cache_dir() is None
    assert len(catalog.load().patterns) > 0  # loading still works, uncached
    clean.setenv("JAXPAT_CACHE_DIR", "/tmp")
    clean.setenv("JAXPAT_DISABLE_CATALOG_CACHE", "maybe")
    assert _parse_cache.cache_dir() is None


def test_label_block_and_choice() -> None:
    assert _env.label({"JAXPAT_LABEL": " gpu-box 1 "}) == "gpu-box 1"
    assert _env.label({}) is None
    with pytest.raises(EnvError, match="control character"):
        _env.label({"JAXPAT_LABEL": "a\nb"})
    with pytest.raises(EnvError, match="longer than 200"):
        _env.label({"JAXPAT_LABEL": "x" * 201})
    assert _env.blocked_plugins({"JAXPAT_BLOCK_PLUGINS": " broken , mine ,,"}) == {"broken", "mine"}
    assert _env.blocked_plugins({}) == frozenset()
    with pytest.raises(EnvError, match="'a b' is not a plugin name"):
        _env.blocked_plugins({"JAXPAT_BLOCK_PLUGINS": "a b"})
    assert _env.choice_variable("my-plugin.x") == "JAXPAT_PLUGIN_MY_PLUGIN_X"
    assert _env.plugin_choice("dup", {"JAXPAT_PLUGIN_DUP": "Dist_Two"}) == "dist-two"
    assert _env.plugin_choice("dup", {}) is None
    for bad in ("::::", "-dist", "dist-", "a b", "é"):
        with pytest.raises(EnvError, match=r"JAXPAT_PLUGIN_DUP=.*not a distribution name"):
            _env.plugin_choice("dup", {"JAXPAT_PLUGIN_DUP": bad})


# -- where they are refused --------------------------------------------------------------------


@pytest.mark.parametrize(("name", "value"), [("JAXPAT_PLUGIN_IMPORT_TIMEOUT", "nan"), ("JAXPAT_DEVICES", "::::"),
                                             ("JAXPAT_CACHE_DIR", "/dev/null"), ("JAXPAT_LABEL", "a\tb")])
def test_the_command_refuses_a_bad_variable_as_a_usage_error(
        clean: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, value: str) -> None:
    clean.setenv(name, value)
    assert main(["list", "--family", "scan"]) == Exit.USAGE
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"jaxpat list: {name}={value!r}: ")
    assert "it accepts" in err


def test_the_command_runs_when_every_variable_is_good(clean: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path) -> None:
    for name, value in (("JAXPAT_PLUGIN_IMPORT_TIMEOUT", "30"), ("JAXPAT_DEVICES", "cuda:0"),
                        ("JAXPAT_CACHE_DIR", str(tmp_path)), ("JAXPAT_LABEL", "box"),
                        ("JAXPAT_DISABLE_PLUGIN_AUTOLOAD", "1")):
        clean.setenv(name, value)
    assert main(["list", "--family", "scan"]) == Exit.OK
    assert "patterns" in capsys.readouterr().out


@pytest.mark.parametrize("extra", [[], ["-n", "auto"]])
def test_pytest_jaxpat_refuses_a_bad_variable_as_a_usage_error(tmp_path: Path, extra: list[str]) -> None:
    """Without the jaxpat command (pytest --jaxpat directly): pytest's usage error, before JAX or workers start."""
    env = {**os.environ, "JAXPAT_DEVICES": "::::", "PYTEST_ADDOPTS": ""}
    proc = subprocess.run([sys.executable, "-m", "pytest", "--jaxpat", "-p", "no:cacheprovider", *extra],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "JAXPAT_DEVICES='::::': unknown platform ''" in proc.stderr
    assert "INTERNALERROR" not in proc.stdout + proc.stderr
