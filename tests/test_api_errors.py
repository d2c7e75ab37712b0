"""Unknown names and filters that match nothing: one error type (NoMatchError), each with a did-you-mean."""

from __future__ import annotations

import pytest

from jaxpat import catalog
from jaxpat.catalog import NoMatchError


@pytest.fixture(scope="module")
def cat() -> catalog.Catalog:
    return catalog.load()


def test_filters_that_match_nothing_raise_with_a_suggestion(cat: catalog.Catalog) -> None:
    with pytest.raises(NoMatchError, match=r"family 'loop' \(did you mean 'loops'\?\)"):
        cat.filter(family="loop")
    with pytest.raises(NoMatchError, match="tag 'no-such-tag-at-all'"):
        cat.filter(tag="no-such-tag-at-all")
    with pytest.raises(NoMatchError, match=r"claim kind 'memroy' \(did you mean 'memory'\?\)"):
        cat.filter(claim="memroy")
    with pytest.raises(NoMatchError, match="source contains"):
        cat.filter(source="no seed file has this in its name")
    assert len(cat.filter(family="loops")) > 0
    assert len(cat.filter(family="scan", claim="memory")) <= len(cat.filter(family="scan"))
    # a family every other criterion could match, but that a sub-catalog no longer holds
    with pytest.raises(NoMatchError, match="family 'prng'"):
        cat.filter(family="scan").filter(family="prng")


def test_unknown_names_raise_with_a_suggestion(cat: catalog.Catalog) -> None:
    pattern = cat.get("scan-cumsum")
    case = pattern.cases[0]
    with pytest.raises(NoMatchError, match=r"unknown transform 'jti' \(did you mean 'jit'\?\)"):
        case.expected("jti")
    with pytest.raises(NoMatchError, match="unknown transform 'bogus'"):
        case.expected("bogus")
    with pytest.raises(NoMatchError, match=rf"no case '{case.id}x' \(did you mean '{case.id}'\?\)"):
        pattern.case(case.id + "x")
    with pytest.raises(NoMatchError, match=r"did you mean 'scan-cumsum'\?"):
        cat.get("scan-cumsun")
    with pytest.raises(KeyError) as err:  # still a KeyError, for existing callers
        cat.get("scan-cumsun")
    assert str(err.value).startswith("no pattern 'scan-cumsun'")  # the message itself, not its repr


def test_reprs_are_short(cat: catalog.Catalog) -> None:
    """Printing a catalog, a pattern or a case gives one line, not the whole catalog."""
    assert len(repr(cat)) < 120
    assert repr(cat).startswith(f"<Catalog {len(cat)} patterns, {cat.n_cases()} cases")
    p = cat.get("scan-cumsum")
    assert repr(p) == f"<Pattern 'scan-cumsum' family='scan' cases={len(p.cases)}>"
    assert len(repr(p.cases[0])) < 200


def test_every_value_kind_has_a_numpy_form() -> None:
    import numpy as np

    from jaxpat.catalog import (
        ArrayValue,
        DictValue,
        ExpectedError,
        KeyDataValue,
        KeyValue,
        ListValue,
        TupleValue,
        to_numpy,
    )

    a = ArrayValue("int32", (2,), (1, 2))
    t = TupleValue((a, 3, ListValue((a,)), DictValue((("k", a),))))
    out = t.to_numpy()
    assert isinstance(out, tuple)
    np.testing.assert_array_equal(out[0], np.array([1, 2], np.int32))
    assert out[1] == 3
    assert isinstance(out[2], list)
    np.testing.assert_array_equal(out[3]["k"], [1, 2])
    np.testing.assert_array_equal(KeyDataValue(ArrayValue("uint32", (2,), (0, 7))).to_numpy(), [0, 7])
    assert to_numpy(None) is None
    with pytest.raises(TypeError, match="ValueError"):
        ExpectedError("ValueError").to_numpy()
    with pytest.raises(NotImplementedError, match="needs JAX"):
        KeyValue(1, impl="rbg").to_numpy()


@pytest.mark.parametrize("seed", [0, 1, 42, -1, -(2**31), 2**31 - 1, 123456789])
def test_key_data_matches_jax(seed: int) -> None:
    """The key data computed without JAX is what JAX gives (JAX is the oracle here)."""
    jax = pytest.importorskip("jax")
    import numpy as np

    from jaxpat.catalog import KeyValue

    want = np.asarray(jax.random.key_data(jax.random.key(seed)))
    np.testing.assert_array_equal(KeyValue(seed).to_numpy(), want)
    np.testing.assert_array_equal(KeyValue(seed, legacy=True).to_numpy(), np.asarray(jax.random.PRNGKey(seed)))
