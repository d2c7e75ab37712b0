"""Plugin `beta` for tests/test_reuse.py: a correct r-add (tests rewrite it into a wrong one)."""

from jaxpat.patterns import Implementation, hookimpl

STEP = 1


def add(x):
    return x + STEP


@hookimpl
def jaxpat_implementations():
    return [Implementation("r-add", "add", add)]
