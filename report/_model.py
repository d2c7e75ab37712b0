"""The conformance report: one typed model, its JSON Schema, and atomic writes (docs/report.md).

The format is declared once, in ``report-schema.json``, plus the few rules a
schema cannot say (:func:`model_problems`: a leaf's values fill its shape,
claim sizes are positive, ...). :func:`load_report` parses a file within
bounds (:mod:`._json`: depth, integer size, duplicate keys), checks it against
both, and only then builds the typed :class:`Report`, so a crafted or damaged
file is one :class:`ReportError` naming the member at fault -- never a crash
in a reader, and every report it accepts can be shown, diffed, merged and
drawn. The writer checks the final report against the same rules. Members
this version does not model are kept (``extra``) and written back, so merging
never loses what a newer writer recorded.

Nothing here imports JAX: the report is built on the pytest controller from
what workers send, and ``jaxpat report`` reads it anywhere.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, cast

from jaxpat import _jsonschema
from jaxpat._util import atomic_write

from ._json import BoundsError, dumps_strict, loads_bounded
from ._nodeid import parse_nodeid

__all__ = [
    "FORMAT",
    "OUTCOMES",
    "SCHEMA_PATH",
    "VERSION",
    "ClaimRecord",
    "Device",
    "Environment",
    "Leaf",
    "Observation",
    "Report",
    "ReportError",
    "Result",
    "load_report",
    "merge_reports",
    "merged_peak_rss",
    "model_problems",
    "new_report",
    "parse_report",
    "summarize",
    "validate_report",
    "write_report",
]

FORMAT = "jaxpat-report"
VERSION = 1
OUTCOMES = ("passed", "failed", "error", "xfailed", "xpassed", "skipped", "not_run")
#: Outcomes that count as a regression when an item had passed before.
BAD = frozenset({"failed", "error", "xpassed"})
#: The report's JSON Schema, shipped with the package.
SCHEMA_PATH = Path(__file__).with_name("report-schema.json")


class ReportError(Exception):
    """A file that is not a jaxpat report of a version this code reads (the message says where and why)."""


@cache
def schema() -> dict[str, Any]:
    """The report's JSON Schema (``report-schema.json``), read once."""
    return dict(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


# ---------------------------------------------------------------------------
# the typed model
# ---------------------------------------------------------------------------

_T = TypeVar("_T")


_NAMES: dict[type, frozenset[str]] = {}


def _names(cls: type) -> frozenset[str]:
    """A record class's member names (``extra`` aside), computed once per class."""
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = frozenset(f.name for f in fields(cast(Any, cls))) - {"extra"}
    return names


def _split(cls: type[_T], data: Mapping[str, Any], **override: Any) -> _T:
    """``cls(**known members, extra=the rest)``: a record from its JSON object, losing nothing."""
    names = _names(cls)
    known = {k: v for k, v in data.items() if k in names}
    extra = {k: v for k, v in data.items() if k not in names}
    return cast(_T, cast(Any, cls)(**{**known, **override}, extra=extra))


def _joined(record: Any, **override: Any) -> dict[str, Any]:
    """The JSON object of a record: its members (None left out), then ``extra``."""
    out = {f.name: getattr(record, f.name) for f in fields(record) if f.name != "extra"}
    out.update(override)
    return {**{k: v for k, v in out.items() if v is not None}, **record.extra}


@dataclass(frozen=True)
class Device:
    """One device a host saw: ``id`` like ``cpu:0``, ``platform`` (cpu, gpu, tpu), ``kind`` (the device kind)."""

    id: str
    platform: str
    kind: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Device:
        return _split(cls, data)

    def to_dict(self) -> dict[str, Any]:
        return _joined(self)


@dataclass(frozen=True)
class Environment:
    """Where a run happened: host, versions, devices, plugins, the catalog digest, the JAX config."""

    #: The host's label (``jaxpat check --label``; the machine's name by default).
    host: str | None = None
    #: The machine's name, when it differs from the label.
    hostname: str | None = None
    jax: str | None = None
    jaxlib: str | None = None
    python: str | None = None
    os: str | None = None
    devices: tuple[Device, ...] = ()
    plugins: tuple[Mapping[str, Any], ...] = ()
    catalog_digest: str | None = None
    #: The JAX config flags that change results, with their values in this run.
    jax_config: Mapping[str, Any] = field(default_factory=dict)
    #: Warnings about the run as a whole (e.g. a JAX outside the supported range).
    warnings: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Environment:
        data = {k: v for k, v in data.items() if k != "hosts"}
        return _split(cls, data, devices=tuple(Device.from_dict(d) for d in data.get("devices") or ()),
                      plugins=tuple(data.get("plugins") or ()), jax_config=dict(data.get("jax_config") or {}),
                      warnings=tuple(data.get("warnings") or ()))

    def to_dict(self) -> dict[str, Any]:
        return _joined(self, devices=[d.to_dict() for d in self.devices], plugins=[dict(p) for p in self.plugins],
                       jax_config=dict(self.jax_config) or None, warnings=list(self.warnings) or None)


@dataclass(frozen=True)
class Leaf:
    """One output leaf as observed (``conformance/_observe.py`` writes it; the schema's ``leaf``).

    An array leaf has ``dtype``, ``shape``, ``digest`` and, when it has at most
    64 elements, ``values`` (row-major; floats in their dtype's shortest form,
    ``"nan"``/``"inf"``/``"-inf"`` as strings, complex as ``[re, im]``). Any
    other object has ``type`` and ``repr``.
    """

    dtype: str | None = None
    shape: tuple[int, ...] | None = None
    digest: str | None = None
    values: tuple[Any, ...] | None = None
    type: str | None = None
    repr: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Leaf:
        shape, values = data.get("shape"), data.get("values")
        return _split(cls, data, shape=None if shape is None else tuple(shape),
                      values=None if values is None else tuple(values))

    def to_dict(self) -> dict[str, Any]:
        return _joined(self, shape=None if self.shape is None else list(self.shape),
                       values=None if self.values is None else list(self.values))

    def describe(self) -> str:
        """``float32[3]`` for an array leaf, the type name otherwise."""
        if self.dtype is None:
            return self.type or "?"
        return f"{self.dtype}{list(self.shape or ())}"


@dataclass(frozen=True)
class Observation:
    """What an item's call returned (``tree``, ``leaves``) or raised (``error``: type and full message)."""

    tree: str | None = None
    leaves: tuple[Leaf, ...] = ()
    error_type: str | None = None
    error_message: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Observation:
        error = data.get("error") or {}
        rest = {k: v for k, v in data.items() if k not in ("error", "leaves")}
        return _split(cls, rest, leaves=tuple(Leaf.from_dict(x) for x in data.get("leaves") or ()),
                      error_type=error.get("type"), error_message=error.get("message"))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.tree is not None:
            out["tree"] = self.tree
        if self.leaves or self.tree is not None:
            out["leaves"] = [x.to_dict() for x in self.leaves]
        if self.error_type is not None:
            out["error"] = {"type": self.error_type, "message": self.error_message or ""}
        return {**out, **self.extra}

    @property
    def raised(self) -> bool:
        return self.error_type is not None


@dataclass(frozen=True)
class Result:
    """One item's outcome and what it was about (docs/report.md lists the members)."""

    nodeid: str
    outcome: str
    duration: float = 0.0
    kind: str | None = None
    pattern: str | None = None
    family: str | None = None
    case: str | None = None
    implementation: str | None = None
    plugin: str | None = None
    device: str | None = None
    platform: str | None = None
    transform: str | None = None
    claim: str | None = None
    message: str | None = None
    repro: str | None = None
    compiles: int | None = None
    host: str | None = None
    #: What the call returned or raised (case items; None in older reports and for other kinds).
    observed: Observation | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Result:
        obs = data.get("observed")
        return _split(cls, data, observed=None if obs is None else Observation.from_dict(obs))

    def to_dict(self) -> dict[str, Any]:
        out = _joined(self, observed=None if self.observed is None else self.observed.to_dict())
        out.setdefault("message", None)
        return out

    @property
    def pattern_id(self) -> str:
        """The pattern, from the record or else from the node id (a setup item: ``plugin`` or ``platform``)."""
        if self.pattern:
            return self.pattern
        node = parse_nodeid(self.nodeid)
        return node.pattern or node.setup or self.nodeid.split("::")[-1].split("[")[0]

    @property
    def key(self) -> tuple[str, str]:
        """``(host, nodeid)``: what identifies a result across merged and single-host reports."""
        return (self.host or "", self.nodeid)

    def first_line(self) -> str:
        """The first non-empty line of the message (or the outcome when there is none)."""
        for line in (self.message or "").splitlines():
            if line.strip():
                return line.strip()
        return self.outcome


@dataclass(frozen=True)
class ClaimRecord:
    """One measured claim: what was claimed, what was measured, and the verdict."""

    pattern: str
    implementation: str
    claim: str
    verdict: str
    claimed: Any = None
    measured: Mapping[str, Any] = field(default_factory=dict)
    message: str | None = None
    seed_claim: str | None = None
    device: str | None = None
    host: str | None = None
    nodeid: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClaimRecord:
        return _split(cls, data, measured=dict(data.get("measured") or {}))

    def to_dict(self) -> dict[str, Any]:
        out = _joined(self, measured=dict(self.measured))
        out["claimed"] = self.claimed
        return out


@dataclass(frozen=True)
class Report:
    """A whole conformance report. Build it with :meth:`from_dict` (checked) or :func:`load_report`."""

    status: str
    created: str
    command: tuple[str, ...]
    environment: Environment
    results: tuple[Result, ...]
    claims: tuple[ClaimRecord, ...] = ()
    #: Merged reports: one environment per host (``environment`` is then mostly empty).
    hosts: tuple[Environment, ...] = ()
    compiles: Mapping[str, Any] = field(default_factory=lambda: {"count": 0, "by_process": {}})
    summary: Mapping[str, Any] = field(default_factory=dict)
    exitstatus: int | None = None
    duration_wall: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "report", check: bool = True) -> Report:
        """Check ``data`` against the schema and build the report; :class:`ReportError` lists what is wrong.

        ``check=False`` skips the check, for a document built here from
        reports that were checked (:func:`merge_reports`; the writer checks again).
        """
        problems = validate_report(data) if check else []
        if problems:
            raise ReportError(f"{source}: not a valid jaxpat report:\n" + "\n".join(f"  {p}" for p in problems))
        data = dict(data)
        env = data["environment"]
        for key in ("format", "version"):
            data.pop(key)
        return _split(
            cls, data,
            command=tuple(data["command"]),
            environment=Environment.from_dict(env),
            hosts=tuple(Environment.from_dict(h) for h in env.get("hosts") or ()),
            results=tuple(Result.from_dict(r) for r in data["results"]),
            claims=tuple(ClaimRecord.from_dict(c) for c in data["claims"]),
            compiles=dict(data["compiles"]),
            summary=dict(data["summary"]),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (``format`` and ``version`` first), as :func:`write_report` writes it."""
        env = self.environment.to_dict()
        if self.hosts:
            env["hosts"] = [h.to_dict() for h in self.hosts]
        out: dict[str, Any] = {"format": FORMAT, "version": VERSION}
        out.update(_joined(
            self, command=list(self.command), environment=env, hosts=None,
            results=[r.to_dict() for r in self.results], claims=[c.to_dict() for c in self.claims],
            compiles=dict(self.compiles), summary=dict(self.summary),
        ))
        return out

    @property
    def environments(self) -> tuple[Environment, ...]:
        """One environment per host: the merged hosts, or this run's own."""
        return self.hosts or (self.environment,)

    def tally(self) -> dict[str, Any]:
        """The summary recomputed from ``results`` and ``claims`` (what ``summary`` should say; the file's
        own ``summary`` is never trusted by a view): counts per outcome, ``total``, summed ``duration``,
        claim verdict counts under ``claims``."""
        counts = Counter(r.outcome for r in self.results)
        out: dict[str, Any] = {o: counts.get(o, 0) for o in OUTCOMES}
        out["total"] = len(self.results)
        out["duration"] = round(sum(r.duration or 0.0 for r in self.results), 6)
        out["claims"] = dict(Counter(c.verdict for c in self.claims))
        return out

    def failures(self) -> list[Result]:
        """The results whose outcome fails a run (failed, error, xpassed), in node id order."""
        return [r for r in self.results if r.outcome in BAD]


# ---------------------------------------------------------------------------
# reading, checking and writing
# ---------------------------------------------------------------------------


def new_report(environment: Mapping[str, Any], command: list[str]) -> dict[str, Any]:
    """An empty report in state ``running``, as the JSON object the writer fills in."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "status": "running",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": list(command),
        "environment": dict(environment),
        "results": [],
        "claims": [],
        "compiles": {"count": 0, "by_process": {}},
        "summary": {},
    }


def summarize(report: dict[str, Any]) -> dict[str, Any]:
    """Recompute ``summary`` from ``results`` (counts per outcome, total, duration)."""
    counts = Counter(r["outcome"] for r in report["results"])
    summary: dict[str, Any] = {o: counts.get(o, 0) for o in OUTCOMES}
    summary["total"] = len(report["results"])
    summary["duration"] = round(sum(r.get("duration") or 0.0 for r in report["results"]), 6)
    summary["claims"] = dict(Counter(c.get("verdict", "unknown") for c in report.get("claims", [])))
    report["summary"] = summary
    return summary


def write_report(report: dict[str, Any] | Report, path: str | os.PathLike[str], *, compact: bool = False,
                 check: bool | None = None) -> Path:
    """Write ``report`` to ``path`` atomically (temporary file, then rename); return the path.

    The JSON is indented (one member per line) unless ``compact``, which
    writes it on one line, faster. It is strict JSON: a non-finite float is
    written as ``"nan"``, ``"inf"`` or ``"-inf"``, never ``NaN``. ``check``
    (default: when not ``compact``, i.e. for final reports) validates the
    document against the schema and the model's rules first and raises
    ``ValueError`` -- a bug in the writer -- if it does not conform.
    ``OSError`` when the file cannot be written.
    """
    data = report.to_dict() if isinstance(report, Report) else report
    summarize(data)
    try:
        text = json.dumps(data, default=str, allow_nan=False) if compact else _indented(data)
    except ValueError:  # NaN or an infinity somewhere (JSON has neither): written as the report spells them
        data = json.loads(dumps_strict(data))
        text = json.dumps(data, default=str, allow_nan=False) if compact else _indented(data)
    if check if check is not None else not compact:
        problems = validate_report(data)
        if problems:
            raise ValueError("jaxpat wrote a report that does not match its schema:\n" + "\n".join(problems))
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, text + "\n")
    return target


def _indented(data: dict[str, Any]) -> str:
    """Indented JSON (one member per line), except each result's ``observed``, written on its own single line.

    Observations hold lists of values; one line per value would make a full
    catalog's report half as large again (docs/report.md gives the size).
    """
    results = data.get("results")
    if not isinstance(results, list) or not any(isinstance(r, dict) and "observed" in r for r in results):
        return json.dumps(data, indent=1, default=str, allow_nan=False)
    nonce = os.urandom(8).hex()
    inline: dict[str, str] = {}
    shallow = []
    for i, r in enumerate(results):
        if isinstance(r, dict) and "observed" in r:
            token = f"\x00observed-{nonce}-{i}"
            inline[json.dumps(token)] = json.dumps(r["observed"], default=str, allow_nan=False)
            r = {**r, "observed": token}
        shallow.append(r)
    text = json.dumps({**data, "results": shallow}, indent=1, default=str, allow_nan=False)
    return re.sub(r'"\\u0000observed-' + nonce + r'-\d+"', lambda m: inline[m.group(0)], text)


def load_report(path: str | os.PathLike[str]) -> Report:
    """Read and check a report; :class:`ReportError` says what is wrong with the file, and where."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ReportError(f"{path}: not a text file ({exc.reason})") from exc
    return parse_report(text, source=str(path))


def parse_report(text: str, *, source: str = "report") -> Report:
    """A report from its JSON text, parsed within bounds and checked (``source`` names it in errors).

    :class:`ReportError` for invalid JSON (with line and column), a broken
    bound (nesting deeper than 32 levels, an integer of more than 64 digits,
    a number out of a float's range, a key twice in one object, a lone
    surrogate: with the JSON path), or a document that is not a valid report.
    """
    try:
        data = loads_bounded(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{source}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from exc
    except BoundsError as exc:
        raise ReportError(f"{source}: not a valid jaxpat report:\n  {exc}") from exc
    return Report.from_dict(data, source=source)


def validate_report(data: Any) -> list[str]:
    """Return the ways ``data`` departs from the report format (empty when valid).

    ``format`` and ``version`` are checked first, so a file of another kind or
    version gets one clear line rather than a list of schema complaints; then
    the schema; then, for a document that fits the schema, the rules a schema
    cannot say (:func:`model_problems`).
    """
    if not isinstance(data, dict):
        return ["the top level must be an object"]
    if data.get("format") != FORMAT:
        return [f"`format` must be {FORMAT!r}"]
    if data.get("version") != VERSION:
        return [f"`version` {data.get('version')!r} is not supported (this jaxpat reads {VERSION})"]
    return _jsonschema.problems(data, schema()) or model_problems(data)


#: Seconds a duration may be at most (more is a damaged file: summing such figures would overflow).
MAX_SECONDS = 1e9
#: Dimensions a leaf's shape may have at most (NumPy allows 64).
MAX_RANK = 64


def model_problems(data: Mapping[str, Any], *, limit: int = 20) -> list[str]:
    """The rules of the format that its JSON Schema does not express, for a document that fits the schema.

    - every duration (``results[].duration``, ``duration_wall``) is at most :data:`MAX_SECONDS`;
    - an observed leaf's ``shape`` has at most :data:`MAX_RANK` dimensions, and its ``values``
      (when present) number exactly the product of the shape: ``[re, im]`` pairs of numbers (or
      ``"nan"``/``"inf"``/``"-inf"``) for a complex dtype, a number, boolean or string otherwise;
    - a claim's ``measured.sizes`` (when present) is a list of numbers greater than 0 (the plots
      put them on a log axis), and ``claimed.at_least`` a number;
    - the hosts of a merged report have distinct labels, and every device id of a host is distinct.
    """
    out: list[str] = []

    def bad(at: str, why: str) -> None:
        out.append(f"{at}: {why}")

    wall: Any = data.get("duration_wall")
    if _is_number(wall) and wall > MAX_SECONDS:
        bad("$.duration_wall", f"{wall!r} is above the maximum {MAX_SECONDS:g} seconds")
    for i, r in enumerate(data.get("results") or ()):
        if len(out) >= limit:
            break
        result_problems(r, f"$.results[{i}]", bad)
    for i, c in enumerate(data.get("claims") or ()):
        if len(out) >= limit:
            break
        measured = c.get("measured") or {}
        sizes = measured.get("sizes")
        if "sizes" in measured and not (isinstance(sizes, list) and all(_is_number(x) and x > 0 for x in sizes)):
            bad(f"$.claims[{i}].measured.sizes", "must be a list of numbers greater than 0")
        claimed = c.get("claimed")
        if isinstance(claimed, dict) and "at_least" in claimed and not _is_number(claimed["at_least"]):
            bad(f"$.claims[{i}].claimed.at_least", "must be a number")
    env = data["environment"]
    hosts = env.get("hosts") or ()
    labels = [h.get("host") for h in hosts if h.get("host") is not None]
    if len(set(labels)) != len(labels):
        twice = next(x for x in labels if labels.count(x) > 1)
        bad("$.environment.hosts", f"two hosts are labelled {twice!r}")
    for where, e in [("$.environment", env), *((f"$.environment.hosts[{k}]", h) for k, h in enumerate(hosts))]:
        ids = [d["id"] for d in e.get("devices") or ()]
        if len(set(ids)) != len(ids):
            bad(f"{where}.devices", f"the device {next(x for x in ids if ids.count(x) > 1)!r} is listed twice")
    return out[:limit]


def result_problems(r: Mapping[str, Any], at: str, bad: Any) -> None:
    """:func:`model_problems`' rules for one result (at JSON path ``at``) that fits the schema: ``bad(path, why)``."""
    if r["duration"] > MAX_SECONDS:
        bad(f"{at}.duration", f"{r['duration']!r} is above the maximum {MAX_SECONDS:g} seconds")
    for j, leaf in enumerate((r.get("observed") or {}).get("leaves") or ()):
        _leaf_problems(leaf, f"{at}.observed.leaves[{j}]", bad)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _leaf_problems(leaf: Mapping[str, Any], at: str, bad: Any) -> None:
    shape, values = leaf.get("shape"), leaf.get("values")
    if shape is not None and len(shape) > MAX_RANK:
        bad(f"{at}.shape", f"has {len(shape)} dimensions (at most {MAX_RANK})")
        return
    if values is None:
        return
    if shape is None:
        bad(at, "`values` without a `shape`")
        return
    n = math.prod(int(d) for d in shape)
    if len(values) != n:
        bad(f"{at}.values", f"holds {len(values)} values; the shape {list(shape)} has {n} elements")
        return
    complex_ = str(leaf.get("dtype") or "").startswith("complex")
    for k, v in enumerate(values):
        if complex_:
            ok = isinstance(v, list) and len(v) == 2 and all(_is_scalar(p) for p in v)
        else:
            ok = _is_scalar(v) or isinstance(v, str)  # other dtypes are written as str(value)
        if not ok:
            what = 'an [re, im] pair of numbers or "nan"/"inf"/"-inf"' if complex_ else "a number, boolean or string"
            bad(f"{at}.values[{k}]", f"must be {what}, not {json.dumps(v)[:40]}")
            return


def _is_scalar(v: Any) -> bool:
    return isinstance(v, bool) or _is_number(v) or v in ("nan", "inf", "-inf")


# ---------------------------------------------------------------------------
# merge and diff
# ---------------------------------------------------------------------------

def merge_reports(reports: Iterable[Report]) -> Report:
    """Combine reports from several hosts into one; every result and claim keeps its host label.

    Hosts are told apart by their label (``environment.host``, or each host of
    an already merged report). Two reports with the same label are refused --
    pooling them would make their results indistinguishable; relabel one with
    ``jaxpat check --label`` (or give the hosts distinct names).
    """
    reports = list(reports)
    if not reports:
        raise ReportError("nothing to merge")
    hosts, claims, statuses, count = merged_head(reports)
    results: list[Result] = []
    for i, rep in enumerate(reports):
        own = rep.environment.host or f"report{i + 1}"
        results += [Result.from_dict({**r.to_dict(), "host": r.host or own}) for r in rep.results]
    data = new_report({"hosts": [h.to_dict() for h in hosts]}, ["jaxpat", "report", "merge"])
    data["status"] = "complete" if statuses == {"complete"} else "incomplete"
    data["results"] = [r.to_dict() for r in sorted(results, key=lambda r: r.key)]
    data["claims"] = [c.to_dict() for c in claims]
    data["compiles"] = {"count": count, "by_process": {}}
    peak = merged_peak_rss(reports, [rep.environment.host or f"report{i + 1}" for i, rep in enumerate(reports)])
    if peak:
        data["peak_rss"] = peak
    summarize(data)
    # built from checked reports; merging adds only host labels, which were checked above
    return Report.from_dict(data, source="merged report", check=False)


def merged_head(reports: Sequence[Report]) -> tuple[list[Environment], list[ClaimRecord], set[str], int]:
    """What a merge takes from each report but its results: the environments (host labels checked: two
    reports with one label are refused), the claims labelled with their host, the statuses and the
    compilation count."""
    hosts: list[Environment] = []
    claims: list[ClaimRecord] = []
    statuses: set[str] = set()
    count = 0
    for i, rep in enumerate(reports):
        own = rep.environment.host or f"report{i + 1}"
        for env in rep.environments:
            label = env.host or own
            if any(h.host == label for h in hosts):
                raise ReportError(
                    f"two reports come from hosts labelled {label!r}: merging would pool their results; "
                    "give each run its own label (jaxpat check --label NAME)"
                )
            hosts.append(Environment.from_dict({**env.to_dict(), "host": label}))
        claims += [ClaimRecord.from_dict({**c.to_dict(), "host": c.host or own}) for c in rep.claims]
        statuses.add(rep.status)
        count += int(rep.compiles.get("count", 0))
    return hosts, claims, statuses, count


def merged_peak_rss(reports: Iterable[Report], labels: Iterable[str]) -> dict[str, Any] | None:
    """The ``peak_rss`` of a merge: ``max`` over the reports, ``by_process`` keyed ``LABEL/PROCESS``.

    A report that was itself merged (it has ``hosts``) keeps its keys, which
    already name the host. None when no report records ``peak_rss``.
    """
    found = False
    top = 0
    by_process: dict[str, int] = {}
    for rep, label in zip(reports, labels, strict=True):
        peak = rep.extra.get("peak_rss")
        if not isinstance(peak, Mapping):
            continue
        found = True
        top = max(top, int(peak.get("max") or 0))
        for proc, value in (peak.get("by_process") or {}).items():
            by_process[proc if rep.hosts else f"{label}/{proc}"] = value
    if not found:
        return None
    return {"max": top, "by_process": by_process}
