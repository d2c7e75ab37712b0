"""Check parsed catalog files: the declared structure, then the rules between fields.

Every problem is collected (none stops the others) and located by the path
of the node it concerns. Structure comes from :data:`jaxpat.catalog._format.CATALOG`;
this module adds what a schema cannot say: a case's args against the
signature, ids that must be unique or must name a case, the transforms a
case runs against its ``expect_under`` and ``grad``, and 64-bit results.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._errors import Problem, format_path
from ._explore import check_explore
from ._format import CATALOG
from ._kinds import Path, suggest
from ._model import TRANSFORMS
from ._values import (
    ArrayValue,
    DevicesValue,
    DictValue,
    GeneratedArray,
    KeyValue,
    ListValue,
    MeshValue,
    TupleValue,
    Value,
    devices_needed,
)
from ._yaml import Document

__all__ = ["DEFAULT_TRANSFORMS", "Checked", "check_document", "check_pattern_ids", "effective_transforms"]

DEFAULT_TRANSFORMS = ("eager", "jit")
_X64_DTYPES = frozenset({"int64", "uint64", "float64", "complex128"})
_VERSION = next(f.kind for f in CATALOG.fields if f.name == "version")


@dataclass
class Checked:
    """A document with its problems and the values decoded while checking it (by path)."""

    doc: Document
    problems: list[Problem] = field(default_factory=list)
    values: dict[Path, Value] = field(default_factory=dict)

    # The kinds' Report protocol.
    def error(self, path: Path, message: str, *, key: bool = False) -> None:
        line, column = self.doc.locate(path, key=key)
        pattern, field_path = _context(self.doc.data, path)
        self.problems.append(Problem(self.doc.file, line, column, message, pattern, field_path))

    def remember(self, path: Path, value: Any) -> None:
        self.values[path] = value


def _context(data: Any, path: Path) -> tuple[str | None, str | None]:
    """Split a path into the pattern id it lies in and the field within that pattern."""
    if len(path) >= 2 and path[0] == "patterns" and isinstance(path[1], int) and isinstance(data, dict):
        patterns = data.get("patterns")
        pattern = patterns[path[1]] if isinstance(patterns, list) and path[1] < len(patterns) else None
        pid = pattern.get("id") if isinstance(pattern, dict) else None
        if isinstance(pid, str):
            return pid, format_path(path[2:]) or None
    return None, format_path(path) or None


def check_document(doc: Document) -> Checked:
    """Check one parsed file against the format; return every problem found."""
    checked = Checked(doc)
    data = doc.data
    if data is None:
        checked.error((), "the file is empty; a catalog file starts with `version: 1` and lists `patterns:`")
    elif isinstance(data, dict) and "version" in data and (type(data["version"]) is not int or data["version"] != 1):
        _VERSION.check(data["version"], ("version",), checked)  # other fields may mean other things
    else:
        CATALOG.check(data, (), checked)
        if isinstance(data, dict):
            _check_patterns(data, checked)
    return checked


def check_pattern_ids(docs: Sequence[Document]) -> list[Problem]:
    """Report every pattern id declared twice, across all ``docs``, naming the first declaration."""
    seen: dict[str, tuple[Document, Path]] = {}
    problems = []
    for doc in docs:
        for at, pattern in _items(doc.data, "patterns"):
            pid = pattern.get("id")
            if not isinstance(pid, str):
                continue
            if pid in seen:
                first_doc, first_at = seen[pid]
                first = "{}:{}:{}".format(first_doc.file, *first_doc.locate(first_at))
                line, column = doc.locate((*at, "id"))
                message = f"duplicate pattern id {pid!r} (first declared at {first})"
                problems.append(Problem(doc.file, line, column, message, pid, "id"))
            else:
                seen[pid] = (doc, (*at, "id"))
    return problems


def effective_transforms(case: dict, pattern: dict, defaults: Any) -> tuple[str, ...]:
    """The transforms a case runs: its own, else its pattern's, else the file's defaults, else eager and jit."""
    for owner in (case, pattern, defaults):
        value = owner.get("transforms") if isinstance(owner, dict) else None
        if isinstance(value, list) and all(isinstance(t, str) for t in value):
            return tuple(value)
    return DEFAULT_TRANSFORMS


# -- helpers -------------------------------------------------------------------


def _items(data: Any, key: str, base: Path = ()) -> Iterator[tuple[Path, dict]]:
    """Yield (path, item) for every mapping in the list ``data[key]``."""
    items = data.get(key) if isinstance(data, dict) else None
    if isinstance(items, list):
        for i, item in enumerate(items):
            if isinstance(item, dict):
                yield (*base, key, i), item


def _names(value: Any) -> list[str] | None:
    """The list of strings ``value`` is, or None when it is not one."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


@dataclass(frozen=True)
class _Sig:
    args: list[str]
    static: list[str]

    def listing(self) -> str:
        return ", ".join(self.args) if self.args else "(none)"


def _signature(pattern: dict) -> _Sig | None:
    sig = pattern.get("signature")
    if not isinstance(sig, dict):
        return None
    args, static = _names(sig.get("args")), _names(sig.get("static", []))
    return _Sig(args, static or []) if args is not None else None


# -- pattern rules ---------------------------------------------------------------


def _check_patterns(data: dict, report: Checked) -> None:
    for at, pattern in _items(data, "patterns"):
        sig = _signature(pattern)
        case_ids = _check_case_ids(pattern, at, report)
        if sig is not None:
            _check_static(pattern, sig, at, report)
            _check_vmap(pattern, sig, at, report)
            _check_params(pattern, sig, at, report)
        check_explore(pattern, sig.args if sig else None, sig.static if sig else [], at, report, report.values)
        _check_references(pattern, case_ids, at, report)
        for case_at, case in _items(pattern, "cases", at):
            _check_case(case, case_at, pattern, data.get("defaults"), sig, report)


def _check_case_ids(pattern: dict, at: Path, report: Checked) -> list[str]:
    first: dict[str, Path] = {}
    for case_at, case in _items(pattern, "cases", at):
        cid = case.get("id")
        if not isinstance(cid, str):
            continue
        if cid == "explore":
            report.error((*case_at, "id"), "the case id `explore` is reserved: explore items are named "
                         "PATTERN::explore[...] (docs/explore.md)")
        if cid in first:
            line, column = report.doc.locate(first[cid])
            message = f"duplicate case id {cid!r} (first declared at line {line}, column {column})"
            report.error((*case_at, "id"), message)
        else:
            first[cid] = (*case_at, "id")
    return list(first)


def _check_static(pattern: dict, sig: _Sig, at: Path, report: Checked) -> None:
    for i, name in enumerate(sig.static):
        if name not in sig.args:
            report.error(
                (*at, "signature", "static", i),
                f"static argument `{name}` is not one of the args ({sig.listing()}){suggest(name, sig.args)}",
            )


def _check_vmap(pattern: dict, sig: _Sig, at: Path, report: Checked) -> None:
    vmap = pattern.get("vmap")
    axes = vmap.get("in_axes") if isinstance(vmap, dict) else None
    if not isinstance(axes, dict):
        return
    for name, axis in axes.items():
        where = (*at, "vmap", "in_axes", name)
        if name not in sig.args:
            report.error(where, f"`{name}` is not one of the args ({sig.listing()}){suggest(name, sig.args)}", key=True)
        elif name in sig.static and axis is not None:
            report.error(where, f"static argument `{name}` cannot be batched; its axis must be null")


def _check_params(pattern: dict, sig: _Sig, at: Path, report: Checked) -> None:
    claims = pattern.get("claims")
    for claim in ("memory", "program_size", "early_exit", "speedup", "residuals", "observe"):
        body = claims.get(claim) if isinstance(claims, dict) else None
        param = body.get("param") if isinstance(body, dict) else None
        if isinstance(param, str) and param not in sig.args:
            report.error(
                (*at, "claims", claim, "param"),
                f"`{param}` is not one of the args ({sig.listing()}){suggest(param, sig.args)}",
            )
        donate = body.get("donate") if claim == "observe" and isinstance(body, dict) else None
        if isinstance(donate, str) and donate not in sig.args:
            report.error((*at, "claims", claim, "donate"),
                         f"`{donate}` is not one of the args ({sig.listing()}){suggest(donate, sig.args)}")
        if claim == "early_exit" and isinstance(body, dict):
            stop = body.get("stop")
            if isinstance(stop, str) and stop not in sig.args:
                report.error((*at, "claims", claim, "stop"),
                             f"`{stop}` is not one of the args ({sig.listing()}){suggest(stop, sig.args)}")
            if ("stop" in body) != ("stops" in body):
                report.error((*at, "claims", claim), "`stop` and `stops` go together: the argument that moves "
                             "the stopping point and the values it takes")


def _check_references(pattern: dict, case_ids: list[str], at: Path, report: Checked) -> None:
    """``claims.base_case`` and ``deviations[].when.case`` must name a case of the pattern."""
    claims = pattern.get("claims")
    refs: list[tuple[Path, Any]] = []
    if isinstance(claims, dict) and "base_case" in claims:
        refs.append(((*at, "claims", "base_case"), claims["base_case"]))
    for dev_at, deviation in _items(pattern, "deviations", at):
        when = deviation.get("when")
        if isinstance(when, dict) and "case" in when:
            refs.append(((*dev_at, "when", "case"), when["case"]))
    for where, cid in refs:
        if isinstance(cid, str) and cid not in case_ids:
            message = f"no case {cid!r} in this pattern{suggest(cid, case_ids)}; cases: {', '.join(case_ids)}"
            report.error(where, message)


# -- case rules ------------------------------------------------------------------


def _check_case(case: dict, at: Path, pattern: dict, defaults: Any, sig: _Sig | None, report: Checked) -> None:
    transforms = effective_transforms(case, pattern, defaults)
    if sig is not None:
        _check_args(case, sig, at, report)
        _check_grad_block(case, sig, at, report)
    _check_expect_under(case, transforms, at, report)
    if "grad" in transforms and "grad" not in case:
        report.error((*at, "grad"), "the case runs the `grad` transform but has no `grad: {wrt: ARG, expect: VALUE}`")
    _check_x64(case, at, report)
    _check_devices(case, at, pattern, sig, report)


def _check_args(case: dict, sig: _Sig, at: Path, report: Checked) -> None:
    args = case.get("args")
    if not isinstance(args, dict):
        return
    for name in args:
        if name not in sig.args:
            report.error(
                (*at, "args", name),
                f"unknown argument `{name}`{suggest(name, sig.args)}; the signature's args are: {sig.listing()}",
                key=True,
            )
    for name in sig.args:
        if name not in args:
            report.error((*at, "args", name), f"missing argument `{name}`; the signature's args are: {sig.listing()}")
        elif name in sig.static:
            value = report.values.get((*at, "args", name))
            if value is not None and not _hashable(value):
                report.error(
                    (*at, "args", name),
                    f"static argument `{name}` must be hashable (a scalar, a string or a `$tuple` of them), "
                    f"got {type(value).__name__}",
                )


def _hashable(value: Value) -> bool:
    if isinstance(value, TupleValue):
        return all(_hashable(v) for v in value.items)
    return not isinstance(value, (ListValue, DictValue, ArrayValue, GeneratedArray, KeyValue))


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _check_devices(case: dict, at: Path, pattern: dict, sig: _Sig | None, report: Checked) -> None:
    """Inputs and shard expectations stay within the devices the case declares; device inputs are static."""
    declared = _int(case.get("devices"), _int(pattern.get("devices"), 1))
    where = "the case's `devices`" if "devices" in case else (
        "the pattern's `devices`" if "devices" in pattern else "the default of 1 (declare `devices: N`)")
    args = case.get("args")
    for name in args if isinstance(args, dict) else ():
        value = report.values.get((*at, "args", name))
        need = devices_needed(value)
        if need > declared:
            report.error((*at, "args", name),
                         f"argument `{name}` needs {need} devices, more than {where}: {declared}")
        if need and sig is not None and name in sig.args and name not in sig.static and isinstance(
                value, (DevicesValue, MeshValue)):
            report.error((*at, "args", name),
                         f"argument `{name}` is a device set or mesh"
                         f"; list it in `signature.static` (jit needs it static)",
                         )
    shards = case.get("shards")
    for path, spec in shards.items() if isinstance(shards, dict) else ():
        if not isinstance(spec, list):
            continue
        for i, shard in enumerate(spec):
            if not isinstance(shard, dict):
                continue
            device = shard.get("device")
            if isinstance(device, int) and device >= declared:
                report.error((*at, "shards", path, i, "device"),
                             f"device index {device} is outside the item's {declared} devices ({where})")
            for j, r in enumerate(shard.get("index") or ()):
                if isinstance(r, list) and len(r) != 2:
                    report.error((*at, "shards", path, i, "index", j), "a range is [START, STOP]")
                elif isinstance(r, list) and all(isinstance(x, int) for x in r) and r[0] > r[1]:
                    report.error((*at, "shards", path, i, "index", j), f"START {r[0]} is after STOP {r[1]}")


def _check_grad_block(case: dict, sig: _Sig, at: Path, report: Checked) -> None:
    grad = case.get("grad")
    wrt = grad.get("wrt") if isinstance(grad, dict) else None
    if not isinstance(wrt, str):
        return
    if wrt not in sig.args:
        report.error((*at, "grad", "wrt"), f"`{wrt}` is not one of the args ({sig.listing()}){suggest(wrt, sig.args)}")
    elif wrt in sig.static:
        report.error((*at, "grad", "wrt"), f"cannot differentiate with respect to static argument `{wrt}`")


def _check_expect_under(case: dict, transforms: tuple[str, ...], at: Path, report: Checked) -> None:
    under = case.get("expect_under")
    if not isinstance(under, dict):
        return
    for name in under:
        if name in TRANSFORMS and name not in transforms:  # unknown names are reported by the format
            report.error(
                (*at, "expect_under", name),
                f"expectation for transform `{name}`, which this case does not run (it runs: {', '.join(transforms)})",
                key=True,
            )


def _check_x64(case: dict, at: Path, report: Checked) -> None:
    """64-bit results exist only under ``jax_enable_x64`` (docs/catalog-format.md, Dtypes)."""
    config = case.get("config")
    if isinstance(config, dict) and config.get("jax_enable_x64") is True:
        return
    paths = [(*at, "expect"), (*at, "grad", "expect")]
    if isinstance(case.get("expect_under"), dict):
        paths += [(*at, "expect_under", t) for t in case["expect_under"]]
    for path in paths:
        dtype = _wide_dtype(report.values.get(path))
        if dtype:
            report.error(path, f"a {dtype} result needs `config: {{jax_enable_x64: true}}` on the case")
            return


def _wide_dtype(value: Value) -> str | None:
    if isinstance(value, (ArrayValue, GeneratedArray)):
        return value.dtype if value.dtype in _X64_DTYPES else None
    if isinstance(value, (TupleValue, ListValue)):
        return next(filter(None, map(_wide_dtype, value.items)), None)
    if isinstance(value, DictValue):
        return next(filter(None, (_wide_dtype(v) for _, v in value.items)), None)
    return None
