"""The `jaxpat` command line: list, show, validate, exit statuses, help, and the subcommand registry."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from jaxpat import _cli, catalog
from jaxpat._cli import main

BAD = """\
version: 1
patterns:
  - id: bad-pattern
    family: scna
    title: t
    summary: s
    source: {doc: d}
    signature: {args: []}
    cases:
      - {id: c, args: {}, expect: {$array: [1], dtype: int23}, provenance: {kind: math}}
"""


@pytest.fixture
def cat_file(write_yaml, valid_text) -> str:
    """Path of a valid catalog file, as a string."""
    return str(write_yaml(valid_text))


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# -- list -----------------------------------------------------------------------------------


def test_list_prints_a_table(capsys, cat_file):
    """`list` prints id, family, case count and title, then a total."""
    status, out, _ = _run(capsys, "list", "-c", cat_file, "--no-plugins")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "FAMILY", "CASES", "TITLE"]
    assert lines[1].split()[:3] == ["scan-cumsum", "scan", "2"]
    assert lines[-1] == "2 patterns, 5 cases"


def test_list_filters_by_family_and_tag(capsys, cat_file):
    """`--family` and `--tag` keep only the matching patterns."""
    _, out, _ = _run(capsys, "list", "-c", cat_file, "--no-plugins", "--family", "jit")
    assert "jit-python-if" in out
    assert "scan-cumsum" not in out
    _, out, _ = _run(capsys, "list", "-c", cat_file, "--no-plugins", "--tag", "loop-carry")
    assert "scan-cumsum" in out
    assert "jit-python-if" not in out


def test_list_json(capsys, cat_file):
    """`--format json` prints one object per pattern."""
    status, out, _ = _run(capsys, "list", "-c", cat_file, "--no-plugins", "--format", "json", "--claim", "memory")
    assert status == 0
    (entry,) = json.loads(out)
    assert entry["id"] == "scan-cumsum"
    assert entry["cases"] == 2
    assert entry["location"] == "catalog.yaml:9:5"


def test_list_of_an_invalid_catalog_reports_its_problems(capsys, write_yaml):
    """A command that loads an invalid catalog prints every problem and exits 1."""
    status, out, err = _run(capsys, "list", "-c", str(write_yaml(BAD)), "--no-plugins")
    assert (status, out) == (1, "")
    assert "catalog.yaml:4:13: pattern 'bad-pattern', field 'family': unknown family 'scna'" in err
    assert err.splitlines()[-1] == "2 problems found"


# -- show -----------------------------------------------------------------------------------


def test_show_text_renders_cases_readably(capsys, cat_file):
    """`show` prints summary, signature, claims and each case's args and expectations."""
    status, out, _ = _run(capsys, "show", "jit-python-if", "-c", cat_file, "--no-plugins")
    assert status == 0
    assert out.startswith("jit-python-if — Python if on a traced value\n")
    for expected in (
        "signature: (x, mode)   static: mode",
        "declared:   catalog.yaml:45:5 (origin: catalog.yaml)",
        "args:       x = 2.0",
        "under jit:  raises TracerBoolConversionError matching 'traced'",
        "grad:       d/dx = 1.0",
        "x = jax.random.key(0)",
        "mode = (1, 2)",
        "expect:     key array with key_data uint32[2] [0 0]",
        "expect:     float64[2, 2] [[1.0 2.0] [3.0 4.0]]",
        "provenance: observed — jax 0.10.2 — read from jax.random directly",
    ):
        assert expected in out
    _, out, _ = _run(capsys, "show", "scan-cumsum", "-c", cat_file, "--no-plugins")
    assert "memory: {param: xs, sizes: [100, 1000], forward: constant, backward: linear}" in out
    assert "xs = float32[4] from arange(seed=0, start=0.5, step=0.0)" in out


def test_show_json(capsys, cat_file):
    """`show --format json` prints the pattern's dict with its location."""
    status, out, _ = _run(capsys, "show", "scan-cumsum", "-c", cat_file, "--no-plugins", "--format", "json")
    data = json.loads(out)
    assert (status, data["id"], data["location"]) == (0, "scan-cumsum", "catalog.yaml:9:5")
    assert data["cases"][0]["expect"] == {"$array": [0, 1, 3, 6, 10], "dtype": "int32"}


def test_show_unknown_id_suggests(capsys, cat_file):
    """An unknown id exits 1 and suggests the closest one."""
    status, out, err = _run(capsys, "show", "scan-cumsun", "-c", cat_file, "--no-plugins")
    assert (status, out) == (1, "")
    assert "no pattern 'scan-cumsun' in the catalog (did you mean 'scan-cumsum'?)" in err


# -- validate -------------------------------------------------------------------------------


def test_validate_clean_file(capsys, cat_file):
    """`validate FILE` exits 0 for a valid file."""
    status, out, err = _run(capsys, "validate", cat_file)
    assert (status, err) == (0, "")
    assert out.startswith("ok:")


def test_validate_lists_every_problem(capsys, write_yaml):
    """`validate FILE` exits 1 and prints each problem on its own stderr line, then a count."""
    path = write_yaml(BAD)
    before = path.read_bytes()
    status, out, err = _run(capsys, "validate", str(path))
    assert (status, out) == (1, "")
    assert err.splitlines() == [
        "catalog.yaml:4:13: pattern 'bad-pattern', field 'family': unknown family 'scna' "
        "(did you mean `scan`?); known: " + ", ".join(catalog.FAMILIES),
        "catalog.yaml:10:56: pattern 'bad-pattern', field 'cases[0].expect.dtype': "
        "unknown dtype 'int23' (did you mean `int32`?)",
        "2 problems found",
    ]
    assert path.read_bytes() == before


def test_validate_missing_file(capsys, write_yaml):
    """A file that does not exist is unreadable input (exit 3), not a crash."""
    write_yaml(BAD)
    status, _, err = _run(capsys, "validate", "nope.yaml")
    assert status == 3
    assert "nope.yaml: cannot read the file" in err


@pytest.mark.skipif(not catalog._loader.SHIPPED.exists(), reason="no catalog.yaml in this checkout")
def test_validate_without_files_checks_the_shipped_catalog(capsys):
    """`validate` with no FILE checks the shipped catalog (and plugins' files)."""
    status, out, _ = _run(capsys, "validate")
    assert status == 0
    assert out == "ok: the catalog is valid\n"


def _plugin_file(monkeypatch, write_yaml, text: str) -> Path:
    """A plugin file returned by the `jaxpat_catalog_files` hook of an installed plugin 'fake' (the only one).

    Installed for real (a module and its .dist-info on sys.path): `list`, `show` and `validate` ask each
    plugin in a process of its own (patterns/_sandbox.py), which sees what is installed, not a monkeypatch.
    """
    path = write_yaml(text, "plugin.yaml")
    site = path.parent / "site"
    (site / "fake_dist-1.0.dist-info").mkdir(parents=True)
    (site / "fake_dist-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-dist\nVersion: 1.0\n")
    (site / "fake_dist-1.0.dist-info" / "entry_points.txt").write_text("[jaxpat]\nfake = fake_plugin\n")
    (site / "fake_plugin.py").write_text(
        "from jaxpat.patterns import hookimpl\n\n\n"
        f"@hookimpl\ndef jaxpat_catalog_files():\n    return [{str(path)!r}]\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("JAXPAT_BLOCK_PLUGINS", "reference,example")
    monkeypatch.delenv("JAXPAT_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    return path


PLUGIN = """\
version: 1
patterns:
  - id: plugin-cumsum
    family: scan
    title: Cumulative sum
    summary: Carry the running total.
    source: {doc: d}
    signature: {args: [xs]}
    cases:
      - {id: basic, args: {xs: {$array: [1, 2], dtype: int32}}, expect: {$array: [1, 3], dtype: int32},
         provenance: {kind: math}}
"""


def test_list_includes_plugin_files_unless_no_plugins(capsys, monkeypatch, write_yaml, cat_file):
    """`list` reads the plugins' catalog files by default (origin: the plugin); `--no-plugins` leaves them out."""
    _plugin_file(monkeypatch, write_yaml, PLUGIN)
    _, out, _ = _run(capsys, "list", "-c", cat_file, "--format", "json")
    rows = {row["id"]: row["origin"] for row in json.loads(out)}
    assert rows["plugin-cumsum"] == "fake"
    assert rows["scan-cumsum"] == "catalog.yaml"
    _, out, _ = _run(capsys, "list", "-c", cat_file, "--no-plugins", "--format", "json")
    assert "plugin-cumsum" not in {row["id"] for row in json.loads(out)}


@pytest.mark.skipif(not catalog._loader.SHIPPED.exists(), reason="no catalog.yaml in this checkout")
def test_validate_checks_plugin_files_unless_no_plugins(capsys, monkeypatch, write_yaml):
    """`validate` without FILE checks the plugins' files too; `--no-plugins` checks the shipped file alone."""
    _plugin_file(monkeypatch, write_yaml, BAD)
    status, _, err = _run(capsys, "validate")
    assert status == 1
    assert "plugin 'fake' (fake-dist 1.0; module fake_plugin" in err
    assert "plugin.yaml:" in err
    assert "unknown family 'scna'" in err
    status, out, _ = _run(capsys, "validate", "--no-plugins")
    assert (status, out) == (0, "ok: the catalog is valid\n")


# -- exit statuses, help, version -----------------------------------------------------------


@pytest.mark.parametrize(
    "argv", [["list", "--bogus"], ["show"], ["list", "--format", "xml"], ["frobnicate"], []],
    ids=["unknown-option", "missing-id", "bad-choice", "unknown-command", "no-command"],
)
def test_usage_errors_exit_2(capsys, argv):
    """Usage errors exit 2 with a usage message on stderr."""
    status, _, err = _run(capsys, *argv)
    assert status == 2
    assert "usage: jaxpat" in err


@pytest.mark.parametrize(("argv", "usage", "said"), [
    (["check", "--patern", "x"], "usage: jaxpat check ",
     "jaxpat check: error: unrecognized arguments: --patern (did you mean --pattern?); pytest options go after -- "
     "(jaxpat check [OPTIONS] -- PYTEST_ARGS)"),
    (["check", "-k", "lax_scan"], "usage: jaxpat check ",
     "jaxpat check: error: unrecognized arguments: -k; pytest options go after --"),
    (["list", "--famly", "scan"], "usage: jaxpat list ",
     "jaxpat list: error: unrecognized arguments: --famly (did you mean --family?) scan\n"),
    (["list", "--famly=scan"], "usage: jaxpat list ",
     "jaxpat list: error: unrecognized arguments: --famly=scan (did you mean --family?)\n"),
    (["report", "show", "r.json", "--failres"], "usage: jaxpat report show ",
     "jaxpat report show: error: unrecognized arguments: --failres (did you mean --failures?)\n"),
    (["list", "--zzzzzz"], "usage: jaxpat list ", "jaxpat list: error: unrecognized arguments: --zzzzzz\n"),
], ids=["check-typo", "check-pytest-option", "list-typo", "list-typo-with-value", "report-show-typo", "no-close-match"])
def test_unknown_options_get_the_subcommands_usage_and_a_did_you_mean(capsys, argv, usage, said):
    """An unknown option: exit 2 under the subcommand's own usage line (not `jaxpat COMMAND ...`), with the
    closest option; for check, where pytest options go."""
    status, out, err = _run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert err.startswith(usage), err
    assert "usage: jaxpat [-h]" not in err
    assert said in err
    if argv[0] != "check":
        assert "pytest options" not in err


def test_pytest_options_after_double_dash_are_not_unknown(capsys, monkeypatch):
    """`jaxpat check -- -k x` passes -k on (the did-you-mean path must not catch it)."""
    seen = {}

    def fake_check(ns):
        seen["pytest_args"] = list(ns.pytest_args)
        return 0

    import jaxpat.conformance._cli as conformance_cli

    monkeypatch.setattr(conformance_cli, "check", fake_check)
    status, _, err = _run(capsys, "check", "-n", "0", "--", "-k", "lax_scan", "--patern")
    assert status == 0, err
    assert seen["pytest_args"] == ["-k", "lax_scan", "--patern"]


def test_version(capsys):
    """`--version` prints the distribution's version."""
    status, out, _ = _run(capsys, "--version")
    assert (status, out.split()[0]) == (0, "jaxpat")


@pytest.mark.parametrize("command", ["list", "show", "validate"])
def test_every_catalog_subcommand_has_help_with_examples(capsys, command):
    """`COMMAND --help` exits 0 and shows a description and examples."""
    status, out, _ = _run(capsys, command, "--help")
    assert status == 0
    assert "examples:" in out
    assert f"jaxpat {command}" in out


def test_top_level_help_lists_subcommands(capsys):
    """`--help` lists the registered subcommands and the exit statuses."""
    status, out, _ = _run(capsys, "--help")
    assert status == 0
    for name in ("list", "show", "validate"):
        assert f"    {name} " in out
    assert "exit status:" in out


def test_internal_errors_exit_4_and_traceback_shows_them(capsys, monkeypatch, cat_file):
    """An unexpected exception exits 4 with a one-line message; `--traceback` prints the traceback."""
    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(catalog, "validate", boom)
    status, _, err = _run(capsys, "validate", cat_file)
    assert status == 4
    assert err == "jaxpat validate: internal error: RuntimeError: kaboom (rerun with --traceback for details)\n"
    status, _, err = _run(capsys, "validate", cat_file, "--traceback")
    assert status == 4
    assert "Traceback (most recent call last)" in err


# -- the subcommand registry ------------------------------------------------------------------

FAKE_MODULE = """\
def add_parser(subparsers):
    p = subparsers.add_parser("hello", help="say hello")
    p.add_argument("name")

def hello(args):
    print(f"hello {args.name}")
    return 4
"""


def test_registered_modules_add_subcommands(capsys, monkeypatch, tmp_path):
    """A registry entry's module adds its parser; its function runs the command and gives the status."""
    (tmp_path / "fake_cli_mod.py").write_text(textwrap.dedent(FAKE_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(_cli, "COMMANDS", [*_cli.COMMANDS, ("hello", "fake_cli_mod", "hello")])
    status, out, _ = _run(capsys, "hello", "world")
    assert (status, out) == (4, "hello world\n")


def test_missing_and_broken_modules_are_explained(capsys, monkeypatch, tmp_path):
    """A subcommand whose module is missing or fails to import is still listed and says why (exit 4)."""
    (tmp_path / "broken_cli_mod.py").write_text("import not_a_module_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(_cli, "COMMANDS", [
        *_cli.COMMANDS, ("ghost", "no_such_cli_module", "run"), ("broken", "broken_cli_mod", "run"),
    ])
    _, out, _ = _run(capsys, "--help")
    assert "ghost" in out
    assert "broken" in out
    status, _, err = _run(capsys, "broken", "--help")
    assert status == 4
    assert "jaxpat broken: unavailable: importing broken_cli_mod failed: ModuleNotFoundError" in err
    status, _, err = _run(capsys, "ghost")
    assert status == 4
    assert "jaxpat ghost: unavailable: importing no_such_cli_module failed: ModuleNotFoundError" in err


def test_console_script_validate(write_yaml):
    """The installed `jaxpat` script validates a file: exit 1 and the problem on stderr."""
    script = shutil.which("jaxpat", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the jaxpat console script is not installed")
    path = write_yaml(BAD)
    result = subprocess.run([script, "validate", str(path)], capture_output=True, text=True, cwd=path.parent)
    assert result.returncode == 1
    assert "catalog.yaml:4:13: pattern 'bad-pattern', field 'family': unknown family 'scna'" in result.stderr
    assert result.stdout == ""


def test_validate_never_writes(tmp_path, capsys):
    """`jaxpat validate` leaves valid and invalid files, and their directory, byte for byte as they were."""
    from pathlib import Path

    from jaxpat._cli import main

    good = tmp_path / "good.yaml"
    good.write_bytes((Path(__file__).parents[1] / "catalog.yaml").read_bytes())
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\npatterns:\n  - id: Bad_Id\n")

    def snapshot():
        return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(tmp_path.iterdir())}

    before = snapshot()
    assert main(["validate", str(good), str(bad)]) == 1
    assert snapshot() == before


def _every_subparser() -> list[tuple[list[str], Any]]:
    import argparse

    from jaxpat._cli import build_parser

    out = []

    def walk(p: Any, path: list[str]) -> None:
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for name, sub in a.choices.items():
                    walk(sub, [*path, name])
                return
        out.append((path, p))

    walk(build_parser()[0], [])
    return out


@pytest.mark.parametrize("path", [p for p, _ in _every_subparser()], ids=lambda p: "-".join(p))
def test_every_subcommand_answers_an_option_typo_with_a_did_you_mean(capsys, path):
    """For every (sub)command: its longest option with one letter dropped is a usage error under that command's
    own usage line that names the option meant -- also when the option meant is a required one (-o/--output);
    only `check`, which passes options on to pytest, adds where pytest options go."""
    import argparse

    parser = dict((tuple(p), sub) for p, sub in _every_subparser())[tuple(path)]
    options = [s for s in parser._option_string_actions if s.startswith("--") and s not in ("--help", "--traceback")]
    assert options, path
    meant = max(options, key=len)
    typo = meant[: len(meant) // 2 + 1] + meant[len(meant) // 2 + 2:]
    positional = [a for a in parser._actions if not a.option_strings and a.help != argparse.SUPPRESS
                  and a.nargs not in ("?", "*", argparse.REMAINDER)]
    status, _out, err = _run(capsys, *path, typo, *["x"] * len(positional))
    assert status == 2
    assert err.startswith(f"usage: jaxpat {' '.join(path)} "), err
    assert f"{typo} (did you mean {meant}?)" in err
    assert ("pytest options go after --" in err) == (path == ["check"])
