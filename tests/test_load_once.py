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


# ---------------------------------------------------------------------------
# the entry-point index (patterns/_index.py): load_catalog() without importlib.metadata
# ---------------------------------------------------------------------------

PLUGIN = '''\
from pathlib import Path
from jaxpat.patterns import hookimpl

@hookimpl
def jaxpat_catalog_files():
    return [Path(__file__).with_name("{yaml}")]
'''


def _dist(site: Path, module: str, entry: str, version: str, yaml_name: str = "one.yaml", last: int = 4) -> Path:
    """A distribution installed in ``site`` as pip leaves one: the module, its catalog file and its dist-info."""
    (site / f"{module}.py").write_text(PLUGIN.format(yaml=yaml_name))
    (site / yaml_name).write_text(ONE.format(last=last).replace("once-add", f"once-{entry}"))
    info = site / f"{module}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[jaxpat]\n{entry} = {module}\n")
    return info


def _load_in_subprocess(site: Path, cache: Path) -> dict[str, Any]:
    """load_catalog() in a fresh process with ``site`` on sys.path: its plugins, their versions and origins, and
    whether importlib.metadata was imported."""
    import json
    import os
    import subprocess
    import sys

    code = (
        "import json, sys, warnings\n"
        "warnings.simplefilter('ignore')\n"
        "from jaxpat import patterns\n"
        "cat, errors = patterns.load_catalog_and_errors()\n"
        "from jaxpat.patterns import _discovery, _session\n"
        "cands = _discovery.candidates(None, (), (), _session.Session(strict=False), use_index=True)\n"
        "ids = [i for i in cat.ids() if i.startswith('once-')]\n"
        "print(json.dumps({'origins': sorted({p.origin for p in cat}), 'ids': ids,\n"
        "  'versions': {c.name: c.version for c in cands}, 'errors': [e.plugin for e in errors],\n"
        "  'metadata': 'importlib.metadata' in sys.modules}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAXPAT_")}
    env.update({"JAXPAT_CACHE_DIR": str(cache), "PYTHONPATH": str(site)})
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_the_entry_point_index_sees_every_change(tmp_path: Path) -> None:
    """A new distribution, an edited entry_points.txt, an edited version, a removed distribution: each is seen
    by the next load_catalog(); an unchanged environment is read from the index (no importlib.metadata)."""
    site, cache = tmp_path / "site", tmp_path / "cache"
    site.mkdir()
    first = _load_in_subprocess(site, cache)
    assert first["metadata"]  # a miss: importlib.metadata read the entry points
    assert "idxa" not in first["versions"]
    again = _load_in_subprocess(site, cache)
    assert not again["metadata"]  # a hit
    assert again["versions"] == first["versions"]

    info = _dist(site, "idx_plugin_a", "idxa", "1.0")
    added = _load_in_subprocess(site, cache)
    assert added["versions"]["idxa"] == "1.0"
    assert added["ids"] == ["once-idxa"]
    assert "idxa" in added["origins"]
    assert not _load_in_subprocess(site, cache)["metadata"]

    # the entry point renamed in place (same folder, same dist-info)
    (info / "entry_points.txt").write_text("[jaxpat]\nidxb = idx_plugin_a\n")
    renamed = _load_in_subprocess(site, cache)
    assert "idxa" not in renamed["versions"]
    assert renamed["versions"]["idxb"] == "1.0"
    assert "idxb" in renamed["origins"]

    # the version edited in place: the stored METADATA sha256 no longer matches
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: idx_plugin_a\nVersion: 2.5\n")
    assert _load_in_subprocess(site, cache)["versions"]["idxb"] == "2.5"

    # the plugin's catalog file edited: read again (the index keeps entry points, not catalog files)
    (site / "one.yaml").write_text(ONE.format(last=4).replace("once-add", "once-edited"))
    assert _load_in_subprocess(site, cache)["ids"] == ["once-edited"]

    # uninstalled
    for f in info.iterdir():
        f.unlink()
    info.rmdir()
    gone = _load_in_subprocess(site, cache)
    assert "idxb" not in gone["versions"]
    assert "idxb" not in gone["origins"]


def test_a_corrupt_or_forged_index_entry_is_a_miss(tmp_path: Path) -> None:
    import json

    site, cache = tmp_path / "site", tmp_path / "cache"
    site.mkdir()
    _dist(site, "idx_plugin_c", "idxc", "1.0")
    assert _load_in_subprocess(site, cache)["versions"]["idxc"] == "1.0"
    (entry,) = (cache / "entry-points").glob("*.json")
    good = entry.read_bytes()
    data = json.loads(good)
    # a plugin dropped from the rows but not from the metadata hashes: they no longer match
    forged = dict(data, entry_points=[r for r in data["entry_points"] if r[0] != "idxc"])
    bad_versions = dict(data, entry_points=[[*r[:3], "9.9", r[4]] if r[0] == "idxc" else r
                                            for r in data["entry_points"]])
    bad_versions["metadata"] = {k: "0" * 64 for k in data["metadata"]}
    for damaged in (b"", good[: len(good) // 2], b"{not json", b"[]", json.dumps(dict(data, key="0")).encode(),
                    json.dumps(dict(data, entry_points=[[1, 2, 3, 4, 5]])).encode(),
                    json.dumps(bad_versions).encode(), json.dumps(forged).encode()):
        entry.write_bytes(damaged)
        got = _load_in_subprocess(site, cache)
        assert got["metadata"], damaged[:40]  # a miss: read from importlib.metadata
        assert got["versions"]["idxc"] == "1.0"
        assert "idxc" in got["origins"]


def test_only_load_catalog_reads_the_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """candidates() reads the index only when asked (load_catalog asks; the judge's listing does not), and never
    when a test replaced the entry-point scan."""
    from jaxpat.patterns import _discovery, _index, _session

    calls: list[str] = []
    monkeypatch.setattr(_index, "installed_entry_points", lambda group: calls.append(group) or ([], ("", "")))
    _discovery.candidates(None, (), (), _session.Session(strict=False))
    assert calls == []
    _discovery.candidates(None, (), (), _session.Session(strict=False), use_index=True)
    assert calls == ["jaxpat"]
    monkeypatch.setattr(_discovery, "entry_points", lambda group: [])
    _discovery.candidates(None, (), (), _session.Session(strict=False), use_index=True)
    assert calls == ["jaxpat"]


def test_an_indexed_entry_point_loads_as_importlib_metadata_loads_it() -> None:
    import os.path

    from jaxpat.patterns import _discovery

    assert _discovery._entry_point_loader("os.path")() is os.path
    assert _discovery._entry_point_loader("os:path.join")() is os.path.join
    assert _discovery._entry_point_loader("os.path : join [extra]")() is os.path.join
    with pytest.raises(ModuleNotFoundError):
        _discovery._entry_point_loader("no_such_module_jaxpat")()


# ---------------------------------------------------------------------------
# PyYAML is imported on a parse-cache miss only
# ---------------------------------------------------------------------------


def test_a_cache_hit_imports_neither_pyyaml_nor_importlib_metadata(tmp_path: Path) -> None:
    """...nor difflib (suggestions) nor traceback (a plugin's failure), and compiles no YAML character check: what
    only a parse or a problem needs is not paid for by a warm load_catalog()."""
    import json
    import os
    import subprocess
    import sys

    code = ("import json, sys, warnings\nwarnings.simplefilter('ignore')\nfrom jaxpat import patterns\n"
            "cat = patterns.load_catalog()\nfrom jaxpat.catalog import _yaml\n"
            "print(json.dumps([len(cat.ids()), sorted(m for m in sys.modules if m in ('yaml', 'numpy', 'jax', "
            "'difflib', 'traceback') or m.startswith(('yaml.', 'importlib.metadata', 'jax.', 'jaxlib'))"
            ") + ['regex'] * len(_yaml._NON_PRINTABLE_RE)]))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAXPAT_")}
    env["JAXPAT_CACHE_DIR"] = str(tmp_path / "cache")

    def run() -> list[Any]:
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                              check=False)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout.splitlines()[-1])

    n, cold = run()
    assert "yaml" in cold  # a miss parses the YAML
    assert "importlib.metadata" in cold
    assert "regex" in cold  # the parse checked the characters
    again, warm = run()
    assert again == n
    assert warm == []  # no PyYAML, importlib.metadata, difflib, traceback, regex, and (as always) no JAX or NumPy


def test_the_parse_cache_key_follows_pyyaml_s_installed_files(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The key stands in for PyYAML's version and libyaml with its files: another version, or the libyaml
    extension added or removed, gives another key."""
    import importlib.machinery
    import importlib.util

    from jaxpat.catalog import _parse_cache, _yaml

    pkg = tmp_path / "yaml"
    pkg.mkdir()
    init = pkg / "__init__.py"
    real_find_spec = importlib.util.find_spec
    spec = importlib.machinery.ModuleSpec("yaml", None, origin=str(init), is_package=True)
    spec.submodule_search_locations = [str(pkg)]
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: spec if name == "yaml" else real_find_spec(name, *a))

    def key() -> str | None:
        monkeypatch.setattr(_parse_cache, "_parser_version", None)  # computed again, from the files now
        return _parse_cache._key(b"a: 1\n", _yaml.DEFAULT_LIMITS)

    init.write_text("__version__ = '6.0.1'\n")
    first = key()
    assert first is not None
    assert key() == first
    init.write_text("__version__ = '6.0.2'\n")
    second = key()
    assert second != first
    (pkg / "_yaml.cpython-312-x86_64-linux-gnu.so").write_bytes(b"\0" * 10)
    third = key()
    assert third not in (first, second)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    assert key() is None  # no PyYAML found: no cache
    monkeypatch.setattr(_parse_cache, "_parser_version", None)


# ---------------------------------------------------------------------------
# version texts: the plain ones are accepted without packaging, the same verdict as packaging's
# ---------------------------------------------------------------------------

VERSIONS = ["0.10.2", "1", " 0.4.26 ", "0.4.dev1", "1.0rc1", "v1.0", "0.4-1", "1..2", "", "٣.١", "0.4.*", "abc"]
SPECS = [">=0.4", "<0.5,>=0.4.1", "==0.10.2", "!=0.4", ">0.4, <1", "0.4.26", "~=0.4", "~=1", "==0.4.*", ">=",
         ">= 0.4", "<0.5,", "=>0.4", ">=0.4.dev0", "<<1", ">=٣", "===0.4"]


@pytest.mark.parametrize("spec", [False, True])
def test_version_problem_says_what_packaging_says(spec: bool) -> None:
    """The fast path for plain versions agrees with packaging itself (the oracle) on valid and invalid texts."""
    from packaging.specifiers import InvalidSpecifier, Specifier
    from packaging.version import InvalidVersion, Version

    from jaxpat.catalog._model import version_problem

    def packaging_accepts(text: str) -> bool:
        try:
            if spec:
                for clause in text.split(","):
                    c = clause.strip()
                    if not c:
                        return False
                    Specifier("==" + c if c[:1].isdigit() else c)
            else:
                Version(text.strip())
        except (InvalidSpecifier, InvalidVersion):
            return False
        return True

    for text in SPECS if spec else VERSIONS:
        assert (version_problem(text, spec=spec) is None) == packaging_accepts(text), text


# ---------------------------------------------------------------------------
# the garbage collector is paused while a load builds its objects (catalog/_loader.py)
# ---------------------------------------------------------------------------

def test_a_load_pauses_the_collector_and_resumes_it_even_when_the_catalog_is_invalid(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    seen: list[bool] = []
    real = _loader.check_document

    def check(doc: Any) -> Any:
        seen.append(gc.isenabled())
        return real(doc)

    monkeypatch.setattr(_loader, "check_document", check)
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(ONE.format(last=4))
    bad.write_text(ONE.format(last=4).replace("family: scan", "family: nope"))
    assert gc.isenabled()
    catalog.load([good], use_cache=False)
    assert seen == [False]
    assert gc.isenabled()
    with pytest.raises(catalog.CatalogError, match="family"):
        catalog.load([bad], use_cache=False)
    assert seen == [False, False]
    assert gc.isenabled()
    gc.disable()  # a caller that turned it off keeps it off
    try:
        catalog.load([good], use_cache=False)
        assert not gc.isenabled()
    finally:
        gc.enable()


# ---------------------------------------------------------------------------
# the build merges each combination of tolerance tables once (catalog/_build.py)
# ---------------------------------------------------------------------------

TOLERANCES = """\
version: 1
defaults:
  tolerance: {float32: {rtol: 1.0e-3}}
patterns:
  - id: tol-a
    family: scan
    title: Tolerances
    summary: three cases, two of them with their own table
    source: {doc: "https://example.org"}
    signature: {args: [xs]}
    tolerance: {float32: {atol: 1.0e-4}, platforms: {gpu: {float32: {rtol: 0.5}}}}
    cases:
%(cases)s
  - id: tol-b
    family: scan
    title: No table
    summary: the file's defaults only
    source: {doc: "https://example.org"}
    signature: {args: [xs]}
    cases:
%(cases)s
"""
CASE = """\
      - id: c%d
        args: {xs: {$array: [1.0], dtype: float32}}
        expect: {$array: [1.0], dtype: float32}
        provenance: {kind: math, note: "a test fixture"}
"""


def test_every_case_gets_the_merge_of_its_own_tolerance_tables(tmp_path: Path) -> None:
    from jaxpat.catalog._build import merge_tolerance

    tables = ["", "        tolerance: {float32: {rtol: 0.25}}\n", "", "        tolerance: {float64: {atol: 2.0}}\n"]
    cases = "".join(CASE % i + t for i, t in enumerate(tables))
    f = tmp_path / "tol.yaml"
    f.write_text(TOLERANCES % {"cases": cases})
    for path, cat in ((f, catalog.load([f], use_cache=False)), (_loader.SHIPPED, catalog.load(use_cache=False))):
        data = _loader.parse(path.read_bytes(), path.name).data
        defaults = (data.get("defaults") or {}).get("tolerance")
        for raw, built in zip(data["patterns"], cat, strict=True):
            for raw_case, case in zip(raw["cases"], built.cases, strict=True):
                layers = [("catalog defaults", defaults), ("pattern", raw.get("tolerance")),
                          ("case", raw_case.get("tolerance"))]
                assert case.tolerance == merge_tolerance(layers), (built.id, case.id)
    small = catalog.load([f], use_cache=False)
    a, b = small.get("tol-a").cases, small.get("tol-b").cases
    assert a[1].tolerance.table["float32"] == (0.25, 1e-4)  # the case's rtol over the pattern's atol
    assert a[0].tolerance.table["float32"] == a[2].tolerance.table["float32"] == (1e-3, 1e-4)
    assert a[3].tolerance.table["float64"][1] == 2.0
    assert a[0].tolerance.platforms["gpu"]["float32"][0] == 0.5
    assert b[0].tolerance.table["float32"][1] != 1e-4  # tol-b has no pattern table: not tol-a's merge
    assert "gpu" not in b[0].tolerance.platforms
