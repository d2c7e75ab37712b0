"""Runs that span hosts: host labels, remote workers on their own environment, mixed collections.

pytest-xdist spreads items over execnet gateways (``--tx popen``, ``ssh=``,
``socket=``). Three things it does not do for a conformance run, done here:

- **Host labels.** Every result is credited to the host that ran it. A worker's
  label is ``$JAXPAT_LABEL`` if set, else its host name; the controller's
  ``--jaxpat-label`` values name the ``--tx`` specs (one label: every worker;
  several: the i-th label names the workers of the i-th ``--tx``) by setting
  ``JAXPAT_LABEL`` in the spec's environment (execnet's ``env:`` key), so a
  worker that replaces a crashed one keeps its label.
- **A worker's own ``sys.path``.** For a ``popen`` gateway xdist replaces the
  worker's ``sys.path`` with the controller's, which is right for the same
  interpreter and wrong for ``popen//python=OTHER``: the other environment's
  interpreter would import the controller's JAX. The remote module xdist sends
  is wrapped so that a worker on a different interpreter keeps its own path.
- **Different collections.** Workers that see different devices collect
  different items; xdist then runs nothing. The scheduler refuses such a run
  with a message naming the hosts (``refusal_message``), and the session turns
  that into an incomplete report and a non-zero exit.

Nothing here imports JAX: it runs on the controller, and on workers before JAX starts.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from jaxpat import _env

__all__ = [
    "LABEL_ENV",
    "assign_labels",
    "host_label",
    "node_label",
    "refusal_message",
    "remote_module_source",
    "uses_other_interpreter",
]

#: The environment variable a worker reads its host label from.
LABEL_ENV = "JAXPAT_LABEL"


def host_label(config: pytest.Config) -> str:
    """This process's host label: ``$JAXPAT_LABEL``, else a single ``--jaxpat-label``, else the host name."""
    label = _env.label()
    if label:
        return label
    labels = config.getoption("jaxpat_label") or []
    if len(labels) == 1 and not hasattr(config, "workerinput"):
        return str(labels[0])
    return socket.gethostname()


def _expanded_origins(tx: Sequence[str]) -> list[int]:
    """For each spec xdist expands ``tx`` into (``N*spec`` is N specs), the index of its ``--tx`` entry."""
    origins: list[int] = []
    for i, spec in enumerate(tx):
        head, star, _ = spec.partition("*")
        count = int(head) if star and head.isdigit() else 1
        origins.extend([i] * count)
    return origins


def assign_labels(config: pytest.Config, specs: Sequence[Any]) -> None:
    """Name each gateway spec's workers after ``--jaxpat-label`` (sets ``JAXPAT_LABEL`` in the spec's env).

    One label names every worker; otherwise there must be one label per ``--tx``
    option, in order. A spec that already sets ``env:JAXPAT_LABEL`` keeps it.
    Raises ``pytest.UsageError`` when the labels cannot be matched to the specs.
    """
    labels = [str(x) for x in (config.getoption("jaxpat_label") or [])]
    if not labels:
        return
    if len(labels) == 1:
        chosen = labels * len(specs)
    else:
        tx = list(config.getoption("tx") or [])
        origins = _expanded_origins(tx)
        if len(labels) != len(tx) or len(origins) != len(specs):
            raise pytest.UsageError(
                f"--jaxpat-label was given {len(labels)} times for {len(tx)} --tx specs: give one label "
                "(every worker), or one per --tx, in the same order")
        chosen = [labels[o] for o in origins]
    for spec, label in zip(specs, chosen, strict=True):
        spec.env.setdefault(LABEL_ENV, label)


def node_label(node: Any) -> str | None:
    """The label the controller gave a worker's spec, if any (``None``: the worker names itself)."""
    spec = getattr(getattr(node, "gateway", None), "spec", None)
    env = getattr(spec, "env", None) or {}
    return env.get(LABEL_ENV)


def uses_other_interpreter(node: Any) -> bool:
    """Whether a ``popen`` worker runs a different interpreter (``popen//python=OTHER``) than the controller."""
    gateway = node.gateway
    if not gateway.spec.popen:
        return False
    from ._xdist import remote_executable

    executable = remote_executable(gateway)  # cached by xdist before pytest_configure_node
    return os.path.normcase(os.path.abspath(executable)) != os.path.normcase(os.path.abspath(sys.executable))


#: Put in front of xdist's remote module: the worker's first message carries the
#: controller's sys.path for popen workers; a worker flagged ``jaxpat_own_sys_path``
#: drops it and keeps its own interpreter's path (as xdist does for ssh/socket).
_REMOTE_PRELUDE = '''
class _JaxpatOwnPathChannel:
    """Delegates to execnet's channel; its first receive() drops the controller's sys.path when asked."""

    def __init__(self, channel):
        self._channel = channel
        self._first = True

    def receive(self, *args, **kwargs):
        message = self._channel.receive(*args, **kwargs)
        if self._first:
            self._first = False
            workerinput, args_, option_dict, change_sys_path = message
            if workerinput.get("jaxpat_own_sys_path"):
                message = (workerinput, args_, option_dict, None)
        return message

    def __getattr__(self, name):
        return getattr(self._channel, name)


if __name__ == "__channelexec__":
    channel = _JaxpatOwnPathChannel(channel)  # noqa: F821

'''

_MAIN_GUARD = 'if __name__ == "__channelexec__":'


def remote_module_source() -> str | None:
    """xdist's remote module with the own-``sys.path`` prelude, or ``None`` if its layout is not the expected one."""
    import inspect

    import xdist.remote

    source = inspect.getsource(xdist.remote)
    at = source.rfind("\n" + _MAIN_GUARD)
    if at < 0:
        return None
    return source[:at + 1] + _REMOTE_PRELUDE + source[at + 1:]


def refusal_message(collections: Mapping[Any, Sequence[str]]) -> str:
    """Why a run whose workers collected different items is refused, naming each worker's host and spec."""
    groups: dict[tuple[str, ...], list[Any]] = {}
    for node, ids in collections.items():
        groups.setdefault(tuple(ids), []).append(node)
    lines = [f"jaxpat: the workers collected {len(groups)} different sets of items, so no single run can "
             "spread them (xdist runs nothing):"]
    first = None
    for ids, nodes in groups.items():
        names = ", ".join(f"{node.gateway.id} ({node_label(node) or node.gateway.spec})" for node in nodes)
        extra = ""
        if first is not None:
            only = sorted(set(ids) - set(first))
            missing = sorted(set(first) - set(ids))
            if only:
                extra += f"; e.g. only here: {only[0]}"
            if missing:
                extra += f"; e.g. missing here: {missing[0]}"
        else:
            first = ids
        lines.append(f"  {len(ids)} items on {names}{extra}")
    lines.append("Hosts that see different devices (or run different plugins) cannot share one run: run "
                 "`jaxpat check` once per kind of host and combine the reports with `jaxpat report merge` "
                 "(docs/distributed.md).")
    return "\n".join(lines)
