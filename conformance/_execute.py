"""Run one conformance item: build inputs on a device, apply a transform, check the result."""

from __future__ import annotations

import builtins
import contextlib
import importlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
from jaxpat.catalog import (
    ArrayValue,
    Case,
    DevicesValue,
    DictValue,
    ExpectedError,
    GeneratedArray,
    KeyValue,
    ListValue,
    MeshValue,
    Pattern,
    Signature,
    TupleValue,
    Value,
)
from jaxpat.patterns import Implementation, Unavailable

from ._compare import agree, compare, describe, same_bits
from ._memory import current_rss
from ._observe import observe_error, observe_value, observing
from ._placement import check_placement, platform_name

__all__ = ["ConformanceFailure", "ItemSpec", "build_args", "config_scope", "jitted", "release_pattern", "run_agreement",
           "run_item"]

#: How many copies of a case the ``vmap`` transform batches together.
VMAP_BATCH = 2


class ConformanceFailure(AssertionError):
    """An implementation does not conform; the message says how, precisely."""


ConformanceFailure.__module__ = "jaxpat.conformance"  # public there; tracebacks name it so


@dataclass(frozen=True)
class ItemSpec:
    """What one item checks: pattern × case × implementation × device (set) × transform.

    ``devices`` is the item's device set for a case that declares ``devices: N`` > 1
    (the platform's first N devices; ``device`` is the first of them); empty otherwise.
    """

    pattern: Pattern
    case: Case
    impl: Implementation
    device: Any  # a jax.Device
    transform: str
    devices: tuple = ()

    @property
    def device_set(self) -> tuple:
        """The devices the item runs on, in order: index i is device i of ``$devices``, ``$mesh`` and ``shards``."""
        return self.devices or (self.device,)

    @property
    def device_id(self) -> str:
        """``cpu:3`` for one device; ``cpu:0..7`` (device *indices*, stable across hosts) for a device set."""
        if self.case.devices > 1:
            return f"{self.device.platform}:0..{self.case.devices - 1}"
        return f"{self.device.platform}:{self.device.id}"

    @property
    def platform(self) -> str:
        """The most specific catalog platform name: ``cpu``, ``tpu``, ``cuda`` or ``rocm``."""
        return platform_name(self.device)


# ---------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------

def to_input(value: Value, device: Any, *, static: bool = False, devices: tuple = ()) -> Any:
    """Build a fresh Python/JAX input from a catalog value.

    Arrays are committed to ``device``; with a device set (``devices``, a
    multi-device item) they are uncommitted arrays on the default device (the
    set's first), so that implementations may place them anywhere.
    ``$devices``/``$mesh`` resolve to the set's first devices.
    """
    devs = devices or (device,)
    if isinstance(value, ArrayValue | GeneratedArray):
        arr = value.to_numpy()
        if static:
            return arr
        return jax.device_put(arr) if devices else jax.device_put(arr, device)
    if isinstance(value, KeyValue):
        key = jax.random.PRNGKey(value.seed) if value.legacy else jax.random.key(value.seed, impl=value.impl)
        return jax.device_put(key) if devices else jax.device_put(key, device)
    if isinstance(value, DevicesValue):
        return tuple(devs[:value.count])
    if isinstance(value, MeshValue):
        import numpy as np

        grid = np.empty(value.size, dtype=object)
        grid[:] = list(devs[:value.size])
        return jax.sharding.Mesh(grid.reshape(value.shape), value.axes)
    if isinstance(value, TupleValue):
        return tuple(to_input(v, device, static=static, devices=devices) for v in value.items)
    if isinstance(value, ListValue):
        items = [to_input(v, device, static=static, devices=devices) for v in value.items]
        return tuple(items) if static else items  # static arguments must be hashable
    if isinstance(value, DictValue):
        return {k: to_input(v, device, static=static, devices=devices) for k, v in value.items}
    return value


def build_args(pattern: Pattern, case: Case, device: Any, devices: tuple = ()) -> list[Any]:
    """The case's arguments in signature order, built fresh: on ``device``, or for the device set ``devices``."""
    static = set(pattern.signature.static)
    return [to_input(case.args[name], device, static=name in static, devices=devices)
            for name in pattern.signature.args]


# ---------------------------------------------------------------------------
# config
# ---------------------------------------------------------------------------

@contextlib.contextmanager
def config_scope(config: Mapping[str, Any]) -> Iterator[None]:
    """Apply JAX config flags for the duration of the block, then restore them."""
    saved = {name: getattr(jax.config, name) for name in config}
    try:
        for name, value in config.items():
            jax.config.update(name, value)
        yield
    finally:
        for name, value in saved.items():
            jax.config.update(name, value)


# ---------------------------------------------------------------------------
# transforms (built once per implementation and reused across items)
# ---------------------------------------------------------------------------

def jitted(fn: Callable[..., Any], signature: Signature) -> Any:
    """``jax.jit(fn)`` with the signature's static arguments as ``static_argnames``.

    Typed ``Any``: the result is JAX's jit wrapper (callable, with ``.lower``), whose class is private.
    """
    return jax.jit(fn, static_argnames=signature.static) if signature.static else jax.jit(fn)


_TRANSFORMED: dict[tuple, tuple[Callable[..., Any], Callable[..., Any]]] = {}


def transformed(impl: Implementation, pattern: Pattern, transform: str, static_values: tuple) -> Callable[..., Any]:
    """The implementation under ``transform``; cached so nothing is traced or compiled twice.

    ``static_values`` are the static arguments' values for transforms that
    close over them (vmap, grad); jit receives them as static arguments.
    """
    key = (pattern.id, impl.id, id(impl.fn), transform, static_values)
    hit = _TRANSFORMED.get(key)
    if hit is not None and hit[0] is impl.fn:
        return hit[1]
    made = _make_transformed(impl, pattern, transform, static_values)
    _TRANSFORMED[key] = (impl.fn, made)
    return made


#: The pattern of the last item :func:`release_pattern` was told about (``None``: none yet).
_LAST_PATTERN: list[str | None] = [None]
#: :func:`release_pattern` keeps what is compiled while the process's resident memory is at most this (bytes).
RELEASE_BUDGET = 512 * 2**20


def release_pattern(pattern_id: str, budget: int | None = None) -> bool:
    """Call before running an item of ``pattern_id``. When the previous item was of another pattern and
    this process holds more than ``budget`` bytes of resident memory (``None``: :data:`RELEASE_BUDGET`;
    0: whatever it holds), drop every traced and compiled program it keeps; return whether it did.

    JAX keeps compiled programs in caches keyed on the implementation functions, which live as long
    as their modules: without this, a process running items one after another grows by what each
    pattern compiled (measured, JAX 0.12.1: ~0.7 MB per item; a ``jaxpat check -n 2`` worker of the
    whole catalog peaked at 0.97 GB). Dropping :func:`transformed`'s wrappers and calling
    ``jax.clear_caches()`` at a pattern boundary keeps the process flat while every item of a pattern
    still reuses what its earlier items compiled (a pattern's items run together: xdist's
    ``loadscope``). The price is programs that patterns share (eager primitives, input building) being
    compiled again after each release (persistent-cache hits when that cache is on), hence the budget:
    below it nothing is dropped. Idempotent; cheap when the pattern is unchanged (one comparison) and
    below the budget (one read of ``/proc/self/status``). ``tests/test_memory.py`` measures it.
    """
    previous = _LAST_PATTERN[0]
    _LAST_PATTERN[0] = pattern_id
    if previous is None or previous == pattern_id:
        return False
    if budget is None:
        budget = RELEASE_BUDGET
    if budget:
        rss = current_rss()
        if rss is not None and rss <= budget:
            return False
    _TRANSFORMED.clear()
    jax.clear_caches()
    return True


def _make_transformed(
    impl: Implementation, pattern: Pattern, transform: str, static_values: tuple,
) -> Callable[..., Any]:
    fn = impl.fn
    sig = pattern.signature
    if transform == "eager":
        return fn
    if transform == "jit":
        return jitted(fn, sig)
    dynamic = [a for a in sig.args if a not in sig.static]
    bound = dict(zip(sig.static, static_values, strict=True))

    def call(*dyn: Any) -> Any:
        kwargs = dict(zip(dynamic, dyn, strict=True))
        return fn(*[kwargs[a] if a in kwargs else bound[a] for a in sig.args])

    if transform == "vmap":
        axes = tuple(pattern.vmap_axes.get(a, 0) for a in dynamic)
        return jax.vmap(call, in_axes=axes)  # vmap alone: jit is a transform of its own
    if transform == "grad":
        return jax.grad(call, argnums=dynamic.index(_grad_wrt(pattern)))
    raise ValueError(f"unknown transform {transform!r}")


def _grad_wrt(pattern: Pattern) -> str:
    for case in pattern.cases:
        if case.grad:
            return case.grad.wrt
    raise ValueError(f"pattern {pattern.id!r} declares no `grad` block")


def _call(spec: ItemSpec, args: list[Any]) -> Any:
    sig = spec.pattern.signature
    static = tuple(args[sig.args.index(a)] for a in sig.static)
    if spec.transform in ("eager", "jit"):
        return transformed(spec.impl, spec.pattern, spec.transform, ())(*args)
    dyn = [x for a, x in zip(sig.args, args, strict=True) if a not in sig.static]
    if spec.transform == "vmap":
        dyn = [x if spec.pattern.vmap_axes.get(a, 0) is None else _stack(x)
               for a, x in zip([a for a in sig.args if a not in sig.static], dyn, strict=True)]
    return transformed(spec.impl, spec.pattern, spec.transform, static)(*dyn)


def _stack(x: Any) -> Any:
    return jax.tree.map(lambda leaf: jnp.stack([jnp.asarray(leaf)] * VMAP_BATCH), x)


# ---------------------------------------------------------------------------
# the item
# ---------------------------------------------------------------------------

def expectation(spec: ItemSpec) -> Value:
    if spec.transform == "grad":
        if spec.case.grad is None:
            raise ConformanceFailure(f"case {spec.case.id!r} has no `grad` block")
        return spec.case.expect_under.get("grad", spec.case.grad.expect)
    return spec.case.expected(spec.transform)


def run_item(spec: ItemSpec, facts: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the item; raise ConformanceFailure with a full explanation if it does not conform.

    Returns facts worth recording (e.g. the check_grads modes verified), in
    ``facts`` when given -- filled in even when the item fails: ``observed`` is
    what the first call returned or raised (:mod:`._observe`).
    """
    expected = expectation(spec)
    facts = {} if facts is None else facts
    with config_scope(spec.case.config), jax.default_device(spec.device):
        if isinstance(expected, ExpectedError):
            _expect_error(spec, expected, facts)
            return facts
        try:
            first = _run_once(spec, check_inputs=True, facts=facts)
        except ConformanceFailure as exc:
            if "observed" not in facts and isinstance(exc.__cause__, Exception) and observing():
                facts["observed"] = observe_error(exc.__cause__)
            raise
        problems = compare(expected, first, tolerance=spec.case.tolerance, platform=spec.platform,
                           batch=VMAP_BATCH if spec.transform == "vmap" else 0)
        if problems:
            raise ConformanceFailure("wrong result:\n" + "\n".join(problems))
        problems = check_placement(first, spec.device_set, spec.case.shards)
        if problems:
            raise ConformanceFailure("wrong placement (read from the result's addressable shards):\n"
                                     + "\n".join(problems))
        second = _run_once(spec)
        if spec.case.is_nondeterministic(spec.platform):
            # declared: repeated runs may differ in the last bits here (e.g. GPU atomics); within tolerance
            diffs = agree(first, second, tolerance=spec.case.tolerance, platform=spec.platform)
            facts["determinism"] = "within tolerance (declared nondeterministic on this platform)"
        else:
            diffs = same_bits(first, second)
        if diffs:
            raise ConformanceFailure(
                "non-deterministic: the same item run twice gave different bits:\n" + "\n".join(diffs[:5])
            )
        if spec.transform == "grad":
            facts["check_grads"] = _check_grads(spec)
    return facts


def run_agreement(specs: list[ItemSpec]) -> None:
    """Run the same case on several devices; raise ConformanceFailure where results disagree."""
    first = specs[0]
    results = []
    for spec in specs:
        with config_scope(spec.case.config), jax.default_device(spec.device):
            results.append(_run_once(spec))
    problems = []
    for spec, result in zip(specs[1:], results[1:], strict=True):
        for p in agree(results[0], result, tolerance=first.case.tolerance, platform=spec.platform):
            problems.append(f"{first.device_id} vs {spec.device_id}: {p}")
    if problems:
        raise ConformanceFailure("devices disagree:\n" + "\n".join(problems))


def _run_once(spec: ItemSpec, *, check_inputs: bool = False, facts: dict[str, Any] | None = None) -> Any:
    args = build_args(spec.pattern, spec.case, spec.device, spec.devices)
    try:
        out = jax.block_until_ready(_call(spec, args))
    except (ConformanceFailure, Unavailable):
        raise
    except Exception as exc:
        raise ConformanceFailure(
            f"unexpected exception {_qualname(type(exc))}: {_first_line(exc)}"
        ) from exc
    if facts is not None and observing():
        facts["observed"] = observe_value(out)
    if check_inputs:
        # static arguments are hashable Python values (meshes, device tuples): only dynamic ones can change
        static = set(spec.pattern.signature.static)
        dynamic = [i for i, a in enumerate(spec.pattern.signature.args) if a not in static]
        fresh = build_args(spec.pattern, spec.case, spec.device, spec.devices)
        changed = same_bits([fresh[i] for i in dynamic], [args[i] for i in dynamic])
        if changed:
            raise ConformanceFailure(
                "the implementation mutated its inputs (compared with freshly built arguments):\n"
                + "\n".join(c.replace("result", "args", 1) for c in changed[:5])
            )
    return out


def _expect_error(spec: ItemSpec, expected: ExpectedError, facts: dict[str, Any]) -> None:
    want = resolve_exception(expected.type_name)
    args = build_args(spec.pattern, spec.case, spec.device, spec.devices)
    try:
        out = jax.block_until_ready(_call(spec, args))
    except Unavailable:
        raise
    except Exception as exc:
        if observing():
            facts["observed"] = observe_error(exc)
        _judge_error(expected, want, exc)
        return
    if observing():
        facts["observed"] = observe_value(out)
    raise ConformanceFailure(
        f"expected {expected.type_name}{f' matching {expected.match!r}' if expected.match else ''} "
        f"to be raised, but the call returned {describe(out)}"
    )


def _judge_error(expected: ExpectedError, want: type[BaseException], exc: Exception) -> None:
    """Raise ConformanceFailure unless ``exc`` is the expected exception (type and message fragment)."""
    if not isinstance(exc, want):
        raise ConformanceFailure(
            f"expected {expected.type_name} (or a subclass), got {_qualname(type(exc))}: {_first_line(exc)}"
        ) from exc
    if expected.match and expected.match not in str(exc):
        raise ConformanceFailure(
            f"raised {_qualname(type(exc))} as expected, but its message does not contain "
            f"{expected.match!r}:\n  {_first_line(exc)}"
        ) from exc


def resolve_exception(name: str) -> type[BaseException]:
    """The exception class a catalog names: a builtin, a ``jax.errors`` name, or ``jax.…`` dotted."""
    candidates: list[Any] = []
    if "." not in name:
        candidates += [getattr(builtins, name, None), getattr(jax.errors, name, None)]
    else:
        module, _, attr = name.rpartition(".")
        if module == "jax" or module.startswith("jax."):
            with contextlib.suppress(ImportError):
                candidates.append(getattr(importlib.import_module(module), attr, None))
    for c in candidates:
        if isinstance(c, type) and issubclass(c, BaseException):
            return c
    raise ConformanceFailure(f"the catalog names an unknown exception type {name!r}")


def _check_grads(spec: ItemSpec) -> list[str]:
    """Verify the gradient numerically in the modes the pattern claims (``claims.grad``)."""
    from jax.test_util import check_grads

    claimed = spec.pattern.claims.grad
    modes = [m for m, key in (("fwd", "forward"), ("rev", "reverse")) if getattr(claimed, key, None) is True]
    if not modes or spec.case.grad is None:
        return []
    sig = spec.pattern.signature
    args = build_args(spec.pattern, spec.case, spec.device, spec.devices)
    wrt = sig.args.index(spec.case.grad.wrt)
    x = args[wrt]

    def f(v: Any) -> Any:
        return spec.impl.fn(*[v if i == wrt else a for i, a in enumerate(args)])

    try:
        check_grads(f, (x,), order=1, modes=modes, atol=1e-2, rtol=1e-2, eps=1e-3)
    except AssertionError as exc:
        raise ConformanceFailure(f"check_grads failed in modes {modes}:\n{exc}") from exc
    except Exception as exc:
        raise ConformanceFailure(
            f"check_grads could not differentiate in claimed modes {modes}: {_qualname(type(exc))}: {_first_line(exc)}"
        ) from exc
    return modes


def _qualname(t: type) -> str:
    mod = t.__module__
    return t.__name__ if mod == "builtins" else f"{mod.replace('jax._src.errors', 'jax.errors')}.{t.__name__}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else "(no message)"


def repro(spec: ItemSpec, *, load: Sequence[str] = (), catalog: Sequence[str] = (),
          nodeid: str | None = None) -> str:
    """A Python file that reproduces the item with public APIs only (``python repro.py``).

    It calls :func:`jaxpat.conformance.run_case`, which raises
    :class:`ConformanceFailure` with the item's message while the item fails,
    and prints ``conforms`` once it passes. ``load`` and ``catalog`` are the
    run's ``--jaxpat-load`` modules and ``--jaxpat-catalog`` files. A device
    ``cpu:N`` with N > 0 needs simulated CPU devices, which the script asks
    for before JAX starts.
    """
    device = spec.device_id
    what = nodeid or f"{spec.pattern.id} / {spec.case.id} / {spec.impl.id} / {spec.transform} on {device}"
    lines = [f"# Reproduce {what}",
             "# Save as repro.py and run `python repro.py`: it raises jaxpat.conformance.ConformanceFailure",
             "# while the implementation does not conform, and prints 'conforms' once it does."]
    if spec.device.platform == "cpu" and (spec.device.id > 0 or spec.devices):
        n = len(jax.devices("cpu"))
        lines += ["import os", "",
                  'os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") '
                  f'+ " --xla_force_host_platform_device_count={n}").strip()  # before JAX starts']
    lines += ["from jaxpat.conformance import run_case", ""]
    extra = f", load={list(load)!r}" if load else ""
    if catalog:
        extra += f", catalog={[os.path.abspath(p) for p in catalog]!r}"
    lines += [f"run_case({spec.pattern.id!r}, {spec.case.id!r}, {spec.impl.id!r}, transform={spec.transform!r}, "
              f"device={device!r}{extra})",
              'print("conforms")']
    return "\n".join(lines) + "\n"
