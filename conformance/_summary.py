"""The end of a run in the terminal and the records it ends with: pieces the session calls (no JAX, no plugin).

* :func:`complete_records` fills what a record made from a node id alone
  lacks (an item that never ran: interrupted, stopped early) -- the pattern's
  family and an agreement item's platforms -- so the matrix has no phantom
  ``-`` group or ``-`` platform; a setup item that failed (a plugin that
  cannot load, an invalid catalog) is an ``error``, as the legend says.
* :func:`outcome_lines`: skips and xfails in one line each (pytest's ``-rs``
  / ``-rx`` list them one by one).
* :func:`summary_width`: 100 columns when the output is not a terminal (piped
  output is never cut at 80), else the terminal's width up to 100.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["complete_records", "outcome_lines", "summary_width"]

#: The widest terminal summary, in columns.
MAX_WIDTH = 100


def summary_width(tr: Any) -> int:
    """The width the jaxpat summary is drawn at: the terminal's (at most 100), or 100 when not a terminal."""
    tw = getattr(tr, "_tw", None)
    isatty = getattr(tr, "isatty", None)
    if isatty is None or not (isatty() if callable(isatty) else isatty):
        return MAX_WIDTH
    return min(int(getattr(tw, "fullwidth", MAX_WIDTH) or MAX_WIDTH), MAX_WIDTH)


def complete_records(results: Mapping[str, dict[str, Any]], families: Mapping[str, str] | None = None,
                     platforms: Iterable[str] = ()) -> None:
    """Fill, in place, each record's missing ``family`` (from another record of its pattern, else
    ``families``), an agreement record's missing ``platform`` (the run's ``platforms`` joined with ``+``, as an
    agreement item records them) and turn a failed setup item into an ``error``."""
    known: dict[str, str] = dict(families or {})
    for rec in results.values():
        if rec.get("family") and rec.get("pattern"):
            known.setdefault(str(rec["pattern"]), str(rec["family"]))
    joined = "+".join(sorted(set(platforms)))
    for rec in results.values():
        if rec.get("kind") == "setup":
            rec.setdefault("family", "setup")
            if rec.get("outcome") == "failed":
                rec["outcome"] = "error"
            continue
        if not rec.get("family") and rec.get("pattern") in known:
            rec["family"] = known[str(rec["pattern"])]
        if rec.get("kind") == "agreement" and not rec.get("platform") and joined:
            rec["platform"] = joined


def outcome_lines(outcomes: Iterable[str], reportchars: str = "") -> list[str]:
    """One line for the skipped items and one for the xfailed ones (none when there are none), saying how to
    list them: pytest's ``-rs`` / ``-rx`` (``jaxpat check ... -- -rs``), unless this run lists them already
    (``reportchars``: pytest's, after ``a`` and ``N`` were expanded)."""
    counts = Counter(outcomes)
    chars = reportchars or ""
    every = "a" in chars or "A" in chars
    lines = []
    if counts["skipped"]:
        how = "listed below" if every or "s" in chars else "-rs lists each with its reason"
        lines.append(f"{counts['skipped']} skipped (this host cannot run them, e.g. too few devices); {how}")
    if counts["xfailed"]:
        how = "listed below" if every or "x" in chars else "-rx lists each"
        lines.append(f"{counts['xfailed']} xfailed (known deviations declared in the catalog, still deviating); "
                     f"{how}")
    return lines


def complete_run_records(config: Any, results: Mapping[str, dict[str, Any]], environment: Mapping[str, Any]) -> None:
    """:func:`complete_records` for a run: families from the catalog the judge read (parsed again only when
    some record lacks one), platforms from the environment the workers sent."""
    families: dict[str, str] = {}
    if any(not r.get("family") and r.get("pattern") and r.get("kind") != "setup" for r in results.values()):
        families = _catalog_families(config)
    complete_records(results, families, environment.get("platforms") or ())


def _catalog_families(config: Any) -> dict[str, str]:
    from ._collect import _LISTING

    listing = config.stash.get(_LISTING, None)
    if listing is not None:
        return {p.id: p.family for p in listing.catalog}
    try:  # the controller of remote workers read no catalog yet: the files the judge reads (plugins' aside)
        from ._setup import catalog_with_files

        catalog, _ = catalog_with_files(list(config.getoption("jaxpat_catalog")), trust_cache=False)
    except Exception:
        return {}
    return {p.id: p.family for p in catalog}
