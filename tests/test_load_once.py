"""Start-up of ``patterns.load_catalog()`` (benchmarks figure 5): each catalog file is parsed, checked and built
once per call, and a caller's in-memory ``parsed`` mapping (``catalog.load(parsed=...)``) never changes a result.
"""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from jaxpat import catalog, patterns
from jaxpat.catalog import _loader

ONE = """\
version: 1
patterns:
  - id: once-add
    family: scan
    title: Add one
    summary: adds one
    source: {{doc: "https://example.org"}}
    signature: {{args: [xs]}}
    cases:
      - id: small
        args: {{xs: {{$array: [1, 2, 3], dtype: int32}}}}
        expect: {{$array: [2, 3, {last}], dtype: int32}}
        provenance: {{kind: math, note: "a test fixture"}}
"""


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every ``check_document`` call, by file name."""
    calls: Counter[str] = Counter()
    real = _loader.check_document

    def check(doc: Any) -> Any:
        calls[doc.file] += 1
        return real(doc)

    monkeypatch.setattr(_loader, "check_document", check)
    return calls


def _expect(cat: catalog.Catalog) -> Any:
    return cat.get("once-add").cases[0].to_dict()["expect"]


def test_a_memo_checks_a_file_once_and_again_when_one_byte_changes(tmp_path: Path, counted: Counter[str]) -> None:
    f = tmp_path / "one.yaml"
    f.write_text(ONE.format(last=4))
    memo: dict[Any, Any] = {}
    first = catalog.load([f], use_cache=False, parsed=memo)
    again = catalog.load([f], use_cache=False, parsed=memo)
    assert sum(counted.values()) == 1  # the second load checked nothing
    assert (again.patterns, again.digest) == (first.patterns, first.digest)
    assert _expect(first)["$array"] == [2, 3, 4]
    f.write_text(ONE.format(last=5))  # one byte
    changed = catalog.load([f], use_cache=False, parsed=memo)
    assert sum(counted.values()) == 2  # checked again: the new expected value is seen
    assert _expect(changed)["$array"] == [2, 3, 5]
    assert changed.digest != first.digest
    # the same result as without the memo (a fresh parse and check)
    fresh = catalog.load([f], use_cache=False)
    assert (fresh.patterns, fresh.files, fresh.digest) == (changed.patterns, changed.files, changed.digest)


def test_a_memo_keeps_origins_apart(tmp_path: Path) -> None:
    """Built patterns are kept per origin: one file loaded as two plugins' file gets each plugin's origin."""
    f = tmp_path / "one.yaml"
    f.write_text(ONE.format(last=4))
    memo: dict[Any, Any] = {}
    a = catalog.load(base=catalog.Catalog((), (), "x"), extra=[("alpha", f)], parsed=memo)
    b = catalog.load(base=catalog.Catalog((), (), "x"), extra=[("beta", f)], parsed=memo)
    assert (a.get("once-add").origin, b.get("once-add").origin) == ("alpha", "beta")


def test_a_memo_does_not_hide_a_problem(tmp_path: Path) -> None:
    f = tmp_path / "one.yaml"
    f.write_text(ONE.format(last=4).replace("family: scan", "family: nope"))
    memo: dict[Any, Any] = {}
    for _ in range(2):  # the kept check still reports its problem
        with pytest.raises(catalog.CatalogError, match="family"):
            catalog.load([f], use_cache=False, parsed=memo)


def test_load_catalog_checks_each_file_once(counted: Counter[str]) -> None:
    """The shipped catalog (and each plugin file) is checked once per load_catalog(), not once per step."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", patterns.PluginCatalogWarning)
        loaded = patterns.load_catalog()
    assert counted[_loader._display(_loader.SHIPPED)] == 1
    assert max(counted.values()) == 1, counted
    # what the memo-free path gives: the shipped catalog and the plugins' files, loaded together
    files = patterns.plugin_catalog_files()
    plain = catalog.load(extra=files, use_cache=False)
    assert (loaded.patterns, loaded.files, loaded.digest) == (plain.patterns, plain.files, plain.digest)
