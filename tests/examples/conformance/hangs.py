"""Implementations that hang inside XLA or kill their process."""

import ctypes
import os

import jax.numpy as jnp
from jax import lax

from jaxpat.patterns import Implementation, hookimpl


def forever(xs):
    # never terminates: the condition does not depend on the carry's change
    return lax.while_loop(lambda c: c[0] >= 0, lambda c: (c[0] + 0 * c[1].sum(), c[1]), (0, xs))[1]


def exits(xs):
    os._exit(13)


def segfault(xs):
    return ctypes.string_at(0)  # reads address 0: SIGSEGV


def fine(xs):
    return jnp.cumsum(xs)


@hookimpl
def jaxpat_implementations():
    return [
        Implementation("t-cumsum", "forever", forever),
        Implementation("t-cumsum", "exits", exits),
        Implementation("t-cumsum", "segfault", segfault),
        Implementation("t-cumsum", "fine", fine),
    ]
