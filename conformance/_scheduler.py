"""xdist scheduling for jaxpat: one pattern's items on one worker, a crash costs one item, repeat offenders stop.

``--dist loadscope`` keeps a pattern's items (which share compiled programs)
on one worker. Its stock ``remove_node`` re-queues a crashed worker's whole
work unit *including the item that crashed it*, so an implementation that
kills its process (``os._exit``, a segfault, a hang ended by the watchdog)
would crash every replacement worker in turn until xdist gives up. Here the
crashing item is marked done before the rest of its unit is re-queued, and
each crash is counted against the item's implementation
(:class:`._isolation.Isolation`): once an implementation is quarantined, its
items still waiting in the queue are dropped -- the report lists them as not
run, with the reason -- so a bad implementation cannot eat the run.
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadScopeScheduling

from ._isolation import Isolation

__all__ = ["CrashSafeScopeScheduling"]


class CrashSafeScopeScheduling(LoadScopeScheduling):
    """LoadScopeScheduling whose crash handling does not re-run the crashing item and quarantines repeat crashers.

    It also explains a run whose workers collected different items (hosts that
    see different devices): the session is told why (``JaxpatSession.refuse``),
    so the report is not ``complete`` and the exit status is not 0.
    """

    def __init__(self, config: Any, log: Any = None, isolation: Isolation | None = None) -> None:
        super().__init__(config, log)
        self.isolation = isolation if isolation is not None else Isolation()

    def schedule(self) -> None:
        if self.collection is None:
            collections = dict(self.registered_collections)
            if len({tuple(ids) for ids in collections.values()}) > 1:
                from ._hosts import refusal_message

                session = self.config.pluginmanager.get_plugin("jaxpat-session")
                if session is not None:
                    session.refuse(refusal_message(collections))
        super().schedule()

    def remove_node(self, node: Any) -> str | None:
        workload = self.assigned_work.pop(node)
        if not self._pending_of(workload):
            return None
        crashitem = next(nodeid for unit in workload.values() for nodeid, done in unit.items() if not done)
        for unit in workload.values():
            if crashitem in unit:
                unit[crashitem] = True  # reported as crashed by xdist; never sent again
        self.workqueue.update({scope: unit for scope, unit in workload.items() if not all(unit.values())})
        if self.isolation.record_crash(crashitem) is not None:
            self._drop_quarantined()
        for other in self.assigned_work:
            self._reschedule(other)
        return crashitem

    def _reschedule(self, node: Any) -> None:
        # A replacement worker is a node before its collection has arrived; stock xdist would look its
        # collection up (KeyError) when another worker crashes in that window. It gets work from
        # schedule() once its collection arrives.
        if node not in self.registered_collections:
            return
        super()._reschedule(node)

    def _drop_quarantined(self) -> None:
        """Mark the queued items of quarantined implementations done (never sent); drop units left empty."""
        for scope in list(self.workqueue):
            unit = self.workqueue[scope]
            for nodeid, done in unit.items():
                if not done and self.isolation.leave_out(nodeid):
                    unit[nodeid] = True
            if all(unit.values()):
                del self.workqueue[scope]
