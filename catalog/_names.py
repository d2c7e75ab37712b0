"""Names a catalog may use that stand for things in Python or JAX, checked without importing JAX.

Validating a catalog must not import JAX, yet a name that only fails when
an item runs (``$error: NoSuchError``, ``$key: 0, impl: threefry``) is a
catalog problem. The JAX names are therefore listed here; a test compares
the lists with the installed JAX, so they cannot drift silently.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable

from jaxpat._util import did_you_mean

__all__ = ["BUILTIN_EXCEPTIONS", "JAX_ERRORS", "PRNG_IMPLS", "exception_name_problem", "prng_impl_problem"]

#: PRNG implementations ``jax.random.key(seed, impl=...)`` and ``jax_default_prng_impl`` accept.
PRNG_IMPLS = ("threefry2x32", "rbg", "unsafe_rbg")

#: The exception classes of ``jax.errors`` (JAX 0.10; tests check them against the installed JAX).
JAX_ERRORS = (
    "ConcretizationTypeError", "InconclusiveDimensionOperation", "JAXIndexError", "JAXTypeError",
    "JaxRuntimeError", "JaxprTypeError", "KeyReuseError", "NonConcreteBooleanIndexError",
    "TracerArrayConversionError", "TracerBoolConversionError", "TracerIntegerConversionError",
    "UnexpectedTracerError",
)

#: Builtin names that are exception classes (``print`` is a builtin, not an exception).
BUILTIN_EXCEPTIONS = tuple(sorted(
    n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)
))


def suggest(word: str, options: Iterable[str]) -> str:
    """`` (did you mean `x`?)`` for the closest option, or an empty string."""
    return did_you_mean(word, options, code=True)


def exception_name_problem(name: str) -> str | None:
    """Why ``name`` does not name an exception class the conformance suite can resolve (None when it does).

    Accepted: a builtin exception (``TypeError``), a ``jax.errors`` name
    (``ConcretizationTypeError``) or the same qualified (``jax.errors.ConcretizationTypeError``).
    """
    if name in BUILTIN_EXCEPTIONS or name in JAX_ERRORS:
        return None
    module, _, attr = name.rpartition(".")
    if module == "jax.errors" and attr in JAX_ERRORS:
        return None
    if module:
        hint = suggest(attr, JAX_ERRORS)
        return (f"{name!r} is not an exception class jaxpat can resolve; dotted names are "
                f"`jax.errors.NAME` with NAME one of jax.errors' exceptions{hint}")
    if hasattr(builtins, name):
        return f"{name!r} is a builtin but not an exception class{suggest(name, BUILTIN_EXCEPTIONS + JAX_ERRORS)}"
    return (f"{name!r} is neither a builtin exception nor a jax.errors name"
            f"{suggest(name, BUILTIN_EXCEPTIONS + JAX_ERRORS)}")


def prng_impl_problem(impl: str) -> str | None:
    """Why ``impl`` is not a PRNG implementation name (None when it is one)."""
    if impl in PRNG_IMPLS:
        return None
    return f"unknown PRNG implementation {impl!r}{suggest(impl, PRNG_IMPLS)}; known: {', '.join(PRNG_IMPLS)}"
