"""The persistent parse cache (catalog/_parse_cache.py): exact round trips, misses, and what it never does.

Every test points ``JAXPAT_CACHE_DIR`` at its own temporary directory, so the
real per-user cache is never touched.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from jaxpat import catalog
from jaxpat.catalog import CatalogError, _parse_cache, _yaml
from jaxpat.catalog._loader import SHIPPED, _load_bytes
from jaxpat.catalog._parse_cache import ENV_CACHE_DIR, ENV_DISABLE, cache_dir, cached_parse
from jaxpat.catalog._yaml import Document, Limits, parse

VALID = """\
version: 1
patterns:
  - id: scan-cumsum
    family: scan
    title: Cumulative sum
    summary: Carry the running total.
    source: {seed: s.txt}
    signature: {args: [xs]}
    cases:
      - id: basic
        args: {xs: {$array: [1, 2], dtype: int32}}
        expect: {$array: [1, 3], dtype: int32}
        provenance: {kind: math}
"""


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache root for each test (entries go in its ``catalog`` folder)."""
    root = tmp_path / "cache-root"
    monkeypatch.setenv(ENV_CACHE_DIR, str(root))
    monkeypatch.delenv(ENV_DISABLE, raising=False)
    return root / "catalog"


def _entries(directory: Path) -> list[Path]:
    """The entries (not temporary files) in ``directory``."""
    return sorted(p for p in directory.glob("*.json") if not p.name.startswith(".")) if directory.is_dir() else []


def _no_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any real parse fail, so a result can only come from the cache."""

    def refuse(*args: Any, **kwargs: Any) -> Document:
        raise AssertionError("the parser ran; the cache was not used")

    monkeypatch.setattr(_parse_cache, "parse", refuse)


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def counting(raw: bytes, file: str, limits: Limits = _yaml.DEFAULT_LIMITS) -> Document:
        calls.append(file)
        return parse(raw, file, limits)

    monkeypatch.setattr(_parse_cache, "parse", counting)
    return calls


def _same(a: Any, b: Any) -> bool:
    """Equal *and* of the same types all the way down (bool vs int, tuple vs list, -0.0 vs 0.0, nan)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return repr(a) == repr(b)  # nan == nan, -0.0 != 0.0
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a) and all(map(_same, a, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(_same, a, b))
    return a == b


def _assert_same_document(cached: Document, fresh: Document) -> None:
    assert cached.file == fresh.file
    assert cached.nodes == fresh.nodes
    assert _same(cached.data, fresh.data)
    assert _same(cached.marks, fresh.marks)  # keys: tuple paths (str vs int items); values: (line, column)
    assert _same(cached.key_marks, fresh.key_marks)


def _round_trip(raw: bytes, name: str = "t.yaml") -> tuple[Document, Document]:
    """(from the cache, fresh parse) of ``raw``; asserts the first call wrote an entry."""
    fresh = parse(raw, name)
    first = cached_parse(raw, name)
    _assert_same_document(first, fresh)
    assert len(_entries(cache_dir())) >= 1
    key = _parse_cache._key(raw, _yaml.DEFAULT_LIMITS)
    cached = _parse_cache._read(cache_dir(), key, name)
    assert cached is not None, "the entry was not readable"
    return cached, fresh


# -- exact round trips --------------------------------------------------------------------


def test_shipped_catalog_round_trips_exactly(cache: Path) -> None:
    """The shipped catalog read back from the cache equals a fresh parse, types and order included."""
    raw = SHIPPED.read_bytes()
    cached, fresh = _round_trip(raw, "catalog.yaml")
    assert cached == fresh
    _assert_same_document(cached, fresh)
    assert list(cached.marks) == list(fresh.marks)
    assert list(cached.key_marks) == list(fresh.key_marks)


TRICKY = {
    "floats": b"a: [.inf, -.inf, .nan, -0.0, 0.0, 1e400, 1.5e-300, 0.1, 1e16, 5e-324]\n",
    "ints vs floats vs bools": b"a: [1, 1.0, true, 0, false, '1', ~, null, '', yes, no, 0o17, 1_000, 0x1f, 1:30]\n",
    "big ints": b"a: [12345678901234567890123456789, -99999999999999999999999999, 0x" + b"f" * 200 + b"]\n",
    "unicode": 'é: "\\0\\x01\\u00e9\\U0001F600 ü 漢字 \\t tab"\nk: «plain» ✓\n'.encode(),
    "empty file": b"",
    "only a comment": b"# nothing here\n",
    "a scalar document": b"42\n",
    "a null document": b"~\n",
    "a root sequence": b"- 1\n- [2, [3, [4, []]]]\n- {}\n",
    "nested sequences": b"a: [[1, [2, [3, []]]], [], [[]], {b: [[], {}]}]\n",
    "int-like keys": b"'0': zero\n'1': [a, b]\nx: {'0': [[0]]}\n",
    "aliases": b"a: &x [1, {b: 2}]\nc: *x\nd: {e: *x}\n",
    "a long sequence": b"a: [" + b", ".join(str(i).encode() for i in range(200)) + b"]\n",
    "timestamps kept as text": b"a: 2001-12-14\nb: 2001-12-14t21:59:43.10-05:00\n",
    "a byte-order mark": b"\xef\xbb\xbfa: 1\n",
    "block scalars": b"a: |\n  line 1\n  line 2\nb: >\n  folded\n  text\n",
    "deep": b"a: " + b"[" * 40 + b"1" + b"]" * 40 + b"\n",
}


@pytest.mark.parametrize("raw", TRICKY.values(), ids=TRICKY.keys())
def test_tricky_values_round_trip_exactly(raw: bytes) -> None:
    """inf, nan, -0.0, big ints, unicode, empty files, nested and long sequences survive exactly."""
    cached, fresh = _round_trip(raw)
    _assert_same_document(cached, fresh)


def test_the_callers_name_is_used_not_the_cached_one(write_yaml) -> None:
    """The same bytes under another name: the Document (and every problem) carries the new name."""
    bad = VALID.replace("family: scan", "family: nope")
    a, b = write_yaml(bad, "a.yaml"), write_yaml(bad, "b.yaml")
    with pytest.raises(CatalogError) as first:
        catalog.load_files([a])
    assert {p.file for p in first.value.problems} == {"a.yaml"}
    with pytest.raises(CatalogError) as second:
        catalog.load_files([b])
    assert {p.file for p in second.value.problems} == {"b.yaml"}
    assert [(p.line, p.column, p.message) for p in first.value.problems] == [
        (p.line, p.column, p.message) for p in second.value.problems
    ]
    assert cached_parse(b.read_bytes(), "other.yaml").file == "other.yaml"


def test_the_shipped_catalog_is_the_same_with_and_without_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """load() gives an equal catalog with the cache off, cold and warm."""
    monkeypatch.setenv(ENV_DISABLE, "1")
    plain = catalog.load()
    monkeypatch.delenv(ENV_DISABLE)
    cold = catalog.load()
    warm = catalog.load()
    assert plain == cold == warm
    assert [p.location for p in plain] == [p.location for p in warm]


# -- hits and misses ----------------------------------------------------------------------


def test_a_second_load_reads_the_cache(write_yaml, monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    """After one load, the parser is not needed: a parser that fails does not stop the second load."""
    path = write_yaml(VALID)
    first = catalog.load_files([path])
    assert len(_entries(cache)) == 1
    _no_parse(monkeypatch)
    assert catalog.load_files([path]) == first


def test_a_changed_file_does_not_hit_the_old_entry(write_yaml, monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    path = write_yaml(VALID)
    catalog.load_files([path])
    path.write_text(VALID.replace("Cumulative sum", "Running total"), encoding="utf-8")
    calls = _count_parses(monkeypatch)
    cat = catalog.load_files([path])
    assert calls == ["catalog.yaml"]
    assert cat.get("scan-cumsum").title == "Running total"
    assert len(_entries(cache)) == 2


def test_the_key_depends_on_bytes_limits_and_parser_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Other bytes, other limits or an edited _yaml.py (an editable checkout) give another key."""
    raw = VALID.encode()
    key = _parse_cache._key(raw, _yaml.DEFAULT_LIMITS)
    assert key is not None
    assert len(key) == 64
    assert _parse_cache._key(raw + b"\n", _yaml.DEFAULT_LIMITS) != key
    assert _parse_cache._key(raw, Limits(max_nodes=1000)) != key
    edited = tmp_path / "_yaml.py"
    edited.write_bytes(Path(_yaml.__file__).read_bytes() + b"\n# edited\n")
    monkeypatch.setattr(_yaml, "__file__", str(edited))
    monkeypatch.setattr(_parse_cache, "_parser_version", None)
    assert _parse_cache._key(raw, _yaml.DEFAULT_LIMITS) != key


def test_entries_are_per_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry made under generous limits is not used under tight ones: the limit error is still reported."""
    raw = b"a: [" + b", ".join(b"1" for _ in range(50)) + b"]\n"
    cached_parse(raw, "t.yaml")
    with pytest.raises(CatalogError, match="more than 10 YAML nodes"):
        cached_parse(raw, "t.yaml", Limits(max_nodes=10))


def _rewrite(entry: Path, body: dict[str, Any] | bytes, **header: Any) -> None:
    """Replace an entry's body (and fix its checksum, so that only the structure is wrong)."""
    lines = entry.read_bytes().split(b"\n", 1)
    head = json.loads(lines[0])
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    head["sha256"] = hashlib.sha256(data).hexdigest()
    head.update(header)
    entry.write_bytes(json.dumps(head).encode() + b"\n" + data)


def _body(entry: Path) -> dict[str, Any]:
    return json.loads(entry.read_bytes().split(b"\n", 1)[1])


def _numbers(entry: Path, name: str) -> list[int]:
    """The packed number list ``name`` of an entry, as a list."""
    return list(_parse_cache._unpack(_body(entry)[name]))


def _with(entry: Path, name: str, value: Any) -> None:
    """Rewrite one field of an entry's body (a list of numbers is packed as the cache packs it)."""
    packed = _parse_cache._pack(value) if isinstance(value, list) and set(map(type, value)) <= {int} else value
    _rewrite(entry, {**_body(entry), name: packed})


def _flip_digit(entry: Path) -> None:
    """Change the node count by one digit without fixing the checksum: only the sha256 can tell."""
    blob = entry.read_bytes()
    at = blob.index(b'"nodes":') + len(b'"nodes":')
    entry.write_bytes(blob[:at] + str((int(blob[at:at + 1]) + 1) % 10).encode() + blob[at + 1:])


CORRUPTIONS: dict[str, Any] = {
    "empty file": lambda e: e.write_bytes(b""),
    "garbage": lambda e: e.write_bytes(b"\x00\xff not json at all"),
    "truncated": lambda e: e.write_bytes(e.read_bytes()[:-100]),
    "header only": lambda e: e.write_bytes(e.read_bytes().split(b"\n")[0]),
    "header not an object": lambda e: e.write_bytes(b"[1, 2]\n" + e.read_bytes().split(b"\n", 1)[1]),
    "a flipped digit": _flip_digit,
    "another key": lambda e: _rewrite(e, _body(e), key="0" * 64),
    "another format": lambda e: _rewrite(e, _body(e), format=-1),
    "another magic": lambda e: _rewrite(e, _body(e), magic="pickle"),
    "body not JSON": lambda e: _rewrite(e, b"{nope"),
    "body a list": lambda e: _rewrite(e, b"[]"),
    "body missing data": lambda e: _rewrite(e, {k: v for k, v in _body(e).items() if k != "data"}),
    "lines a plain JSON list": lambda e: _with(e, "lines", json.dumps(_numbers(e, "lines"))),
    "lines as format 1 wrote them": lambda e: _rewrite(e, {**_body(e), "lines": _numbers(e, "lines")}),
    "a line is a string": lambda e: _rewrite(e, {**_body(e), "lines": ["1", *_numbers(e, "lines")[1:]]}),
    "columns a number": lambda e: _with(e, "columns", 7),
    "an unknown width": lambda e: _with(e, "lines", "3" + _body(e)["lines"][1:]),
    "a width that does not divide the bytes": lambda e: _with(e, "lines", "4" + _body(e)["lines"][1:]),
    "packed bytes not base64": lambda e: _with(e, "columns", "2:***"),
    "a path item is a bool": lambda e: _rewrite(e, {**_body(e), "items": [True, *_body(e)["items"][1:]]}),
    "a path item is a list": lambda e: _rewrite(e, {**_body(e), "items": [["x"], *_body(e)["items"][1:]]}),
    "a forward parent": lambda e: _with(e, "parents", [5, *_numbers(e, "parents")[1:]]),
    "a mark its own parent": lambda e: _with(e, "parents", [1, *_numbers(e, "parents")[1:]]),
    "a later mark its own parent": lambda e: _with(e, "parents", [*_numbers(e, "parents")[:-1],
                                                                    len(_numbers(e, "parents"))]),
    "lengths differ": lambda e: _with(e, "lines", _numbers(e, "lines")[:-1]),
    "key index out of range": lambda e: _with(e, "key_indices", [10**6, *_numbers(e, "key_indices")[1:]]),
    "key index of the root": lambda e: _with(e, "key_indices", [0, *_numbers(e, "key_indices")[1:]]),
    "a bad root": lambda e: _rewrite(e, {**_body(e), "root": [1, "x"]}),
    "a short root": lambda e: _rewrite(e, {**_body(e), "root": [1]}),
    "nodes a string": lambda e: _rewrite(e, {**_body(e), "nodes": "7"}),
    "marks an object": lambda e: _rewrite(e, {**_body(e), "parents": {"a": 1}}),
    "a directory": lambda e: (e.unlink(), e.mkdir()),
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_a_corrupt_entry_is_ignored(corrupt, write_yaml, monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    """Any damaged or structurally wrong entry is a miss: the file is parsed again, with the same result."""
    path = write_yaml(VALID)
    first = catalog.load_files([path])
    (entry,) = _entries(cache)
    corrupt(entry)
    key = _parse_cache._key(path.read_bytes(), _yaml.DEFAULT_LIMITS)
    assert _parse_cache._read(cache, key, "catalog.yaml") is None
    calls = _count_parses(monkeypatch)
    assert catalog.load_files([path]) == first
    assert calls == ["catalog.yaml"]
    if entry.is_file():  # the load wrote a good entry again
        assert _parse_cache._read(cache, key, "catalog.yaml") is not None


# -- what is never cached, never written ----------------------------------------------------


def test_parse_errors_are_not_cached(write_yaml, monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    """A file that fails to parse writes no entry and reports the same problems every time."""
    path = write_yaml("version: 1\npatterns: [unclosed\n")
    problems = []
    for _ in range(2):
        with pytest.raises(CatalogError) as info:
            catalog.load_files([path])
        problems.append(info.value.problems)
    assert problems[0] == problems[1]
    assert "syntax error" in problems[0][0].message
    assert _entries(cache) == []


def test_validation_problems_are_reported_again_from_a_cached_parse(write_yaml, cache: Path) -> None:
    """A file that parses but is invalid: the parse is cached, check_document still runs and finds the same."""
    path = write_yaml(VALID.replace("dtype: int32}}", "dtype: int33}}"))
    results = []
    for _ in range(2):
        with pytest.raises(CatalogError) as info:
            catalog.load_files([path])
        results.append(info.value.problems)
    assert len(_entries(cache)) == 1
    assert results[0] == results[1]
    assert "int33" in str(results[0])


def test_validate_reads_but_never_writes(write_yaml, monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    path = write_yaml(VALID)
    assert catalog.validate([path]) == []
    assert catalog.validate() == []
    assert not cache.exists()
    catalog.load_files([path])
    (entry,) = _entries(cache)
    before = entry.stat().st_mtime_ns
    _no_parse(monkeypatch)
    assert catalog.validate([path]) == []  # read from the cache
    assert _entries(cache) == [entry]
    assert entry.stat().st_mtime_ns == before


def test_cached_parse_write_false_touches_nothing(cache: Path) -> None:
    cached_parse(VALID.encode(), "t.yaml", write=False)
    assert not cache.exists()


def test_in_memory_loading_does_not_use_the_cache(cache: Path) -> None:
    """_load_bytes (tests, fuzzing) exercises the parser and leaves no entries behind."""
    _load_bytes([("x.yaml", VALID.encode())])
    assert not cache.exists()


@pytest.mark.parametrize("value", ["1", "yes", "true", "anything"])
def test_the_disable_variable(value: str, write_yaml, monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    """JAXPAT_DISABLE_CATALOG_CACHE turns reading and writing off."""
    path = write_yaml(VALID)
    catalog.load_files([path])
    (entry,) = _entries(cache)
    entry.unlink()
    monkeypatch.setenv(ENV_DISABLE, value)
    assert cache_dir() is None
    catalog.load_files([path])
    assert _entries(cache) == []  # not written
    monkeypatch.delenv(ENV_DISABLE)
    catalog.load_files([path])
    monkeypatch.setenv(ENV_DISABLE, value)
    _no_parse(monkeypatch)
    with pytest.raises(AssertionError, match="the parser ran"):  # not read
        catalog.load_files([path])


@pytest.mark.parametrize("value", ["", "0", "false", "no", " No ", "off"])
def test_the_disable_variable_off_values(value: str, monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    monkeypatch.setenv(ENV_DISABLE, value)
    assert cache_dir() == cache


def test_the_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """$JAXPAT_CACHE_DIR/catalog, else $XDG_CACHE_HOME/jaxpat/catalog, else ~/.cache/jaxpat/catalog."""
    monkeypatch.setenv(ENV_CACHE_DIR, str(tmp_path / "root"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "root" / "catalog"
    monkeypatch.setenv(ENV_CACHE_DIR, "")
    assert cache_dir() == tmp_path / "xdg" / "jaxpat" / "catalog"
    monkeypatch.delenv(ENV_CACHE_DIR)
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("USERPROFILE", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "jaxpat" / "catalog"


def test_an_unwritable_cache_directory_does_not_break_loading(write_yaml, tmp_path: Path, monkeypatch) -> None:
    """The cache root is a regular file (mkdir fails even as root): loading works and nothing is written."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    monkeypatch.setenv(ENV_CACHE_DIR, str(blocker))
    path = write_yaml(VALID)
    assert catalog.load_files([path]).ids() == ["scan-cumsum"]
    assert catalog.load_files([path]).ids() == ["scan-cumsum"]
    assert blocker.read_text() == "not a directory"


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="needs POSIX permissions (not root)")
def test_a_read_only_cache_directory_does_not_break_loading(write_yaml, cache: Path) -> None:
    cache.mkdir(parents=True)
    cache.chmod(0o500)
    try:
        path = write_yaml(VALID)
        assert catalog.load_files([path]).ids() == ["scan-cumsum"]
        assert _entries(cache) == []
    finally:
        cache.chmod(0o700)


def test_a_failing_write_is_skipped(write_yaml, monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    """A disk-full error while writing leaves no entry and no temporary file."""

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_parse_cache.os, "replace", full)
    path = write_yaml(VALID)
    assert catalog.load_files([path]).ids() == ["scan-cumsum"]
    assert list(cache.iterdir()) == []


def test_an_integer_too_long_to_print_is_a_problem_not_an_entry(cache: Path) -> None:
    """An int too long for str() (sys.get_int_max_str_digits) is a parse problem: raised, never stored."""
    raw = b"a: 0x" + b"f" * 4000 + b"\n"
    with pytest.raises(CatalogError, match="cannot read"):
        cached_parse(raw, "t.yaml")
    assert _entries(cache) == []


def test_writes_are_atomic_and_pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    """No temporary file is left behind; old entries and stale temporary files are removed."""
    monkeypatch.setattr(_parse_cache, "MAX_ENTRIES", 3)
    cache.mkdir(parents=True)
    stale, fresh = cache / ".tmp-stale.part", cache / ".tmp-fresh.part"
    stale.write_text("{")
    fresh.write_text("{")
    os.utime(stale, (1, 1))
    unrelated = cache / "README"
    unrelated.write_text("kept")
    for i in range(6):
        raw = f"a: {i}\n".encode()
        cached_parse(raw, "t.yaml")
        written = cache / f"{_parse_cache._key(raw, _yaml.DEFAULT_LIMITS)}.json"
        os.utime(written, (1_000_000 + i, 1_000_000 + i))  # a clear order, whatever the clock's resolution
    assert len(_entries(cache)) == 3
    assert not stale.exists()
    assert fresh.exists()
    assert unrelated.exists()
    for i in range(3, 6):  # the newest ones are kept
        key = _parse_cache._key(f"a: {i}\n".encode(), _yaml.DEFAULT_LIMITS)
        assert (cache / f"{key}.json").exists()


def test_entries_are_json_and_say_what_they_are(cache: Path) -> None:
    cached_parse(b"a: [1, 2.5, .nan]\n", "t.yaml")
    (entry,) = _entries(cache)
    head, body = entry.read_bytes().split(b"\n", 1)
    header = json.loads(head)
    assert header["magic"] == "jaxpat-catalog-parse-cache"
    assert header["format"] == _parse_cache.CACHE_FORMAT
    assert entry.name == header["key"] + ".json"
    assert header["sha256"] == hashlib.sha256(body).hexdigest()
    assert math.isnan(json.loads(body)["data"]["a"][2])


def test_importing_catalog_imports_no_json(tmp_path: Path) -> None:
    """The cache costs nothing until it is used: json and tempfile are imported on first use."""
    import subprocess

    code = "import sys, jaxpat.catalog; print('json' in sys.modules, 'tempfile' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("numbers", [[], [0], [255], [256], [0, 65535], [65536], [1, 2**32 - 1]])
def test_packed_numbers_round_trip_at_every_width(numbers: list[int]) -> None:
    """Mark numbers are packed at 1, 2 or 4 bytes each (the smallest that holds them) and read back exactly."""
    packed = _parse_cache._pack(numbers)
    width = 1 if max(numbers, default=0) < 256 else 2 if max(numbers) < 65536 else 4
    assert packed.startswith(f"{width}:")
    assert list(_parse_cache._unpack(packed)) == numbers
    assert all(type(n) is int for n in _parse_cache._unpack(packed))


@pytest.mark.parametrize("numbers", [[-1], [2**32], [0, 2**40]])
def test_a_number_that_cannot_be_packed_is_refused(numbers: list[int]) -> None:
    with pytest.raises(ValueError, match="out of range"):
        _parse_cache._pack(numbers)


def test_a_document_whose_marks_cannot_be_packed_writes_no_entry(cache: Path) -> None:
    """A mark number past 2**32 (impossible for a parse within the size limit, but not for a hand-made Document)
    skips the write, as any value the entry cannot hold does."""
    doc = Document("t.yaml", {"a": 1}, {(): (1, 1), ("a",): (2**32, 4)}, {("a",): (1, 1)}, 2)
    _parse_cache._write(cache, "0" * 64, doc)
    assert _entries(cache) == []
    fine = Document("t.yaml", {"a": 1}, {(): (1, 1), ("a",): (1, 4)}, {("a",): (1, 1)}, 2)
    _parse_cache._write(cache, "0" * 64, fine)
    assert len(_entries(cache)) == 1


def test_a_cached_document_locates_as_a_fresh_parse_and_rebuilds_its_marks_only_when_asked(cache: Path) -> None:
    """Loading a valid catalog from the cache builds no full set of marks; every position a cached document gives
    (short paths before the rebuild, every path and key after) is the fresh parse's."""
    from jaxpat.catalog._build import build_patterns
    from jaxpat.catalog._validate import check_document

    raw = SHIPPED.read_bytes()
    fresh = parse(raw, "catalog.yaml")
    cached_parse(raw, "catalog.yaml")
    cached = _parse_cache._read(cache_dir(), _parse_cache._key(raw, _yaml.DEFAULT_LIMITS), "catalog.yaml")
    assert cached is not None
    build_patterns(check_document(cached), "catalog.yaml")
    assert cached._lists is not None  # checking and building asked for no mark beyond a pattern's or a case's
    every = [*fresh.marks, *fresh.key_marks, ("patterns", 3, "nope"), ("patterns", 10**6), ("zzz",), ()]
    short = [p for p in every if len(p) <= _parse_cache._NEAR]
    assert any(len(p) == _parse_cache._NEAR for p in short)
    assert [cached.locate(p) for p in short] == [fresh.locate(p) for p in short]
    assert cached._lists is not None  # still not rebuilt
    assert [cached.locate(p) for p in every] == [fresh.locate(p) for p in every]
    assert [cached.locate(p, key=True) for p in every] == [fresh.locate(p, key=True) for p in every]
    assert cached._lists is None  # rebuilt for the longer paths and the keys
    _assert_same_document(cached, fresh)
    assert cached == fresh
    assert fresh == cached
    other = parse(raw.replace(b"version: 1", b"version:  1", 1), "catalog.yaml")  # one column further
    assert cached != other
