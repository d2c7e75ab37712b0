"""Catalog problems and the one error that carries them all."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["CatalogError", "Problem", "format_path"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a catalog file, located as precisely as we can.

    ``line`` and ``column`` are 1-based; 0 means the problem concerns the
    whole file (it cannot be read, say). ``pattern`` is the id of the pattern
    the problem is in, when known; ``field`` is a dotted path such as
    ``cases[2].expect.dtype``, relative to that pattern (or to the file when
    ``pattern`` is None).
    """

    file: str
    line: int
    column: int
    message: str
    pattern: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line <= 0 else f"{self.file}:{self.line}:{self.column}"
        context = []
        if self.pattern is not None:
            context.append(f"pattern {self.pattern!r}")
        if self.field:
            context.append(f"field {self.field!r}")
        prefix = f"{', '.join(context)}: " if context else ""
        return f"{where}: {prefix}{self.message}"


class CatalogError(Exception):
    """The catalog is invalid; ``problems`` lists every problem found, in file order."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("a CatalogError needs at least one problem")
        super().__init__(self._message())

    def __reduce__(self) -> tuple[type[CatalogError], tuple[tuple[Problem, ...]]]:
        # Exceptions pickle as cls(*args); ours are built from problems, not a message.
        return (type(self), (self.problems,))

    def listing(self) -> str:
        """Every problem on a line of its own, then their count: what ``jaxpat validate`` prints."""
        n = len(self.problems)
        return "\n".join([*map(str, self.problems), f"{n} problem{'s' if n != 1 else ''} found"])

    def _message(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        lines = [f"{len(self.problems)} problems in the catalog:"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


def format_path(path: Iterable[str | int]) -> str:
    """Render a path tuple as ``cases[2].expect.dtype`` (odd keys are quoted)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part and all(ch.isalnum() or ch in "_-$" for ch in part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out
