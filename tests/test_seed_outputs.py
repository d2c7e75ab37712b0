"""Every output printed in the seeds is in the catalog, verified by the suite, and a wrong one is caught."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from jaxpat import catalog

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
CAT = catalog.load()
SEED_CASES = [
    (p, c) for p in CAT for c in p.cases if c.provenance.kind == "seed" and c.provenance.printed
]
#: The outputs the seeds print (issue 2 lists them); each must be some case's `printed`.
PRINTED = [
    "[0 2 4 6 8]", "[0 1 3 6 10]", "[5.8309517 1.4142135 5.8309517]", "[ 5 10]", "[3 3 3 3 3]",
    "Cumulative Sum: 15", "[ 0 42]", "[2465931498 3679230171] [255383827 267815257]",
    "[ 3.3333335  6.222223   8.8148155 11.209877  13.473251 ]",
]


def ids(pc: tuple[Any, Any]) -> str:
    return f"{pc[0].id}/{pc[1].id}"


@pytest.mark.parametrize("printed", PRINTED)
def test_seed_output_is_a_case(printed: str) -> None:
    """Each value printed in a seed appears as a case's `printed` provenance."""
    assert any(printed in c.provenance.printed for _, c in SEED_CASES), printed


@pytest.mark.parametrize("pc", SEED_CASES, ids=ids)
def test_printed_text_is_in_its_seed(pc: tuple[Any, Any]) -> None:
    """A case's `printed` text is found verbatim (modulo line breaks) in the seed file it names."""
    if not SEEDS.is_dir():
        pytest.skip(f"the seeds are not beside the repository ({SEEDS})")
    _, case = pc
    text = " ".join((SEEDS / case.provenance.seed).read_text(encoding="utf-8").split())
    assert " ".join(case.provenance.printed.split()) in text


def _perturbed(fn: Any) -> Any:
    import jax
    import jax.numpy as jnp

    def bump(leaf: Any) -> Any:
        if not isinstance(leaf, jax.Array):
            return leaf
        if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            return jax.random.split(leaf, 1)[0] if leaf.ndim == 0 else jax.random.fold_in(leaf, 1)
        if leaf.dtype == jnp.bool_:
            return ~leaf
        return leaf + jnp.ones((), leaf.dtype)

    def wrong(*args: Any) -> Any:
        return jax.tree.map(bump, fn(*args))

    return wrong


@pytest.fixture(scope="module")
def registry() -> Any:
    pytest.importorskip("jax")
    from jaxpat.patterns import load_registry

    return load_registry()


@pytest.mark.parametrize("pc", SEED_CASES, ids=ids)
def test_seed_case_passes_and_a_wrong_output_is_caught(registry: Any, pc: tuple[Any, Any]) -> None:
    """The reference implementation reproduces the seed's output; the same output bumped by one ulp-ish step fails."""
    import jax

    from jaxpat.catalog import ExpectedError
    from jaxpat.conformance._execute import ConformanceFailure, ItemSpec, run_item

    pattern, case = pc
    impl = registry.implementations(pattern.id)[0]
    transform = case.transforms[0]
    device = jax.devices()[0]
    run_item(ItemSpec(pattern, case, impl, device, transform))
    if isinstance(case.expected(transform), ExpectedError):
        broken = dataclasses.replace(impl, name="broken", fn=lambda *a: jax.numpy.zeros(()))
    else:
        broken = dataclasses.replace(impl, name="broken", fn=_perturbed(impl.fn))
    with pytest.raises(ConformanceFailure):
        run_item(ItemSpec(pattern, case, broken, device, transform))
