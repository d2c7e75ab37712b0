"""Fuzzing the loader: whatever the input, only CatalogError may escape.

Hypothesis feeds the full pipeline (bytes -> YAML -> validation -> model)
random bytes, random text, random YAML documents and mutations of a valid
catalog. Loading either succeeds or raises :class:`jaxpat.catalog.CatalogError`;
any other exception is a bug.

Each test runs 200 examples by default. For a long run set
``JAXPAT_FUZZ_EXAMPLES``, e.g.::

    JAXPAT_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz.py
"""

from __future__ import annotations

import copy
import os
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jaxpat.catalog import CatalogError
from jaxpat.catalog._loader import _load_bytes
from jaxpat.catalog._yaml import parse

EXAMPLES = int(os.environ.get("JAXPAT_FUZZ_EXAMPLES", "200"))
# `valid_text` is a constant string, so sharing it across examples is safe.
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _load(raw: bytes) -> None:
    """Load ``raw`` as a catalog file; only CatalogError is an acceptable failure."""
    try:
        _load_bytes([("fuzz.yaml", raw)])
    except CatalogError as e:
        problems = e.problems
    else:
        return
    assert problems
    assert all(str(p) for p in problems)


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes(raw):
    """Arbitrary bytes are loaded or rejected with CatalogError."""
    _load(raw)


_YAMLISH = st.sampled_from([*":-[]{}&*!|>'\"#%@`,?$\t\n ", "\n  ", "- ", ": ", "version: 1\n", "patterns:\n"])


@FUZZ
@given(st.lists(st.one_of(_YAMLISH, st.text(max_size=5)), max_size=80).map("".join))
def test_random_yamlish_text(text):
    """Text made of YAML punctuation and words is loaded or rejected with CatalogError."""
    _load(text.encode("utf-8", errors="surrogatepass"))


_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10),
    st.sampled_from(["$array", "$generate", "$error", "$key", "$tuple", "int32", "scan", "math", "jit", "grad"]),
)
_KEYS = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["version", "patterns", "id", "family", "cases", "args", "expect", "$array", "dtype", "shape",
                     "$tuple", "$key", "$generate", "$error", "provenance", "kind", "tolerance", "claims", "config"]),
)


def _containers(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4)


_DATA = st.recursive(_SCALARS, _containers, max_leaves=30)


@FUZZ
@given(_DATA)
def test_random_yaml_documents(data):
    """Any YAML document (scalars, lists, mappings with format-like keys) is loaded or rejected."""
    _load(yaml.safe_dump(data, allow_unicode=True).encode())


def _paths(node: Any, path: tuple = ()) -> list[tuple]:
    """Every path into a plain-data tree (the root excluded)."""
    out = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        out.append((*path, key))
        out.extend(_paths(child, (*path, key)))
    return out


def _mutate(data: Any, path: tuple, action: str, replacement: Any) -> Any:
    *parents, last = path
    node = data
    for key in parents:
        node = node[key]
    if action == "delete":
        del node[last]
    elif action == "replace":
        node[last] = replacement
    elif action == "duplicate" and isinstance(node, list):
        node.insert(last, node[last])
    elif action == "rename" and isinstance(node, dict) and isinstance(replacement, str):
        node[replacement] = node.pop(last)
    return data


@FUZZ
@given(data=st.data())
def test_mutations_of_a_valid_catalog(data, valid_text):
    """A valid catalog with a few fields deleted, replaced, duplicated or renamed is loaded or rejected."""
    tree = copy.deepcopy(parse(valid_text.encode(), "valid").data)
    for _ in range(data.draw(st.integers(1, 4))):
        paths = _paths(tree)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        action = data.draw(st.sampled_from(["delete", "replace", "duplicate", "rename"]))
        tree = _mutate(tree, path, action, data.draw(_DATA if action == "replace" else _KEYS))
    _load(yaml.safe_dump(tree, allow_unicode=True).encode())


@FUZZ
@given(data=st.data())
def test_text_edits_of_a_valid_catalog(data, valid_text):
    """The valid catalog's text with characters inserted, deleted or replaced is loaded or rejected."""
    text = valid_text
    for _ in range(data.draw(st.integers(1, 5))):
        at = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 5))
        insert = data.draw(st.one_of(_YAMLISH, st.text(max_size=4)))
        text = text[:at] + insert + text[at + cut:]
    _load(text.encode("utf-8", errors="surrogatepass"))
