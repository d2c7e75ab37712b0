"""A small vocabulary of data kinds that both validate YAML data and describe it as JSON Schema.

:mod:`jaxpat.catalog._format` declares the catalog format with these kinds; the
validator calls :meth:`Kind.check` and :mod:`jaxpat.catalog._schema` calls
:meth:`Kind.schema`, so the two cannot drift apart.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from jaxpat._util import did_you_mean

from ._names import exception_name_problem
from ._values import ValueError_, decode

__all__ = [
    "Bool", "Const", "Enum", "Field", "Kind", "List", "MapOf", "Null", "Number", "OneOf", "Ref", "Report",
    "Str", "Struct", "Tagged", "Value", "describe", "suggest",
]

Path = tuple[str | int, ...]
Schema = dict[str, Any]


class Report(Protocol):
    """Where kinds send what they find."""

    def error(self, path: Path, message: str, *, key: bool = False) -> None:
        """Record a problem at ``path`` (at its key's position when ``key``)."""

    def remember(self, path: Path, value: Any) -> None:
        """Keep a decoded catalog value for the model builder."""


def suggest(word: Any, options: Iterable[Any]) -> str:
    """Return `` (did you mean `x`?)`` for the closest option, or an empty string."""
    return did_you_mean(str(word), options, code=True)


def describe(value: Any) -> str:
    """Name a YAML value's type for an error message, with its text when short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    return "a list" if isinstance(value, list) else "a mapping"


def _expected(what: str, value: Any) -> str:
    hint = " (quote it to make a string)" if what == "a string" and isinstance(value, (int, float, bool)) else ""
    return f"expected {what}, got {describe(value)}{hint}"


class Kind:
    """One kind of data: :meth:`check` reports problems, :meth:`schema` describes it."""

    expected = "a value"

    def check(self, value: Any, at: Path, report: Report) -> None:
        raise NotImplementedError

    def schema(self, defs: dict[str, Schema]) -> Schema:
        raise NotImplementedError

    def accepts(self, value: Any) -> bool:
        """True when ``value`` has this kind's basic type (used by :class:`OneOf`)."""
        return True


@dataclass(frozen=True)
class Str(Kind):
    """A non-blank string, optionally matching ``pattern`` (described by ``hint``) or on one line."""

    pattern: str | None = None
    hint: str = ""
    one_line: bool = False
    expected = "a string"

    def check(self, value: Any, at: Path, report: Report) -> None:
        if not isinstance(value, str):
            report.error(at, _expected("a string", value))
        elif not value.strip():
            report.error(at, "must not be empty")
        elif self.pattern and not self._regex.fullmatch(value):
            report.error(at, f"{value[:60]!r} is not {self.hint}")
        elif self.one_line and "\n" in value.strip():
            report.error(at, "must fit on one line")

    @functools.cached_property
    def _regex(self) -> re.Pattern[str]:
        """``pattern`` compiled, once per kind (not a field: equality, hash and repr ignore it)."""
        return re.compile(self.pattern or "")

    def schema(self, defs: dict[str, Schema]) -> Schema:
        patterns = [r"\S"]
        if self.pattern:
            patterns.append(f"^(?:{self.pattern})$")
        if self.one_line:
            patterns.append(r"^[^\n]*\n?$")
        out: Schema = {"type": "string"}
        if len(patterns) == 1:
            out["pattern"] = patterns[0]
        else:
            out["allOf"] = [{"pattern": p} for p in patterns]
        return out

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str)


@dataclass(frozen=True)
class VersionText(Str):
    """A PEP 440 version (``spec=False``) or version spec (``spec=True``, what ``deviations[].when.jax`` holds).

    ``pattern`` is the rough shape (it is all the JSON schema can say);
    ``packaging`` then decides, exactly as :func:`~catalog._model.version_matches`
    will read the value, so a spec that validates never fails at match time.
    """

    spec: bool = False

    def check(self, value: Any, at: Path, report: Report) -> None:
        if not (isinstance(value, str) and value.strip() and self.pattern and self._regex.fullmatch(value)):
            super().check(value, at, report)
            return
        from ._model import version_problem

        problem = version_problem(value, spec=self.spec)
        if problem:
            report.error(at, f"{problem} ({self.hint})" if self.hint else problem)


@dataclass(frozen=True)
class ExceptionName(Str):
    """A string naming an exception class the conformance suite can resolve (``TypeError``, ``jax.errors.X``)."""

    def check(self, value: Any, at: Path, report: Report) -> None:
        if not (isinstance(value, str) and self.pattern and self._regex.fullmatch(value)):
            super().check(value, at, report)
            return
        problem = exception_name_problem(value)
        if problem:
            report.error(at, problem)


@dataclass(frozen=True)
class Enum(Kind):
    """One of a fixed set of strings; a near miss gets a did-you-mean."""

    options: tuple[str, ...]
    noun: str = "value"

    @property
    def expected(self) -> str:  # type: ignore[override]  # a property where Kind has a class attribute
        return f"a {self.noun}"

    def check(self, value: Any, at: Path, report: Report) -> None:
        if not isinstance(value, str):
            report.error(at, _expected(f"a {self.noun} ({', '.join(self.options)})", value))
        elif value not in self.options:
            report.error(
                at, f"unknown {self.noun} {value!r}{suggest(value, self.options)}; known: {', '.join(self.options)}"
            )

    def schema(self, defs: dict[str, Schema]) -> Schema:
        return {"enum": list(self.options)}

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str)


@dataclass(frozen=True)
class Const(Kind):
    """Exactly ``value``; ``message`` explains any other value."""

    value: Any
    message: str

    def check(self, value: Any, at: Path, report: Report) -> None:
        if type(value) is not type(self.value) or value != self.value:
            report.error(at, self.message.format(got=describe(value)))

    def schema(self, defs: dict[str, Schema]) -> Schema:
        return {"const": self.value}


@dataclass(frozen=True)
class Number(Kind):
    """A finite number (``integer`` for ints only), at least ``minimum`` (strictly, if ``exclusive``)."""

    minimum: float | None = None
    exclusive: bool = False
    integer: bool = False

    @property
    def expected(self) -> str:  # type: ignore[override]  # a property where Kind has a class attribute
        return "an integer" if self.integer else "a number"

    def check(self, value: Any, at: Path, report: Report) -> None:
        if not self.accepts(value):
            report.error(at, _expected(self.expected, value))
        elif isinstance(value, float) and not math.isfinite(value):
            report.error(at, f"must be finite, got {value!r}")
        elif self.minimum is not None and (value <= self.minimum if self.exclusive else value < self.minimum):
            report.error(at, f"must be {'>' if self.exclusive else '>='} {self.minimum:g}, got {value!r}")

    def schema(self, defs: dict[str, Schema]) -> Schema:
        out: Schema = {"type": "integer" if self.integer else "number"}
        if self.minimum is not None:
            out["exclusiveMinimum" if self.exclusive else "minimum"] = self.minimum
        return out

    def accepts(self, value: Any) -> bool:
        kinds = (int,) if self.integer else (int, float)
        return isinstance(value, kinds) and not isinstance(value, bool)


class Bool(Kind):
    """``true`` or ``false``."""

    expected = "true or false"

    def check(self, value: Any, at: Path, report: Report) -> None:
        if not isinstance(value, bool):
            report.error(at, _expected("true or false", value))

    def schema(self, defs: dict[str, Schema]) -> Schema:
        return {"type": "boolean"}

    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool)


class Null(Kind):
    """``null``."""

    expected = "null"

    def check(self, value: Any, at: Path, report: Report) -> None:
        if value is not None:
            report.error(at, _expected("null", value))

    def schema(self, defs: dict[str, Schema]) -> Schema:
        return {"type": "null"}

    def accepts(self, value: Any) -> bool:
        return value is None


@dataclass(frozen=True)
class List(Kind):
    """A list of ``item``; ``unique`` items reports repeats at the repeat."""

    item: Kind
    min_items: int = 0
    unique: bool = False
    empty_message: str = "must not be empty"
    expected = "a list"

    def check(self, value: Any, at: Path, report: Report) -> None:
        if not isinstance(value, list):
            report.error(at, _expected("a list", value))
            return
        if len(value) < self.min_items:
            report.error(at, self.empty_message)
        check = self.item.check
        if not self.unique:
            for i, item in enumerate(value):
                check(item, (*at, i), report)
            return
        seen: list[Any] = []
        for i, item in enumerate(value):
            check(item, (*at, i), report)
            if isinstance(item, (str, int, float)):
                if item in seen:
                    report.error((*at, i), f"{item!r} is listed twice")
                seen.append(item)

    def schema(self, defs: dict[str, Schema]) -> Schema:
        out: Schema = {"type": "array", "items": self.item.schema(defs)}
        if self.min_items:
            out["minItems"] = self.min_items
        if self.unique:
            out["uniqueItems"] = True
        return out

    def accepts(self, value: Any) -> bool:
        return isinstance(value, list)


@dataclass(frozen=True)
class Field:
    """A named field of a :class:`Struct`; ``doc`` becomes the schema's description."""

    name: str
    kind: Kind
    required: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Struct(Kind):
    """A mapping with known fields; unknown keys get a did-you-mean.

    ``noun`` names its keys in messages ("field", "claim", "JAX config
    option"); ``hint`` is appended to unknown-key messages; ``at_least_one``
    lists fields of which at least one must be present.
    """

    fields: tuple[Field, ...]
    noun: str = "field"
    hint: str = ""
    at_least_one: tuple[str, ...] = ()
    expected = "a mapping"

    def check(self, value: Any, at: Path, report: Report) -> None:
        if not isinstance(value, dict):
            report.error(at, _expected("a mapping", value))
            return
        known = self._known
        for key in value:
            if key not in known:
                hint = f"; {self.hint}" if self.hint else ""
                report.error((*at, key), f"unknown {self.noun} `{key}`{suggest(key, known)}{hint}", key=True)
        for f in self.fields:
            if f.name in value:
                f.kind.check(value[f.name], (*at, f.name), report)
            elif f.required:
                report.error((*at, f.name), f"missing required field `{f.name}`")
        if self.at_least_one and not any(name in value for name in self.at_least_one):
            report.error(at, f"needs at least one of {', '.join(f'`{n}`' for n in self.at_least_one)}")

    @functools.cached_property
    def _known(self) -> dict[str, Field]:
        """The fields by name, once per kind (not a field: equality, hash and repr ignore it)."""
        return {f.name: f for f in self.fields}

    def schema(self, defs: dict[str, Schema]) -> Schema:
        out: Schema = {
            "type": "object",
            "properties": {f.name: _described(f.kind.schema(defs), f.doc) for f in self.fields},
            "additionalProperties": False,
        }
        required = [f.name for f in self.fields if f.required]
        if required:
            out["required"] = required
        if self.at_least_one:
            out["anyOf"] = [{"required": [name]} for name in self.at_least_one]
        return out

    def accepts(self, value: Any) -> bool:
        return isinstance(value, dict)


@dataclass(frozen=True)
class MapOf(Kind):
    """A mapping from ``keys`` (any non-blank string when None) to ``values``."""

    values: Kind
    keys: Kind | None = None
    expected = "a mapping"

    def check(self, value: Any, at: Path, report: Report) -> None:
        if not isinstance(value, dict):
            report.error(at, _expected("a mapping", value))
            return
        if self.keys is None:
            for key, item in value.items():
                self.values.check(item, (*at, key), report)
            return
        keys, key_report = self.keys, _KeyReport(report)  # one report for the mapping's keys, not one per key
        for key, item in value.items():
            keys.check(key, (*at, key), key_report)
            self.values.check(item, (*at, key), report)

    def schema(self, defs: dict[str, Schema]) -> Schema:
        out: Schema = {"type": "object", "additionalProperties": self.values.schema(defs)}
        if self.keys is not None:
            out["propertyNames"] = self.keys.schema(defs)
        return out

    def accepts(self, value: Any) -> bool:
        return isinstance(value, dict)


@dataclass(frozen=True)
class _KeyReport:
    """Reports a key's problems at the key's position."""

    report: Report

    def error(self, path: Path, message: str, *, key: bool = False) -> None:
        self.report.error(path, message, key=True)

    def remember(self, path: Path, value: Any) -> None:  # pragma: no cover - keys are never values
        self.report.remember(path, value)


@dataclass(frozen=True)
class OneOf(Kind):
    """The first alternative whose basic type fits checks the value."""

    alternatives: tuple[Kind, ...]

    @property
    def expected(self) -> str:  # type: ignore[override]  # a property where Kind has a class attribute
        return " or ".join(a.expected for a in self.alternatives)

    def check(self, value: Any, at: Path, report: Report) -> None:
        for alternative in self.alternatives:
            if alternative.accepts(value):
                alternative.check(value, at, report)
                return
        report.error(at, _expected(self.expected, value))

    def schema(self, defs: dict[str, Schema]) -> Schema:
        return {"anyOf": [a.schema(defs) for a in self.alternatives]}

    def accepts(self, value: Any) -> bool:
        return any(a.accepts(value) for a in self.alternatives)


@dataclass(frozen=True)
class Tagged(Kind):
    """A mapping whose ``tag`` field picks which :class:`Struct` describes the rest."""

    tag: str
    variants: Mapping[str, Struct]
    noun: str = "kind"
    expected = "a mapping"

    def check(self, value: Any, at: Path, report: Report) -> None:
        if not isinstance(value, dict):
            report.error(at, _expected("a mapping", value))
        elif self.tag not in value:
            report.error((*at, self.tag), f"missing required field `{self.tag}` ({' | '.join(self.variants)})")
        else:
            chosen = value[self.tag]
            variant = self.variants.get(chosen) if isinstance(chosen, str) else None
            if variant is None:
                Enum(tuple(self.variants), self.noun).check(chosen, (*at, self.tag), report)
            else:
                variant.check(value, at, report)

    def schema(self, defs: dict[str, Schema]) -> Schema:
        return {
            "type": "object",
            "required": [self.tag],
            "properties": {self.tag: {"enum": list(self.variants)}},
            "allOf": [
                {"if": {"properties": {self.tag: {"const": name}}}, "then": variant.schema(defs)}
                for name, variant in self.variants.items()
            ],
        }

    def accepts(self, value: Any) -> bool:
        return isinstance(value, dict)


@dataclass(frozen=True)
class Ref(Kind):
    """A named kind: checked like ``kind``, and a ``definitions`` entry in the schema."""

    name: str
    kind: Kind = field(compare=False)

    @property
    def expected(self) -> str:  # type: ignore[override]  # a property where Kind has a class attribute
        return self.kind.expected

    def check(self, value: Any, at: Path, report: Report) -> None:
        self.kind.check(value, at, report)

    def schema(self, defs: dict[str, Schema]) -> Schema:
        if self.name not in defs:
            defs[self.name] = {}  # placeholder: stops recursion through self-references
            defs[self.name] = self.kind.schema(defs)
        return {"$ref": f"#/definitions/{self.name}"}

    def accepts(self, value: Any) -> bool:
        return self.kind.accepts(value)


@dataclass(frozen=True)
class Value(Kind):
    """A value of the value language, as a case argument (``input``) or an expected result."""

    role: str
    expected = "a value"

    def check(self, value: Any, at: Path, report: Report) -> None:
        try:
            decoded = decode(value, role=self.role)
        except ValueError_ as e:
            report.error((*at, *e.path), e.message, key=getattr(e, "key", False))
        else:
            report.remember(at, decoded)

    def schema(self, defs: dict[str, Schema]) -> Schema:
        from ._value_schema import value_schema

        return value_schema(self.role, defs)


def _described(schema: Schema, doc: str) -> Schema:
    if not doc:
        return schema
    if "$ref" in schema:  # draft-07 ignores keywords beside $ref
        return {"description": doc, "allOf": [schema]}
    return {"description": doc, **schema}
