"""``jaxpat mutate``: the suite proves its own power by killing generated wrong implementations.

See :mod:`._mutate` for the mutants and docs/cli.md for the output.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from jaxpat._util import Exit

__all__ = ["add_parser", "mutate_command"]

EPILOG = """\
examples:
  jaxpat mutate                                  every implementation of the catalog
  jaxpat mutate --pattern 'loop-*' --pattern 'prng-*'
  jaxpat mutate --format json | jq '.survivors'

exit status: 0 every mutant killed or recorded as equivalent (conformance/equivalent-mutants.json),
1 some survived unexplained, 2 usage error (a --pattern that matches nothing), 4 internal error
(rerun with --traceback).
"""


def add_parser(subparsers: Any) -> None:
    """Add the ``mutate`` subcommand."""
    p = subparsers.add_parser(
        "mutate", help="run generated wrong implementations through the suite and report which survive",
        description="For every implementation, generate wrong versions (float result perturbed by 1e-3 relative, "
        "integer + 1, dtype cast, transposed or reshaped result, constant result, pytree leaf dropped or swapped, "
        "input returned unchanged, an expected error swallowed or replaced) and, per claim, a "
        "counter-implementation that violates it; run them in-process through the same checks as `jaxpat check` "
        "on the first device of the default backend; report killed and surviving mutants.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--pattern", action="append", default=[], metavar="GLOB",
                   help="only patterns whose id matches GLOB (repeatable)")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--explore", type=int, nargs="?", const=25, default=0, metavar="N",
                   help="also run each mutant that passes every fixed case on N generated inputs per transform "
                   "(alone: 25) of the patterns with a domain and an oracle, and add their edge mutants "
                   "(docs/explore.md)")
    p.add_argument("--explore-seed", type=int, default=0, metavar="SEED", help="the seed of --explore's draws")
    p.set_defaults(func=mutate_command)


def mutate_command(ns: argparse.Namespace) -> int:
    import jax

    from jaxpat.patterns import load_registry

    from ._mutate import load_equivalents, run_mutants, summarise

    registry = load_registry()
    if ns.pattern:
        import fnmatch

        if not any(fnmatch.fnmatchcase(p.id, g) for p in registry.catalog for g in ns.pattern):
            print(f"jaxpat mutate: no pattern matches {', '.join(ns.pattern)}", file=sys.stderr)
            return int(Exit.USAGE)
    device = jax.devices()[0]
    start = time.perf_counter()
    results = run_mutants(registry, device, patterns=ns.pattern or None, explore=ns.explore or 0,
                          explore_seed=ns.explore_seed)
    summary = summarise(results)
    summary["equivalence_rules"] = len(load_equivalents())
    summary["device"] = f"{device.platform}:{device.id}"
    summary["jax"] = jax.__version__
    summary["seconds"] = round(time.perf_counter() - start, 1)
    if ns.explore:
        summary["explore"] = {"examples": ns.explore, "seed": ns.explore_seed}
    if ns.format == "json":
        json.dump(summary, sys.stdout, indent=1, ensure_ascii=False)
        print()
    else:
        print(_text(summary))
    return int(Exit.FINDINGS) if summary["unexplained"] else int(Exit.OK)


def _text(summary: dict[str, Any]) -> str:
    from jaxpat._util import table

    total, killed = summary["total"], summary["killed"]
    score = f"{100 * killed / total:.1f} %" if total else "n/a"
    lines = [f"mutants: {total}, killed: {killed} ({score}), survived: {total - killed} "
             f"({summary['equivalent']} recorded as equivalent, {summary['unexplained']} unexplained) "
             f"on {summary['device']} with jax {summary['jax']} in {summary['seconds']} s; "
             f"{summary.get('equivalence_rules', 0)} equivalence rules loaded", ""]
    if summary.get("explore"):
        lines[-1:-1] = [f"explore: {summary['explore']['examples']} generated inputs per transform (seed "
                        f"{summary['explore']['seed']}); {summary['killed_by_explore']} mutant(s) passed every "
                        "fixed case and were killed on a generated input"]
    rows = [[pid, str(p["total"]), str(p["killed"])] for pid, p in sorted(summary["per_pattern"].items())]
    lines.append(table(rows, header=["pattern", "mutants", "killed"]))
    if summary["survivors"]:
        lines += ["", "survivors:"]
        for s in summary["survivors"]:
            tag = "equivalent" if s["equivalent"] else "UNEXPLAINED"
            lines.append(f"  {s['pattern']} / {s['implementation']} / {s['mutant']} [{tag}]: {s['reason']}")
    return "\n".join(lines)
