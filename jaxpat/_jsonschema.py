"""A small JSON Schema checker for the schemas jaxpat ships.

It understands the subset of draft 2020-12 that ``report/report-schema.json``
uses -- ``type`` (one or a list), ``const``, ``enum``, ``required``,
``properties``, ``additionalProperties``, ``items``, ``minimum``,
``minItems``, ``oneOf``/``anyOf``, and ``$ref`` to ``#/$defs/NAME`` -- and
rejects a schema that uses anything else, so the shipped schema and this
checker cannot drift apart silently. The tests compare its verdicts with the
``jsonschema`` package's on valid and crafted documents.

Why not depend on ``jsonschema``: it would be the only reason for three more
packages (one of them compiled) in every install, for a report reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["SchemaError", "problems"]

_KNOWN = frozenset({
    "$schema", "$id", "$ref", "$defs", "$comment", "title", "description", "type", "const", "enum", "required",
    "properties", "additionalProperties", "items", "minimum", "minItems", "oneOf", "anyOf", "default", "examples",
})
_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}


class SchemaError(Exception):
    """The schema itself uses a keyword this checker does not implement."""


def problems(document: Any, schema: Mapping[str, Any], *, limit: int = 20, root: Mapping[str, Any] | None = None,
             at: str = "$") -> list[str]:
    """Where ``document`` departs from ``schema``: ``"$.results[3].outcome: ..."`` lines, at most ``limit``.

    An empty list means the document is valid. ``schema`` may be a part of
    ``root`` (whose ``$defs`` its ``$ref`` name) and ``document`` the member at JSON path ``at``.
    """
    out: list[str] = []
    _check(document, schema, schema if root is None else root, at, out, limit)
    return out[:limit]


def _is(value: Any, typ: str) -> bool:
    if typ in ("integer", "number") and isinstance(value, bool):
        return False
    if typ == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES[typ])


#: Per schema (by id), checked once: the schema itself (kept alive, so its id is not reused), the Python
#: types its ``type`` accepts (exactly: ``bool`` is not an integer), and whether a whole float is an integer.
#: A report of a million results meets each schema a million times.
_INFO: dict[int, tuple[Mapping[str, Any], frozenset[type] | None, bool]] = {}
_EXACT: dict[str, tuple[type, ...]] = {"object": (dict,), "array": (list,), "string": (str,), "integer": (int,),
                                       "number": (int, float), "boolean": (bool,), "null": (type(None),)}


def _info(schema: Mapping[str, Any], at: str) -> tuple[Mapping[str, Any], frozenset[type] | None, bool]:
    info = _INFO.get(id(schema))
    if info is not None and info[0] is schema:
        return info
    unknown = set(schema) - _KNOWN
    if unknown:
        raise SchemaError(f"schema at {at} uses keywords this checker does not implement: {sorted(unknown)}")
    accept: frozenset[type] | None = None
    whole_floats = False
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        accept = frozenset(t for name in types for t in _EXACT[name])
        whole_floats = "integer" in types and "number" not in types
    info = _INFO[id(schema)] = (schema, accept, whole_floats)
    return info


def _check(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any], at: str, out: list[str], limit: int) -> None:
    if len(out) >= limit:
        return
    _, accept, whole_floats = _info(schema, at)
    if "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/$defs/"):
            raise SchemaError(f"unsupported $ref {ref!r}")
        _check(value, root["$defs"][ref[len("#/$defs/"):]], root, at, out, limit)
    if accept is not None:
        t = type(value)
        exact = t in accept or (whole_floats and t is float and value.is_integer())
        # a subclass (rare) gets the general rule
        if not exact and not any(_is(value, x) for x in _types(schema)):
            out.append(f"{at}: must be {' or '.join(_types(schema))}, not {_name(value)}")
            return
    if "const" in schema and value != schema["const"]:
        out.append(f"{at}: must be {schema['const']!r}, not {value!r}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{at}: {value!r} is not one of {schema['enum']}")
    if "minimum" in schema and _is(value, "number") and value < schema["minimum"]:
        out.append(f"{at}: {value!r} is below the minimum {schema['minimum']}")
    for key in ("oneOf", "anyOf"):
        if key in schema:
            matches = sum(not _problems_under(value, sub, root, at) for sub in schema[key])
            if matches == 0 or (key == "oneOf" and matches > 1):
                out.append(f"{at}: matches {matches} of the allowed forms ({key})")
    if isinstance(value, dict):
        _check_object(value, schema, root, at, out, limit)
    elif isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            out.append(f"{at}: needs at least {schema['minItems']} items")
        if "items" in schema:
            for i, item in enumerate(value):
                _check(item, schema["items"], root, f"{at}[{i}]", out, limit)
                if len(out) >= limit:
                    return


def _check_object(
    value: dict[str, Any], schema: Mapping[str, Any], root: Mapping[str, Any], at: str, out: list[str], limit: int
) -> None:
    for key in schema.get("required", ()):
        if key not in value:
            out.append(f"{at}: the member {key!r} is missing")
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in props:
            _check(item, props[key], root, f"{at}.{key}", out, limit)
        elif extra is False:
            out.append(f"{at}: unexpected member {key!r}")
        elif isinstance(extra, Mapping):
            _check(item, extra, root, f"{at}.{key}", out, limit)
        if len(out) >= limit:
            return


def _types(schema: Mapping[str, Any]) -> list[str]:
    return schema["type"] if isinstance(schema["type"], list) else [schema["type"]]


def _problems_under(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any], at: str) -> list[str]:
    found: list[str] = []
    _check(value, schema, root, at, found, 1)
    return found


def _name(value: Any) -> str:
    for name in _TYPES:
        if name != "number" and _is(value, name):
            return name
    return type(value).__name__
