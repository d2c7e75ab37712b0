"""Bounded JSON in, strict JSON out: what a report reader accepts before any model code sees the data.

:func:`loads_bounded` parses a document and refuses -- with the JSON path of
the member at fault -- what would otherwise crash or mislead a reader later:
nesting deeper than :data:`MAX_DEPTH`, integers longer than
:data:`MAX_INT_DIGITS` digits (Python refuses over 4300 anyway, with a bare
``ValueError``), numbers out of a float's range (``1e999``), a key that
appears twice in one object (JSON parsers disagree on which one wins), and
lone UTF-16 surrogates (``"\\ud800"``: no file or terminal can write them).
``NaN``, ``Infinity`` and ``-Infinity`` -- not JSON, but what Python's
encoder writes by default -- are read as the strings ``"nan"``, ``"inf"``,
``"-inf"``, the report's own spelling of those values.

:func:`dumps_strict` writes strict JSON: non-finite floats become those
strings, never ``NaN`` (which a browser's ``JSON.parse`` rejects).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["MAX_DEPTH", "MAX_INT_DIGITS", "BoundsError", "dumps_strict", "finite", "json_path", "loads_bounded"]

#: Containers nested deeper than this are refused (a report needs about 8 levels).
MAX_DEPTH = 32
#: Integers with more digits than this are refused (2**64 has 20; float() stays finite up to 308).
MAX_INT_DIGITS = 64
#: Non-finite floats as the report writes them.
NON_FINITE = {"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}

_SURROGATE = re.compile("[\ud800-\udfff]")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class BoundsError(ValueError):
    """A document that breaks a bound; ``path`` is the JSON path of the member at fault (``$.results[3]``)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class _Refused:
    """Stands in for a number the parser refused, until the walk finds it and names its path."""

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why


class _Duplicated(dict):
    """An object in which ``key`` appeared more than once."""

    key: str = ""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) == len(pairs):
        return out
    seen: set[str] = set()
    dup = _Duplicated(out)
    for k, _ in pairs:
        if k in seen:
            dup.key = k
            break
        seen.add(k)
    return dup


def _int(text: str) -> Any:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        return _Refused(f"an integer of {digits} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _float(text: str) -> Any:
    value = float(text)
    if not math.isfinite(value):
        return _Refused(f"the number {text[:24]}{'…' if len(text) > 24 else ''} is out of a float's range")
    return value


def json_path(at: Any) -> str:
    """``$.results[3].observed`` from the walk's linked path ``(parent, key)`` (None is the root)."""
    parts: list[str] = []
    while at is not None:
        at, key = at
        if isinstance(key, int):
            parts.append(f"[{key}]")
        elif _IDENT.match(key):
            parts.append(f".{key}")
        else:
            parts.append(f"[{json.dumps(key)}]")
    return "$" + "".join(reversed(parts))


def loads_bounded(text: str) -> Any:
    """Parse ``text``; ``json.JSONDecodeError`` for bad JSON, :class:`BoundsError` for a broken bound.

    Numbers are parsed by json's C code (a hook per number would triple the
    time of a large report); the walk then refuses the out-of-range ones. An
    integer past Python's own limit (4300 digits) makes json raise
    ``ValueError``: the text is parsed again with hooks that find its path.
    """
    try:
        data = json.loads(text, object_pairs_hook=_pairs, parse_constant=NON_FINITE.__getitem__)
    except RecursionError:
        raise BoundsError(_deep_path(text), f"nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError:
        raise
    except ValueError:  # an integer of more than 4300 digits
        data = json.loads(text, object_pairs_hook=_pairs, parse_int=_int, parse_float=_float,
                          parse_constant=NON_FINITE.__getitem__)
    _walk(data)
    return data


_INT_LIMIT = 10**MAX_INT_DIGITS


def _number_problem(value: Any) -> str | None:
    if type(value) is float:
        if value - value != 0:  # inf or nan (json gives inf for 1e999; NaN literals are read as strings)
            return "a number out of a float's range"
    elif not -_INT_LIMIT < value < _INT_LIMIT:
        return f"an integer of {len(str(abs(value)))} digits (at most {MAX_INT_DIGITS})"
    return None


def _walk(data: Any, depth: int = 0, at: Any = None) -> None:
    """Find the first broken bound (depth, a refused number, a duplicated key, a lone surrogate); raise it.

    ``depth`` and ``at`` place ``data`` inside a larger document (a report's
    ``$.results[i]`` is at depth 2, ``at`` its linked path), for a reader that parses one member at a time.
    """
    stack: list[tuple[Any, int, Any]] = [(data, depth, at)] if isinstance(data, dict | list) else []
    while stack:
        value, depth, at = stack.pop()
        if depth > MAX_DEPTH:
            raise BoundsError(json_path(at), f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            if type(value) is _Duplicated:
                raise BoundsError(json_path(at), f"the member {value.key!r} appears more than once")
            items: Any = value.items()
        else:
            items = enumerate(value)
        for key, item in items:
            t = type(item)
            if t is str:
                if not item.isascii() and _SURROGATE.search(item):
                    raise BoundsError(json_path((at, key)), "a string with a lone UTF-16 surrogate")
            elif t is dict or t is list or t is _Duplicated:
                stack.append((item, depth + 1, (at, key)))
            elif t is float or t is int:
                why = _number_problem(item)
                if why:
                    raise BoundsError(json_path((at, key)), why)
            elif t is _Refused:
                raise BoundsError(json_path((at, key)), item.why)
            if t is not int and isinstance(key, str) and not key.isascii() and _SURROGATE.search(key):
                raise BoundsError(json_path((at, key)), "a key with a lone UTF-16 surrogate")
    if type(data) is _Refused:
        raise BoundsError("$", data.why)
    if type(data) in (int, float) and _number_problem(data):
        raise BoundsError("$", str(_number_problem(data)))
    if type(data) is str and _SURROGATE.search(data):
        raise BoundsError("$", "a string with a lone UTF-16 surrogate")


def _deep_path(text: str) -> str:
    """The JSON path at which ``text`` first nests deeper than :data:`MAX_DEPTH` (for a document json refused)."""
    at: Any = None
    stack: list[Any] = []  # per open container: the index of the next array item, or the pending key
    i, n = 0, len(text)
    key: str | None = None
    while i < n:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if stack and isinstance(stack[-1], dict) and key is None and text[j + 1:j + 40].lstrip().startswith(":"):
                try:
                    key = json.loads(text[i:j + 1])
                except ValueError:
                    key = text[i + 1:j]
            i = j + 1
            continue
        if ch in "[{":
            if stack:
                top = stack[-1]
                at = (at, key if isinstance(top, dict) else top[0])
            if len(stack) >= MAX_DEPTH:
                return json_path(at)
            stack.append({} if ch == "{" else [0])
            key = None
        elif ch in "]}":
            if stack:
                stack.pop()
                if at is not None and stack:
                    at = at[0]
        elif ch == ",":
            if stack and isinstance(stack[-1], list):
                stack[-1][0] += 1
            key = None
        i += 1
    return json_path(at)


def finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by ``"nan"``, ``"inf"`` or ``"-inf"`` (containers copied)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def dumps_strict(value: Any, **kwargs: Any) -> str:
    """``json.dumps`` that never writes ``NaN``/``Infinity``: such floats are written as strings (:func:`finite`)."""
    kwargs.setdefault("default", str)
    try:
        return json.dumps(value, allow_nan=False, **kwargs)
    except ValueError:
        return json.dumps(finite(value), allow_nan=False, **kwargs)
