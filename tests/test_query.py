"""The query API of a loaded catalog: get, filter, iteration, to_dict and its JSON round trip."""

from __future__ import annotations

import json
import math

import pytest

from jaxpat import catalog
from jaxpat.catalog import Condition, Deviation, decode


@pytest.fixture
def cat(write_yaml, valid_text) -> catalog.Catalog:
    """The conftest's valid catalog, loaded."""
    return catalog.load_files([write_yaml(valid_text)])


def test_get_returns_a_pattern_and_suggests_close_ids(cat):
    """get() returns the pattern; an unknown id raises KeyError with a did-you-mean."""
    assert cat.get("scan-cumsum").family == "scan"
    with pytest.raises(KeyError, match="did you mean 'scan-cumsum'"):
        cat.get("scan-cumsun")


def test_container_protocol(cat):
    """A catalog has a length, iterates patterns in file order and supports `in` by id."""
    assert len(cat) == 2
    assert [p.id for p in cat] == cat.ids() == ["scan-cumsum", "jit-python-if"]
    assert "jit-python-if" in cat
    assert "nope" not in cat
    assert cat.families() == ["jit", "scan"]
    assert cat.n_cases() == 5


@pytest.mark.parametrize(
    ("criteria", "ids"),
    [
        ({"family": "scan"}, ["scan-cumsum"]),
        ({"tag": "gotcha"}, ["jit-python-if"]),
        ({"claim": "memory"}, ["scan-cumsum"]),
        ({"source": "000_4fac"}, ["scan-cumsum"]),
        ({"source": "docs.jax.dev"}, ["jit-python-if"]),
        ({"family": "scan", "tag": "gotcha"}, []),
        ({}, ["scan-cumsum", "jit-python-if"]),
    ],
)
def test_filter_combines_criteria(cat, criteria, ids):
    """filter() keeps the patterns matching every given criterion and keeps the digest."""
    sub = cat.filter(**criteria)
    assert sub.ids() == ids
    assert sub.digest == cat.digest


def test_case_lookup_and_expectations(cat):
    """Pattern.case() finds a case (KeyError lists the others); expected() prefers expect_under."""
    pattern = cat.get("jit-python-if")
    case = pattern.case("positive")
    assert case.expected("eager") == 2.0
    assert case.expected("jit").type_name == "TracerBoolConversionError"
    with pytest.raises(KeyError, match="cases: positive, keys, wide"):
        pattern.case("negative")


def test_deviation_matching(cat):
    """A deviation matches items agreeing on every declared key; `jax` is a version spec."""
    deviation = cat.get("scan-cumsum").deviations[0]
    item = {"platform": "tpu", "transform": "jit", "case": "floats"}
    assert deviation.matches(jax="0.4.30", **item)
    assert not deviation.matches(jax="0.5.0", **item)
    assert not deviation.matches(jax="0.4.1", **{**item, "platform": "gpu"})
    assert Deviation(Condition(), "always").matches(platform="cpu")


def test_to_dict_is_json_serialisable_and_round_trips(cat):
    """to_dict() is plain data: it survives JSON, and its values decode back to the model's."""
    data = cat.to_dict()
    again = json.loads(json.dumps(data))
    assert again.keys() == data.keys()
    assert json.dumps(again, sort_keys=True) == json.dumps(data, sort_keys=True)
    assert again["digest"] == cat.digest
    for pattern, plain in zip(cat, again["patterns"], strict=True):
        assert plain["id"] == pattern.id
        for case, plain_case in zip(pattern.cases, plain["cases"], strict=True):
            assert repr(decode(plain_case["expect"], role="expect")) == repr(case.expect)
            for name, value in case.args.items():
                assert repr(decode(plain_case["args"][name])) == repr(value)


def test_to_dict_keeps_nan(cat):
    """NaN in a value survives to_dict (as a float) and JSON (Python reads NaN back)."""
    wide = cat.get("jit-python-if").case("wide").to_dict()
    nan = json.loads(json.dumps(wide))["args"]["x"]["$dict"]["normal"][1]
    assert math.isnan(nan)
