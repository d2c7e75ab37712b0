"""xdist scheduling for jaxpat: one pattern's items on one worker, and a crash costs one item.

``--dist loadscope`` keeps a pattern's items (which share compiled programs)
on one worker. Its stock ``remove_node`` re-queues a crashed worker's whole
work unit *including the item that crashed it*, so an implementation that
kills its process (``os._exit``, a segfault, a hard timeout) would crash
every replacement worker in turn until xdist gives up. Here the crashing
item is marked done before the rest of its unit is re-queued.
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadScopeScheduling

__all__ = ["CrashSafeScopeScheduling"]


class CrashSafeScopeScheduling(LoadScopeScheduling):
    """LoadScopeScheduling whose crash handling does not re-run the crashing item."""

    def remove_node(self, node: Any) -> str | None:
        workload = self.assigned_work.pop(node)
        if not self._pending_of(workload):
            return None
        crashitem = next(nodeid for unit in workload.values() for nodeid, done in unit.items() if not done)
        for unit in workload.values():
            if crashitem in unit:
                unit[crashitem] = True  # reported as crashed by xdist; never sent again
        self.workqueue.update({scope: unit for scope, unit in workload.items() if not all(unit.values())})
        for other in self.assigned_work:
            self._reschedule(other)
        return crashitem
