"""jaxpat's conformance suite: a pytest plugin that checks implementations against the catalog.

Importing this package imports neither JAX nor pytest. The public names
:func:`run_case` (check one case of one implementation, as a repro does), :func:`run_example` (one
generated input against the pattern's oracle, as an explore repro does) and
:class:`ConformanceFailure` (what it raises) load their modules on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ConformanceFailure", "run_case", "run_example"]


def __getattr__(name: str) -> Any:
    if name == "run_case":
        from ._api import run_case

        return run_case
    if name == "run_example":
        from ._api import run_example

        return run_example
    if name == "ConformanceFailure":
        from ._execute import ConformanceFailure

        return ConformanceFailure
    raise AttributeError(f"module 'jaxpat.conformance' has no attribute {name!r}")
