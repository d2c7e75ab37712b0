"""Mutation testing of the catalog: does the suite kill wrong implementations?

For every implementation, :func:`value_mutants` makes generated wrong
versions (a float result perturbed by 1e-3 relative, an integer result + 1,
a bool flipped, a dtype cast, a transposed or reshaped result, a constant
result, a pytree leaf dropped or two swapped, the input returned unchanged,
an expected error swallowed or replaced), and :func:`claim_mutants` makes,
for each claim kind the implementation claims, a counter-implementation that
computes the same values but violates the claim (a Python loop under jit, an
unrolled loop, a materialised stack, a loop that cannot run backwards, a loop
that stops on its own state, ...).

Each mutant runs in-process through the very checks the suite runs: value
mutants through :func:`._execute.run_item` for every case × transform (eager
first, stopping at the first failure), claim counters through
:func:`._measure.measure`. A mutant that no check rejects *survives*; a
survivor is a weakness of the catalog unless it is recorded as equivalent,
with the reason, in ``equivalent-mutants.json`` beside this module.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxpat.catalog import ArrayValue, ExpectedError, GeneratedArray, Pattern
from jaxpat.patterns import Implementation

from ._execute import ConformanceFailure, ItemSpec, build_args, config_scope, expectation, run_item
from ._measure import claims_for, measure

__all__ = [
    "EQUIVALENT_FILE",
    "Mutant",
    "MutantResult",
    "claim_mutants",
    "edge_mutants",
    "load_equivalents",
    "reachable_edges",
    "run_mutants",
    "summarise",
    "value_mutants",
]

EQUIVALENT_FILE = Path(__file__).with_name("equivalent-mutants.json")
#: The order transforms are tried in: cheapest first, so most mutants die before anything compiles.
_ORDER = {"eager": 0, "jit": 1, "vmap": 2, "grad": 3}


@dataclass(frozen=True)
class Mutant:
    """A wrong version of an implementation: ``kind`` is ``value`` (checked by the cases) or
    ``claim:NAME`` (checked by that claim's measurement); ``fn`` replaces the implementation's."""

    name: str
    kind: str
    fn: Callable[..., Any]
    what: str


@dataclass
class MutantResult:
    """What happened to one mutant: ``killed`` by ``by`` (an item or a claim), or survived."""

    pattern: str
    implementation: str
    mutant: str
    kind: str
    what: str
    killed: bool
    by: str = ""
    reason: str = ""
    equivalent: bool = False
    checks: int = 0
    #: killed on generated inputs (``--explore``), after every fixed case passed
    by_explore: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


# ---------------------------------------------------------------------------
# the leaves of a result
# ---------------------------------------------------------------------------

def _is_key(x: Any) -> bool:
    return isinstance(x, jax.Array) and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def _numeric(x: Any) -> bool:
    if _is_key(x) or isinstance(x, str | bytes) or x is None:
        return False
    return isinstance(x, bool | int | float | complex | np.generic | np.ndarray | jax.Array)


def _kind(x: Any) -> str:
    """``f`` (float or complex), ``i`` (integer), ``b`` (bool) or ``""`` for a leaf."""
    if not _numeric(x):
        return ""
    k = np.asarray(x).dtype.kind if not isinstance(x, jax.Array) else np.dtype(x.dtype).kind
    return {"f": "f", "c": "f", "i": "i", "u": "i", "b": "b"}.get(k, "")


def _ndim(x: Any) -> int:
    return int(np.ndim(x)) if _numeric(x) else 0


def _size(x: Any) -> int:
    return int(np.size(x)) if _numeric(x) else 0


def _map_leaves(out: Any, when: Callable[[Any], bool], change: Callable[[Any], Any]) -> Any:
    leaves, tree = jax.tree_util.tree_flatten(out)
    return jax.tree_util.tree_unflatten(tree, [change(x) if when(x) else x for x in leaves])


def _perturb(x: Any) -> Any:
    x = jnp.asarray(x)
    return x + jnp.asarray(1e-3, x.dtype) * jnp.where(x == 0, jnp.ones_like(x), x)


def _plus_one(x: Any) -> Any:
    x = jnp.asarray(x)
    return x + jnp.ones((), x.dtype)


def _cast(x: Any) -> Any:
    x = jnp.asarray(x)
    kind = np.dtype(x.dtype).kind
    target = {"f": jnp.float16, "c": jnp.float32, "i": jnp.float32, "u": jnp.int32, "b": jnp.int32}[kind]
    if x.dtype == jnp.float16:
        target = jnp.float32
    return x.astype(target)


def _transpose(x: Any) -> Any:
    return jnp.swapaxes(jnp.asarray(x), -1, -2)


def _reshape(x: Any) -> Any:
    x = jnp.asarray(x)
    return x.reshape(-1) if x.ndim >= 2 else x.reshape(1, -1)


def _drop(out: Any) -> Any:
    if isinstance(out, tuple | list):
        return type(out)(out[:-1])
    if isinstance(out, dict):
        return {k: v for k, v in list(out.items())[:-1]}
    raise TypeError("not a container")


def _swap(out: Any) -> Any:
    leaves, tree = jax.tree_util.tree_flatten(out)
    leaves[0], leaves[1] = leaves[1], leaves[0]
    return jax.tree_util.tree_unflatten(tree, leaves)


# ---------------------------------------------------------------------------
# value mutants
# ---------------------------------------------------------------------------

def _first_value_case(pattern: Pattern) -> Any:
    for case in pattern.cases:
        if not isinstance(case.expect, ExpectedError):
            return case
    return None


def _probe(pattern: Pattern, impl: Implementation, device: Any) -> tuple[Any, Any] | None:
    """The implementation's eager result on its first value case (None if it has none or raises)."""
    case = _first_value_case(pattern)
    if case is None:
        return None
    with config_scope(case.config), jax.default_device(device):
        try:
            out = jax.block_until_ready(impl.fn(*build_args(pattern, case, device)))
        except Exception:
            return None
    return case, jax.tree.map(lambda x: np.asarray(x) if isinstance(x, jax.Array) and not _is_key(x) else x, out)


def _wrap(fn: Callable[..., Any], post: Callable[[Any], Any]) -> Callable[..., Any]:
    def mutant(*args: Any) -> Any:
        return post(fn(*args))

    return mutant


def value_mutants(pattern: Pattern, impl: Implementation, device: Any) -> list[Mutant]:
    """The generated wrong versions of ``impl`` that apply to its results (see the module docstring)."""
    fn = impl.fn
    out: list[Mutant] = []
    if any(isinstance(c.expect, ExpectedError) or any(isinstance(v, ExpectedError) for v in c.expect_under.values())
           for c in pattern.cases):
        def swallow(*args: Any) -> Any:
            try:
                return fn(*args)
            except Exception:
                return jnp.zeros((), jnp.float32)

        def other(*args: Any) -> Any:
            try:
                fn(*args)
            except Exception as exc:
                raise RuntimeError(f"mutant: another exception than {type(exc).__name__}") from exc
            raise RuntimeError("mutant: an exception where the implementation returns")

        out.append(Mutant("swallow-error", "value", swallow, "catches any exception and returns 0.0"))
        out.append(Mutant("raise-other", "value", other, "raises RuntimeError instead of the implementation's "
                          "exception, and where it returns"))
    probed = _probe(pattern, impl, device)
    if probed is None:
        return out
    case, result = probed
    leaves, _ = jax.tree_util.tree_flatten(result)
    kinds = {_kind(x) for x in leaves}
    if "f" in kinds:
        out.append(Mutant("float*(1+1e-3)", "value", _wrap(fn, lambda r: _map_leaves(
            r, lambda x: _kind(x) == "f", _perturb)), "every float leaf perturbed by 1e-3 relative (1e-3 at 0)"))
    if "i" in kinds:
        out.append(Mutant("int+1", "value", _wrap(fn, lambda r: _map_leaves(r, lambda x: _kind(x) == "i", _plus_one)),
                          "every integer leaf + 1"))
    if "b" in kinds:
        out.append(Mutant("bool-not", "value", _wrap(fn, lambda r: _map_leaves(
            r, lambda x: _kind(x) == "b", lambda x: jnp.logical_not(x))), "every bool leaf negated"))
    if kinds & {"f", "i", "b"}:
        out.append(Mutant("dtype-cast", "value", _wrap(fn, lambda r: _map_leaves(r, lambda x: _kind(x) != "", _cast)),
                          "every numeric leaf cast (float32→float16, float16→float32, int→float32, "
                          "uint→int32, bool→int32)"))
    if any(_ndim(x) >= 2 for x in leaves):
        out.append(Mutant("transpose", "value", _wrap(fn, lambda r: _map_leaves(
            r, lambda x: _ndim(x) >= 2, _transpose)), "the last two axes of every leaf of rank >= 2 swapped"))
    if any(_ndim(x) >= 1 and _size(x) >= 1 for x in leaves):
        out.append(Mutant("reshape", "value", _wrap(fn, lambda r: _map_leaves(
            r, lambda x: _ndim(x) >= 1, _reshape)), "every leaf of rank >= 1 reshaped (flattened, or to (1, n))"))
    frozen = result

    def constant(*args: Any) -> Any:
        return jax.tree.map(lambda x: jnp.asarray(x) if isinstance(x, np.ndarray) else x, frozen)

    out.append(Mutant("constant", "value", constant, f"always returns the result of case {case.id!r}"))
    if isinstance(result, tuple | list | dict) and len(result) >= 1:
        out.append(Mutant("drop-leaf", "value", _wrap(fn, _drop), "the last item of the result container dropped"))
    if len(leaves) >= 2:
        out.append(Mutant("swap-leaves", "value", _wrap(fn, _swap), "the first two leaves of the result swapped"))
    dynamic = [i for i, a in enumerate(pattern.signature.args) if a not in pattern.signature.static]
    if dynamic:
        first = dynamic[0]
        out.append(Mutant("identity", "value", lambda *args: args[first],
                          f"returns its argument {pattern.signature.args[first]!r} unchanged"))
    return out


# ---------------------------------------------------------------------------
# edge mutants: right wherever the inputs look like the fixed cases', wrong on edges (jaxpat mutate --explore)
# ---------------------------------------------------------------------------

def _arrays(args: tuple) -> list[Any]:
    return [a for a in jax.tree_util.tree_leaves(args) if hasattr(a, "shape") and hasattr(a, "dtype")
            and not _is_key(a)]


def _shift(out: Any, when: Any) -> Any:
    """Every numeric leaf changed (floats by 1e-3 relative, integers + 1, bools negated) where ``when`` holds."""
    def change(x: Any) -> Any:
        k = _kind(x)
        new = _perturb(x) if k == "f" else _plus_one(x) if k == "i" else jnp.logical_not(x) if k == "b" else x
        return jnp.where(when, new, jnp.asarray(x))

    return _map_leaves(out, lambda x: _kind(x) in ("f", "i", "b"), change)


def edge_mutants(pattern: Pattern, impl: Implementation) -> list[Mutant]:
    """Wrong versions of ``impl`` that agree with it on inputs like most fixed cases and differ on an edge of the
    pattern's domain: an empty array, a dimension of size 1, a negative element, an element of magnitude over
    50 -- each only where the domain can draw it (:func:`reachable_edges`). Shapes are static, so the first
    two decide in Python; values are traced, so the last two select with
    ``jnp.where`` (they work under jit, vmap and grad). Made only for patterns with a domain and an oracle."""
    fn = impl.fn

    def empty(*args: Any) -> Any:
        if any(0 in a.shape for a in _arrays(args)):
            raise ValueError("mutant: an empty input is refused")
        return fn(*args)

    def singleton(*args: Any) -> Any:
        out = fn(*args)
        return _shift(out, True) if any(1 in a.shape for a in _arrays(args)) else out

    def negative(*args: Any) -> Any:
        out = fn(*args)
        signed = [a for a in _arrays(args) if _kind(a) in ("f", "i") and a.size]
        if not signed:
            return out
        return _shift(out, jnp.any(jnp.stack([jnp.any(jnp.asarray(a) < 0) for a in signed])))

    def large(*args: Any) -> Any:
        out = fn(*args)
        signed = [a for a in _arrays(args) if _kind(a) in ("f", "i") and a.size]
        if not signed:
            return out
        return _shift(out, jnp.any(jnp.stack([jnp.any(jnp.abs(jnp.asarray(a)) > 50) for a in signed])))

    reach = reachable_edges(pattern)
    return [m for m in (
        Mutant("edge-empty", "value", empty, "raises on an input with a zero-size dimension"),
        Mutant("edge-singleton", "value", singleton, "result shifted when an input has a dimension of size 1"),
        Mutant("edge-negative", "value", negative, "result shifted when an input holds a negative element"),
        Mutant("edge-large", "value", large, "result shifted when an input holds an element of magnitude > 50"),
    ) if m.name.removeprefix("edge-") in reach]


def reachable_edges(pattern: Pattern) -> set[str]:
    """The edges (``empty``, ``singleton``, ``negative``, ``large``) that the pattern's domain can draw in an
    array argument: an edge mutant whose edge no drawn input reaches cannot be told apart by any example, so it
    is not made (it would survive by construction, not by a weakness of the catalog)."""
    from jaxpat.catalog._explore import DEFAULT_MAX, DEFAULT_MIN, ArrayGen, DictGen, SeqGen

    ex = pattern.explore
    found: set[str] = set()
    if ex is None or not ex.has_oracle:
        return found

    def gens(g: Any) -> Iterator[Any]:
        if isinstance(g, SeqGen):
            for item in g.items:
                yield from gens(item)
        elif isinstance(g, DictGen):
            for _, item in g.items:
                yield from gens(item)
        else:
            yield g

    for top in ex.args.values():
        for g in gens(top):
            if not isinstance(g, ArrayGen):
                continue
            for shape in g.shapes:
                dims = {d for dim in shape for d in (ex.sizes.get(dim, ()) if isinstance(dim, str) else (dim,))}
                found |= {"empty"} if 0 in dims else set()
                found |= {"singleton"} if 1 in dims else set()
            dtypes = set(ex.dtypes.get(g.dtype, (g.dtype,)))
            if not dtypes - {"bool"}:
                continue
            lo = DEFAULT_MIN if g.min is None else g.min
            values = list(g.values) or [lo, DEFAULT_MAX if g.max is None else g.max]
            if min(values) < 0 and dtypes & {"int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
                                              "float64"}:
                found.add("negative")
            if max(abs(v) for v in values) > 50:
                found.add("large")
    return found


# ---------------------------------------------------------------------------
# claim counter-implementations: same values, the claim violated
# ---------------------------------------------------------------------------

def _param_size(pattern: Pattern, param: str, args: tuple) -> int:
    """The size ``param`` stands for in a call: the static int, or an array argument's axis-0 length."""
    x = args[pattern.signature.args.index(param)]
    return x if isinstance(x, int) else int(jnp.shape(x)[0])


def _sized(pattern: Pattern, param: str | None) -> bool:
    """Whether ``param`` has a size known at trace time (a static int or an array's axis 0), not a traced value."""
    if not param or param not in pattern.signature.args:
        return False
    if param in pattern.signature.static:
        return True
    arg = pattern.cases[0].args.get(param)
    return isinstance(arg, ArrayValue | GeneratedArray) and arg.to_numpy().ndim >= 1


def _float_anchor(args: tuple, out: Any) -> Any:
    """A float scalar from the result (so the extra work cannot be dropped as dead code)."""
    for leaf in jax.tree_util.tree_leaves(out):
        if _kind(leaf) == "f":
            return jnp.sum(jnp.asarray(leaf)).astype(jnp.float32)
    return jnp.float32(0)


def _add_zero(out: Any, zero: Any) -> Any:
    """``out`` with ``zero`` (a float scalar that is 0 at run time) added to its float leaves."""
    return _map_leaves(out, lambda x: _kind(x) == "f", lambda x: jnp.asarray(x) + zero.astype(jnp.asarray(x).dtype))


def claim_mutants(pattern: Pattern, impl: Implementation, siblings: list[Implementation]) -> list[Mutant]:
    """For each claim of ``impl`` that a generic rewrite can violate, a counter-implementation."""
    claims = claims_for(pattern, impl)
    fn = impl.fn
    out: list[Mutant] = []
    jit_claim = getattr(claims, "jit", None) if not isinstance(claims, dict) else claims.get("jit")
    if jit_claim is True:
        def python_if(*args: Any) -> Any:
            r = fn(*args)
            leaves = [x for x in jax.tree_util.tree_leaves(r) if _numeric(x)] or [
                x for x in jax.tree_util.tree_leaves(args) if _numeric(x)]
            if leaves and bool(jnp.all(jnp.asarray(leaves[0]) == jnp.asarray(leaves[0]))):
                return r
            return r

        out.append(Mutant("python-if-under-jit", "claim:jit", python_if,
                          "a Python `if` on a value the function computes (bool() of a tracer under jit)"))
    grad = _get(claims, "grad")
    if grad is not None:
        fwd, rev = _mode(grad, "forward"), _mode(grad, "reverse")
        if rev is True:
            out.append(Mutant("while-loop-identity", "claim:grad", _wrap(fn, _through_while),
                              "the result passed through a lax.while_loop that runs once: forward mode only"))
        if fwd is True:
            out.append(Mutant("custom-vjp-identity", "claim:grad", _wrap(fn, _through_custom_vjp),
                              "the result passed through a jax.custom_vjp identity: reverse mode only"))
    memory = _get(claims, "memory")
    if memory is not None and _sized(pattern, _field(memory, "param")):
        param = _field(memory, "param")
        if _field(memory, "forward") == "constant":
            def stack(*args: Any) -> Any:
                r = fn(*args)
                n = _param_size(pattern, param, args)
                ys = jnp.cumsum(jnp.arange(n, dtype=jnp.float32) * _float_anchor(args, r))
                return _add_zero(r, jnp.sort(ys)[0] * 0.0)

            out.append(Mutant("materialised-stack", "claim:memory", stack,
                              "also sorts a stacked array of param's length (its element 0 times 0 is added)"))
        if _field(memory, "backward") == "constant":
            out.append(Mutant("scan-residuals", "claim:memory", _scan_residuals(fn, pattern, param),
                              "multiplies by a product of param ones in a lax.scan (residuals grow with param)"))
    size = _get(claims, "program_size")
    if size is not None and _field(size, "growth") == "constant" and _sized(pattern, _field(size, "param")):
        param = _field(size, "param")

        def unrolled(*args: Any) -> Any:
            r = fn(*args)
            zero = jnp.float32(0) * _float_anchor(args, r)
            z = jax.lax.fori_loop(0, _param_size(pattern, param, args), lambda i, c: c * 1.0, zero, unroll=True)
            return _add_zero(r, z)

        out.append(Mutant("unrolled-fori-loop", "claim:program_size", unrolled,
                          "adds fori_loop(0, param, ..., unroll=True) (a zero): n copies of the body"))
    early = _get(claims, "early_exit")
    if early is False:
        out.append(Mutant("while-stops-on-state", "claim:early_exit", _wrap(fn, _through_state_while),
                          "the result passed through a lax.while_loop that stops when its state exceeds 1"))
    elif early is True:
        def scan_only(*args: Any) -> Any:
            # the same values computed with the loop's state hidden from the trace: no while loop left
            return jax.pure_callback(lambda *a: jax.tree.map(np.asarray, fn(*a)),
                                     jax.eval_shape(fn, *args), *args)

        out.append(Mutant("no-loop-in-trace", "claim:early_exit", scan_only,
                          "the computation hidden behind jax.pure_callback: no loop in the traced program"))
    speed = _get(claims, "speedup")
    if speed is not None:
        base = next((x for x in siblings if _field(speed, "baseline") in (x.name, x.id)), None)
        if base is not None:
            out.append(Mutant("baseline-speed", "claim:speedup", base.fn,
                              f"the speed claim's baseline {base.id} itself (ratio 1)"))
    res = _get(claims, "residuals")
    if res is not None:
        base = next((s for s in siblings if _field(res, "baseline") in (s.name, s.id)), None)
        if base is not None:
            out.append(Mutant("baseline-residuals", "claim:residuals", base.fn,
                              f"the baseline implementation {base.id} itself (saving factor 1)"))
    return out


def _get(claims: Any, name: str) -> Any:
    return claims.get(name) if isinstance(claims, dict) else getattr(claims, name, None)


def _field(spec: Any, name: str) -> Any:
    return spec.get(name) if isinstance(spec, dict) else getattr(spec, name, None)


def _mode(grad: Any, mode: str) -> Any:
    return grad.get(mode) if isinstance(grad, dict) else getattr(grad, mode, None)


def _through_while(out: Any) -> Any:
    # the body must change the carried result (times 1), or JAX hoists the loop-invariant value out of the
    # loop and reverse mode still works
    def body(c: tuple) -> tuple:
        return c[0] + 1, _map_leaves(c[1], lambda x: _kind(x) == "f", lambda x: x * jnp.ones((), jnp.asarray(x).dtype))

    return jax.lax.while_loop(lambda c: c[0] < 1, body, (0, out))[1]


def _through_state_while(out: Any) -> Any:
    def body(c: tuple) -> tuple:
        return c[0] * 2.0, c[1]

    return jax.lax.while_loop(lambda c: c[0] < 1.0, body, (jnp.float32(1 / 1024), out))[1]


@jax.custom_vjp
def _ident(x: Any) -> Any:
    return x


_ident.defvjp(lambda x: (x, None), lambda _, g: (g,))


def _through_custom_vjp(out: Any) -> Any:
    return _map_leaves(out, lambda x: _kind(x) == "f", _ident)


def _scan_residuals(fn: Callable[..., Any], pattern: Pattern, param: str) -> Callable[..., Any]:
    def mutant(*args: Any) -> Any:
        r = fn(*args)
        n = _param_size(pattern, param, args)

        def scale(x: Any) -> Any:
            x = jnp.asarray(x)
            # sin(c)**2 + cos(c)**2 == 1: a nonlinear step saves a residual per iteration
            one, _ = jax.lax.scan(lambda c, _: (jnp.sin(c) ** 2 + jnp.cos(c) ** 2, None),
                                  jnp.ones((), x.dtype) + 0 * x.sum(), None, length=n)
            return x * one

        return _map_leaves(r, lambda x: _kind(x) == "f", scale)

    return mutant


# ---------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------

def _specs(pattern: Pattern, impl: Implementation, device: Any) -> Iterator[ItemSpec]:
    specs = [ItemSpec(pattern, case, impl, device, t) for case in pattern.cases for t in case.transforms]
    yield from sorted(specs, key=lambda s: _ORDER.get(s.transform, 9))


def _kill_by_cases(pattern: Pattern, impl: Implementation, device: Any) -> tuple[bool, str, int]:
    checks = 0
    for spec in _specs(pattern, impl, device):
        if any(d.matches(platform=device.platform, jax=jax.__version__, implementation=impl.id,
                         transform=spec.transform, case=spec.case.id, device=spec.device_id)
               for d in pattern.deviations):
            continue  # a known deviation: the suite expects this item to fail anyway
        checks += 1
        try:
            expectation(spec)
            run_item(spec)
        except ConformanceFailure as exc:
            return True, f"{spec.case.id}[{spec.transform}]: {str(exc).splitlines()[0][:160]}", checks
        except Exception as exc:  # the suite reports an error item: the mutant is caught as well
            return True, f"{spec.case.id}[{spec.transform}]: error {type(exc).__name__}", checks
    return False, "", checks


def _kill_by_explore(pattern: Pattern, impl: Implementation, device: Any, n: int, seed: int) -> tuple[bool, str, int]:
    """Run ``impl`` on ``n`` generated inputs per explored transform, as ``jaxpat check --explore`` does (here,
    in-process: mutants are trusted code); ``(killed, by, calls)``."""
    import dataclasses

    from jaxpat.catalog._explore import explore_transforms

    from ._execute import observe_case
    from ._explore import run_exploration
    from ._judge import judge_case
    from ._placement import platform_name

    calls = 0
    device_id = f"{device.platform}:{device.id}"
    for transform in sorted(explore_transforms(pattern), key=lambda t: _ORDER.get(t, 9)):
        if any(d.matches(platform=device.platform, jax=jax.__version__, implementation=impl.id, transform=transform,
                         case="explore", device=device_id) for d in pattern.deviations):
            continue
        # the oracle's derivative is the check: no check_grads, as explore items (conformance/_executor.py)
        run_pattern = pattern if transform != "grad" else dataclasses.replace(
            pattern, claims=dataclasses.replace(pattern.claims, grad=None))

        def run(example: Any, case: Any, t: str = transform, p: Pattern = run_pattern) -> Any:
            return observe_case(ItemSpec(p, case, impl, device, t))

        def verdict(case: Any, obs: Any, t: str = transform) -> None:
            judge_case(pattern, case, t, platform_name(device), [device_id], obs)

        try:
            result = run_exploration(pattern, transform, n, seed, f"mutate::{pattern.id}::{impl.id}::{transform}",
                                     run, verdict)
        except Exception as exc:  # the suite reports an error item: the mutant is caught as well
            return True, f"explore[{transform}]: error {type(exc).__name__}", calls
        calls += result.calls
        if result.failure is not None:
            return True, f"explore[{transform}]: {json.dumps(result.failure.example.encoded())[:160]}", calls
    return False, "", calls


def _kill_by_claim(pattern: Pattern, impl: Implementation, claim: str, device: Any,
                   siblings: list[Implementation]) -> tuple[bool, str]:
    try:
        result = measure(claim, pattern, impl, device, siblings)
    except Exception as exc:
        return True, f"claim-{claim}: could not measure ({type(exc).__name__})"
    # a speed item skips inside its noise band: only a violated speed claim fails
    failing = ("violated",) if claim == "speedup" else ("violated", "inconclusive")
    if result.verdict in failing:
        return True, f"claim-{claim} {result.verdict}: {result.message[:160]}"
    return False, f"claim-{claim} {result.verdict}"


def load_equivalents(path: Path = EQUIVALENT_FILE) -> list[dict[str, str]]:
    """The recorded equivalent mutants: ``[{pattern, implementation, mutant, reason}]`` (globs allowed).

    A missing file is an error, not an empty list: it ships as package data, and without it every
    known-equivalent survivor would be reported as unexplained.
    """
    if not path.is_file():
        raise FileNotFoundError(f"the equivalent-mutants file is missing: {path} (package data of jaxpat.conformance)")
    data = json.loads(path.read_text(encoding="utf-8"))
    return list(data.get("equivalent", []))


def _explained(equivalents: list[dict[str, str]], pattern: str, impl: str, mutant: str) -> str | None:
    for e in equivalents:
        if all(fnmatch.fnmatchcase(value, e.get(key, "*"))
               for key, value in (("pattern", pattern), ("implementation", impl), ("mutant", mutant))):
            return e.get("reason", "recorded as equivalent")
    return None


def run_mutants(registry: Any, device: Any, *, patterns: list[str] | None = None,
                progress: Callable[[MutantResult], None] | None = None, explore: int = 0,
                explore_seed: int = 0) -> list[MutantResult]:
    """Make and run every mutant of every implementation of the patterns matching ``patterns`` (globs).

    ``explore`` > 0 (``jaxpat mutate --explore N``): a value mutant that every fixed case lets through is also
    run on N generated inputs per explored transform of a pattern with a domain and an oracle, and such
    patterns get the :func:`edge_mutants` as well.
    """
    from jaxpat.catalog._explore import explorable

    equivalents = load_equivalents()
    results: list[MutantResult] = []
    for pattern in registry.catalog:
        if patterns and not any(fnmatch.fnmatchcase(pattern.id, g) for g in patterns):
            continue
        impls = registry.implementations(pattern.id)
        for impl in impls:
            mutants = value_mutants(pattern, impl, device)
            explored = explore > 0 and explorable(pattern)
            if explored:
                mutants += edge_mutants(pattern, impl)
            with contextlib.suppress(Exception):  # a claim no rewrite can express makes no counter
                mutants += claim_mutants(pattern, impl, impls)
            for m in mutants:
                mimpl = Implementation(impl.pattern, impl.name, m.fn, plugin=impl.plugin)
                by_explore = False
                if m.kind == "value":
                    killed, by, checks = _kill_by_cases(pattern, mimpl, device)
                    if not killed and explored:
                        killed, by, more = _kill_by_explore(pattern, mimpl, device, explore, explore_seed)
                        checks += more
                        by_explore = killed
                else:
                    killed, by = _kill_by_claim(pattern, mimpl, m.kind.split(":", 1)[1], device, impls)
                    checks = 1
                r = MutantResult(pattern.id, impl.id, m.name, m.kind, m.what, killed, by if killed else "",
                                 checks=checks, by_explore=by_explore)
                if not killed:
                    why = _explained(equivalents, pattern.id, impl.id, m.name)
                    r.equivalent = why is not None
                    r.reason = why or f"unexplained: {m.what}, yet every check passed ({checks} run; {by})".rstrip(
                        "; )") + ")"
                results.append(r)
                if progress is not None:
                    progress(r)
    return results


def summarise(results: list[MutantResult]) -> dict[str, Any]:
    """``{"total", "killed", "score", "equivalent", "survivors": [...], "per_pattern": {...}}`` (JSON-able)."""
    killed = sum(r.killed for r in results)
    per: dict[str, dict[str, int]] = {}
    for r in results:
        p = per.setdefault(r.pattern, {"total": 0, "killed": 0})
        p["total"] += 1
        p["killed"] += int(r.killed)
    survivors = [{"pattern": r.pattern, "implementation": r.implementation, "mutant": r.mutant, "kind": r.kind,
                  "reason": r.reason, "equivalent": r.equivalent} for r in results if not r.killed]
    return {
        "total": len(results),
        "killed": killed,
        "score": round(killed / len(results), 4) if results else None,
        "equivalent": sum(r.equivalent for r in results),
        "killed_by_explore": sum(r.by_explore for r in results),
        "unexplained": sum(1 for r in results if not r.killed and not r.equivalent),
        "survivors": survivors,
        "per_pattern": per,
    }

