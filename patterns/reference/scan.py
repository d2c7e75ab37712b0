"""Reference implementations for the ``scan`` family (seeds 000, 001, 003)."""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from .._implementation import Implementation

# Scan and loop bodies live at module level and read their data from the carry, not
# from a closure: outside jit, JAX caches a traced loop body by the function's
# identity, so a body defined inside the implementation would be retraced and
# recompiled on every eager call.

# --- scan-cumsum: per-step outputs of a running sum ----------------------------


def _cumsum_step(carry, x):
    carry = carry + x
    return carry, carry


def _cumsum_scan(xs):
    init = jnp.zeros(xs.shape[1:], xs.dtype)
    _, outputs = lax.scan(_cumsum_step, init, xs)
    return outputs


def _cumsum_python(xs):
    carry = jnp.zeros(xs.shape[1:], xs.dtype)
    outputs = []
    for i in range(xs.shape[0]):
        carry = carry + xs[i]
        outputs.append(carry)
    if not outputs:  # no step: no output rows (jnp.stack needs at least one; found by jaxpat check --explore)
        return jnp.zeros((0, *xs.shape[1:]), xs.dtype)
    return jnp.stack(outputs)


def _cumsum_jnp(xs):
    return jnp.cumsum(xs, axis=0)


def _cumsum_associative(xs):
    return lax.associative_scan(jnp.add, xs)


# --- scan-cumsum-final-carry (seed 001) ------------------------------------------


def _cumsum_fn(prev_sum, next_value):
    return prev_sum + next_value, prev_sum + next_value


def _total_scan(xs):
    # Seed 001 starts from jnp.array(0), which is weakly typed and so promoted for
    # float inputs; zeros of xs's own dtype state the carry type explicitly.
    initial_sum = jnp.zeros(xs.shape[1:], xs.dtype)
    cumulative_sum, _ = lax.scan(_cumsum_fn, initial_sum, xs)
    return cumulative_sum


def _total_python(xs):
    total = jnp.zeros(xs.shape[1:], xs.dtype)
    for i in range(xs.shape[0]):
        total = total + xs[i]
    return total


def _total_fori_body(i, carry):
    total, xs = carry
    return total + xs[i], xs


def _total_fori(xs):
    xs = jnp.asarray(xs)  # xs[i] with a traced i needs a JAX array, not a NumPy one
    if xs.shape[0] == 0:  # xs[i] cannot even be traced on an empty axis (found by jaxpat check --explore)
        return jnp.zeros(xs.shape[1:], xs.dtype)
    return lax.fori_loop(0, xs.shape[0], _total_fori_body, (jnp.zeros(xs.shape[1:], xs.dtype), xs))[0]


def _total_sum(xs):
    return jnp.sum(xs, axis=0)


# --- scan-moving-average (seed 001) ------------------------------------------------


def _moving_average(state, next_value):
    prev_avg, _ = state
    new_avg = (prev_avg * 2 + next_value) / 3
    return (new_avg, next_value), new_avg


def _moving_average_scan(xs):
    initial_state = (0.0, 0.0)
    _final_state, moving_averages = lax.scan(_moving_average, initial_state, xs)
    return moving_averages


def _moving_average_python(xs):
    avg = jnp.zeros((), xs.dtype)
    out = []
    for i in range(xs.shape[0]):
        avg = (avg * 2 + xs[i]) / 3
        out.append(avg)
    if not out:  # no step: no output (jnp.stack needs at least one; found by jaxpat check --explore)
        return jnp.zeros((0,), xs.dtype)
    return jnp.stack(out)


def _moving_average_matrix(xs):
    # y_t = sum_{k <= t} (1/3) (2/3)^(t-k) x_k, as a lower-triangular matmul.
    n = xs.shape[0]
    lag = jnp.arange(n)[:, None] - jnp.arange(n)[None, :]
    weights = jnp.where(lag >= 0, (1.0 / 3.0) * (2.0 / 3.0) ** jnp.maximum(lag, 0), 0.0).astype(xs.dtype)
    return weights @ xs


# --- scan-markov-chain-sampler (seed 003, made deterministic) -----------------------


def _next_state(trans, state, u):
    trans = jnp.asarray(trans)
    cdf = jnp.cumsum(trans[state])
    # The first state whose cumulative probability exceeds u (inverse CDF).
    nxt = jnp.sum(cdf <= u).astype(jnp.int32)
    return jnp.minimum(nxt, trans.shape[0] - 1)


def _markov_step(carry, u):
    state, trans = carry
    nxt = _next_state(trans, state, u)
    return (nxt, trans), nxt


def _markov_scan(trans, init_state, uniforms):
    _, states = lax.scan(_markov_step, (jnp.asarray(init_state, jnp.int32), jnp.asarray(trans)), uniforms)
    return states


def _markov_python(trans, init_state, uniforms):
    state = jnp.asarray(init_state, jnp.int32)
    states = []
    for i in range(uniforms.shape[0]):
        state = _next_state(trans, state, uniforms[i])
        states.append(state)
    if not states:  # no step: no state visited (jnp.stack needs at least one; found by jaxpat check --explore)
        return jnp.zeros((0,), jnp.int32)
    return jnp.stack(states)


def _markov_fori_body(i, carry):
    state, states, trans, uniforms = carry
    nxt = _next_state(trans, state, uniforms[i])
    return nxt, states.at[i].set(nxt), trans, uniforms


def _markov_fori(trans, init_state, uniforms):
    if uniforms.shape[0] == 0:  # the body cannot even trace uniforms[i] on an empty axis (jaxpat check --explore)
        return jnp.zeros((0,), jnp.int32)
    init = (jnp.asarray(init_state, jnp.int32), jnp.zeros(uniforms.shape[0], jnp.int32),
            jnp.asarray(trans), jnp.asarray(uniforms))
    _, states, _, _ = lax.fori_loop(0, uniforms.shape[0], _markov_fori_body, init)
    return states


# ---------------------------------------------------------------------------
# scan-carry-mismatch: the carry must keep its type and shape (seed 000's loop carry)
# ---------------------------------------------------------------------------


def carry_shape_changes(xs):
    # a scalar carry plus a row of xs becomes a vector: the carry changes shape
    return lax.scan(lambda c, x: (c + x, c), jnp.float32(0.0), xs)


def carry_dtype_changes(xs):
    # the body returns an integer carry for a float one
    return lax.scan(lambda c, x: ((c + x.sum()).astype(jnp.int32), c), jnp.float32(0.0), xs)


# ---------------------------------------------------------------------------
# scan-over-tuple: xs may be any pytree of arrays with a common leading axis (seed 001)
# ---------------------------------------------------------------------------


def _dot_step(carry, pair):
    x, y = pair
    carry = carry + x * y
    return carry, carry


def scan_over_tuple(a, b):
    return lax.scan(_dot_step, jnp.zeros((), a.dtype), (a, b))


def scan_over_list(a, b):
    return lax.scan(lambda c, xy: _dot_step(c, tuple(xy)), jnp.zeros((), a.dtype), [a, b])



# --- scan-weak-typed-carry-init: 0 or jnp.array(0) as the initial carry (seed 000) --------------


def _running_sum(carry, x):
    return carry + x, carry + x


def weak_init_python_zero(xs):
    return lax.scan(_running_sum, 0, xs)[1]


def weak_init_jnp_array_zero(xs):
    # jnp.array(0) of a Python int is weakly typed, like 0: the carry takes the dtype of xs
    return lax.scan(_running_sum, jnp.array(0), xs)[1]


def weak_init_zeros_like(xs):
    return lax.scan(_running_sum, jnp.zeros((), xs.dtype), xs)[1]



# --- scan-carry-silent-broadcast: a (2,) carry plus scalar inputs (seed 000) --------------------


def broadcast_carry_scan(xs, init):
    return lax.scan(_running_sum, init, xs)


def broadcast_carry_python(xs, init):
    carry, ys = init, []
    for i in range(xs.shape[0]):
        carry = carry + xs[i]
        ys.append(carry)
    if not ys:  # no step: the carry is init, no rows (jnp.stack needs at least one; found by jaxpat check --explore)
        return carry, jnp.zeros((0, *jnp.shape(init)), jnp.result_type(init, xs))
    return carry, jnp.stack(ys)


def broadcast_carry_cumsum(xs, init):
    ys = init[None, :] + jnp.cumsum(xs)[:, None]
    # no step: the final carry is init (ys[-1] of no rows is out of bounds; found by jaxpat check --explore)
    return (ys[-1] if xs.shape[0] else jnp.asarray(init, ys.dtype)), ys


# --- scan-over-python-list-of-scalars: a list of elements is not a sequence (seed 001) ---------


def scan_python_list(n):
    return lax.scan(_running_sum, 0, list(range(n)))[1]


def scan_python_list_of_floats(n):
    return lax.scan(_running_sum, 0.0, [float(i) for i in range(n)])[1]

IMPLEMENTATIONS: list[Implementation] = [
    Implementation(pattern="scan-cumsum", name="lax_scan", fn=_cumsum_scan,
                   notes="carry = carry + x, emitted every step"),
    Implementation(pattern="scan-cumsum", name="python_loop", fn=_cumsum_python,
                   notes="Python loop over the leading axis; unrolls when traced"),
    Implementation(pattern="scan-cumsum", name="jnp_cumsum", fn=_cumsum_jnp,
                   notes="jnp.cumsum(xs, axis=0)"),
    Implementation(pattern="scan-cumsum", name="associative_scan", fn=_cumsum_associative,
                   notes="lax.associative_scan(jnp.add, xs): parallel prefix sum, different rounding order"),
    Implementation(pattern="scan-cumsum-final-carry", name="lax_scan", fn=_total_scan,
                   notes="seed 001's cumsum_fn; keeps only the final carry"),
    Implementation(pattern="scan-cumsum-final-carry", name="python_loop", fn=_total_python,
                   notes="Python loop accumulating the total"),
    Implementation(pattern="scan-cumsum-final-carry", name="fori_loop", fn=_total_fori,
                   notes="lax.fori_loop with static bounds (lowered to scan)"),
    Implementation(pattern="scan-cumsum-final-carry", name="jnp_sum", fn=_total_sum,
                   notes="jnp.sum(xs, axis=0)"),
    Implementation(pattern="scan-moving-average", name="lax_scan", fn=_moving_average_scan,
                   notes="seed 001's moving_average with state (avg, last value)"),
    Implementation(pattern="scan-moving-average", name="python_loop", fn=_moving_average_python,
                   notes="Python loop carrying the average"),
    Implementation(pattern="scan-moving-average", name="matrix_filter", fn=_moving_average_matrix,
                   notes="closed form: lower-triangular weights (1/3)(2/3)^(t-k) times xs"),
    Implementation(pattern="scan-markov-chain-sampler", name="lax_scan", fn=_markov_scan,
                   notes="carry = current state; inverse-CDF step driven by the given uniforms"),
    Implementation(pattern="scan-markov-chain-sampler", name="python_loop", fn=_markov_python,
                   notes="Python loop over the uniforms"),
    Implementation(pattern="scan-markov-chain-sampler", name="fori_loop", fn=_markov_fori,
                   notes="fori_loop writing states with .at[i].set"),
    Implementation(pattern="scan-carry-mismatch", name="shape_changes", fn=carry_shape_changes,
                   notes="scalar carry + a row: the carry becomes a vector"),
    Implementation(pattern="scan-carry-mismatch", name="dtype_changes", fn=carry_dtype_changes,
                   notes="float32 carry in, int32 carry out"),
    Implementation(pattern="scan-over-tuple", name="tuple", fn=scan_over_tuple,
                   notes="xs = (a, b): each step gets the pair (a[i], b[i])"),
    Implementation(pattern="scan-over-tuple", name="list", fn=scan_over_list,
                   notes="xs = [a, b]: a list is a pytree too"),
    Implementation(pattern="scan-weak-typed-carry-init", name="python_zero", fn=weak_init_python_zero,
                   notes="init_carry = 0, as in seed 000"),
    Implementation(pattern="scan-weak-typed-carry-init", name="jnp_array_zero", fn=weak_init_jnp_array_zero,
                   notes="init_carry = jnp.array(0): weakly typed, promoted to the dtype of xs"),
    Implementation(pattern="scan-weak-typed-carry-init", name="zeros_of_dtype", fn=weak_init_zeros_like,
                   notes="init_carry = jnp.zeros((), xs.dtype): strongly typed, with the right dtype"),
    Implementation(pattern="scan-carry-silent-broadcast", name="lax_scan", fn=broadcast_carry_scan,
                   notes="carry + x with a (2,) init: broadcasts, no error"),
    Implementation(pattern="scan-carry-silent-broadcast", name="python_loop", fn=broadcast_carry_python,
                   notes="the same loop in Python"),
    Implementation(pattern="scan-carry-silent-broadcast", name="cumsum", fn=broadcast_carry_cumsum,
                   notes="init + cumsum(xs), the broadcast written out"),
    Implementation(pattern="scan-over-python-list-of-scalars", name="python_ints", fn=scan_python_list,
                   notes="xs = [0, 1, ..., n-1], a list of Python ints"),
    Implementation(pattern="scan-over-python-list-of-scalars", name="python_floats",
                   fn=scan_python_list_of_floats, notes="xs = [0.0, 1.0, ...], a list of Python floats"),
]
