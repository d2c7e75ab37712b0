"""Reference implementations built on loops and branches compile once, not on every eager call.

Outside ``jit``, JAX caches a traced ``lax.scan`` / ``fori_loop`` / ``while_loop`` /
``cond`` body (and a ``jax.jit`` wrapper's programs) by the Python function's
identity. A body defined inside the implementation is a new function on every call,
so every eager call retraces and recompiles. These implementations keep their bodies
at module level; calling one twice on the same inputs must compile nothing the
second time. Compilations are counted as the suite counts them, with the
``/jax/core/compile/backend_compile_duration`` monitoring event.

Left out on purpose: implementations whose recompilation is the pattern taught (the
``jit`` family's trace counters, ``jit_bound_method``), those built on ``lax.map``
(which wraps ``f`` in a fresh function itself), ``checkpoint-scan-body`` (a
closed-over ``w`` is a loop-invariant residual, which its ``residuals`` claim
measures), and the ``grad`` / ``jvp`` of loops and branches, which JAX recompiles
on every eager call whatever the body.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jax
import jax.monitoring
import pytest

from jaxpat.catalog import ExpectedError
from jaxpat.conformance._execute import build_args, config_scope
from jaxpat.patterns import load_registry

#: (pattern id, reference implementation name): each compiles only on its first eager call.
FIXED = [
    ("arange-loop-carry", "lax_scan"),
    ("loop-affine-recurrence", "lax_scan"),
    ("loop-affine-recurrence", "fori_loop"),
    ("loop-lax-scan", "lax_scan"),
    ("loop-lax-scan", "lax_scan_no_xs"),
    ("loop-fori-static-bounds", "fori_loop"),
    ("loop-fori-static-bounds", "fori_loop_unrolled"),
    ("loop-fori-traced-bounds", "fori_loop"),
    ("loop-fori-traced-bounds", "while_loop"),
    ("loop-while-early-exit", "while_loop"),
    ("loop-while-early-exit", "while_loop_cond"),
    ("loop-while-converge", "while_loop"),
    ("loop-while-converge", "fori_loop"),
    ("scan-cumsum", "lax_scan"),
    ("scan-cumsum-final-carry", "lax_scan"),
    ("scan-cumsum-final-carry", "fori_loop"),
    ("scan-moving-average", "lax_scan"),
    ("scan-markov-chain-sampler", "lax_scan"),
    ("scan-markov-chain-sampler", "fori_loop"),
    ("control-flow-cond", "lax_cond"),
    ("control-flow-cond", "jnp_piecewise"),
    ("traced-branch-where", "lax_cond"),
    ("jit-explicit-state", "state_as_argument"),
    ("jit-explicit-state", "stateless_class"),
]

#: Process-wide: JAX's monitoring listeners cannot be removed, so register one only once.
_COMPILES = {"count": 0, "listener": False}


def _on_event(event: str, duration: float, **_: Any) -> None:
    if event == "/jax/core/compile/backend_compile_duration":
        _COMPILES["count"] += 1


@pytest.fixture(scope="module")
def registry() -> Any:
    return load_registry()


@pytest.fixture
def compiles() -> Iterator[dict[str, Any]]:
    """The compile counter, with the persistent compilation cache off (a disk hit would hide a compile)."""
    if not _COMPILES["listener"]:
        jax.monitoring.register_event_duration_secs_listener(_on_event)
        _COMPILES["listener"] = True
    saved = jax.config.jax_enable_compilation_cache
    jax.config.update("jax_enable_compilation_cache", False)
    try:
        yield _COMPILES
    finally:
        jax.config.update("jax_enable_compilation_cache", saved)


def _first_eager_case(pattern: Any) -> Any:
    for case in pattern.cases:
        if "eager" in case.transforms and not isinstance(case.expected("eager"), ExpectedError):
            return case
    raise AssertionError(f"pattern {pattern.id!r} has no eager case that returns a value")


@pytest.mark.parametrize(("pattern_id", "name"), FIXED, ids=[f"{p}:{n}" for p, n in FIXED])
def test_second_eager_call_compiles_nothing(registry: Any, compiles: dict[str, Any], pattern_id: str,
                                            name: str) -> None:
    pattern = registry.catalog.get(pattern_id)
    impl = registry.get(f"reference.{name}", pattern=pattern_id)
    case = _first_eager_case(pattern)
    device = jax.devices("cpu")[0]
    counts = []
    with config_scope(case.config), jax.default_device(device):
        # Positive control: a function never seen before must count a compile, so a renamed JAX
        # monitoring event (a counter stuck at 0) fails here instead of passing every check below.
        before = compiles["count"]
        fresh = jax.jit(lambda x: x * 3 + 1)  # a new function object: nothing cached for it
        jax.block_until_ready(fresh(jax.numpy.arange(3)))
        assert compiles["count"] - before >= 1, "the compile counter saw no compilation of a new function"
        for _ in range(2):
            before = compiles["count"]
            jax.block_until_ready(impl.fn(*build_args(pattern, case, device)))
            counts.append(compiles["count"] - before)
    assert counts[1] == 0, (
        f"{impl.id} ({impl.fn.__module__}.{impl.fn.__qualname__}) on case {case.id!r} compiled "
        f"{counts[0]} then {counts[1]} XLA programs: the second eager call should reuse the first's "
        "(is a loop body or branch defined inside the implementation?)"
    )
