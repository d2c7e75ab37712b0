"""Claims are measured, and a false claim is caught with the figures that contradict it."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

jax = pytest.importorskip("jax")

from jaxpat import catalog  # noqa: E402
from jaxpat.conformance import _measure as _claims  # noqa: E402
from jaxpat.patterns import Implementation, load_registry  # noqa: E402

CATALOG = """\
version: 1
patterns:
  - id: t-sorted-sum
    family: arrays
    title: Sum of sorted sines
    summary: Sorting needs temporary memory proportional to n.
    source: {doc: tests}
    signature: {args: [x, n], static: [n]}
    claims:
      memory: {param: n, sizes: [100, 1000], forward: constant}
      jit: true
      grad: {forward: true, reverse: true}
      early_exit: true
    cases:
      - id: ten
        args: {x: {$array: 0.0, dtype: float32}, n: 10}
        expect: {$array: 0.0, dtype: float32}
        provenance: {kind: math, note: "sin(0) = 0"}
"""


def sorted_sum(x, n):
    import jax.numpy as jnp

    return jnp.sum(jnp.sort(jnp.sin(jnp.arange(n) * x)))


@pytest.fixture
def pattern(tmp_path: Path) -> catalog.Pattern:
    path = tmp_path / "c.yaml"
    path.write_text(CATALOG)
    return catalog.load_files([path]).get("t-sorted-sum")


@pytest.fixture
def impl() -> Implementation:
    return Implementation("t-sorted-sum", "sort", sorted_sum).bound("test")


def test_false_memory_claim_is_caught_with_sizes_and_bytes(pattern: catalog.Pattern, impl: Implementation) -> None:
    """Claiming constant memory for a function whose temp memory grows linearly is violated, with the figures."""
    result = _claims.measure("memory", pattern, impl, jax.devices()[0])
    assert result.verdict == "violated"
    temp = result.measured["forward"]["temp_bytes"]
    assert temp[-1] > 5 * temp[0]
    assert result.measured["sizes"] == [100, 316, 1000]  # the catalog's two sizes and their geometric mean
    assert " → ".join(map(str, temp)) in result.message
    assert "at n=100 → 316 → 1000" in result.message
    assert "linear (claimed constant)" in result.message


def test_true_claims_hold(pattern: catalog.Pattern, impl: Implementation) -> None:
    """jit and both grad modes work for this function, as claimed."""
    device = jax.devices()[0]
    assert _claims.measure("jit", pattern, impl, device).verdict == "held"
    assert _claims.measure("grad", pattern, impl, device).verdict == "held"


def test_false_early_exit_claim_is_caught(pattern: catalog.Pattern, impl: Implementation) -> None:
    """A program without a data-dependent while loop cannot exit early; the claim is violated."""
    result = _claims.measure("early_exit", pattern, impl, jax.devices()[0])
    assert result.verdict == "violated"
    assert "no `while` loop" in result.message


def test_catalog_loop_claims_hold_and_fori_does_not_unroll() -> None:
    """The catalog's loop claims hold as recorded: a static-bound fori_loop keeps one scan (no unrolling)."""
    registry = load_registry()
    device = jax.devices()[0]
    p = registry.catalog.get("loop-fori-static-bounds")
    fori = registry.get("reference.fori_loop", pattern=p.id)
    result = _claims.measure("program_size", p, fori, device)
    assert result.verdict == "held"
    assert result.measured["growth"] == "constant"
    assert result.measured["loop_primitives"] == ["scan"]
    assert "unrolls" in (p.claims.settings.seed_claim or "")  # the seed's wording is kept beside the measured truth


def test_checkpoint_reports_saving_factor() -> None:
    """jax.checkpoint on the scan body saves residuals; the factor is measured and reported."""
    registry = load_registry()
    p = registry.catalog.get("checkpoint-scan-body")
    impl = registry.get("reference.with_checkpoint", pattern=p.id)
    result = _claims.measure("residuals", p, impl, jax.devices()[0], registry.implementations(p.id))
    deviation = [d for d in p.deviations if d.when.claim == "residuals"]
    if any(d.matches(claim="residuals", jax=jax.__version__) for d in deviation):
        # the catalog's version-keyed deviation: JAX 0.11+ saves as little for the plain body (76 B vs 76 B)
        assert result.verdict == "violated"
        assert result.measured["baseline_residual_bytes"] == result.measured["residual_bytes"]
        return
    assert result.verdict == "held"
    assert result.measured["saving_factor"] >= 1.25
    assert result.measured["baseline_residual_bytes"] > result.measured["residual_bytes"]


def test_while_loop_backward_is_not_measured_as_constant() -> None:
    """A while_loop's pullback can be built but not applied: backward memory is N/A (ValueError), not O(1)."""
    registry = load_registry()
    p = registry.catalog.get("loop-while-converge")
    impl = registry.get("reference.while_loop", pattern=p.id)
    result = _claims.measure("memory", p, impl, jax.devices()[0])
    assert result.verdict == "held"
    assert "ValueError" in result.measured["backward"]["error"]


def test_claims_command_prints_both_tables_and_discrepancies(capsys: pytest.CaptureFixture[str]) -> None:
    """`jaxpat claims` regenerates the seed's two tables and lists where the seed is wrong."""
    from jaxpat._cli import main

    assert main(["claims", "--format", "json", "--no-speed"]) == 0
    result = json.loads(capsys.readouterr().out)
    rows = {t: [r["row"] for r in result["tables"][t]["rows"]] for t in result["tables"]}
    assert {"if", "for", "while", "lax.cond", "lax.while_loop", "lax.fori_loop", "lax.scan"} <= set(rows["constructs"])
    assert {"fori_loop", "while_loop", "scan", "Python loop", "Python loop, for with break"} <= set(rows["loops"])
    found = {(d["row"], d["column"]) for d in result["discrepancies"]}
    # the one sound "the seed is wrong": a static-bound fori_loop does not unroll (issue 21)
    assert found == {("fori_loop, static bounds (footnote *)", "unrolls")}
    for d in result["discrepancies"]:  # "the seed is wrong" comes with the implementation and the evidence
        assert d["implementation"]
        assert d["evidence"]
    loops = {r["row"]: r for r in result["tables"]["loops"]["rows"]}
    by_row = {row: r["cells"] for row, r in loops.items()}
    assert by_row["while_loop"]["early_stop"]["measured"] == "yes"
    assert by_row["fori_loop"]["differentiable"]["measured"] == "fwd only"
    # measured on the construct each cell names
    assert by_row["fori_loop"]["memory_forward"]["measured"] == "inconclusive"  # same program at every n
    assert by_row["fori_loop"]["memory_forward"]["agree"] is None
    assert by_row["while_loop"]["memory_forward"]["measured"] == "O(1)"
    assert by_row["Python loop"]["memory_forward"]["measured"] == "O(n) traced ops"
    assert by_row["Python loop"]["memory_forward"]["agree"] is True
    assert by_row["Python loop"]["memory_backward"]["agree"] is True
    assert by_row["Python loop, for with break"]["early_stop"]["agree"] is True
    assert "moves with its argument" in by_row["Python loop, for with break"]["early_stop"]["evidence"]
    # scan: O(n) forward on a body that reads xs (agrees); the seed's own example is shown, not compared
    assert by_row["scan"]["memory_forward"]["measured"] == "O(n)"
    assert by_row["scan"]["memory_forward"]["agree"] is True
    own = by_row["scan, the seed's own example (body ignores xs)"]["memory_forward"]
    assert (own["measured"], own["seed"], own["agree"]) == ("O(1)", None, None)
    # the footnote is judged where the seed put it: fully differentiable, O(n) residuals
    footnote = by_row["fori_loop, static bounds (footnote *)"]
    assert footnote["differentiable"]["agree"] is True
    assert footnote["memory_backward"]["agree"] is True
    assert footnote["memory_forward"]["seed"] is None
    # never a ✓ in a cell whose evidence is an exception
    for table in result["tables"].values():
        for r in table["rows"]:
            for cell in r["cells"].values():
                if "Error" in (cell.get("evidence") or ""):
                    assert "✓" not in cell["measured"], (r["row"], cell)
    assert "HLO instructions" in by_row["fori_loop, static bounds (footnote *)"]["unrolls"]["evidence"]
    constructs = {r["row"]: r for r in result["tables"]["constructs"]["rows"]}
    assert constructs["lax.cond"]["implementation"].endswith("lax_cond")
    assert constructs["while"]["pattern"] == "loop-python-while-static"
    assert constructs["while"]["cells"]["jit"]["agree"] is True
    assert constructs["while"]["cells"]["grad"]["agree"] is True  # the seed's ✓ for while under grad
    dependent = next(r for row, r in constructs.items() if row.startswith("while, condition on an argument"))
    assert dependent["cells"]["jit"]["measured"].startswith("❌")


def test_claim_items_run_in_the_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """With --jaxpat-claims a violated claim is a failing item and lands in the report's claims section."""
    pytester.makefile(".yaml", tclaims=CATALOG)
    pytester.makepyfile(tplugin=textwrap.dedent("""
        import jax.numpy as jnp
        from jaxpat.patterns import Implementation, hookimpl

        def sort(x, n):
            return jnp.sum(jnp.sort(jnp.sin(jnp.arange(n) * x)))

        @hookimpl
        def jaxpat_implementations():
            return [Implementation("t-sorted-sum", "sort", sort)]
    """))
    monkeypatch.setenv("JAXPAT_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("JAXPAT_BLOCK_PLUGINS", "reference")
    monkeypatch.setenv("PYTHONPATH", str(pytester.path))
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--jaxpat", "--jaxpat-only", "--jaxpat-claims", "--jaxpat-no-cache",
        "--jaxpat-catalog", "tclaims.yaml", "--jaxpat-load", "tplugin", "--jaxpat-report", "r.json",
        "--jaxpat-pattern", "t-*",
    )
    result.stdout.fnmatch_lines(["*claim `memory` of t-sorted-sum is violated*B at n=100 → 316 → 1000*"])
    report = json.loads((pytester.path / "r.json").read_text())
    verdicts = {c["claim"]: c["verdict"] for c in report["claims"]}
    assert verdicts == {"memory": "violated", "jit": "held", "grad": "held", "early_exit": "violated"}


def test_claims_text_and_markdown_render_a_table() -> None:
    """The text rendering fits 100 columns, names the seed by title, spells out a footnote where a cell
    carries one, and marks a disagreement; markdown shows each row's seed cell beside the measured one."""
    from jaxpat.conformance import _claims_cli

    cell = {"seed": "✓*", "measured": "❌ (TypeError)", "agree": False, "evidence": "jax.jit(f) raised " + "x" * 300}
    result = {"device": "cpu:0 (cpu)", "jax": "0", "discrepancies": [
        {"row": "while", "column": "jit", "seed": "✓*", "measured": "❌ (TypeError)", "pattern": "p", "note": ""}],
        "tables": {"t": {"title": "T", "seed": "004_f255994e8172e92e.txt", "seed_title": "notes on JAX",
                         "footnote": "argument-value-independent loop condition", "columns": ["jit"],
                         "rows": [{"row": "while", "pattern": "p", "implementation": "i", "note": "n " * 80,
                                   "cells": {"jit": cell}}]}}}
    text = _claims_cli._text(result)
    assert max(len(line) for line in text.splitlines()) <= 100
    assert 'seed "notes on JAX"' in text
    assert "004_f255994e8172e92e" not in text + _claims_cli._markdown(result)  # named by title, not by file
    assert "seed ✓* (* = argument-value-independent loop condition) | measured ❌ (TypeError)  ≠" in text
    assert "| while (`p`) | ✓* → ❌ (TypeError) **≠** | `i` |" in _claims_cli._markdown(result)
