"""``jaxpat plugins``: what is registered, what is missing, what failed to load.

The catalog CLI (``catalog/_cli.py``) imports this module lazily and calls
:func:`add_parser`. Exit status, following the CLI's convention (1: problems
found): 0 when every plugin loaded; 1 when at least one plugin failed to
load (so CI can use the command as a health check) or the catalog itself is
invalid. Patterns without implementations are reported but do not change
the status: a catalog may declare patterns ahead of their implementations.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from jaxpat._util import table

if TYPE_CHECKING:  # pragma: no cover
    from ._records import Registry
    from ._sandbox import RegistryView

__all__ = ["add_parser", "plugins_command", "render_json", "render_table", "report"]

EXIT_OK = 0
EXIT_PROBLEMS = 1

_EPILOG = """\
examples:
  jaxpat plugins
  jaxpat plugins --format json | jq '.missing'
  JAXPAT_BLOCK_PLUGINS=example jaxpat plugins

exit status: 0 every plugin loaded; 1 a plugin failed to load, or the catalog is
invalid; 2 usage error; 4 internal error (rerun with --traceback). Patterns
without an implementation are listed but do not change the status.
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``plugins`` subcommand to ``subparsers`` (from ``add_subparsers()``).

    The parser's ``func`` default is :func:`plugins_command`.
    """
    parser = subparsers.add_parser(
        "plugins",
        help="list plugins, implementations per pattern, missing implementations and load errors",
        description=(
            "List the registered jaxpat plugins (with distribution and version), the implementations "
            "of each pattern, the catalog patterns nobody implements, and the plugins that failed to "
            "load. Exit status 1 if a plugin failed to load or the catalog is invalid. "
            "JAXPAT_DISABLE_PLUGIN_AUTOLOAD=1 and JAXPAT_BLOCK_PLUGINS=a,b apply."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_EPILOG,
    )
    parser.add_argument(
        "--format", choices=("table", "json"), default="table",
        help="table for people (default); json is stable and sorted, for tools",
    )
    parser.set_defaults(func=plugins_command)
    return parser


def plugins_command(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run ``jaxpat plugins``: print the registry in ``args.format``; return the exit status."""
    from jaxpat.catalog import CatalogError

    from ._sandbox import registry_isolated

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        registry = registry_isolated()  # each plugin in a process of its own (docs/security.md)
    except CatalogError as exc:
        print(f"jaxpat plugins: the catalog is invalid:\n{exc}", file=err)
        return EXIT_PROBLEMS
    text = render_json(registry) if getattr(args, "format", "table") == "json" else render_table(registry)
    out.write(text)
    return EXIT_PROBLEMS if registry.errors else EXIT_OK


def report(registry: Registry | RegistryView) -> dict[str, Any]:
    """The registry as plain data: everything sorted, so equal registries give equal output."""
    by_pattern: dict[str, list[str]] = {pid: [] for pid in registry.catalog.ids()}
    for impl in registry.implementations():
        by_pattern[impl.pattern].append(impl.id)
    return {
        "plugins": sorted((p.to_dict() for p in registry.plugins()), key=lambda d: d["name"]),
        "implementations": {pid: sorted(ids) for pid, ids in sorted(by_pattern.items()) if ids},
        "missing": sorted(registry.missing()),
        "errors": sorted((e.to_dict() for e in registry.errors), key=lambda d: (d["plugin"], d["stage"])),
    }


def render_json(registry: Registry | RegistryView) -> str:
    """The report as indented JSON with sorted keys, ending in a newline."""
    return json.dumps(report(registry), indent=2, sort_keys=True) + "\n"


def render_table(registry: Registry | RegistryView) -> str:
    """The report as aligned text for a terminal (registration and catalog order)."""
    sections = [_plugins_table(registry), _implementations_table(registry), _missing(registry), _errors(registry)]
    return "\n\n".join(s for s in sections if s) + "\n"


def _plugins_table(registry: Registry | RegistryView) -> str:
    rows = [("NAME", "DISTRIBUTION", "VERSION", "IMPLS", "PATTERNS", "MODULE")]
    rows += [
        (p.name, p.distribution or "-", p.version or "-", str(p.n_implementations), str(p.n_patterns), p.module)
        for p in registry.plugins()
    ]
    return f"plugins ({len(rows) - 1})\n" + _align(rows)


def _implementations_table(registry: Registry | RegistryView) -> str:
    impls = registry.implementations()
    rows = [
        (pid, ", ".join(i.id for i in impls if i.pattern == pid))
        for pid in registry.catalog.ids()
        if any(i.pattern == pid for i in impls)
    ]
    return f"implementations ({len(impls)}, of {len(rows)} patterns)\n" + _align(rows) if rows else ""


def _missing(registry: Registry | RegistryView) -> str:
    missing = registry.missing()
    if not missing:
        return ""
    return f"patterns without implementation ({len(missing)})\n" + "\n".join(f"  {pid}" for pid in missing)


def _errors(registry: Registry | RegistryView) -> str:
    errors = registry.errors
    if not errors:
        return ""
    body = "\n\n".join(_indent(str(e)) for e in errors)
    return f"plugins that failed to load ({len(errors)})\n{body}"


def _align(rows: Sequence[Sequence[str]]) -> str:
    return "\n".join("  " + line if line else line for line in table(rows).splitlines())


def _indent(text: str) -> str:
    return "\n".join("  " + line if line else line for line in text.splitlines())
