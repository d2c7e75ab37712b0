"""Build the immutable model from checked documents (only called when there is no problem)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ._claims_model import Claims, Condition, GradSpec, Source
from ._explore import build_explore
from ._kinds import Path
from ._model import DEFAULT_TOLERANCE, Case, Deviation, Location, Pattern, Provenance, Signature, Tolerance
from ._validate import Checked, effective_transforms

__all__ = ["build_patterns", "merge_tolerance"]

_Pair = tuple[float, float]


def build_patterns(checked: Checked, origin: str) -> list[Pattern]:
    """Return the patterns of a problem-free document, in file order; ``origin`` names where they came from."""
    data = checked.doc.data
    defaults = data.get("defaults") or {}
    merged: dict[tuple[int, ...], Tolerance] = {}
    return [
        _pattern(checked, pattern, ("patterns", i), defaults, origin, merged)
        for i, pattern in enumerate(data["patterns"])
    ]


def _merged(layers: list[tuple[str, Mapping[str, Any] | None]], memo: dict[tuple[int, ...], Tolerance]) -> Tolerance:
    """``merge_tolerance(layers)``, once per combination of layer tables within one build: the tables are the
    checked document's (alive, unchanged, while it is built), so their ids name them; most cases add no table of
    their own and get their pattern's merge (a Tolerance is immutable: sharing one changes nothing)."""
    key = tuple(id(layer) for _, layer in layers)
    found = memo.get(key)
    if found is None:
        found = memo[key] = merge_tolerance(layers)
    return found


def _pattern(checked: Checked, raw: dict, at: Path, defaults: dict, origin: str,
             merged: dict[tuple[int, ...], Tolerance]) -> Pattern:
    signature = raw["signature"]
    sig = Signature(tuple(signature["args"]), tuple(signature.get("static", ())))
    layers = [("catalog defaults", defaults.get("tolerance")), ("pattern", raw.get("tolerance"))]
    return Pattern(
        id=raw["id"],
        family=raw["family"],
        title=raw["title"].strip(),
        summary=raw["summary"].strip(),
        tags=tuple(raw.get("tags", ())),
        source=Source.from_dict(raw["source"]),
        signature=sig,
        cases=tuple(
            _case(checked, case, (*at, "cases", j), raw, defaults, sig, layers, merged)
            for j, case in enumerate(raw["cases"])
        ),
        claims=Claims.from_dict(raw.get("claims")),
        deviations=tuple(
            Deviation(Condition.from_dict(d["when"]), d["reason"]) for d in raw.get("deviations", ())
        ),
        vmap_axes=_vmap_axes(raw, sig),
        explore=build_explore(raw.get("explore"), checked.values, (*at, "explore"), layers, merge_tolerance),
        origin=origin,
        location=_location(checked, at),
    )


def _vmap_axes(raw: dict, sig: Signature) -> Mapping[str, int | None]:
    """Every argument's axis: declared ones as given, else 0 (None for static arguments)."""
    declared = (raw.get("vmap") or {}).get("in_axes") or {}
    return MappingProxyType({
        name: declared.get(name, None if name in sig.static else 0) for name in sig.args
    })


def _case(
    checked: Checked, raw: dict, at: Path, pattern: dict, defaults: dict, sig: Signature, layers: list,
    merged: dict[tuple[int, ...], Tolerance],
) -> Case:
    values = checked.values
    grad = raw.get("grad")
    return Case(
        id=raw["id"],
        args=MappingProxyType({name: _at(values, at, "args", name) for name in sig.args}),
        expect=_at(values, at, "expect"),
        provenance=Provenance(**raw["provenance"]),
        transforms=effective_transforms(raw, pattern, defaults),
        expect_under=MappingProxyType({t: _at(values, at, "expect_under", t) for t in raw.get("expect_under", {})}),
        grad=GradSpec(grad["wrt"], _at(values, at, "grad", "expect")) if grad else None,
        config=MappingProxyType(dict(raw.get("config", {}))),
        tolerance=_merged([*layers, ("case", raw.get("tolerance"))], merged),
        note=raw.get("note"),
        location=_location(checked, at),
        processes=raw.get("processes"),
        devices=int(raw.get("devices", pattern.get("devices", 1))),
        shards=MappingProxyType({path: _shards(spec) for path, spec in (raw.get("shards") or {}).items()}),
        nondeterministic=tuple(raw.get("nondeterministic", ())),
    )


def _shards(spec: Any) -> Any:
    """``replicated``/``host`` as is; a shard list as ((device, ((start, stop), ...) or None), ...)."""
    if isinstance(spec, str):
        return spec
    return tuple(
        (int(s["device"]), tuple((int(r[0]), int(r[1])) for r in s["index"]) if "index" in s else None)
        for s in spec
    )


def _location(checked: Checked, at: Path) -> Location:
    return Location(checked.doc.file, *checked.doc.locate(at))


def merge_tolerance(layers: list[tuple[str, Mapping[str, Any] | None]]) -> Tolerance:
    """Merge tolerance tables over the built-ins, lowest precedence first.

    Within a layer a dtype entry may set ``rtol``, ``atol`` or both; the other
    comes from the layers below. A layer's plain entry also updates platform
    overrides declared by *lower* layers (a case's float32 beats the file's
    gpu float32), and its ``platforms`` entries then override on their platform.
    """
    table: dict[str, _Pair] = dict(DEFAULT_TOLERANCE)
    sources = dict.fromkeys(table, "built-in default")
    platforms: dict[str, dict[str, _Pair]] = {}
    for name, layer in layers:
        for dtype, entry in (layer or {}).items():
            if dtype == "platforms":
                continue
            table[dtype] = _apply(table.get(dtype, (0.0, 0.0)), entry)
            sources[dtype] = name
            for platform, overrides in platforms.items():
                if dtype in overrides:
                    overrides[dtype] = _apply(overrides[dtype], entry)
                    sources[f"{platform}:{dtype}"] = name
        for platform, overrides in ((layer or {}).get("platforms") or {}).items():
            target = platforms.setdefault(platform, {})
            for dtype, entry in overrides.items():
                target[dtype] = _apply(target.get(dtype, table.get(dtype, (0.0, 0.0))), entry)
                sources[f"{platform}:{dtype}"] = name
    return Tolerance(
        table=MappingProxyType(table),
        platforms=MappingProxyType({p: MappingProxyType(o) for p, o in platforms.items()}),
        sources=MappingProxyType(sources),
    )


def _apply(base: _Pair, entry: Mapping[str, float]) -> _Pair:
    return (float(entry.get("rtol", base[0])), float(entry.get("atol", base[1])))


def _at(values: Mapping[Path, Any], at: Path, *more: str | int) -> Any:
    """``values[(*at, *more)]`` (spelled so that mypy's Python 3.10 mode reads it)."""
    path: Path = (*at, *more)
    return values[path]
