"""Run one conformance item's calls: build inputs on a device, apply a transform, observe what happened.

This is the executor's side (:mod:`._executor`): it imports JAX and calls
plugin code. Verdicts are the judge's (:mod:`._judge`); :func:`run_item`
composes both in one process for trusted callers (``run_case``, tests,
``jaxpat mutate``).
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import importlib
import traceback
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

from ._compare import same_bits
from ._judge import VMAP_BATCH, ConformanceFailure, judge_agreement, judge_case, repro_script
from ._judge import expectation as _expectation
from ._memory import current_rss
from ._observe import observe_error, observe_value, observing
from ._placement import placement_facts, platform_name
from ._setup import DeviceNaming
from ._wire import WireError, decode, encode

__all__ = ["VMAP_BATCH", "ConformanceFailure", "ItemSpec", "build_args", "config_scope", "jitted",
           "observe_agreement", "observe_case", "release_pattern", "run_agreement", "run_item"]


@dataclass(frozen=True)
class ItemSpec(DeviceNaming):
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
#: :func:`release_pattern` keeps what is compiled while the process's resident memory is at most this much above
#: its baseline (bytes; see :func:`set_baseline`).
RELEASE_BUDGET = 512 * 2**20
#: After a release that left the process above its budget (the heap could not be given back), the next one waits
#: until it holds this much more than right after that release (bytes): a release costs compilations.
RELEASE_STEP = 64 * 2**20
#: Resident memory right after the last release under a budget (bytes; 0: none yet).
_RELEASED_AT: list[int] = [0]
#: The budget :func:`release_pattern` uses when given none (bytes; ``None``: :data:`RELEASE_BUDGET`): see
#: :func:`set_budget`.
_BUDGET: list[int | None] = [None]
#: Resident memory of the process once it was ready to run items (bytes; 0: not measured, the budget is then
#: counted from nothing).
_BASELINE: list[int] = [0]


def set_baseline() -> int:
    """Take the process's resident memory now as the baseline that :func:`release_pattern`'s budget is counted
    from, and return it (bytes; 0 where it cannot be read, and the budget is then counted from nothing).

    Call once the process is ready to run items and before the first: its backends started and its plugin
    loaded. What the process holds then is not the caches' and no release can give it back: on a GPU the
    runtime's libraries and context alone take hundreds of MiB, which an absolute budget would count as
    cache and release at every pattern boundary.
    """
    _BASELINE[0] = current_rss() or 0
    return _BASELINE[0]


def set_budget(budget: int | None) -> None:
    """Make ``budget`` bytes (``None``: :data:`RELEASE_BUDGET`) :func:`release_pattern`'s budget when it is given
    none. The executor sets ``JAXPAT_MEMORY_BUDGET``'s value here when it starts, before it loads any plugin."""
    _BUDGET[0] = budget


def release_pattern(pattern_id: str, budget: int | None = None) -> bool:
    """Call before running an item of ``pattern_id``. When the previous item was of another pattern and this process
    holds more than ``budget`` bytes of resident memory above its baseline (:func:`set_baseline`; ``budget``
    ``None``: :func:`set_budget`'s, else :data:`RELEASE_BUDGET`; 0: whatever it holds), drop every traced and
    compiled program it keeps and give the freed heap back to the system; return whether it did.

    JAX keeps compiled programs in caches keyed on the implementation functions, which live as long as their
    modules: without this, a process running items one after another grows by what each pattern compiled (measured,
    JAX 0.12.1: ~0.7 MB per item; a ``jaxpat check -n 2`` worker of the whole catalog peaked at 0.97 GB). Dropping
    :func:`transformed`'s wrappers and calling ``jax.clear_caches()`` at a pattern boundary keeps the process flat
    while every item of a pattern still reuses what its earlier items compiled (a pattern's items run together:
    xdist's ``loadscope``). The price is programs that patterns share (eager primitives, input building,
    implementations that several patterns or copies of a pattern use) being compiled again after each release
    (persistent-cache hits when that cache is on), hence the budget: below it nothing is dropped, and a release
    should be rare. The budget counts from the baseline: an executor of the whole catalog's jit items peaks about
    385 MiB above its own (541 MiB against 157 MiB; 2026-12-07, JAX 0.12.1, CPU), so an absolute 512 MiB budget
    released there, and every later copy of those patterns compiled everything again (figure 6b: 49 ms per warm item
    instead of 3.3 ms). The allocator keeps freed memory in the process, so resident memory would stay above the
    budget after a release and every later boundary would release again (2026-12-07, whole catalog, ``-n 0``: 4167
    compilations against the 3426 of a process that never releases); so a release also trims the heap (glibc's
    ``malloc_trim``: 847 MiB down to 317 MiB after a release in a measured run), and where that leaves the process
    above its budget (another allocator), the next release waits for :data:`RELEASE_STEP` more resident memory than
    the process held right after this one. Budget 0 (benchmarks) releases at every boundary. Idempotent; cheap when
    the pattern is unchanged (one comparison) and below the budget (one read of ``/proc/self/status``).
    ``tests/test_memory.py`` and ``tests/test_compiles.py`` measure it.
    """
    previous = _LAST_PATTERN[0]
    _LAST_PATTERN[0] = pattern_id
    if previous is None or previous == pattern_id:
        return False
    if budget is None:
        budget = RELEASE_BUDGET if _BUDGET[0] is None else _BUDGET[0]
    if budget:
        rss = current_rss()
        limit = _BASELINE[0] + budget
        if _RELEASED_AT[0]:
            limit = max(limit, _RELEASED_AT[0] + RELEASE_STEP)
        if rss is not None and rss <= limit:
            return False
    _TRANSFORMED.clear()
    jax.clear_caches()
    trim_heap()
    if budget:
        _RELEASED_AT[0] = current_rss() or 0
    return True


def trim_heap() -> bool:
    """Give the C heap's free memory back to the system (glibc's ``malloc_trim(0)``); whether it could.

    Python and XLA free what ``jax.clear_caches()`` dropped, but glibc keeps the pages in the process, so
    resident memory does not say what the process still uses. Elsewhere (macOS, musl) nothing is done.
    """
    fn = _malloc_trim()
    if fn is None:
        return False
    fn(0)
    return True


@functools.cache
def _malloc_trim() -> Any:
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None).malloc_trim  # the process's own symbols: glibc's, where it is the C library
    except (OSError, AttributeError):  # not glibc
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int
    return fn


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
    """What the item's case expects under its transform (see :func:`._judge.expectation`)."""
    return _expectation(spec.case, spec.transform)


def run_item(spec: ItemSpec, facts: dict[str, Any] | None = None) -> dict[str, Any]:
    """Observe and judge the item in this process; raise ConformanceFailure with a full explanation if it does
    not conform.

    The conformance run never does this -- there an executor process observes
    (:func:`observe_case`) and the judge decides (:func:`._judge.judge_case`);
    this composition serves ``run_case``, ``jaxpat mutate`` and tests, whose
    code is trusted. Returns facts worth recording (the check_grads modes
    verified, ``observed``: what the first call returned or raised), in
    ``facts`` when given -- filled in even when the item fails.
    """
    facts = {} if facts is None else facts
    obs = observe_case(spec)
    return judge_case(spec.pattern, spec.case, spec.transform, spec.platform,
                      [f"{d.platform}:{d.id}" for d in spec.device_set], obs, facts)


def observe_case(spec: ItemSpec) -> dict[str, Any]:
    """Run the item's calls and say what happened, as JSON-able data -- the executor's side; no verdict.

    Keys: ``result`` (:func:`._wire.encode` of the first call's result) or
    ``error`` (the exception's type, message, traceback, and ``is_expected``:
    whether it is an instance of the exception the case expects, if any);
    ``observed`` (the report's observation); for an expected value also
    ``mutated`` (inputs changed by the call), ``placement`` (each leaf's
    devices and shards), ``second`` (``"same"`` or the second call's result)
    or ``second_error``, and for grad ``check_grads``. ``unshippable`` says why
    a result could not be encoded. Raises :class:`Unavailable` as is.
    """
    obs: dict[str, Any] = {}
    expected = expectation(spec)
    want = resolve_exception(expected.type_name) if isinstance(expected, ExpectedError) else None
    with config_scope(spec.case.config), jax.default_device(spec.device):
        args = build_args(spec.pattern, spec.case, spec.device, spec.devices)
        try:
            out = jax.block_until_ready(_call(spec, args))
        except Unavailable:
            raise
        except Exception as exc:
            obs["error"] = error_facts(exc, want)
            if observing():
                obs["observed"] = observe_error(exc)
            return obs
        if observing():
            obs["observed"] = observe_value(out)
        try:
            obs["result"] = encode(out)
        except WireError as exc:
            obs["unshippable"] = str(exc)
            return obs
        if want is not None:
            return obs
        # static arguments are hashable Python values (meshes, device tuples): only dynamic ones can change
        static = set(spec.pattern.signature.static)
        dynamic = [i for i, a in enumerate(spec.pattern.signature.args) if a not in static]
        fresh = build_args(spec.pattern, spec.case, spec.device, spec.devices)
        changed = same_bits(decode(encode(tuple(fresh[i] for i in dynamic))),
                            decode(encode(tuple(args[i] for i in dynamic))))
        if changed:
            obs["mutated"] = [c.replace("result", "args", 1) for c in changed[:5]]
        obs["placement"] = placement_facts(out, spec.device_set)
        try:
            second = jax.block_until_ready(_call(spec, build_args(spec.pattern, spec.case, spec.device,
                                                                  spec.devices)))
        except Exception as exc:
            obs["second_error"] = error_facts(exc, None)
        else:
            try:
                again = encode(second)
            except WireError as exc:
                obs["unshippable"] = f"second call: {exc}"
                return obs
            obs["second"] = "same" if again == obs["result"] else again
        if spec.transform == "grad":
            obs["check_grads"] = _grad_facts(spec)
    return obs


def error_facts(exc: BaseException, want: type[BaseException] | None) -> dict[str, Any]:
    """An exception as data: qualified type, message (bounded), the traceback's last lines, ``is_expected``."""
    message = str(exc)
    if len(message) > 20_000:
        message = message[:20_000] + f"… [{len(message) - 20_000} more characters]"
    tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return {"type": _qualname(type(exc)), "message": message,
            "traceback": "\n".join("".join(tb).splitlines()[-12:]),
            "is_expected": bool(want is not None and isinstance(exc, want))}


def run_agreement(specs: list[ItemSpec]) -> None:
    """Run the same case on several devices; raise ConformanceFailure where results disagree (in-process)."""
    judge_agreement(specs[0].case, [s.platform for s in specs], [s.device_id for s in specs],
                    observe_agreement(specs))


def observe_agreement(specs: list[ItemSpec]) -> dict[str, Any]:
    """Each device's result of the same case, as data (``results``), or the first ``error``."""
    results = []
    for spec in specs:
        with config_scope(spec.case.config), jax.default_device(spec.device):
            try:
                out = jax.block_until_ready(_call(spec, build_args(spec.pattern, spec.case, spec.device,
                                                                   spec.devices)))
                results.append(encode(out))
            except Unavailable:
                raise
            except Exception as exc:
                return {"error": error_facts(exc, None)}
    return {"results": results}


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


def _grad_facts(spec: ItemSpec) -> dict[str, Any]:
    """``check_grads`` in the modes the pattern claims (``claims.grad``): ``{"modes": [...], "failure": ...}``."""
    try:
        return {"modes": _check_grads(spec)}
    except ConformanceFailure as exc:
        return {"modes": [], "failure": str(exc)}


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


def snapshot_config() -> dict[str, Any]:
    """Every JAX config flag's value (``jax.config.values``), for :func:`undo_config_changes`."""
    from jaxpat.patterns._guard import jax_config

    return jax_config() or {}


def undo_config_changes(before: dict[str, Any]) -> str | None:
    """Restore the JAX config flags changed since ``before``; say which (None: nothing changed).

    Run after each item's plugin code: the item fails naming the change, and the items that follow run in the
    state they expect.
    """
    from jaxpat.patterns._guard import config_changes, describe_config_changes, restore_config

    changes = config_changes(before, snapshot_config())
    if not changes:
        return None
    failed = restore_config(changes)
    changed = ", ".join(f"{n} from {a!r} to {b!r}" for n, (a, b) in sorted(changes.items()))
    return (f"the implementation changed global JAX config: {changed} (restored for the items that follow"
            f"{'' if not failed else '; not restorable: ' + describe_config_changes(changes, failed)}); "
            "use a case `config:` or `jax.config` context managers instead")


def select_devices(platforms: str | None, all_devices: bool) -> tuple[list[Any], dict[str, list[str]]]:
    """The devices to test (``--jaxpat-platforms``, ``--all-devices``), and the requested platforms that are
    absent (with the devices that exist)."""
    from jax.extend.backend import backends

    available = {name: jax.devices(name) for name in backends()}
    names = [p.strip() for p in platforms.split(",") if p.strip()] if platforms else sorted(available)
    existing = [f"{d.platform}:{d.id}" for devs in available.values() for d in devs]
    devices: list[Any] = []
    absent: dict[str, list[str]] = {}
    for name in names:
        devs = available.get(name)
        if devs is None:
            try:
                devs = jax.devices(name)  # aliases such as "cuda" for the "gpu" backend
            except RuntimeError:
                absent[name] = existing
                continue
        devices.extend(devs if all_devices else devs[:1])
    return devices, absent


def _qualname(t: type) -> str:
    mod = t.__module__
    return t.__name__ if mod == "builtins" else f"{mod.replace('jax._src.errors', 'jax.errors')}.{t.__name__}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else "(no message)"


def repro(spec: ItemSpec, *, load: Sequence[str] = (), catalog: Sequence[str] = (),
          nodeid: str | None = None) -> str:
    """:func:`._judge.repro_script` for an in-process item (``spec`` holds JAX devices)."""
    cpus = len(jax.devices("cpu")) if spec.device.platform == "cpu" and (spec.device.id > 0 or spec.devices) else 0
    return repro_script(spec.pattern.id, spec.case.id, spec.impl.id, spec.transform, spec.device_id,
                        simulated_cpus=cpus, load=load, catalog=catalog, nodeid=nodeid)
