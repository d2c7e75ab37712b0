"""The catalog's subcommands of ``jaxpat``: ``list``, ``show`` and ``validate``.

They read the catalog together with every plugin's catalog files (unless
``--no-plugins``), so they sit in the patterns layer, above the catalog.
Registered in :data:`jaxpat._cli.COMMANDS`; nothing here imports JAX.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from jaxpat._util import table

if TYPE_CHECKING:  # pragma: no cover
    from jaxpat.catalog import Case, Catalog, Pattern

from jaxpat._util import Exit, NoMatchError

EXIT_OK = int(Exit.OK)
EXIT_PROBLEMS = int(Exit.FINDINGS)


_LIST_EPILOG = """\
examples:
  jaxpat list
  jaxpat list --family scan --format json
  jaxpat list --tag static-shapes
  jaxpat list --claim memory               patterns that claim a memory behaviour
  jaxpat list --catalog extra.yaml --no-plugins

exit status: 0 listed; 1 the catalog is invalid; 2 usage error, or filters
that match nothing (with a did-you-mean); 3 a --catalog file cannot be read;
4 internal error (rerun with --traceback).
"""
_SHOW_EPILOG = """\
examples:
  jaxpat show scan-cumsum
  jaxpat show scan-cumsum --format json | jq '.cases[0].expect'

exit status: 0 shown; 1 unknown id (with a suggestion) or invalid catalog;
2 usage error; 3 a --catalog file cannot be read; 4 internal error (rerun
with --traceback).
"""
_VALIDATE_EPILOG = """\
examples:
  jaxpat validate                          the shipped catalog and every plugin's files
  jaxpat validate --no-plugins             the shipped catalog alone
  jaxpat validate catalog.yaml mine.yaml   exactly these files (ids must be unique across them)

exit status: 0 valid; 1 problems, listed one per line on stderr as
FILE:LINE:COLUMN: pattern 'ID', field 'PATH': MESSAGE; 2 usage error;
3 a FILE cannot be read (missing, a folder, no permission); 4 internal error
(rerun with --traceback). Files are only read, never modified.
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
    p.add_argument("--no-plugins", action="store_true",
                   help="without FILE: leave out catalog files contributed by plugins")


def list_command(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """``jaxpat list``: print the matching patterns as a table or JSON."""
    out = out or sys.stdout
    cat = _load(args).filter(family=args.family, tag=args.tag, claim=args.claim, source=args.source)
    if not len(cat):  # each filter matches something (filter() checks), but not all of them together
        asked = " ".join(f"--{k} {v}" for k, v in (("family", args.family), ("tag", args.tag),
                                                     ("claim", args.claim), ("source", args.source)) if v)
        raise NoMatchError(f"no pattern matches all of {asked}")
    if args.format == "json":
        out.write(json.dumps([_summary(p) for p in cat], indent=2) + "\n")
        return EXIT_OK
    rows = [("ID", "FAMILY", "CASES", "TITLE")]
    rows += [(p.id, p.family, str(len(p.cases)), p.title) for p in cat]
    out.write(_table(rows))
    from jaxpat.catalog._explore import coverage_line

    out.write(coverage_line(list(cat)) + "\n")
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
    from jaxpat.catalog import validate

    from ._sandbox import catalog_sources

    out, err = out or sys.stdout, err or sys.stderr
    files = args.files or None
    # each plugin is asked for its files in a process of its own (patterns/_sandbox.py)
    sources, errors = ([], []) if files is not None or getattr(args, "no_plugins", False) else catalog_sources()
    _note_left_out(errors, err)
    problems = validate(files, extra=[(name, path) for name, _, path in sources])
    tampering = _tampered_cache_entries([*(files or [_shipped()]), *(path for _, _, path in sources)])
    for line in tampering:
        print(f"jaxpat: {line}", file=err)
    if problems:
        owner = {_display(path): f"plugin {name!r} ({origin}): " for name, origin, path in sources}
        for problem in problems:
            print(f"{owner.get(problem.file, '')}{problem}", file=err)
        print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} found", file=err)
        return int(Exit.UNREADABLE) if unreadable(problems) else EXIT_PROBLEMS
    if tampering:
        print(f"{len(tampering)} tampered parse cache entr{'ies' if len(tampering) != 1 else 'y'} found", file=err)
        return EXIT_PROBLEMS
    print(f"ok: {'the catalog' if files is None else ', '.join(files)} is valid", file=out)
    return EXIT_OK


def _shipped() -> Any:
    from jaxpat.catalog._loader import SHIPPED

    return SHIPPED


def _tampered_cache_entries(paths: list[Any]) -> list[str]:
    """A line per parse cache entry that differs from its file (a rewritten entry cannot be trusted)."""
    import stat
    from pathlib import Path

    from jaxpat.catalog._parse_cache import tampered

    out = []
    for p in paths:
        try:  # regular files of a catalog's size only: a FIFO or a device would block or never end
            st = Path(p).stat()
            if not stat.S_ISREG(st.st_mode) or st.st_size > 16 * 2**20:
                continue
            raw = Path(p).read_bytes()
        except OSError:
            continue
        why = tampered(raw, str(p))
        if why:
            out.append(why)
    return out


def unreadable(problems: Any) -> bool:
    """True when every problem is a file that cannot be read at all (missing, a folder, no permission)."""
    return bool(problems) and all(p.line <= 0 and p.message.startswith("cannot read") for p in problems)


# -- helpers ---------------------------------------------------------------------------


def _para(text: str) -> str:
    return textwrap.fill(text, width=78)


def _load(args: argparse.Namespace) -> Catalog:
    """The catalog the command shows; plugins left out of it (and why, in one line each) go to stderr."""
    from ._sandbox import load_catalog_isolated

    # each plugin is asked for its files in a process of its own (patterns/_sandbox.py)
    catalog, errors = load_catalog_isolated(args.catalog, plugins=not args.no_plugins)
    _note_left_out(errors, sys.stderr)
    return catalog


def _note_left_out(errors: list[Any], stream: TextIO) -> None:
    """One line per plugin that was left out: its name, distribution and first problem."""
    for e in errors:
        lines = e.message.splitlines()
        title = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("problem ")), lines[0])
        rule = next((ln.split(":", 1)[1].strip() for ln in lines if ln.strip().startswith("rule:")), "")
        dist = f"{e.distribution} {e.version}".strip() or "no distribution"
        why = f"{title}: {rule}" if rule else title
        print(f"jaxpat: plugin {e.plugin!r} ({dist}) left out: {why[:300]} (details: `jaxpat plugins`)",
              file=stream)


def _display(path: Any) -> str:
    from pathlib import Path

    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def _print_problems(error: Any, stream: TextIO) -> None:
    print(error.listing(), file=stream)


def _summary(p: Pattern) -> dict[str, Any]:
    return {
        "id": p.id, "family": p.family, "title": p.title, "tags": list(p.tags), "cases": len(p.cases),
        "claims": list(p.claims.kinds(overrides=True)), "origin": p.origin,
        "location": str(p.location) if p.location else None,
    }


def _table(rows: Sequence[Sequence[str]]) -> str:
    return table(rows) + "\n"


def _describe(p: Pattern) -> str:
    from jaxpat.catalog._render import render_value

    sig = p.signature
    lines = [f"{p.id} — {p.title}", ""]
    lines += [f"  family:     {p.family}", f"  tags:       {', '.join(p.tags) or '-'}"]
    lines += [f"  source:     {p.source}"]
    lines += [f"  declared:   {p.location or '-'} (origin: {p.origin})", ""]
    lines += [*textwrap.wrap(p.summary, width=88, initial_indent="  ", subsequent_indent="  "), ""]
    lines += [f"signature: ({', '.join(sig.args)})" + (f"   static: {', '.join(sig.static)}" if sig.static else "")]
    if not p.claims.is_empty():
        lines += ["", "claims:"] + [f"  {k}: {_flow(v)}" for k, v in p.claims.to_dict().items()]
    lines += _describe_explore(p)
    if p.deviations:
        lines += ["", "known deviations:"]
        lines += [f"  when {_flow(d.when.to_dict())}: {d.reason}" for d in p.deviations]
    lines += ["", f"cases ({len(p.cases)}):"]
    for case in p.cases:
        lines += _describe_case(case, render_value)
    return "\n".join(lines) + "\n"


def _describe_explore(p: Pattern) -> list[str]:
    """The pattern's domain and oracle for ``jaxpat check --explore`` (docs/explore.md), or why it has none."""
    from jaxpat.catalog._explore import explore_transforms, gen_to_dict

    ex = p.explore
    if ex is None:
        why = "" if p.returns_value() else " (its output is no value: errors or placement)"
        return ["", f"explore: none declared{why}"]
    if ex.skip is not None:
        return ["", f"explore: skipped -- {ex.skip}"]
    lines = ["", f"explore: oracle {ex.oracle}" + (f", gradient {ex.grad_oracle}" if ex.grad_oracle else "")
             + f"; transforms {', '.join(explore_transforms(p)) or '-'}"]
    if ex.sizes:
        lines.append("  sizes:  " + "; ".join(f"{k} in {list(v)}" for k, v in ex.sizes.items()))
    if ex.dtypes:
        lines.append("  dtypes: " + "; ".join(f"{k} in {list(v)}" for k, v in ex.dtypes.items()))
    lines += [f"  {name}: {_flow(gen_to_dict(gen))}" for name, gen in ex.args.items()]
    if ex.where:
        lines.append("  where:  " + "; ".join(map(str, ex.where)))
    if ex.tolerance_table:
        lines.append(f"  tolerance: {_flow(ex.tolerance_table)}")
    if ex.note:
        lines.append(f"  note: {ex.note}")
    return lines


def _describe_case(case: Case, render: Any) -> list[str]:
    lines = [f"  {case.id}  [{', '.join(case.transforms)}]  {case.location or ''}".rstrip()]
    args = [f"{name} = {render(value)}" for name, value in case.args.items()] or ["(none)"]
    lines += [f"    {'args:' if i == 0 else '':<12}{arg}" for i, arg in enumerate(args)]
    lines += [f"    {'expect:':<12}{render(case.expect)}"]
    lines += [f"    {f'under {t}:':<12}{render(v)}" for t, v in case.expect_under.items()]
    if case.grad:
        lines += [f"    {'grad:':<12}d/d{case.grad.wrt} = {render(case.grad.expect)}"]
    if case.config:
        lines += [f"    {'config:':<12}{_flow(case.config)}"]
    if case.devices > 1:
        lines += [f"    {'devices:':<12}{case.devices} (one item runs on a set of {case.devices} devices)"]
    for i, (path, spec) in enumerate(case.shards.items()):
        lines += [f"    {'shards:' if i == 0 else '':<12}{path}: {_placement(spec)}"]
    if case.nondeterministic:
        lines += [f"    {'nondeterm.:':<12}reruns may differ within tolerance on {', '.join(case.nondeterministic)}"]
    prov = case.provenance
    detail = (prov.printed and f"printed {prov.printed!r} in {prov.seed}") or prov.oracle or (
        prov.jax and f"jax {prov.jax}"
    )
    lines += [f"    {'provenance:':<12}{prov.kind}" + "".join(f" — {x}" for x in (detail, prov.note) if x)]
    if case.note:
        lines += [f"    {'note:':<12}{case.note}"]
    return lines


def _placement(spec: Any, limit: int = 4) -> str:
    """A case's expected placement of one leaf: ``replicated``, ``host`` or ``dev 0 [0:2, 0:4]; ...``."""
    if isinstance(spec, str):
        return spec
    parts = [f"dev {d} " + ("[all]" if idx is None else "[" + ", ".join(f"{a}:{b}" for a, b in idx) + "]")
             for d, idx in spec]
    more = f"; ... ({len(parts)} shards)" if len(parts) > limit else ""
    return "; ".join(parts[:limit]) + more


def _flow(value: Any) -> str:
    """Plain data in YAML flow style: ``{jit: {raises: TypeError}}``."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return str(value)
