"""Claim verdicts from plain figures: the judging half of the claims, with no JAX and no NumPy.

Measuring a claim (:mod:`._measure`) runs an implementation's code and needs JAX;
it returns *figures*: plain JSON data (numbers, strings, lists, dicts). Judging
them needs neither the implementation nor JAX: :func:`judge` takes the claim's
kind, the catalog's :class:`~jaxpat.catalog.Claims` (already resolved for the
implementation) and the figures, and returns the verdict, the report's
``measured`` record and the message. So a verdict can be computed in a process
where no plugin code ever ran, from figures that crossed a process boundary as
JSON.

Figures, per claim kind (every list holds one entry per size, smallest first):

``jit``
    ``{"jit": OUTCOME}``
``grad``
    ``{"forward": OUTCOME, "reverse": OUTCOME, "under_jit": bool}``
``memory``
    ``{"param", "sizes", "platform", "forward": {"temp_bytes", "output_bytes"} or {"unavailable": why},
    "trips", "equations", "fingerprints", "backward": {"residual_bytes"} or {"error": OUTCOME}}``
    (``forward``/``backward`` only when claimed)
``program_size``
    ``{"param", "sizes", "hlo_instructions", "hlo_while_loops", "equations", "trips", "loop_primitives"}``
``early_exit``
    ``{"stops_on_state": bool, "while_loops": int}`` for ``early_exit: true/false``;
    ``{"param", "points": [1, a, b], "work": [w1, wa, wb]}`` for ``early_exit: {param, sizes}``
``residuals``
    ``{"residual_bytes", "baseline_residual_bytes", "baseline"}``
``speedup``
    ``{"seconds": [...], "baseline_seconds": [...], "baseline", "device_kind"}``: one entry per
    interleaved round; optional ``budget_s``, ``elapsed_s`` and ``exhausted`` (the time budget ran out)
``observe``
    ``{"what": NAME, ...}``: see :mod:`._observation_verdicts`

``OUTCOME`` is ``{"ok": bool, "detail": "works" or "TypeName: first line", "types": [...]}``;
``types`` names the exception's classes, most derived first, each as ``module.QualName``
(see :func:`exception_types`), so ``{raises: NAME}`` is judged by name, subclasses included.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jaxpat.catalog import Claims, EarlyExitClaim, Raises
from jaxpat.report import Ratio, Series, verdict_figures

__all__ = [
    "GROWTHS",
    "MIN_SPEED_ROUNDS",
    "ClaimResult",
    "Judgement",
    "Ratio",
    "Series",
    "claim_result",
    "early_exit_verdict",
    "exception_types",
    "growth",
    "growth_fit",
    "growth_sizes",
    "judge",
    "memory_vacuous",
    "outcome_of",
    "raises_matches",
    "speed_band",
    "speed_verdict",
    "verdict_figures",
]


#: Modules whose exceptions a catalog may name without a module (``{raises: ValueError}``).
_BARE_MODULES = ("builtins", "jax", "jaxlib")


@dataclass
class ClaimResult:
    """A measured claim: what was claimed, the figures, and the verdict.

    ``verdict`` is ``held``, ``violated``, ``inconclusive`` (the figures prove
    neither), ``skipped`` (the backend cannot measure it) or ``reported``
    (timing claims, which do not fail by default).
    """

    pattern: str
    implementation: str
    claim: str
    claimed: Any
    verdict: str
    measured: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    seed_claim: str | None = None
    device: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (the model's read-only mappings cannot cross to the xdist controller)."""
        import json

        data = {k: v for k, v in vars(self).items() if v is not None}
        return json.loads(json.dumps(data, default=_plain))


def _plain(x: Any) -> Any:
    if hasattr(x, "to_dict"):
        return x.to_dict()
    if isinstance(x, Mapping):
        return dict(x)
    if isinstance(x, tuple | set | frozenset):
        return list(x)
    return str(x)


@dataclass(frozen=True)
class Judgement:
    """A verdict (``held``, ``violated``, ``inconclusive``, ``skipped``), the report's ``measured`` record
    (the figures the verdict was computed from, under the names docs/claims.md gives) and a message."""

    verdict: str
    measured: dict[str, Any]
    message: str


# ---------------------------------------------------------------------------
# outcomes and exception names
# ---------------------------------------------------------------------------

def exception_types(exc: BaseException) -> list[str]:
    """The names of ``exc``'s classes, most derived first, as ``module.QualName`` (``builtins.ValueError``);
    a class that ``jax.errors`` re-exports is also named ``jax.errors.NAME``. Needs no JAX."""
    out: list[str] = []
    for cls in type(exc).__mro__:
        if cls is object:
            continue
        out.append(f"{cls.__module__}.{cls.__qualname__}")
        if cls.__module__.startswith("jax") and not cls.__module__.startswith("jax.errors"):
            import sys

            errors = sys.modules.get("jax.errors")
            if errors is not None and getattr(errors, cls.__name__, None) is cls:
                out.append(f"jax.errors.{cls.__name__}")
    return out


def outcome_of(exc: BaseException | None, limit: int = 160) -> dict[str, Any]:
    """The OUTCOME figure of a call: ``{"ok": True, "detail": "works", "types": []}`` when ``exc`` is None."""
    if exc is None:
        return {"ok": True, "detail": "works", "types": []}
    from jaxpat._util import first_line

    return {"ok": False, "detail": first_line(exc, limit), "types": exception_types(exc)}


def raises_matches(name: str, types: Sequence[str]) -> bool:
    """Whether an exception whose classes are ``types`` (:func:`exception_types`) is a ``name``, the way the
    catalog names exceptions: a bare name is a builtin or a JAX exception (``ValueError``,
    ``ConcretizationTypeError``); a dotted one is the class's module path or ``jax.errors.NAME``."""
    for qual in types:
        module, _, cls = qual.rpartition(".")
        if "." not in name:
            if cls == name and module.split(".")[0] in _BARE_MODULES:
                return True
        elif qual == name:
            return True
    return False


def _outcome(figure: Any) -> tuple[bool, str, list[str]]:
    if not isinstance(figure, Mapping):
        raise ValueError(f"an OUTCOME figure must be a mapping with ok/detail/types, not {figure!r}")
    return bool(figure.get("ok")), str(figure.get("detail", "")), [str(t) for t in figure.get("types") or ()]


def _describe(claimed: Any) -> str:
    return f"raises {claimed.raises}" if isinstance(claimed, Raises) else str(claimed)


def _judge_works(claimed: Any, figure: Any) -> tuple[str, str]:
    ok, detail, types = _outcome(figure)
    if claimed is True:
        return ("held", "works") if ok else ("violated", f"claimed to work, but raised {detail}")
    if claimed is False:
        return ("held", f"fails as claimed ({detail})") if not ok else ("violated", "claimed to fail, but works")
    if isinstance(claimed, Raises):
        if ok:
            return "violated", f"claimed to raise {claimed.raises}, but works"
        if raises_matches(claimed.raises, types):
            return "held", f"raises {detail}"
        return "violated", f"claimed to raise {claimed.raises}, raised {detail}"
    return "inconclusive", f"unknown claim value {claimed!r}"


def _combine(verdicts: list[str]) -> str:
    for v in ("violated", "inconclusive", "skipped"):
        if v in verdicts:
            return v
    return "held"


# ---------------------------------------------------------------------------
# growth
# ---------------------------------------------------------------------------

#: Growth classes: ``constant``, ``linear`` and ``superlinear`` decide a claim; ``sublinear`` (less than the
#: smallest growth a claim is about) and ``irregular`` (figures that rise and fall) prove nothing.
GROWTHS = ("constant", "linear", "superlinear", "sublinear", "irregular")


def growth_sizes(sizes: Sequence[int]) -> list[int]:
    """The sizes a growth claim is measured at: the catalog's, sorted; two become three (their geometric mean
    between them), so that the shape of the growth can be seen, not only its presence."""
    s = sorted({int(x) for x in sizes})
    if len(s) == 2:
        mid = round((s[0] * s[1]) ** 0.5)
        if s[0] < mid < s[1]:
            s = [s[0], mid, s[1]]
    return s


def growth_fit(sizes: Sequence[int], values: Sequence[float], *, unit: float = 1.0) -> dict[str, Any]:
    """The figures behind :func:`growth`: the overall slope (units per step), the first and last segments'
    slopes, the exponent of the increments (0 for linear, 1 for quadratic) and the class."""
    if len(sizes) != len(values) or len(sizes) < 2:
        raise ValueError(f"growth needs one value per size and two sizes or more, got {sizes} and {values}")
    n, v = [float(x) for x in sizes], [float(x) for x in values]
    span = n[-1] - n[0]
    slope = (v[-1] - v[0]) / span
    spread = (max(v) - min(v)) / span
    first = (v[1] - v[0]) / (n[1] - n[0])
    last = (v[-1] - v[-2]) / (n[-1] - n[-2])
    fit: dict[str, Any] = {"unit": unit, "slope": round(slope, 4), "first_slope": round(first, 4),
                           "last_slope": round(last, 4), "exponent": None}
    dips = [b - a for a, b in itertools.pairwise(v) if b < a]
    if spread < unit / 4:
        fit["growth"] = "constant"
    elif slope < unit / 2 or len(n) < 3:
        # less than half the smallest growth per step (or two sizes: the shape cannot be seen)
        fit["growth"] = "sublinear" if not dips else "irregular"
    elif dips and -min(dips) > unit / 4 * span:
        fit["growth"] = "irregular"
    else:
        quad = (n[-1] + n[-2]) / (n[1] + n[0])  # the last slope over the first for a quadratic
        if first <= 0:
            exponent = math.inf if last > 0 else 0.0
        else:
            exponent = math.log(max(last, 1e-12) / first) / math.log(quad)
        fit["exponent"] = round(exponent, 3) if math.isfinite(exponent) else "inf"
        fit["growth"] = "superlinear" if exponent > 0.5 else ("sublinear" if exponent < -0.5 else "linear")
    return fit


def growth(sizes: Sequence[int], values: Sequence[float], *, unit: float = 1.0) -> str:
    """How ``values`` grow with ``sizes`` (three sizes or more, smallest first), for a claim whose smallest
    growth is ``unit`` per step (one byte of memory, one instruction of program size):

    ``constant``: the values spread by less than ``unit/4`` per step over the whole range;
    ``linear``: they rise by at least ``unit/2`` per step overall and the last segment's slope is within a
    factor sqrt(q) of the first's, where q is the factor a quadratic would give (exponent of the increments
    between -1/2 and 1/2); ``superlinear``/``sublinear``: the exponent is above 1/2 / below -1/2, or the rise is
    less than ``unit/2`` per step; ``irregular``: they fall by more than ``unit/4`` per step somewhere.
    One element of one byte per step is linear; the catalog's two sizes are measured at three
    (:func:`growth_sizes`)."""
    return str(growth_fit(sizes, values, unit=unit)["growth"])


def _growth_verdict(g: str, claimed: Any) -> str:
    """``held`` when the measured growth is the claimed one; ``violated`` when it is another decisive class
    (constant, linear, superlinear); ``inconclusive`` when it is sublinear or irregular."""
    if g == claimed:
        return "held"
    return "violated" if g in ("constant", "linear", "superlinear") else "inconclusive"


def _pair(p: Sequence[Any] | None) -> str:
    return "unmeasured" if not p else " → ".join(str(x) for x in p)


def _wrong_sizes(param: str, claimed: Sequence[int], got_param: str, got: Sequence[int]) -> str | None:
    want = growth_sizes(claimed)
    if got_param != param or list(got) != want:
        return (f"the figures were measured at {got_param}={_pair(got)}, the claim is about {param}={_pair(want)}: "
                "nothing to judge")
    return None


def _slope(fit: Mapping[str, Any], unit: str) -> str:
    return f"{fit['slope']:g} {unit} per step"


def _ints(figures: Mapping[str, Any], key: str) -> list[int] | None:
    v = figures.get(key)
    return None if v is None else [int(x) for x in v]


# ---------------------------------------------------------------------------
# the judges
# ---------------------------------------------------------------------------

def _judge_jit(claims: Claims, figures: Mapping[str, Any]) -> Judgement:
    verdict, msg = _judge_works(claims.jit, figures["jit"])
    return Judgement(verdict, {"jit": _outcome(figures["jit"])[1]}, msg)


def _judge_grad(claims: Claims, figures: Mapping[str, Any]) -> Judgement:
    assert claims.grad is not None
    verdicts, msgs = [], []
    for mode, claimed in claims.grad.modes():
        v, m = _judge_works(claimed, figures[mode])
        verdicts.append(v)
        msgs.append(f"{mode}: {m}")
    measured = {mode: _outcome(figures[mode])[1] for mode in ("forward", "reverse") if mode in figures}
    return Judgement(_combine(verdicts), measured, "; ".join(msgs))


def memory_vacuous(figures: Mapping[str, Any]) -> str | None:
    """Why a ``constant`` memory verdict would prove nothing, or None when the sizes reached the computation."""
    prints = figures.get("fingerprints")
    if prints and len(set(prints)) == 1:
        return ("the compiled program is the same at every size (the size is a run-time value): its compiled "
                "memory cannot depend on the size, so this measurement cannot show growth")
    trips, eqs = _ints(figures, "trips"), _ints(figures, "equations")
    grows = bool((trips and trips[-1] > trips[0]) or (eqs and eqs[-1] > eqs[0]))
    if not grows:
        at = f" ({trips[0]} loop iterations at every size)" if trips else ""
        return (f"the computation does not grow with `{figures.get('param')}`{at}: constant memory at every size "
                "says nothing about growth")
    return None


def _judge_memory(claims: Claims, figures: Mapping[str, Any]) -> Judgement:
    spec = claims.memory
    assert spec is not None
    param, sizes = str(figures["param"]), [int(s) for s in figures["sizes"]]
    measured: dict[str, Any] = {"param": param, "sizes": sizes}
    wrong = _wrong_sizes(spec.param, spec.sizes, param, sizes)
    if wrong:
        return Judgement("inconclusive", measured, wrong)
    verdicts, msgs = [], []
    if spec.forward is not None:
        fwd = figures.get("forward") or {}
        if "temp_bytes" not in fwd:
            why = fwd.get("unavailable") or f"the {figures.get('platform', '?')} backend returns no memory analysis"
            return Judgement("skipped", measured, str(why))
        temp = [int(x) for x in fwd["temp_bytes"]]
        out = [int(x) for x in fwd.get("output_bytes") or [0] * len(temp)]
        total = [t + o for t, o in zip(temp, out, strict=True)]
        fit = growth_fit(sizes, total)
        g = str(fit["growth"])
        tg, og = growth(sizes, temp), growth(sizes, out)
        measured["forward"] = {"bytes": total, "temp_bytes": temp, "output_bytes": out, "growth": g,
                               "temp_growth": tg, "output_growth": og, "fit": fit}
        measured["trips"] = _ints(figures, "trips")
        measured["equations"] = _ints(figures, "equations")
        prints = figures.get("fingerprints")
        measured["same_program"] = None if not prints else len(set(prints)) == 1
        verdict = _growth_verdict(g, spec.forward)
        why = memory_vacuous(figures) if g == "constant" else None
        if why and verdict == "held":
            verdict = "inconclusive"
        verdicts.append(verdict)
        msgs.append(f"forward memory (compiled temp + output bytes) {_pair(total)} B at {param}={_pair(sizes)}: "
                    f"{_slope(fit, 'B')}, {g} (claimed {spec.forward}); temp {_pair(temp)} B ({tg}), output "
                    f"{_pair(out)} B ({og}); loop iterations "
                    f"{_pair(measured['trips'])}" + (f"; inconclusive: {why}" if why and verdict == "inconclusive"
                                                    else ""))
    if spec.backward is not None:
        claimed = spec.backward
        bwd = figures.get("backward") or {}
        if "residual_bytes" not in bwd:
            err = bwd.get("error")
            ok, detail, types = _outcome(err) if err is not None else (True, "unmeasured", [])
            measured["backward"] = {"error": detail}
            held = isinstance(claimed, Raises) and not ok and raises_matches(claimed.raises, types)
            verdicts.append("held" if held else "violated")
            msgs.append(f"reverse mode raises {detail} (claimed backward: {_describe(claimed)})")
        else:
            res = [int(x) for x in bwd["residual_bytes"]]
            fit = growth_fit(sizes, res)
            g = str(fit["growth"])
            measured["backward"] = {"residual_bytes": res, "growth": g, "fit": fit}
            verdicts.append(_growth_verdict(g, claimed))
            msgs.append(f"saved residuals {_pair(res)} B at {param}={_pair(sizes)}: {_slope(fit, 'B')}, {g} "
                        f"(claimed {_describe(claimed)})")
    return Judgement(_combine(verdicts), measured, "; ".join(msgs))


def _judge_program_size(claims: Claims, figures: Mapping[str, Any]) -> Judgement:
    """Growth of the compiled program (optimised HLO instructions) between the sizes; a ``constant`` verdict
    needs the loops to run more iterations at the larger size, else it is vacuous."""
    spec = claims.program_size
    assert spec is not None
    param, sizes = str(figures["param"]), [int(s) for s in figures["sizes"]]
    wrong = _wrong_sizes(spec.param, spec.sizes, param, sizes)
    if wrong:
        return Judgement("inconclusive", {"param": param, "sizes": sizes}, wrong)
    hlo = [int(x) for x in figures["hlo_instructions"]]
    loops = [int(x) for x in figures["hlo_while_loops"]]
    eqs = [int(x) for x in figures["equations"]]
    trips = [None if t is None else int(t) for t in figures.get("trips") or [None] * len(sizes)]
    fit = growth_fit(sizes, hlo)
    g = str(fit["growth"])
    prims = [str(p) for p in figures.get("loop_primitives") or []]
    measured = {"param": param, "sizes": sizes, "hlo_instructions": hlo, "growth": g, "fit": fit,
                "hlo_while_loops": loops, "equations": eqs, "equations_growth": growth(sizes, eqs), "trips": trips,
                "loop_primitives": list(figures.get("loop_primitives") or [])}
    verdict = _growth_verdict(g, spec.growth)
    note = ""
    if verdict == "held" and g == "constant" and not (trips[0] is not None and trips[-1] is not None
                                                      and trips[-1] > trips[0]):
        verdict = "inconclusive"
        note = (f"; inconclusive: the loops run {_pair(trips)} iterations, so `{param}` does not make the "
                "computation grow and a constant program proves nothing")
    return Judgement(verdict, measured, (
        f"compiled program {_pair(hlo)} HLO instructions ({_pair(loops)} while loops) at {param}={_pair(sizes)}: "
        f"{_slope(fit, 'instructions')}, {g} (claimed {spec.growth}); jaxpr {_pair(eqs)} equations; "
        f"loop iterations {_pair(trips)}; loop primitives: {', '.join(map(str, prims)) or 'none'}{note}"))


def early_exit_verdict(figures: Mapping[str, Any]) -> tuple[str, str]:
    """``yes``/``no``/``inconclusive`` and the evidence for ``early_exit: {param, sizes[, stop, stops]}`` work
    figures: ``yes`` when the work grows from 1 to the smaller bound and not beyond it, and moves with the stop
    argument at the largest bound (without ``stop`` such figures are ``inconclusive``: a capped bound gives
    them too); ``no`` when it keeps growing with the bound, or when it
    stops at the same place whatever the stop argument (a capped bound such as ``range(min(n, 10))``)."""
    w1, wa, wb = (int(w) for w in figures["work"])
    points = [int(p) for p in figures["points"]]
    param = figures["param"]
    if wb > wa:
        verdict = "no"
    elif wa > w1:
        verdict = "yes"
    else:
        verdict = "inconclusive"
    evidence = (f"work (loop iterations + traced equations) {w1} → {wa} → {wb} at {param}="
                f"{points[0]} → {points[1]} → {points[2]}: " + {
                    "yes": "it grows with a small bound and stops growing",
                    "no": "it keeps growing with the bound: the loop runs to its bound",
                    "inconclusive": "the bound changes nothing, so this proves neither"}[verdict])
    stop = figures.get("stop")
    if stop is not None:
        work = [int(w) for w in figures.get("stop_work") or ()]
        stops = [str(v) for v in figures.get("stops") or ()]
        moved = len(set(work)) > 1
        evidence += (f"; at {param}={points[2]} the work is {_pair(work)} at {stop}={_pair(stops)}: "
                     + ("the stopping point moves with its argument" if moved else
                        "it does not move with the stop argument (a fixed cap, not an early stop)"))
        if verdict == "yes" and not moved:
            verdict = "no"
    elif verdict == "yes":
        # a `for i in range(min(n, 10))` with no break does the same work: this proves neither
        verdict = "inconclusive"
        evidence += ("; without a stop argument (`stop`, `stops`) this cannot tell a break from a capped bound, "
                     "so it proves neither")
    return verdict, evidence


def _judge_early_exit(claims: Claims, figures: Mapping[str, Any]) -> Judgement:
    if isinstance(claims.early_exit, EarlyExitClaim):
        stops, evidence = early_exit_verdict(figures)
        verdict = {"yes": "held", "no": "violated"}.get(stops, "inconclusive")
        measured: dict[str, Any] = {"param": figures["param"], "sizes": [int(p) for p in figures["points"]],
                                    "work": [int(w) for w in figures["work"]], "stops_early": stops}
        if figures.get("stop") is not None:
            measured.update(stop=figures["stop"], stops=list(figures.get("stops") or ()),
                            stop_work=[int(w) for w in figures.get("stop_work") or ()])
        return Judgement(verdict, measured, f"{evidence}; early exit claimed")
    stops_on_state, whiles = bool(figures["stops_on_state"]), int(figures["while_loops"])
    claimed = bool(claims.early_exit)
    if stops_on_state:
        what = "contains a `while` loop whose condition reads state its body computes: it can stop early"
    elif whiles:
        what = "contains only counted `while` loops (a counter against a bound): no early exit"
    else:
        what = "contains no `while` loop (a fixed-length scan, an unrolled loop, or none)"
    return Judgement("held" if stops_on_state == claimed else "violated",
                     {"stops_on_state": stops_on_state, "while_loops": whiles},
                     f"the traced program {what}; early exit claimed {claimed}")


def _judge_residuals(claims: Claims, figures: Mapping[str, Any]) -> Judgement:
    spec = claims.residuals
    assert spec is not None
    mine, theirs = int(figures["residual_bytes"]), int(figures["baseline_residual_bytes"])
    factor = theirs / max(mine, 1)
    verdict = "held" if factor >= float(spec.at_least) else "violated"
    base = figures.get("baseline", spec.baseline)
    return Judgement(verdict, {"residual_bytes": mine, "baseline_residual_bytes": theirs,
                               "saving_factor": round(factor, 3)},
                     f"saves {theirs} B → {mine} B of residuals vs {base}: factor {factor:.2f} "
                     f"(claimed ≥ {spec.at_least})")


def speed_band(seconds: Sequence[float], baseline_seconds: Sequence[float]) -> tuple[float, float, float]:
    """(low, median, high) of the per-round ratios baseline ÷ implementation: with 5 rounds or more the single
    lowest and highest are left out (one disturbed round does not widen the band), else the full range."""
    r = sorted(b / max(a, 1e-12) for a, b in zip(seconds, baseline_seconds, strict=True))
    if not r:
        raise ValueError("no timed rounds")
    edge = r[1:-1] if len(r) >= 5 else r
    return edge[0], statistics.median(r), edge[-1]


def speed_verdict(seconds: Sequence[float], baseline_seconds: Sequence[float], at_least: float) -> str:
    """``held`` when the noise band is at or above ``at_least``, ``violated`` when it is all below,
    ``inconclusive`` when it straddles it (never a verdict that flips with noise)."""
    low, _, high = speed_band(seconds, baseline_seconds)
    if low >= at_least:
        return "held"
    if high < at_least:
        return "violated"
    return "inconclusive"


#: Fewer timed rounds than this prove nothing (one disturbed round could decide).
MIN_SPEED_ROUNDS = 3


def _judge_speedup(claims: Claims, figures: Mapping[str, Any]) -> Judgement:
    """The noise band against ``at_least``; ``inconclusive`` (with the figures) when it straddles it, when the
    time budget ran out (``exhausted``) or when fewer than :data:`MIN_SPEED_ROUNDS` rounds were timed: a slow
    or loaded machine never turns a measurement into a verdict."""
    spec = claims.speedup
    assert spec is not None
    mine = [float(s) for s in figures.get("seconds") or ()]
    theirs = [float(s) for s in figures.get("baseline_seconds") or ()]
    base = figures.get("baseline", spec.baseline)
    exhausted = bool(figures.get("exhausted"))
    measured: dict[str, Any] = {"at_least": spec.at_least, "seed_figure": spec.seed_figure, "baseline": base,
                                "rounds": len(mine), "device_kind": figures.get("device_kind", ""),
                                "exhausted": exhausted}
    for key in ("budget_s", "elapsed_s", "planned_rounds", "calls_per_round"):
        if key in figures:
            measured[key] = figures[key]
    budget = (f"the time budget of {figures.get('budget_s')} s ran out after {len(mine)} of "
              f"{figures.get('planned_rounds', '?')} rounds ({figures.get('elapsed_s')} s spent)")
    if not mine:
        measured.update(speedup=None, band=None)
        why = budget if exhausted else "no timed round"
        return Judgement("inconclusive", measured, f"{why} vs {base}: nothing to judge, inconclusive")
    low, mid, high = speed_band(mine, theirs)
    verdict = speed_verdict(mine, theirs, float(spec.at_least))
    measured.update(speedup=round(mid, 2), band=[round(low, 2), round(high, 2)],
                    seconds=statistics.median(mine), baseline_seconds=statistics.median(theirs))
    seed = f"; the seed reports {spec.seed_figure}×" if spec.seed_figure else ""
    note = ""
    if exhausted:
        verdict, note = "inconclusive", f"; {budget}, so this proves nothing"
    elif len(mine) < MIN_SPEED_ROUNDS:
        verdict, note = "inconclusive", f"; only {len(mine)} rounds (fewer than {MIN_SPEED_ROUNDS}) prove nothing"
    return Judgement(verdict, measured, (
        f"{mid:.1f}× faster than {base} (noise band {low:.1f}–{high:.1f}× over {len(mine)} interleaved "
        f"rounds; claimed ≥ {spec.at_least}×{seed}){note}: {verdict}"))


def _judge_observe(claims: Claims, figures: Mapping[str, Any]) -> Judgement:
    """An observation (fused kernels, a donated buffer, evaluated operands, ...): :mod:`._observation_verdicts`."""
    from ._observation_verdicts import judge_observation

    assert claims.observe is not None
    verdict, measured, message = judge_observation(claims.observe, figures)
    return Judgement(verdict, {"what": claims.observe.what, **measured}, message)


_JUDGES = {
    "jit": _judge_jit,
    "grad": _judge_grad,
    "memory": _judge_memory,
    "program_size": _judge_program_size,
    "early_exit": _judge_early_exit,
    "residuals": _judge_residuals,
    "speedup": _judge_speedup,
    "observe": _judge_observe,
}




def judge(claim: str, claims: Claims, figures: Mapping[str, Any]) -> Judgement:
    """The verdict on ``claim`` from ``figures`` (the module docstring's shapes), judged against ``claims``
    (the implementation's claims, :meth:`Claims.for_implementation`). Pure: no JAX, no NumPy, no I/O.

    Raises KeyError for an unknown claim kind and ValueError (or KeyError) for figures that lack what the
    claim needs; a claim the catalog does not declare raises ValueError.
    """
    if claim not in _JUDGES:
        raise KeyError(f"{claim!r} is not a claim kind ({', '.join(_JUDGES)})")
    if claims.claimed(claim) is None:
        raise ValueError(f"the catalog declares no `{claim}` claim here")
    return _JUDGES[claim](claims, figures)


def claim_result(pattern: str, implementation: str, claim: str, claims: Claims, figures: Mapping[str, Any],
                 device: str = "") -> ClaimResult:
    """:func:`judge` wrapped in the report's :class:`ClaimResult` (claimed value, seed wording, device)."""
    j = judge(claim, claims, figures)
    return ClaimResult(pattern, implementation, claim, claims.claimed(claim), j.verdict, j.measured, j.message,
                       seed_claim=claims.settings.seed_claim, device=device)
