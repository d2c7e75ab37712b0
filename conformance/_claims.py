"""Measure the catalog's claims with public JAX APIs (see docs/claims.md).

| claim          | measured with                                                       |
|----------------|---------------------------------------------------------------------|
| `jit`          | calling ``jax.jit(fn)`` on the base case                            |
| `grad`         | ``jax.jvp`` (forward) and ``jax.vjp`` (reverse) w.r.t. ``wrt``      |
| `memory`       | forward: ``jit(fn).lower().compile().memory_analysis()`` temp bytes;|
|                | backward: bytes of the residuals ``jax.vjp`` saves; at two sizes    |
| `program_size` | equations in ``jax.make_jaxpr(fn)``, sub-jaxprs included, two sizes |
| `early_exit`   | a ``while`` primitive (a loop that stops on a traced condition)     |
| `residuals`    | residual bytes of a baseline implementation ÷ this one's            |
| `speedup`      | median wall time of a baseline ÷ this one (reported, not failing)   |

Growth between sizes a < b (k = b / a) from figures va, vb:
``constant`` when vb <= 1.25 * va + slack (SLACK bytes for memory, 0 for
equations), ``linear`` when vb / max(va, 1) >= k / 2; anything between is
``sublinear`` and proves neither (the verdict is then ``inconclusive``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxpat.catalog import ArrayValue, GeneratedArray, Pattern
from jaxpat.patterns import Implementation

from ._execute import build_args, config_scope, resolve_exception

__all__ = ["CLAIM_NAMES", "ClaimResult", "claims_for", "measure", "measure_all"]

#: Claims that are measured (the other keys of `claims:` describe them).
CLAIM_NAMES = ("jit", "grad", "memory", "program_size", "early_exit", "residuals", "speedup")
#: Bytes (or equations) of noise below which growth is not judged.
SLACK = 256
SPEEDUP_REPEATS = 15


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

        return json.loads(json.dumps({k: v for k, v in vars(self).items() if v is not None}, default=_plain))


def _plain(x: Any) -> Any:
    if isinstance(x, Mapping):
        return dict(x)
    if isinstance(x, tuple | set | frozenset):
        return list(x)
    return str(x)


def claims_for(pattern: Pattern, impl: Implementation) -> dict[str, Any]:
    """The claims that apply to ``impl``: the pattern's, overlaid by ``claims.implementations[NAME]``."""
    claims = {k: v for k, v in pattern.claims.items() if k != "implementations"}
    per = pattern.claims.get("implementations") or {}
    for key in (impl.id, impl.name):
        if key in per:
            claims.update(per[key])
            break
    return claims


# ---------------------------------------------------------------------------
# arguments
# ---------------------------------------------------------------------------

def _base_args(pattern: Pattern, claims: Mapping[str, Any], device: Any, size: int | None = None,
               param: str | None = None) -> list[Any]:
    case = pattern.case(claims["base_case"]) if claims.get("base_case") else pattern.cases[0]
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
            # a 0-d array is a traced size (e.g. a loop bound); otherwise resize along axis 0
            new = np.asarray(size, arr.dtype) if arr.ndim == 0 else np.resize(arr, (size, *arr.shape[1:]))
            args[i] = jax.device_put(new, device)
    return args


def _wrt(pattern: Pattern, claims: Mapping[str, Any]) -> str:
    if claims.get("wrt"):
        return claims["wrt"]
    for case in pattern.cases:
        if case.grad:
            return case.grad["wrt"]
    static = set(pattern.signature.static)
    return next(a for a in pattern.signature.args if a not in static)


def _closure(pattern: Pattern, impl: Implementation, args: list[Any], wrt: str) -> tuple[Callable, Any]:
    i = pattern.signature.args.index(wrt)

    def f(x: Any) -> Any:
        return impl.fn(*[x if j == i else a for j, a in enumerate(args)])

    return f, args[i]


def _jitted(pattern: Pattern, impl: Implementation) -> Callable:
    static = pattern.signature.static
    return jax.jit(impl.fn, static_argnames=static) if static else jax.jit(impl.fn)


# ---------------------------------------------------------------------------
# measurements
# ---------------------------------------------------------------------------

def _raises_spec(claimed: Any) -> type[BaseException] | None:
    if isinstance(claimed, Mapping) and "raises" in claimed:
        return resolve_exception(claimed["raises"])
    return None


def _judge_works(claimed: Any, ok: bool, detail: str, error: BaseException | None = None) -> tuple[str, str]:
    want = _raises_spec(claimed)
    if claimed is True:
        return ("held", "works") if ok else ("violated", f"claimed to work, but raised {detail}")
    if claimed is False:
        return ("held", f"fails as claimed ({detail})") if not ok else ("violated", "claimed to fail, but works")
    if want is not None:
        if ok:
            return "violated", f"claimed to raise {want.__name__}, but works"
        if detail.split(":")[0] in {c.__name__ for c in want.__subclasses__()} | {want.__name__} or (
                error is not None and isinstance(error, want)):
            return "held", f"raises {detail}"
        return "violated", f"claimed to raise {want.__name__}, raised {detail}"
    return "inconclusive", f"unknown claim value {claimed!r}"


def _run_catching(fn: Callable[[], Any]) -> tuple[bool, str, BaseException | None]:
    try:
        jax.block_until_ready(fn())
        return True, "works", None
    except Exception as exc:
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        return False, f"{type(exc).__name__}: {first}", exc


def measure_jit(pattern: Pattern, impl: Implementation, claims: Mapping[str, Any], device: Any) -> tuple:
    args = _base_args(pattern, claims, device)
    ok, detail, err = _run_catching(lambda: _jitted(pattern, impl)(*args))
    verdict, msg = _judge_works(claims["jit"], ok, detail, err)
    return verdict, {"jit": detail}, msg


def grad_modes(pattern: Pattern, impl: Implementation, claims: Mapping[str, Any], device: Any,
               args: list[Any] | None = None) -> dict[str, tuple[bool, str, BaseException | None]]:
    """Whether forward (jvp) and reverse (vjp) differentiation work at the base case.

    With ``claims.under_jit`` the derivative is taken inside ``jax.jit`` with
    every non-static argument traced (e.g. a loop bound that is only known at
    run time); otherwise eagerly, with concrete arguments.
    """
    args = args if args is not None else _base_args(pattern, claims, device)
    wrt = pattern.signature.args.index(_wrt(pattern, claims))
    static = {i for i, a in enumerate(pattern.signature.args) if a in pattern.signature.static}

    def call(x: Any, dyn: tuple) -> Any:
        it = iter(dyn)
        return impl.fn(*[x if i == wrt else (args[i] if i in static else next(it)) for i in range(len(args))])

    dyn = tuple(a for i, a in enumerate(args) if i != wrt and i not in static)
    x = args[wrt]

    def fwd(x: Any, dyn: tuple) -> Any:
        return jax.jvp(lambda v: call(v, dyn), (x,), (jax.tree.map(jnp.ones_like, x),))

    def rev(x: Any, dyn: tuple) -> Any:
        out, pullback = jax.vjp(lambda v: call(v, dyn), x)
        return pullback(jax.tree.map(jnp.ones_like, out))

    wrap = jax.jit if claims.get("under_jit") else (lambda f: f)
    return {
        "forward": _run_catching(lambda: wrap(fwd)(x, dyn)),
        "reverse": _run_catching(lambda: wrap(rev)(x, dyn)),
    }


def measure_grad(pattern: Pattern, impl: Implementation, claims: Mapping[str, Any], device: Any) -> tuple:
    modes = grad_modes(pattern, impl, claims, device)
    verdicts, msgs = [], []
    for mode, claimed in claims["grad"].items():
        if mode not in modes:
            return "inconclusive", {}, f"unknown grad mode {mode!r} (forward, reverse)"
        ok, detail, err = modes[mode]
        v, m = _judge_works(claimed, ok, detail, err)
        verdicts.append(v)
        msgs.append(f"{mode}: {m}")
    measured = {mode: detail for mode, (ok, detail, _) in modes.items()}
    return _combine(verdicts), measured, "; ".join(msgs)


def _combine(verdicts: list[str]) -> str:
    for v in ("violated", "inconclusive", "skipped"):
        if v in verdicts:
            return v
    return "held"


def growth(va: float, vb: float, a: int, b: int, slack: float = SLACK) -> str:
    """``constant``, ``linear`` or ``sublinear`` for figures va at size a and vb at size b."""
    if vb <= 1.25 * va + slack:
        return "constant"
    if vb / max(va, 1) >= (b / a) / 2:
        return "linear"
    return "sublinear"


def _temp_bytes(pattern: Pattern, impl: Implementation, args: list[Any]) -> int | None:
    compiled = _jitted(pattern, impl).lower(*args).compile()
    stats = compiled.memory_analysis()
    if stats is None:
        return None
    return int(stats.temp_size_in_bytes)


def _residual_bytes(pattern: Pattern, impl: Implementation, claims: Mapping[str, Any], args: list[Any]) -> int:
    """Bytes of the residuals ``jax.vjp`` saves for the backward pass (the pullback's leaves).

    With ``claims.under_jit`` the pullback is built inside ``jax.jit`` with every
    non-static argument traced, and returned from it.
    """
    wrt = pattern.signature.args.index(_wrt(pattern, claims))
    static = {i for i, a in enumerate(pattern.signature.args) if a in pattern.signature.static}
    dyn = tuple(a for i, a in enumerate(args) if i != wrt and i not in static)

    def forward(x: Any, dyn: tuple) -> Any:
        it = iter(dyn)
        full = [x if i == wrt else (args[i] if i in static else next(it)) for i in range(len(args))]
        return jax.vjp(lambda v: impl.fn(*[v if i == wrt else a for i, a in enumerate(full)]), x)

    build = jax.jit(forward) if claims.get("under_jit") else forward
    out, pullback = build(args[wrt], dyn)
    # jax.vjp builds a pullback even for loops that cannot run backwards (while_loop):
    # applying it is what raises, so a backward pass that does not exist is not measured as O(1).
    jax.block_until_ready(pullback(jax.tree.map(jnp.ones_like, out)))
    return int(sum(np.asarray(leaf).nbytes for leaf in jax.tree.leaves(pullback)))


def measure_memory(pattern: Pattern, impl: Implementation, claims: Mapping[str, Any], device: Any) -> tuple:
    spec = claims["memory"]
    param, sizes = spec["param"], sorted(spec.get("sizes", [100, 1000]))
    a, b = sizes[0], sizes[-1]
    args_a = _base_args(pattern, claims, device, a, param)
    args_b = _base_args(pattern, claims, device, b, param)
    measured: dict[str, Any] = {"param": param, "sizes": [a, b]}
    verdicts, msgs = [], []
    if "forward" in spec:
        ta, tb = _temp_bytes(pattern, impl, args_a), _temp_bytes(pattern, impl, args_b)
        if ta is None or tb is None:
            return "skipped", measured, f"the {device.platform} backend returns no memory analysis"
        g = growth(ta, tb, a, b)
        measured["forward"] = {"temp_bytes": [ta, tb], "growth": g}
        verdicts.append("held" if g == spec["forward"] else ("inconclusive" if g == "sublinear" else "violated"))
        msgs.append(f"forward temp memory {ta} B at {param}={a}, {tb} B at {param}={b}: {g} "
                    f"(claimed {spec['forward']})")
    if "backward" in spec:
        claimed = spec["backward"]
        try:
            ra = _residual_bytes(pattern, impl, claims, args_a)
            rb = _residual_bytes(pattern, impl, claims, args_b)
        except Exception as exc:
            detail = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ''}"
            measured["backward"] = {"error": detail}
            want = _raises_spec(claimed)
            held = claimed in ("none", None) or (want is not None and isinstance(exc, want))
            verdicts.append("held" if held else "violated")
            msgs.append(f"reverse mode raises {detail} (claimed backward: {claimed})")
        else:
            g = growth(ra, rb, a, b)
            measured["backward"] = {"residual_bytes": [ra, rb], "growth": g}
            verdicts.append("held" if g == claimed else ("inconclusive" if g == "sublinear" else "violated"))
            msgs.append(f"saved residuals {ra} B at {param}={a}, {rb} B at {param}={b}: {g} (claimed {claimed})")
    return _combine(verdicts), measured, "; ".join(msgs)


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


def program_facts(pattern: Pattern, impl: Implementation, args: list[Any]) -> tuple[int, list[str]]:
    """(equation count including sub-jaxprs, sorted primitive names) of the traced program."""
    static = [i for i, a in enumerate(pattern.signature.args) if a in pattern.signature.static]
    closed = jax.make_jaxpr(impl.fn, static_argnums=static)(*args)
    names: set[str] = set()
    return _count_eqns(closed.jaxpr, names), sorted(names)


def measure_program_size(pattern: Pattern, impl: Implementation, claims: Mapping[str, Any], device: Any) -> tuple:
    spec = claims["program_size"]
    param, sizes = spec["param"], sorted(spec.get("sizes", [10, 100]))
    a, b = sizes[0], sizes[-1]
    na, prims = program_facts(pattern, impl, _base_args(pattern, claims, device, a, param))
    nb, _ = program_facts(pattern, impl, _base_args(pattern, claims, device, b, param))
    g = growth(na, nb, a, b, slack=0)
    loops = [p for p in prims if p in ("scan", "while")]
    measured = {"param": param, "sizes": [a, b], "equations": [na, nb], "growth": g, "loop_primitives": loops}
    verdict = "held" if g == spec["growth"] else ("inconclusive" if g == "sublinear" else "violated")
    return verdict, measured, (f"{na} equations at {param}={a}, {nb} at {param}={b}: {g} "
                               f"(claimed {spec['growth']}); loop primitives: {', '.join(loops) or 'none'}")


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


def measure_early_exit(pattern: Pattern, impl: Implementation, claims: Mapping[str, Any], device: Any) -> tuple:
    args = _base_args(pattern, claims, device)
    static = [i for i, a in enumerate(pattern.signature.args) if a in pattern.signature.static]
    closed = jax.make_jaxpr(impl.fn, static_argnums=static)(*args)
    loops = _while_eqns(closed.jaxpr)
    stops = any(_stops_on_state(e) for e in loops)
    claimed = bool(claims["early_exit"])
    verdict = "held" if stops == claimed else "violated"
    if stops:
        what = "contains a `while` loop whose condition reads state its body computes: it can stop early"
    elif loops:
        what = "contains only counted `while` loops (a counter against a bound): no early exit"
    else:
        what = "contains no `while` loop (a fixed-length scan, an unrolled loop, or none)"
    return verdict, {"stops_on_state": stops, "while_loops": len(loops)}, (
        f"the traced program {what}; early exit claimed {claimed}")


def _impl_named(registry_impls: list[Implementation], name: str) -> Implementation:
    for i in registry_impls:
        if name in (i.name, i.id):
            return i
    raise LookupError(f"baseline implementation {name!r} not found among {[i.id for i in registry_impls]}")


def measure_residuals(pattern: Pattern, impl: Implementation, claims: Mapping[str, Any], device: Any,
                      siblings: list[Implementation]) -> tuple:
    spec = claims["residuals"]
    base = _impl_named(siblings, spec["baseline"])
    param, size = spec.get("param"), spec.get("size")
    args = _base_args(pattern, claims, device, size, param)
    mine, theirs = _residual_bytes(pattern, impl, claims, args), _residual_bytes(pattern, base, claims, args)
    factor = theirs / max(mine, 1)
    verdict = "held" if factor >= float(spec["at_least"]) else "violated"
    return verdict, {"residual_bytes": mine, "baseline_residual_bytes": theirs, "saving_factor": round(factor, 3)}, (
        f"saves {theirs} B → {mine} B of residuals vs {base.id}: factor {factor:.2f} (claimed ≥ {spec['at_least']})")


def _median_time(fn: Callable[[], Any], repeats: int) -> float:
    jax.block_until_ready(fn())  # warm-up and compilation
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def measure_speedup(pattern: Pattern, impl: Implementation, claims: Mapping[str, Any], device: Any,
                    siblings: list[Implementation]) -> tuple:
    spec = claims["speedup"]
    base = _impl_named(siblings, spec["baseline"])
    args = _base_args(pattern, claims, device)
    mine = _median_time(lambda: impl.fn(*args), SPEEDUP_REPEATS)
    theirs = _median_time(lambda: base.fn(*args), SPEEDUP_REPEATS)
    factor = theirs / max(mine, 1e-9)
    return "reported", {"seconds": mine, "baseline_seconds": theirs, "speedup": round(factor, 2)}, (
        f"{factor:.1f}× faster than {base.id} (claimed ≥ {spec['at_least']}×; timing claims are reported, "
        "not enforced)")


_MEASURES = {
    "jit": measure_jit,
    "grad": measure_grad,
    "memory": measure_memory,
    "program_size": measure_program_size,
    "early_exit": measure_early_exit,
}


def measure(name: str, pattern: Pattern, impl: Implementation, device: Any,
            siblings: list[Implementation] | None = None) -> ClaimResult:
    """Measure one claim of ``impl`` on ``device`` under the base case's config."""
    claims = claims_for(pattern, impl)
    base_case = pattern.case(claims["base_case"]) if claims.get("base_case") else pattern.cases[0]
    result = ClaimResult(pattern.id, impl.id, name, claims[name], "inconclusive",
                         seed_claim=claims.get("seed_claim"), device=f"{device.platform}:{device.id}")
    with config_scope(base_case.config), jax.default_device(device):
        if name in ("residuals", "speedup"):
            fn = measure_residuals if name == "residuals" else measure_speedup
            verdict, measured, message = fn(pattern, impl, claims, device, siblings or [impl])
        else:
            verdict, measured, message = _MEASURES[name](pattern, impl, claims, device)
    result.verdict, result.measured, result.message = verdict, measured, message
    return result


def measure_all(pattern: Pattern, impl: Implementation, device: Any,
                siblings: list[Implementation] | None = None) -> list[ClaimResult]:
    """Every measurable claim of ``impl``; a claim that errors is recorded as ``inconclusive``."""
    out = []
    for name in CLAIM_NAMES:
        if name in claims_for(pattern, impl):
            try:
                out.append(measure(name, pattern, impl, device, siblings))
            except Exception as exc:
                out.append(ClaimResult(pattern.id, impl.id, name, claims_for(pattern, impl)[name], "inconclusive",
                                       message=f"could not measure: {type(exc).__name__}: {exc}"))
    return out


# ---------------------------------------------------------------------------
# pytest items
# ---------------------------------------------------------------------------

def claim_items(config: Any, root: Any, registry: Any, devices: list[Any]) -> list[Any]:
    """One item per pattern × implementation × device × claim, under ``jaxpat::PATTERN::claim-NAME[...]``."""
    import fnmatch

    from ._collect import PatternCollector

    pats, impls_glob = config.getoption("jaxpat_pattern"), config.getoption("jaxpat_impl")
    out = []
    for pattern in registry.catalog:
        if pats and not any(fnmatch.fnmatchcase(pattern.id, g) for g in pats):
            continue
        impls = registry.implementations(pattern.id)
        chosen = [i for i in impls if not impls_glob or any(fnmatch.fnmatchcase(i.id, g) for g in impls_glob)]
        if not chosen or not pattern.claims:
            continue
        col = PatternCollector.from_parent(root, name=pattern.id, pattern=pattern)
        for impl in chosen:
            for name in CLAIM_NAMES:
                if name not in claims_for(pattern, impl):
                    continue
                for device in devices:
                    out.append(ClaimItem.from_parent(
                        col, name=f"claim-{name}[{impl.id}-{device.platform}:{device.id}]",
                        pattern=pattern, impl=impl, device=device, claim=name, siblings=impls,
                    ))
    return out


class ClaimItem(pytest.Item):
    """Measures one claim; fails when the measurement contradicts it or proves nothing."""

    def __init__(self, *, pattern: Pattern, impl: Implementation, device: Any, claim: str,
                 siblings: list[Implementation], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pattern, self.impl, self.device, self.claim, self.siblings = pattern, impl, device, claim, siblings
        self.user_properties.append(("jaxpat", {
            "nodeid": self.nodeid, "kind": "claim", "pattern": pattern.id, "family": pattern.family,
            "implementation": impl.id, "plugin": impl.plugin, "device": f"{device.platform}:{device.id}",
            "platform": device.platform, "transform": f"claim:{claim}", "claim": claim,
        }))

    def runtest(self) -> None:
        from ._execute import ConformanceFailure

        try:
            result = measure(self.claim, self.pattern, self.impl, self.device, self.siblings)
        except Exception as exc:
            message = f"could not measure claim `{self.claim}` of {self.pattern.id} for {self.impl.id}: " \
                      f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
            self.user_properties.append(("jaxpat_facts", {"message": message}))
            raise ConformanceFailure(message) from exc
        record = {**result.to_dict(), "nodeid": self.nodeid}
        self.user_properties.append(("jaxpat_facts", {"claims": [record], "message": result.message}))
        if result.verdict == "skipped":
            pytest.skip(result.message)
        if result.verdict in ("violated", "inconclusive"):
            seed = f"\nseed's wording: {result.seed_claim}" if result.seed_claim else ""
            raise ConformanceFailure(
                f"claim `{self.claim}` of {self.pattern.id} is {result.verdict} for {self.impl.id} "
                f"on {result.device}: {result.message}{seed}"
            )

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        return str(excinfo.value)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return (self.path, None, self.nodeid)
