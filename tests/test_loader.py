"""Loading catalogs: the safe YAML layer, every validation rule with its location, and the model built."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from jaxpat import catalog
from jaxpat.catalog import CatalogError, Problem
from jaxpat.catalog._yaml import Limits, parse

BASE = """\
version: 1
patterns:
  - id: scan-cumsum
    family: scan
    title: Cumulative sum
    summary: Carry the running total.
    source: {seed: s.txt}
    signature: {args: [xs, n], static: [n]}
    cases:
      - id: basic
        args: {xs: {$array: [1, 2], dtype: int32}, n: 2}
        expect: {$array: [1, 3], dtype: int32}
        provenance: {kind: math}
"""


def _edit(old: str, new: str) -> str:
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


def _problems(write_yaml, text: str) -> list[Problem]:
    path = write_yaml(text, "c.yaml")
    with pytest.raises(CatalogError) as info:
        catalog.load_files([path])
    return list(info.value.problems)


def _column(text: str, line: int, marker: str) -> int:
    return text.splitlines()[line - 1].index(marker) + 1


# -- the happy path ------------------------------------------------------------------------


def test_base_catalog_is_valid(write_yaml):
    """The catalog every rule test starts from loads cleanly."""
    cat = catalog.load_files([write_yaml(BASE)])
    assert cat.ids() == ["scan-cumsum"]


def test_valid_catalog_builds_the_model(write_yaml, valid_text):
    """Every field of a valid catalog lands in the immutable model."""
    cat = catalog.load_files([write_yaml(valid_text)])
    assert (len(cat), cat.n_cases(), cat.files) == (2, 5, ("catalog.yaml",))
    scan = cat.get("scan-cumsum")
    assert scan.family == "scan"
    assert scan.tags == ("loop-carry", "scan")
    assert scan.summary.startswith("Carry the running total")
    assert scan.signature == catalog.Signature(("xs",), ())
    assert scan.claims.grad == catalog.GradClaim(forward=True, reverse=catalog.Raises("ValueError"))
    assert scan.claims.memory is not None
    assert scan.claims.memory.sizes == (100, 1000)
    assert scan.deviations[0].when.case == "floats"
    assert scan.case("ints").expect == catalog.ArrayValue("int32", (5,), (0, 1, 3, 6, 10))
    jit = cat.get("jit-python-if")
    positive = jit.case("positive")
    assert positive.expected("jit") == catalog.ExpectedError("TracerBoolConversionError", "traced")
    assert positive.expected("eager") == 2.0
    assert positive.grad is not None
    assert positive.grad.wrt == "x"
    assert dict(positive.config) == {"jax_enable_x64": False, "jax_numpy_rank_promotion": "raise"}
    provenance = catalog.Provenance("observed", jax="0.10.2", note="read from jax.random directly")
    assert jit.case("keys").provenance == provenance
    assert jit.case("keys").args["x"] == catalog.KeyValue(0)


def test_transforms_come_from_case_pattern_defaults_then_builtin(write_yaml, valid_text):
    """A case runs its own transforms, else its pattern's, else the file's defaults, else eager and jit."""
    cat = catalog.load_files([write_yaml(valid_text)])
    assert cat.get("scan-cumsum").case("ints").transforms == ("eager", "jit", "vmap")
    assert cat.get("jit-python-if").case("keys").transforms == ("eager",)
    base = catalog.load_files([write_yaml(BASE, "b.yaml")])
    assert base.get("scan-cumsum").cases[0].transforms == ("eager", "jit")


def test_tolerance_layers_merge_and_record_their_source(write_yaml, valid_text):
    """Tolerances merge built-in < file defaults < pattern < case, per field, with platform overrides."""
    cat = catalog.load_files([write_yaml(valid_text)])
    jit_case = cat.get("jit-python-if").case("positive").tolerance
    assert jit_case.for_dtype("float32") == (1e-5, 1e-6, "catalog defaults")
    assert jit_case.for_dtype("float32", "gpu") == (1e-5, 1e-4, "catalog defaults (gpu override)")
    assert jit_case.for_dtype("float16") == (1e-3, 1e-3, "built-in default")
    floats = cat.get("scan-cumsum").case("floats").tolerance
    assert floats.for_dtype("float32") == (1e-3, 1e-6, "case")
    assert floats.for_dtype("float32", "tpu") == (1e-2, 1e-6, "case (tpu override)")
    # A case's plain entry also beats a platform override declared by a lower layer.
    assert floats.for_dtype("float32", "gpu")[:2] == (1e-3, 1e-6)
    assert floats.for_dtype("int32") == (0.0, 0.0, "built-in default")


def test_vmap_axes_default_to_zero_and_static_to_none(write_yaml, valid_text):
    """Every argument gets an axis: declared ones as given, others 0, static ones None."""
    cat = catalog.load_files([write_yaml(valid_text)])
    assert dict(cat.get("jit-python-if").vmap_axes) == {"x": 0, "mode": None}
    base = catalog.load_files([write_yaml(BASE, "b.yaml")])
    assert dict(base.get("scan-cumsum").vmap_axes) == {"xs": 0, "n": None}


def test_locations_point_at_patterns_and_cases(write_yaml):
    """Patterns and cases record file, line and column of their first key."""
    cat = catalog.load_files([write_yaml(BASE)])
    pattern = cat.get("scan-cumsum")
    assert str(pattern.location) == "catalog.yaml:3:5"
    assert str(pattern.cases[0].location) == "catalog.yaml:10:9"
    assert pattern.origin == "catalog.yaml"


def test_the_model_is_immutable(write_yaml, valid_text):
    """Dataclasses are frozen and mappings are read-only proxies."""
    cat = catalog.load_files([write_yaml(valid_text)])
    pattern = cat.patterns[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        pattern.id = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        pattern.cases[0].args["xs"] = 1  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        pattern.claims.jit = False  # type: ignore[misc]
    assert isinstance(cat.patterns, tuple)
    assert pattern.claims.memory is not None
    assert isinstance(pattern.claims.memory.sizes, tuple)


def test_digest_is_sha256_of_file_bytes_sorted_by_name(write_yaml, valid_text):
    """The digest depends on the files' bytes only, not on the order they are given in."""
    a, b = write_yaml(valid_text, "a.yaml"), write_yaml(BASE.replace("scan-cumsum", "other"), "b.yaml")
    first = catalog.load_files([a, b]).digest
    assert first == catalog.load_files([b, a]).digest
    expected = hashlib.sha256()
    for raw in (a.read_bytes(), b.read_bytes()):
        expected.update(len(raw).to_bytes(8, "big") + raw)
    assert first == expected.hexdigest()
    b.write_text(b.read_text() + "# a comment changes the bytes\n")
    assert catalog.load_files([a, b]).digest != first


def test_files_are_named_relative_to_the_working_directory(write_yaml, tmp_path):
    """Problems name files relative to the working directory, not by absolute path."""
    (tmp_path / "sub").mkdir()
    path = write_yaml(BASE.replace("family: scan", "family: nope"), "sub/x.yaml")
    problems = catalog.validate([path.resolve()])
    assert problems[0].file == str(Path("sub", "x.yaml"))


def test_a_utf8_bom_is_accepted_and_lines_stay_right(write_yaml):
    """A UTF-8 byte-order mark is skipped; locations are unaffected."""
    text = BASE.replace("family: scan", "family: nope")
    problems = catalog.validate([write_yaml(b"\xef\xbb\xbf" + text.encode())])
    assert [(p.line, p.column) for p in problems] == [(4, 13)]


def test_validate_never_raises_and_never_writes(write_yaml):
    """validate() returns problems (or an empty list) and leaves the file untouched."""
    good = write_yaml(BASE, "good.yaml")
    bad = write_yaml(BASE.replace("version: 1", "version: 1\nextra: 1"), "bad.yaml")
    before = (bad.read_bytes(), bad.stat().st_mtime_ns)
    assert catalog.validate([good]) == []
    problems = catalog.validate([bad])
    assert [p.message for p in problems] == ["unknown top-level field `extra`"]
    assert (bad.read_bytes(), bad.stat().st_mtime_ns) == before


def test_missing_file_is_a_problem(write_yaml):
    """A path that cannot be read is reported as a problem of that file."""
    write_yaml(BASE)
    problems = catalog.validate(["missing.yaml"])
    assert str(problems[0]) == "missing.yaml: cannot read the file: No such file or directory"


# -- the shipped catalog and plugins --------------------------------------------------------


@pytest.mark.skipif(not catalog._loader.SHIPPED.exists(), reason="no catalog.yaml in this checkout")
def test_shipped_catalog_is_parsed_once_then_read_from_the_parse_cache(tmp_path, monkeypatch):
    """load() reads the shipped catalog, which is valid; what makes a second load cheap is counted, not timed:
    the first load parses the YAML once, the second parses nothing (a parse-cache hit) and gives an equal
    catalog. (Its speed is benchmark figure 5.)"""
    from jaxpat.catalog import _parse_cache

    monkeypatch.setenv("JAXPAT_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("JAXPAT_DISABLE_CATALOG_CACHE", raising=False)
    parses = []
    real_parse = _parse_cache.parse

    def counting_parse(raw, file, *args, **kwargs):
        parses.append(file)
        return real_parse(raw, file, *args, **kwargs)

    monkeypatch.setattr(_parse_cache, "parse", counting_parse)
    first = catalog.load()
    assert len(first) > 0
    assert first.files
    assert len(parses) == 1  # one file, parsed once
    assert list((tmp_path / "catalog").glob("*.json"))  # and stored
    second = catalog.load()
    assert len(parses) == 1  # nothing parsed again
    assert second.to_dict() == first.to_dict()
    monkeypatch.setenv("JAXPAT_DISABLE_CATALOG_CACHE", "1")  # the counter does see a parse when one happens
    catalog.load()
    assert len(parses) == 2


@pytest.mark.skipif(not catalog._loader.SHIPPED.exists(), reason="no catalog.yaml in this checkout")
def test_import_and_load_do_not_import_jax_or_numpy():
    """`import jaxpat.catalog` and `catalog.load()` import neither JAX nor NumPy."""
    code = (
        "import sys; from jaxpat import catalog; catalog.load(); "
        "assert 'jax' not in sys.modules and 'numpy' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.skipif(not catalog._loader.SHIPPED.exists(), reason="no catalog.yaml in this checkout")
def test_load_is_the_pure_catalog(tmp_path):
    """catalog.load() consults no plugin: with a plugin installed (an entry point), it imports neither
    the plugin's module nor the patterns layer, and reads only the shipped file."""
    (tmp_path / "probe_plugin.py").write_text("raise SystemExit('the catalog layer imported a plugin')\n")
    dist = tmp_path / "probe_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: probe-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[jaxpat]\nprobe = probe_plugin\n")
    code = (
        "import sys; from importlib.metadata import entry_points; from jaxpat import catalog\n"
        "assert [e.name for e in entry_points(group='jaxpat') if e.name == 'probe'] == ['probe']\n"
        "cat = catalog.load()\n"
        "assert 'probe_plugin' not in sys.modules, 'plugin imported'\n"
        "assert not [m for m in sys.modules if m.startswith('jaxpat.patterns')], 'patterns layer imported'\n"
        "assert [p.origin for p in cat] == ['catalog.yaml'] * len(cat) and len(cat.files) == 1, cat.files\n"
        "print('ok')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "ok"


def test_extra_files_carry_their_origin(write_yaml, valid_text):
    """Patterns from an extra (origin, path) file carry that origin; the files and digest include it."""
    extra = write_yaml(BASE.replace("scan-cumsum", "plugin-pattern"), "plugin.yaml")
    main = write_yaml(valid_text)
    cat = catalog.load([main], extra=[("myplugin", extra)])
    assert cat.get("plugin-pattern").origin == "myplugin"
    assert cat.get("scan-cumsum").origin == "catalog.yaml"
    assert cat.files == ("catalog.yaml", "plugin.yaml")
    alone = catalog.load([main])
    assert "plugin-pattern" not in alone
    assert alone.digest != cat.digest
    # The digest depends on the bytes, not on who contributed the file.
    assert catalog.load([main, extra]).digest == cat.digest


def test_duplicate_ids_across_files_name_both_locations(write_yaml):
    """An extra file's pattern whose id is already declared is reported at the copy, naming the first."""
    extra = write_yaml(BASE, "plugin.yaml")
    with pytest.raises(CatalogError) as info:
        catalog.load([write_yaml(BASE)], extra=[("myplugin", extra)])
    (problem,) = info.value.problems
    assert str(problem) == (
        "plugin.yaml:3:9: pattern 'scan-cumsum', field 'id': "
        "duplicate pattern id 'scan-cumsum' (first declared at catalog.yaml:3:9)"
    )
    assert catalog.validate([write_yaml(BASE)], extra=[("myplugin", extra)]) == [problem]


def test_base_catalog_in_front(write_yaml, valid_text):
    """load(base=...) puts an in-memory catalog first; its ids count for duplicates; its digest counts."""
    base = catalog.load([write_yaml(valid_text)])
    extra = write_yaml(BASE.replace("scan-cumsum", "plugin-pattern"), "plugin.yaml")
    cat = catalog.load(base=base, extra=[("p", extra)])
    assert cat.ids() == [*base.ids(), "plugin-pattern"]
    assert cat.files == (*base.files, "plugin.yaml")
    assert cat.get("plugin-pattern").origin == "p"
    assert cat.digest not in (base.digest, catalog.load([extra]).digest)
    with pytest.raises(CatalogError, match="duplicate pattern id 'scan-cumsum'"):
        catalog.load(base=base, extra=[("p", write_yaml(BASE, "dup.yaml"))])
    with pytest.raises(TypeError):
        catalog.load([extra], base=base)


def test_config_allow_list_names_exist_in_jax():
    """Every name in the static JAX config allow-list is a real option of the installed JAX."""
    jax = pytest.importorskip("jax")
    from jaxpat.catalog._format import JAX_CONFIG

    assert sorted(set(JAX_CONFIG) - set(jax.config.values)) == []


# -- YAML safety and limits -------------------------------------------------------------------


def test_pure_python_and_libyaml_parsers_agree(valid_text):
    """The libyaml parser and the pure-Python fallback give the same data and marks."""
    fast, slow = parse(valid_text.encode(), "v"), parse(valid_text.encode(), "v", pure=True)
    assert repr(fast.data) == repr(slow.data)
    assert fast.marks == slow.marks
    assert fast.key_marks == slow.key_marks


def test_yaml_12_exponent_floats_are_floats():
    """`1e-6` and `1.0e6` are floats, as in YAML 1.2 and editors' schemas (PyYAML alone reads strings)."""
    doc = parse(b"a: [1e-6, 1.0e6, -2E+3, .5e1, 1_000, '1e3']", "f")
    assert doc.data == {"a": [1e-6, 1e6, -2000.0, 5.0, 1000, "1e3"]}


@pytest.mark.parametrize(
    ("limits", "text", "message"),
    [
        (Limits(max_nodes=10), "a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]", "more than 10 YAML nodes"),
        (Limits(max_nodes=50), "a: &a [1, 2, 3, 4]\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]", "more than 50"),
        (Limits(max_depth=3), "a: [[[[1]]]]", "nesting is deeper than 3 levels"),
        (Limits(max_scalar=5), "a: abcdef", "scalar is 6 characters long; the limit is 5"),
        (Limits(max_bytes=5), "a: abcdef", "file is 9 bytes; the limit is 5"),
    ],
    ids=["nodes", "aliases-count-each-use", "depth", "scalar", "bytes"],
)
def test_limits_are_enforced(limits, text, message):
    """The node budget (aliases counted at every use), depth, scalar length and file size are bounded."""
    with pytest.raises(CatalogError, match=message):
        parse(text.encode(), "f", limits)


def test_alias_bomb_fails_fast():
    """A billion-laughs document is rejected without expanding it: memory stays far below one expansion's."""
    import tracemalloc

    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    tracemalloc.start()
    try:
        with pytest.raises(CatalogError, match="more than 200000 YAML nodes"):
            parse("\n".join(lines).encode(), "bomb.yaml")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20  # 10**10 expanded nodes would need terabytes


def test_all_yaml_problems_are_reported_together():
    """Duplicate keys, bad keys and forbidden tags are collected, not just the first."""
    with pytest.raises(CatalogError) as info:
        parse(b"a: 1\na: 2\n1: x\nb: !!python/name:os.system ''\n", "f.yaml")
    assert [(p.line, p.column) for p in info.value.problems] == [(2, 1), (3, 1), (4, 4)]
    assert str(info.value).splitlines()[0] == "3 problems in the catalog:"


# -- every validation rule, located -------------------------------------------------------------

RULES = [
    # id, old, new, (line, marker), pattern, field, message
    ("unknown-field", "    family: scan\n", "    famliy: scan\n", (4, "famliy"), "scan-cumsum", "famliy",
     "unknown field `famliy` (did you mean `family`?)"),
    ("missing-field", "    family: scan\n", "", (3, "id"), "scan-cumsum", "family",
     "missing required field `family`"),
    ("unknown-family", "family: scan", "family: scna", (4, "scna"), "scan-cumsum", "family",
     "unknown family 'scna' (did you mean `scan`?)"),
    ("bad-id", "id: scan-cumsum", "id: Scan_Cumsum", (3, "Scan"), "Scan_Cumsum", "id", "is not a kebab-case id"),
    ("title-type", "title: Cumulative sum", "title: [a]", (5, "[a]"), "scan-cumsum", "title",
     "expected a string, got a list"),
    ("unknown-dtype", "[1, 3], dtype: int32", "[1, 3], dtype: int23", (12, "int23"), "scan-cumsum",
     "cases[0].expect.dtype", "unknown dtype 'int23' (did you mean `int32`?)"),
    ("unknown-form", "expect: {$array: [1, 3]", "expect: {$arrray: [1, 3]", (12, "$arrray"), "scan-cumsum",
     "cases[0].expect.$arrray", "unknown typed value `$arrray` (did you mean `$array`?)"),
    ("ragged", "{xs: {$array: [1, 2]", "{xs: {$array: [[1, 2], [3]]", (11, "[3]"), "scan-cumsum",
     "cases[0].args.xs.$array[1]", "ragged array: row 1 has shape [1], row 0 has [2]"),
    ("nan-in-int", "{xs: {$array: [1, 2]", "{xs: {$array: [1, .nan]", (11, "[1, .nan]"), "scan-cumsum",
     "cases[0].args.xs.$array", "element 1 (nan) is not an integer, but dtype is int32"),
    ("unknown-arg", "args: {xs:", "args: {xz:", (11, "xz"), "scan-cumsum", "cases[0].args.xz",
     "unknown argument `xz` (did you mean `xs`?); the signature's args are: xs, n"),
    ("missing-arg", ", n: 2}", "}", (11, "{xs"), "scan-cumsum", "cases[0].args.n",
     "missing argument `n`; the signature's args are: xs, n"),
    ("unhashable-static", "n: 2}", "n: [7, 8]}", (11, "[7, 8]"), "scan-cumsum", "cases[0].args.n",
     "static argument `n` must be hashable"),
    ("static-not-arg", "static: [n]", "static: [m]", (8, "m]"), "scan-cumsum", "signature.static[0]",
     "static argument `m` is not one of the args (xs, n)"),
    ("negative-tolerance", "        provenance", "        tolerance: {float32: {rtol: -1.0}}\n        provenance",
     (13, "-1.0"), "scan-cumsum", "cases[0].tolerance.float32.rtol", "must be >= 0, got -1.0"),
    ("unknown-config", "        provenance", "        config: {jax_enable_x46: true}\n        provenance",
     (13, "jax_enable_x46"), "scan-cumsum", "cases[0].config.jax_enable_x46",
     "unknown JAX config option `jax_enable_x46` (did you mean `jax_enable_x64`?)"),
    ("duplicate-case", "        provenance: {kind: math}\n",
     "        provenance: {kind: math}\n" + textwrap.indent(BASE.split("    cases:\n")[1], ""),
     (14, "basic"), "scan-cumsum", "cases[1].id", "duplicate case id 'basic' (first declared at line 10, column 13)"),
    ("grad-without-block", "    cases:", "    transforms: [eager, grad]\n    cases:", (11, "id"), "scan-cumsum",
     "cases[0].grad", "the case runs the `grad` transform but has no `grad"),
    ("grad-wrt-static", "        provenance", "        transforms: [grad]\n        grad: {wrt: n, expect: 0}\n"
     "        provenance", (14, "n,"), "scan-cumsum", "cases[0].grad.wrt",
     "cannot differentiate with respect to static argument `n`"),
    ("expect-under-not-run", "        provenance", "        expect_under: {vmap: 1}\n        provenance",
     (13, "vmap"), "scan-cumsum", "cases[0].expect_under.vmap", "which this case does not run (it runs: eager, jit)"),
    ("unknown-transform", "    cases:", "    transforms: [jitt]\n    cases:", (9, "jitt"), "scan-cumsum",
     "transforms[0]", "unknown transform 'jitt' (did you mean `jit`?)"),
    ("unknown-provenance", "{kind: math}", "{kind: guess}", (13, "guess"), "scan-cumsum",
     "cases[0].provenance.kind", "unknown provenance kind 'guess'"),
    ("seed-without-printed", "{kind: math}", "{kind: seed, seed: s.txt}", (13, "{kind"), "scan-cumsum",
     "cases[0].provenance.printed", "missing required field `printed`"),
    ("observed-unquoted", "{kind: math}", "{kind: observed, jax: 0.5}", (13, "0.5"), "scan-cumsum",
     "cases[0].provenance.jax", "expected a string, got the number 0.5 (quote it to make a string)"),
    ("bad-error-name", "expect: {$array: [1, 3], dtype: int32}", "expect: {$error: os.system}", (12, "os.system"),
     "scan-cumsum", "cases[0].expect.$error", "`$error` names a builtin exception"),
    ("key-in-expect", "expect: {$array: [1, 3], dtype: int32}", "expect: {$key: 1}", (12, "$key"),
     "scan-cumsum", "cases[0].expect.$key", "`$key` is only allowed in case arguments"),
    ("x64-without-config", "[1, 3], dtype: int32", "[1, 3], dtype: int64", (12, "{$array"), "scan-cumsum",
     "cases[0].expect", "a int64 result needs `config: {jax_enable_x64: true}`"),
    ("base-case", "    cases:", "    claims: {base_case: basics}\n    cases:", (9, "basics"), "scan-cumsum",
     "claims.base_case", "no case 'basics' in this pattern (did you mean `basic`?)"),
    ("memory-param", "    cases:", "    claims: {memory: {param: m, sizes: [1, 2], forward: constant}}\n    cases:",
     (9, "m,"), "scan-cumsum", "claims.memory.param", "`m` is not one of the args"),
    ("deviation-case", "    cases:", "    deviations: [{when: {case: nope}, reason: r}]\n    cases:", (9, "nope"),
     "scan-cumsum", "deviations[0].when.case", "no case 'nope' in this pattern"),
    ("deviation-spec", "    cases:", "    deviations: [{when: {jax: \"~0.5\"}, reason: r}]\n    cases:",
     (9, '"~0.5"'), "scan-cumsum", "deviations[0].when.jax", "is not a version spec"),
    ("deviation-spec-pep440", "    cases:", "    deviations: [{when: {jax: \">=0.4.x\"}, reason: r}]\n    cases:",
     (9, '">=0.4.x"'), "scan-cumsum", "deviations[0].when.jax", "not a PEP 440 version spec: '>=0.4.x'"),
    ("deviation-spec-wildcard", "    cases:", "    deviations: [{when: {jax: \"<0.5.*\"}, reason: r}]\n    cases:",
     (9, '"<0.5.*"'), "scan-cumsum", "deviations[0].when.jax", "not a PEP 440 version spec: '<0.5.*'"),
    ("deviation-spec-empty-clause", "    cases:", "    deviations: [{when: {jax: \">=0.4,,<1\"}, reason: r}]\n"
     "    cases:", (9, '">=0.4'), "scan-cumsum", "deviations[0].when.jax", "is not a version spec"),
    ("observed-not-pep440", "{kind: math}", "{kind: observed, jax: \"0.10.2abc\"}", (13, '"0.10'), "scan-cumsum",
     "cases[0].provenance.jax", "not a PEP 440 version: '0.10.2abc'"),
    ("vmap-arg", "    cases:", "    vmap: {in_axes: {ys: 0}}\n    cases:", (9, "ys"), "scan-cumsum",
     "vmap.in_axes.ys", "`ys` is not one of the args (xs, n) (did you mean `xs`?)"),
    ("version", "version: 1", "version: 2", (1, "2"), None, "version",
     "unsupported catalog format version: got the number 2; this jaxpat reads `version: 1`"),
    ("no-cases", BASE[BASE.index("    cases:"):], "    cases: []\n", (9, "[]"), "scan-cumsum", "cases",
     "a pattern needs at least one case"),
    ("title-lines", "title: Cumulative sum", 'title: "a\\nb"', (5, '"a'), "scan-cumsum", "title",
     "must fit on one line"),
    ("no-source", "source: {seed: s.txt}", "source: {section: s}", (7, "{section"), "scan-cumsum", "source",
     "needs at least one of `seed`, `doc`"),
]


@pytest.mark.parametrize(("old", "new", "where", "pattern", "field", "message"), [r[1:] for r in RULES],
                         ids=[r[0] for r in RULES])
def test_each_rule_reports_its_location(write_yaml, old, new, where, pattern, field, message):
    """Each validation rule reports file:line:column, the pattern id, the field path and a clear message."""
    text = _edit(old, new)
    line, marker = where
    matching = [p for p in _problems(write_yaml, text) if message in p.message]
    assert matching, f"no problem says {message!r}"
    problem = matching[0]
    assert (problem.file, problem.line, problem.column) == ("c.yaml", line, _column(text, line, marker))
    assert (problem.pattern, problem.field) == (pattern, field)


def test_empty_patterns_and_empty_files(write_yaml):
    """An empty file and an empty pattern list are problems with their own messages."""
    assert "the file is empty" in str(_problems(write_yaml, "# nothing\n")[0])
    assert "the catalog declares no patterns" in str(_problems(write_yaml, "version: 1\npatterns: []\n")[0])


def test_every_problem_is_collected(write_yaml):
    """Problems in several patterns and files are all reported, in file order, in one CatalogError."""
    second = BASE.replace("scan-cumsum", "other").replace("family: scan", "family: nope")
    first = write_yaml(BASE.replace("title: Cumulative sum", "title: 3").replace("int32}, n", "int33}, n"), "a.yaml")
    with pytest.raises(CatalogError) as info:
        catalog.load_files([first, write_yaml(second, "b.yaml")])
    located = [(p.file, p.line) for p in info.value.problems]
    assert located == [("a.yaml", 5), ("a.yaml", 11), ("b.yaml", 4)]
    assert len(str(info.value).splitlines()) == 4


def test_catalog_error_pickles_with_its_problems():
    """A CatalogError survives pickling (worker processes send errors back) with every problem."""
    error = CatalogError([Problem("a.yaml", 1, 2, "x", "p", "f"), Problem("b.yaml", 0, 0, "y")])
    again = pickle.loads(pickle.dumps(error))
    assert again.problems == error.problems
    assert str(again) == str(error)


def test_problem_str_format():
    """A problem reads `file:line:col: pattern 'id', field 'path': message`."""
    problem = Problem("catalog.yaml", 12, 7, "unknown dtype 'int23'", "scan-cumsum", "cases[0].expect")
    assert str(problem) == "catalog.yaml:12:7: pattern 'scan-cumsum', field 'cases[0].expect': unknown dtype 'int23'"
    assert str(Problem("c.yaml", 0, 0, "cannot read the file")) == "c.yaml: cannot read the file"
