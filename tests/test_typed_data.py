"""Claims, gradients, sources and deviation conditions are typed model objects with JSON-able ``to_dict``."""

from __future__ import annotations

import json

import pytest

from jaxpat import catalog
from jaxpat._cli import main
from jaxpat.catalog import Claims, Condition, GradSpec, MeasurementSettings, MemoryClaim, NoMatchError, Raises, Source


@pytest.fixture
def cat(write_yaml, valid_text) -> catalog.Catalog:
    return catalog.load_files([write_yaml(valid_text)])


def test_claims_are_typed_with_settings_apart(cat) -> None:
    """Claim kinds are fields; base_case, seed_claim and notes are measurement settings, not claims."""
    claims = cat.get("scan-cumsum").claims
    assert claims.jit is True
    assert claims.grad == catalog.GradClaim(forward=True, reverse=Raises("ValueError"))
    assert claims.memory == MemoryClaim("xs", (100, 1000), forward="constant", backward="linear")
    assert claims.program_size == catalog.ProgramSizeClaim("xs", "constant", (10, 100))
    assert claims.residuals == catalog.ResidualsClaim("reference.python_loop", 2.0)
    assert claims.kinds() == ("jit", "grad", "memory", "program_size", "residuals")
    assert claims.settings == MeasurementSettings(base_case="ints", seed_claim="scan: one XLA loop",
                                                  notes="measured on CPU")
    with pytest.raises(KeyError, match="not a claim kind"):
        claims.claimed("base_case")


def test_every_shipped_pattern_round_trips_through_json() -> None:
    """pattern.to_dict() is JSON-serialisable, and Claims.from_dict(json of to_dict()) rebuilds equal claims."""
    shipped = catalog.load()  # the shipped catalog only (plugins add theirs through jaxpat.patterns)
    assert len(shipped) > 0
    for pattern in shipped:
        data = json.loads(json.dumps(pattern.to_dict()))
        assert Claims.from_dict(data["claims"]) == pattern.claims, pattern.id
        assert Source.from_dict(data["source"]) == pattern.source
        for case, raw in zip(pattern.cases, data["cases"], strict=True):
            if case.grad is not None:
                assert raw["grad"]["wrt"] == case.grad.wrt
                assert catalog.decode(raw["grad"]["expect"]) == case.grad.expect
        for dev, raw in zip(pattern.deviations, data.get("deviations", []), strict=True):
            assert Condition.from_dict(raw["when"]) == dev.when


def test_to_dict_keeps_what_the_catalog_says(cat) -> None:
    """The claims' data is the catalog's ``claims:`` mapping (None fields left out)."""
    pattern = cat.get("scan-cumsum")
    assert pattern.claims.to_dict() == {
        "jit": True,
        "grad": {"forward": True, "reverse": {"raises": "ValueError"}},
        "memory": {"param": "xs", "sizes": [100, 1000], "forward": "constant", "backward": "linear"},
        "program_size": {"param": "xs", "sizes": [10, 100], "growth": "constant"},
        "residuals": {"baseline": "reference.python_loop", "at_least": 2.0},
        "seed_claim": "scan: one XLA loop",
        "base_case": "ints",
        "notes": "measured on CPU",
    }
    assert pattern.source.to_dict() == {"seed": "000_4fac8296aef13308.txt", "section": "Using jax.lax.scan"}
    assert pattern.deviations[0].to_dict() == {
        "when": {"platform": "tpu", "jax": "<0.5", "transform": "jit", "case": "floats"},
        "reason": "old TPU compilers fused differently",
    }
    grad = cat.get("jit-python-if").case("positive").grad
    assert isinstance(grad, GradSpec)
    assert grad.to_dict()["wrt"] == "x"


def test_implementation_overrides_replace_what_they_declare() -> None:
    """claims.implementations[NAME] overrides the claims and settings it declares; the rest stays."""
    claims = Claims.from_dict({
        "jit": True, "early_exit": False, "base_case": "small", "seed_claim": "seed",
        "implementations": {"python_loop": {"jit": {"raises": "TracerBoolConversionError"}, "base_case": "tiny"}},
    })
    assert claims.kinds() == ("jit", "early_exit")
    loop = claims.for_implementation("reference.python_loop", "python_loop")
    assert loop.jit == Raises("TracerBoolConversionError")
    assert loop.early_exit is False  # a False claim is a claim, kept
    assert loop.settings.base_case == "tiny"
    assert loop.settings.seed_claim == "seed"
    assert not loop.implementations
    assert claims.for_implementation("reference.scan", "scan").jit is True
    only_override = Claims.from_dict({"implementations": {"x": {"memory": {"param": "n", "sizes": [1, 2],
                                                                             "forward": "linear"}}}})
    assert only_override.kinds() == ()
    assert only_override.kinds(overrides=True) == ("memory",)


def test_list_json_counts_claim_kinds_only(capsys, write_yaml, valid_text) -> None:
    """`jaxpat list --format json` lists claim kinds, not base_case / seed_claim / notes."""
    path = write_yaml(valid_text)
    assert main(["list", "--catalog", str(path), "--no-plugins", "--format", "json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["scan-cumsum"]["claims"] == ["jit", "grad", "memory", "program_size", "residuals"]


def test_filter_by_claim_ignores_settings(cat, capsys, write_yaml, valid_text) -> None:
    """Catalog.filter(claim=...) and `list --claim` match claim kinds; a setting name matches nothing."""
    assert [p.id for p in cat.filter(claim="memory")] == ["scan-cumsum"]
    for setting in ("base_case", "seed_claim"):  # not claim kinds: they match nothing, which is an error
        with pytest.raises(NoMatchError, match=f"no pattern has claim kind '{setting}'"):
            cat.filter(claim=setting)
    path = write_yaml(valid_text)
    assert main(["list", "--catalog", str(path), "--no-plugins", "--claim", "base_case", "--format", "json"]) == 2
    assert capsys.readouterr().out == ""


def test_shipped_list_json_never_counts_settings(capsys) -> None:
    """On the shipped catalog too: no pattern lists a setting as a claim."""
    assert main(["list", "--no-plugins", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    settings = {"wrt", "under_jit", "base_case", "seed_claim", "seed_table", "notes", "implementations"}
    assert rows
    assert all(not settings & set(r["claims"]) for r in rows)
    assert all(set(r["claims"]) <= set(catalog.CLAIM_KINDS) for r in rows)
