"""conformance/_isolation.py and the scheduler's quarantine, without starting workers (the runs are in
tests/test_hostile_plugins.py and tests/test_conformance.py)."""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path
from types import SimpleNamespace

from jaxpat.conformance import _isolation, _session
from jaxpat.conformance._scheduler import CrashSafeScopeScheduling


def test_implementation_of_reads_every_item_kind() -> None:
    f = _isolation.implementation_of
    assert f("jaxpat::scan-cumsum::basic[reference.lax_scan-cpu:0-jit]") == "reference.lax_scan"
    assert f("jaxpat::p::c[my-plugin.fast-devices-vmap]") == "my-plugin.fast"
    assert f("jaxpat::p::claim-jit[mine.x-gpu:1]") == "mine.x"
    assert f("jaxpat::plugin[broken]") is None
    assert f("tests/test_x.py::test_y") is None


def test_second_crash_quarantines_and_names_what_happened(tmp_path: Path) -> None:
    iso = _isolation.Isolation(crash_dir=str(tmp_path))
    first, second = "jaxpat::p::a[bad.f-cpu:0-jit]", "jaxpat::p::b[bad.f-cpu:0-jit]"
    (tmp_path / _isolation._record_name(second)).write_text(json.dumps(
        {"nodeid": second, "limit": 5.0, "elapsed": 5.1, "stack": "x"}))
    assert iso.record_crash(first) is None
    assert iso.record_crash(second) == "bad.f"
    reason = iso.quarantined["bad.f"]
    assert f"{first} crashed its worker" in reason
    assert f"{second} timed out after 5 s" in reason
    assert iso.leave_out("jaxpat::p::c[bad.f-cpu:0-eager]")
    assert not iso.leave_out("jaxpat::p::c[good.f-cpu:0-eager]")


def test_scheduler_drops_the_queued_items_of_a_quarantined_implementation(tmp_path: Path) -> None:
    sched = CrashSafeScopeScheduling.__new__(CrashSafeScopeScheduling)  # no xdist config needed for this part
    sched.isolation = _isolation.Isolation(crash_dir=str(tmp_path), threshold=1)
    bad, good = "jaxpat::p::c[bad.f-cpu:0-jit]", "jaxpat::p::c[good.f-cpu:0-jit]"
    only_bad = "jaxpat::q::c[bad.f-cpu:0-jit]"
    sched.workqueue = OrderedDict([("jaxpat::p", {bad: False, good: False}), ("jaxpat::q", {only_bad: False})])
    sched.isolation.record_crash("jaxpat::r::c[bad.f-cpu:0-eager]")
    sched._drop_quarantined()
    assert sched.workqueue == OrderedDict([("jaxpat::p", {bad: True, good: False})])
    assert set(sched.isolation.not_run) == {bad, only_bad}


def test_captured_output_is_bounded_and_says_how_to_see_it_all() -> None:
    text = "a" * 100_000 + "THE END"
    out = _session._bounded(text)
    assert len(out) < _session.OUTPUT_HEAD + _session.OUTPUT_TAIL + 300
    assert out.startswith("a" * 100)
    assert out.endswith("THE END")
    assert "--jaxpat-full-output" in out
    assert _session._bounded("short") == "short"


def test_a_timeout_record_becomes_a_timeout_failure(tmp_path: Path) -> None:
    """The controller turns the watchdog's record into 'timeout:' with the limit and the stack."""
    plugin = _session.JaxpatSession.__new__(_session.JaxpatSession)
    plugin.isolation = _isolation.Isolation(crash_dir=str(tmp_path))
    plugin.running = {}
    plugin.config = SimpleNamespace(pluginmanager=SimpleNamespace(getplugin=lambda name: None),
                                    option=SimpleNamespace(maxworkerrestart=None))
    nodeid = "jaxpat::p::c[bad.f-cpu:0-jit]"
    (tmp_path / _isolation._record_name(nodeid)).write_text(json.dumps(
        {"nodeid": nodeid, "limit": 7.0, "elapsed": 7.2, "stack": 'File "bad/__init__.py", line 3, in f\n'}))
    report = SimpleNamespace(longrepr="worker 'gw0' crashed", duration=0.0002, outcome="failed", when="???",
                             node=SimpleNamespace(gateway=SimpleNamespace(id="gw0")))
    plugin.pytest_handlecrashitem(nodeid, report, None)  # type: ignore[arg-type]
    assert report.longrepr.startswith("timeout: the item ran longer than 7 s (--jaxpat-timeout)")
    assert 'bad/__init__.py", line 3' in report.longrepr
    assert report.duration == 7.2
    assert report.when == "call"


_WATCH = """
import sys, time
from jaxpat.conformance._isolation import Watchdog
dog = Watchdog(sys.argv[1], float(sys.argv[2]))
items = int(sys.argv[3])
for i in range(items):  # short items, back to back: together far longer than the limit
    dog.start(f"jaxpat::p::c[short-{i}]")
    time.sleep(0.01)
    dog.cancel()
if sys.argv[4] == "hang":
    dog.start("jaxpat::p::c[hangs]")
    while True:
        time.sleep(0.05)
print("done")
"""


def _watch(tmp_path: Path, limit: float, items: int, then: str) -> tuple[int, list[dict]]:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", _WATCH, str(tmp_path), str(limit), str(items), then],
                          capture_output=True, text=True, timeout=120, check=False)
    return proc.returncode, [json.loads(p.read_text()) for p in tmp_path.glob("timeout-*.json")]


def test_the_watchdog_ends_a_hung_item_with_a_record(tmp_path: Path) -> None:
    code, records = _watch(tmp_path, 0.5, 3, "hang")
    assert code == _isolation.TIMEOUT_EXIT
    assert [r["nodeid"] for r in records] == ["jaxpat::p::c[hangs]"]
    assert records[0]["elapsed"] >= 0.5


def test_the_watchdog_lets_many_short_items_past_its_limit_in_all(tmp_path: Path) -> None:
    """Counter-test: 300 items of 10 ms each, 3 s in all, under a 2 s limit per item: nothing fires."""
    code, records = _watch(tmp_path, 2.0, 300, "end")
    assert (code, records) == (0, [])
