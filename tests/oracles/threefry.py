"""An independent oracle for JAX's default PRNG: Threefry-2x32 (20 rounds) in plain Python.

Nothing here imports JAX. The block cipher follows Salmon et al., "Parallel
random numbers: as easy as 1, 2, 3" (SC 2011) and is checked against the
Random123 known-answer vectors (``KAT``); the key derivation, ``split``,
``fold_in``, ``bits``, ``uniform`` and ``normal`` reproduce the published
algorithms of ``jax._src.prng`` / ``jax._src.random`` (both settings of
``jax_threefry_partitionable``) step by step in integer and float arithmetic:

- ``PRNGKey(seed)`` = ``[seed >> 32, seed & 0xFFFFFFFF]``;
- the *original* scheme hashes the counter ``iota(n)``, split in two halves
  that form the cipher's two words; the *partitionable* scheme hashes the pair
  ``(hi, lo)`` of each flat index and XORs the two output words (bits) or
  keeps both (split);
- ``uniform`` float32: ``bits >> 9 | 0x3F800000`` read as a float in [1, 2),
  minus 1, scaled, clamped below by ``minval``;
- ``normal`` = ``sqrt(2) * erfinv(u)`` with ``u`` uniform in ``(nextafter(-1, 0), 1)``;
  erfinv is solved here in float64 with Newton's method on :func:`math.erf`,
  so normal draws match JAX's float32 polynomial to a few ulp, not bit for bit.

The cipher and the algorithms live in the product, ``jaxpat.conformance.oracles.threefry`` (the
judge's oracle for the PRNG patterns' generated inputs, ``jaxpat check --explore``): one copy, checked
here against the Random123 vectors and JAX's own draws. This module adds the catalog's values.

Used by ``tests/test_prng_oracle.py`` to recompute every catalog case whose
provenance is ``{kind: oracle, oracle: threefry}``, and runnable as a script
to print those values: ``python tests/oracles/threefry.py``.
"""

from __future__ import annotations

from jaxpat.conformance.oracles.threefry import (  # noqa: F401  - the tests read these through this module
    KAT,
    ROTATIONS,
    _f32,
    bits,
    erfinv,
    fold_in,
    normal,
    prng_key,
    split,
    threefry2x32,
    uniform,
)


def catalog_values() -> dict[str, object]:
    """The oracle's values for the catalog's ``oracle: threefry`` cases, keyed by ``PATTERN/CASE``."""
    k42, k0 = prng_key(42), prng_key(0)
    out: dict[str, object] = {}
    for name, key in (("42", k42), ("0", k0)):
        out[f"prng-draws/uniform-{name}"] = uniform(key, 3)
        out[f"prng-draws/normal-{name}"] = normal(key, 3)
        out[f"prng-draws/bits-{name}"] = bits(key, 3)
    out["prng-draws/uniform-42-legacy-bits"] = uniform(k42, 3, partitionable=False)
    out["prng-draws/normal-42-legacy-bits"] = normal(k42, 3, partitionable=False)
    out["prng-draws/bits-42-legacy-bits"] = bits(k42, 3, partitionable=False)
    # same key, same draws: two normal draws of shape (3,) from key(0) / PRNGKey(42)
    out["prng-same-key-same-draws/typed-key"] = [normal(k0, 3), normal(k0, 3)]
    out["prng-same-key-same-draws/legacy-key"] = [normal(k42, 3), normal(k42, 3)]
    # seed 003's foo = bar(subkey1) + 2 * baz(subkey2) with scalar uniforms, both evaluation orders
    for name, key in (("typed-key", k0), ("legacy-key", k42)):
        s1, s2 = split(key, 2)
        foo = _f32(uniform(s1, 1)[0] + _f32(2.0 * uniform(s2, 1)[0]))
        out[f"prng-split-any-order/{name}"] = [foo, foo]
    # n scalar draws from split(key, n) / fold_in(key, i) vs one draw of shape (n,)
    for name, part in (("typed-key-3", True), ("legacy-key-3-legacy-bits", False)):
        sub = split(k42, 3, partitionable=part)
        out[f"prng-parallel-vs-sequential/{name}/split"] = [
            [normal(k, 1, partitionable=part)[0] for k in sub], normal(k42, 3, partitionable=part)]
        out[f"prng-parallel-vs-sequential/{name}/fold_in"] = [
            [normal(fold_in(k42, i), 1, partitionable=part)[0] for i in range(3)], normal(k42, 3, partitionable=part)]
    # seed 002's idiom: key, subkey = split(key); draw with subkey; n times (prng-split-threading)
    for name, key in (("typed-key-4", k0), ("legacy-key-4", k42)):
        state, draws = key, []
        for _ in range(4):
            state, sub = split(state, 2)
            draws.append(uniform(sub, 1)[0])
        out[f"prng-split-threading/{name}"] = draws
    return out


if __name__ == "__main__":  # pragma: no cover - a developer's printout
    for key_, value in catalog_values().items():
        print(key_, value)
