"""The conformance matrix as data: patterns (grouped by family) × columns, each cell the counts per outcome.

One aggregation for every view (the terminal in :mod:`._terminal`, the HTML
page in :mod:`._html`). A column is ``[HOST:]PLATFORM/TRANSFORM``; every
claim item of a platform lands in one ``PLATFORM/claims`` column and every explore item in one
``PLATFORM/explore`` column, so the
matrix has at most six columns per platform and host. Nothing here imports JAX.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from ._model import OUTCOMES, Result

__all__ = ["TRANSFORM_ORDER", "Matrix", "Row", "build_matrix", "column_for", "column_of", "matrix_from_counts"]

#: The order of a platform's columns.
TRANSFORM_ORDER = ("eager", "jit", "vmap", "grad", "explore", "claims")


def column_of(result: Result) -> str:
    """The matrix column of a result: ``[HOST:]PLATFORM/TRANSFORM``, claim items under ``claims``.

    Where the device kind says more than the platform, it is part of the
    platform: ``gpu(NVIDIA H100 80GB HBM3)/jit``, ``tpu(TPU v4)/eager``.
    """
    return column_for(result.transform, result.kind, result.platform, result.extra.get("device_kind"), result.host)


def column_for(transform: str | None, kind: str | None, platform: str | None, device_kind: object,
               host: str | None) -> str:
    """:func:`column_of` from a result's members (``device_kind`` as the record holds it: any JSON value)."""
    transform = transform or kind or "-"
    if kind == "claim" or transform.startswith("claim"):
        transform = "claims"
    elif kind == "explore":  # generated inputs (docs/explore.md): a column of their own, every transform
        transform = "explore"
    platform = platform or "-"
    if isinstance(device_kind, str) and device_kind and device_kind.lower() != platform:
        platform = f"{platform}({device_kind})"
    col = f"{platform}/{transform}"
    return f"{host}:{col}" if host else col


def _column_key(col: str) -> tuple[str, int, str]:
    where, _, transform = col.rpartition("/")
    order = TRANSFORM_ORDER.index(transform) if transform in TRANSFORM_ORDER else len(TRANSFORM_ORDER)
    return (where, order, transform)


@dataclass
class Row:
    """One pattern: its family and, per column, the counts per outcome."""

    pattern: str
    family: str
    cells: dict[str, Counter[str]] = field(default_factory=dict)

    def counts(self) -> Counter[str]:
        """The pattern's counts over every column."""
        total: Counter[str] = Counter()
        for c in self.cells.values():
            total.update(c)
        return total


@dataclass
class Matrix:
    """Rows in family order, then pattern id order; columns in platform, then transform order."""

    columns: list[str]
    rows: list[Row]
    totals: Counter[str]

    def families(self) -> list[str]:
        """The families, in row order, each once."""
        return list(dict.fromkeys(r.family for r in self.rows))


def build_matrix(results: Iterable[Result]) -> Matrix:
    """Aggregate ``results`` into a :class:`Matrix` (one pass; fine for 100,000 results)."""
    rows: dict[str, Row] = {}
    columns: set[str] = set()
    totals: Counter[str] = Counter()
    for r in results:
        col = column_of(r)
        columns.add(col)
        pid = r.pattern_id
        row = rows.get(pid)
        if row is None:
            row = rows[pid] = Row(pid, r.family or "-")
        elif row.family == "-" and r.family:
            row.family = r.family
        row.cells.setdefault(col, Counter())[r.outcome] += 1
        totals[r.outcome] += 1
    ordered = sorted(rows.values(), key=lambda row: (row.family, row.pattern))
    return Matrix(sorted(columns, key=_column_key), ordered, totals)


def matrix_from_counts(counts: Iterable[tuple[str, str | None, str, str, int]]) -> Matrix:
    """:func:`build_matrix` from ``(pattern id, family, column, outcome, n)`` groups in the order of their first result.

    The same matrix as :func:`build_matrix` over the results the groups count
    (a streaming reader counts groups instead of keeping a million results).
    """
    rows: dict[str, Row] = {}
    columns: set[str] = set()
    totals: Counter[str] = Counter()
    for pid, family, col, outcome, n in counts:
        columns.add(col)
        row = rows.get(pid)
        if row is None:
            row = rows[pid] = Row(pid, family or "-")
        elif row.family == "-" and family:
            row.family = family
        row.cells.setdefault(col, Counter())[outcome] += n
        totals[outcome] += n
    ordered = sorted(rows.values(), key=lambda row: (row.family, row.pattern))
    return Matrix(sorted(columns, key=_column_key), ordered, totals)


def worst(counts: Counter[str] | None) -> str | None:
    """The outcome that matters most in a cell: error > failed > xpassed > not_run > skipped > xfailed > passed."""
    if not counts:
        return None
    for outcome in ("error", "failed", "xpassed", "not_run", "skipped", "xfailed", "passed"):
        if counts.get(outcome):
            return outcome
    return next((o for o in OUTCOMES if counts.get(o)), None)
