"""What a plugin registers: an implementation of one catalog pattern."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = ["Implementation", "Unavailable"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Unavailable(Exception):
    """Raised by an implementation whose API is absent from the running JAX (e.g. ``jax.pmap``).

    The conformance suite reports the item as *skipped* with this message, never as passed.
    """


@dataclass(frozen=True)
class Implementation:
    """A callable that implements the catalog pattern ``pattern``.

    ``name`` is unique within its plugin (an identifier such as ``lax_scan``);
    the full id of an implementation is ``PLUGIN.NAME``. ``fn`` takes the
    pattern's signature arguments, in order, by the same names. ``notes`` is
    free text ("unrolls at trace time", "forward-mode only"). ``plugin`` and
    ``distribution`` are filled in by the registry.
    """

    pattern: str
    name: str
    fn: Callable[..., Any] = field(repr=False, compare=False)
    notes: str = ""
    plugin: str = ""
    distribution: str = ""
    version: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.pattern, str) or not self.pattern:
            raise TypeError(f"`pattern` must be a non-empty pattern id, got {self.pattern!r}")
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ValueError(f"`name` must be a Python identifier such as 'lax_scan', got {self.name!r}")
        if not callable(self.fn):
            raise TypeError(f"`fn` of implementation {self.name!r} must be callable, got {type(self.fn).__name__}")

    @property
    def id(self) -> str:
        """``PLUGIN.NAME``, the stable id used in test ids and reports."""
        return f"{self.plugin}.{self.name}" if self.plugin else self.name

    def bound(self, plugin: str, distribution: str = "", version: str = "") -> Implementation:
        """Return a copy attributed to ``plugin`` (used by the registry)."""
        return replace(self, plugin=plugin, distribution=distribution, version=version)
