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

The product copy of ``tests/oracles/threefry.py``'s algorithms (the PRNG patterns' explore oracles,
``prng.py``; ``tests/test_explore.py`` holds the two equal function by function). The tests' copy also
computes the catalog's ``{kind: oracle, oracle: threefry}`` cases (``catalog_values``).
"""

from __future__ import annotations

import math
import struct

M32 = 0xFFFFFFFF
ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))

#: Random123's known-answer tests for threefry2x32_20: (key, counter) -> output.
KAT = [
    ((0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6B200159, 0x99BA4EFE)),
    ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
    ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0)),
]


def _rotl(v: int, r: int) -> int:
    return ((v << r) | (v >> (32 - r))) & M32


def threefry2x32(key: tuple[int, int], ctr: tuple[int, int]) -> tuple[int, int]:
    """One Threefry-2x32 block (20 rounds) of the counter pair ``ctr`` under ``key``."""
    ks = (key[0] & M32, key[1] & M32, (key[0] ^ key[1] ^ 0x1BD11BDA) & M32)
    x0, x1 = (ctr[0] + ks[0]) & M32, (ctr[1] + ks[1]) & M32
    for block in range(5):
        for r in ROTATIONS[block % 2]:
            x0 = (x0 + x1) & M32
            x1 = _rotl(x1, r) ^ x0
        x0 = (x0 + ks[(block + 1) % 3]) & M32
        x1 = (x1 + ks[(block + 2) % 3] + block + 1) & M32
    return x0, x1


def _hash_halves(key: tuple[int, int], counts: list[int]) -> list[int]:
    """JAX's ``threefry_2x32(key, counts)``: pad to even length, pair the first half with the second."""
    odd = len(counts) % 2
    xs = counts + [0] * odd
    h = len(xs) // 2
    out0, out1 = [], []
    for a, b in zip(xs[:h], xs[h:], strict=True):
        y0, y1 = threefry2x32(key, (a, b))
        out0.append(y0)
        out1.append(y1)
    out = out0 + out1
    return out[:-1] if odd else out


def prng_key(seed: int) -> tuple[int, int]:
    """``jax.random.PRNGKey(seed)`` / the data of ``jax.random.key(seed)``."""
    seed &= (1 << 64) - 1
    return (seed >> 32) & M32, seed & M32


def split(key: tuple[int, int], num: int, *, partitionable: bool = True) -> list[tuple[int, int]]:
    """``jax.random.split(key, num)`` as key pairs."""
    if partitionable:
        return [threefry2x32(key, (0, i)) for i in range(num)]
    flat = _hash_halves(key, list(range(2 * num)))
    return [(flat[2 * i], flat[2 * i + 1]) for i in range(num)]


def fold_in(key: tuple[int, int], data: int) -> tuple[int, int]:
    """``jax.random.fold_in(key, data)``: hash the seed pair of ``data`` under ``key``."""
    out = _hash_halves(key, list(prng_key(data & M32)))
    return out[0], out[1]


def bits(key: tuple[int, int], size: int, *, partitionable: bool = True) -> list[int]:
    """``jax.random.bits(key, (size,), uint32)``."""
    if partitionable:
        return [a ^ b for a, b in (threefry2x32(key, (0, i)) for i in range(size))]
    return _hash_halves(key, list(range(size)))


def _f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def _bits_to_unit(b: int) -> float:
    """The float32 in [0, 1) that JAX makes from 32 random bits: mantissa bits under exponent 0, minus 1."""
    one_to_two = struct.unpack("<f", struct.pack("<I", (b >> 9) | 0x3F800000))[0]
    return _f32(one_to_two - 1.0)


def uniform(key: tuple[int, int], size: int, minval: float = 0.0, maxval: float = 1.0, *,
            partitionable: bool = True) -> list[float]:
    """``jax.random.uniform(key, (size,), float32, minval, maxval)`` (float32 values as Python floats)."""
    lo, hi = _f32(minval), _f32(maxval)
    out = []
    for b in bits(key, size, partitionable=partitionable):
        v = _f32(_f32(_bits_to_unit(b) * _f32(hi - lo)) + lo)
        out.append(max(lo, v))
    return out


def erfinv(y: float) -> float:
    """Inverse error function in float64 (Newton's method on ``math.erf`` from a Giles-style start)."""
    if y <= -1.0:
        return -math.inf
    if y >= 1.0:
        return math.inf
    w = -math.log((1.0 - y) * (1.0 + y))
    x = math.copysign(math.sqrt(max(w - math.log(max(w, 1e-300)) * 0.5, 0.0)), y) if w > 5 else y * 0.886
    for _ in range(100):
        err = math.erf(x) - y
        step = err / (2.0 / math.sqrt(math.pi) * math.exp(-x * x))
        x -= step
        if abs(step) <= 1e-17 * max(1.0, abs(x)):
            break
    return x


def normal(key: tuple[int, int], size: int, *, partitionable: bool = True) -> list[float]:
    """``jax.random.normal(key, (size,), float32)`` (to a few float32 ulp: erfinv here is float64)."""
    lo = float(struct.unpack("<f", struct.pack("<I", 0xBF7FFFFF))[0])  # nextafter(-1, 0) in float32
    us = uniform(key, size, lo, 1.0, partitionable=partitionable)
    return [_f32(math.sqrt(2.0) * erfinv(u)) for u in us]
