"""Generated inputs against oracles (docs/explore.md): the catalog schema, the oracles, the judge's exploration."""

from __future__ import annotations

import textwrap

import pytest
from jaxpat.catalog import CatalogError
from jaxpat.catalog._loader import _load_bytes

_PATTERN = """\
version: 1
patterns:
  - id: cum
    family: scan
    title: t
    summary: s
    source: {{doc: d}}
    signature: {{args: [xs, k], static: [k]}}
{explore}
    cases:
      - id: c
        args: {{xs: {{$array: [1, 2], dtype: int32}}, k: 1}}
        expect: {{$array: [1, 3], dtype: int32}}
        provenance: {{kind: math}}
"""


def _load(explore: str) -> object:
    text = _PATTERN.format(explore=textwrap.indent(textwrap.dedent(explore).strip("\n"), "    "))
    return _load_bytes([("mine.yaml", text.encode())])


def _problems(explore: str) -> list[str]:
    with pytest.raises(CatalogError) as err:
        _load(explore)
    return [str(p) for p in err.value.problems]


GOOD = """\
explore:
  oracle: scan.cumsum
  sizes: {n: [0, 1, 5]}
  dtypes: {T: [int32, float32]}
  args:
    xs: {kind: array, shape: [n], dtype: T}
    k: {kind: size, of: n}
  where: ["n >= 1"]
"""


def test_a_domain_loads_into_the_model() -> None:
    cat = _load(GOOD)
    ex = cat.get("cum").explore  # type: ignore[attr-defined]
    assert ex.oracle == "scan.cumsum"
    assert ex.has_oracle
    assert ex.sizes == {"n": (0, 1, 5)}
    assert ex.dtypes == {"T": ("int32", "float32")}
    assert str(ex.where[0]) == "n >= 1"
    assert ex.to_dict()["args"]["k"] == {"kind": "size", "of": "n"}


def test_a_skip_loads_with_its_reason() -> None:
    cat = _load('explore: {skip: "the output is an error"}')
    ex = cat.get("cum").explore  # type: ignore[attr-defined]
    assert ex.skip == "the output is an error"
    assert not ex.has_oracle


@pytest.mark.parametrize(("explore", "field", "fragment"), [
    (GOOD.replace("scan.cumsum", "os.system()"), "explore.oracle", "is not an oracle name"),
    (GOOD.replace("shape: [n]", "shape: [q]"), "explore.args.xs.shape[0]", "`q` is not a size declared"),
    (GOOD.replace("dtype: T", "dtype: U"), "explore.args.xs.dtype", "neither a dtype nor a dtype variable"),
    (GOOD.replace("of: n", "of: m"), "explore.args.k.of", "`m` is not a size"),
    (GOOD.replace("    k: {kind: size, of: n}\n", ""), "explore.args", "missing a generator for argument `k`"),
    (GOOD.replace("k: {kind: size", "kk: {kind: size"), "explore.args.kk", "unknown argument `kk`"),
    (GOOD.replace("k: {kind: size, of: n}", "k: {kind: array, shape: [n], dtype: int32}"),
     "explore.args.k.kind", "static argument `k` must be drawn as a hashable value"),
    (GOOD.replace('"n >= 1"', '"n >= 1 or True"'), "explore.where[0]", "is not a constraint"),
    (GOOD.replace('"n >= 1"', '"z >= 1"'), "explore.where[0]", "`z` is neither a size"),
    (GOOD.replace("[0, 1, 5]", "[0, 1, 5000]"), "explore.sizes.n[2]", "at most 4096"),
    (GOOD.replace("kind: array", "kind: arrray"), "explore.args.xs.kind", "did you mean `array`"),
    (GOOD.replace("dtype: T}", "dtype: T, min: 5, max: 1}"), "explore.args.xs.min", "min 5 is above max 1"),
    (GOOD.replace("oracle: scan.cumsum", "oracle: scan.cumsum\n  grad: {oracle: scan.cumsum}"), "explore.grad",
     "needs a case with `grad"),
    (GOOD.replace("  where", "  wheer"), "explore.wheer", "did you mean `where`"),
])
def test_schema_problems_name_file_line_pattern_and_field(explore: str, field: str, fragment: str) -> None:
    problems = _problems(explore)
    assert any(p.startswith("mine.yaml:") and "pattern 'cum'" in p and f"field {field!r}" in p and fragment in p
               for p in problems), problems


def test_the_case_id_explore_is_reserved() -> None:
    with pytest.raises(CatalogError) as err:
        _load_bytes([("mine.yaml", _PATTERN.format(explore="").replace("- id: c", "- id: explore").encode())])
    assert "reserved" in str(err.value)
    assert "mine.yaml:" in str(err.value)


def test_the_shipped_catalog_declares_domains() -> None:
    from jaxpat.catalog import load

    cat = load(use_cache=False)
    assert cat.get("scan-cumsum").explore is not None
