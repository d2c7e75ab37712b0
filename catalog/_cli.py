"""The ``jaxpat`` command line: a registry of subcommands, and the catalog's own three.

Each entry of :data:`COMMANDS` names a subcommand, the module that provides
it, and the function that runs it. The module must be importable without
JAX and define ``add_parser(subparsers)``, which adds its subcommand(s);
the function receives the parsed ``argparse.Namespace``, returns the exit
status, and imports what it needs when it runs. A module that does not
exist yet is skipped; one that exists but fails to import still gets its
subcommands, which then explain the failure (exit 3) instead of hiding it.
See docs/cli.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import textwrap
import traceback
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # pragma: no cover
    from ._model import Case, Catalog, Pattern

__all__ = ["COMMANDS", "EXIT_INTERNAL", "EXIT_OK", "EXIT_PROBLEMS", "EXIT_USAGE", "build_parser", "main"]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3

#: (subcommand, module, function), in help order.
COMMANDS: list[tuple[str, str, str]] = [
    ("list", "catalog._cli", "list_command"),
    ("show", "catalog._cli", "show_command"),
    ("validate", "catalog._cli", "validate_command"),
    ("plugins", "patterns._cli", "plugins_command"),
    ("check", "conformance._cli", "check"),
    ("report", "conformance._cli", "report"),
    ("claims", "conformance._claims_cli", "claims"),
]

_DESCRIPTION = "jaxpat: a catalog of JAX programming patterns, their implementations, and a conformance suite."
_EPILOG = """\
examples:
  jaxpat list --family scan
  jaxpat show scan-cumsum
  jaxpat validate my-plugin/catalog.yaml

exit status: 0 success, 1 problems found (invalid catalog, unknown id),
2 usage error, 3 internal error. `jaxpat COMMAND --help` describes each command.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``jaxpat`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser, runners = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse exits 2 on usage errors, 0 after --help/--version
        return int(e.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return _run(runners.get(args.command) or args.func, args)


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Any]]:
    """Return the parser and, per subcommand, the callable that runs it."""
    parser = argparse.ArgumentParser(
        prog="jaxpat", description=_DESCRIPTION, epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    runners: dict[str, Any] = {}
    for module_name, names in _by_module():
        try:
            module = importlib.import_module(module_name)
            module.add_parser(subparsers)
        except ModuleNotFoundError as e:
            if e.name is not None and (module_name == e.name or module_name.startswith(e.name + ".")):
                continue  # not written yet: no subcommand
            _add_broken(subparsers, names, module_name, e)
        except Exception as e:  # a broken module must not take `jaxpat validate` down with it
            _add_broken(subparsers, names, module_name, e)
        else:
            runners.update({name: _Runner(module, function) for name, function in names})
    return parser, runners


def _by_module() -> list[tuple[str, list[tuple[str, str]]]]:
    grouped: dict[str, list[tuple[str, str]]] = {}
    for name, module, function in COMMANDS:
        grouped.setdefault(module, []).append((name, function))
    return list(grouped.items())


class _Runner:
    """Looks the command function up only when the command runs."""

    def __init__(self, module: Any, function: str) -> None:
        self.module = module
        self.function = function

    def __call__(self, args: argparse.Namespace) -> int:
        func = getattr(self.module, self.function, None) or getattr(args, "func", None)
        if func is None:
            raise RuntimeError(f"{self.module.__name__} defines no `{self.function}`")
        return int(func(args) or 0)


def _add_broken(subparsers: Any, names: list[tuple[str, str]], module_name: str, error: BaseException) -> None:
    message = f"unavailable: importing {module_name} failed: {type(error).__name__}: {error}"
    for name, _ in names:
        if name in subparsers.choices:
            continue
        # No option prefix: whatever follows (even `--help`) reaches the stub, which explains the failure.
        sub = subparsers.add_parser(name, help=message, description=message, prefix_chars="\0", add_help=False)
        sub.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        sub.set_defaults(func=_broken(name, message))


def _broken(name: str, message: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        print(f"jaxpat {name}: {message}", file=sys.stderr)
        return EXIT_INTERNAL

    return run


def _run(runner: Any, args: argparse.Namespace) -> int:
    """Run a command; catalog problems are exit 1, anything unexpected exit 3."""
    from ._errors import CatalogError

    try:
        return int(runner(args) or 0)
    except CatalogError as e:
        _print_problems(e, sys.stderr)
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `jaxpat list | head`
        return EXIT_OK
    except Exception as e:
        if getattr(args, "traceback", False):
            traceback.print_exc()
        else:
            print(f"jaxpat: internal error: {type(e).__name__}: {e} (rerun with --traceback for details)",
                  file=sys.stderr)
        return EXIT_INTERNAL


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jaxpat")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


# -- the catalog's subcommands ---------------------------------------------------------

_LIST_EPILOG = """\
examples:
  jaxpat list
  jaxpat list --family scan --format json
  jaxpat list --tag static-shapes
  jaxpat list --claim memory               patterns that claim a memory behaviour
  jaxpat list --catalog extra.yaml --no-plugins

exit status: 0 listed (even if nothing matches); 1 the catalog is invalid;
2 usage error; 3 internal error.
"""
_SHOW_EPILOG = """\
examples:
  jaxpat show scan-cumsum
  jaxpat show scan-cumsum --format json | jq '.cases[0].expect'

exit status: 0 shown; 1 unknown id (with a suggestion) or invalid catalog;
2 usage error; 3 internal error.
"""
_VALIDATE_EPILOG = """\
examples:
  jaxpat validate                          the shipped catalog and every plugin's files
  jaxpat validate catalog.yaml mine.yaml   exactly these files (ids must be unique across them)

exit status: 0 valid; 1 problems, listed one per line on stderr as
FILE:LINE:COLUMN: pattern 'ID', field 'PATH': MESSAGE; 2 usage error;
3 internal error. Files are only read, never modified.
"""


def add_parser(subparsers: Any) -> None:
    """Add ``list``, ``show`` and ``validate`` to ``subparsers``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--traceback", action="store_true", help="show the full traceback of an internal error")
    source = argparse.ArgumentParser(add_help=False)
    source.add_argument("-c", "--catalog", action="append", metavar="FILE",
                        help="read FILE instead of the shipped catalog (repeatable)")
    source.add_argument("--no-plugins", action="store_true", help="leave out catalog files contributed by plugins")
    raw = argparse.RawDescriptionHelpFormatter

    p = subparsers.add_parser(
        "list", parents=[common, source], formatter_class=raw, epilog=_LIST_EPILOG,
        help="list the catalog's patterns",
        description=_para("List the patterns of the catalog (and of plugins), optionally filtered; filters combine."),
    )
    p.add_argument("--family", help="only this family (e.g. scan)")
    p.add_argument("--tag", help="only patterns with this tag")
    p.add_argument("--claim", help="only patterns that declare this claim (e.g. memory)")
    p.add_argument("--source", help="only patterns whose seed file or doc contains this text")
    p.add_argument("--format", choices=("table", "json"), default="table", help="table (default) or json")

    p = subparsers.add_parser(
        "show", parents=[common, source], formatter_class=raw, epilog=_SHOW_EPILOG,
        help="show one pattern: summary, signature, cases, claims",
        description=_para(
            "Show a pattern: its summary, signature, every case with its arguments and expected result, "
            "its claims, deviations, source and where it is declared."
        ),
    )
    p.add_argument("id", metavar="ID", help="the pattern id")
    p.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json")

    p = subparsers.add_parser(
        "validate", parents=[common], formatter_class=raw, epilog=_VALIDATE_EPILOG,
        help="check catalog files and list every problem",
        description=_para(
            "Check catalog files against docs/catalog-format.md and list every problem with its file, line "
            "and column. Without FILE, checks the shipped catalog and the plugins' files."
        ),
    )
    p.add_argument("files", nargs="*", metavar="FILE", help="catalog files to check")


def list_command(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """``jaxpat list``: print the matching patterns as a table or JSON."""
    out = out or sys.stdout
    cat = _load(args).filter(family=args.family, tag=args.tag, claim=args.claim, source=args.source)
    if args.format == "json":
        out.write(json.dumps([_summary(p) for p in cat], indent=2) + "\n")
        return EXIT_OK
    rows = [("ID", "FAMILY", "CASES", "TITLE")]
    rows += [(p.id, p.family, str(len(p.cases)), p.title) for p in cat]
    out.write(_table(rows))
    out.write(f"{len(cat)} patterns, {cat.n_cases()} cases\n")
    return EXIT_OK


def show_command(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """``jaxpat show ID``: describe one pattern; an unknown id is exit 1 with a did-you-mean."""
    out = out or sys.stdout
    cat = _load(args)
    try:
        pattern = cat.get(args.id)
    except KeyError as e:
        print(f"jaxpat show: {e.args[0]}", file=sys.stderr)
        return EXIT_PROBLEMS
    if args.format == "json":
        body = pattern.to_dict()
        body["location"] = str(pattern.location) if pattern.location else None
        out.write(json.dumps(body, indent=2) + "\n")
    else:
        out.write(_describe(pattern))
    return EXIT_OK


def validate_command(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """``jaxpat validate [FILE...]``: exit 0 when valid, else 1 with every problem on stderr."""
    from ._loader import validate

    out, err = out or sys.stdout, err or sys.stderr
    files = args.files or None
    problems = validate(files)
    if problems:
        for problem in problems:
            print(problem, file=err)
        print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found", file=err)
        return EXIT_PROBLEMS
    print(f"ok: {'the catalog' if files is None else ', '.join(files)} is valid", file=out)
    return EXIT_OK


# -- helpers ---------------------------------------------------------------------------


def _para(text: str) -> str:
    return textwrap.fill(text, width=78)


def _load(args: argparse.Namespace) -> Catalog:
    from ._loader import load

    return load(args.catalog, plugins=not args.no_plugins)


def _print_problems(error: Any, stream: TextIO) -> None:
    for problem in error.problems:
        print(problem, file=stream)
    print(f"{len(error.problems)} problem{'s' if len(error.problems) != 1 else ''} found", file=stream)


def _summary(p: Pattern) -> dict[str, Any]:
    return {
        "id": p.id, "family": p.family, "title": p.title, "tags": list(p.tags), "cases": len(p.cases),
        "claims": list(p.claims), "origin": p.origin, "location": str(p.location) if p.location else None,
    }


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1] for r in rows]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _describe(p: Pattern) -> str:
    from ._render import render_value

    sig = p.signature
    lines = [f"{p.id} — {p.title}", ""]
    lines += [f"  family:     {p.family}", f"  tags:       {', '.join(p.tags) or '-'}"]
    lines += [f"  source:     {', '.join(f'{k}: {v}' for k, v in p.source.items())}"]
    lines += [f"  declared:   {p.location or '-'} (origin: {p.origin})", ""]
    lines += [*textwrap.wrap(p.summary, width=88, initial_indent="  ", subsequent_indent="  "), ""]
    lines += [f"signature: ({', '.join(sig.args)})" + (f"   static: {', '.join(sig.static)}" if sig.static else "")]
    if p.claims:
        lines += ["", "claims:"] + [f"  {k}: {_flow(v)}" for k, v in p.claims.items()]
    if p.deviations:
        lines += ["", "known deviations:"]
        lines += [f"  when {_flow(d.when)}: {d.reason}" for d in p.deviations]
    lines += ["", f"cases ({len(p.cases)}):"]
    for case in p.cases:
        lines += _describe_case(case, render_value)
    return "\n".join(lines) + "\n"


def _describe_case(case: Case, render: Any) -> list[str]:
    lines = [f"  {case.id}  [{', '.join(case.transforms)}]  {case.location or ''}".rstrip()]
    args = [f"{name} = {render(value)}" for name, value in case.args.items()] or ["(none)"]
    lines += [f"    {'args:' if i == 0 else '':<12}{arg}" for i, arg in enumerate(args)]
    lines += [f"    {'expect:':<12}{render(case.expect)}"]
    lines += [f"    {f'under {t}:':<12}{render(v)}" for t, v in case.expect_under.items()]
    if case.grad:
        lines += [f"    {'grad:':<12}d/d{case.grad['wrt']} = {render(case.grad['expect'])}"]
    if case.config:
        lines += [f"    {'config:':<12}{_flow(case.config)}"]
    prov = case.provenance
    detail = (prov.printed and f"printed {prov.printed!r} in {prov.seed}") or prov.oracle or (
        prov.jax and f"jax {prov.jax}"
    )
    lines += [f"    {'provenance:':<12}{prov.kind}" + "".join(f" — {x}" for x in (detail, prov.note) if x)]
    if case.note:
        lines += [f"    {'note:':<12}{case.note}"]
    return lines


def _flow(value: Any) -> str:
    """Plain data in YAML flow style: ``{jit: {raises: TypeError}}``."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return str(value)
