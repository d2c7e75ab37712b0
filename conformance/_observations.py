"""Observations: figures for an ``observe:`` claim, measured in the executor (needs JAX; no verdicts here).

Each observation looks at what a statement is about rather than at values
(docs/claims.md, *Observations*); :mod:`._observation_verdicts` judges the figures
without JAX.

| ``what``          | observed                                                                      |
|-------------------|-------------------------------------------------------------------------------|
| ``fusion``        | the compiled program's ENTRY operations (kernels) and the operations fused    |
| ``donation``      | ``jax.jit(fn, donate_argnums=…)``: the donated array ``is_deleted()`` after   |
|                   | the call, the compiled module aliases it to the output, its ``copy`` count    |
| ``in_place``      | the same, with the update operations (dynamic-update-slice, scatter) and the  |
|                   | compiled temp bytes; and the copies without donation                          |
| ``operands``      | ``jaxpat.patterns.observe.operand`` evaluations per run, jitted and eager     |
| ``async_dispatch``| ``is_ready()`` right after the call returns and after ``block_until_ready``   |
| ``compiles``      | programs compiled during the first and second eager call (``jax.log_compiles``)|
| ``first_call``    | first-call time (trace + compile + run) of a fresh ``jax.jit``, interleaved   |
|                   | with a baseline's, within a time budget                                       |
| ``jit_grad_memory``| compiled bytes of ``jax.jit(jax.grad(…))`` against a baseline's, and the      |
|                   | residuals ``jax.vjp`` saves eagerly for both                                  |
"""

from __future__ import annotations

import logging
import re
import time
import warnings
from collections import Counter
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from jaxpat.catalog import ObserveClaim, Pattern
from jaxpat.patterns import Implementation

__all__ = [
    "ASYNC_ROUNDS",
    "FIRST_CALL_ROUNDS",
    "async_rounds",
    "hlo_computations",
    "observe_figures",
]

#: Rounds of dispatch-then-block for ``async_dispatch`` (fewer when the time budget runs out).
ASYNC_ROUNDS = 5
#: Interleaved rounds of first calls for ``first_call``.
FIRST_CALL_ROUNDS = 5

#: ENTRY operations that are not kernels: they move no data or only name it.
_NOT_KERNELS = {"parameter", "constant", "tuple", "get-tuple-element", "bitcast"}
_HEADER = re.compile(r"^(ENTRY\s+)?%?([\w.\-]+)\s*\(.*\)\s*->\s*.*\{\s*$")
_INSTR = re.compile(r"^\s*(?:ROOT\s+)?%?([\w.\-]+)\s*=\s*(?:\([^=]*?\)|\S+)\s+([\w\-]+)\((.*)$")
_CALLS = re.compile(r"calls=%?([\w.\-]+)")
_ALIAS = re.compile(r"input_output_alias=\{(.*?)\}\s*,\s*entry_computation_layout")


def hlo_computations(text: str) -> tuple[str, dict[str, list[tuple[str, str, str]]]]:
    """The computations of an optimised HLO module: (the ENTRY's name, {name: [(instruction, op, rest)]})."""
    comps: dict[str, list[tuple[str, str, str]]] = {}
    entry, current = "", None
    for line in text.splitlines():
        head = _HEADER.match(line)
        if head:
            current = head.group(2)
            comps[current] = []
            if head.group(1):
                entry = current
            continue
        if line.startswith("}"):
            current = None
            continue
        m = _INSTR.match(line) if current is not None else None
        if m and current is not None:
            comps[current].append((m.group(1), m.group(2), m.group(3)))
    return entry, comps


def _fusion_figures(text: str) -> dict[str, Any]:
    entry, comps = hlo_computations(text)
    ops = [op for _, op, _ in comps.get(entry, [])]
    kernels = [op for op in ops if op not in _NOT_KERNELS]
    fused: list[str] = []
    for _, op, rest in comps.get(entry, []):
        if op == "fusion":
            called = _CALLS.search(rest)
            if called:
                fused += [o for _, o, _ in comps.get(called.group(1), []) if o not in _NOT_KERNELS]
    return {"entry_ops": kernels, "kernels": len(kernels), "fusions": kernels.count("fusion"),
            "fused_ops": sorted(Counter(fused).items())}


def _param_index(pattern: Pattern, name: str) -> int:
    """The HLO parameter number of argument ``name`` (static arguments are not parameters)."""
    dyn = [a for a in pattern.signature.args if a not in pattern.signature.static]
    return dyn.index(name)


def _aliased(text: str, param: int) -> bool:
    """Whether the compiled module's input_output_alias maps some output onto parameter ``param``."""
    m = _ALIAS.search(text.splitlines()[0] if text else "")
    return bool(m and re.search(rf":\s*\(\s*{param}\s*,", m.group(1)))


def _count_ops(text: str, names: tuple[str, ...]) -> int:
    _, comps = hlo_computations(text)
    return sum(1 for instrs in comps.values() for _, op, _ in instrs if op in names)


def _donated_jit(fn: Callable[..., Any], pattern: Pattern, donate: str | None) -> Any:
    kw: dict[str, Any] = {}
    if pattern.signature.static:
        kw["static_argnames"] = pattern.signature.static
    if donate is not None:
        kw["donate_argnums"] = (pattern.signature.args.index(donate),)
    return jax.jit(fn, **kw)


def _donation_figures(pattern: Pattern, impl: Implementation, spec: ObserveClaim, args: list[Any],
                      device: Any) -> dict[str, Any]:
    if spec.donate is None:
        raise ValueError(f"`observe: {{what: {spec.what}}}` needs `donate: ARG`")
    i = pattern.signature.args.index(spec.donate)
    param = _param_index(pattern, spec.donate)
    fresh = [jax.device_put(a, device) if isinstance(a, jax.Array) else a for a in args]
    donated = _donated_jit(impl.fn, pattern, spec.donate)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # "Some donated buffers were not usable" is a figure, not an error
        compiled = donated.lower(*fresh).compile()
        jax.block_until_ready(donated(*fresh))
    text = compiled.as_text() or ""
    stats = compiled.memory_analysis()
    plain = _donated_jit(impl.fn, pattern, None).lower(*args).compile().as_text() or ""
    arr = fresh[i]
    return {
        "donate": spec.donate,
        "deleted": bool(arr.is_deleted()),
        "aliased": _aliased(text, param),
        "copies": _count_ops(text, ("copy",)),
        "copies_without_donation": _count_ops(plain, ("copy",)),
        "updates": _count_ops(text, ("dynamic-update-slice", "scatter")),
        "temp_bytes": None if stats is None else int(stats.temp_size_in_bytes),
        "array_bytes": int(arr.size * arr.dtype.itemsize),
        "warnings": [str(w.message).splitlines()[0][:200] for w in caught],
    }


def _operand_figures(pattern: Pattern, impl: Implementation, args: list[Any]) -> dict[str, Any]:
    from jaxpat.patterns import observe

    jf = _donated_jit(impl.fn, pattern, None)
    jax.block_until_ready(jf(*args))  # the first call traces and compiles: its counts are not a run's
    jax.effects_barrier()
    observe.reset()
    out = jax.block_until_ready(jf(*args))
    jax.effects_barrier()
    jitted_counts = observe.counts()
    observe.reset()
    jax.block_until_ready(impl.fn(*args))
    jax.effects_barrier()
    eager_counts = observe.counts()
    observe.reset()
    leaves = jax.tree.leaves(out)
    result = [bool(x) for x in jnp.ravel(leaves[0]).tolist()] if leaves else []
    return {"jit": jitted_counts, "eager": eager_counts, "result": result[:16]}


def async_rounds(call: Callable[[], Any], *, rounds: int = ASYNC_ROUNDS, budget: float | None = None,
                 clock: Callable[[], float] = time.perf_counter) -> dict[str, Any]:
    """Call ``call`` (already compiled) ``rounds`` times: the seconds until it returns, whether its result
    ``is_ready()`` then, the seconds until ``jax.block_until_ready`` returns and whether it is ready then.
    No round starts once the time spent plus the slowest round so far would pass ``budget``."""
    start, slowest = clock(), 0.0
    out: list[dict[str, Any]] = []
    exhausted = False
    for _ in range(rounds):
        if budget is not None and (clock() - start) + slowest > budget:
            exhausted = True
            break
        t0 = clock()
        res = call()
        t1 = clock()
        on_return = all(leaf.is_ready() for leaf in jax.tree.leaves(res))
        jax.block_until_ready(res)
        t2 = clock()
        after = all(leaf.is_ready() for leaf in jax.tree.leaves(res))
        slowest = max(slowest, t2 - t0)
        out.append({"dispatch_s": round(t1 - t0, 6), "ready_s": round(t2 - t0, 6), "ready_on_return": on_return,
                    "ready_after_block": after})
    return {"rounds": out, "exhausted": exhausted, "budget_s": budget, "elapsed_s": round(clock() - start, 3)}


class _Compiles(logging.Handler):
    """Collects the names of the programs JAX compiles while ``jax.log_compiles`` is on."""

    PATTERN = re.compile(r"Compiling (\S+) with global shapes")

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.names: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        m = self.PATTERN.search(record.getMessage())
        if m:
            name = m.group(1)
            if name.startswith("jit(") and name.endswith(")"):
                name = name[4:-1]
            self.names[name] += 1


def _compiled_during(call: Callable[[], Any]) -> dict[str, int]:
    log = logging.getLogger("jax")
    handler, level, propagate = _Compiles(), log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False  # the compile log goes to the handler, not to the executor's stderr
    try:
        with jax.log_compiles(True):
            jax.block_until_ready(call())
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
        log.propagate = propagate
    return dict(handler.names)


def _compiles_figures(impl: Implementation, spec: ObserveClaim, args: list[Any]) -> dict[str, Any]:
    if spec.expensive is None:
        raise ValueError("`observe: {what: compiles}` needs `expensive: NAME`")
    jax.clear_caches()  # a program compiled by an earlier item would not be compiled again
    first = _compiled_during(lambda: impl.fn(*args))
    second = _compiled_during(lambda: impl.fn(*args))
    return {"expensive": spec.expensive, "function": getattr(impl.fn, "__name__", impl.name),
            "first_call": first, "second_call": second}


def _fresh_jit(fn: Callable[..., Any], pattern: Pattern) -> Callable[..., Any]:
    """A new ``jax.jit`` of ``fn`` (a new function object, so nothing is cached from an earlier call)."""
    def wrapper(*a: Any) -> Any:
        return fn(*a)

    static = tuple(i for i, a in enumerate(pattern.signature.args) if a in pattern.signature.static)
    return jax.jit(wrapper, static_argnums=static) if static else jax.jit(wrapper)


def _first_call_figures(pattern: Pattern, impl: Implementation, base: Implementation, args: list[Any],
                        budget: float | None, timer: Callable[..., Any]) -> dict[str, Any]:
    figs = timer(lambda: _fresh_jit(impl.fn, pattern)(*args), lambda: _fresh_jit(base.fn, pattern)(*args),
                 rounds=FIRST_CALL_ROUNDS, calls=1, budget=budget)
    return {"seconds": list(figs.seconds), "baseline_seconds": list(figs.baseline_seconds), "baseline": base.id,
            "budget_s": budget, "elapsed_s": round(figs.elapsed, 3), "exhausted": figs.exhausted,
            "planned_rounds": figs.planned_rounds}


def _jit_grad_memory_figures(impl: Implementation, base: Implementation, args: list[Any], wrt: int,
                             residuals: Callable[[Implementation], int]) -> dict[str, Any]:
    def compiled_bytes(fn: Callable[..., Any]) -> int | None:
        def loss(x: Any) -> Any:
            return jnp.sum(fn(*[x if i == wrt else a for i, a in enumerate(args)]))

        stats = jax.jit(jax.grad(loss)).lower(args[wrt]).compile().memory_analysis()
        return None if stats is None else int(stats.temp_size_in_bytes) + int(stats.output_size_in_bytes)

    return {"bytes": compiled_bytes(impl.fn), "baseline_bytes": compiled_bytes(base.fn), "baseline": base.id,
            "residual_bytes": residuals(impl), "baseline_residual_bytes": residuals(base)}


def observe_figures(pattern: Pattern, impl: Implementation, spec: ObserveClaim, args: list[Any], device: Any, *,
                    base: Implementation | None = None, wrt: int = 0, budget: float | None = None,
                    timer: Callable[..., Any] | None = None,
                    residuals: Callable[[Implementation], int] | None = None) -> dict[str, Any]:
    """Figures of the observation ``spec`` for ``impl`` at ``args`` on ``device`` (plain JSON data, shapes in
    :mod:`._observation_verdicts`). ``base``: the baseline implementation (first_call, jit_grad_memory);
    ``wrt``: the index of the differentiated argument; ``budget``: seconds a timed observation may spend;
    ``timer``: :func:`._measure.speed_figures`; ``residuals``: the residual bytes of an implementation at
    ``args`` (:func:`._measure.residual_bytes`). :func:`._measure.collect_figures` passes them."""
    out: dict[str, Any] = {"what": spec.what}
    if spec.what == "fusion":
        out |= _fusion_figures(_donated_jit(impl.fn, pattern, None).lower(*args).compile().as_text() or "")
    elif spec.what in ("donation", "in_place"):
        out |= _donation_figures(pattern, impl, spec, args, device)
    elif spec.what == "operands":
        out |= _operand_figures(pattern, impl, args)
    elif spec.what == "async_dispatch":
        jf = _donated_jit(impl.fn, pattern, None)
        jax.block_until_ready(jf(*args))  # compiled before timing
        out |= async_rounds(lambda: jf(*args), budget=budget)
    elif spec.what == "compiles":
        out |= _compiles_figures(impl, spec, args)
    elif spec.what in ("first_call", "jit_grad_memory"):
        if base is None:
            raise ValueError(f"`observe: {{what: {spec.what}}}` needs `baseline: IMPLEMENTATION`")
        if spec.what == "first_call":
            if timer is None:
                raise ValueError("`first_call` needs a timer")
            out |= _first_call_figures(pattern, impl, base, args, budget, timer)
        else:
            if residuals is None:
                raise ValueError("`jit_grad_memory` needs a residual counter")
            out |= _jit_grad_memory_figures(impl, base, args, wrt, residuals)
    else:
        raise ValueError(f"unknown observation {spec.what!r}")
    return out | {"device_kind": getattr(device, "device_kind", "")}
