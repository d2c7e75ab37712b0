"""``jaxpat claims``: the seeds' claim tables, regenerated from measurement on the local devices.

A pattern takes part by declaring ``claims.seed_table``::

    seed_table: {table: constructs, row: "lax.fori_loop", cells: {jit: "✓", grad: "fwd"}}

``cells`` are the seed's words, kept verbatim; every cell is re-measured with
the pattern's first implementation and shown beside the seed's, and each
disagreement is listed.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jaxpat._util import first_line
from jaxpat._util import table as aligned

if TYPE_CHECKING:  # pragma: no cover
    from jaxpat.catalog import SeedTableRow

__all__ = ["TABLES", "add_parser", "build_tables", "claims_command"]

#: The seeds' tables: name → (title, source, columns in order).
TABLES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "constructs": ("Which constructs work under jit and grad", "004_f255994e8172e92e.txt", ("jit", "grad")),
    "loops": ("Loop primitives: memory, differentiation, early exit", "004_f255994e8172e92e.txt",
              ("memory_forward", "memory_backward", "differentiable", "early_stop", "unrolls")),
}
_NORMAL = {"✓*": "✓", "fwd only*": "fwd only", "both": "both"}


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
    p.add_argument("--no-speed", action="store_true", help="skip the speed claims (they take a few seconds each)")
    p.set_defaults(func=claims_command)


def claims_command(ns: argparse.Namespace) -> int:
    result = build_tables(speed=not ns.no_speed)
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

#: A measured cell: what was measured, and the figures that show it.
Cell = tuple[str, str]


def _measured_cells(pattern: Any, impl: Any, device: Any, seed_cells: Any) -> dict[str, Cell]:
    """Every column's measured value and evidence for ``impl``; ``seed_cells`` say what a cell states
    (a memory cell that says "traced ops" is measured on the program, not on memory)."""
    import jax

    from ._execute import config_scope
    from ._measure import base_case, claims_for

    claims = claims_for(pattern, impl)
    case = base_case(pattern, claims)
    cells: dict[str, Cell] = {}

    def cell(names: tuple[str, ...], fn: Callable[[], dict[str, Cell]]) -> None:
        try:
            cells.update(fn())
        except Exception as exc:  # a construct that cannot be traced cannot be measured this way
            cells.update({n: (f"unmeasurable ({type(exc).__name__})", first_line(exc, 160)) for n in names})

    with config_scope(case.config), jax.default_device(device):
        cell(("jit",), lambda: _jit_cell(pattern, impl, claims, device))
        cell(("grad", "differentiable"), lambda: _grad_cells(pattern, impl, claims, device))
        cell(("early_stop",), lambda: _early_cell(pattern, impl, claims, device))
        size = _size_spec(claims)
        if size is not None:
            cell(("unrolls",), lambda: _unroll_cell(pattern, impl, claims, device, size))
        for col in ("memory_forward", "memory_backward"):
            if "traced ops" in str(seed_cells.get(col, "")) and size is not None:
                cell((col,), functools.partial(_traced_ops_cell, pattern, impl, claims, device, size, col))
        if claims.memory is not None:
            todo = tuple(c for c in ("memory_forward", "memory_backward") if c not in cells)
            cell(todo, lambda: {k: v for k, v in _memory_cells(pattern, impl, claims, device).items() if k in todo})
    return cells


def _size_spec(claims: Any) -> tuple[str, tuple[int, int]] | None:
    """The size parameter and the two sizes the claims measure at (program_size, memory, early_exit)."""
    for spec in (claims.program_size, claims.memory, getattr(claims, "early_exit", None)):
        if spec is not None and hasattr(spec, "param"):
            sizes = sorted(spec.sizes)
            return spec.param, (sizes[0], sizes[-1])
    return None


def _jit_cell(pattern: Any, impl: Any, claims: Any, device: Any) -> dict[str, Cell]:
    from ._measure import run_jit

    outcome = run_jit(pattern, impl, claims, device)
    if outcome.ok:
        return {"jit": ("✓", "jax.jit(f) ran on the base case")}
    return {"jit": (f"❌ ({outcome.detail.split(':')[0]})", f"jax.jit(f) raised {outcome.detail}")}


def _grad_cells(pattern: Any, impl: Any, claims: Any, device: Any) -> dict[str, Cell]:
    from ._measure import grad_modes

    modes = grad_modes(pattern, impl, claims, device)
    fwd, rev = modes["forward"], modes["reverse"]
    where = "inside jax.jit, arguments traced" if claims.settings.under_jit else "eagerly"
    evidence = f"{where}: jax.jvp {fwd.detail}; jax.vjp + pullback {rev.detail}"
    return {
        "grad": ("✓" if rev.ok else ("fwd" if fwd.ok else f"❌ ({rev.detail.split(':')[0]})"), evidence),
        "differentiable": ("both" if fwd.ok and rev.ok else ("fwd only" if fwd.ok else "no"), evidence),
    }


def _early_cell(pattern: Any, impl: Any, claims: Any, device: Any) -> dict[str, Cell]:
    from ._measure import early_exit_facts, early_exit_work

    facts = early_exit_facts(pattern, impl, claims, device)
    if facts.stops_on_state:
        return {"early_stop": ("yes", "the traced program has a while loop whose condition reads state its body "
                               "computes")}
    spec = getattr(claims, "early_exit", None)
    if spec is not None and hasattr(spec, "param"):
        work = early_exit_work(pattern, impl, claims, device)
        return {"early_stop": (work.verdict, work.evidence)}
    what = "only counted while loops" if facts.while_loops else "no while loop"
    return {"early_stop": ("no", f"the traced program has {what}: it runs to its bound")}


def _unroll_cell(pattern: Any, impl: Any, claims: Any, device: Any,
                 size: tuple[str, tuple[int, int]]) -> dict[str, Cell]:
    from ._measure import base_args, growth, program_facts

    param, (a, b) = size
    fa = program_facts(pattern, impl, base_args(pattern, claims, device, a, param), compiled=True)
    fb = program_facts(pattern, impl, base_args(pattern, claims, device, b, param), compiled=True)
    assert fa.compiled is not None
    assert fb.compiled is not None
    ha, hb = fa.compiled.instructions, fb.compiled.instructions
    g = growth(ha, hb, a, b, slack=0)
    evidence = (f"compiled program: {ha} → {hb} HLO instructions, {fa.compiled.while_loops} → "
                f"{fb.compiled.while_loops} while loops, at {param}={a} → {b}; loop iterations {fa.trips} → {fb.trips}")
    if g == "linear" and fb.compiled.while_loops == 0:
        return {"unrolls": ("yes", evidence)}
    if g == "constant" and fb.trips is not None and fa.trips is not None and fb.trips > fa.trips:
        return {"unrolls": ("no", evidence)}
    return {"unrolls": ("inconclusive", evidence)}


def _traced_ops_cell(pattern: Any, impl: Any, claims: Any, device: Any, size: tuple[str, tuple[int, int]],
                     col: str) -> dict[str, Cell]:
    """"O(n) traced ops": the size of the program (forward), or of the reverse-mode program (backward)."""
    from ._measure import base_args, growth, program_facts, reverse_program_size

    param, (a, b) = size
    args_a = base_args(pattern, claims, device, a, param)
    args_b = base_args(pattern, claims, device, b, param)
    if col == "memory_forward":
        fa, fb = program_facts(pattern, impl, args_a), program_facts(pattern, impl, args_b)
        na, nb = fa.equations, fb.equations
        what = "equations in the traced program (jax.make_jaxpr)"
    else:
        na, nb = (reverse_program_size(pattern, impl, claims, args) for args in (args_a, args_b))
        what = "equations in the traced reverse-mode program (jax.make_jaxpr of the vjp, pullback applied)"
    g = growth(na, nb, a, b, slack=0)
    return {col: (f"{_BIG_O[g]} traced ops", f"{na} → {nb} {what} at {param}={a} → {b}: {g}")}


_BIG_O = {"constant": "O(1)", "linear": "O(n)", "sublinear": "O(<n)"}


def _memory_cells(pattern: Any, impl: Any, claims: Any, device: Any) -> dict[str, Cell]:
    from ._measure import memory_figures

    figs = memory_figures(pattern, impl, claims, device)
    (a, b), param = figs.sizes, figs.param
    out: dict[str, Cell] = {}
    fwd, bwd = figs.forward_growth(), figs.backward_growth()
    if figs.temp_bytes is None or fwd is None:
        out["memory_forward"] = ("unmeasured", "the backend returns no memory analysis")
    else:
        (ta, tb), (oa, ob) = figs.temp_bytes, figs.output_bytes or (0, 0)
        trips = f"{figs.trips[0]} → {figs.trips[1]}" if figs.trips else "unmeasured"
        evidence = f"compiled temp {ta} → {tb} B, output {oa} → {ob} B, loop iterations {trips} at {param}={a} → {b}"
        why = figs.vacuous() if fwd == "constant" else None
        out["memory_forward"] = ("inconclusive", f"{evidence}; {why}") if why else (_BIG_O[fwd], evidence)
    if figs.residual_bytes is None or bwd is None:
        err = figs.backward_error
        out["memory_backward"] = (f"N/A ({type(err).__name__})",
                                  f"reverse mode raises {first_line(err, 120) if err is not None else 'nothing'}")
    else:
        (ra, rb) = figs.residual_bytes
        out["memory_backward"] = (_BIG_O[bwd], f"residuals jax.vjp saves: {ra} → {rb} B at {param}={a} → {b}")
    return out


def _same(seed: str, measured: str) -> bool | None:
    """Whether the seed's cell and the measured one agree; None when the measurement proves nothing."""
    def norm(s: str) -> str:
        s = s.strip().lower()
        s = _NORMAL.get(s, s)
        return s.split(" (")[0].strip()
    m = norm(measured)
    if m.startswith(("inconclusive", "unmeasur")):
        return None
    return norm(seed) == m


def build_tables(*, speed: bool = True) -> dict[str, Any]:
    """Measure every ``seed_table`` row of the catalog (and, with ``speed``, every speed claim); return the
    tables, the speed claims and the discrepancies."""
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
        "speed": _speed_claims(registry, device) if speed else [],
        "discrepancies": discrepancies,
    }


def _speed_claims(registry: Any, device: Any) -> list[dict[str, Any]]:
    """Every ``speedup`` claim measured on ``device``: the seed's figure beside the measured ratio and band."""
    from ._measure import claims_for, measure

    out = []
    for pattern in registry.catalog:
        impls = registry.implementations(pattern.id)
        for impl in impls:
            spec = claims_for(pattern, impl).speedup
            if spec is None:
                continue
            try:
                r = measure("speedup", pattern, impl, device, impls)
                m = r.measured
                out.append({"pattern": pattern.id, "implementation": impl.id, "baseline": m["baseline"],
                            "at_least": spec.at_least, "seed_figure": spec.seed_figure, "speedup": m["speedup"],
                            "band": m["band"], "verdict": r.verdict, "message": r.message,
                            "device": f"{device.platform}:{device.id} ({device.device_kind})"})
            except Exception as exc:
                out.append({"pattern": pattern.id, "implementation": impl.id, "baseline": spec.baseline,
                            "at_least": spec.at_least, "seed_figure": spec.seed_figure, "speedup": None,
                            "band": None, "verdict": "inconclusive", "message": f"could not measure: {first_line(exc)}",
                            "device": f"{device.platform}:{device.id}"})
    return out


def _speed_rows(result: dict[str, Any]) -> list[list[str]]:
    rows = []
    for c in result.get("speed", []):
        band = f"{c['band'][0]}–{c['band'][1]}×" if c.get("band") else "—"
        measured = f"{c['speedup']}×" if c.get("speedup") is not None else "—"
        seed = f"{c['seed_figure']}×" if c.get("seed_figure") else "—"
        rows.append([c["pattern"], f"{c['implementation']} vs {c['baseline']}", seed, f"≥ {c['at_least']}×",
                     measured, band, c["verdict"]])
    return rows


_SPEED_HEADER = ["pattern", "implementation vs baseline", "seed", "claimed", "measured", "noise band", "verdict"]


def _row(table: dict[str, Any], pattern: Any, impl: Any, spec: SeedTableRow, device: Any) -> list[dict[str, Any]]:
    """Measure one seed-table row into ``table``; return its disagreements with the seed, with the evidence."""
    discrepancies = []
    measured = _measured_cells(pattern, impl, device, spec.cells)
    row = {"row": spec.row, "pattern": pattern.id, "implementation": impl.id, "note": spec.note or "", "cells": {}}
    for col in table["columns"]:
        seed_cell = spec.cells.get(col)
        got, evidence = measured.get(col, ("unmeasured", ""))
        agree = None if seed_cell is None else _same(seed_cell, got)
        row["cells"][col] = {"seed": seed_cell, "measured": got, "agree": agree, "evidence": evidence}
        if agree is False:
            discrepancies.append({
                "table": spec.table, "row": spec.row, "column": col, "seed": seed_cell,
                "measured": got, "evidence": evidence, "pattern": pattern.id, "implementation": impl.id,
                "note": spec.note or "",
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
        header = ["construct", *table["columns"], "measured on"]
        rows = [[r["row"], *(_cell(r["cells"][c]) for c in table["columns"]), r["implementation"]]
                for r in table["rows"]]
        lines.append(aligned(rows, header=header))
        lines.append("")
    lines.append("evidence, per cell:")
    for table in result["tables"].values():
        for r in table["rows"]:
            for c in table["columns"]:
                cell = r["cells"][c]
                if cell.get("evidence"):
                    lines.append(f"  {r['row']} / {c} [{r['implementation']}]: {cell['measured']} — {cell['evidence']}")
    lines.append("")
    if result.get("speed"):
        lines.append(f"Speed claims on {result['speed'][0]['device']} (interleaved timing in one process; the noise "
                     "band is the range over rounds: a claim inside it is inconclusive)")
        lines.append(aligned(_speed_rows(result), header=_SPEED_HEADER))
        lines.append("")
    lines.append(f"discrepancies ({len(result['discrepancies'])}): where the seed is wrong or imprecise")
    for d in result["discrepancies"]:
        note = f"\n      note: {d['note']}" if d.get("note") else ""
        impl = f" [{d['implementation']}]" if d.get("implementation") else ""
        evidence = f"\n      evidence: {d['evidence']}" if d.get("evidence") else ""
        lines.append(f"  {d['row']} / {d['column']}{impl}: seed says {d['seed']!r}, measured {d['measured']!r}"
                     f"{evidence}{note}")
    return "\n".join(lines)


def _markdown(result: dict[str, Any]) -> str:
    lines = [f"Measured on {result['device']} with jax {result['jax']}.", ""]
    for table in result["tables"].values():
        lines += [f"### {table['title']}", "", f"Seed: `{table['seed']}`. Each cell: the seed's claim → measured.", ""]
        lines.append("| construct | " + " | ".join(table["columns"]) + " | measured on |")
        lines.append("|---" * (len(table["columns"]) + 2) + "|")
        for r in table["rows"]:
            cells = []
            for c in table["columns"]:
                cell = r["cells"][c]
                flag = " **≠**" if cell["agree"] is False else ""
                cells.append(f"{cell['seed'] or '—'} → {cell['measured']}{flag}")
            lines.append(f"| {r['row']} (`{r['pattern']}`) | " + " | ".join(cells) + f" | `{r['implementation']}` |")
        lines.append("")
    if result.get("speed"):
        lines += ["### Speed claims", "", f"Measured on {result['speed'][0]['device']}, interleaved in one process; "
                  "the noise band is the range over rounds, and a claim inside it is inconclusive.", "",
                  "| " + " | ".join(_SPEED_HEADER) + " |", "|---" * len(_SPEED_HEADER) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in _speed_rows(result)]
        lines.append("")
    lines += ["### Where the seed is wrong or imprecise", ""]
    for d in result["discrepancies"]:
        note = f" {d['note']}" if d.get("note") else ""
        evidence = f" Evidence: {d['evidence']}." if d.get("evidence") else ""
        impl = f" (measured on `{d['implementation']}`)" if d.get("implementation") else ""
        lines.append(f"- **{d['row']}**, {d['column']}{impl}: the seed says `{d['seed']}`, measured "
                     f"`{d['measured']}`.{evidence}{note}")
    return "\n".join(lines)
