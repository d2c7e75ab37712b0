"""What an item observed, in a compact JSON form for the report (worker side; docs/report.md).

An observation says what a call returned or raised, not whether that was
right: the output's tree structure, each leaf's dtype and shape, a digest of
its bytes and, for small leaves (at most :data:`MAX_VALUES` elements), the
values themselves -- or the exception's type and full message. Reports from
two JAX versions can then be compared item by item (``jaxpat report diff``)
even where both passed.

Floats are written in their dtype's shortest round-tripping form (a float32
``-5.1666665``, not the float64 ``-5.166666507720947``), so the text is
short and the value exact in its dtype; NaN and infinities are the strings
``"nan"``, ``"inf"`` and ``"-inf"`` (JSON has no such numbers); complex
numbers are ``[re, im]`` pairs; typed PRNG keys are recorded as their key data.
"""

from __future__ import annotations

import functools
import hashlib
import math
from typing import Any

import jax
import numpy as np

from jaxpat import _env

__all__ = ["MAX_MESSAGE", "MAX_VALUES", "observe_error", "observe_value", "observing"]

#: Leaves with at most this many elements keep their values in the report.
MAX_VALUES = 64
#: Longer exception messages are cut here (the report stays compact; the cut is marked).
MAX_MESSAGE = 8000


@functools.cache
def observing() -> bool:
    """False when ``JAXPAT_DISABLE_OBSERVATIONS`` is set (for measuring their cost; read once per process)."""
    return not _env.flag(_env.DISABLE_OBSERVATIONS)


def observe_value(out: Any) -> dict[str, Any]:
    """The observation of a result: ``{"tree": ..., "leaves": [...]}`` (``tree`` only when not a single leaf)."""
    leaves, treedef = jax.tree_util.tree_flatten(out)
    obs: dict[str, Any] = {}
    tree = str(treedef)
    if tree.startswith("PyTreeDef(") and tree.endswith(")"):
        tree = tree[len("PyTreeDef("):-1]
    if tree != "*":
        obs["tree"] = tree
    obs["leaves"] = [_leaf(x) for x in leaves]
    return obs


def observe_error(exc: BaseException) -> dict[str, Any]:
    """The observation of a raised exception: its qualified type name and full message."""
    t = type(exc)
    mod = t.__module__
    name = t.__name__ if mod == "builtins" else f"{mod.replace('jax._src.errors', 'jax.errors')}.{t.__name__}"
    message = str(exc)
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + f"… [{len(message) - MAX_MESSAGE} more characters]"
    return {"error": {"type": name, "message": message}}


def _leaf(x: Any) -> dict[str, Any]:
    if isinstance(x, jax.Array) and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
        data = np.asarray(jax.random.key_data(x))
        out = _array(data)
        out["dtype"] = f"key<{jax.random.key_impl(x)}>"
        return out
    if isinstance(x, jax.Array | np.ndarray | np.generic) or type(x) in (bool, int, float, complex):
        out = _array(np.asarray(x))
        if not isinstance(x, jax.Array | np.ndarray | np.generic):
            out["dtype"] = type(x).__name__  # a weakly typed Python scalar
        return out
    return {"type": type(x).__name__, "repr": repr(x)[:200]}


def _array(arr: np.ndarray) -> dict[str, Any]:
    h = hashlib.sha256(f"{arr.dtype}{arr.shape}".encode())
    h.update(np.ascontiguousarray(arr).tobytes())
    out: dict[str, Any] = {"dtype": str(arr.dtype), "shape": list(arr.shape), "digest": h.hexdigest()[:16]}
    if arr.size <= MAX_VALUES:
        out["values"] = [_scalar(v, arr.dtype) for v in arr.reshape(-1)]
    return out


def _scalar(v: Any, dtype: np.dtype) -> Any:
    if dtype.kind == "b":
        return bool(v)
    if dtype.kind in "iu":
        return int(v)
    if dtype.kind == "c":
        return [_float(v.real), _float(v.imag)]
    if dtype.kind == "f" or dtype.name in ("bfloat16",) or "float" in dtype.name:
        return _float(v)
    return str(v)


def _float(v: Any) -> float | str:
    f = float(v)
    if math.isnan(f):
        return "nan"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    if isinstance(v, np.float64 | float):
        return f
    # numpy's str() of a narrow float is its shortest round-tripping decimal
    return float(str(v))
