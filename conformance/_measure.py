"""Measure the catalog's claims with public JAX APIs (see docs/claims.md); no pytest here.

| claim          | measured with                                                       |
|----------------|---------------------------------------------------------------------|
| `jit`          | calling ``jax.jit(fn)`` on the base case                            |
| `grad`         | ``jax.jvp`` (forward) and ``jax.vjp`` (reverse) w.r.t. ``wrt``      |
| `memory`       | forward: ``jit(fn).lower().compile().memory_analysis()`` compiled   |
|                | temp + output bytes; backward: bytes of the residuals ``jax.vjp``   |
|                | saves; at two sizes                                                 |
| `program_size` | HLO instructions of the compiled, optimised program (every          |
|                | computation: loop bodies, fusions), at two sizes; its ``while``     |
|                | loops and the jaxpr's equation count are reported beside it         |
| `early_exit`   | a ``while`` primitive (a loop that stops on a traced condition)     |
| `residuals`    | residual bytes of a baseline implementation ÷ this one's            |
| `speedup`      | median wall time of a baseline ÷ this one (reported, not failing)   |

Two layers: *figures* (``collect_figures``, and the facts it is built from:
``run_jit``, ``grad_modes``, ``memory_figures``, ``program_facts``,
``early_exit_facts``, ``residual_bytes``, ``speed_figures``) run the
implementation and return plain figures, never judging; *verdicts* are
computed from those figures by :func:`._claim_verdicts.judge`, which needs no
JAX (so it can run where no plugin code ran). ``measure`` is
``judge(collect_figures(...))``. ``jaxpat claims`` (``_claims_cli``) and the
pytest items (``_claims``) use both.
"""

from __future__ import annotations

import hashlib
import re
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxpat._util import first_line
from jaxpat.catalog import CLAIM_KINDS, ArrayValue, Case, Claims, EarlyExitClaim, GeneratedArray, Pattern
from jaxpat.patterns import Implementation

from ._claim_verdicts import (
    MIN_SPEED_ROUNDS,
    ClaimResult,
    claim_result,
    early_exit_verdict,
    growth,
    growth_sizes,
    memory_vacuous,
    outcome_of,
    speed_band,
)
from ._claim_verdicts import speed_verdict as _speed_verdict
from ._execute import build_args, config_scope, jitted

__all__ = [
    "CLAIM_NAMES",
    "ClaimResult",
    "EarlyExitFacts",
    "MemoryFigures",
    "Outcome",
    "ProgramFacts",
    "SpeedFigures",
    "base_args",
    "base_case",
    "claims_for",
    "collect_figures",
    "compiled_facts",
    "early_exit_facts",
    "early_exit_work",
    "grad_modes",
    "growth",
    "loop_trips",
    "measure",
    "measure_all",
    "memory_figures",
    "program_facts",
    "residual_bytes",
    "reverse_program_size",
    "run_jit",
    "speed_budget_for",
    "speed_figures",
    "speed_verdict",
]

#: Claims that are measured (the catalog's claim kinds; the settings of `claims:` describe them).
CLAIM_NAMES = CLAIM_KINDS
#: Bytes (or equations) of noise below which growth is not judged.
SLACK = 256
SPEEDUP_REPEATS = 15
#: Speed claims: rounds of interleaved timing (the noise band is their range), calls per round.
SPEED_ROUNDS = 7
SPEED_CALLS = 5
#: Seconds a speed claim may spend timing (warm-up included), well inside the item timeout (60 s default).
SPEED_BUDGET_S = 20.0


def speed_budget_for(timeout: float | None) -> float:
    """The time budget of a speed claim under an item timeout of ``timeout`` seconds (0 or None: none): a
    third of it, at most :data:`SPEED_BUDGET_S`, so that compiling and judging fit in what is left."""
    if not timeout or timeout <= 0:
        return SPEED_BUDGET_S
    return min(SPEED_BUDGET_S, float(timeout) / 3)


@dataclass(frozen=True)
class Outcome:
    """Whether a call worked: ``detail`` is ``works`` or ``"TypeName: first line"``; ``error`` the exception."""

    ok: bool
    detail: str
    error: BaseException | None = None


@dataclass(frozen=True)
class CompiledFacts:
    """``jax.jit(fn).lower(*args).compile()`` at one size: what XLA will run.

    ``instructions``: HLO instructions of the optimised module, every computation
    (loop bodies, fusions) included; ``while_loops``: ``while`` instructions in it;
    ``temp_bytes``/``output_bytes``: the memory analysis (None when the backend has
    none); ``fingerprint``: a hash of the HLO text, equal only for the same program.
    """

    instructions: int
    while_loops: int
    temp_bytes: int | None
    output_bytes: int | None
    fingerprint: str


@dataclass(frozen=True)
class MemoryFigures:
    """Memory at each size of ``param`` (smallest first): compiled temp and output bytes (forward), residual
    bytes (backward).

    ``temp_bytes``/``output_bytes`` are None when the backend returns no memory analysis;
    ``residual_bytes`` is None when reverse mode raised (``backward_error``). ``trips``:
    loop iterations the computation runs at each size (:func:`loop_trips`), ``equations``:
    jaxpr equations at each size, ``fingerprints``: a hash of each compiled program.
    """

    param: str
    sizes: tuple[int, ...]
    temp_bytes: tuple[int, ...] | None = None
    residual_bytes: tuple[int, ...] | None = None
    backward_error: BaseException | None = None
    output_bytes: tuple[int, ...] | None = None
    trips: tuple[int, ...] | None = None
    equations: tuple[int, ...] | None = None
    fingerprints: tuple[str, ...] | None = None

    @property
    def same_program(self) -> bool | None:
        """Whether every size compiled to the same program (None when not compiled)."""
        return None if not self.fingerprints else len(set(self.fingerprints)) == 1

    @property
    def forward_bytes(self) -> tuple[int, ...] | None:
        """Temp + output bytes at each size: the figure the forward verdict is computed from."""
        if self.temp_bytes is None:
            return None
        out = self.output_bytes or (0,) * len(self.temp_bytes)
        return tuple(t + o for t, o in zip(self.temp_bytes, out, strict=True))

    def forward_growth(self) -> str | None:
        """Growth of the forward memory (temp + output bytes), or None when unmeasured."""
        total = self.forward_bytes
        return None if total is None else growth(self.sizes, total)

    def temp_growth(self) -> str | None:
        return None if self.temp_bytes is None else growth(self.sizes, self.temp_bytes)

    def output_growth(self) -> str | None:
        return None if self.output_bytes is None else growth(self.sizes, self.output_bytes)

    def backward_growth(self) -> str | None:
        """Growth of the residual bytes, or None when unmeasured."""
        return None if self.residual_bytes is None else growth(self.sizes, self.residual_bytes)

    def vacuous(self) -> str | None:
        """Why a ``constant`` verdict would prove nothing here, or None when the sizes reached the computation."""
        return memory_vacuous({"param": self.param, "fingerprints": self.fingerprints, "trips": self.trips,
                               "equations": self.equations})


@dataclass(frozen=True)
class ProgramFacts:
    """The traced program: equations (sub-jaxprs included) and the primitive names it uses."""

    equations: int
    primitives: tuple[str, ...]
    compiled: CompiledFacts | None = None
    trips: int | None = None

    @property
    def loop_primitives(self) -> list[str]:
        return [p for p in self.primitives if p in ("scan", "while")]


@dataclass(frozen=True)
class EarlyExitFacts:
    """``while`` loops in the traced program, and whether one stops on state its body computes."""

    stops_on_state: bool
    while_loops: int


def claims_for(pattern: Pattern, impl: Implementation) -> Claims:
    """The claims that apply to ``impl``: the pattern's, overlaid by ``claims.implementations[NAME]``."""
    return pattern.claims.for_implementation(impl.id, impl.name)


def base_case(pattern: Pattern, claims: Claims) -> Case:
    """The case measurements start from: ``claims.base_case``, else the pattern's first."""
    name = claims.settings.base_case
    return pattern.case(name) if name else pattern.cases[0]


# ---------------------------------------------------------------------------
# arguments
# ---------------------------------------------------------------------------

def base_args(pattern: Pattern, claims: Claims, device: Any, size: int | None = None,
              param: str | None = None) -> list[Any]:
    """The base case's arguments on ``device``; with ``param``, that argument set to ``size``.

    A static ``param`` becomes the int; an array one is resized along axis 0
    (a 0-d array becomes the traced size itself, e.g. a loop bound).
    """
    case = base_case(pattern, claims)
    args = build_args(pattern, case, device)
    if param is not None and size is not None:
        i = pattern.signature.args.index(param)
        if param in pattern.signature.static:
            args[i] = size
        else:
            base = case.args[param]
            if not isinstance(base, ArrayValue | GeneratedArray):
                raise ValueError(f"`param` {param!r} must be a static int or an array argument")
            arr = base.to_numpy()
            new = np.asarray(size, arr.dtype) if arr.ndim == 0 else np.resize(arr, (size, *arr.shape[1:]))
            args[i] = jax.device_put(new, device)
    return args


def _wrt(pattern: Pattern, claims: Claims) -> str:
    if claims.settings.wrt:
        return claims.settings.wrt
    for case in pattern.cases:
        if case.grad:
            return case.grad.wrt
    static = set(pattern.signature.static)
    return next(a for a in pattern.signature.args if a not in static)


def _split(pattern: Pattern, claims: Claims, args: list[Any]) -> tuple[int, set[int], tuple]:
    """(index of ``wrt``, indices of static arguments, the other dynamic arguments)."""
    wrt = pattern.signature.args.index(_wrt(pattern, claims))
    static = {i for i, a in enumerate(pattern.signature.args) if a in pattern.signature.static}
    return wrt, static, tuple(a for i, a in enumerate(args) if i != wrt and i not in static)


# ---------------------------------------------------------------------------
# facts
# ---------------------------------------------------------------------------

def _run_catching(fn: Callable[[], Any]) -> Outcome:
    try:
        jax.block_until_ready(fn())
        return Outcome(True, "works")
    except Exception as exc:
        return Outcome(False, first_line(exc, 160), exc)


def run_jit(pattern: Pattern, impl: Implementation, claims: Claims, device: Any) -> Outcome:
    """Whether ``jax.jit(impl.fn)`` runs on the base case."""
    args = base_args(pattern, claims, device)
    return _run_catching(lambda: jitted(impl.fn, pattern.signature)(*args))


def grad_modes(pattern: Pattern, impl: Implementation, claims: Claims, device: Any,
               args: list[Any] | None = None) -> dict[str, Outcome]:
    """Whether forward (jvp) and reverse (vjp) differentiation work at the base case.

    With ``claims.under_jit`` the derivative is taken inside ``jax.jit`` with
    every non-static argument traced (e.g. a loop bound that is only known at
    run time); otherwise eagerly, with concrete arguments.
    """
    args = args if args is not None else base_args(pattern, claims, device)
    wrt, static, dyn = _split(pattern, claims, args)

    def call(x: Any, dyn: tuple) -> Any:
        it = iter(dyn)
        return impl.fn(*[x if i == wrt else (args[i] if i in static else next(it)) for i in range(len(args))])

    def fwd(x: Any, dyn: tuple) -> Any:
        return jax.jvp(lambda v: call(v, dyn), (x,), (jax.tree.map(jnp.ones_like, x),))

    def rev(x: Any, dyn: tuple) -> Any:
        out, pullback = jax.vjp(lambda v: call(v, dyn), x)
        return pullback(jax.tree.map(jnp.ones_like, out))

    wrap: Callable[[Callable], Callable] = jax.jit if claims.settings.under_jit else (lambda f: f)
    x = args[wrt]
    return {
        "forward": _run_catching(lambda: wrap(fwd)(x, dyn)),
        "reverse": _run_catching(lambda: wrap(rev)(x, dyn)),
    }


def compiled_facts(pattern: Pattern, impl: Implementation, args: list[Any]) -> CompiledFacts:
    """Compile ``jit(impl.fn)`` at ``args``; count the optimised HLO's instructions and loops, read its memory."""
    compiled = jitted(impl.fn, pattern.signature).lower(*args).compile()
    text = compiled.as_text() or ""
    instructions = sum(1 for line in text.splitlines() if _HLO_INSTRUCTION.match(line))
    stats = compiled.memory_analysis()
    temp = None if stats is None else int(stats.temp_size_in_bytes)
    out = None if stats is None else int(stats.output_size_in_bytes)
    return CompiledFacts(instructions, len(_HLO_WHILE.findall(text)), temp, out,
                         hashlib.sha256(_HLO_NAMES.sub("", text).encode()).hexdigest()[:16])


#: An HLO instruction line: ``%name = type op(...)`` or ``ROOT %name = ...`` (names may lack the %).
_HLO_INSTRUCTION = re.compile(r"^\s*(?:ROOT\s+)?%?[\w.\-]+\s*=\s*\S")
_HLO_WHILE = re.compile(r"\bwhile\(")
#: Module names and metadata differ between two compilations of the same program.
_HLO_NAMES = re.compile(r"HloModule \S+|metadata=\{[^}]*\}")


def temp_bytes(pattern: Pattern, impl: Implementation, args: list[Any]) -> int | None:
    """Compiled temp memory of ``jit(impl.fn)`` at ``args``; None when the backend has no memory analysis."""
    return compiled_facts(pattern, impl, args).temp_bytes


_CALLS = ("pjit", "jit", "closed_call", "core_call", "remat", "checkpoint", "custom_jvp_call", "custom_vjp_call",
          "custom_vjp_call_jaxpr")


def _eval_counting(jaxpr: Any, consts: list[Any], args: list[Any], trips: list[int]) -> list[Any]:
    """Evaluate ``jaxpr`` eagerly like ``jax.core.eval_jaxpr``, running ``while`` loops in Python to count
    their iterations and reading each ``scan``'s length; every other primitive is bound as is."""
    from jax.extend.core import ClosedJaxpr, Literal

    env: dict[Any, Any] = {}

    def read(v: Any) -> Any:
        return v.val if isinstance(v, Literal) else env[v]

    env.update(zip(jaxpr.constvars, consts, strict=True))
    env.update(zip(jaxpr.invars, args, strict=True))
    for eqn in jaxpr.eqns:
        vals = [read(v) for v in eqn.invars]
        name, params = eqn.primitive.name, eqn.params
        if name == "while":
            nc, nb = params["cond_nconsts"], params["body_nconsts"]
            cond, body = params["cond_jaxpr"], params["body_jaxpr"]
            cconsts, bconsts, carry = vals[:nc], vals[nc:nc + nb], vals[nc + nb:]
            n = 0
            while bool(_eval_counting(cond.jaxpr, list(cond.consts), cconsts + carry, trips)[0]):
                carry = _eval_counting(body.jaxpr, list(body.consts), bconsts + carry, trips)
                n += 1
            trips.append(n)
            outs = carry
        elif name in _CALLS and any(k in params for k in ("jaxpr", "call_jaxpr", "fun_jaxpr")):
            sub = next(params[k] for k in ("jaxpr", "call_jaxpr", "fun_jaxpr") if k in params)
            if isinstance(sub, ClosedJaxpr):
                outs = _eval_counting(sub.jaxpr, list(sub.consts), vals, trips)
            else:
                outs = _eval_counting(sub, [], vals, trips)
        else:
            if name == "scan":
                trips.append(int(params["length"]))
            outs = eqn.primitive.bind(*vals, **params)
            if not eqn.primitive.multiple_results:
                outs = [outs]
        env.update(zip(eqn.outvars, outs, strict=True))
    return [read(v) for v in jaxpr.outvars]


def loop_trips(pattern: Pattern, impl: Implementation, args: list[Any]) -> int:
    """Loop iterations the computation runs at ``args``: the sum over its ``while`` loops (run and counted)
    and ``scan``s (their length), nested loops counted each time they run. 0 for a program without loops."""
    static = [i for i, a in enumerate(pattern.signature.args) if a in pattern.signature.static]
    closed = jax.make_jaxpr(impl.fn, static_argnums=static)(*args)
    dyn = [a for i, a in enumerate(args) if i not in static]
    trips: list[int] = []
    _eval_counting(closed.jaxpr, list(closed.consts), jax.tree.leaves(dyn), trips)
    return sum(trips)


def residual_bytes(pattern: Pattern, impl: Implementation, claims: Claims, args: list[Any]) -> int:
    """Bytes of the residuals ``jax.vjp`` saves for the backward pass (the pullback's leaves).

    With ``claims.under_jit`` the pullback is built inside ``jax.jit`` with every
    non-static argument traced, and returned from it. Raises what reverse mode raises.
    """
    wrt, static, dyn = _split(pattern, claims, args)

    def forward(x: Any, dyn: tuple) -> Any:
        it = iter(dyn)
        full = [x if i == wrt else (args[i] if i in static else next(it)) for i in range(len(args))]
        return jax.vjp(lambda v: impl.fn(*[v if i == wrt else a for i, a in enumerate(full)]), x)

    build = jax.jit(forward) if claims.settings.under_jit else forward
    out, pullback = build(args[wrt], dyn)
    # jax.vjp builds a pullback even for loops that cannot run backwards (while_loop):
    # applying it is what raises, so a backward pass that does not exist is not measured as O(1).
    jax.block_until_ready(pullback(jax.tree.map(jnp.ones_like, out)))
    return int(sum(np.asarray(leaf).nbytes for leaf in jax.tree.leaves(pullback)))


def memory_figures(pattern: Pattern, impl: Implementation, claims: Claims, device: Any, *,
                   forward: bool = True, backward: bool = True) -> MemoryFigures:
    """Forward (compiled temp and output bytes) and backward (residual bytes) memory at each of
    :func:`growth_sizes` of ``claims.memory.sizes``, with the loop trips, equations and compiled programs'
    fingerprints. ``claims.memory`` must be set (its ``param`` and ``sizes`` are used, not its claimed growth).
    """
    spec = claims.memory
    if spec is None:
        raise ValueError("memory_figures needs a `memory` claim (param and sizes)")
    param, sizes = spec.param, tuple(growth_sizes(spec.sizes))
    args = [base_args(pattern, claims, device, n, param) for n in sizes]
    temp = out = res = trips = eqs = prints = None
    err: BaseException | None = None
    if forward:
        compiled = [compiled_facts(pattern, impl, a) for a in args]
        if all(c.temp_bytes is not None for c in compiled):
            temp = tuple(int(c.temp_bytes or 0) for c in compiled)
            out = tuple(int(c.output_bytes or 0) for c in compiled)
        prints = tuple(c.fingerprint for c in compiled)
        trips = tuple(loop_trips(pattern, impl, a) for a in args)
        eqs = tuple(program_facts(pattern, impl, a).equations for a in args)
    if backward:
        try:
            res = tuple(residual_bytes(pattern, impl, claims, a) for a in args)
        except Exception as exc:
            err = exc
    return MemoryFigures(param, sizes, temp, res, err, out, trips, eqs, prints)


def _sub_jaxprs(params: Mapping[str, Any]) -> list[Any]:
    """The jaxprs inside an equation's params (loop bodies, branches), open or closed.

    Written here rather than imported: ``jax.extend.core.jaxprs_in_params`` is newer
    than the oldest JAX jaxpat supports.
    """
    from jax.extend.core import ClosedJaxpr, Jaxpr

    out: list[Any] = []
    for value in params.values():
        for v in value if isinstance(value, tuple | list) else (value,):
            if isinstance(v, ClosedJaxpr):
                out.append(v.jaxpr)
            elif isinstance(v, Jaxpr):
                out.append(v)
    return out


def _count_eqns(jaxpr: Any, names: set[str]) -> int:
    n = 0
    for eqn in jaxpr.eqns:
        n += 1
        names.add(eqn.primitive.name)
        for sub in _sub_jaxprs(eqn.params):
            n += _count_eqns(sub, names)
    return n


def _traced(pattern: Pattern, impl: Implementation, args: list[Any]) -> Any:
    static = [i for i, a in enumerate(pattern.signature.args) if a in pattern.signature.static]
    return jax.make_jaxpr(impl.fn, static_argnums=static)(*args).jaxpr


def program_facts(pattern: Pattern, impl: Implementation, args: list[Any], *, compiled: bool = False) -> ProgramFacts:
    """Equation count (sub-jaxprs included) and sorted primitive names of the traced program; with
    ``compiled``, also the compiled program (:func:`compiled_facts`) and the loop trips (:func:`loop_trips`)."""
    names: set[str] = set()
    n = _count_eqns(_traced(pattern, impl, args), names)
    if not compiled:
        return ProgramFacts(n, tuple(sorted(names)))
    return ProgramFacts(n, tuple(sorted(names)), compiled_facts(pattern, impl, args), loop_trips(pattern, impl, args))


def _while_eqns(jaxpr: Any) -> list[Any]:
    out = []
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "while":
            out.append(eqn)
        for sub in _sub_jaxprs(eqn.params):
            out.extend(_while_eqns(sub))
    return out


def _stops_on_state(eqn: Any) -> bool:
    """True when a ``while`` loop's condition reads carried state that its body changes
    other than by counting (``i + 1``) or passing through (a fixed bound): a loop that
    can stop early on its own values, as opposed to a counted loop such as a fori_loop."""
    from jax.extend.core import Literal

    cond, body = eqn.params["cond_jaxpr"].jaxpr, eqn.params["body_jaxpr"].jaxpr
    n_cond, n_body = eqn.params["cond_nconsts"], eqn.params["body_nconsts"]
    needed = {v for v in cond.outvars if not isinstance(v, Literal)}
    for e in reversed(cond.eqns):
        if any(o in needed for o in e.outvars):
            needed |= {v for v in e.invars if not isinstance(v, Literal)}
    producers = {o: e for e in body.eqns for o in e.outvars}
    for i, var in enumerate(cond.invars[n_cond:]):
        if var not in needed:
            continue
        before, after = body.invars[n_body + i], body.outvars[i]
        if after is before:
            continue  # a bound passed through unchanged
        step = producers.get(after)
        counting = step is not None and step.primitive.name == "add" and before in step.invars and any(
            isinstance(v, Literal) for v in step.invars)
        if not counting:
            return True
    return False


def early_exit_facts(pattern: Pattern, impl: Implementation, claims: Claims, device: Any) -> EarlyExitFacts:
    """The ``while`` loops of the program traced at the base case, and whether one can stop early."""
    loops = _while_eqns(_traced(pattern, impl, base_args(pattern, claims, device)))
    return EarlyExitFacts(any(_stops_on_state(e) for e in loops), len(loops))


@dataclass(frozen=True)
class EarlyExitWork:
    """The work a computation does (loop iterations + traced equations) at three values of its bound: 1, a
    and b; with a ``stop`` argument, also at each of ``stops`` with the bound at b. ``verdict``/``evidence``:
    :func:`._claim_verdicts.early_exit_verdict` of :meth:`figures`."""

    param: str
    sizes: tuple[int, int, int]
    work: tuple[int, int, int]
    stop: str | None = None
    stops: tuple[float, ...] = ()
    stop_work: tuple[int, ...] = ()

    def figures(self) -> dict[str, Any]:
        """The plain figures the verdict is judged from."""
        out: dict[str, Any] = {"param": self.param, "points": list(self.sizes), "work": list(self.work)}
        if self.stop is not None:
            out.update(stop=self.stop, stops=list(self.stops), stop_work=list(self.stop_work))
        return out

    @property
    def verdict(self) -> str:
        return early_exit_verdict(self.figures())[0]

    @property
    def evidence(self) -> str:
        return early_exit_verdict(self.figures())[1]


def _work(pattern: Pattern, impl: Implementation, args: list[Any]) -> int:
    return program_facts(pattern, impl, args).equations + loop_trips(pattern, impl, args)


def early_exit_work(pattern: Pattern, impl: Implementation, claims: Claims, device: Any) -> EarlyExitWork:
    """Measure an ``early_exit: {param, sizes[, stop, stops]}`` claim: the work done at ``param`` = 1, a and b,
    and at each value of ``stop`` with ``param`` = b."""
    spec = claims.early_exit
    if not isinstance(spec, EarlyExitClaim):
        raise ValueError("early_exit_work needs `early_exit: {param, sizes}`")
    sizes = sorted(spec.sizes)
    points = (1, sizes[0], sizes[-1])
    w1, wa, wb = (_work(pattern, impl, base_args(pattern, claims, device, n, spec.param)) for n in points)
    stop_work: list[int] = []
    if spec.stop is not None and spec.stops:
        i = pattern.signature.args.index(spec.stop)
        for value in spec.stops:
            args = base_args(pattern, claims, device, points[-1], spec.param)
            if spec.stop in pattern.signature.static:
                args[i] = value
            else:
                args[i] = jax.device_put(np.asarray(value, np.asarray(args[i]).dtype), device)
            stop_work.append(_work(pattern, impl, args))
    return EarlyExitWork(spec.param, points, (w1, wa, wb), spec.stop, tuple(spec.stops or ()), tuple(stop_work))


def reverse_program_size(pattern: Pattern, impl: Implementation, claims: Claims, args: list[Any]) -> int:
    """Equations (sub-jaxprs included) of the traced reverse-mode program: ``jax.vjp`` and its pullback applied."""
    wrt = _split(pattern, claims, args)[0]

    def rev(x: Any) -> Any:
        out, pullback = jax.vjp(lambda v: impl.fn(*[v if i == wrt else a for i, a in enumerate(args)]), x)
        return pullback(jax.tree.map(jnp.ones_like, out))

    return _count_eqns(jax.make_jaxpr(rev)(args[wrt]).jaxpr, set())


def median_time(fn: Callable[[], Any], repeats: int = SPEEDUP_REPEATS) -> float:
    """Median seconds of ``fn()`` (blocked until ready) over ``repeats`` runs after one warm-up."""
    jax.block_until_ready(fn())  # warm-up and compilation
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t)
    return statistics.median(times)


# ---------------------------------------------------------------------------
# figures: what a claim's verdict is computed from (plain JSON data)
# ---------------------------------------------------------------------------

def _outcome_figure(outcome: Outcome) -> dict[str, Any]:
    return outcome_of(outcome.error) if not outcome.ok and outcome.error is not None else (
        {"ok": outcome.ok, "detail": outcome.detail, "types": []})


def _jit_figures(pattern: Pattern, impl: Implementation, claims: Claims, device: Any) -> dict[str, Any]:
    return {"jit": _outcome_figure(run_jit(pattern, impl, claims, device))}


def _grad_figures(pattern: Pattern, impl: Implementation, claims: Claims, device: Any) -> dict[str, Any]:
    modes = grad_modes(pattern, impl, claims, device)
    return {mode: _outcome_figure(o) for mode, o in modes.items()} | {"under_jit": bool(claims.settings.under_jit)}


def _memory_figures(pattern: Pattern, impl: Implementation, claims: Claims, device: Any) -> dict[str, Any]:
    spec = claims.memory
    assert spec is not None
    figs = memory_figures(pattern, impl, claims, device, forward=spec.forward is not None,
                          backward=spec.backward is not None)
    out: dict[str, Any] = {"param": figs.param, "sizes": list(figs.sizes), "platform": device.platform}
    if spec.forward is not None:
        if figs.temp_bytes is None:
            out["forward"] = {"unavailable": f"the {device.platform} backend returns no memory analysis"}
        else:
            out["forward"] = {"temp_bytes": list(figs.temp_bytes),
                              "output_bytes": list(figs.output_bytes or [0] * len(figs.temp_bytes))}
        out["trips"] = list(figs.trips) if figs.trips else None
        out["equations"] = list(figs.equations) if figs.equations else None
        out["fingerprints"] = list(figs.fingerprints) if figs.fingerprints else None
    if spec.backward is not None:
        if figs.residual_bytes is not None:
            out["backward"] = {"residual_bytes": list(figs.residual_bytes)}
        else:
            out["backward"] = {"error": outcome_of(figs.backward_error) if figs.backward_error is not None
                               else {"ok": True, "detail": "unmeasured", "types": []}}
    return out


def _program_size_figures(pattern: Pattern, impl: Implementation, claims: Claims, device: Any) -> dict[str, Any]:
    spec = claims.program_size
    assert spec is not None
    param, sizes = spec.param, growth_sizes(spec.sizes)
    facts = [program_facts(pattern, impl, base_args(pattern, claims, device, n, param), compiled=True)
             for n in sizes]
    compiled = [f.compiled for f in facts]
    assert all(c is not None for c in compiled)
    return {"param": param, "sizes": sizes,
            "hlo_instructions": [c.instructions for c in compiled if c is not None],
            "hlo_while_loops": [c.while_loops for c in compiled if c is not None],
            "equations": [f.equations for f in facts], "trips": [f.trips for f in facts],
            "loop_primitives": facts[0].loop_primitives}


def _early_exit_figures(pattern: Pattern, impl: Implementation, claims: Claims, device: Any) -> dict[str, Any]:
    if isinstance(claims.early_exit, EarlyExitClaim):
        return early_exit_work(pattern, impl, claims, device).figures()
    facts = early_exit_facts(pattern, impl, claims, device)
    return {"stops_on_state": facts.stops_on_state, "while_loops": facts.while_loops}


def _impl_named(siblings: list[Implementation], name: str) -> Implementation:
    for i in siblings:
        if name in (i.name, i.id):
            return i
    raise LookupError(f"baseline implementation {name!r} not found among {[i.id for i in siblings]}")


def _residuals_figures(pattern: Pattern, impl: Implementation, claims: Claims, device: Any,
                       siblings: list[Implementation]) -> dict[str, Any]:
    spec = claims.residuals
    assert spec is not None
    base = _impl_named(siblings, spec.baseline)
    args = base_args(pattern, claims, device, spec.size, spec.param)
    return {"residual_bytes": residual_bytes(pattern, impl, claims, args),
            "baseline_residual_bytes": residual_bytes(pattern, base, claims, args), "baseline": base.id}


@dataclass(frozen=True)
class SpeedFigures:
    """Interleaved timings of an implementation and its baseline in one process.

    ``seconds``/``baseline_seconds``: one entry per round (each the median of its calls);
    ``ratios``: baseline ÷ implementation per round, the noise band is their range.
    ``exhausted``: the time budget ran out before every planned round was timed;
    ``elapsed``: seconds spent, warm-up included; ``planned_rounds``/``calls``: the plan after fitting it
    to the budget.
    """

    seconds: tuple[float, ...]
    baseline_seconds: tuple[float, ...]
    exhausted: bool = False
    elapsed: float = 0.0
    planned_rounds: int = 0
    calls: int = 0

    @property
    def ratios(self) -> tuple[float, ...]:
        return tuple(b / max(a, 1e-12) for a, b in zip(self.seconds, self.baseline_seconds, strict=True))

    def band(self) -> tuple[float, float, float]:
        """(low, median, high) ratio over the rounds (:func:`._claim_verdicts.speed_band`)."""
        return speed_band(self.seconds, self.baseline_seconds)


def speed_verdict(figures: SpeedFigures, at_least: float) -> str:
    """``held``, ``violated`` or ``inconclusive`` for ``figures`` (:func:`._claim_verdicts.speed_verdict`)."""
    return _speed_verdict(figures.seconds, figures.baseline_seconds, at_least)


def speed_figures(fn: Callable[[], Any], baseline: Callable[[], Any], *, rounds: int = SPEED_ROUNDS,
                  calls: int = SPEED_CALLS, clock: Callable[[], float] = time.perf_counter,
                  budget: float | None = None) -> SpeedFigures:
    """Time ``fn`` and ``baseline`` alternately (after one warm-up call each): ``rounds`` rounds of the median
    of ``calls`` calls, so both see the same machine load.

    With ``budget`` (seconds on ``clock``, warm-up included) one probe call of each measures what a round
    costs, and the plan shrinks to fit what is left: fewer calls per round first (down to one), then fewer
    rounds (down to :data:`MIN_SPEED_ROUNDS`). No call starts once the time spent plus the slowest call seen
    so far would pass the budget: the rounds timed so far come back with ``exhausted`` set, and a round cut
    short is dropped (a partial round would compare unequal loads)."""
    start = clock()
    slowest = 0.0

    def timed(f: Callable[[], Any], *, track: bool = True) -> float:
        nonlocal slowest
        t = clock()
        jax.block_until_ready(f())
        d = clock() - t
        if track:
            slowest = max(slowest, d)
        return d

    def room() -> bool:
        return budget is None or (clock() - start) + slowest <= budget

    timed(fn)  # warm-up (and compilation): the slowest call so far bounds what the next may cost
    exhausted = not room()
    if not exhausted:
        timed(baseline)
        exhausted = not room()
    if budget is not None and not exhausted:
        # one probe call of each: what a round of single calls costs now, compilation done
        per = timed(fn, track=False)
        per += timed(baseline, track=False) if room() else per
        left = budget - (clock() - start)
        if rounds * calls * per > left:
            calls = max(1, min(calls, int(left // (rounds * per))))
            if rounds * calls * per > left:
                rounds = max(MIN_SPEED_ROUNDS, min(rounds, int(left // per)))
    mine: list[float] = []
    theirs: list[float] = []
    for _ in range(rounds if not exhausted else 0):
        pair: list[float] = []
        for f in (fn, baseline):
            times = []
            for _ in range(calls):
                if not room():
                    exhausted = True
                    break
                times.append(timed(f))
            if exhausted:
                break
            pair.append(statistics.median(times))
        if exhausted:
            break
        mine.append(pair[0])
        theirs.append(pair[1])
    return SpeedFigures(tuple(mine), tuple(theirs), exhausted, clock() - start, rounds, calls)


def _speedup_figures(pattern: Pattern, impl: Implementation, claims: Claims, device: Any,
                     siblings: list[Implementation], budget: float | None = None) -> dict[str, Any]:
    spec = claims.speedup
    assert spec is not None
    base = _impl_named(siblings, spec.baseline)
    args = base_args(pattern, claims, device, spec.size, spec.param)
    budget = SPEED_BUDGET_S if budget is None else budget
    figs = speed_figures(lambda: impl.fn(*args), lambda: base.fn(*args), budget=budget)
    return {"seconds": list(figs.seconds), "baseline_seconds": list(figs.baseline_seconds), "baseline": base.id,
            "device_kind": getattr(device, "device_kind", ""), "budget_s": budget,
            "elapsed_s": round(figs.elapsed, 3), "exhausted": figs.exhausted, "planned_rounds": figs.planned_rounds,
            "calls_per_round": figs.calls}


def _observe_figures(pattern: Pattern, impl: Implementation, claims: Claims, device: Any,
                     siblings: list[Implementation], budget: float) -> dict[str, Any]:
    """An ``observe:`` claim's figures (:mod:`._observations`), at the base case with ``param`` set."""
    from ._observations import observe_figures

    spec = claims.observe
    assert spec is not None
    args = base_args(pattern, claims, device, spec.size, spec.param)
    base = _impl_named(siblings, spec.baseline) if spec.baseline else None
    return observe_figures(pattern, impl, spec, args, device, base=base, wrt=_split(pattern, claims, args)[0],
                           budget=budget, timer=speed_figures,
                           residuals=lambda which: residual_bytes(pattern, which, claims, args))


_FIGURES: dict[str, Callable[[Pattern, Implementation, Claims, Any], dict[str, Any]]] = {
    "jit": _jit_figures,
    "grad": _grad_figures,
    "memory": _memory_figures,
    "program_size": _program_size_figures,
    "early_exit": _early_exit_figures,
}


def collect_figures(name: str, pattern: Pattern, impl: Implementation, device: Any,
                    siblings: list[Implementation] | None = None, *,
                    speed_budget: float | None = None) -> dict[str, Any]:
    """Run ``impl`` to measure claim ``name`` on ``device`` under the base case's config; return the figures
    (plain JSON data, shapes in :mod:`._claim_verdicts`) without judging them. ``speed_budget``: seconds a
    speed claim may spend timing (default :data:`SPEED_BUDGET_S`)."""
    claims = claims_for(pattern, impl)
    if claims.claimed(name) is None:
        raise ValueError(f"{pattern.id} declares no `{name}` claim for {impl.id}")
    case = base_case(pattern, claims)
    with config_scope(case.config), jax.default_device(device):
        if name == "residuals":
            figures = _residuals_figures(pattern, impl, claims, device, siblings or [impl])
        elif name == "speedup":
            figures = _speedup_figures(pattern, impl, claims, device, siblings or [impl], speed_budget)
        elif name == "observe":
            figures = _observe_figures(pattern, impl, claims, device, siblings or [impl],
                                       SPEED_BUDGET_S if speed_budget is None else speed_budget)
        else:
            figures = _FIGURES[name](pattern, impl, claims, device)
    return figures | {"device": f"{device.platform}:{device.id}"}


def measure(name: str, pattern: Pattern, impl: Implementation, device: Any,
            siblings: list[Implementation] | None = None, *, speed_budget: float | None = None) -> ClaimResult:
    """Measure one claim of ``impl`` on ``device``: :func:`._claim_verdicts.judge` of :func:`collect_figures`."""
    claims = claims_for(pattern, impl)
    figures = collect_figures(name, pattern, impl, device, siblings, speed_budget=speed_budget)
    return claim_result(pattern.id, impl.id, name, claims, figures, device=figures["device"])


def measure_all(pattern: Pattern, impl: Implementation, device: Any,
                siblings: list[Implementation] | None = None) -> list[ClaimResult]:
    """Every measurable claim of ``impl``; a claim that errors is recorded as ``inconclusive``."""
    out = []
    claims = claims_for(pattern, impl)
    for name in claims.kinds():
        try:
            out.append(measure(name, pattern, impl, device, siblings))
        except Exception as exc:
            out.append(ClaimResult(pattern.id, impl.id, name, claims.claimed(name), "inconclusive",
                                   message=f"could not measure: {first_line(exc)}"))
    return out
