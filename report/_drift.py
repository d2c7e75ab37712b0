"""``jaxpat report diff``: what changed between two conformance runs, and by how much (docs/report.md).

:func:`drift` compares two :class:`~._report.Report` objects item by item and
returns a :class:`Drift`: environment and config differences, then for each
item that changed -- grouped by pattern -- its category and the changes
themselves:

- ``regression``: the outcome got worse (passed, skipped or xfailed →
  failed, error or xpassed); ``fix``: the reverse; ``changed``: another
  outcome change (e.g. passed → skipped); ``added`` / ``removed``: an item in
  one report only;
- ``drift``: the outcome is the same but what the item *observed* is not:
  output values (with the largest absolute, relative and ulp difference),
  output structure, dtypes or shapes, the exception's type or message, a
  claim's figures or verdict, the number of XLA compilations.

Items are matched by ``(host label, node id)`` when both reports are merged
(their results carry host labels), else by node id. Nothing here imports
JAX or NumPy: ulps are counted from the IEEE bit patterns with ``struct``.

The data API (for ``jaxpat report html --diff`` and other tools):
``drift(old, new).to_dict()`` is JSON with the shape documented in
docs/report.md; :meth:`Drift.exit_status` is the CLI's exit status;
:func:`format_text` renders it for a terminal.
"""

from __future__ import annotations

import difflib
import math
import re
import struct
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jaxpat._util import Exit

from ._model import BAD, ClaimRecord, Environment, Leaf, Observation, Report, ReportError, Result
from ._nodeid import parse_nodeid
from ._text import MAX_TERMINAL_MESSAGE, clip, printable

__all__ = ["CATEGORIES", "Change", "Drift", "ItemDrift", "drift", "format_text", "normalized", "ulps"]

#: Item categories, most serious first.
CATEGORIES = ("regression", "fix", "changed", "added", "removed", "drift")
#: Claim figures that are timings or follow from timings (a speed claim's noise band, how many rounds fitted
#: its time budget): they differ on every run, so they are not drift. A verdict that changes is still drift.
TIMING_FIGURES = frozenset({"seconds", "baseline_seconds", "speedup", "band", "elapsed_s", "rounds",
                            "planned_rounds", "calls_per_round", "exhausted"})
#: Endings of a figure's name that say it is a duration (``dispatch_s``, ``ready_ms``): timings too.
TIMING_SUFFIXES = ("_s", "_ms", "_us", "_ns", "seconds")


def is_timing(name: str) -> bool:
    """Whether a claim figure named ``name`` is a timing (or follows from timings): never drift."""
    return name in TIMING_FIGURES or name.endswith(TIMING_SUFFIXES)
#: Environment members compared (besides devices, plugins and the JAX config).
ENV_FIELDS = ("jax", "jaxlib", "python", "os", "jaxpat", "catalog_digest")
#: Values shown per changed leaf.
SHOWN = 3


@dataclass(frozen=True)
class Change:
    """One observed difference. ``what``: outcome, value, structure, error, message, claim, compiles, config, env.

    ``path`` locates it (``result[0]``, a claim figure, a config flag); ``old``
    and ``new`` are JSON values; ``figures`` holds measures of a value change
    (``max_abs``, ``max_rel``, ``max_ulp``, ``elements``, ``differing``);
    ``text`` is the one-line rendering.
    """

    what: str
    text: str
    path: str | None = None
    old: Any = None
    new: Any = None
    figures: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"what": self.what, "text": self.text}
        if self.path is not None:
            out["path"] = self.path
        out["old"], out["new"] = self.old, self.new
        if self.figures:
            out["figures"] = dict(self.figures)
        return out


@dataclass(frozen=True)
class ItemDrift:
    """An item that differs between the runs: its category, outcomes and changes."""

    nodeid: str
    pattern: str
    category: str
    old_outcome: str | None
    new_outcome: str | None
    host: str | None = None
    changes: tuple[Change, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"nodeid": self.nodeid, "pattern": self.pattern, "category": self.category,
                               "old": self.old_outcome, "new": self.new_outcome}
        if self.host:
            out["host"] = self.host
        out["changes"] = [c.to_dict() for c in self.changes]
        return out


@dataclass(frozen=True)
class Drift:
    """The difference between two reports (see the module docstring)."""

    old: tuple[Environment, ...]
    new: tuple[Environment, ...]
    environment: tuple[Change, ...]
    items: tuple[ItemDrift, ...]
    unchanged: int = 0

    def by_pattern(self) -> dict[str, list[ItemDrift]]:
        """Changed items grouped by pattern (patterns in id order; items most serious first, then by id)."""
        out: dict[str, list[ItemDrift]] = {}
        for item in sorted(self.items, key=lambda i: (i.pattern, CATEGORIES.index(i.category), i.host or "",
                                                      i.nodeid)):
            out.setdefault(item.pattern, []).append(item)
        return out

    def counts(self) -> dict[str, Any]:
        """Items per category (every category present), ``unchanged``, and changes per kind under ``changes``."""
        c = Counter(i.category for i in self.items)
        out: dict[str, Any] = {k: c.get(k, 0) for k in CATEGORIES}
        out["unchanged"] = self.unchanged
        out["changes"] = dict(sorted(Counter(ch.what for i in self.items for ch in i.changes).items()))
        return out

    @property
    def status(self) -> str:
        """``regression`` (some verdict got worse), ``drift`` (something else changed) or ``none``."""
        if any(i.category == "regression" for i in self.items):
            return "regression"
        return "drift" if self.items else "none"

    def exit_status(self) -> Exit:
        """``Exit.FINDINGS`` on a regression, ``Exit.DRIFT`` for drift only, else ``Exit.OK``.

        Environment differences alone are not drift: two runs on different
        JAX versions that observed exactly the same things exit 0.
        """
        return {"regression": Exit.FINDINGS, "drift": Exit.DRIFT, "none": Exit.OK}[self.status]

    def to_dict(self) -> dict[str, Any]:
        """JSON for tools; the shape is documented in docs/report.md."""
        return {
            "status": self.status,
            "exit": int(self.exit_status()),
            "old": [_env_brief(e) for e in self.old],
            "new": [_env_brief(e) for e in self.new],
            "counts": self.counts(),
            "environment": [c.to_dict() for c in self.environment],
            "patterns": {p: [i.to_dict() for i in items] for p, items in self.by_pattern().items()},
        }


# ---------------------------------------------------------------------------
# comparing
# ---------------------------------------------------------------------------

def drift(old: Report, new: Report) -> Drift:
    """Compare two reports; :class:`ReportError` if one holds the same item twice."""
    by_host = any(r.host for r in old.results) and any(r.host for r in new.results)

    def key(host: str | None, nodeid: str) -> tuple[str, str]:
        return ((host or "") if by_host else "", nodeid)

    before = {key(r.host, r.nodeid): r for r in old.results}
    after = {key(r.host, r.nodeid): r for r in new.results}
    if len(before) != len(old.results) or len(after) != len(new.results):
        raise ReportError("a report holds the same item twice (merged reports from hosts with the same label?)")
    claims_old = _claims_by_key(old.claims, key)
    claims_new = _claims_by_key(new.claims, key)
    items: list[ItemDrift] = []
    unchanged = 0
    for k in sorted(before.keys() | after.keys()):
        a, b = before.get(k), after.get(k)
        item = _item(a, b, claims_old.get(k), claims_new.get(k), k[0] or None)
        if item is None:
            unchanged += 1
        else:
            items.append(item)
    return Drift(old.environments, new.environments, tuple(_environment(old, new)), tuple(items), unchanged)


def _claims_by_key(claims: Iterable[ClaimRecord], key: Any) -> dict[tuple[str, str], ClaimRecord]:
    return {key(c.host, c.nodeid): c for c in claims if c.nodeid}


def _item(a: Result | None, b: Result | None, ca: ClaimRecord | None, cb: ClaimRecord | None,
          host: str | None) -> ItemDrift | None:
    some = b or a
    assert some is not None
    if a is None or b is None:
        category = "added" if a is None else "removed"
        return ItemDrift(some.nodeid, some.pattern_id, category, a.outcome if a else None, b.outcome if b else None,
                         host)
    changes: list[Change] = []
    if a.outcome != b.outcome:
        if b.outcome in BAD and a.outcome not in BAD:
            category = "regression"
        elif a.outcome in BAD and b.outcome not in BAD:
            category = "fix"
        else:
            category = "changed"
        changes.append(Change("outcome", f"{a.outcome} → {b.outcome}", old=a.outcome, new=b.outcome))
        if b.message and normalized(b.message) != normalized(a.message) and b.outcome != "passed":
            changes.append(_message_change("message", None, a.message, b.message))
    else:
        category = "drift"
        if a.outcome != "passed" and normalized(a.message) != normalized(b.message):
            changes.append(_message_change("message", None, a.message, b.message))
    changes += observation_changes(a.observed, b.observed)
    changes += claim_changes(ca, cb)
    if a.compiles is not None and b.compiles is not None and a.compiles != b.compiles:
        changes.append(Change("compiles", f"XLA compilations {a.compiles} → {b.compiles}",
                              old=a.compiles, new=b.compiles))
    if category == "drift" and not changes:
        return None
    return ItemDrift(b.nodeid, b.pattern_id, category, a.outcome, b.outcome, host, tuple(changes))


def observation_changes(a: Observation | None, b: Observation | None) -> list[Change]:
    """The differences between two observations (nothing when either is missing: an older report)."""
    if a is None or b is None:
        return []
    if a.raised or b.raised:
        if a.raised and b.raised:
            out = []
            if a.error_type != b.error_type:
                out.append(Change("error", f"raises {a.error_type} → {b.error_type}",
                                  old=a.error_type, new=b.error_type))
            if normalized(a.error_message) != normalized(b.error_message):
                out.append(_message_change("error", "message", a.error_message, b.error_message))
            return out
        return [Change("error", f"{_outcome_text(a)} → {_outcome_text(b)}", old=_outcome_json(a),
                       new=_outcome_json(b))]
    if a.tree != b.tree or len(a.leaves) != len(b.leaves):
        return [Change("structure", f"tree {a.tree or '*'} ({len(a.leaves)} leaves) → {b.tree or '*'} "
                                    f"({len(b.leaves)} leaves)", old=a.tree, new=b.tree)]
    out = []
    single = len(a.leaves) == 1
    for i, (x, y) in enumerate(zip(a.leaves, b.leaves, strict=True)):
        path = "result" if single else f"result[{i}]"
        out += leaf_changes(path, x, y)
    return out


def leaf_changes(path: str, x: Leaf, y: Leaf) -> list[Change]:
    """How one output leaf changed: structure (dtype/shape/type), or values with their max abs/rel/ulp."""
    if (x.dtype, x.shape, x.type) != (y.dtype, y.shape, y.type):
        return [Change("structure", f"{path}: {x.describe()} → {y.describe()}", path,
                       old=x.describe(), new=y.describe())]
    if x.dtype is None:
        if x.repr != y.repr:
            return [Change("value", f"{path}: {x.repr} → {y.repr}", path, old=x.repr, new=y.repr)]
        return []
    if x.digest == y.digest and x.values == y.values:
        return []
    if x.values is None or y.values is None:
        n = math.prod(x.shape or ())
        return [Change("value", f"{path}: {x.describe()} changed (digest {x.digest} → {y.digest}; "
                                f"{n} elements, values not recorded)", path, old=x.digest, new=y.digest)]
    return [_value_change(path, x, list(x.values), list(y.values))]


def _value_change(path: str, leaf: Leaf, old: list[Any], new: list[Any]) -> Change:
    dtype = leaf.dtype or ""
    shape = tuple(leaf.shape or ())
    diff = [i for i, (u, v) in enumerate(zip(old, new, strict=True)) if u != v]
    figures: dict[str, Any] = {"elements": len(old), "differing": len(diff)}
    abs_err = rel_err = 0.0
    max_ulp: int | None = 0
    numeric = True
    for i in diff:
        u, v = _num(old[i]), _num(new[i])
        if u is None or v is None:
            numeric = False
            continue
        if math.isfinite(u) and math.isfinite(v):
            abs_err = max(abs_err, abs(u - v))
            if u != 0:
                rel_err = max(rel_err, abs(u - v) / abs(u))
        n = ulps(old[i], new[i], dtype)
        max_ulp = None if n is None or max_ulp is None else max(max_ulp, n)
    if numeric and diff:
        figures.update({"max_abs": abs_err, "max_rel": rel_err})
        if max_ulp is not None:
            figures["max_ulp"] = max_ulp
    shown = []
    for i in diff[:SHOWN]:
        where = "" if not shape else str(list(_unravel(i, shape)))
        n = ulps(old[i], new[i], dtype)
        unit = f" ({n} ulp)" if n is not None else ""
        shown.append(f"{where}{' ' if where else ''}{_fmt(old[i])} → {_fmt(new[i])}{unit}")
    more = f" … {len(diff) - SHOWN} more" if len(diff) > SHOWN else ""
    measures = []
    if "max_abs" in figures and len(diff) > 1:
        measures.append(f"max abs {abs_err:.3g}, rel {rel_err:.3g}"
                        + (f", {max_ulp} ulp" if max_ulp is not None else ""))
    counted = f"{len(diff)} of {len(old)} elements" if len(old) > 1 else ""
    tail = "; ".join(x for x in (counted, *measures) if x)
    text = f"{path} {dtype}{list(shape)}: " + "; ".join(shown) + more + (f" ({tail})" if tail else "")
    return Change("value", text, path, old=old, new=new, figures=figures)


def claim_changes(a: ClaimRecord | None, b: ClaimRecord | None) -> list[Change]:
    """A claim's verdict and figures, old vs new (timings are left out: they differ on every run)."""
    if a is None or b is None:
        return []
    out = []
    if a.verdict != b.verdict:
        out.append(Change("claim", f"claim {b.claim}: verdict {a.verdict} → {b.verdict}", "verdict",
                          old=a.verdict, new=b.verdict))
    for path, u, v in _figure_diffs(a.measured, b.measured, ""):
        out.append(Change("claim", f"claim {b.claim}: {path} {_fmt(u)} → {_fmt(v)}", path, old=u, new=v))
    return out


def _figure_diffs(a: Any, b: Any, path: str) -> list[tuple[str, Any, Any]]:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            if is_timing(str(k)):
                continue
            out += _figure_diffs(a.get(k), b.get(k), f"{path}.{k}" if path else str(k))
        return out
    return [] if a == b else [(path, a, b)]


#: Run-specific parts of exception messages: object ids, memory addresses, the folders of source files.
_NOISE = (
    (re.compile(r"(object id )\d+"), r"\1…"),
    (re.compile(r"\b0x[0-9a-fA-F]{6,}\b"), "0x…"),
    (re.compile(r"(?:[A-Za-z]:)?[/\\][^\s:'\"()]*[/\\]([^/\\\s:'\"()]+\.py)\b"), r"…/\1"),
)


def normalized(message: str | None) -> str:
    """A message without what differs between two runs of the same program (object ids, addresses, folders).

    Two messages are the same observation when their normalized texts are
    equal; the report keeps the full text.
    """
    text = message or ""
    for pattern, repl in _NOISE:
        text = pattern.sub(repl, text)
    return text


def _message_change(what: str, path: str | None, old: str | None, new: str | None) -> Change:
    """A changed message: the text shows the lines that differ (``-`` old, ``+`` new), compared and shown
    :func:`normalized` (an object id or a folder that differs is not a changed line); ``old``/``new`` are full."""
    if not old or not new:
        return Change(what, _quote(path or what, new or old), path, old=old, new=new)
    a, b = normalized(old).splitlines(), normalized(new).splitlines()
    lines = [line for line in difflib.ndiff(a, b) if line[:2] in ("- ", "+ ")]
    if len(a) == len(b) == 1:
        lines = [f"- {a[0]}", f"+ {b[0]}"]
    head = f"{path or what} changed ({sum(1 for x in lines if x.startswith('+'))} of {len(b)} lines):"
    return Change(what, "\n".join([head, *(f"  {x}" for x in lines)]), path, old=old, new=new)


def _quote(label: str, text: str | None) -> str:
    lines = (text or "(none)").splitlines() or [""]
    return "\n".join(f"{label if i == 0 else '   '}: {line}" for i, line in enumerate(lines))


def _outcome_text(o: Observation) -> str:
    if o.raised:
        return f"raises {o.error_type}"
    leaves = ", ".join(x.describe() for x in o.leaves)
    return f"returns {leaves or o.tree or 'nothing'}"


def _outcome_json(o: Observation) -> Any:
    return {"error": o.error_type, "message": o.error_message} if o.raised else o.to_dict()


def _environment(old: Report, new: Report) -> list[Change]:
    pairs: list[tuple[str | None, Environment, Environment]] = []
    if old.hosts and new.hosts:
        a = {h.host: h for h in old.hosts}
        b = {h.host: h for h in new.hosts}
        out = [Change("env", f"host {h} only in the old report", "host", old=h) for h in sorted(a.keys() - b.keys(),
                                                                                              key=str)]
        out += [Change("env", f"host {h} only in the new report", "host", new=h) for h in sorted(b.keys() - a.keys(),
                                                                                             key=str)]
        pairs = [(h, a[h], b[h]) for h in sorted(a.keys() & b.keys(), key=str)]
    else:
        out = []
        pairs = [(None, old.environment, new.environment)]
    for host, x, y in pairs:
        prefix = f"{host}: " if host else ""
        if not host and x.host != y.host:
            out.append(Change("env", f"host {x.host} → {y.host}", "host", old=x.host, new=y.host))
        for name in ENV_FIELDS:
            u, v = getattr(x, name, None) or x.extra.get(name), getattr(y, name, None) or y.extra.get(name)
            if u != v:
                short = [x[:12] if name == "catalog_digest" and isinstance(x, str) else x for x in (u, v)]
                out.append(Change("env", f"{prefix}{name} {short[0]} → {short[1]}", name, old=u, new=v))
        du, dv = _devices(x), _devices(y)
        if du != dv:
            out.append(Change("env", f"{prefix}devices {du or '-'} → {dv or '-'}", "devices", old=du, new=dv))
        pu, pv = _plugins(x), _plugins(y)
        for name in sorted(pu.keys() | pv.keys()):
            if pu.get(name) != pv.get(name):
                out.append(Change("env", f"{prefix}plugin {name} {pu.get(name, 'absent')} → {pv.get(name, 'absent')}",
                                  f"plugins.{name}", old=pu.get(name), new=pv.get(name)))
        for flag in sorted(set(x.jax_config) | set(y.jax_config)):
            u, v = x.jax_config.get(flag, "(absent)"), y.jax_config.get(flag, "(absent)")
            if u != v:
                out.append(Change("config", f"{prefix}{flag} {_fmt(u)} → {_fmt(v)}", flag, old=u, new=v))
        for w in y.warnings:
            if w not in x.warnings:
                out.append(Change("env", f"{prefix}warning (new run): {w}", "warnings", new=w))
    return out


def _devices(e: Environment) -> str:
    return ", ".join(f"{d.id} ({d.kind})" for d in e.devices)


def _plugins(e: Environment) -> dict[str, str]:
    return {str(p.get("name")): str(p.get("version")) for p in e.plugins}


def _env_brief(e: Environment) -> dict[str, Any]:
    return {"host": e.host, "jax": e.jax, "jaxlib": e.jaxlib, "python": e.python,
            "devices": [d.kind for d in e.devices]}


# ---------------------------------------------------------------------------
# numbers
# ---------------------------------------------------------------------------

_FORMATS = {"float16": ("<e", "<H", 16), "float32": ("<f", "<I", 32), "float64": ("<d", "<Q", 64)}


def ulps(old: Any, new: Any, dtype: str) -> int | None:
    """Units in the last place between two values of a float dtype (None: not a float dtype, or not finite).

    Counted on the IEEE bit patterns mapped to a monotonic integer line, so a
    step across zero counts the representable numbers in between.
    ``bfloat16`` is float32's upper half; complex values count their larger part.
    """
    if dtype.startswith("complex") and isinstance(old, list | tuple) and isinstance(new, list | tuple):
        part = {"complex64": "float32", "complex128": "float64"}.get(dtype)
        if part is None:
            return None
        counts = [ulps(u, v, part) for u, v in zip(old, new, strict=False)]
        return None if None in counts else max(c for c in counts if c is not None)
    u, v = _num(old), _num(new)
    if u is None or v is None or not (math.isfinite(u) and math.isfinite(v)):
        return None
    try:
        if dtype == "bfloat16":
            return abs(_ordered(u, "<f", "<I", 32) // 65536 - _ordered(v, "<f", "<I", 32) // 65536)
        fmt = _FORMATS.get(dtype)
        if fmt is None:
            return None
        return abs(_ordered(u, *fmt) - _ordered(v, *fmt))
    except (OverflowError, struct.error):  # a value its dtype cannot hold (a damaged or crafted report)
        return None


def _ordered(x: float, ffmt: str, ifmt: str, bits: int) -> int:
    (b,) = struct.unpack(ifmt, struct.pack(ffmt, x))
    sign = 1 << (bits - 1)
    return -(b & (sign - 1)) if b & sign else b


def _num(x: Any) -> float | None:
    if isinstance(x, bool):
        return float(x)
    if isinstance(x, int | float):
        return float(x)
    if isinstance(x, str) and x in ("nan", "inf", "-inf"):
        return float(x)
    return None


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return repr(x)
    if isinstance(x, bool) or x is None:
        return str(x).lower() if isinstance(x, bool) else "null"
    if isinstance(x, list):
        return "[" + ", ".join(_fmt(v) for v in x) + "]"
    return str(x)


def _unravel(i: int, shape: Sequence[int]) -> tuple[int, ...]:
    out = []
    for n in reversed(shape):
        out.append(i % n if n else 0)
        i //= n or 1
    return tuple(reversed(out))


# ---------------------------------------------------------------------------
# the terminal
# ---------------------------------------------------------------------------

_HEAD = {"regression": "REGRESSION", "fix": "fixed", "changed": "changed", "added": "added", "removed": "removed",
         "drift": "drift"}


def format_text(d: Drift, old_name: str = "old", new_name: str = "new", *, limit: int = 0,
                clip_at: int | None = None) -> list[str]:
    """The diff for a terminal: environment, then each pattern's changed items, then the counts.

    ``limit`` > 0 shows at most that many items per pattern (the rest are
    counted). Each change's text is clipped at ``clip_at`` characters
    (default :data:`._text.MAX_TERMINAL_MESSAGE`; 0: never), and every line
    has its control characters escaped (:func:`._text.printable`): line breaks
    inside a change are kept and indented.
    """
    clip_at = MAX_TERMINAL_MESSAGE if clip_at is None else clip_at
    lines = [f"old: {old_name} ({_hosts_line(d.old)})", f"new: {new_name} ({_hosts_line(d.new)})"]
    if d.environment:
        lines += ["", "environment and config:"]
        lines += [f"  {c.text}" for c in d.environment]
    for pattern, items in d.by_pattern().items():
        lines += ["", f"{pattern}  ({_pattern_counts(items)})"]
        compile_only = [i for i in items if i.category == "drift" and {c.what for c in i.changes} == {"compiles"}]
        items = [i for i in items if i not in compile_only]
        shown = items[:limit] if limit > 0 else items
        if compile_only:
            steps = Counter(f"{c.old} → {c.new}" for i in compile_only for c in i.changes)
            lines.append(f"  compiles   {len(compile_only)} item{'s' if len(compile_only) > 1 else ''} "
                         f"differ{'' if len(compile_only) > 1 else 's'} only in XLA compilations: "
                         + ", ".join(f"{k} ({n})" for k, n in steps.most_common(4))
                         + (" …" if len(steps) > 4 else ""))
        for item in shown:
            name = parse_nodeid(item.nodeid).item_name()
            host = f"{item.host}: " if item.host else ""
            outcome = (f"{item.old_outcome} → {item.new_outcome}" if item.old_outcome != item.new_outcome
                       else item.new_outcome)
            lines.append(f"  {_HEAD[item.category]:<10} {host}{name}  [{outcome}]")
            for c in item.changes:
                if c.what == "outcome":
                    continue
                text = clip(printable(c.text, newlines=True), clip_at, hint="--full shows all of it")
                lines.append("      " + text.replace("\n", "\n      "))
        if len(items) > len(shown):
            lines.append(f"  … {len(items) - len(shown)} more items (--limit 0 shows all)")
    counts = d.counts()
    lines += ["", "summary: " + ", ".join(f"{counts[k]} {k}" for k in CATEGORIES if counts[k])
              + (", " if any(counts[k] for k in CATEGORIES) else "") + f"{counts['unchanged']} unchanged"]
    if counts["changes"]:
        lines.append("changes: " + ", ".join(f"{n} {what}" for what, n in counts["changes"].items()))
    verdict = {"regression": "regression (exit 1)", "drift": "drift only, no regression (exit 5)",
               "none": "no change in outcomes or observations (exit 0)"}[d.status]
    lines.append(f"result: {verdict}")
    return [printable(line, newlines=True) for line in lines]


def _hosts_line(envs: Sequence[Environment]) -> str:
    return "; ".join(f"{e.host or '?'}: jax {e.jax or '?'}, jaxlib {e.jaxlib or '?'}, python {e.python or '?'}, "
                     f"{', '.join(sorted({d.kind for d in e.devices})) or 'no devices'}" for e in envs)


def _pattern_counts(items: Sequence[ItemDrift]) -> str:
    c = Counter(i.category for i in items)
    return ", ".join(f"{c[k]} {k}" for k in CATEGORIES if c.get(k))
