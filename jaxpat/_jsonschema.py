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


#: A JSON path, built only when a problem is found: ``"$"`` (or the caller's ``at``), or (parent, member name)
#: for an object's member, or (parent, index) for an array's item. A report of a million results is mostly
#: valid, and formatting each member's path was a third of the checker's time.
Path = str | tuple[Any, Any]


def _path(at: Path) -> str:
    parts: list[str] = []
    while isinstance(at, tuple):
        parent, key = at
        parts.append(f"[{key}]" if isinstance(key, int) else f".{key}")
        at = parent
    return at + "".join(reversed(parts))


class _Node:
    """A schema checked once (its keywords known) and read as attributes: a report of a million results meets
    each schema a million times. Kept per schema object in :data:`_NODES` (with the schema, so its id is not
    reused)."""

    __slots__ = ("accept", "alts", "const", "enum", "extra", "has_const", "items", "min_items", "minimum", "props",
                 "ref", "required", "schema", "whole_floats")

    def __init__(self, schema: Mapping[str, Any], at: str) -> None:
        unknown = set(schema) - _KNOWN
        if unknown:
            raise SchemaError(f"schema at {at} uses keywords this checker does not implement: {sorted(unknown)}")
        self.schema = schema
        ref = schema.get("$ref")
        if ref is not None and not ref.startswith("#/$defs/"):
            raise SchemaError(f"unsupported $ref {ref!r}")
        self.ref: str | None = None if ref is None else ref[len("#/$defs/"):]
        self.accept: frozenset[type] | None = None
        self.whole_floats = False
        if "type" in schema:
            types = _types(schema)
            self.accept = frozenset(t for name in types for t in _EXACT[name])
            self.whole_floats = "integer" in types and "number" not in types
        self.has_const = "const" in schema
        self.const = schema.get("const")
        self.enum = schema.get("enum")
        self.minimum = schema.get("minimum")
        self.alts = [(key, schema[key]) for key in ("oneOf", "anyOf") if key in schema]
        self.required = tuple(schema.get("required", ()))
        self.props: Mapping[str, Any] = schema.get("properties", {})
        self.extra = schema.get("additionalProperties", True)
        self.min_items = schema.get("minItems")
        self.items = schema.get("items")


_NODES: dict[int, _Node] = {}
_EXACT: dict[str, tuple[type, ...]] = {"object": (dict,), "array": (list,), "string": (str,), "integer": (int,),
                                       "number": (int, float), "boolean": (bool,), "null": (type(None),)}


def _node(schema: Mapping[str, Any], at: Path) -> _Node:
    node = _NODES.get(id(schema))
    if node is not None and node.schema is schema:
        return node
    node = _NODES[id(schema)] = _Node(schema, _path(at))
    return node


def _check(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any], at: Path, out: list[str],
           limit: int) -> None:
    if len(out) >= limit:
        return
    node = _node(schema, at)
    if node.ref is not None:
        _check(value, root["$defs"][node.ref], root, at, out, limit)
    accept = node.accept
    if accept is not None:
        t = type(value)
        exact = t in accept or (node.whole_floats and t is float and value.is_integer())
        # a subclass (rare) gets the general rule
        if not exact and not any(_is(value, x) for x in _types(schema)):
            out.append(f"{_path(at)}: must be {' or '.join(_types(schema))}, not {_name(value)}")
            return
    if node.has_const and value != node.const:
        out.append(f"{_path(at)}: must be {node.const!r}, not {value!r}")
    if node.enum is not None and value not in node.enum:
        out.append(f"{_path(at)}: {value!r} is not one of {node.enum}")
    if node.minimum is not None and _is(value, "number") and value < node.minimum:
        out.append(f"{_path(at)}: {value!r} is below the minimum {node.minimum}")
    for key, subs in node.alts:
        matches = sum(not _problems_under(value, sub, root, at) for sub in subs)
        if matches == 0 or (key == "oneOf" and matches > 1):
            out.append(f"{_path(at)}: matches {matches} of the allowed forms ({key})")
    if isinstance(value, dict):
        _check_object(value, node, root, at, out, limit)
    elif isinstance(value, list):
        if node.min_items is not None and len(value) < node.min_items:
            out.append(f"{_path(at)}: needs at least {node.min_items} items")
        items = node.items
        if items is not None:
            for i, item in enumerate(value):
                _check(item, items, root, (at, i), out, limit)
                if len(out) >= limit:
                    return


def _check_object(value: dict[str, Any], node: _Node, root: Mapping[str, Any], at: Path, out: list[str],
                  limit: int) -> None:
    for key in node.required:
        if key not in value:
            out.append(f"{_path(at)}: the member {key!r} is missing")
    props = node.props
    extra = node.extra
    for key, item in value.items():
        sub = props.get(key)
        if sub is not None:
            _check(item, sub, root, (at, key), out, limit)
        elif extra is False:
            out.append(f"{_path(at)}: unexpected member {key!r}")
        elif isinstance(extra, Mapping):
            _check(item, extra, root, (at, key), out, limit)
        if len(out) >= limit:
            return


def _types(schema: Mapping[str, Any]) -> list[str]:
    return schema["type"] if isinstance(schema["type"], list) else [schema["type"]]


def _problems_under(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any], at: Path) -> list[str]:
    found: list[str] = []
    _check(value, schema, root, at, found, 1)
    return found


def _name(value: Any) -> str:
    for name in _TYPES:
        if name != "number" and _is(value, name):
            return name
    return type(value).__name__
