"""``jaxpat explore``: the patterns' domains and oracles, and failing generated examples turned into catalog cases.

``jaxpat explore`` lists which patterns have a domain and an oracle (and why
the others have none) with the coverage figure; ``jaxpat explore --save
REPORT`` prints, for every failing explore item of a report, a catalog case
holding its minimal input and the oracle's values, ready to paste under the
pattern's ``cases:`` (``--append FILE`` appends the snippets to a file of
your own; the shipped catalog is never written). No JAX: the oracles are
NumPy (docs/explore.md).
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from jaxpat._util import Exit

__all__ = ["add_parser", "explore_command", "saved_cases"]

EPILOG = """\
examples:
  jaxpat explore                                 coverage: which patterns have a domain and an oracle
  jaxpat explore --pattern 'scan-*'
  jaxpat check --explore 50 --report r.json; jaxpat explore --save r.json
  jaxpat explore --save r.json --append my-cases.yaml

exit status: 0 success (with --save: snippets printed, or no failing explore item); 1 a failing example whose
pattern is no longer in the catalog; 2 usage error; 3 an unreadable report; 4 internal error.
"""


def add_parser(subparsers: Any) -> None:
    """Add the ``explore`` subcommand."""
    p = subparsers.add_parser(
        "explore", help="domains and oracles of generated inputs; turn a failing example into a catalog case",
        description="Without --save: every pattern's domain and oracle (or why it has none) and the coverage "
        "figure. With --save REPORT: for each failing explore item of the report (jaxpat check --explore), a "
        "catalog case holding its shrunk input and the oracle's expected values, as YAML to paste under the "
        "pattern's `cases:`.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--save", metavar="REPORT", help="the report whose failing explore items become cases")
    p.add_argument("--append", metavar="FILE",
                   help="with --save: append the snippets to FILE (never the shipped catalog) instead of printing")
    p.add_argument("--pattern", action="append", default=[], metavar="GLOB",
                   help="only patterns whose id matches GLOB (repeatable)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=explore_command)


def explore_command(ns: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Run ``jaxpat explore``."""
    from jaxpat.patterns import load_catalog

    out = out or sys.stdout
    catalog = load_catalog()
    if ns.pattern and not any(fnmatch.fnmatchcase(p.id, g) for p in catalog for g in ns.pattern):
        print(f"jaxpat explore: no pattern matches {', '.join(ns.pattern)}", file=sys.stderr)
        return int(Exit.USAGE)
    if ns.append and not ns.save:
        print("jaxpat explore: --append goes with --save REPORT", file=sys.stderr)
        return int(Exit.USAGE)
    if ns.save:
        return _save(ns, catalog, out)
    return _listing(ns, catalog, out)


def _selected(ns: argparse.Namespace, pattern_id: str) -> bool:
    return not ns.pattern or any(fnmatch.fnmatchcase(pattern_id, g) for g in ns.pattern)


def _listing(ns: argparse.Namespace, catalog: Any, out: TextIO) -> int:
    from jaxpat._util import table
    from jaxpat.catalog._explore import coverage, coverage_line, explore_transforms

    patterns = [p for p in catalog if _selected(ns, p.id)]
    if ns.format == "json":
        data = [{"id": p.id, "returns_value": p.returns_value(),
                 "explore": p.explore.to_dict() if p.explore is not None else None,
                 "transforms": list(explore_transforms(p))} for p in patterns]
        json.dump({"coverage": coverage(patterns), "patterns": data}, out, indent=1)
        out.write("\n")
        return int(Exit.OK)
    rows: list[list[str]] = [["PATTERN", "EXPLORE"]]
    for p in patterns:
        ex = p.explore
        if ex is not None and ex.has_oracle:
            what = f"{ex.oracle} [{', '.join(explore_transforms(p))}]"
        elif ex is not None:
            what = f"skip: {ex.skip}"
        else:
            what = "-" if p.returns_value() else "- (no value: errors or placement)"
        rows.append([p.id, what])
    out.write(table(rows) + "\n")
    out.write(coverage_line(patterns) + "\n")
    return int(Exit.OK)


def saved_cases(report: Any, catalog: Any, patterns: list[str] | None = None) -> list[tuple[str, str]]:
    """``(pattern id, YAML snippet)`` for each distinct failing example of ``report``'s explore items.

    The expected values are the oracle's, recomputed here from the
    catalog (the oracle is NumPy; nothing of the report's ``actual`` is
    trusted); the case id is ``explore-`` and a hash of the input, so saving
    the same example twice gives the same id.
    """
    import yaml

    from jaxpat.catalog import decode, encode
    from jaxpat.catalog._explore import explore_transforms

    from ._explore import Example, grad_wrt, oracle_expectation

    out: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    seed = (getattr(report, "extra", {}) or {}).get("explore", {}).get("seed")
    for r in report.results:
        facts = (r.extra or {}).get("explore") if r.kind == "explore" else None
        failure = facts.get("failure") if isinstance(facts, dict) else None
        if not failure or r.outcome not in ("failed", "xfailed"):
            continue
        pid = r.pattern_id
        if patterns and not any(fnmatch.fnmatchcase(pid, g) for g in patterns):
            continue
        key = (pid, json.dumps(failure["args"], sort_keys=True))
        if key in seen:
            continue
        seen.add(key)
        pattern = catalog.get(pid)  # KeyError: the pattern is gone
        example = Example({k: decode(v, role="input", path=("args", k)) for k, v in failure["args"].items()})
        digest = hashlib.sha256(key[1].encode()).hexdigest()[:8]
        transforms = list(explore_transforms(pattern))
        case: dict[str, Any] = {"id": f"explore-{digest}", "args": failure["args"],
                                "expect": encode(oracle_expectation(pattern, example, "eager"))}
        wrt = grad_wrt(pattern)
        if "grad" in transforms and wrt:
            case["grad"] = {"wrt": wrt, "expect": encode(oracle_expectation(pattern, example, "grad"))}
        case["transforms"] = transforms
        ex = pattern.explore
        if ex.tolerance_table:
            case["tolerance"] = ex.tolerance_table
        if ex.config:
            case["config"] = dict(ex.config)
        case["provenance"] = {
            "kind": "oracle", "oracle": f"jaxpat.conformance.oracles.{ex.oracle}",
            "note": f"found by jaxpat check --explore{f' (seed {seed})' if seed is not None else ''}: "
                    f"{r.implementation} failed it under {r.transform} ({r.nodeid})"}
        text = yaml.safe_dump([case], default_flow_style=None, sort_keys=False, width=110, allow_unicode=True)
        where = f" ({pattern.location})" if pattern.location else ""
        header = f"# {pid}{where}: paste under its `cases:`, indented as the other cases\n"
        out.append((pid, header + text))
    return out


def _save(ns: argparse.Namespace, catalog: Any, out: TextIO) -> int:
    from jaxpat.catalog._loader import SHIPPED
    from jaxpat.report import ReportError, load

    try:
        report = load(ns.save)
    except ReportError as exc:
        print(f"jaxpat explore: {exc}", file=sys.stderr)
        return int(Exit.UNREADABLE)
    try:
        snippets = saved_cases(report, catalog, ns.pattern or None)
    except KeyError as exc:
        print(f"jaxpat explore: a failing example's pattern is not in this catalog: {exc.args[0]}", file=sys.stderr)
        return int(Exit.FINDINGS)
    if not snippets:
        print(f"jaxpat explore: {ns.save} holds no failing explore item with a recorded example", file=sys.stderr)
        return int(Exit.OK)
    text = "\n".join(s for _, s in snippets)
    if ns.format == "json":
        json.dump([{"pattern": p, "yaml": s} for p, s in snippets], out, indent=1)
        out.write("\n")
        return int(Exit.OK)
    if ns.append:
        target = Path(ns.append)
        if target.exists() and target.resolve() == SHIPPED.resolve():
            print("jaxpat explore: --append will not write the shipped catalog; paste the cases yourself "
                  "(they are printed without --append)", file=sys.stderr)
            return int(Exit.USAGE)
        with target.open("a", encoding="utf-8") as f:
            f.write(text)
        print(f"jaxpat explore: appended {len(snippets)} case(s) to {target}", file=sys.stderr)
        return int(Exit.OK)
    out.write(text)
    return int(Exit.OK)
