"""Oracles of the ``prng`` family, on the plain-Python Threefry-2x32 of :mod:`.threefry` (default config:
``jax_threefry_partitionable`` on; typed and legacy keys of a seed have the same data)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import KeyArray, threefry

__all__ = ["fold_in_then_normal", "key_data", "normal3", "normal3_twice", "random_bits3", "split",
           "split_then_normal", "split_threading_uniforms", "split_uniform_sum", "typed_key", "uniform3"]


def _key(key: Any) -> tuple[int, int]:
    """The key data of a drawn key (a ``KeyValue``: its seed) or of an integer seed."""
    seed = getattr(key, "seed", key)
    return threefry.prng_key(int(seed))


def key_data(seed: int) -> np.ndarray:
    """``jax.random.PRNGKey(seed)``: ``[seed >> 32, seed & 0xFFFFFFFF]`` as uint32."""
    return np.array(threefry.prng_key(int(seed)), dtype=np.uint32)


def typed_key(seed: int) -> KeyArray:
    """``jax.random.key(seed)``: a typed threefry key whose data is :func:`key_data`."""
    return KeyArray(key_data(seed), "threefry2x32")


def split(seed: int, num: int) -> np.ndarray:
    """The data of ``jax.random.split(PRNGKey(seed), num)``: ``uint32[num, 2]``."""
    return np.array(threefry.split(_key(seed), int(num)), dtype=np.uint32).reshape(int(num), 2)


def random_bits3(key: Any) -> np.ndarray:
    """``jax.random.bits(key, (3,))``: uint32."""
    return np.array(threefry.bits(_key(key), 3), dtype=np.uint32)


def uniform3(key: Any) -> np.ndarray:
    """``jax.random.uniform(key, (3,))``: float32 in [0, 1), bit for bit."""
    return np.array(threefry.uniform(_key(key), 3), dtype=np.float32)


def normal3(key: Any) -> np.ndarray:
    """``jax.random.normal(key, (3,))``: float32, to a few ulp (this erfinv is float64, JAX's a float32
    polynomial)."""
    return np.array(threefry.normal(_key(key), 3), dtype=np.float32)

def normal3_twice(key: Any) -> tuple[np.ndarray, np.ndarray]:
    """Two draws of ``jax.random.normal(key, (3,))`` with the same key: the same values twice."""
    return normal3(key), normal3(key)


def _uniform1(key: tuple[int, int]) -> np.float32:
    """``jax.random.uniform(key)`` (shape ()): the first of the draws of shape (1,)."""
    return np.float32(threefry.uniform(key, 1)[0])


def split_uniform_sum(key: Any) -> tuple[np.ndarray, np.ndarray]:
    """``k1, k2 = split(key)``; ``uniform(k1) + 2 * uniform(k2)`` in float32, for both evaluation orders."""
    k1, k2 = threefry.split(_key(key), 2)
    v = np.asarray(_uniform1(k1) + np.float32(2) * _uniform1(k2), dtype=np.float32)
    return v, v.copy()


def split_threading_uniforms(key: Any, n: int) -> np.ndarray:
    """``key, sub = split(key); uniform(sub)``, ``n`` times: float32[n]."""
    k = _key(key)
    out = []
    for _ in range(int(n)):
        k, sub = threefry.split(k, 2)
        out.append(_uniform1(sub))
    return np.array(out, dtype=np.float32)


def _normal(key: tuple[int, int], n: int) -> np.ndarray:
    return np.array(threefry.normal(key, n), dtype=np.float32)


def split_then_normal(key: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(``normal(k)`` for each k of ``split(key, n)``, ``normal(key, (n,))``), float32 (a few ulp: float64 erfinv)."""
    k = _key(key)
    seq = np.array([_normal(s, 1)[0] for s in threefry.split(k, int(n))], dtype=np.float32)
    return seq, _normal(k, int(n))


def fold_in_then_normal(key: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(``normal(fold_in(key, i))`` for i < n, ``normal(key, (n,))``), float32 (a few ulp: float64 erfinv)."""
    k = _key(key)
    seq = np.array([_normal(threefry.fold_in(k, i), 1)[0] for i in range(int(n))], dtype=np.float32)
    return seq, _normal(k, int(n))
