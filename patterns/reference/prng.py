"""Reference implementations of the ``prng`` family.

Legacy raw keys (``jax.random.PRNGKey``, a ``uint32[2]`` array) and typed keys
(``jax.random.key``, an opaque key array) implement the same patterns; typed
keys are turned back into their bits with ``jax.random.key_data``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .._implementation import Implementation

# ---------------------------------------------------------------------------
# prng-key-from-seed: the bits of a key made from an integer seed (seed 001)
# ---------------------------------------------------------------------------


def key_from_seed_prngkey(seed):
    return jax.random.PRNGKey(seed)


def key_from_seed_key_data(seed):
    return jax.random.key_data(jax.random.key(seed))


# ---------------------------------------------------------------------------
# prng-typed-key: jax.random.key(seed) returns a typed key array
# ---------------------------------------------------------------------------


def typed_key_key(seed):
    return jax.random.key(seed)


def typed_key_wrap_key_data(seed):
    return jax.random.wrap_key_data(jax.random.PRNGKey(seed))


# ---------------------------------------------------------------------------
# prng-split: split a key into `num` subkeys (seed 001)
# ---------------------------------------------------------------------------


def split_legacy(seed, num):
    return jax.random.split(jax.random.PRNGKey(seed), num)


def split_typed(seed, num):
    return jax.random.key_data(jax.random.split(jax.random.key(seed), num))


def split_unpack(seed, num):
    # The seed's idiom for two subkeys, generalised: unpack the split, restack the bits.
    subkeys = list(jax.random.split(jax.random.key(seed), num))
    return jnp.stack([jax.random.key_data(k) for k in subkeys])


# ---------------------------------------------------------------------------
# prng-draws: the values jax.random draws (checked against a Threefry oracle)
# ---------------------------------------------------------------------------


def uniform_draws(key):
    return jax.random.uniform(key, (3,))


def uniform_from_bits(key):
    # The documented conversion: 23 random mantissa bits under exponent 0 give a float in [1, 2).
    bits = jax.random.bits(key, (3,), jnp.uint32)
    return jax.lax.bitcast_convert_type((bits >> 9) | jnp.uint32(0x3F800000), jnp.float32) - 1.0


def normal_draws(key):
    return jax.random.normal(key, (3,))


def bits_draws(key):
    return jax.random.bits(key, (3,), jnp.uint32)


# ---------------------------------------------------------------------------
# prng-same-key-same-draws: reproducibility (seed 002, seed 003)
# ---------------------------------------------------------------------------


def same_draws_normal_twice(key):
    # Both draws are returned: the harness compares each with independently computed values.
    return jax.random.normal(key, (3,)), jax.random.normal(key, (3,))


# ---------------------------------------------------------------------------
# prng-split-any-order: seed 003's foo(key) = bar(subkey1) + 2 * baz(subkey2)
# ---------------------------------------------------------------------------


def split_any_order(key):
    # Evaluating baz before bar must not change the result, because each draw owns its key.
    def bar(k):
        return jax.random.uniform(k)

    def baz(k):
        return jax.random.uniform(k)

    k1, k2 = jax.random.split(key)
    a = bar(k1)
    b = baz(k2)
    foo1 = a + 2 * b
    b2 = baz(k2)
    a2 = bar(k1)
    foo2 = a2 + 2 * b2
    return foo1, foo2


# ---------------------------------------------------------------------------
# prng-numpy-global-state: NumPy's global RNG depends on call order (seed 003)
# ---------------------------------------------------------------------------


def numpy_global_state(seed):
    saved = np.random.get_state()
    try:
        def bar():
            return np.random.uniform()

        def baz():
            return np.random.uniform()

        np.random.seed(seed)
        foo1 = bar() + 2 * baz()
        np.random.seed(seed)
        b = baz()
        a = bar()
        foo2 = a + 2 * b
    finally:
        np.random.set_state(saved)
    return foo1, foo2


# ---------------------------------------------------------------------------
# prng-parallel-vs-sequential: n draws at once differ from n single draws (seed 003)
# ---------------------------------------------------------------------------


def parallel_vs_split_then_single(key, n):
    subkeys = jax.random.split(key, n)
    sequential = jnp.stack([jax.random.normal(k) for k in subkeys])
    parallel = jax.random.normal(key, (n,))
    return sequential, parallel


def parallel_vs_fold_in_then_single(key, n):
    sequential = jnp.stack([jax.random.normal(jax.random.fold_in(key, i)) for i in range(n)])
    parallel = jax.random.normal(key, (n,))
    return sequential, parallel



# --- prng-split-threading: key, subkey = split(key) before every draw (seed 002) ---------------


def split_threading_loop(key, n):
    draws = []
    for _ in range(n):
        key, subkey = jax.random.split(key)
        draws.append(jax.random.uniform(subkey))
    if not draws:  # n = 0: no draw (jnp.stack needs at least one; found by jaxpat check --explore)
        return jnp.zeros((0,), jnp.float32)
    return jnp.stack(draws)


def split_threading_scan(key, n):
    def step(k, _):
        k, sub = jax.random.split(k)
        return k, jax.random.uniform(sub)
    return jax.lax.scan(step, key, None, length=n)[1]

IMPLEMENTATIONS: list[Implementation] = [
    Implementation(pattern="prng-key-from-seed", name="prngkey", fn=key_from_seed_prngkey,
                   notes="legacy jax.random.PRNGKey(seed): a raw uint32[2] array"),
    Implementation(pattern="prng-key-from-seed", name="key_data", fn=key_from_seed_key_data,
                   notes="jax.random.key_data(jax.random.key(seed)): the bits of a typed key"),
    Implementation(pattern="prng-typed-key", name="key", fn=typed_key_key,
                   notes="jax.random.key(seed): a typed key array (dtype key<fry>)"),
    Implementation(pattern="prng-typed-key", name="wrap_key_data", fn=typed_key_wrap_key_data,
                   notes="jax.random.wrap_key_data(PRNGKey(seed)): upgrades a legacy raw key"),
    Implementation(pattern="prng-split", name="legacy", fn=split_legacy,
                   notes="jax.random.split(jax.random.PRNGKey(seed), num)"),
    Implementation(pattern="prng-split", name="typed", fn=split_typed,
                   notes="jax.random.key_data(jax.random.split(jax.random.key(seed), num))"),
    Implementation(pattern="prng-split", name="unpack", fn=split_unpack,
                   notes="unpack the typed subkeys (as in `subkey1, subkey2 = split(key)`), restack their bits"),
    Implementation(pattern="prng-uniform-draws", name="uniform", fn=uniform_draws,
                   notes="jax.random.uniform(key, (3,))"),
    Implementation(pattern="prng-uniform-draws", name="from_bits", fn=uniform_from_bits,
                   notes="jax.random.bits, then the mantissa trick: (bits >> 9 | 0x3F800000) as float32, minus 1"),
    Implementation(pattern="prng-normal-draws", name="normal", fn=normal_draws,
                   notes="jax.random.normal(key, (3,))"),
    Implementation(pattern="prng-random-bits", name="bits", fn=bits_draws,
                   notes="jax.random.bits(key, (3,), uint32)"),
    Implementation(pattern="prng-same-key-same-draws", name="normal_twice", fn=same_draws_normal_twice,
                   notes="two jax.random.normal draws from the same key, both returned"),
    Implementation(pattern="prng-split-any-order", name="both_orders", fn=split_any_order,
                   notes="split once, evaluate foo with bar first, then with baz first; both returned"),
    Implementation(pattern="prng-numpy-global-state", name="numpy", fn=numpy_global_state,
                   notes="NumPy global RNG; restores the global state afterwards; eager only"),
    Implementation(pattern="prng-parallel-vs-sequential", name="split", fn=parallel_vs_split_then_single,
                   notes="n scalar draws from split(key, n) vs one draw of shape (n,)"),
    Implementation(pattern="prng-parallel-vs-fold-in", name="fold_in", fn=parallel_vs_fold_in_then_single,
                   notes="n scalar draws from fold_in(key, i) vs one draw of shape (n,)"),
    Implementation(pattern="prng-split-threading", name="python_loop", fn=split_threading_loop,
                   notes="key, subkey = jax.random.split(key) in a Python loop"),
    Implementation(pattern="prng-split-threading", name="scan", fn=split_threading_scan,
                   notes="the key as a lax.scan carry, split each step"),
]
