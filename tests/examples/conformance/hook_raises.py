"""A plugin whose hook raises."""

from jaxpat.patterns import hookimpl


@hookimpl
def jaxpat_implementations():
    raise RuntimeError("hook exploded")
