"""jaxpat's reference implementations: one module per pattern family.

This module is the ``reference`` plugin. It imports nothing heavy: the family
modules (which import JAX) load only when implementations are requested.
"""

from __future__ import annotations

import importlib

from .._implementation import Implementation
from .._markers import hookimpl

#: Family modules, each exposing ``IMPLEMENTATIONS: list[Implementation]``.
MODULES = (
    "arange", "scan", "loops", "checkpoint", "control_flow",
    "vmap", "prng", "pytree", "arrays", "jit",
    "autodiff", "gotchas", "devices", "sharding", "speed", "distributed", "observations",
)


@hookimpl
def jaxpat_implementations() -> list[Implementation]:
    out: list[Implementation] = []
    for name in MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        out.extend(module.IMPLEMENTATIONS)
    return out
