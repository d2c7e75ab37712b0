"""A plugin whose hook raises."""

from patterns import hookimpl


@hookimpl
def jaxpat_implementations():
    raise RuntimeError("hook exploded")
