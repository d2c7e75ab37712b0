"""catalog/schema.json: generated from the same declaration as the validator, and agreeing with it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from jaxpat import catalog
from jaxpat.catalog._schema import build_schema, render_schema
from jaxpat.catalog._yaml import parse

jsonschema = pytest.importorskip("jsonschema")

SCHEMA_FILE = Path(catalog.__file__).parent / "schema.json"


def _read(text: str):
    """Read YAML as catalogs are read (YAML 1.2 floats such as `1e-6`, like editors do)."""
    return parse(text.encode(), "test").data


@pytest.fixture(scope="module")
def validator():
    """A draft-07 validator for the generated schema."""
    return jsonschema.Draft7Validator(build_schema())


def test_committed_schema_is_up_to_date():
    """catalog/schema.json equals what `python -m jaxpat.catalog._schema` generates (regenerate it if not)."""
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_schema(), (
        "catalog/schema.json is stale: run `python -m jaxpat.catalog._schema > catalog/schema.json`"
    )


def test_module_prints_the_schema():
    """`python -m jaxpat.catalog._schema` writes the schema to stdout."""
    out = subprocess.run([sys.executable, "-m", "jaxpat.catalog._schema"], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == build_schema()


def test_schema_is_a_valid_draft7_schema():
    """The generated schema is itself valid JSON Schema (draft-07, which editors support)."""
    jsonschema.Draft7Validator.check_schema(build_schema())


def test_valid_catalog_matches_schema(validator, valid_text):
    """A catalog our validator accepts is accepted by the schema too."""
    errors = list(validator.iter_errors(_read(valid_text)))
    assert errors == []


@pytest.mark.skipif(not catalog._loader.SHIPPED.exists(), reason="no catalog.yaml in this checkout")
def test_shipped_catalog_matches_schema(validator):
    """The shipped catalog.yaml satisfies the schema."""
    data = _read(catalog._loader.SHIPPED.read_text(encoding="utf-8"))
    assert [e.message for e in validator.iter_errors(data)] == []


# Structural mistakes both the validator and the schema must reject (cross-field rules are the validator's alone).
MUTATIONS = {
    "unknown-field": lambda d: d["patterns"][0].update(famliy="scan"),
    "unknown-family": lambda d: d["patterns"][0].update(family="scna"),
    "bad-id": lambda d: d["patterns"][0].update(id="Scan_Cumsum"),
    "missing-title": lambda d: d["patterns"][0].pop("title"),
    "negative-tolerance": lambda d: d["defaults"]["tolerance"]["float32"].update(rtol=-1.0),
    "unknown-config": lambda d: d["patterns"][1]["cases"][0]["config"].update(jax_enable_x46=True),
    "config-type": lambda d: d["patterns"][1]["cases"][0]["config"].update(jax_enable_x64="yes"),
    "unknown-dollar-form": lambda d: d["patterns"][0]["cases"][0].update(expect={"$arrray": [1]}),
    "unknown-dtype": lambda d: d["patterns"][0]["cases"][0].update(expect={"$array": [1], "dtype": "int23"}),
    "seed-without-printed": lambda d: d["patterns"][0]["cases"][0]["provenance"].pop("printed"),
    "unknown-provenance": lambda d: d["patterns"][0]["cases"][0]["provenance"].update(kind="guess"),
    "key-in-expect": lambda d: d["patterns"][0]["cases"][0].update(expect={"$key": 1}),
    "error-in-args": lambda d: d["patterns"][0]["cases"][0]["args"].update(xs={"$error": "TypeError"}),
    "bad-error-name": lambda d: d["patterns"][0]["cases"][0].update(expect={"$error": "os.system"}),
    "unknown-claim": lambda d: d["patterns"][0]["claims"].update(jitable=True),
    "unknown-transform": lambda d: d["patterns"][0].update(transforms=["jitt"]),
    "no-cases": lambda d: d["patterns"][0].update(cases=[]),
    "version-2": lambda d: d.update(version=2),
    "no-patterns": lambda d: d.update(patterns=[]),
    "deviation-spec": lambda d: d["patterns"][0]["deviations"][0]["when"].update(jax="~0.5"),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_schema_and_validator_reject_the_same_mistakes(name, validator, valid_text, write_yaml):
    """A structural mistake is rejected by both the JSON Schema and the validator."""
    data = _read(valid_text)
    MUTATIONS[name](data)
    assert list(validator.iter_errors(data)), "the schema accepted it"
    problems = catalog.validate([write_yaml(yaml.safe_dump(data, sort_keys=False))])
    assert problems, "the validator accepted it"
