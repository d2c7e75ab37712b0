"""A correct third-party plugin for the test catalog."""

import jax.numpy as jnp
from jax import lax

from jaxpat.patterns import Implementation, hookimpl


def cumsum(xs):
    return lax.scan(lambda c, x: (c + x, c + x), jnp.zeros((), xs.dtype), xs)[1]


def square(x):
    return x * x


def setitem(x):
    x[0] = 100
    return x


def list_sum(xs):
    return sum(xs)


def double(x):
    return 2 * x


@hookimpl
def jaxpat_implementations():
    return [
        Implementation("t-cumsum", "cumsum", cumsum),
        Implementation("t-square", "square", square),
        Implementation("t-raises", "setitem", setitem),
        Implementation("t-list-sum", "list_sum", list_sum),
        Implementation("t-deviation", "double", double),
    ]
