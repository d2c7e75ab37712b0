"""Unknown names and filters that match nothing: one error type (NoMatchError), each with a did-you-mean."""

from __future__ import annotations

import pytest
from jaxpat.catalog import NoMatchError

from jaxpat import catalog


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
