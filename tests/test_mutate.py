"""`jaxpat mutate`: generated wrong implementations are killed by the suite's own checks,
survivors are reported, and equivalent mutants must be recorded with a reason."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

jax = pytest.importorskip("jax")

from jaxpat import catalog  # noqa: E402
from jaxpat.conformance import _mutate  # noqa: E402
from jaxpat.patterns import Implementation, load_registry  # noqa: E402

WEAK = """\
version: 1
patterns:
  - id: t-double
    family: arrays
    title: Double an array
    summary: A catalog too weak to kill every mutant, on purpose.
    source: {doc: tests}
    signature: {args: [x]}
    transforms: [eager, jit]
    cases:
      - id: zeros
        args: {x: {$array: [0.0, 0.0], dtype: float32}}
        expect: {$array: [0.0, 0.0], dtype: float32}
        provenance: {kind: math, note: "2 * 0 = 0"}
"""

STRONG_CASE = """\
      - id: ramp
        args: {x: {$array: [1.0, 2.5], dtype: float32}}
        expect: {$array: [2.0, 5.0], dtype: float32}
        provenance: {kind: math, note: "2 * x"}
"""


class _Registry:
    """The two things run_mutants asks of a registry."""

    def __init__(self, cat: Any, impls: list[Implementation]) -> None:
        self.catalog = cat
        self._impls = impls

    def implementations(self, pattern_id: str) -> list[Implementation]:
        return [i for i in self._impls if i.pattern == pattern_id]


def _results(tmp_path: Path, text: str) -> dict[str, _mutate.MutantResult]:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    cat = catalog.load_files([path])
    reg = _Registry(cat, [Implementation("t-double", "times_two", lambda x: 2 * x).bound("test")])
    return {r.mutant: r for r in _mutate.run_mutants(reg, jax.devices()[0])}


def test_a_weak_catalog_lets_mutants_survive_and_a_case_kills_them(tmp_path: Path) -> None:
    """With only an all-zero case, returning the input unchanged survives; a non-zero case kills it."""
    weak = _results(tmp_path, WEAK)
    assert not weak["identity"].killed
    assert weak["identity"].reason.startswith("unexplained")
    assert not weak["constant"].killed
    assert weak["float*(1+1e-3)"].killed  # 1e-3 at zero is caught by atol 1e-6
    strong = _results(tmp_path, WEAK + STRONG_CASE)
    assert all(r.killed for r in strong.values()), {k: r.reason for k, r in strong.items() if not r.killed}


def test_generated_mutants_cover_the_kinds(tmp_path: Path) -> None:
    names = set(_results(tmp_path, WEAK + STRONG_CASE))
    assert {"float*(1+1e-3)", "dtype-cast", "reshape", "constant", "identity"} <= names


def test_summary_shape() -> None:
    r = [_mutate.MutantResult("p", "i", "m", "value", "w", killed=True, by="x"),
         _mutate.MutantResult("p", "i", "n", "value", "w", killed=False, reason="because", equivalent=True)]
    s = _mutate.summarise(r)
    assert (s["total"], s["killed"], s["equivalent"], s["unexplained"]) == (2, 1, 1, 0)
    assert s["survivors"] == [{"pattern": "p", "implementation": "i", "mutant": "n", "kind": "value",
                               "reason": "because", "equivalent": True}]
    json.dumps(s)


def test_equivalents_file_is_valid_and_every_entry_has_a_reason() -> None:
    entries = _mutate.load_equivalents()
    assert entries
    for e in entries:
        assert e.get("pattern"), e
        assert e.get("mutant"), e
        assert len(e.get("reason", "")) > 20, e


def test_sample_of_the_shipped_catalog_is_killed_or_explained() -> None:
    """CI's sample: a few families of the shipped catalog, every mutant killed or recorded as equivalent."""
    reg = load_registry()
    results = _mutate.run_mutants(reg, jax.devices()[0],
                                  patterns=["prng-numpy-global-state", "prng-same-key-same-draws", "arange-*"])
    assert results
    unexplained = [(r.pattern, r.implementation, r.mutant, r.reason) for r in results
                   if not r.killed and not r.equivalent]
    assert unexplained == []
    assert any(r.equivalent for r in results)  # the swap of two identical draws


def test_cli_json_and_usage_error() -> None:
    cmd = [sys.executable, "-m", "jaxpat", "mutate", "--pattern", "prng-numpy-global-state", "--format", "json"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["total"] == data["killed"] > 0
    assert data["survivors"] == []
    bad = subprocess.run([sys.executable, "-m", "jaxpat", "mutate", "--pattern", "no-such-*"],
                         capture_output=True, text=True, timeout=600)
    assert bad.returncode == 2
    assert "no pattern matches" in bad.stderr
