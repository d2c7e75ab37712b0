"""The one codec for jaxpat node ids: build them and take them apart (pure string work, no pytest).

Every item the conformance suite collects has one of these ids::

    jaxpat::PATTERN::CASE[PLUGIN.IMPL-PLATFORM:ID-TRANSFORM]     a case on one device (cpu:0)
    jaxpat::PATTERN::CASE[PLUGIN.IMPL-PLATFORM:0..N-TRANSFORM]   a case on a device set (cpu:0..7)
    jaxpat::PATTERN::CASE[PLUGIN.IMPL-devices-TRANSFORM]         devices agree (one item per transform)
    jaxpat::PATTERN::CASE[PLUGIN.IMPL-Nproc-TRANSFORM]           a case across N processes
    jaxpat::PATTERN::claim-NAME[PLUGIN.IMPL-PLATFORM:ID]         a measured claim
    jaxpat::plugin[NAME] / jaxpat::platform[PLATFORM]            setup items (a plugin that failed to load,
                                                                 a requested platform that is absent)

:func:`parse_nodeid` never raises: an id of no known shape (a crafted
report, another pytest plugin's test) is a :class:`NodeId` of kind
``other`` that keeps the text. For every id of a known shape,
``format_nodeid(parse_nodeid(s)) == s``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["NodeId", "format_nodeid", "nodeid_record", "parse_nodeid"]

#: The root of every jaxpat node id.
ROOT = "jaxpat"
#: Setup items directly under the root.
SETUP_KINDS = ("plugin", "platform")

_SETUP = re.compile(r"^jaxpat::(plugin|platform)\[(.*)\]$", re.S)
_ITEM = re.compile(r"^jaxpat::([^:\[\]]+)::([^:\[\]]+)\[(.*)\]$", re.S)
# the implementation id may contain "-" (a plugin's name); the device and the transform never do
_CASE_ARGS = re.compile(r"^(.+)-([^-\[\]]+)-([^-\[\]:]+)$", re.S)
_CLAIM_ARGS = re.compile(r"^(.+)-([^-\[\]:]+:[^-\[\]]+)$", re.S)
_PROC = re.compile(r"^([1-9][0-9]*)proc$")


@dataclass(frozen=True)
class NodeId:
    """A node id taken apart. ``kind``: ``case``, ``agreement``, ``multiprocess``, ``claim``, ``setup``, ``other``.

    ``device`` is what the id says in the device slot: ``cpu:0``, ``cpu:0..7``,
    ``devices`` (agreement items) or ``2proc`` (multi-process cases). For a
    setup item, ``setup`` is ``plugin`` or ``platform`` and ``name`` what it
    names; for ``other`` ids, ``name`` is the whole text.
    """

    kind: str
    pattern: str | None = None
    case: str | None = None
    claim: str | None = None
    implementation: str | None = None
    device: str | None = None
    transform: str | None = None
    setup: str | None = None
    name: str | None = None

    @property
    def plugin(self) -> str | None:
        """The plugin of the implementation (``reference`` of ``reference.lax_scan``)."""
        if not self.implementation or "." not in self.implementation:
            return None
        return self.implementation.rsplit(".", 1)[0]

    @property
    def platform(self) -> str | None:
        """The platform the device slot names (``cpu`` of ``cpu:0``); None for agreement and multi-process items."""
        if self.device and ":" in self.device:
            return self.device.split(":", 1)[0]
        return None

    @property
    def processes(self) -> int | None:
        """N of a multi-process case's ``Nproc``."""
        m = _PROC.match(self.device or "")
        return int(m.group(1)) if m else None

    def short(self) -> str:
        """The id without its ``jaxpat::`` root (what terminal views print)."""
        text = str(self)
        return text.removeprefix(ROOT + "::")

    def item_name(self) -> str:
        """The id below its pattern (``CASE[...]``, ``claim-NAME[...]``), or :meth:`short` for ids without one."""
        text = self.short()
        if self.pattern:
            return text.removeprefix(self.pattern + "::")
        return text

    def __str__(self) -> str:
        return format_nodeid(self)


def parse_nodeid(nodeid: str) -> NodeId:
    """Take ``nodeid`` apart (the shapes are in the module docstring); never raises."""
    if not isinstance(nodeid, str):
        return NodeId("other", name=str(nodeid))
    m = _SETUP.match(nodeid)
    if m and "]" not in m.group(2) and "[" not in m.group(2):
        return NodeId("setup", setup=m.group(1), name=m.group(2))
    m = _ITEM.match(nodeid)
    if m is None or "[" in m.group(3) or "]" in m.group(3):
        return NodeId("other", name=nodeid)
    pattern, name, args = m.groups()
    if name.startswith("claim-") and len(name) > len("claim-"):
        c = _CLAIM_ARGS.match(args)
        if c:
            return NodeId("claim", pattern, claim=name[len("claim-"):], implementation=c.group(1), device=c.group(2))
    c = _CASE_ARGS.match(args)
    if c is None:
        return NodeId("other", name=nodeid)
    impl, device, transform = c.groups()
    if device == "devices":
        kind = "agreement"
    elif _PROC.match(device):
        kind = "multiprocess"
    elif ":" in device:
        kind = "case"
    else:
        return NodeId("other", name=nodeid)
    return NodeId(kind, pattern, case=name, implementation=impl, device=device, transform=transform)


def format_nodeid(node: NodeId) -> str:
    """The node id of ``node`` (the inverse of :func:`parse_nodeid` on every known shape).

    Raises ``ValueError`` when a member the kind needs is missing.
    """
    def need(*values: str | None) -> None:
        if any(not v for v in values):
            raise ValueError(f"a {node.kind} node id needs more members than {node!r}")

    if node.kind == "other":
        return node.name or ""
    if node.kind == "setup":
        need(node.setup, node.name)
        return f"{ROOT}::{node.setup}[{node.name}]"
    if node.kind == "claim":
        need(node.pattern, node.claim, node.implementation, node.device)
        return f"{ROOT}::{node.pattern}::claim-{node.claim}[{node.implementation}-{node.device}]"
    need(node.pattern, node.case, node.implementation, node.device, node.transform)
    return f"{ROOT}::{node.pattern}::{node.case}[{node.implementation}-{node.device}-{node.transform}]"


def nodeid_record(nodeid: str) -> dict[str, Any]:
    """The report members a node id implies (for an item whose result arrived without its own record).

    Case, agreement and multi-process ids give ``kind``, ``pattern``,
    ``case``, ``implementation``, ``device``, ``transform`` and, where the id
    says it, ``platform``; claim ids give ``kind: claim``, ``claim`` and
    ``transform: claim:NAME`` (as a claim item records them); setup ids
    ``kind: setup``; any other id ``kind: case`` and nothing else.
    """
    node = parse_nodeid(nodeid)
    record: dict[str, Any] = {"nodeid": nodeid, "kind": "case"}
    if node.kind == "setup":
        record.update(kind="setup", pattern=None)
        return record
    if node.kind == "other":
        return record
    record["pattern"] = node.pattern
    record["implementation"] = node.implementation
    record["device"] = node.device
    if node.plugin:
        record["plugin"] = node.plugin
    if node.kind == "claim":
        record.update(kind="claim", claim=node.claim, transform=f"claim:{node.claim}")
    else:
        kind = "agreement" if node.kind == "agreement" else "explore" if node.case == "explore" else "case"
        record.update(kind=kind, case=node.case, transform=node.transform)
    if node.platform:
        record["platform"] = node.platform
    elif node.kind == "multiprocess":
        record["platform"] = "cpu"  # multi-process cases run on CPU devices (conformance/_multiprocess.py)
    return record
