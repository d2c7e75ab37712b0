"""Reference implementations of the ``jit`` family: static arguments, tracing, caching.

Several patterns here observe *tracing* (how often the Python body of a jitted
function runs). Their implementations build a fresh function and a fresh
``jax.jit`` wrapper on every call, so that JAX's trace cache, which is keyed on
the Python function, never carries counts from one call to the next. They
return Python ints or lists and are eager-only in the catalog.
"""

from __future__ import annotations

import io

import jax
import jax.numpy as jnp
from jax.experimental import io_callback

from .._implementation import Implementation

# --- jit-static-argnums -----------------------------------------------------


def python_if_static(x):
    """Branch on a Python number; correct under jit only when ``x`` is static."""
    y = jnp.asarray(x, dtype=jnp.float32)
    if x > 0:
        return y
    return 2 * y


_prejitted_static_argnums = jax.jit(python_if_static, static_argnums=0)
_prejitted_static_argnames = jax.jit(python_if_static, static_argnames="x")


def prejitted_static_argnums(x):
    return _prejitted_static_argnums(x)


def prejitted_static_argnames(x):
    return _prejitted_static_argnames(x=x)


# --- jit-static-string-arg ----------------------------------------------------


def python_string_branch(x, op):
    if op == "add":
        return x + 1
    if op == "mul":
        return x * 2
    raise ValueError(f"unknown op {op!r}")


_string_branch_jit = jax.jit(python_string_branch, static_argnames="op")


def prejitted_string_static_argnames(x, op):
    return _string_branch_jit(x, op=op)


_OPS = {"add": lambda x: x + 1, "mul": lambda x: x * 2}


def dict_dispatch(x, op):
    return _OPS[op](x)


# --- jit-side-effect-traced-once -------------------------------------------------


def side_effect_list_append(x, n_calls):
    log = []

    def f(x):
        log.append("traced")  # Python side effect: runs while tracing only
        return x * 2

    f_jit = jax.jit(f)
    for _ in range(n_calls):
        f_jit(x)
    return len(log)


def side_effect_nonlocal_counter(x, n_calls):
    count = 0

    def f(x):
        nonlocal count
        count += 1
        return x * 2

    f_jit = jax.jit(f)
    for _ in range(n_calls):
        f_jit(x)
    return count


def side_effect_print(x, n_calls):
    buffer = io.StringIO()

    def f(x):
        print("called", file=buffer)
        return x * 2

    f_jit = jax.jit(f)
    for _ in range(n_calls):
        f_jit(x)
    return buffer.getvalue().count("called")


# --- jit-debug-callback-every-call ------------------------------------------------


def debug_callback_counter(x, n_calls):
    log = []

    def f(x):
        jax.debug.callback(lambda v: log.append(1), x)
        return x * 2

    f_jit = jax.jit(f)
    for _ in range(n_calls):
        f_jit(x)
    jax.effects_barrier()
    return len(log)


def io_callback_counter(x, n_calls):
    log = []

    def f(x):
        io_callback(lambda v: log.append(1), None, x, ordered=True)
        return x * 2

    f_jit = jax.jit(f)
    for _ in range(n_calls):
        f_jit(x)
    jax.effects_barrier()
    return len(log)


# --- jit-retrace-per-static-value / jit-retrace-per-shape -------------------------


def static_argnames_trace_count(values):
    traces = []

    def f(x, k):
        traces.append(k)
        return x * k

    f_jit = jax.jit(f, static_argnames="k")
    x = jnp.float32(1.0)
    for k in values:
        f_jit(x, k=k)
    return len(traces)


def static_argnums_trace_count(values):
    traces = []

    def f(k, x):
        traces.append(k)
        return x * k

    f_jit = jax.jit(f, static_argnums=0)
    x = jnp.float32(1.0)
    for k in values:
        f_jit(k, x)
    return len(traces)


def shape_trace_count(lengths):
    traces = []

    def f(x):
        traces.append(x.shape)
        return jnp.sum(x)

    f_jit = jax.jit(f)
    for n in lengths:
        f_jit(jnp.zeros((n,), jnp.float32))
    return len(traces)


def shape_trace_count_same_values(lengths):
    """Same as ``shape_trace_count`` but the values change on every call too."""
    traces = []

    def f(x):
        traces.append(x.shape)
        return jnp.sum(x)

    f_jit = jax.jit(f)
    for i, n in enumerate(lengths):
        f_jit(jnp.full((n,), float(i), jnp.float32))
    return len(traces)


# --- jit-rewrap-in-loop ------------------------------------------------------------


def rewrap_trace_counts(n_calls):
    same, fresh = [], []
    x = jnp.float32(1.0)

    def f(x):
        same.append(1)
        return x + 1

    for _ in range(n_calls):  # jax.jit applied to the *same* Python function each time
        jax.jit(f)(x)

    for _ in range(n_calls):  # a *new* Python function each time
        def g(x):
            fresh.append(1)
            return x + 1

        jax.jit(g)(x)
    return len(same), len(fresh)


# --- jit-explicit-state --------------------------------------------------------------


# Unlike the tracing patterns above, these build their jitted function once, at module
# level: nothing here observes tracing, and a fresh jax.jit wrapper per call would only
# retrace and recompile on every call.


@jax.jit
def _count(n):
    n = n + 1
    return n, n


def state_as_argument(n_calls):
    state = jnp.int32(0)
    outs = []
    for _ in range(n_calls):
        state, out = _count(state)
        outs.append(int(out))
    return outs


class _CounterV2:
    """The seed's stateless counter: the state goes in and comes out."""

    def count(self, n):
        n = n + 1
        return n, n

    def reset(self):
        return jnp.int32(0)


_COUNTER_V2 = _CounterV2()  # stateless, so one instance (and one jitted method) serves every call
_fast_count_v2 = jax.jit(_COUNTER_V2.count)


def stateless_class(n_calls):
    state = _COUNTER_V2.reset()
    outs = []
    for _ in range(n_calls):
        value, state = _fast_count_v2(state)
        outs.append(int(value))
    return outs


# ---------------------------------------------------------------------------
# jit-make-jaxpr: the jaxpr jit traces (seed 003)
# ---------------------------------------------------------------------------


def _sin_affine(x):
    return jnp.sin(x) * 2.0 + 1.0


def jaxpr_primitives(x):
    return tuple(eqn.primitive.name for eqn in jax.make_jaxpr(_sin_affine)(x).jaxpr.eqns)


def jaxpr_text_primitives(x):
    # the printed jaxpr, read back: one `name:type = primitive ...` line per equation
    text = str(jax.make_jaxpr(_sin_affine)(x))
    return tuple(line.split(" = ", 1)[1].split()[0].split("[")[0] for line in text.splitlines() if " = " in line)


# ---------------------------------------------------------------------------
# jit-block-until-ready: dispatch is asynchronous; block before timing (seed 003)
# ---------------------------------------------------------------------------


def _matmul_sum(x):
    return jnp.sum(x @ x)


_matmul_sum_jit = jax.jit(_matmul_sum)


def block_method(x):
    return _matmul_sum_jit(x).block_until_ready()


def block_function(x):
    return jax.block_until_ready(_matmul_sum_jit(x))


# ---------------------------------------------------------------------------
# jit-expensive-part: jit the loop body, keep the value-dependent loop in Python (seed 004)
# ---------------------------------------------------------------------------


@jax.jit
def _newton_step(x, a):
    return 0.5 * (x + a / x)


def expensive_part_jitted(a):
    x = jnp.maximum(a, 1.0)
    while jnp.abs(x * x - a) > 1e-5 * a:  # a Python condition on a value: fine outside jit
        x = _newton_step(x, a)
    return x


# ---------------------------------------------------------------------------
# jit-returns-string: jit cannot return a string (seed 003)
# ---------------------------------------------------------------------------


def value_and_unit(x):
    # an array result with a label beside it: fine eagerly, not a valid JAX type under jit
    return x * 2.0, "metres"


# ---------------------------------------------------------------------------
# jit-donate-update: .at[].set under jit, with the input buffer donated (seed 002, seed 003)
# ---------------------------------------------------------------------------


def _set_first(x):
    return x.at[0].set(100.0)


_set_first_donating = jax.jit(_set_first, donate_argnums=0)


def update_donated(x):
    # donate a private copy: the caller's array must survive (the buffer handed over is deleted)
    return _set_first_donating(jnp.array(x, copy=True))


def update_functional(x):
    return _set_first(x)



# --- jit-decorator: @jax.jit on the definition, or jax.jit(f) at the call (seeds 002, 003) ------


def _square_plus_two_x_plus_one(x):
    return x * x + 2 * x + 1


@jax.jit
def decorated_polynomial(x):
    return x * x + 2 * x + 1


def wrapped_polynomial(x):
    return jax.jit(_square_plus_two_x_plus_one)(x)


def eager_polynomial(x):
    return _square_plus_two_x_plus_one(x)


IMPLEMENTATIONS: list[Implementation] = [
    Implementation(pattern="jit-static-argnums", name="python_if_static", fn=python_if_static,
                   notes="plain Python if on x; the harness's jit must mark x static"),
    Implementation(pattern="jit-static-argnums", name="prejitted_static_argnums", fn=prejitted_static_argnums,
                   notes="jax.jit(f, static_argnums=0) built once at import"),
    Implementation(pattern="jit-static-argnums", name="prejitted_static_argnames", fn=prejitted_static_argnames,
                   notes="jax.jit(f, static_argnames='x') built once at import"),
    Implementation(pattern="jit-static-string-arg", name="python_string_branch", fn=python_string_branch,
                   notes="if op == 'add' ...; op must be static under jit"),
    Implementation(pattern="jit-static-string-arg", name="prejitted_static_argnames",
                   fn=prejitted_string_static_argnames, notes="jax.jit(f, static_argnames='op') built once"),
    Implementation(pattern="jit-static-string-arg", name="dict_dispatch", fn=dict_dispatch,
                   notes="a dict of functions keyed by the (static) string"),
    Implementation(pattern="jit-side-effect-traced-once", name="list_append", fn=side_effect_list_append,
                   notes="appends to a closed-over list inside the jitted body; eager-only (jits internally)"),
    Implementation(pattern="jit-side-effect-traced-once", name="nonlocal_counter", fn=side_effect_nonlocal_counter,
                   notes="increments a nonlocal counter inside the jitted body; eager-only"),
    Implementation(pattern="jit-side-effect-traced-once", name="print", fn=side_effect_print,
                   notes="Python print inside the jitted body, captured in a buffer; eager-only"),
    Implementation(pattern="jit-debug-callback-every-call", name="debug_callback", fn=debug_callback_counter,
                   notes="jax.debug.callback staged into the computation; eager-only"),
    Implementation(pattern="jit-debug-callback-every-call", name="io_callback", fn=io_callback_counter,
                   notes="jax.experimental.io_callback(ordered=True); eager-only"),
    Implementation(pattern="jit-retrace-per-static-value", name="static_argnames", fn=static_argnames_trace_count,
                   notes="counts traces of jax.jit(f, static_argnames='k'); eager-only"),
    Implementation(pattern="jit-retrace-per-static-value", name="static_argnums", fn=static_argnums_trace_count,
                   notes="counts traces of jax.jit(f, static_argnums=0); eager-only"),
    Implementation(pattern="jit-retrace-per-shape", name="zeros", fn=shape_trace_count,
                   notes="counts traces for jnp.zeros((n,)) inputs; eager-only"),
    Implementation(pattern="jit-retrace-per-shape", name="changing_values", fn=shape_trace_count_same_values,
                   notes="values differ on every call, shapes repeat: still one trace per shape; eager-only"),
    Implementation(pattern="jit-rewrap-in-loop", name="trace_counts", fn=rewrap_trace_counts,
                   notes="jax.jit(f) inside a loop vs jax.jit(new function) inside a loop; eager-only"),
    Implementation(pattern="jit-explicit-state", name="state_as_argument", fn=state_as_argument,
                   notes="jitted count(n) -> (n + 1, n + 1); the caller threads the state"),
    Implementation(pattern="jit-explicit-state", name="stateless_class", fn=stateless_class,
                   notes="the seed's CounterV2 shape: a class whose method takes and returns the state"),
    Implementation(pattern="jit-make-jaxpr", name="eqns", fn=jaxpr_primitives,
                   notes="jax.make_jaxpr(f)(x).jaxpr.eqns: the primitive of each equation"),
    Implementation(pattern="jit-make-jaxpr", name="printed", fn=jaxpr_text_primitives,
                   notes="print(jax.make_jaxpr(f)(x)) as the seed does, read back line by line"),
    Implementation(pattern="jit-block-until-ready", name="method", fn=block_method,
                   notes="jax.Array.block_until_ready()"),
    Implementation(pattern="jit-block-until-ready", name="function", fn=block_function,
                   notes="jax.block_until_ready(tree)"),
    Implementation(pattern="jit-expensive-part", name="jit_step", fn=expensive_part_jitted,
                   notes="Python while on a value, the Newton step jitted"),
    Implementation(pattern="jit-returns-string", name="value_and_unit", fn=value_and_unit,
                   notes="returns (x * 2, 'metres'): a Python str in the result"),
    Implementation(pattern="jit-donate-update", name="donated", fn=update_donated,
                   notes="jax.jit(f, donate_argnums=0) on a private copy: XLA may update the buffer in place"),
    Implementation(pattern="jit-donate-update", name="functional", fn=update_functional,
                   notes="x.at[0].set(100.0), no donation"),
    Implementation(pattern="jit-decorator", name="decorator", fn=decorated_polynomial,
                   notes="@jax.jit on the definition"),
    Implementation(pattern="jit-decorator", name="wrapper", fn=wrapped_polynomial,
                   notes="jax.jit(f)(x) at the call"),
    Implementation(pattern="jit-decorator", name="eager", fn=eager_polynomial, notes="no jit"),
]
