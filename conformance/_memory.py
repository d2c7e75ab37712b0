"""This process's resident memory (Linux ``/proc``, else ``getrusage``): no JAX import."""

from __future__ import annotations

import sys

__all__ = ["current_rss", "peak_rss"]


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def current_rss() -> int | None:
    """Resident memory now, in bytes (``VmRSS``); ``None`` where ``/proc`` does not say."""
    kib = _status_kib("VmRSS")
    return None if kib is None else kib * 1024


def peak_rss() -> int | None:
    """The most resident memory this process has held so far, in bytes; ``None`` where it cannot be read.

    ``VmHWM`` from ``/proc/self/status``, else ``getrusage``'s ``ru_maxrss`` (KiB on Linux, bytes on macOS).
    """
    kib = _status_kib("VmHWM")
    if kib is not None:
        return kib * 1024
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return peak if sys.platform == "darwin" else peak * 1024
