"""The ``jaxpat`` command line: the dispatcher, on top of every layer.

Each entry of :data:`COMMANDS` names a subcommand, the module that provides
it, and the function that runs it. The module must be importable without
JAX and define ``add_parser(subparsers)``, which adds its subcommand(s);
the function receives the parsed ``argparse.Namespace``, returns the exit
status, and imports what it needs when it runs. A module that fails to
import -- missing or broken -- still gets its subcommands, which then explain
the failure (exit 4, an internal error) instead of hiding it: nothing is skipped silently.
See docs/cli.md.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from . import __version__, _env
from ._util import Exit, NoMatchError, closest

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import CatalogError


__all__ = ["COMMANDS", "EXIT_HELP", "EXIT_INTERNAL", "EXIT_OK", "EXIT_PROBLEMS", "EXIT_USAGE", "build_parser",
           "main"]

EXIT_OK = int(Exit.OK)
EXIT_PROBLEMS = int(Exit.FINDINGS)
EXIT_USAGE = int(Exit.USAGE)
EXIT_INTERNAL = int(Exit.INTERNAL)

#: The scheme, as every ``--help`` ends when its command gives no more specific text.
EXIT_HELP = """\
exit status: 0 success; 1 findings (failures, regressions, problems in a catalog);
2 usage error (bad options, a filter that matches nothing); 3 unreadable input;
4 internal error (rerun with --traceback); 130 interrupted. See docs/cli.md.
"""

#: (subcommand, module, function), in help order.
COMMANDS: list[tuple[str, str, str]] = [
    ("list", "jaxpat.patterns._catalog_cli", "list_command"),
    ("show", "jaxpat.patterns._catalog_cli", "show_command"),
    ("validate", "jaxpat.patterns._catalog_cli", "validate_command"),
    ("plugins", "jaxpat.patterns._cli", "plugins_command"),
    ("check", "jaxpat.conformance._cli", "check"),
    ("report", "jaxpat.conformance._cli", "report"),
    ("claims", "jaxpat.conformance._claims_cli", "claims"),
    ("mutate", "jaxpat.conformance._mutate_cli", "mutate_command"),
    ("explore", "jaxpat.conformance._explore_cli", "explore_command"),
    ("history", "jaxpat.conformance._history_cli", "history_command"),
]

_DESCRIPTION = "jaxpat: a catalog of JAX programming patterns, their implementations, and a conformance suite."
_EPILOG = """\
examples:
  jaxpat list --family scan
  jaxpat show scan-cumsum
  jaxpat validate my-plugin/catalog.yaml

  jaxpat check --report r.json && jaxpat report html r.json -o r.html

exit status: 0 success; 1 findings (failures, regressions, an invalid catalog,
an unknown id); 2 usage error (bad options, a filter that matches nothing);
3 unreadable input (a missing or damaged file); 4 internal error (rerun with
--traceback); 5 drift only (report diff); 130 interrupted. Every subcommand
uses this scheme (docs/cli.md); `jaxpat COMMAND --help` describes each one.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``jaxpat`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser, runners = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    _ARGV[:] = words[: words.index("--")] if "--" in words else words
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            _unknown_arguments(parser, args, extra)
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
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    runners: dict[str, Any] = {}
    for module_name, names in _by_module():
        try:
            module = importlib.import_module(module_name)
            module.add_parser(subparsers)
        except Exception as e:  # a broken module must not take `jaxpat validate` down with it
            _add_broken(subparsers, names, module_name, e)
        else:
            runners.update({name: _Runner(module, function) for name, function in names})
    for sub in subparsers.choices.values():
        _finish(sub)
    return parser, runners


def _subparser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The innermost (sub)parser that ``args`` went through: ``jaxpat report show`` -> the ``show`` parser."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = getattr(args, action.dest, None)
            if chosen in action.choices:
                return _subparser(action.choices[chosen], args)
    return parser


def _unknown_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace, extra: list[str]) -> None:
    """Exit 2 for arguments no parser took, under the subcommand's own usage line, with a did-you-mean.

    For a command that passes arguments on (``check``: ``-- PYTEST_ARGS``), the
    message also says that such options go after ``--``.
    """
    sub = _subparser(parser, args)
    words = [(_did_you_mean_words(sub, [w]) or [w])[0] for w in extra]
    message = f"unrecognized arguments: {' '.join(words)}"
    if any(a.dest == "pytest_args" for a in sub._actions) and any(w.startswith("-") for w in extra):
        message += f"; pytest options go after -- ({sub.prog} [OPTIONS] -- PYTEST_ARGS)"
    sub.error(message)


#: The command line being parsed, up to ``--`` (for :func:`_required_error`).
_ARGV: list[str] = []


def _did_you_mean_words(parser: argparse.ArgumentParser, words: list[str]) -> list[str]:
    """Each ``--word`` that ``parser`` does not know, with its closest option when there is one."""
    options = [s for s in parser._option_string_actions if s.startswith("--")]
    out = []
    for word in words:
        name = word.split("=", 1)[0]
        if word.startswith("--") and name not in parser._option_string_actions:
            best = closest(name, options)
            out.append(f"{word} (did you mean {best}?)" if best else word)
    return out


def _required_error(parser: argparse.ArgumentParser, error: Any) -> Any:
    """``parser.error`` that, when a required argument is missing, also names the unknown options of the
    command line with a did-you-mean (``report merge --outut x`` is a typo of the required ``--output``)."""
    def report(message: str) -> Any:
        if message.startswith("the following arguments are required"):
            unknown = [w for w in _did_you_mean_words(parser, _ARGV) if "did you mean" in w]
            if unknown:
                message += f"; unrecognized arguments: {' '.join(unknown)}"
        return error(message)

    return report


def _finish(parser: argparse.ArgumentParser) -> None:
    """Give ``parser`` and its sub-parsers ``--traceback`` and, when their epilog lacks one, the exit statuses."""
    if parser.prefix_chars == "\0":  # the stub of a broken module takes every argument as is
        return
    parser.error = _required_error(parser, parser.error)  # type: ignore[method-assign]
    if "--traceback" not in parser._option_string_actions:
        parser.add_argument("--traceback", action="store_true", help="show the full traceback of an internal error")
    if "exit status" not in (parser.epilog or ""):
        parser.epilog = ((parser.epilog or "").rstrip("\n") + "\n\n" + EXIT_HELP).lstrip("\n")
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _finish(sub)


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
    """Run a command: catalog problems exit 1, a name or filter matching nothing 2, anything unexpected 4."""
    from .catalog import CatalogError

    command = " ".join(x for x in (args.command, getattr(args, "report_command", None)) if x)
    bad_env = _env.problems()
    if bad_env:  # every JAXPAT_* variable is checked first, whether this command reads it or not
        for problem in bad_env:
            print(f"jaxpat {command}: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return int(runner(args) or 0)
    except CatalogError as e:
        _print_problems(e, sys.stderr)
        unreadable = all(p.line <= 0 and p.message.startswith("cannot read") for p in e.problems)
        return int(Exit.UNREADABLE) if unreadable else EXIT_PROBLEMS
    except (NoMatchError, _env.EnvError) as e:
        print(f"jaxpat {command}: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return int(Exit.INTERRUPTED)
    except BrokenPipeError:  # `jaxpat list | head`
        return EXIT_OK
    except Exception as e:
        if getattr(args, "traceback", False):
            traceback.print_exc()
        else:
            print(f"jaxpat {command}: internal error: {type(e).__name__}: {e} "
                  "(rerun with --traceback for details)", file=sys.stderr)
        return EXIT_INTERNAL


def _print_problems(error: CatalogError, stream: TextIO) -> None:
    print(error.listing(), file=stream)
