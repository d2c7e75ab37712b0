"""One option table: the pytest plugin and `jaxpat check` offer the same options, with the same defaults."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jaxpat.conformance import _cli, _options

#: pytest options that `jaxpat check` always passes itself, so it has no flag for them.
PYTEST_ONLY = {"--jaxpat", "--jaxpat-only"}


def _check_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jaxpat")
    return _cli.add_check_parser(parser.add_subparsers(dest="command"))


def _pytest_options(config: pytest.Config) -> dict[str, object]:
    """The jaxpat group's options as the running pytest registered them: flag → default."""
    group = config._parser.getgroup("jaxpat")
    return {opt.names()[0]: opt.default for opt in group.options}


def _check_actions() -> list[argparse.Action]:
    return [a for a in _check_parser()._actions
            if a.option_strings and a.option_strings[-1] not in ("--help", "--numprocesses", "--tx")]


def _as_pytest(config: pytest.Config, argv: list[str]) -> dict[str, object]:
    """The jaxpat pytest options that `jaxpat check ARGV` sets, parsed by the running pytest's parser."""
    parser = argparse.ArgumentParser(prog="jaxpat")
    _cli.add_check_parser(parser.add_subparsers(dest="command"))
    args = _cli.pytest_args(parser.parse_args(["check", *argv]))
    args = args[args.index("--jaxpat"):]  # from the jaxpat options on (-c, --rootdir, -p come first)
    ns = config._parser.parse_known_args(args)
    return {k: v for k, v in vars(ns).items() if k.startswith("jaxpat")}


SAMPLE = {"--platforms": "cpu", "--cpu-devices": "3", "--transform": "jit", "--timeout": "5", "--report": "r.json",
          "--explore": "7", "--explore-seed": "3"}


def test_pytest_option_set_equals_check_option_set(pytestconfig: pytest.Config) -> None:
    """Each `jaxpat check` flag sets exactly one pytest option, and every pytest option but
    --jaxpat/--jaxpat-only is set by one `jaxpat check` flag."""
    pytest_dests = {flag[2:].replace("-", "_") for flag in _pytest_options(pytestconfig)}
    base = _as_pytest(pytestconfig, [])
    set_by: dict[str, str] = {}
    for action in _check_actions():
        flag = action.option_strings[-1]
        argv = [flag] if action.nargs == 0 else [flag, SAMPLE.get(flag, "x")]
        got = _as_pytest(pytestconfig, argv)
        changed = [k for k in got if got[k] != base[k]]
        assert len(changed) == 1, f"`jaxpat check {' '.join(argv)}` changes {changed} in pytest"
        set_by[changed[0]] = flag
    assert set(set_by) == pytest_dests - {"jaxpat", "jaxpat_only"}
    assert set_by["jaxpat_claims"] == "--no-claims"


def test_check_command_line_reaches_pytest_with_its_values(pytestconfig: pytest.Config) -> None:
    """`jaxpat check` flags parse, through pytest_args, into the pytest options with the same values."""
    opts = _as_pytest(pytestconfig, [
        "-n", "0", "--platforms", "cpu", "--strict-platforms", "--cpu-devices", "2", "--pattern", "a*",
        "--pattern", "b*", "--transform", "jit", "--timeout", "5", "--no-claims", "--catalog", "x.yaml",
    ])
    assert opts["jaxpat"] is True
    assert opts["jaxpat_only"] is True
    assert opts["jaxpat_platforms"] == "cpu"
    assert opts["jaxpat_strict_platforms"] is True
    assert opts["jaxpat_cpu_devices"] == 2
    assert opts["jaxpat_pattern"] == ["a*", "b*"]
    assert opts["jaxpat_transform"] == ["jit"]
    assert opts["jaxpat_timeout"] == 5.0
    assert opts["jaxpat_claims"] is False  # --no-claims
    assert opts["jaxpat_catalog"] == ["x.yaml"]
    assert opts["jaxpat_report"] == "jaxpat-report.json"  # jaxpat check's default report


def test_defaults_are_kept(pytestconfig: pytest.Config) -> None:
    """The defaults each side had: pytest 60 s timeout, no report, no claims; check measures claims, writes a report."""
    defaults = _pytest_options(pytestconfig)
    assert defaults["--jaxpat-timeout"] == 60.0
    assert defaults["--jaxpat-report"] is None
    assert defaults["--jaxpat-claims"] is False
    assert defaults["--jaxpat-pattern"] == []
    parser = argparse.ArgumentParser(prog="jaxpat")
    _cli.add_check_parser(parser.add_subparsers(dest="command"))
    args = _cli.pytest_args(parser.parse_args(["check"]))
    assert "--jaxpat-claims" in args
    assert not [a for a in args if a.startswith("--jaxpat-timeout")]
    # values attached: xdist would rewrite a separate path argument for remote workers (docs/distributed.md)
    assert "--jaxpat-report=jaxpat-report.json" in args
    assert args[args.index("-n") + 1] == "auto"


def test_transform_choices_are_the_catalogs() -> None:
    """The plugin spells the transforms out (it must not import the catalog); they are the catalog's."""
    from jaxpat.catalog import TRANSFORMS

    assert _options.TRANSFORM_CHOICES == TRANSFORMS


def test_check_help_lists_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    """`jaxpat check --help` names every option with its help text."""
    from jaxpat._cli import main

    assert main(["check", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for opt in _options.OPTIONS:
        if opt.check is not None:
            assert opt.check in out
            assert " ".join((opt.check_help or opt.help).split())[:30] in out


# -- pytest's plugin autoloading off ----------------------------------------------------------

EXAMPLES = Path(__file__).parent / "examples" / "conformance"


def _check(cwd: Path, *argv: str, autoload: bool) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JAXPAT_DISABLE_PLUGIN_AUTOLOAD": "1", "JAXPAT_BLOCK_PLUGINS": "reference",
           "PYTHONPATH": str(EXAMPLES) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return subprocess.run([sys.executable, "-m", "jaxpat", "check", "--catalog", str(EXAMPLES / "tcat.yaml"),
                           "--load", "good", "--pattern", "t-cumsum", "--no-claims", "--no-cache", "--transform",
                           "eager", "--report", "r.json", *argv],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


def test_check_names_its_own_pytest_plugins() -> None:
    """jaxpat's and xdist's plugins are named by entry point (-p), so they load without autoloading."""
    args = _cli.pytest_args(_check_parser().parse_args(["-n", "0"]))
    assert args[:len(_cli.PLUGIN_ARGS)] == list(_cli.PLUGIN_ARGS)
    # one token each (`-pjaxpat`): xdist rewrites a separate argument that names an existing path
    plugins = [args[i + 1] if a == "-p" else a[2:] for i, a in enumerate(args) if a.startswith("-p")]
    assert {"jaxpat", "xdist"} <= set(plugins)
    from importlib.metadata import entry_points

    names = {ep.name for ep in entry_points(group="pytest11")}
    assert {"jaxpat", "xdist"} <= names  # the names are the installed entry points'


@pytest.mark.parametrize("autoload", [True, False], ids=["autoload-on", "autoload-off"])
@pytest.mark.parametrize("workers", ["0", "1"])
def test_check_runs_with_and_without_pytest_plugin_autoload(tmp_path: Path, autoload: bool, workers: str) -> None:
    """PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 jaxpat check works (controller and xdist workers); with autoloading on,
    the plugins named by -p are not registered twice (pluggy would refuse that) and nothing warns."""
    proc = _check(tmp_path, "-n", workers, autoload=autoload)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "unrecognized arguments" not in out
    assert "warning" not in out.lower()
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["summary"]["passed"] > 0
    assert report["summary"]["passed"] == report["summary"]["total"]
