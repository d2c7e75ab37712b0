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

if TYPE_CHECKING:  # pragma: no cover
    from jaxpat.catalog import SeedTableRow

__all__ = ["TABLES", "add_parser", "build_tables", "claims_command"]

#: The seeds by file, with the title they are named by (seed 004 has none of its own: it is described).
SEED_TITLES: dict[str, str] = {
    "000_4fac8296aef13308.txt": "JAX Arange on Loop Carry",
    "001_66c38bafc46abfbc.txt": "JAX patterns (NumPyro)",
    "002_4221ffb14d3475f0.txt": "NumPy & JAX NumPy (Part 1), Google for Developers",
    "003_978648b1cf5de4b3.txt": "Yet another JAX tutorial (Kevin Murphy)",
    "004_f255994e8172e92e.txt": "notes on JAX: vmap, jit, control flow, loops, checkpointing (untitled)",
}
#: Output width of the text rendering.
WIDTH = 100

#: The seeds' tables: name → (title, source, columns in order).
TABLES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "constructs": ("Which constructs work under jit and grad", "004_f255994e8172e92e.txt", ("jit", "grad")),
    "loops": ("Loop primitives: memory, differentiation, early exit", "004_f255994e8172e92e.txt",
              ("memory_forward", "memory_backward", "differentiable", "early_stop", "unrolls")),
}
#: What the ``*`` in a table's cells and rows stands for, in the seed's words.
FOOTNOTES: dict[str, str] = {
    "constructs": "argument-value-independent loop condition - unrolls the loop",
    "loops": "With static bounds (start, stop known at compile time), fori_loop unrolls and becomes fully "
             "differentiable but uses O(n) memory",
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


def _size_spec(claims: Any) -> tuple[str, list[int]] | None:
    """The size parameter and the sizes the claims measure at (program_size, memory, early_exit), as
    :func:`._claim_verdicts.growth_sizes` widens them."""
    from ._claim_verdicts import growth_sizes

    for spec in (claims.program_size, claims.memory, getattr(claims, "early_exit", None)):
        if spec is not None and hasattr(spec, "param"):
            return spec.param, growth_sizes(spec.sizes)
    return None


def _jit_cell(pattern: Any, impl: Any, claims: Any, device: Any) -> dict[str, Cell]:
    from ._measure import run_jit

    outcome = run_jit(pattern, impl, claims, device)
    if outcome.ok:
        return {"jit": ("✓", "jax.jit(f) ran on the base case")}
    return {"jit": (f"❌ ({outcome.detail.split(':')[0]})", f"jax.jit(f) raised {outcome.detail}")}


def _grad_cells(pattern: Any, impl: Any, claims: Any, device: Any) -> dict[str, Cell]:
    """The seed's grad column is ``jax.grad`` (reverse mode): ✓ only when both modes work; ``rev only`` when
    the jvp raises (never a ✓ beside an exception), ``fwd`` when only forward mode works."""
    from ._measure import grad_modes

    modes = grad_modes(pattern, impl, claims, device)
    fwd, rev = modes["forward"], modes["reverse"]
    where = "inside jax.jit, arguments traced" if claims.settings.under_jit else "eagerly"
    evidence = f"{where}: jax.jvp {fwd.detail}; jax.vjp + pullback {rev.detail}"
    if fwd.ok and rev.ok:
        grad = "✓"
    elif rev.ok:
        grad = f"rev only (jvp: {fwd.detail.split(':')[0]})"
    elif fwd.ok:
        grad = "fwd"
    else:
        grad = f"❌ ({rev.detail.split(':')[0]})"
    return {
        "grad": (grad, evidence),
        "differentiable": ("both" if fwd.ok and rev.ok else ("fwd only" if fwd.ok else
                                                             ("rev only" if rev.ok else "no")), evidence),
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
                 size: tuple[str, list[int]]) -> dict[str, Cell]:
    from ._claim_verdicts import growth_fit
    from ._measure import base_args, program_facts

    param, sizes = size
    facts = [program_facts(pattern, impl, base_args(pattern, claims, device, n, param), compiled=True)
             for n in sizes]
    hlo = [f.compiled.instructions for f in facts if f.compiled is not None]
    loops = [f.compiled.while_loops for f in facts if f.compiled is not None]
    trips = [f.trips for f in facts]
    fit = growth_fit(sizes, hlo)
    evidence = (f"compiled program: {_arrow(hlo)} HLO instructions ({fit['slope']:g} per step), {_arrow(loops)} "
                f"while loops, at {param}={_arrow(sizes)}; loop iterations {_arrow(trips)}")
    if fit["growth"] == "linear" and loops[-1] == 0:
        return {"unrolls": ("yes", evidence)}
    if fit["growth"] == "constant" and trips[-1] is not None and trips[0] is not None and trips[-1] > trips[0]:
        return {"unrolls": ("no", evidence)}
    return {"unrolls": ("inconclusive", evidence)}


def _arrow(values: Any) -> str:
    return " → ".join(str(v) for v in values)


def _traced_ops_cell(pattern: Any, impl: Any, claims: Any, device: Any, size: tuple[str, list[int]],
                     col: str) -> dict[str, Cell]:
    """"O(n) traced ops": the size of the program (forward), or of the reverse-mode program (backward)."""
    from ._claim_verdicts import growth
    from ._measure import base_args, program_facts, reverse_program_size

    param, sizes = size
    args = [base_args(pattern, claims, device, n, param) for n in sizes]
    if col == "memory_forward":
        counts = [program_facts(pattern, impl, a).equations for a in args]
        what = "equations in the traced program (jax.make_jaxpr)"
    else:
        counts = [reverse_program_size(pattern, impl, claims, a) for a in args]
        what = "equations in the traced reverse-mode program (jax.make_jaxpr of the vjp, pullback applied)"
    g = growth(sizes, counts)
    return {col: (f"{_BIG_O[g]} traced ops", f"{_arrow(counts)} {what} at {param}={_arrow(sizes)}: {g}")}


_BIG_O = {"constant": "O(1)", "linear": "O(n)", "superlinear": "O(>n)", "sublinear": "inconclusive (O(<n))",
          "irregular": "inconclusive (irregular)"}


def _memory_cells(pattern: Any, impl: Any, claims: Any, device: Any) -> dict[str, Cell]:
    from ._measure import memory_figures

    figs = memory_figures(pattern, impl, claims, device)
    sizes, param = list(figs.sizes), figs.param
    out: dict[str, Cell] = {}
    fwd, bwd = figs.forward_growth(), figs.backward_growth()
    if figs.temp_bytes is None or fwd is None:
        out["memory_forward"] = ("unmeasured", "the backend returns no memory analysis")
    else:
        trips = _arrow(figs.trips) if figs.trips else "unmeasured"
        evidence = (f"compiled temp + output {_arrow(figs.forward_bytes)} B (temp {_arrow(figs.temp_bytes)}), "
                    f"loop iterations {trips} at {param}={_arrow(sizes)}")
        why = figs.vacuous() if fwd == "constant" else None
        out["memory_forward"] = ("inconclusive", f"{evidence}; {why}") if why else (_BIG_O[fwd], evidence)
    if figs.residual_bytes is None or bwd is None:
        err = figs.backward_error
        out["memory_backward"] = (f"N/A ({type(err).__name__})",
                                  f"reverse mode raises {first_line(err, 120) if err is not None else 'nothing'}")
    else:
        out["memory_backward"] = (_BIG_O[bwd], f"residuals jax.vjp saves: {_arrow(figs.residual_bytes)} B at "
                                               f"{param}={_arrow(sizes)}")
    return out


def _same(seed: str, measured: str) -> bool | None:
    """Whether the seed's cell and the measured one agree; None when the measurement proves nothing.
    ``rev only`` agrees with a grad ✓ (the seed's grad column is jax.grad, reverse mode)."""
    def norm(s: str) -> str:
        s = s.strip().lower()
        s = _NORMAL.get(s, s)
        return s.split(" (")[0].strip()
    m = norm(measured)
    if m.startswith(("inconclusive", "unmeasur")):
        return None
    if m == "rev only" and norm(seed) == "✓":
        return True
    return norm(seed) == m


def build_tables(*, speed: bool = True) -> dict[str, Any]:
    """Measure every ``seed_table`` row of the catalog (and, with ``speed``, every speed claim); return the
    tables, the speed claims and the discrepancies."""
    import jax

    from jaxpat.patterns import load_registry

    registry = load_registry()
    device = jax.devices()[0]
    tables: dict[str, Any] = {
        name: {"title": title, "seed": seed, "seed_title": SEED_TITLES.get(seed, seed), "columns": list(cols),
               "footnote": FOOTNOTES.get(name, ""), "rows": []}
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

def _wrap(text: str, indent: int, first: str = "") -> list[str]:
    """``first`` then ``text`` wrapped to :data:`WIDTH` columns, continuation lines indented by ``indent``."""
    import textwrap

    return textwrap.wrap(first + text, WIDTH, initial_indent=" " * indent, subsequent_indent=" " * (indent + 2),
                         break_on_hyphens=False) or [" " * indent + first.rstrip()]


def _seed_line(table: dict[str, Any]) -> str:
    """The seed by its title (the file name means nothing to a reader; ``--format json`` keeps it)."""
    title = table.get("seed_title") or table["seed"]
    return f'seed "{title}"'


def _starred(text: str | None, footnote: str) -> str:
    """``text`` with the seed's footnote spelled out when it carries a ``*``."""
    if text is None:
        return "—"
    return f"{text} (* = {footnote})" if "*" in text and footnote else text


def _text(result: dict[str, Any]) -> str:
    """The tables one row at a time, one line per cell, evidence and notes wrapped: at most WIDTH columns."""
    lines = [f"measured on {result['device']} with jax {result['jax']}",
             "each cell: the seed's claim | the measured fact (≠: they disagree), then the evidence", ""]
    for table in result["tables"].values():
        lines.append(table["title"])
        lines += _wrap(_seed_line(table), 2)
        if table.get("footnote"):
            lines += _wrap(f"* in the seed: {table['footnote']}", 2)
        lines.append("")
        width = max((len(c) for c in table["columns"]), default=0)
        for r in table["rows"]:
            lines += _wrap(f"{r['row']} — {r['pattern']}, measured on {r['implementation']}", 2)
            for c in table["columns"]:
                cell = r["cells"][c]
                mark = "  ≠" if cell["agree"] is False else ""
                seed = _starred(cell["seed"], table.get("footnote", ""))
                lines += _wrap(f"seed {seed} | measured {cell['measured']}{mark}", 4, f"{c.ljust(width)}  ")
                if cell.get("evidence"):
                    lines += _wrap(cell["evidence"], 6 + width)
            if r.get("note"):
                lines += _wrap(r["note"], 4, "note: ")
            lines.append("")
    if result.get("speed"):
        lines += _wrap(f"Speed claims on {result['speed'][0]['device']} (interleaved timing in one process; the "
                       "noise band is the range over rounds: a claim inside it, or one whose time budget ran "
                       "out, is inconclusive)", 0)
        for c in result["speed"]:
            band = f"{c['band'][0]}–{c['band'][1]}×" if c.get("band") else "—"
            measured = f"{c['speedup']}×" if c.get("speedup") is not None else "—"
            seed = f"{c['seed_figure']}×" if c.get("seed_figure") else "—"
            lines += _wrap(f"{c['implementation']} vs {c['baseline']}", 2, f"{c['pattern']}: ")
            lines += _wrap(f"seed {seed}, claimed ≥ {c['at_least']}×, measured {measured} (band {band}): "
                           f"{c['verdict']}", 4)
        lines.append("")
    lines.append(f"discrepancies ({len(result['discrepancies'])}): where the seed is wrong or imprecise")
    for d in result["discrepancies"]:
        impl = f" [{d['implementation']}]" if d.get("implementation") else ""
        lines += _wrap(f"{d['row']} / {d['column']}{impl}: seed says {d['seed']!r}, measured {d['measured']!r}", 2)
        if d.get("evidence"):
            lines += _wrap(d["evidence"], 6, "evidence: ")
        if d.get("note"):
            lines += _wrap(d["note"], 6, "note: ")
    return "\n".join(lines)


def _markdown(result: dict[str, Any]) -> str:
    lines = [f"Measured on {result['device']} with jax {result['jax']}.", ""]
    for table in result["tables"].values():
        lines += [f"### {table['title']}", "", f"Seed: \"{table.get('seed_title') or table['seed']}\". "
                  "Each cell: the seed's claim → measured."
                  + (f" `*` in the seed: {table['footnote']}." if table.get("footnote") else ""), ""]
        lines.append("| construct | " + " | ".join(table["columns"]) + " | measured on |")
        lines.append("|---" * (len(table["columns"]) + 2) + "|")
        for r in table["rows"]:
            cells = []
            for c in table["columns"]:
                cell = r["cells"][c]
                flag = " **≠**" if cell["agree"] is False else ""
                cells.append(f"{cell['seed'] or '—'} → {cell['measured']}{flag}")
            lines.append(f"| {r['row']} (`{r['pattern']}`) | " + " | ".join(cells) + f" | `{r['implementation']}` |")
        notes = [r for r in table["rows"] if r.get("note")]
        if notes:
            lines.append("")
            lines += [f"- *{r['row']}*: {r['note']}" for r in notes]
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
