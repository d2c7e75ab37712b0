"""Deliberately wrong implementations: each must be reported as a failure with a useful message."""

import itertools

import jax
import jax.numpy as jnp

from jaxpat.patterns import Implementation, hookimpl

_calls = itertools.count()


def wrong_value(xs):
    return jnp.cumsum(xs) + 1


def off_by_one(xs):
    # the carry is emitted before it is updated: an exclusive scan
    return jax.lax.scan(lambda c, x: (c + x, c), jnp.zeros((), xs.dtype), xs)[1]


def wrong_dtype(xs):
    return jnp.cumsum(xs).astype(jnp.float32)


def wrong_shape(xs):
    return jnp.cumsum(xs)[:-1]


def wrong_tree(xs):
    return (jnp.cumsum(xs),)


def wrong_device(xs):
    return jax.device_put(jnp.cumsum(xs), jax.devices()[-1])


def device_dependent(xs):
    # a different answer on each device: every per-device item fails, and the devices disagree
    (device,) = xs.devices()
    return jnp.cumsum(xs) + device.id


def nondeterministic(xs):
    return jnp.cumsum(xs) + next(_calls) % 2


def raises(xs):
    raise RuntimeError("boom from a broken plugin")


def no_raise(x):
    return x.at[0].set(100)


def mutates(xs):
    xs.append(0.0)
    return sum(xs[:-1])


def sets_x64(x):
    jax.config.update("jax_enable_x64", True)
    return x * x


@hookimpl
def jaxpat_implementations():
    return [
        Implementation("t-cumsum", "wrong_value", wrong_value),
        Implementation("t-cumsum", "off_by_one", off_by_one),
        Implementation("t-cumsum", "wrong_dtype", wrong_dtype),
        Implementation("t-cumsum", "wrong_shape", wrong_shape),
        Implementation("t-cumsum", "wrong_tree", wrong_tree),
        Implementation("t-cumsum", "wrong_device", wrong_device),
        Implementation("t-cumsum", "nondeterministic", nondeterministic),
        Implementation("t-cumsum", "device_dependent", device_dependent),
        Implementation("t-cumsum", "raises", raises),
        Implementation("t-raises", "no_raise", no_raise),
        Implementation("t-list-sum", "mutates", mutates),
        Implementation("t-square", "sets_x64", sets_x64),
    ]
