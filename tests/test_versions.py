"""Version specs through `packaging` (catalog._model.version_matches): PEP 440 order, decided pre-release rules."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from jaxpat.catalog._model import Deviation, is_prerelease, version_matches, version_problem
from jaxpat.conformance._session import SUPPORTED_JAX, jax_warnings

ROOT = Path(__file__).resolve().parents[1]

#: (version, spec, expected): each expectation follows from PEP 440's ordering
#: (dev < a < b < rc < release < post; a local label is ignored against a public
#: bound) and the rules version_matches' docstring decides, not from running it.
CASES = [
    # dev releases come before the release: the old digit-only parser read these as 0.12.0 and 0.13.0
    ("0.12.0.dev20250101", ">=0.12", False),
    ("0.12.0.dev20250101", "<0.12", True),
    ("0.12.0.dev20250101", "==0.12", False),
    # a JAX nightly of 0.13 counts as before 0.13 (pip would match neither <0.13 nor >=0.13)
    ("0.13.0.dev20260101", "<0.13", True),
    ("0.13.0.dev20260101", ">=0.13", False),
    ("0.13.0.dev20260101", SUPPORTED_JAX, True),
    # release candidates: after every earlier release, before their own
    ("0.12.1rc1", ">=0.12", True),
    ("0.12.1rc1", ">=0.12.1", False),
    ("0.12.1rc1", "<0.12.1", True),
    ("0.12.1rc1", ">0.12.0,<0.12.1", True),
    ("0.5.0rc1", "<0.5", True),
    ("0.5.0b2", ">0.5.0a9", True),
    # post releases: after their release
    ("0.12.post1", ">0.12", True),
    ("0.12.post1", "<=0.12", False),
    ("0.12.post1", "==0.12", False),
    # local labels (+cuda12) are ignored against a public bound
    ("0.12.1+cuda12", "==0.12.1", True),
    ("0.12.1+cuda12", "<=0.12.1", True),
    ("0.12.1+cuda12", ">0.12.1", False),
    ("0.12.1+cuda12", "!=0.12.1", False),
    ("0.12.1+cuda12", "<0.12.2", True),
    # plain releases, zero padding, bare versions, wildcards, compatible release
    ("0.7", "0.7.0", True),
    ("0.7.1", "0.7", False),
    ("0.4.30", ">=0.4.30,<0.6", True),
    ("0.6", ">=0.4.30,<0.6", False),
    ("0.10.2", "<0.7", False),  # 10 > 7: numeric, not text, order
    ("0.12.3", "==0.12.*", True),
    ("0.13.0", "==0.12.*", False),
    ("0.12.3", "~=0.12.0", True),
    ("0.13.0", "~=0.12.0", False),
    ("0.12.3", " >=0.12 , <0.13 ", True),
]


@pytest.mark.parametrize(("version", "spec", "expected"), CASES, ids=[f"{v} {s}" for v, s, _ in CASES])
def test_version_matches_follows_pep440(version: str, spec: str, expected: bool) -> None:
    assert version_matches(version, spec) is expected


def test_every_version_is_in_exactly_one_side_of_a_bound() -> None:
    """The decision that makes deviation ranges split cleanly: <V and >=V never both or neither match."""
    versions = ["0.12", "0.12.0.dev1", "0.12.0a1", "0.12.0rc2", "0.12.post3", "0.12.0+local", "0.11.9", "0.13.0.dev0"]
    for bound in ("0.12", "0.12.0rc1", "0.13"):
        for v in versions:
            assert version_matches(v, f"<{bound}") != version_matches(v, f">={bound}"), (v, bound)


@pytest.mark.parametrize(("version", "spec"), [("0.12", "~0.5"), ("0.12", "=>0.4"), ("0.12", "<0.5.*"),
                                               ("0.12", ">=0.4,,<1"), ("0.12", ""), ("not-a-version", ">=0.1"),
                                               ("0.10.2abc", "<1")])
def test_invalid_versions_and_specs_raise_value_error(version: str, spec: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - packaging's InvalidVersion/InvalidSpecifier, both ValueErrors
        version_matches(version, spec)


def test_an_invalid_clause_after_a_false_one_is_still_reported() -> None:
    """Every clause is parsed before any is evaluated: a bad one is never hidden by an earlier false one."""
    with pytest.raises(ValueError, match="=>bad"):
        version_matches("0.1", ">=99,=>bad")
    assert version_problem(">=99,=>bad", spec=True) == "not a PEP 440 version spec: '=>bad'"
    assert version_problem(">=0.4.30,<0.6", spec=True) is None
    assert version_problem("0.10.2", spec=False) is None
    assert version_problem("0.10.2abc", spec=False) == "not a PEP 440 version: '0.10.2abc'"


def test_deviation_jax_ranges_use_pep440() -> None:
    from jaxpat.catalog._claims_model import Condition

    dev = Deviation(Condition(jax=">=0.12"), "r")
    assert not dev.matches(jax="0.12.0.dev20250101")
    assert dev.matches(jax="0.12.1rc1")
    assert not dev.matches(jax="garbage")  # an unparsable installed version matches nothing, never raises


def test_supported_range_warnings() -> None:
    low = SUPPORTED_JAX.split(",")[0].lstrip(">=")
    assert jax_warnings(low, low) == []
    assert jax_warnings("0.5.3", low)[0].startswith("jax 0.5.3 is outside the range jaxpat supports")
    nightly = jax_warnings("0.13.0.dev20260101", "0.12.1")
    assert len(nightly) == 1
    assert "is a pre-release" in nightly[0]
    assert "outside" in jax_warnings("0.4.x", "0.12.1")[0]  # not PEP 440: a warning, not a crash
    assert is_prerelease("0.12.1rc1")
    assert is_prerelease("0.13.0.dev1")
    assert not is_prerelease("0.12.post1")


def test_packaging_is_a_declared_dependency_and_imported_lazily() -> None:
    deps = (ROOT / "pyproject.toml").read_text().split("dependencies = [", 1)[1].split("]", 1)[0]
    assert re.search(r'^\s*"packaging>=\d', deps, re.M)
    code = "import sys, jaxpat.catalog; print('packaging' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
