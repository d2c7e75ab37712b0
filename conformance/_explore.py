"""Generated inputs against oracles, on the judge's side (docs/explore.md). No JAX, no plugin code.

For a pattern that declares ``explore:`` (a domain and an oracle), the judge
draws inputs with Hypothesis from the domain, computes what they should give
with the oracle (:mod:`.oracles`: NumPy and plain Python), sends the inputs
to the implementation's executor *as data* (catalog values, the ``explore``
request of :mod:`._executor`) and judges what comes back with the same code
that judges a fixed case (:func:`._judge.judge_case`), under the pattern's
tolerance rules. A failure is shrunk by Hypothesis to a minimal input.

Shapes are drawn from the domain's small size buckets, so the executor's
jitted programs (cached per shape, dtype and static values) are compiled
once per distinct shape, not once per example; :class:`Exploration` counts
both.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jaxpat.catalog import (
    ArrayValue,
    Case,
    DictValue,
    GradSpec,
    KeyDataValue,
    KeyValue,
    ListValue,
    Pattern,
    Provenance,
    Tolerance,
    TupleValue,
    Value,
    encode,
)
from jaxpat.catalog._explore import (
    DEFAULT_MAX,
    DEFAULT_MIN,
    ArrayGen,
    BoolGen,
    ChoiceGen,
    ConstGen,
    DictGen,
    Explore,
    FloatGen,
    Gen,
    IntGen,
    KeyGen,
    SeqGen,
    SizeGen,
)

__all__ = ["DEFAULT_EXAMPLES", "Example", "Exploration", "explore_case",
           "item_seed", "oracle_expectation", "repro_script", "run_exploration", "strategy"]

#: ``jaxpat check --explore`` without a number: examples per item.
DEFAULT_EXAMPLES = 25  # = _options.EXPLORE_EXAMPLES (the plugin's options stay free of this module)
_INT_RANGE = {
    "int8": (-(2**7), 2**7 - 1), "int16": (-(2**15), 2**15 - 1), "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1), "uint8": (0, 2**8 - 1), "uint16": (0, 2**16 - 1), "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
}
_FLOAT_WIDTH = {"float16": 16, "bfloat16": 32, "float32": 32, "float64": 64}
_FLOAT_MAX = {"float16": 65504.0, "bfloat16": 3.38e38, "float32": 3.4e38, "float64": 1.7e308}


class ExploreError(Exception):
    """The domain or the oracle cannot be used (an unknown oracle, an oracle that raised): a catalog problem."""


# ---------------------------------------------------------------------------
# which patterns, which transforms, coverage
# ---------------------------------------------------------------------------

# ---------------------------------------------------------------------------
# drawing inputs
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Example:
    """One drawn input: the arguments (catalog values, by name) and the sizes and dtypes drawn for them."""

    args: Mapping[str, Value]
    sizes: Mapping[str, int] = field(default_factory=dict)
    dtypes: Mapping[str, str] = field(default_factory=dict)

    def encoded(self) -> dict[str, Any]:
        """The arguments in the catalog's value language (JSON-able; what the executor and a saved case get)."""
        return {k: encode(v) for k, v in self.args.items()}

    def shape_key(self, static: Sequence[str]) -> tuple[Any, ...]:
        """What a compiled program depends on: each argument's structure, shapes and dtypes, static values."""
        return tuple((name, repr(encode(v)) if name in static else _abstract(v)) for name, v in self.args.items())


def _abstract(v: Value) -> Any:
    if isinstance(v, ArrayValue):
        return ("array", v.dtype, v.shape)
    if isinstance(v, TupleValue | ListValue):
        return (type(v).__name__, tuple(_abstract(x) for x in v.items))
    if isinstance(v, DictValue):
        return ("dict", tuple((k, _abstract(x)) for k, x in v.items))
    if isinstance(v, KeyValue):
        return ("key", v.legacy, v.impl)
    return type(v).__name__


def _hyp() -> Any:
    try:
        import hypothesis
        import hypothesis.strategies
    except ImportError as exc:  # pragma: no cover - a runtime dependency
        raise ExploreError("--explore needs Hypothesis (a dependency of jaxpat): pip install 'hypothesis>=6.100'"
                           ) from exc
    return hypothesis


def strategy(ex: Explore) -> Any:
    """A Hypothesis strategy of :class:`Example` for the domain ``ex`` (sizes, then dtypes, then arguments;
    examples that break a ``where`` constraint are discarded)."""
    hypothesis = _hyp()
    st = hypothesis.strategies

    @st.composite
    def examples(draw: Any) -> Example:
        sizes = {k: draw(st.sampled_from(v)) for k, v in ex.sizes.items()}
        dtypes = {k: draw(st.sampled_from(v)) for k, v in ex.dtypes.items()}
        args = {name: draw(_strategy(gen, sizes, dtypes, st)) for name, gen in ex.args.items()}
        names: dict[str, Any] = dict(sizes)
        names.update({k: v for k, v in args.items() if isinstance(v, bool | int | float)})
        for c in ex.where:
            hypothesis.assume(c.holds(names))
        return Example(args, sizes, dtypes)

    return examples()


def _bounds(lo: float | None, hi: float | None, floor: float, ceil: float) -> tuple[float, float]:
    lo = DEFAULT_MIN if lo is None else lo
    hi = DEFAULT_MAX if hi is None else hi
    return max(lo, floor), min(hi, ceil)


def _element(dtype: str, gen: ArrayGen, st: Any) -> Any:
    if gen.values:
        return st.sampled_from(list(gen.values))
    if dtype == "bool":
        return st.booleans()
    if dtype in _INT_RANGE:
        lo, hi = _bounds(gen.min, gen.max, *_INT_RANGE[dtype])
        return st.integers(math.ceil(lo), math.floor(hi))
    if dtype.startswith("complex"):
        lo, hi = _bounds(gen.min, gen.max, -3.4e38, 3.4e38)
        part = st.floats(lo, hi, width=32 if dtype == "complex64" else 64, allow_nan=False, allow_infinity=False)
        return st.builds(complex, part, part)
    lo, hi = _bounds(gen.min, gen.max, -_FLOAT_MAX[dtype], _FLOAT_MAX[dtype])
    return st.floats(lo, hi, width=_FLOAT_WIDTH[dtype], allow_nan=False, allow_infinity=False)


def _strategy(gen: Gen, sizes: Mapping[str, int], dtypes: Mapping[str, str], st: Any) -> Any:
    if isinstance(gen, ArrayGen):
        dtype = dtypes.get(gen.dtype, gen.dtype)

        def array(shape: tuple[int | str, ...]) -> Any:
            dims = tuple(sizes[d] if isinstance(d, str) else int(d) for d in shape)
            n = math.prod(dims)
            return st.lists(_element(dtype, gen, st), min_size=n, max_size=n).map(
                lambda data: ArrayValue(dtype, dims, tuple(data)))

        return st.sampled_from(gen.shapes).flatmap(array)
    if isinstance(gen, IntGen):
        lo, hi = _bounds(gen.min, gen.max, -(2**63), 2**63 - 1)
        ints = st.integers(math.ceil(lo), math.floor(hi))
        return ints.filter(bool) if gen.nonzero else ints
    if isinstance(gen, FloatGen):
        lo, hi = _bounds(gen.min, gen.max, -1e300, 1e300)
        floats = st.floats(lo, hi, width=gen.width, allow_nan=False, allow_infinity=False)
        return floats.filter(bool) if gen.nonzero else floats
    if isinstance(gen, BoolGen):
        return st.booleans()
    if isinstance(gen, SizeGen):
        return st.just(sizes[gen.of])
    if isinstance(gen, ChoiceGen):
        return st.sampled_from(list(gen.values))
    if isinstance(gen, KeyGen):
        return st.integers(gen.min, gen.max).map(lambda s: KeyValue(s, gen.legacy, gen.impl))
    if isinstance(gen, ConstGen):
        return st.just(gen.value)
    if isinstance(gen, SeqGen):
        items = st.tuples(*(_strategy(g, sizes, dtypes, st) for g in gen.items))
        return items.map(lambda xs: TupleValue(tuple(xs)) if gen.kind == "tuple" else ListValue(tuple(xs)))
    assert isinstance(gen, DictGen)
    keys = [k for k, _ in gen.items]
    values = st.tuples(*(_strategy(g, sizes, dtypes, st) for _, g in gen.items))
    return values.map(lambda vs: DictValue(tuple(zip(keys, vs, strict=True))))


# ---------------------------------------------------------------------------
# the oracle
# ---------------------------------------------------------------------------

def _oracle_input(v: Value) -> Any:
    if isinstance(v, ArrayValue):
        return v.to_numpy()
    if isinstance(v, TupleValue):
        return tuple(_oracle_input(x) for x in v.items)
    if isinstance(v, ListValue):
        return [_oracle_input(x) for x in v.items]
    if isinstance(v, DictValue):
        return {k: _oracle_input(x) for k, x in v.items}
    return v  # Python scalars, None, strings, KeyValue


def as_value(x: Any, where: str = "result") -> Value:
    """What an oracle returned, as a catalog expectation: arrays keep their dtype, Python scalars are weak."""
    import numpy as np

    from .oracles import KeyArray

    if x is None or type(x) in (bool, int, float, str):
        return x
    if isinstance(x, KeyArray):
        data = np.asarray(x.data, dtype=np.uint32)
        return KeyDataValue(ArrayValue("uint32", tuple(data.shape), tuple(data.ravel().tolist())), x.impl)
    if isinstance(x, np.ndarray | np.generic):
        arr = np.asarray(x)
        return ArrayValue(str(arr.dtype), tuple(int(n) for n in arr.shape), tuple(arr.ravel().tolist()))
    if type(x) is tuple:
        return TupleValue(tuple(as_value(v, f"{where}[{i}]") for i, v in enumerate(x)))
    if type(x) is list:
        return ListValue(tuple(as_value(v, f"{where}[{i}]") for i, v in enumerate(x)))
    if type(x) is dict and all(isinstance(k, str) for k in x):
        return DictValue(tuple((k, as_value(v, f"{where}[{k!r}]")) for k, v in x.items()))
    raise ExploreError(f"the oracle returned {type(x).__name__} at {where}: an oracle returns NumPy arrays, "
                       "Python scalars, KeyArray, and tuples, lists and dicts of them")


def _call_oracle(name: str, args: Mapping[str, Value], pattern: Pattern) -> Value:
    from .oracles import OracleError, resolve

    where = f" (declared at {pattern.location})" if pattern.location else ""
    try:
        fn = resolve(name)
    except OracleError as exc:
        raise ExploreError(f"pattern {pattern.id!r}, field 'explore': {exc}{where}") from None
    try:
        out = fn(**{k: _oracle_input(v) for k, v in args.items()})
    except Exception as exc:
        raise ExploreError(f"the oracle {name} raised {type(exc).__name__}: {exc} (an oracle bug or a domain that "
                           f"reaches past what it handles{where})") from exc
    return as_value(out)


def oracle_expectation(pattern: Pattern, example: Example, transform: str) -> Value:
    """What the oracle says ``example`` must give under ``transform`` (the gradient's oracle for ``grad``)."""
    ex = pattern.explore
    assert ex is not None
    assert ex.oracle is not None
    name = ex.grad_oracle if transform == "grad" and ex.grad_oracle else ex.oracle
    return _call_oracle(name, example.args, pattern)


def grad_wrt(pattern: Pattern) -> str | None:
    """The argument the pattern's ``grad`` transform differentiates (its cases' ``grad.wrt``)."""
    return next((c.grad.wrt for c in pattern.cases if c.grad), None)


def explore_case(pattern: Pattern, example: Example, transform: str, expected: Value | None = None) -> Case:
    """A judge-side case for one drawn example: its arguments, the oracle's value, the domain's tolerance."""
    ex = pattern.explore
    assert ex is not None
    if expected is None:
        expected = oracle_expectation(pattern, example, transform)
    wrt = grad_wrt(pattern)
    grad = GradSpec(wrt, expected) if transform == "grad" and wrt else None
    return Case(id="explore", args=dict(example.args), expect=None if grad else expected,
                provenance=Provenance("oracle", oracle=f"jaxpat.conformance.oracles.{ex.oracle}"),
                transforms=(transform,), grad=grad, config=dict(ex.config),
                tolerance=ex.tolerance or Tolerance(), location=pattern.location)


# ---------------------------------------------------------------------------
# running an exploration
# ---------------------------------------------------------------------------

def item_seed(seed: int, nodeid: str) -> int:
    """The Hypothesis seed of one item: the run's seed and the item's node id, hashed (order-independent)."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{nodeid}".encode()).digest()[:8], "big")


@dataclass
class Failure:
    """A failing example: the input, the oracle's value, what the implementation gave, the judge's message."""

    example: Example
    expected: Value
    actual: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"args": self.example.encoded(), "expected": encode(self.expected), "actual": self.actual,
                "message": self.message, "sizes": dict(self.example.sizes), "dtypes": dict(self.example.dtypes)}


@dataclass
class Exploration:
    """What one explore item did: examples drawn, calls made (shrinking included), distinct shapes, compiles."""

    examples: int
    seed: int
    item_seed: int
    calls: int = 0
    generated: int = 0
    shapes: set[Any] = field(default_factory=set)
    compiles: int = 0
    failure: Failure | None = None
    error: str | None = None
    #: a failing input passed when Hypothesis replayed it
    flaky: bool = False

    def facts(self) -> dict[str, Any]:
        """The report's ``explore`` member of this item."""
        out: dict[str, Any] = {"seed": self.seed, "item_seed": self.item_seed, "examples": self.examples,
                               "generated": self.generated, "calls": self.calls, "shapes": len(self.shapes),
                               "compiles": self.compiles}
        if self.failure is not None:
            out["failure"] = self.failure.to_dict()
        if self.error:
            out["error"] = self.error
        if self.flaky:
            out["flaky"] = True
        return out


#: ``(example, case) -> observation``: runs one example on the item's executor (the item supplies it).
Runner = Callable[[Example, Case], Mapping[str, Any]]
#: ``(case, observation) -> None``, raising ConformanceFailure: the verdict (``_judge.judge_case``, bound).
Verdict = Callable[[Case, Mapping[str, Any]], None]


def run_exploration(pattern: Pattern, transform: str, n: int, seed: int, nodeid: str, run: Runner,
                    verdict: Verdict, *, compiles: Callable[[Mapping[str, Any]], int] | None = None,
                    phase: Callable[[str], None] | None = None) -> Exploration:
    """Draw up to ``n`` examples (Hypothesis, seeded by :func:`item_seed`), judge each, shrink a failure.

    Returns the :class:`Exploration`; its ``failure`` is the minimal failing
    example Hypothesis shrank to (the last one it replays), or None when
    every example conformed. ``run`` sends an example to the executor and
    returns the observation, ``verdict`` raises
    :class:`._judge.ConformanceFailure` when it does not conform. Any other
    exception (an executor failure, an interrupt) propagates.
    """
    hypothesis = _hyp()
    from hypothesis import HealthCheck, Phase, Verbosity, settings

    from ._judge import ConformanceFailure

    ex = pattern.explore
    assert ex is not None
    result = Exploration(examples=n, seed=seed, item_seed=item_seed(seed, nodeid))
    static = pattern.signature.static
    state: dict[str, Any] = {"shrinking": False}
    escaped: list[BaseException] = []

    class _Fail(Exception):
        pass

    def fail() -> None:
        # every failure is raised here, from one line: Hypothesis tells failures apart by where they are raised
        raise _Fail()

    def check(example: Example) -> None:
        if escaped:  # stop: every further call fails at once, so Hypothesis ends without running anything more
            fail()
        result.calls += 1
        if not state["shrinking"]:
            result.generated += 1
        result.shapes.add(example.shape_key(static))
        try:
            expected = oracle_expectation(pattern, example, transform)
        except ExploreError as exc:
            result.error = str(exc)
            escaped.append(exc)
            fail()
        case = explore_case(pattern, example, transform, expected)
        try:
            obs = run(example, case)
        except ConformanceFailure as exc:  # the executor could not run it (ask() turns that into a failure)
            escaped.append(exc)
            fail()
        except Exception as exc:  # anything else: stop exploring and let it propagate
            escaped.append(exc)
            fail()
        if compiles is not None:
            result.compiles += compiles(obs)
        try:
            verdict(case, obs)
        except ConformanceFailure as exc:
            result.failure = Failure(example, expected, _actual(obs), str(exc))
            state["shrinking"] = True
            fail()

    test = hypothesis.given(strategy(ex))(check)
    test = settings(max_examples=n, database=None, deadline=None, derandomize=False, report_multiple_bugs=False,
                    verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck), print_blob=False,
                    phases=(Phase.generate, Phase.shrink))(test)
    test = hypothesis.seed(result.item_seed)(test)
    try:
        test()
    except _Fail:
        pass
    except hypothesis.errors.Flaky:
        # the same input failed once and passed when replayed: the implementation (or the executor) is not a
        # function of its input; the failure seen is kept, and said to be flaky
        result.flaky = True
    except hypothesis.errors.Unsatisfiable:
        result.error = (f"no example satisfies the domain's constraints ({', '.join(map(str, ex.where))}) often "
                        "enough: Hypothesis gave up")
    if escaped and result.failure is None and not result.error:
        raise escaped[-1]
    return result


def _actual(obs: Mapping[str, Any]) -> str:
    """What the implementation did, in one short text (its result or the exception it raised)."""
    from ._compare import describe
    from ._wire import WireError, decode

    error = obs.get("error")
    if isinstance(error, Mapping):
        first = str(error.get("message") or "").strip().splitlines()
        return f"raised {error.get('type')}: {first[0] if first else ''}"[:500]
    try:
        value = decode(obs.get("result"))
    except WireError:
        return "an unreadable result"
    return _show(value, describe)


def _show(value: Any, describe: Callable[[Any], str]) -> str:
    import numpy as np

    if isinstance(value, np.ndarray):
        body = np.array2string(value, separator=", ", threshold=40)
        return f"{value.dtype}{list(value.shape)} {body}"[:1500]
    if isinstance(value, tuple | list):
        inner = ", ".join(_show(v, describe) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_show(v, describe)}" for k, v in value.items()) + "}"
    return describe(value)[:500]


def failure_message(pattern: Pattern, impl: str, transform: str, device: str, exploration: Exploration,
                    repro: str) -> str:
    """The failed item's message: the minimal input, expected (oracle) and actual values, and a repro."""
    import json

    f = exploration.failure
    assert f is not None
    ex = pattern.explore
    assert ex is not None
    oracle = ex.grad_oracle if transform == "grad" and ex.grad_oracle else ex.oracle
    lines = [
        f"{impl} does not conform to {pattern.id} on generated inputs under {transform} on {device}: "
        f"{exploration.generated} example(s) drawn (seed {exploration.seed}, item seed {exploration.item_seed}); "
        f"a failure, shrunk in {exploration.calls - exploration.generated} more call(s) to:",
        f"  args: {json.dumps(f.example.encoded())}",
        f"  expected (oracle {oracle}): {json.dumps(encode(f.expected))}",
        f"  actual: {f.actual}",
        "",
        f.message,
        "",
        "reproduce (save as repro.py, run `python repro.py`):",
        repro,
    ]
    return "\n".join(lines)


def repro_script(pattern: str, impl: str, transform: str, device: str, args: Mapping[str, Any], *,
                 simulated_cpus: int = 0, load: Sequence[str] = (), catalog: Sequence[str] = (),
                 nodeid: str | None = None) -> str:
    """A Python file that reruns one explored example with public APIs (``jaxpat.conformance.run_example``)."""
    import os

    what = nodeid or f"{pattern} / explore / {impl} / {transform} on {device}"
    lines = [f"# Reproduce {what} on its minimal generated input",
             "# Save as repro.py and run `python repro.py`: it raises jaxpat.conformance.ConformanceFailure",
             "# while the implementation does not conform, and prints 'conforms' once it does."]
    if simulated_cpus:
        lines += ["import os", "",
                  'os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") '
                  f'+ " --xla_force_host_platform_device_count={simulated_cpus}").strip()  # before JAX starts']
    lines += ["from jaxpat.conformance import run_example", "",
              f"args = {dict(args)!r}  # the catalog's value language (docs/catalog-format.md)"]
    extra = f", load={list(load)!r}" if load else ""
    if catalog:
        extra += f", catalog={[os.path.abspath(p) for p in catalog]!r}"
    lines += [f"run_example({pattern!r}, {impl!r}, args, transform={transform!r}, device={device!r}{extra})",
              'print("conforms")']
    return "\n".join(lines) + "\n"
