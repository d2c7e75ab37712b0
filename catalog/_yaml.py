"""Safe, bounded YAML: plain Python data plus where every node was declared.

We do not let PyYAML construct Python objects. We read its *event* stream
(``yaml.CSafeLoader`` when libyaml is available, else ``yaml.SafeLoader``)
and build dicts, lists and scalars ourselves, so that

* only the standard safe scalar tags exist (str, int, float, bool, null):
  ``!!python/...``, ``!!binary``, ``!!set``, custom ``!tags`` are errors;
* duplicate and non-string mapping keys are errors, not silently merged;
* a node budget (aliases count every time they are used), a depth limit, a
  file-size limit and a scalar-length limit are checked *while* parsing, so
  an alias bomb or a pasted megabyte literal fails in milliseconds;
* every node's start is recorded by its path (``("patterns", 0, "id")``), so
  validation errors found later point at a line and column.

Why events rather than ``loader.get_single_node()``: libyaml composes the
whole node tree before we could count anything, and that tree costs about
300 bytes and 3.5 µs per scalar (a 2 MB flow list of a million numbers took
300 MB and 3.7 s to compose); the event stream runs in constant memory.

Encoding: files are UTF-8. A UTF-8 byte-order mark is accepted and skipped
(editors on Windows write one; it carries no meaning). UTF-16/32 files and
invalid UTF-8 are errors that name the byte offset, line and column.

PyYAML is imported on the first :func:`parse` (:func:`loaders`), not with this
module: a catalog read from the parse cache never needs it.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._errors import CatalogError, Problem

if TYPE_CHECKING:  # pragma: no cover - imported on first use (loaders())
    import yaml

__all__ = ["DEFAULT_LIMITS", "Document", "Limits", "parse"]

Path = tuple[str | int, ...]
Mark = tuple[int, int]

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))
_MAP, _SEQ = _TAG + "map", _TAG + "seq"
#: Tags an implicit scalar may resolve to that we keep as the text written.
_KEEP_AS_TEXT = {_TAG + "timestamp", _TAG + "value"}

# YAML 1.2 (and every editor's schema) reads ``1e-6`` and ``1.0e6`` as floats;
# PyYAML's YAML 1.1 resolver needs both a dot and a signed exponent and would
# silently give the strings "1e-6" and "1.0e6". We add the 1.2 form.
_EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")

# The characters YAML allows in a stream (PyYAML's Reader uses the same set). Compiled on the first parse
# (_non_printable()): compiling it takes about 5 ms, and a catalog read from the parse cache never needs it.
_NON_PRINTABLE = "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
_NON_PRINTABLE_RE: list[re.Pattern[str]] = []


def _non_printable() -> re.Pattern[str]:
    """:data:`_NON_PRINTABLE` compiled, once per process."""
    if not _NON_PRINTABLE_RE:
        _NON_PRINTABLE_RE.append(re.compile(_NON_PRINTABLE))
    return _NON_PRINTABLE_RE[0]


_LOADERS: list[type[Any]] = []


def loaders() -> list[type[Any]]:
    """The reader classes, libyaml's first when it is available, the pure-Python one last; imports PyYAML
    (and binds this module's ``yaml``) on the first call."""
    if _LOADERS:
        return _LOADERS
    global yaml
    import yaml

    class _PySafeLoader(yaml.SafeLoader):
        """Pure-Python fallback reader; only its parser and resolver are used."""

    found: list[type[Any]] = [_PySafeLoader]
    if getattr(yaml, "__with_libyaml__", False):  # pragma: no branch - libyaml is the normal case

        class _CSafeLoader(yaml.CSafeLoader):
            """libyaml reader; only its parser and resolver are used."""

        found.insert(0, _CSafeLoader)
    for cls in found:
        cls.add_implicit_resolver(_FLOAT, _EXPONENT_FLOAT, list("-+.0123456789"))
    _LOADERS[:] = found
    return _LOADERS


@dataclass(frozen=True)
class Limits:
    """Bounds on one catalog file; exceeding any of them is a catalog problem."""

    max_bytes: int = 16 * 1024 * 1024
    max_nodes: int = 200_000
    max_depth: int = 64
    max_scalar: int = 100_000


DEFAULT_LIMITS = Limits()


@dataclass
class Document:
    """A parsed file: plain data, and the 1-based (line, column) of each node.

    ``marks`` maps the path of every value to where it starts (scalars after
    the 64th item of a sequence excepted); ``key_marks`` maps the path of
    every mapping value to where its *key* starts (where an unknown or
    misspelled key should be reported).
    """

    file: str
    data: Any
    marks: dict[Path, Mark] = field(default_factory=dict)
    key_marks: dict[Path, Mark] = field(default_factory=dict)
    nodes: int = 0

    def locate(self, path: Path, *, key: bool = False) -> Mark:
        """Return where ``path`` (or its nearest recorded ancestor) starts."""
        if key and path in self.key_marks:
            return self.key_marks[path]
        for n in range(len(path), -1, -1):
            mark = self.marks.get(path[:n])
            if mark is not None:
                return mark
        return (1, 1)


def parse(raw: bytes, file: str, limits: Limits = DEFAULT_LIMITS, *, pure: bool = False) -> Document:
    """Parse one YAML document from ``raw`` bytes; raise :class:`CatalogError` on any problem.

    ``pure`` forces the pure-Python parser (tests compare both). An empty
    file gives a document whose data is None.
    """
    text = _decode(raw, file, limits)
    classes = loaders()
    loader_cls = classes[-1] if pure else classes[0]
    return _Composer(text, file, limits, loader_cls).run()


def _decode(raw: bytes, file: str, limits: Limits) -> str:
    if len(raw) > limits.max_bytes:
        raise _file_error(file, f"file is {len(raw)} bytes; the limit is {limits.max_bytes}")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _file_error(file, "file starts with a UTF-16/UTF-32 byte-order mark; save it as UTF-8")
    skipped = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        text = raw[skipped:].decode("utf-8")
    except UnicodeDecodeError as e:
        raise _bad_utf8(file, raw, skipped + e.start) from None
    bad = _non_printable().search(text)
    if bad:
        line, column = _position(text, bad.start())
        message = f"character U+{ord(bad.group()):04X} is not allowed in YAML (control characters must be escaped)"
        raise CatalogError([Problem(file, line, column, message)])
    return text


def _file_error(file: str, message: str) -> CatalogError:
    return CatalogError([Problem(file, 0, 0, message)])


def _bad_utf8(file: str, raw: bytes, offset: int) -> CatalogError:
    line_start = raw.rfind(b"\n", 0, offset) + 1
    line = raw.count(b"\n", 0, offset) + 1
    column = len(raw[line_start:offset].decode("utf-8", errors="replace")) + 1
    message = f"file is not valid UTF-8: byte 0x{raw[offset]:02x} at offset {offset}"
    return CatalogError([Problem(file, line, column, message)])


def _position(text: str, index: int) -> Mark:
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


class _Fatal(Exception):
    """Parsing cannot go on; carries the problem that stopped it."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


_NO_KEY = object()  # a mapping frame waiting for its next key
_BAD_KEY = object()  # the key was rejected; its value is read and dropped
_INVALID = object()  # a scalar that was rejected (a problem is recorded)
_PLAIN_CACHE_SIZE = 8192
#: Scalars past this index of a sequence get no mark of their own (problems there
#: point at the sequence): array literals would otherwise cost ~250 bytes a number.
_MARKED_ITEMS = 64


class _Frame:
    """An open sequence or mapping while its children are being read."""

    __slots__ = ("anchor", "container", "key", "nodes_before", "path")

    def __init__(self, container: list | dict, path: Path, anchor: str | None, nodes_before: int) -> None:
        self.container = container
        self.path = path
        self.anchor = anchor
        self.nodes_before = nodes_before
        self.key: Any = _NO_KEY


class _Composer:
    """Turns the event stream into plain data, enforcing the limits as it goes."""

    def __init__(self, text: str, file: str, limits: Limits, loader_cls: type) -> None:
        self.text = text
        self.file = file
        self.limits = limits
        self.loader_cls = loader_cls
        self.doc = Document(file, None)
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.problems: list[Problem] = []
        self.documents = 0
        self.plain: dict[str, Any] = {}

    def run(self) -> Document:
        loader = None
        try:
            loader = self.loader_cls(self.text)
            while loader.check_event():
                self._on_event(loader, loader.get_event())
        except yaml.YAMLError as e:
            raise CatalogError([*self.problems, self._syntax_problem(e)]) from None
        except _Fatal as e:
            raise CatalogError([*self.problems, e.problem]) from None
        finally:
            if loader is not None:
                loader.dispose()
        if self.problems:
            raise CatalogError(self.problems)
        return self.doc

    # -- events ------------------------------------------------------------

    def _on_event(self, loader: Any, event: Any) -> None:
        # PyYAML's event classes carry their attributes (anchor, tag, marks) untyped
        mark = (event.start_mark.line + 1, event.start_mark.column + 1)
        kind = type(event)
        if kind is yaml.ScalarEvent:
            self._count(1, mark)
            self._attach(self._scalar(loader, event, mark), mark, event.anchor, 1)
        elif kind is yaml.SequenceStartEvent or kind is yaml.MappingStartEvent:
            self._open(event, mark)
        elif kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
            frame = self.stack.pop()
            size = self.doc.nodes - frame.nodes_before
            self._attach(frame.container, None, frame.anchor, size)
        elif kind is yaml.AliasEvent:
            self._alias(event.anchor, mark)
        elif kind is yaml.DocumentStartEvent:
            self.documents += 1
            if self.documents > 1:
                raise self._fatal(mark, "a catalog file holds one YAML document, but a second one starts here")

    def _open(self, event: Any, mark: Mark) -> None:
        is_map = isinstance(event, yaml.MappingStartEvent)
        if event.tag not in (None, "!", _MAP if is_map else _SEQ):
            self._problem(mark, _tag_message(event.tag))
        if len(self.stack) >= self.limits.max_depth:
            raise self._fatal(mark, f"nesting is deeper than {self.limits.max_depth} levels")
        self._count(1, mark)
        path = self._child_path()
        self.doc.marks[path] = mark
        container: list | dict = {} if is_map else []
        self.stack.append(_Frame(container, path, event.anchor, self.doc.nodes - 1))

    def _alias(self, anchor: str, mark: Mark) -> None:
        if anchor not in self.anchors:
            if any(f.anchor == anchor for f in self.stack):
                raise self._fatal(mark, f"alias `*{anchor}` refers to a node that contains it (a recursive structure)")
            raise self._fatal(mark, f"alias `*{anchor}` is used before an anchor `&{anchor}` is defined")
        value, size = self.anchors[anchor]
        self._count(size, mark)
        self._attach(value, mark, None, size)

    # -- building ----------------------------------------------------------

    def _child_path(self) -> Path:
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.container, list):
            return (*top.path, len(top.container))
        if top.key is _NO_KEY or top.key is _BAD_KEY:
            return (*top.path, "<key>")
        return (*top.path, top.key)

    def _attach(self, value: Any, mark: Mark | None, anchor: str | None, size: int) -> None:
        """Place a finished node in its parent; ``mark`` is None for containers (recorded at open)."""
        if anchor is not None:
            self.anchors[anchor] = (value, size)
        if not self.stack:
            self.doc.data = value
            if mark is not None:
                self.doc.marks[()] = mark
            return
        top = self.stack[-1]
        if isinstance(top.container, list):
            if mark is not None and len(top.container) < _MARKED_ITEMS:
                at = (*top.path, len(top.container))
                self.doc.marks[at] = mark
            top.container.append(value)
        elif top.key is _NO_KEY:
            top.key = self._key(value, top, mark)
        else:
            key, top.key = top.key, _NO_KEY
            if key is not _BAD_KEY:
                top.container[key] = value
                if mark is not None:
                    at = (*top.path, key)
                    self.doc.marks[at] = mark

    def _key(self, key: Any, top: _Frame, mark: Mark | None) -> Any:
        at = mark or self.doc.marks.get((*top.path, "<key>"), (1, 1))
        if key is _INVALID:
            return _BAD_KEY
        if not isinstance(key, str):
            self._problem(at, f"mapping keys must be strings, got {_describe(key)}")
            return _BAD_KEY
        path = (*top.path, key)
        if key in top.container:
            line, column = self.doc.key_marks[path]
            self._problem(at, f"duplicate key `{key}` (first declared at line {line}, column {column})")
            return _BAD_KEY
        self.doc.key_marks[path] = at
        return key

    def _scalar(self, loader: Any, event: yaml.ScalarEvent, mark: Mark) -> Any:
        value = event.value
        if len(value) > self.limits.max_scalar:
            self._problem(mark, f"scalar is {len(value)} characters long; the limit is {self.limits.max_scalar}")
            return _INVALID
        tag = event.tag
        if tag is None and not event.implicit[0]:
            return value  # a quoted scalar without a tag is always a string
        if tag is not None and tag != "!":
            return self._construct(loader, tag, value, mark)
        # Plain scalars repeat a lot (keys, small numbers): resolve each text once.
        cached = self.plain.get(value, _INVALID)
        if cached is not _INVALID:
            return cached
        tag = loader.resolve(yaml.ScalarNode, value, event.implicit)
        if tag == _TAG + "merge":
            self._problem(mark, "merge keys (`<<`) are not supported; repeat the fields or alias a whole value")
            return _INVALID
        result = value if tag in _KEEP_AS_TEXT else self._construct(loader, tag, value, mark)
        if result is not _INVALID and len(self.plain) < _PLAIN_CACHE_SIZE:
            self.plain[value] = result
        return result

    def _construct(self, loader: Any, tag: str, value: str, mark: Mark) -> Any:
        if tag == _STR:
            return value
        if tag == _NULL:
            return None
        builders = {_BOOL: loader.construct_yaml_bool, _INT: loader.construct_yaml_int,
                    _FLOAT: loader.construct_yaml_float}
        if tag not in builders:
            self._problem(mark, _tag_message(tag))
            return _INVALID
        try:
            result = builders[tag](yaml.ScalarNode(tag, value))
            if tag == _INT and result.bit_length() > 4096:
                str(result)  # hex/binary integers too long to print in decimal: every message would fail
            return result
        except (ValueError, KeyError, ArithmeticError) as e:
            self._problem(mark, f"cannot read {value[:40]!r} as `{_short_tag(tag)}`: {e}")
            return _INVALID

    # -- limits and problems -----------------------------------------------

    def _count(self, n: int, mark: Mark) -> None:
        self.doc.nodes += n
        if self.doc.nodes > self.limits.max_nodes:
            raise self._fatal(
                mark,
                f"the document has more than {self.limits.max_nodes} YAML nodes (an alias counts every time "
                "it is used); declare large arrays with `$generate` instead of literals",
            )

    def _problem(self, mark: Mark, message: str) -> None:
        self.problems.append(Problem(self.file, mark[0], mark[1], message))

    def _fatal(self, mark: Mark, message: str) -> _Fatal:
        return _Fatal(Problem(self.file, mark[0], mark[1], message))

    def _syntax_problem(self, e: yaml.YAMLError) -> Problem:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        message = getattr(e, "problem", None) or str(e)
        context, context_mark = getattr(e, "context", None), getattr(e, "context_mark", None)
        if context:
            started = ""
            if context_mark is not None and (context_mark.line + 1, context_mark.column + 1) != (line, column):
                started = f" started at line {context_mark.line + 1}, column {context_mark.column + 1}"
            message = f"{message} ({context}{started})"
        if self._tab_at(line):
            message += "; tabs are not allowed for indentation in YAML, indent with spaces"
        return Problem(self.file, line, column, f"YAML syntax error: {message}")

    def _tab_at(self, line: int) -> bool:
        lines = self.text.splitlines()
        if not 0 < line <= len(lines):
            return False
        text = lines[line - 1]
        return "\t" in text[: len(text) - len(text.lstrip(" \t"))]


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else tag


def _tag_message(tag: str) -> str:
    return (
        f"tag `{_short_tag(tag)}` is not allowed: catalog files use plain YAML values "
        "(strings, numbers, booleans, null, lists, mappings) and the `$` forms of the value language"
    )


def _describe(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return f"{'null' if value is None else str(value).lower()} (quote it to make a string)"
    if isinstance(value, (int, float)):
        return f"the number {value!r} (quote it to make a string)"
    return "a list" if isinstance(value, list) else "a mapping"
