"""Verdicts of ``observe:`` claims from plain figures (no JAX, no NumPy): the judging half of observations.

The figures come from :mod:`._observations` (in the executor). Shapes, per ``what``:

``fusion``
    ``{"entry_ops": [op, ...], "kernels": int, "fusions": int, "fused_ops": [[op, count], ...]}``
``donation`` / ``in_place``
    ``{"donate", "deleted": bool, "aliased": bool, "copies": int, "copies_without_donation": int,
    "updates": int, "temp_bytes": int|None, "array_bytes": int, "warnings": [str]}``
``operands``
    ``{"jit": {name: count}, "eager": {name: count}, "result": [bool, ...]}``: evaluations in one run
``async_dispatch``
    ``{"rounds": [{"dispatch_s", "ready_s", "ready_on_return", "ready_after_block"}], "exhausted", "budget_s",
    "elapsed_s"}``
``compiles``
    ``{"expensive", "function", "first_call": {name: count}, "second_call": {name: count}}``
``first_call``
    ``{"seconds": [...], "baseline_seconds": [...], "baseline", "exhausted", "budget_s", "elapsed_s",
    "planned_rounds"}``: one entry per interleaved round, each one first call of a fresh ``jax.jit``
``jit_grad_memory``
    ``{"bytes", "baseline_bytes", "baseline", "residual_bytes", "baseline_residual_bytes"}``
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import Any

from jaxpat.catalog import ObserveClaim

__all__ = ["judge_observation"]

Verdict = tuple[str, dict[str, Any], str]


def _fusion(spec: ObserveClaim, f: Mapping[str, Any]) -> Verdict:
    kernels, fusions = int(f["kernels"]), int(f["fusions"])
    fused = {str(op): int(n) for op, n in f.get("fused_ops") or ()}
    at_most = int(spec.at_most if spec.at_most is not None else 1)
    entry = [str(op) for op in f.get("entry_ops") or ()]
    measured = {"kernels": kernels, "entry_ops": entry, "fusions": fusions, "fused_ops": fused, "at_most": at_most}
    n_fused = sum(fused.values())
    ok = kernels <= at_most and fusions >= 1 and n_fused >= 2
    why = (f"the compiled program runs {kernels} kernel(s) ({', '.join(entry) or 'none'}), "
           f"{fusions} of them fusions holding {n_fused} operations ({', '.join(f'{k}×{v}' for k, v in fused.items())})"
           f"; claimed: at most {at_most} kernel(s), fused")
    return ("held" if ok else "violated"), measured, why


def _donation(spec: ObserveClaim, f: Mapping[str, Any]) -> Verdict:
    deleted, aliased, copies = bool(f["deleted"]), bool(f["aliased"]), int(f["copies"])
    measured = {k: f.get(k) for k in ("donate", "deleted", "aliased", "copies", "copies_without_donation",
                                      "updates", "temp_bytes", "array_bytes", "warnings")}
    facts = (f"donated `{f.get('donate')}`: is_deleted() after the call {deleted}; the compiled module aliases "
             f"it to the output: {aliased}; copy instructions {copies} (without donation "
             f"{f.get('copies_without_donation')})")
    ok = deleted and aliased and copies == 0
    if spec.what == "in_place":
        updates, temp, size = int(f.get("updates") or 0), f.get("temp_bytes"), int(f["array_bytes"])
        facts += (f"; update operations {updates}; compiled temp {temp} B for a {size} B array")
        ok = ok and updates >= 1 and (temp is None or int(temp) < size)
        claim = "claimed: the update is done in the donated buffer (aliased, no copy, no array-sized temp)"
    else:
        claim = "claimed: the donated buffer is deleted and reused for the output without a copy"
    if f.get("warnings"):
        facts += f"; JAX warned: {f['warnings'][0]}"
    return ("held" if ok else "violated"), measured, f"{facts}; {claim}"


def _operands(spec: ObserveClaim, f: Mapping[str, Any]) -> Verdict:
    names = list(spec.operands or ())
    jitted = {str(k): int(v) for k, v in (f.get("jit") or {}).items()}
    eager = {str(k): int(v) for k, v in (f.get("eager") or {}).items()}
    measured = {"operands": names, "jit": jitted, "eager": eager, "result": list(f.get("result") or ())}
    skipped = [n for n in names if jitted.get(n, 0) < 1]
    counts = ", ".join(f"{n}: {jitted.get(n, 0)}" for n in names)
    msg = (f"evaluations in one jitted run: {counts} (eager: "
           f"{', '.join(f'{n}: {eager.get(n, 0)}' for n in names)}); result {measured['result']}")
    if not names:
        return "inconclusive", measured, msg + "; no operand named: nothing to observe"
    if skipped:
        return "violated", measured, msg + f"; {', '.join(skipped)} not evaluated: the operation short-circuits"
    return "held", measured, msg + "; every operand evaluated, whatever the first decides"


def _async(spec: ObserveClaim, f: Mapping[str, Any]) -> Verdict:
    rounds = list(f.get("rounds") or ())
    measured: dict[str, Any] = {"rounds": len(rounds), "exhausted": bool(f.get("exhausted")),
                                "budget_s": f.get("budget_s")}
    if not rounds:
        return "inconclusive", measured, "no round was timed (the time budget ran out): nothing to judge"
    dispatch = [float(r["dispatch_s"]) for r in rounds]
    ready = [float(r["ready_s"]) for r in rounds]
    pending = sum(1 for r in rounds if not r["ready_on_return"])
    unblocked = sum(1 for r in rounds if not r["ready_after_block"])
    measured.update(dispatch_s=statistics.median(dispatch), ready_s=statistics.median(ready),
                    pending_on_return=pending, not_ready_after_block=unblocked)
    msg = (f"over {len(rounds)} rounds the call returned in {statistics.median(dispatch):.4g} s (median) and the "
           f"result was ready after {statistics.median(ready):.4g} s; not ready on return in {pending} round(s), "
           f"not ready after block_until_ready in {unblocked}")
    if unblocked:
        return "violated", measured, msg + ": block_until_ready returned before the result was ready"
    if pending:
        return "held", measured, msg + ": the call returned before the result existed and block_until_ready waited"
    return "inconclusive", measured, (msg + ": the result was ready whenever the call returned, which a "
                                            "synchronous call and a quick computation both give")


def _compiles(spec: ObserveClaim, f: Mapping[str, Any]) -> Verdict:
    name, function = str(f["expensive"]), str(f.get("function", ""))
    first = {str(k): int(v) for k, v in (f.get("first_call") or {}).items()}
    second = {str(k): int(v) for k, v in (f.get("second_call") or {}).items()}
    measured = {"expensive": name, "function": function, "first_call": first, "second_call": second}
    msg = (f"compiled during the first call: {first or 'nothing'}; during the second: {second or 'nothing'}; "
           f"claimed: `{name}` alone is jitted, compiled once")
    if first.get(name, 0) != 1:
        return "violated", measured, msg + f"; `{name}` was compiled {first.get(name, 0)} time(s)"
    if function and function != name and first.get(function, 0):
        return "violated", measured, msg + f"; the whole function `{function}` was compiled too"
    if second.get(name, 0):
        return "violated", measured, msg + f"; `{name}` was compiled again on the second call"
    return "held", measured, msg


def _speed_band(seconds: list[float], baseline: list[float]) -> tuple[float, float, float]:
    """(low, median, high) of the per-round ratios baseline ÷ implementation, the single lowest and highest
    left out from 5 rounds on: the rule of speed claims (``_claim_verdicts.speed_band``)."""
    r = sorted(b / max(a, 1e-12) for a, b in zip(seconds, baseline, strict=True))
    edge = r[1:-1] if len(r) >= 5 else r
    return edge[0], statistics.median(r), edge[-1]


#: Fewer timed rounds than this prove nothing (``_claim_verdicts.MIN_SPEED_ROUNDS``).
MIN_SPEED_ROUNDS = 3


def _first_call(spec: ObserveClaim, f: Mapping[str, Any]) -> Verdict:
    mine = [float(s) for s in f.get("seconds") or ()]
    theirs = [float(s) for s in f.get("baseline_seconds") or ()]
    at_least = float(spec.at_least if spec.at_least is not None else 1.0)
    measured: dict[str, Any] = {"at_least": at_least, "baseline": f.get("baseline"), "rounds": len(mine),
                                "exhausted": bool(f.get("exhausted")), "budget_s": f.get("budget_s"),
                                "elapsed_s": f.get("elapsed_s"), "seed_figure": spec.seed_figure}
    if not mine:
        measured.update(speedup=None, band=None)
        return "inconclusive", measured, (f"no round was timed within the budget of {f.get('budget_s')} s: "
                                          "nothing to judge")
    low, mid, high = _speed_band(mine, theirs)
    verdict = "held" if low >= at_least else ("violated" if high < at_least else "inconclusive")
    measured.update(speedup=round(mid, 2), band=[round(low, 2), round(high, 2)],
                    seconds=statistics.median(mine), baseline_seconds=statistics.median(theirs))
    msg = (f"first call (trace + compile + run) {statistics.median(mine):.3g} s vs {f.get('baseline')} "
           f"{statistics.median(theirs):.3g} s: {mid:.1f}× (noise band {low:.1f}–{high:.1f}× over {len(mine)} "
           f"rounds; claimed ≥ {at_least}×)")
    if f.get("exhausted"):
        verdict, msg = "inconclusive", msg + f"; the time budget of {f.get('budget_s')} s ran out"
    elif len(mine) < MIN_SPEED_ROUNDS:
        verdict, msg = "inconclusive", msg + f"; only {len(mine)} rounds prove nothing"
    return verdict, measured, msg + f": {verdict}"


def _jit_grad_memory(spec: ObserveClaim, f: Mapping[str, Any]) -> Verdict:
    mine, theirs = f.get("bytes"), f.get("baseline_bytes")
    at_most = float(spec.at_most if spec.at_most is not None else 1.0)
    measured = {"bytes": mine, "baseline_bytes": theirs, "baseline": f.get("baseline"), "at_most": at_most,
                "residual_bytes": f.get("residual_bytes"), "baseline_residual_bytes": f.get("baseline_residual_bytes")}
    if mine is None or theirs is None:
        return "skipped", measured, "the backend returns no memory analysis"
    msg = (f"jax.jit(jax.grad(...)) compiles to {mine} B (temp + output) vs {theirs} B for {f.get('baseline')}; "
           f"eagerly jax.vjp saves {f.get('residual_bytes')} B vs {f.get('baseline_residual_bytes')} B; claimed: "
           f"at most {at_most}× the baseline's compiled bytes")
    return ("held" if int(mine) <= at_most * int(theirs) else "violated"), measured, msg


_OBSERVE = {
    "fusion": _fusion,
    "donation": _donation,
    "in_place": _donation,
    "operands": _operands,
    "async_dispatch": _async,
    "compiles": _compiles,
    "first_call": _first_call,
    "jit_grad_memory": _jit_grad_memory,
}


def judge_observation(spec: ObserveClaim, figures: Mapping[str, Any]) -> Verdict:
    """(verdict, measured, message) of the observation ``spec`` from ``figures``. Pure: no JAX, no I/O.

    ``held``/``violated``; ``inconclusive`` when the figures cannot tell (timing noise, an exhausted budget,
    a result ready before the call returned); ``skipped`` when the backend cannot measure it. Raises
    KeyError for an unknown observation or figures that lack what it needs."""
    if figures.get("what", spec.what) != spec.what:
        raise ValueError(f"figures of `{figures.get('what')}` cannot judge an `{spec.what}` observation")
    return _OBSERVE[spec.what](spec, figures)
