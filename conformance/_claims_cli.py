"""``jaxpat claims``: the seeds' claim tables, regenerated from measurement on the local devices.

A pattern takes part by declaring ``claims.seed_table``::

    seed_table: {table: constructs, row: "lax.fori_loop", cells: {jit: "✓", grad: "fwd"}}

``cells`` are the seed's words, kept verbatim; every cell is re-measured with
the pattern's first implementation and shown beside the seed's, and each
disagreement is listed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jaxpat._util import table as aligned

if TYPE_CHECKING:  # pragma: no cover
    from jaxpat.catalog import SeedTableRow

__all__ = ["TABLES", "add_parser", "build_tables", "claims_command"]

#: The seeds' tables: name → (title, source, columns in order).
TABLES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "constructs": ("Which constructs work under jit and grad", "004_f255994e8172e92e.txt", ("jit", "grad")),
    "loops": ("Loop primitives: memory, differentiation, early exit", "004_f255994e8172e92e.txt",
              ("memory_forward", "memory_backward", "differentiable", "early_stop")),
}
_NORMAL = {"✓*": "✓", "fwd only*": "fwd only", "o(n) traced ops": "o(n)", "both": "both"}


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "claims", help="regenerate the seeds' claim tables from measurement on this machine",
        description="Measure every claim the catalog records from the seeds' tables (jit and grad support, "
        "forward and backward memory growth, early exit) on the first device of the default JAX backend, "
        "and print each table with the seed's claim beside the measured fact, then the discrepancies.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  jaxpat claims\n  jaxpat claims --format markdown > docs/claims-measured.md\n"
        "  jaxpat claims --format json | jq '.discrepancies'\n\n"
        "exit status: 0 the tables were measured (discrepancies with the seeds are findings of the seeds,\n"
        "listed, not failures); 1 the catalog is invalid; 2 usage error; 4 internal error (rerun with\n"
        "--traceback).\n",
    )
    p.add_argument("--format", choices=["table", "markdown", "json"], default="table")
    p.set_defaults(func=claims_command)


def claims_command(ns: argparse.Namespace) -> int:
    result = build_tables()
    if ns.format == "json":
        json.dump(result, sys.stdout, indent=1, ensure_ascii=False)
        print()
    else:
        render = _markdown if ns.format == "markdown" else _text
        print(render(result))
    return 0


# ---------------------------------------------------------------------------
# measurement
# ---------------------------------------------------------------------------

def _measured_cells(pattern: Any, impl: Any, device: Any) -> dict[str, str]:
    import jax

    from ._execute import config_scope
    from ._measure import base_case, claims_for, early_exit_facts, grad_modes, run_jit

    claims = claims_for(pattern, impl)
    case = base_case(pattern, claims)
    cells: dict[str, str] = {}

    def cell(names: tuple[str, ...], fn: Callable[[], dict[str, str]]) -> None:
        try:
            cells.update(fn())
        except Exception as exc:  # a construct that cannot be traced cannot be measured this way
            cells.update({n: f"unmeasurable ({type(exc).__name__})" for n in names})

    def jit_cell() -> dict[str, str]:
        outcome = run_jit(pattern, impl, claims, device)
        return {"jit": "✓" if outcome.ok else f"❌ ({outcome.detail.split(':')[0]})"}

    def grad_cells() -> dict[str, str]:
        modes = grad_modes(pattern, impl, claims, device)
        fwd, rev = modes["forward"].ok, modes["reverse"].ok
        return {
            "grad": "✓" if rev else ("fwd" if fwd else f"❌ ({modes['reverse'].detail.split(':')[0]})"),
            "differentiable": "both" if fwd and rev else ("fwd only" if fwd else "no"),
        }

    def early_cell() -> dict[str, str]:
        return {"early_stop": "yes" if early_exit_facts(pattern, impl, claims, device).stops_on_state else "no"}

    with config_scope(case.config), jax.default_device(device):
        cell(("jit",), jit_cell)
        cell(("grad", "differentiable"), grad_cells)
        cell(("early_stop",), early_cell)
        if claims.memory is not None:
            cell(("memory_forward", "memory_backward"), lambda: _memory_cells(pattern, impl, claims, device))
    return cells


_BIG_O = {"constant": "O(1)", "linear": "O(n)", "sublinear": "O(<n)"}


def _memory_cells(pattern: Any, impl: Any, claims: Any, device: Any) -> dict[str, str]:
    from ._measure import memory_figures

    figs = memory_figures(pattern, impl, claims, device)
    out = {}
    fwd, bwd = figs.forward_growth(), figs.backward_growth()
    if figs.temp_bytes is None or fwd is None:
        out["memory_forward"] = "unmeasured"
    else:
        out["memory_forward"] = f"{_BIG_O[fwd]} ({figs.temp_bytes[0]}→{figs.temp_bytes[1]} B)"
    if figs.residual_bytes is None or bwd is None:
        out["memory_backward"] = f"N/A ({type(figs.backward_error).__name__})"
    else:
        out["memory_backward"] = f"{_BIG_O[bwd]} ({figs.residual_bytes[0]}→{figs.residual_bytes[1]} B)"
    return out


def _same(seed: str, measured: str) -> bool:
    def norm(s: str) -> str:
        s = s.strip().lower()
        s = _NORMAL.get(s, s)
        return s.split(" (")[0].strip()
    return norm(seed) == norm(measured)


def build_tables() -> dict[str, Any]:
    """Measure every ``seed_table`` row of the catalog; return the tables and the discrepancies."""
    import jax
    from jaxpat.patterns import load_registry

    registry = load_registry()
    device = jax.devices()[0]
    tables: dict[str, Any] = {
        name: {"title": title, "seed": seed, "columns": list(cols), "rows": []}
        for name, (title, seed, cols) in TABLES.items()
    }
    discrepancies = []
    for pattern in registry.catalog:
        for spec in pattern.claims.settings.seed_table or ():
            impls = registry.implementations(pattern.id)
            chosen = [i for i in impls if spec.implementation in (None, i.name, i.id)]
            if not chosen:
                continue
            discrepancies += _row(tables[spec.table], pattern, chosen[0], spec, device)
    return {
        "device": f"{device.platform}:{device.id} ({device.device_kind})",
        "jax": jax.__version__,
        "tables": tables,
        "discrepancies": discrepancies,
    }


def _row(table: dict[str, Any], pattern: Any, impl: Any, spec: SeedTableRow, device: Any) -> list[dict[str, Any]]:
    """Measure one seed-table row into ``table``; return its disagreements with the seed."""
    discrepancies = []
    measured = _measured_cells(pattern, impl, device)
    row = {"row": spec.row, "pattern": pattern.id, "implementation": impl.id, "cells": {}}
    for col in table["columns"]:
        seed_cell = spec.cells.get(col)
        got = measured.get(col, "unmeasured")
        agree = None if seed_cell is None else _same(seed_cell, got)
        row["cells"][col] = {"seed": seed_cell, "measured": got, "agree": agree}
        if agree is False:
            discrepancies.append({
                "table": spec.table, "row": spec.row, "column": col, "seed": seed_cell,
                "measured": got, "pattern": pattern.id, "note": spec.note or "",
            })
    table["rows"].append(row)
    return discrepancies


# ---------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------

def _cell(c: dict[str, Any]) -> str:
    mark = {True: "", False: " ≠", None: ""}[c["agree"]]
    seed = c["seed"] if c["seed"] is not None else "—"
    return f"seed {seed} | measured {c['measured']}{mark}"


def _text(result: dict[str, Any]) -> str:
    lines = [f"measured on {result['device']} with jax {result['jax']}", ""]
    for table in result["tables"].values():
        lines.append(f"{table['title']} (seed {table['seed']})")
        header = ["construct", *table["columns"]]
        rows = [[r["row"], *(_cell(r["cells"][c]) for c in table["columns"])] for r in table["rows"]]
        lines.append(aligned(rows, header=header))
        lines.append("")
    lines.append(f"discrepancies ({len(result['discrepancies'])}): where the seed is wrong or imprecise")
    for d in result["discrepancies"]:
        note = f" — {d['note']}" if d.get("note") else ""
        lines.append(f"  {d['row']} / {d['column']}: seed says {d['seed']!r}, measured {d['measured']!r}{note}")
    return "\n".join(lines)


def _markdown(result: dict[str, Any]) -> str:
    lines = [f"Measured on {result['device']} with jax {result['jax']}.", ""]
    for table in result["tables"].values():
        lines += [f"### {table['title']}", "", f"Seed: `{table['seed']}`. Each cell: the seed's claim → measured.", ""]
        lines.append("| construct | " + " | ".join(table["columns"]) + " |")
        lines.append("|---" * (len(table["columns"]) + 1) + "|")
        for r in table["rows"]:
            cells = []
            for c in table["columns"]:
                cell = r["cells"][c]
                flag = " **≠**" if cell["agree"] is False else ""
                cells.append(f"{cell['seed'] or '—'} → {cell['measured']}{flag}")
            lines.append(f"| {r['row']} (`{r['pattern']}`) | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["### Where the seed is wrong or imprecise", ""]
    for d in result["discrepancies"]:
        note = f" {d['note']}" if d.get("note") else ""
        lines.append(f"- **{d['row']}**, {d['column']}: the seed says `{d['seed']}`, measured `{d['measured']}`.{note}")
    return "\n".join(lines)
