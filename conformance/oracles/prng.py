"""Oracles of the ``prng`` family, on the plain-Python Threefry-2x32 of :mod:`.threefry` (default config:
``jax_threefry_partitionable`` on; typed and legacy keys of a seed have the same data)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import KeyArray, threefry

__all__ = ["key_data", "normal3", "random_bits3", "split", "typed_key", "uniform3"]


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
