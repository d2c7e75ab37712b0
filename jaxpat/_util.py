"""Small things every layer needs, written once.

This module is the bottom of the import graph: it imports nothing from
jaxpat, and only the standard library at module level (no JAX, no NumPy,
no ``json``/``tempfile`` until a function that needs them runs), so
``import jaxpat.catalog`` stays cheap.
"""

from __future__ import annotations

import contextlib
import enum
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = [
    "Exit",
    "NoMatchError",
    "atomic_write",
    "cache_root",
    "closest",
    "did_you_mean",
    "dist_version",
    "first_line",
    "table",
]


class Exit(enum.IntEnum):
    """The exit statuses of every ``jaxpat`` subcommand (docs/cli.md): one scheme for all of them."""

    #: Success: the command did what was asked and found nothing wrong.
    OK = 0
    #: Findings: failures in a conformance run, regressions in a diff, problems in a catalog, an unknown id.
    FINDINGS = 1
    #: Usage error: bad options, or a filter that matches nothing.
    USAGE = 2
    #: Unreadable input: a file that is missing, unreadable, or not what the command reads.
    UNREADABLE = 3
    #: Internal error: a bug in jaxpat (``--traceback`` shows it).
    INTERNAL = 4
    #: Drift only (``jaxpat report diff``): observations changed, no verdict got worse.
    DRIFT = 5
    #: Interrupted (Ctrl-C), as shells report SIGINT.
    INTERRUPTED = 130


class NoMatchError(KeyError):
    """A name or filter that matches nothing: an unknown id, family, tag, claim, case or transform.

    The message names what was asked and suggests the closest match
    (``did you mean ...?``). A ``KeyError`` (so a ``LookupError``) whose
    ``str()`` is the message itself; the ``jaxpat`` command reports it as a
    usage error (exit 2), except ``jaxpat show ID`` (an unknown id: exit 1).
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def closest(word: str, options: Iterable[object]) -> str | None:
    """The option most like ``word`` (difflib, cutoff 0.6; 0.5 for words of 4 characters or fewer), or None."""
    import difflib  # here, not at import: only a problem needs a suggestion

    cutoff = 0.5 if len(word) <= 4 else 0.6
    close = difflib.get_close_matches(word, sorted({str(o) for o in options}), n=1, cutoff=cutoff)
    return close[0] if close else None


def did_you_mean(word: str, options: Iterable[object], *, code: bool = False) -> str:
    """`` (did you mean 'x'?)`` for the closest option, or ``""``: appended to an "unknown ..." message.

    ``code`` quotes the suggestion as code (`` `x` ``), as catalog problems quote names.
    """
    best = closest(str(word), options)
    if best is None:
        return ""
    return f" (did you mean `{best}`?)" if code else f" (did you mean {best!r}?)"


def first_line(exc: BaseException, limit: int | None = None) -> str:
    """``"TypeName: first line of the message"`` (at most ``limit`` characters of the message)."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else ""
    if limit is not None and len(line) > limit:
        line = line[: limit - 1] + "…"
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__


def cache_root() -> Path:
    """jaxpat's per-user cache folder: ``$JAXPAT_CACHE_DIR``, else ``$XDG_CACHE_HOME/jaxpat``, else ``~/.cache/jaxpat``.

    Each cache is a sub-folder (``catalog`` for parsed catalog files, ``xla``
    for compiled programs). Only a missing ``$JAXPAT_CACHE_DIR`` is created;
    one that cannot be used raises :class:`jaxpat._env.EnvError` (see there).
    """
    from ._env import cache_root as root

    return root()


def atomic_write(target: Path | str, data: bytes | str, *, private: bool = False) -> None:
    """Write ``data`` to ``target`` so that readers see the old file or the new one, never a part.

    A temporary file in the same folder is written, flushed and renamed over
    ``target``. The file gets ordinary permissions (``0o666`` less the umask)
    unless ``private``. Raises ``OSError`` when the folder cannot be written;
    the temporary file is removed then.
    """
    import tempfile

    target = Path(target)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        if not private:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def dist_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or None when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def table(rows: Sequence[Sequence[object]], *, header: Sequence[str] | None = None, gap: int = 2) -> str:
    """Rows as left-aligned columns separated by ``gap`` spaces; trailing spaces removed.

    ``header``, when given, is the first row. Returns ``""`` for no rows.
    """
    cells = [[str(c) for c in row] for row in ([header] if header else []) + [list(r) for r in rows]]
    if not cells:
        return ""
    ncol = max(len(r) for r in cells)
    widths = [max((len(r[i]) for r in cells if i < len(r)), default=0) for i in range(ncol)]
    sep = " " * gap
    return "\n".join(sep.join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip() for r in cells)
