"""Oracles: independent NumPy / plain-Python computations of what a pattern returns (``jaxpat check --explore``).

A pattern's ``explore.oracle`` names a function here as ``MODULE.FUNCTION``
(``scan.cumsum`` is :func:`jaxpat.conformance.oracles.scan.cumsum`). The
judge calls it with the drawn arguments by name -- arrays as NumPy arrays,
PRNG keys as :class:`jaxpat.catalog.KeyValue` (seed, legacy, impl), every
other value as the Python value -- and compares what it returns with what
each implementation returned, under the catalog's tolerances. An oracle
returns NumPy arrays (their dtype is the expected dtype), Python scalars
(weak expectations: value only), tuples, lists and dicts of them, or
:class:`KeyArray` for typed PRNG key arrays.

Oracles never import JAX (``tests/test_cleanroom.py``), and only the modules
of this package can be named: a catalog file, a plugin's included, cannot
make the judge call anything else (:func:`resolve`). Each oracle computes
from the mathematics of the pattern (in float64 where it matters, then cast
to the dtype JAX returns), never from the code under test.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["MODULES", "KeyArray", "OracleError", "resolve"]

#: The oracle modules of this package (a catalog names ``MODULE.FUNCTION`` with MODULE one of these).
MODULES = ("arange", "arrays", "autodiff", "control", "devices", "gotchas", "jit", "loops", "prng", "pytree", "scan",
           "updates", "vmap")
_NAME = re.compile(r"([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)")


class OracleError(LookupError):
    """The catalog names an oracle that does not exist."""


@dataclass(frozen=True)
class KeyArray:
    """An expected typed PRNG key array: its key data (``uint32[..., 2]`` for threefry2x32) and implementation."""

    data: Any
    impl: str | None = None


def resolve(name: str) -> Callable[..., Any]:
    """The oracle function ``name`` (``MODULE.FUNCTION``) of this package; :class:`OracleError` says why not."""
    m = _NAME.fullmatch(str(name))
    if m is None:
        raise OracleError(f"{name!r} is not an oracle name MODULE.FUNCTION")
    module, func = m.groups()
    if module not in MODULES:
        raise OracleError(f"no oracle module {module!r}; the modules are: {', '.join(MODULES)}")
    mod = importlib.import_module(f"{__name__}.{module}")
    fn = getattr(mod, func, None) if not func.startswith("_") else None
    if not callable(fn) or func not in getattr(mod, "__all__", ()):
        raise OracleError(f"no oracle {func!r} in {__name__}.{module} (its oracles: "
                          f"{', '.join(getattr(mod, '__all__', ())) or 'none'})")
    return fn
