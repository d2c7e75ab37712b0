"""The malformed-catalog corpus (tests/corpus/*.yaml): every file is rejected, clearly, quickly, and at the right place.

Each corpus file starts with ``# expect: TEXT`` (a substring of one problem's
message), optionally ``# at: LINE:COL`` (where that problem is reported) and
``# count: N`` (how many problems). See tests/corpus/README.md.
"""

from __future__ import annotations

import codecs
import re
import tracemalloc
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from jaxpat import catalog
from jaxpat._cli import main
from jaxpat.catalog import CatalogError

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(CORPUS.glob("*.yaml"))
MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Expectation:
    message: str
    at: tuple[int, int] | None
    count: int | None


def _header(path: Path) -> Expectation:
    raw = path.read_bytes()
    if raw.startswith(codecs.BOM_UTF16_LE):
        text = raw.decode("utf-16")
    else:
        text = raw.removeprefix(codecs.BOM_UTF8).decode("utf-8", errors="replace")
    fields = dict(re.findall(r"^# (expect|at|count): (.*)$", "\n".join(text.splitlines()[:3]), re.MULTILINE))
    assert "expect" in fields, f"{path.name} has no `# expect:` line"
    at = tuple(int(n) for n in fields["at"].split(":")) if "at" in fields else None
    return Expectation(fields["expect"], at, int(fields["count"]) if "count" in fields else None)


def _rejection(path: Path) -> tuple[CatalogError, int]:
    """Load ``path`` expecting CatalogError; return it and the peak bytes allocated while loading."""
    tracemalloc.start()
    try:
        with pytest.raises(CatalogError) as info:
            catalog.load_files([path])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return info.value, peak


def test_corpus_is_large_enough():
    """The corpus holds at least 50 malformed catalogs, each with an expectation header; prints a summary."""
    assert len(FILES) >= 50
    kinds = Counter(path.stem.split("-")[0] for path in FILES)
    print(f"\ncorpus: {len(FILES)} malformed catalogs; by first word: {dict(sorted(kinds.items()))}")


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_corpus_file_is_rejected_clearly(path, monkeypatch, record_property):
    """Loading the file raises CatalogError with the expected message at the expected place, in bounded memory."""
    record_property("reliability", "malformed catalog files")
    monkeypatch.chdir(CORPUS)
    want = _header(path)
    error, peak = _rejection(Path(path.name))
    problems = error.problems
    matching = [p for p in problems if want.message in p.message]
    assert matching, f"expected a problem containing {want.message!r}, got:\n{error}"
    if want.at is not None:
        assert (matching[0].line, matching[0].column) == want.at, str(matching[0])
    if want.count is not None:
        assert len(problems) == want.count, str(error)
    assert all(p.file == path.name for p in problems)
    assert peak < MAX_BYTES, f"peak allocation {peak / 2**20:.0f} MiB"


def test_huge_literal_is_rejected_early(tmp_path):
    """A pasted literal of more than a million elements (generated here, 2.4 MB) fails on the node budget.

    The budget stops composition early: peak memory stays bounded (how long it
    takes is a benchmark's business, not a unit test's -- CI machines are shared).
    """
    data = ", ".join(["1"] * 1_200_000)
    path = tmp_path / "huge.yaml"
    path.write_text(
        "version: 1\npatterns:\n  - id: huge\n    family: arrays\n    title: t\n    summary: s\n"
        "    source: {doc: d}\n    signature: {args: [x]}\n    cases:\n"
        f"      - {{id: c, args: {{x: {{$array: [{data}], dtype: int32}}}}, expect: 0, provenance: {{kind: math}}}}\n"
    )
    error, peak = _rejection(path)
    assert "more than 200000 YAML nodes" in str(error)
    assert "declare large arrays with `$generate`" in str(error)
    assert peak < MAX_BYTES


def test_overlong_scalar_is_rejected(tmp_path):
    """A scalar longer than 100000 characters (generated here) is a located problem."""
    path = tmp_path / "long.yaml"
    path.write_text("version: 1\npatterns:\n  - id: long\n    summary: " + "x" * 100_001 + "\n")
    error, _ = _rejection(path)
    assert [str(p) for p in error.problems] == [
        f"{path}:4:14: scalar is 100001 characters long; the limit is 100000"
    ]


@pytest.mark.parametrize("name", ["unknown-family", "python-object-apply", "alias-bomb", "non-utf8-byte"])
def test_cli_validate_rejects_corpus_files(name, capsys, monkeypatch):
    """`jaxpat validate FILE` exits 1 and prints the expected problem for corpus files."""
    monkeypatch.chdir(CORPUS)
    want = _header(CORPUS / f"{name}.yaml")
    assert main(["validate", f"{name}.yaml"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert want.message in err
    if want.at is not None:
        assert f"{name}.yaml:{want.at[0]}:{want.at[1]}: " in err
