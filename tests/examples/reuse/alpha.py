"""Plugin `alpha` for tests/test_reuse.py: correct implementations (r-add's depends on JAX's version string:
under the fake version 0.12.99 set by sitecustomize.py it adds 2, a wrong result)."""

import jax

from jaxpat.patterns import Implementation, hookimpl


def add(x):
    return x + (2 if jax.__version__ == "0.12.99" else 1)


def scale(x):
    return 2 * x


def slow(x):
    out = x
    for _ in range(3):
        out = out + 0 * x
    return 2 * out


@hookimpl
def jaxpat_implementations():
    return [Implementation("r-add", "add", add), Implementation("r-scale", "scale", scale),
            Implementation("r-scale", "slow", slow)]
