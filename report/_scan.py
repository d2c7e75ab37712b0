"""Reports of a million results: read one result at a time, keep only what a view needs (docs/report.md).

:func:`load` builds every result as an object; at a million results that is
gigabytes and minutes. :func:`scan` reads the same file as a stream -- the
top-level members whole, ``results`` one element at a time -- checks each
element against the same bounds, schema and model rules as :func:`load`,
and keeps a compact summary (:class:`ReportScan`): the matrix as counts per
(pattern, column, outcome), the tally, the failing results as
:class:`~._model.Result` objects, and on request the item columns of the
HTML page or an index for :func:`drift_files` (per item: node id, host, a
16-byte digest of what ``diff`` compares, and where the element lies in the
file). :func:`merge_files` writes a merged report without holding the
results: each element goes to a spool file -- its own text when re-encoding
the loaded result would give the same JSON values, which saves the encoding
-- is sorted by ``(host, node id)`` and copied out.

Refusals stay exactly those of :func:`~._model.load_report`: whenever the
stream meets anything it does not accept (bad JSON, a broken bound, a schema
or model problem, a key twice at the top level, an encoding error), the file
is read again with ``load_report``, which raises its one
:class:`~._model.ReportError` naming the member at fault. Should that reader
accept the file, its results are used instead, so the stream can only be
faster than ``load_report``, never disagree with it.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import json
import marshal
import math
import os
import re
import tempfile
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

from jaxpat import _jsonschema

from ._json import NON_FINITE, BoundsError, _pairs, _walk
from ._matrix import Matrix, column_for, matrix_from_counts
from ._model import (
    BAD,
    MAX_RANK,
    MAX_SECONDS,
    OUTCOMES,
    ClaimRecord,
    Environment,
    Report,
    ReportError,
    Result,
    load_report,
    merged_head,
    merged_peak_rss,
    new_report,
    result_problems,
    schema,
    validate_report,
)
from ._nodeid import parse_nodeid

__all__ = ["ReportScan", "drift_files", "merge_files", "scan"]

#: Bytes read at a time (a value longer than this is read in growing pieces).
CHUNK = 1 << 22
_WS = re.compile(r"[ \t\n\r]*")
#: A JSON escape of a UTF-16 surrogate (a lone one is refused; a pair is a character outside the BMP).
_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


class _Refuse(Exception):
    """The stream met something it does not accept: the whole-file reader decides (and names it)."""


# ---------------------------------------------------------------------------
# a fast check of one result element, derived from the schema
# ---------------------------------------------------------------------------

Check = Callable[[Any], bool]


_TYPES: dict[str, tuple[type, ...]] = {"object": (dict,), "array": (list,), "string": (str,), "integer": (int,),
                                       "number": (int, float), "boolean": (bool,), "null": (type(None),)}
_BIG = 10**64


def _compile(node: Mapping[str, Any], root: Mapping[str, Any]) -> Check:
    """A check that says True only when ``node`` certainly accepts the value and the value keeps every bound.

    False means "not sure": the exact checks (:func:`~._json._walk`, the schema
    checker, the model rules) then run on that element. It knows the keywords
    the result schema uses; any other makes it answer False. Strings are not
    looked at: the caller sends an element whose text has a ``\\uD800``-style
    escape (the only way JSON text can hold a lone surrogate) to the exact checks.
    """
    if "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/$defs/") or set(node) - {"$ref", "description"}:
            return lambda v: False
        return _compile(root["$defs"][ref[len("#/$defs/"):]], root)
    if set(node) - {"type", "enum", "minimum", "properties", "required", "items", "description"}:
        return lambda v: False
    names = node.get("type", [])
    types = tuple(t for name in (names if isinstance(names, list) else [names]) for t in _TYPES[name]) or None
    enum = node.get("enum")
    minimum = node.get("minimum")
    if types == (dict,) and enum is None and "items" not in node:
        required = tuple(node.get("required") or ())
        plain: dict[str, tuple[type, ...]] = {}
        other: dict[str, Check] = {}
        for k, sub in (node.get("properties") or {}).items():
            if set(sub) <= {"type", "description"} and dict not in _sub_types(sub) and list not in _sub_types(sub):
                plain[k] = _sub_types(sub)
            else:
                other[k] = _compile(sub, root)

        # members that may be strings (the most common value): accepted on a type test and a set look-up
        strings = frozenset(k for k, ts in plain.items() if str in ts)
        keys = frozenset(required)

        def check_object(v: Any) -> bool:
            if type(v) is not dict or not keys <= v.keys():
                return False
            for k, x in v.items():
                if type(x) is str and k in strings:
                    continue
                ts = plain.get(k)
                if ts is not None:
                    t = type(x)
                    if t not in ts or (t is float and x - x != 0) or (t is int and not -_BIG < x < _BIG):
                        return False
                    continue
                sub = other.get(k)
                if not (_free(x) if sub is None else sub(x)):
                    return False
            return True

        return check_object
    if enum is not None and enum and all(type(e) is str for e in enum) and (types is None or str in types):
        # an enumeration of strings: only a string equals one of them
        names_ = frozenset(enum)
        return lambda v: type(v) is str and v in names_
    items = _compile(node["items"], root) if "items" in node else _free
    scalar = node.get("items")
    if types == (list,) and enum is None and minimum is None and scalar is not None and set(scalar) <= {
            "type", "minimum", "description"} and dict not in _sub_types(scalar):
        # an array of scalars (or of arrays the schema leaves free): one loop instead of a call per item
        its = _sub_types(scalar) or None
        low = scalar.get("minimum")

        def check_scalars(v: Any) -> bool:
            if type(v) is not list:
                return False
            for x in v:
                t = type(x)
                if its is not None and t not in its:
                    return False
                if t is float:
                    if x - x != 0 or (low is not None and x < low):
                        return False
                elif t is int:
                    if not -_BIG < x < _BIG or (low is not None and x < low):
                        return False
                elif t is list:
                    if not all(map(_free, x)):
                        return False
                elif not (t is str or t is bool or x is None):
                    return False
            return True

        return check_scalars

    def check(v: Any) -> bool:
        t = type(v)
        if types is not None and t not in types:
            return False
        if enum is not None and v not in enum:
            return False
        if t is float:
            return v - v == 0 and (minimum is None or v >= minimum)
        if t is int:
            return -_BIG < v < _BIG and (minimum is None or v >= minimum)
        if t is list:
            return all(map(items, v))
        return t is str or t is bool or v is None

    return check


def _sub_types(sub: Mapping[str, Any]) -> tuple[type, ...]:
    names = sub.get("type", [])
    return tuple(t for name in (names if isinstance(names, list) else [names]) for t in _TYPES[name])


def _free(x: Any) -> bool:
    """A value the schema leaves free that certainly keeps every bound (containers: not sure)."""
    t = type(x)
    if t is float:
        return x - x == 0
    if t is int:
        return -_BIG < x < _BIG
    return t is str or t is bool or x is None


_RESULT_CHECK: list[Check] = []
_NON_FINITE = ("nan", "inf", "-inf")


def _leaves_ok(leaves: Iterable[Any]) -> bool:
    """The model's leaf rules (:func:`~._model.result_problems`) for leaves that passed the schema check; True
    when certainly kept (False: not sure)."""
    for leaf in leaves:
        shape, values = leaf.get("shape"), leaf.get("values")
        if shape is not None and len(shape) > MAX_RANK:
            return False
        if values is None:
            continue
        if shape is None or len(values) != math.prod(shape):
            return False
        if str(leaf.get("dtype") or "").startswith("complex"):  # the schema made it a string when present
            for v in values:
                if type(v) is not list or len(v) != 2:
                    return False
                for p in v:
                    if not (type(p) in (int, float, bool) or p in _NON_FINITE):
                        return False
        elif not _SCALAR_TYPES.issuperset(map(type, values)):
            return False
    return True


_SCALAR_TYPES = frozenset({int, float, bool, str})



def _result_ok(element: Any, i: int, escapes: bool) -> None:
    """Accept one ``$.results[i]`` element as :func:`~._model.load_report` would, or raise :class:`_Refuse`
    (``escapes``: its text has a surrogate escape)."""
    if not _RESULT_CHECK:
        root = schema()
        _RESULT_CHECK.append(_compile(root["$defs"]["result"], root))
    if not escapes and type(element) is dict and _RESULT_CHECK[0](element) and element["duration"] <= MAX_SECONDS:
        observed = element.get("observed")
        if not observed or _leaves_ok(observed.get("leaves") or ()):
            return
    at = ((None, "results"), i)
    try:
        _walk(element, 2, at)
    except BoundsError:
        raise _Refuse from None
    where = f"$.results[{i}]"
    root = schema()
    if _jsonschema.problems(element, root["$defs"]["result"], limit=1, root=root, at=where):
        raise _Refuse
    found: list[str] = []
    result_problems(element, where, lambda at, why: found.append(at))
    if found:
        raise _Refuse


# ---------------------------------------------------------------------------
# the stream
# ---------------------------------------------------------------------------

class _Stream:
    """A report file as text, read in pieces; ``pos`` indexes ``buf``; :meth:`byte` maps an index to a file offset."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.buf = ""
        self.pos = 0
        self.start = 0  # where the last value began
        self.eof = False
        self.ascii = True
        self.mark = (0, 0)  # (index in buf, byte offset in the file) of a known point, for byte()
        self.dec = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=NON_FINITE.__getitem__)
        self.scan: Callable[[str, int], tuple[Any, int]] = self.dec.scan_once  # type: ignore[attr-defined]

    def more(self) -> None:
        """Read another piece (at least as long as what is buffered), dropping what was consumed."""
        if self.eof:
            raise _Refuse
        keep = self.buf[self.pos:]
        base = self.byte(self.pos)
        data = self.f.read(max(CHUNK, len(keep)))
        try:
            text = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError:
            raise _Refuse from None
        self.eof = not data
        self.buf = keep + text
        self.pos = 0
        self.mark = (0, base)
        self.ascii = self.buf.isascii()

    def byte(self, index: int) -> int:
        """The file offset of ``buf[index]`` (``index`` never before the last one asked)."""
        at, offset = self.mark
        offset += index - at if self.ascii else len(self.buf[at:index].encode("utf-8", "surrogatepass"))
        self.mark = (index, offset)
        return offset

    def peek(self) -> str:
        """The next character that is not white space ('' at the end of the file)."""
        if self.pos < len(self.buf) and self.buf[self.pos] not in " \t\n\r":  # most often
            return self.buf[self.pos]
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if self.eof:
                return ""
            self.more()

    def value(self) -> Any:
        """The JSON value at ``pos`` (reading more until it is whole)."""
        self.peek()
        while True:
            try:
                value, end = self.scan(self.buf, self.pos)  # what raw_decode calls, without its wrapper
            except StopIteration as stop:  # no value begins at stop.value (raw_decode: "Expecting value")
                if stop.value < len(self.buf) - 8:
                    raise _Refuse from None
                self.more()
                continue
            except json.JSONDecodeError as exc:
                # bad JSON well before the end of what is buffered is bad (load_report says where); at the end,
                # or an unterminated string, it may be a value that goes on in the next piece
                if exc.pos < len(self.buf) - 8 and not exc.msg.startswith("Unterminated string"):
                    raise _Refuse from None
                self.more()
                continue
            except (RecursionError, ValueError):  # too deep for json; an integer of more than 4300 digits
                raise _Refuse from None
            if end >= len(self.buf) and not self.eof:  # a number may go on in the next piece
                self.more()
                continue
            self.start, self.pos = self.pos, end
            return value

    def expect(self, ch: str) -> None:
        if self.peek() != ch:
            raise _Refuse
        self.pos += 1


OnResult = Callable[[int, dict[str, Any], int, int], None]
#: ``on_result(i, element, text)``: the element and its JSON text as the file spells it (``text`` None when
#: :func:`~._model.load_report` read the file: the element is then its result's ``to_dict()``).
OnText = Callable[[int, dict[str, Any], "str | None"], None]


def _stream(path: str | os.PathLike[str], on_result: OnResult, on_text: OnText | None = None) -> Report:
    """Read the report at ``path``, each result element given to ``on_result(i, element, start, end)``
    (byte offsets in the file) once checked -- or, with ``on_text``, to ``on_text(i, element, text)`` (its
    JSON text) instead; return the report without its results. :class:`_Refuse` for anything
    :func:`~._model.load_report` might refuse; ``OSError`` when the file cannot be opened."""
    with open(path, "rb") as f:
        s = _Stream(f)
        s.expect("{")
        members: dict[str, Any] = {}
        if s.peek() == "}":
            s.pos += 1
        else:
            while True:
                if s.peek() != '"':
                    raise _Refuse
                key = s.value()
                s.expect(":")
                if key in members:
                    raise _Refuse
                if key == "results" and s.peek() == "[":
                    s.pos += 1
                    members[key] = []
                    _elements(s, on_result, on_text)
                else:
                    members[key] = s.value()
                c = s.peek()
                s.pos += 1
                if c == "}":
                    break
                if c != ",":
                    raise _Refuse
        if s.peek() != "":
            raise _Refuse
    if not isinstance(members.get("results"), list) or members["results"]:
        raise _Refuse
    try:
        _walk(members)
    except BoundsError:
        raise _Refuse from None
    if validate_report(members):
        raise _Refuse
    return Report.from_dict(members, check=False)


def _elements(s: _Stream, on_result: OnResult, on_text: OnText | None) -> None:
    if s.peek() == "]":
        s.pos += 1
        return
    i = 0
    while True:
        if on_text is not None:
            element = s.value()
            text = s.buf[s.start:s.pos]
            _result_ok(element, i, "\\u" in text and _ESCAPE.search(text) is not None)
            on_text(i, element, text)
        else:
            s.peek()
            start = s.byte(s.pos)
            element = s.value()
            escapes = s.buf.find("\\u", s.start, s.pos) >= 0 and _ESCAPE.search(s.buf, s.start, s.pos) is not None
            end = s.byte(s.pos)
            _result_ok(element, i, escapes)
            on_result(i, element, start, end)
        c = s.peek()
        s.pos += 1
        if c == "]":
            return
        if c != ",":
            raise _Refuse
        i += 1


def _read(path: str | os.PathLike[str], on_result: OnResult, reset: Callable[[], None],
          on_text: OnText | None = None) -> tuple[Report, Report | None]:
    """``(report without results, None)`` from the stream, or -- when the stream refused -- what
    :func:`~._model.load_report` says: its ReportError, or (after ``reset()``, forgetting what the stream gave)
    ``(report, report)`` with its results given to ``on_result`` (offsets -1; with ``on_text``: to it, text
    None)."""
    try:
        return _stream(path, on_result, on_text), None
    except (_Refuse, RecursionError):
        pass
    except OSError as exc:
        raise ReportError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    full = load_report(path)
    reset()
    for i, r in enumerate(full.results):
        if on_text is not None:
            on_text(i, r.to_dict(), None)
        else:
            on_result(i, r.to_dict(), -1, -1)
    return full, full


# ---------------------------------------------------------------------------
# a scanned report
# ---------------------------------------------------------------------------

def _signature(element: Mapping[str, Any]) -> bytes:
    """What ``diff`` compares of a result besides claims (outcome, message, XLA compilations, observation)."""
    # marshal (written, never read) spells JSON values exactly and tells their types apart (1, 1.0 and True
    # differ; keys are strings), so equal digests mean equal values; version 2 has no back-references, so equal
    # values read from two files give equal bytes. The same values in another key order differ and are compared
    # in full, which is right. About twice as fast as repr.
    data = marshal.dumps((element["outcome"], element.get("message"), element.get("compiles"),
                          element.get("observed")), 2)
    return hashlib.blake2b(data, digest_size=16).digest()


def _pattern_id(element: Mapping[str, Any]) -> str:
    pattern = element.get("pattern")
    if pattern:
        return str(pattern)
    nodeid = element["nodeid"]
    node = parse_nodeid(nodeid)
    return node.pattern or node.setup or nodeid.split("::")[-1].split("[")[0]


@dataclass
class ReportScan:
    """A report read by :func:`scan`: everything but the results, and what the views need of them.

    ``head`` is the report with ``results=()``; ``matrix`` aggregates every
    result; ``failures`` are the failing results (failed, error, xpassed) in
    file order; :meth:`tally` counts them all. With ``items``, ``ids``,
    ``outcomes``, ``groups`` (per result: its matrix group) and ``durations``
    hold one entry per result, for the HTML page; with ``index``, ``hosts``,
    ``signatures`` and the byte ``spans`` of each element, for :func:`drift_files`.
    """

    path: str
    head: Report
    total: int = 0
    matrix: Matrix = field(default_factory=lambda: Matrix([], [], Counter()))
    failures: list[Result] = field(default_factory=list)
    #: the index of each failing result
    failing: list[int] = field(default_factory=list)
    durations: array[float] = field(default_factory=lambda: array("d"))
    ids: list[str] = field(default_factory=list)
    outcomes: array[int] = field(default_factory=lambda: array("b"))
    groups: array[int] = field(default_factory=lambda: array("i"))
    #: per matrix group (the index ``groups`` holds): (row index, column index) in ``matrix``
    cells: list[tuple[int, int]] = field(default_factory=list)
    hosts: list[str | None] = field(default_factory=list)
    signatures: list[bytes] = field(default_factory=list)
    spans: array[int] = field(default_factory=lambda: array("q"))
    #: with ``items``: the index of each reused result (a stored result of an earlier run, docs/cli.md)
    reused: list[int] = field(default_factory=list)
    #: the results as :func:`~._model.load_report` read them, when the stream did not
    loaded: Report | None = None

    # what a Report says, for the views
    @property
    def status(self) -> str:
        return self.head.status

    @property
    def created(self) -> str:
        return self.head.created

    @property
    def command(self) -> tuple[str, ...]:
        return self.head.command

    @property
    def environment(self) -> Environment:
        return self.head.environment

    @property
    def environments(self) -> tuple[Environment, ...]:
        return self.head.environments

    @property
    def claims(self) -> tuple[ClaimRecord, ...]:
        return self.head.claims

    @property
    def compiles(self) -> Mapping[str, Any]:
        return self.head.compiles

    @property
    def duration_wall(self) -> float | None:
        return self.head.duration_wall

    def tally(self) -> dict[str, Any]:
        """:meth:`Report.tally <._model.Report.tally>` of the whole report (same figures, same rounding)."""
        out: dict[str, Any] = {o: self.matrix.totals.get(o, 0) for o in OUTCOMES}
        out["total"] = self.total
        out["duration"] = round(sum(self.durations), 6)
        out["claims"] = dict(Counter(c.verdict for c in self.head.claims))
        return out

    def result(self, i: int) -> Result:
        """The ``i``-th result in full (read again from the file; needs ``index``)."""
        return self.results([i])[i]

    def results(self, indexes: Iterable[int]) -> dict[int, Result]:
        """The results at ``indexes`` in full, read again from the file in one pass (needs ``index``)."""
        if self.loaded is not None:
            return {i: self.loaded.results[i] for i in indexes}
        out = {}
        with open(self.path, "rb") as f:
            for i in sorted(set(indexes)):
                start, end = self.spans[2 * i], self.spans[2 * i + 1]
                f.seek(start)
                text = f.read(end - start).decode("utf-8")
                out[i] = Result.from_dict(json.loads(text, parse_constant=NON_FINITE.__getitem__))
        return out


def scan(path: str | os.PathLike[str], *, items: bool = False, index: bool = False, matrix: bool = True
         ) -> ReportScan:
    """Read the report at ``path`` as a stream into a :class:`ReportScan` (memory: about 200 bytes per result
    with ``items`` or ``index``, 8 without).

    Refuses exactly what :func:`~._model.load_report` refuses, with its
    :class:`~._model.ReportError`. ``items`` keeps the per-result columns the
    HTML page shows; ``index`` what :func:`drift_files` compares.
    ``matrix=False`` (with ``index``: what ``drift_files`` reads) leaves the
    matrix, the tally's counts and the failures empty.
    """
    out = ReportScan(str(path), _EMPTY)
    groups: dict[tuple[Any, ...], int] = {}
    sizes: list[int] = []
    kinds: list[Any] = []
    seen: dict[str | None, str | None] = {None: None}

    def reset() -> None:
        nonlocal out
        out = ReportScan(str(path), _EMPTY)
        groups.clear()
        sizes.clear()
        kinds.clear()

    def on_index(i: int, el: dict[str, Any], start: int, end: int) -> None:
        out.ids.append(el["nodeid"])
        host = el.get("host")
        out.hosts.append(seen.setdefault(host, host))
        out.signatures.append(_signature(el))
        out.spans.append(start)
        out.spans.append(end)
        out.durations.append(el["duration"] or 0.0)

    def on_result(i: int, el: dict[str, Any], start: int, end: int) -> None:
        outcome = el["outcome"]
        host = el.get("host")
        pattern = el.get("pattern")
        key = (pattern or _pattern_id(el), el.get("family"), el.get("transform"), el.get("kind"),
               el.get("platform"), el.get("device_kind"), host, outcome)
        try:
            g = groups.get(key)
        except TypeError:  # device_kind is free-form JSON: a list is not hashable
            key = (*key[:5], json.dumps(el.get("device_kind"), sort_keys=True), *key[6:])
            g = groups.get(key)
        if g is None:
            g = groups[key] = len(sizes)
            sizes.append(0)
            kinds.append(el.get("device_kind"))
        sizes[g] += 1
        out.durations.append(el["duration"] or 0.0)
        if outcome in BAD:
            out.failures.append(Result.from_dict(el))
            out.failing.append(i)
        if items or index:
            out.ids.append(el["nodeid"])
            out.hosts.append(seen.setdefault(host, host))
        if items:
            out.outcomes.append(_CODES.get(outcome, 0))
            out.groups.append(g)
            if el.get("reused"):
                out.reused.append(i)
        if index:
            out.signatures.append(_signature(el))
            out.spans.append(start)
            out.spans.append(end)

    head, loaded = _read(path, on_result if matrix or items or not index else on_index, reset)
    out.head, out.loaded = head, loaded
    out.total = len(out.durations)
    named = []
    for (pid, family, transform, kind, platform, _, host, outcome), g in groups.items():
        named.append((pid, family, column_for(transform, kind, platform, kinds[g], host), outcome, sizes[g]))
    out.matrix = matrix_from_counts(named)
    if items:
        rows = {r.pattern: i for i, r in enumerate(out.matrix.rows)}
        cols = {c: i for i, c in enumerate(out.matrix.columns)}
        out.cells = [(rows[pid], cols[col]) for pid, _, col, _, _ in named]
    return out


_CODES = {o: i for i, o in enumerate(OUTCOMES)}


_EMPTY = Report.from_dict(new_report({}, []), check=False)


# ---------------------------------------------------------------------------
# diff
# ---------------------------------------------------------------------------

def drift_files(old: str | os.PathLike[str] | ReportScan, new: str | os.PathLike[str] | ReportScan) -> Any:
    """:func:`~._drift.drift` of two report files, read as streams: the same :class:`~._drift.Drift`.

    Items whose outcome, message, compilations and observation are the same
    (equal digests of their JSON) and that have no claim are unchanged without
    being built; the others are read again from the files and compared by
    :func:`~._drift.drift`'s own rules.
    """
    from ._drift import Drift, _claims_by_key, _environment, _item

    a = old if isinstance(old, ReportScan) else scan(old, index=True, matrix=False)
    b = new if isinstance(new, ReportScan) else scan(new, index=True, matrix=False)
    if len(a.signatures) != a.total or len(b.signatures) != b.total:
        raise ValueError("drift_files compares reports scanned with index=True")
    by_host = any(a.hosts) and any(b.hosts)

    def key(host: str | None, nodeid: str | None) -> tuple[str, str]:
        return ((host or "") if by_host else "", nodeid or "")

    def keyed(s: ReportScan) -> dict[tuple[str, str], int]:
        hosts = s.hosts if by_host else [None] * s.total
        out = {key(h, n): i for i, (h, n) in enumerate(zip(hosts, s.ids, strict=True))}
        if len(out) != s.total:
            raise ReportError("a report holds the same item twice (merged reports from hosts with the same label?)")
        return out

    before, after = keyed(a), keyed(b)
    claims_old = _claims_by_key(a.head.claims, key)
    claims_new = _claims_by_key(b.head.claims, key)
    look = set(claims_old) | set(claims_new)
    todo = [k for k, i in before.items() if k not in after]
    common = 0
    for k, j in after.items():
        i = before.get(k)
        if i is None:
            todo.append(k)
            continue
        common += 1
        if k in look or a.signatures[i] != b.signatures[j]:
            todo.append(k)
    unchanged = common - sum(1 for k in todo if k in before and k in after)
    items = []
    todo.sort()
    for first in range(0, len(todo), 10_000):  # a batch of results in memory at a time, each file read once
        batch = todo[first:first + 10_000]
        olds = a.results(before[k] for k in batch if k in before)
        news = b.results(after[k] for k in batch if k in after)
        for k in batch:
            x, y = before.get(k), after.get(k)
            item = _item(None if x is None else olds[x], None if y is None else news[y],
                         claims_old.get(k), claims_new.get(k), k[0] or None)
            if item is None:
                unchanged += 1
            else:
                items.append(item)
    return Drift(a.environments, b.environments, tuple(_environment(a.head, b.head)), tuple(items), unchanged)


# ---------------------------------------------------------------------------
# merge
# ---------------------------------------------------------------------------

def merge_files(paths: Sequence[str | os.PathLike[str]], output: str | os.PathLike[str]) -> int:
    """Merge the reports at ``paths`` into the file ``output`` as :func:`~._model.merge_reports` and
    :func:`~._model.write_report` would (the same JSON values, but one result, and one claim, per line); return
    the result count.

    The results are not held: each goes to a spool file next to ``output``
    and is copied out in ``(host, node id)`` order. A result whose loaded form
    would be written with the same JSON values as its text holds (no null but
    the message, no ``NaN``, an observation as the model writes it: see
    :func:`_verbatim`) is spooled as that text, line breaks taken out;
    another is re-encoded from ``Result.from_dict(element).to_dict()``.
    :class:`ReportError` as ``merge_reports`` (a report that cannot be read,
    two hosts with one label); ``OSError`` when ``output`` cannot be written
    (it is then left as it was).
    """
    if not paths:
        raise ReportError("nothing to merge")
    target = Path(output)
    target.parent.mkdir(parents=True, exist_ok=True)
    hosts_of: list[str | None] = []
    nodeids: list[str] = []
    spans = array("q")
    durations = array("d")
    outcome_of = array("b")
    #: per result: 1 when its spooled text holds its host label already
    labelled = array("b")
    seen: dict[str, str] = {}
    heads: list[Report] = []
    firsts: list[int] = []
    at = [0]  # where the spool ends
    with tempfile.TemporaryFile(dir=target.parent, prefix=f".{target.name}.", suffix=".spool",
                                buffering=1 << 20) as spool:
        for path in paths:
            first = len(nodeids)
            firsts.append(first)
            spool_at = at[0]

            def reset(first: int = first, spool_at: int = spool_at) -> None:
                for column in (hosts_of, nodeids, durations, outcome_of, labelled):
                    del column[first:]
                del spans[2 * first:]
                spool.seek(spool_at)
                spool.truncate()
                at[0] = spool_at

            def on_text(i: int, el: dict[str, Any], text: str | None) -> None:
                host = el.get("host")
                hosts_of.append(seen.setdefault(host, host) if host else None)
                nodeids.append(el["nodeid"])
                durations.append(el["duration"] or 0.0)
                outcome_of.append(_CODES[el["outcome"]])
                if text is not None and (host or "host" not in el) and _verbatim(el, text):
                    # the element as the file spells it (whitespace aside): the same JSON values as re-encoding
                    # the loaded result would give, at the cost of a copy
                    if "\n" in text or "\r" in text:
                        text = _LAYOUT.sub("", text)
                    data = text.encode("utf-8")
                    labelled.append(1 if host else 0)
                else:  # what merge_reports writes: the loaded result's to_dict(), its host label added on output
                    record = Result.from_dict(el).to_dict()
                    record.pop("host", None)
                    data = json.dumps(record, default=str, allow_nan=False).encode("utf-8", "surrogatepass")
                    labelled.append(0)
                spans.append(at[0])
                spans.append(len(data))
                spool.write(data)
                at[0] += len(data)

            heads.append(_read(path, _no_offsets, reset, on_text)[0])
        firsts.append(len(nodeids))
        envs, claims, statuses, count = merged_head(heads)
        labels: list[str] = []
        for n, rep in enumerate(heads):
            own = rep.environment.host or f"report{n + 1}"
            labels.append(own)
            for j in range(firsts[n], firsts[n + 1]):
                if hosts_of[j] is None:
                    hosts_of[j] = own
        keys = list(zip(hosts_of, nodeids, strict=True))
        order = sorted(range(len(nodeids)), key=keys.__getitem__)
        del keys
        # the environment as merge_reports' Report writes it: an empty one of its own, then the hosts
        data = new_report({**Environment.from_dict({}).to_dict(), "hosts": [h.to_dict() for h in envs]},
                          ["jaxpat", "report", "merge"])
        data["status"] = "complete" if statuses == {"complete"} else "incomplete"
        data["claims"] = [c.to_dict() for c in claims]
        data["compiles"] = {"count": count, "by_process": {}}
        peak = merged_peak_rss(heads, labels)
        if peak:
            data["peak_rss"] = peak
        outcomes = Counter(OUTCOMES[c] for c in outcome_of)
        summary: dict[str, Any] = {o: outcomes.get(o, 0) for o in OUTCOMES}
        summary["total"] = len(order)
        summary["duration"] = round(sum(durations[j] for j in order), 6)
        summary["claims"] = dict(Counter(c.get("verdict", "unknown") for c in data["claims"]))
        data["summary"] = summary
        problems = validate_report(data)
        if problems:  # a bug here: the parts were checked
            raise ValueError("jaxpat merged into a report that does not match its schema:\n" + "\n".join(problems))
        nonce = os.urandom(8).hex()
        token, listed = "\x00results-" + nonce, "\x00claims-" + nonce
        # indented but for the results and the claims, one to a line (json's indenting encoder is pure Python)
        text = json.dumps({**data, "results": [token], "claims": [listed]}, indent=1, default=str, allow_nan=False)
        text = text.replace(json.dumps(listed), ",\n  ".join(
            json.dumps(c, default=str, allow_nan=False) for c in data["claims"]), 1)
        head, _, tail = text.partition(json.dumps(token))
        spool.flush()
        _write_merged(target, head, tail, order, spans, hosts_of, labelled, spool)
    return len(order)


def _no_offsets(i: int, el: dict[str, Any], start: int, end: int) -> None:  # pragma: no cover - never called
    raise AssertionError("merge_files reads elements with their text")


#: Layout outside strings in an element's text: a line break and the indentation after it (JSON strings hold
#: neither a raw line feed nor a carriage return, so these are never inside one).
_LAYOUT = re.compile(r"[\r\n][ \t\r\n]*")
#: The members of ``observed`` that :class:`~._model.Observation` writes back as it reads them.
_OBSERVED = frozenset({"tree", "leaves", "error"})


def _verbatim(el: dict[str, Any], text: str) -> bool:
    """True when ``Result.from_dict(el).to_dict()`` is ``el`` (the same JSON values, key order aside) and
    ``text`` spells no ``NaN``/``Infinity`` (which the reader turns into strings), so ``text`` can be copied.

    False means "not sure" (the caller re-encodes the loaded result). What the model changes on a round trip:
    a member that is null (left out; ``message`` is kept), an observation's null or empty parts (its ``error``
    becomes ``{"type", "message"}``, ``leaves`` is written when there is a tree).
    """
    # no null but a null message (a ``null`` inside a string only sends the element to the re-encoding)
    if "message" not in el or text.count("null") != (el["message"] is None) or "NaN" in text or "Infinity" in text:
        return False
    observed = el.get("observed")
    if observed is None:
        return True
    # the element passed the result schema: an observation is an object, its leaves a list of objects, its error
    # an object with the strings type and message
    if not observed.keys() <= _OBSERVED:
        return False
    if "leaves" in observed:
        if not observed["leaves"] and "tree" not in observed:
            return False
    elif "tree" in observed:
        return False
    error = observed.get("error")
    return error is None or len(error) == 2


def _write_merged(target: Path, head: str, tail: str, order: Iterable[int], spans: array[int],
                  hosts: Sequence[str | None], labelled: array[int], spool: IO[Any]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    suffixes: dict[str | None, bytes] = {}
    src = spool.fileno()
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb", buffering=1 << 20) as f:
            f.write(head.encode("utf-8"))
            sep = b""
            for j in order:
                data = os.pread(src, spans[2 * j + 1], spans[2 * j])
                if labelled[j]:
                    f.write(sep + data)
                else:
                    host = hosts[j]
                    suffix = suffixes.get(host)
                    if suffix is None:
                        suffix = suffixes[host] = b', "host": ' + json.dumps(host).encode("utf-8") + b"}"
                    f.write(sep + data[:-1] + suffix)
                sep = b",\n  "
            f.write(tail.encode("utf-8") + b"\n")
            f.flush()
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
