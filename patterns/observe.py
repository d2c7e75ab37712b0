"""Markers an implementation puts on values so that the conformance suite can observe them at run time.

``operand(name, value)`` returns ``value`` unchanged and, each time the compiled
program computes it, counts one evaluation of ``name`` (a ``jax.debug.callback``
that runs when the value is computed, not when it is traced). An ``observe:
{what: operands, operands: [...]}`` claim (docs/claims.md, *Observations*)
reads the counts: an operand that a short-circuiting construct skipped
(``lax.cond``, a Python ``and`` on concrete values) is not counted.

JAX is imported only when a marker is placed.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

__all__ = ["counts", "operand", "reset"]

_LOCK = threading.Lock()
_COUNTS: Counter[str] = Counter()


def _hit(name: str, *_: Any) -> None:
    with _LOCK:
        _COUNTS[name] += 1


def operand(name: str, value: Any) -> Any:
    """``value``, marked: every run that computes it counts one evaluation of ``name``."""
    import functools

    import jax

    jax.debug.callback(functools.partial(_hit, name), value)
    return value


def counts() -> dict[str, int]:
    """Evaluations counted per operand name since the last :func:`reset`."""
    with _LOCK:
        return dict(_COUNTS)


def reset() -> None:
    """Forget every count."""
    with _LOCK:
        _COUNTS.clear()
