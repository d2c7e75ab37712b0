"""Every use of pytest-xdist's (and execnet's) private names, in one place, each with a contract test.

pytest-xdist has no public API for what jaxpat's scheduling needs; these
names are read or changed by jaxpat, and ``tests/test_xdist_contract.py``
checks that the installed pytest-xdist still has each of them (a new
release that renames one fails that test, not a user's run). The scheduler
subclass (:mod:`._scheduler`) reads the scheduling ones through
:data:`SCHEDULER_PRIVATE` only as documented here.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DSESSION_PRIVATE", "GATEWAY_PRIVATE", "SCHEDULER_PRIVATE", "forgive_item_crash", "remote_executable"]

#: ``xdist.scheduler.LoadScopeScheduling`` attributes and methods ``_scheduler.CrashSafeScopeScheduling`` uses.
SCHEDULER_PRIVATE = ("assigned_work", "registered_collections", "workqueue", "collection", "_pending_of",
                     "_reschedule")
#: ``xdist.dsession.DSession``: the count of crashed workers that ``--max-worker-restart`` compares.
DSESSION_PRIVATE = ("_failed_nodes_count",)
#: ``execnet.Gateway``: the remote interpreter's info, cached by xdist before ``pytest_configure_node``.
GATEWAY_PRIVATE = ("_rinfo",)


def forgive_item_crash(config: Any) -> None:
    """Do not count a crash inside an item against ``--max-worker-restart`` (items and quarantine bound them)."""
    dsession = config.pluginmanager.getplugin("dsession")
    if dsession is not None and config.option.maxworkerrestart is None and hasattr(dsession, "_failed_nodes_count"):
        dsession._failed_nodes_count -= 1


def remote_executable(gateway: Any) -> str:
    """The Python executable of the gateway's remote side."""
    return str(gateway._rinfo().executable)
