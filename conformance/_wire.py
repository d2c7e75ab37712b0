"""Results as plain data: how an executor ships what an implementation returned to the judge.

An executor (the untrusted side, :mod:`._executor`) encodes a call's result
with :func:`encode` into JSON-able data; the judge (:mod:`._judge`, where no
plugin code runs) rebuilds it with :func:`decode` into NumPy arrays, Python
tuples, lists, dicts and scalars, and :class:`KeyData` for typed PRNG keys.
Nothing is unpickled and nothing is evaluated: the judge only ever sees
numbers of a known dtype, structure and short strings, so a result cannot
carry an object whose ``__eq__`` lies (an object array or any other Python
object is shipped as ``{"t": "other"}`` with its type name and a short repr,
which matches no expectation).

Only :func:`encode` needs JAX (imported lazily); :func:`decode` needs NumPy
and, for ``bfloat16``/``float8`` dtypes, ``ml_dtypes`` (a NumPy extension
installed with jaxlib).
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_ELEMENTS", "KeyData", "Other", "WireError", "decode", "encode", "flatten"]

#: The most array elements one result may ship (over all its leaves); a larger result fails its item.
MAX_ELEMENTS = 1 << 24
#: Characters of an unknown object's repr that are shipped.
REPR_CHARS = 200
#: Nesting the decoder accepts (results are shallow trees).
MAX_DEPTH = 64

_NUMERIC_KINDS = "biufc"


class WireError(ValueError):
    """Shipped data that is not a well-formed result (a broken or lying executor)."""


@dataclass(frozen=True)
class KeyData:
    """A typed PRNG key array, as the judge sees it: the key implementation's name and its key data."""

    impl: str
    data: Any  # numpy.ndarray of uint32

    @property
    def dtype(self) -> str:
        return f"key<{self.impl}>"

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape[:-1])


@dataclass(frozen=True)
class Other:
    """A leaf that is neither a number, an array, a key, ``None`` nor a string: only its type and repr."""

    type: str
    repr: str

    def __repr__(self) -> str:
        return self.repr


# ---------------------------------------------------------------------------
# encoding (executor side)
# ---------------------------------------------------------------------------

def encode(value: Any, *, limit: int = MAX_ELEMENTS) -> dict[str, Any]:
    """``value`` (a JAX/NumPy/Python result tree) as JSON-able data; raises WireError past ``limit`` elements."""
    budget = [limit]
    return _enc(value, budget, 0)


def _enc(x: Any, budget: list[int], depth: int) -> dict[str, Any]:
    import numpy as np

    if depth > MAX_DEPTH:
        raise WireError(f"the result is nested deeper than {MAX_DEPTH} levels")
    if x is None:
        return {"t": "none"}
    if type(x) is bool:
        return {"t": "py", "type": "bool", "v": x}
    if type(x) is int:
        return {"t": "py", "type": "int", "v": str(x)}
    if type(x) is float:
        return {"t": "py", "type": "float", "v": repr(x)}
    if type(x) is complex:
        return {"t": "py", "type": "complex", "v": [repr(x.real), repr(x.imag)]}
    if type(x) is str:
        return {"t": "str", "v": x[:10_000]}
    if type(x) is tuple:
        return {"t": "tuple", "items": [_enc(v, budget, depth + 1) for v in x]}
    if type(x) is list:
        return {"t": "list", "items": [_enc(v, budget, depth + 1) for v in x]}
    if type(x) is dict:
        if not all(type(k) is str for k in x):
            return _other(x)
        return {"t": "dict", "keys": list(x), "items": [_enc(v, budget, depth + 1) for v in x.values()]}
    key = _key_parts(x)
    if key is not None:
        impl, data = key
        return {"t": "key", "impl": impl, "data": _array(data, budget)}
    if isinstance(x, np.ndarray | np.generic) or _is_jax_array(x):
        arr = np.asarray(x)
        if arr.dtype.kind not in _NUMERIC_KINDS and not _is_ml_dtype(arr.dtype):
            return _other(x)
        return {"t": "array", **_array(arr, budget)}
    return _other(x)


def _other(x: Any) -> dict[str, Any]:
    t = type(x)
    try:
        text = repr(x)
    except Exception as exc:  # a repr that raises is still a leaf we can name
        text = f"<{t.__name__}: repr raised {type(exc).__name__}>"
    return {"t": "other", "type": f"{t.__module__}.{t.__qualname__}", "repr": text[:REPR_CHARS]}


def _is_jax_array(x: Any) -> bool:
    import sys

    jax = sys.modules.get("jax")
    return jax is not None and isinstance(x, jax.Array)


def _key_parts(x: Any) -> tuple[str, Any] | None:
    import sys

    jax = sys.modules.get("jax")
    if jax is None or not isinstance(x, jax.Array):
        return None
    if not jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
        return None
    import numpy as np

    return str(jax.random.key_impl(x)), np.asarray(jax.random.key_data(x))


def _is_ml_dtype(dtype: Any) -> bool:
    return dtype.kind == "V" and ("float" in dtype.name or "int" in dtype.name)


def _array(arr: Any, budget: list[int]) -> dict[str, Any]:
    import numpy as np

    budget[0] -= int(arr.size)
    if budget[0] < 0:
        raise WireError(f"the result has more than {MAX_ELEMENTS} elements; the judge compares at most that many")
    data = np.ascontiguousarray(arr)
    if data.dtype.byteorder == ">":
        data = data.astype(data.dtype.newbyteorder("<"))
    return {"dtype": str(arr.dtype), "shape": [int(n) for n in arr.shape],
            "b64": base64.b64encode(data.tobytes()).decode("ascii")}


# ---------------------------------------------------------------------------
# decoding (judge side)
# ---------------------------------------------------------------------------

def decode(data: Any) -> Any:
    """The result :func:`encode` described: NumPy arrays and Python values; raises WireError on malformed data."""
    return _dec(data, 0)


def _dec(d: Any, depth: int) -> Any:
    if depth > MAX_DEPTH or not isinstance(d, dict):
        raise WireError("malformed result data")
    t = d.get("t")
    if t == "none":
        return None
    if t == "str":
        return _str(d.get("v"))
    if t == "py":
        return _py(d)
    if t in ("tuple", "list"):
        items = d.get("items")
        if not isinstance(items, list):
            raise WireError(f"malformed {t}")
        seq = [_dec(v, depth + 1) for v in items]
        return tuple(seq) if t == "tuple" else seq
    if t == "dict":
        keys, items = d.get("keys"), d.get("items")
        if not isinstance(keys, list) or not isinstance(items, list) or len(keys) != len(items) \
                or not all(isinstance(k, str) for k in keys) or len(set(keys)) != len(keys):
            raise WireError("malformed dict")
        return {k: _dec(v, depth + 1) for k, v in zip(keys, items, strict=True)}
    if t == "array":
        return _arr(d)
    if t == "key":
        data = _arr(d.get("data"))
        if str(data.dtype) != "uint32" or data.ndim < 1:
            raise WireError("malformed key data")
        return KeyData(_str(d.get("impl"))[:100], data)
    if t == "other":
        return Other(_str(d.get("type"))[:200], _str(d.get("repr"))[:REPR_CHARS])
    raise WireError(f"unknown result kind {str(t)[:40]!r}")


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise WireError("malformed string")
    return v


def _py(d: dict[str, Any]) -> Any:
    typ, v = d.get("type"), d.get("v")
    if typ == "bool" and isinstance(v, bool):
        return v
    try:
        if typ == "int" and isinstance(v, str) and len(v) <= 400:
            return int(v)
        if typ == "float" and isinstance(v, str) and len(v) <= 40:
            return float(v)
        if typ == "complex" and isinstance(v, list) and len(v) == 2 and all(
                isinstance(p, str) and len(p) <= 40 for p in v):
            return complex(float(v[0]), float(v[1]))
    except ValueError:
        pass
    raise WireError("malformed Python scalar")


def dtype_named(name: Any) -> Any:
    """The NumPy dtype called ``name`` (``ml_dtypes`` for bfloat16/float8...); WireError for anything else."""
    import numpy as np

    if not isinstance(name, str) or len(name) > 40:
        raise WireError("malformed dtype")
    try:
        dt = np.dtype(name)
    except TypeError:
        try:
            import ml_dtypes
        except ImportError as exc:  # pragma: no cover - installed with jaxlib
            raise WireError(f"dtype {name!r} needs ml_dtypes") from exc
        found = getattr(ml_dtypes, name, None)
        if found is None:
            raise WireError(f"unknown dtype {name!r}") from None
        dt = np.dtype(found)
    if dt.kind not in _NUMERIC_KINDS and not _is_ml_dtype(dt):
        raise WireError(f"dtype {name!r} is not numeric")
    return dt


def _arr(d: Any) -> Any:
    import numpy as np

    if not isinstance(d, dict):
        raise WireError("malformed array")
    dt = dtype_named(d.get("dtype"))
    shape = d.get("shape")
    if not isinstance(shape, list) or len(shape) > 32 or not all(
            type(n) is int and 0 <= n <= MAX_ELEMENTS for n in shape):
        raise WireError("malformed array shape")
    size = math.prod(shape)
    if size > MAX_ELEMENTS:
        raise WireError("array too large")
    b64 = d.get("b64")
    if not isinstance(b64, str):
        raise WireError("malformed array data")
    try:
        raw = base64.b64decode(b64, validate=True)
    except ValueError as exc:
        raise WireError("malformed array data") from exc
    if len(raw) != size * dt.itemsize:
        raise WireError(f"array data of {len(raw)} bytes for {dt}{shape}")
    return np.frombuffer(raw, dtype=dt.newbyteorder("<") if dt.byteorder == ">" else dt).reshape(shape).copy()


def flatten(value: Any, path: str = "result") -> tuple[list[tuple[str, Any]], str]:
    """Leaves of a decoded result with their paths (``result[0]['a']``), and a description of its structure."""
    leaves: list[tuple[str, Any]] = []
    shape = _flat(value, path, leaves)
    return leaves, shape


def _flat(x: Any, path: str, out: list[tuple[str, Any]]) -> str:
    if isinstance(x, tuple | list):
        inner = ", ".join(_flat(v, f"{path}[{i}]", out) for i, v in enumerate(x))
        return f"({inner}{',' if isinstance(x, tuple) and len(x) == 1 else ''})" if isinstance(x, tuple) \
            else f"[{inner}]"
    if isinstance(x, dict):
        inner = ", ".join(f"{k!r}: {_flat(x[k], f'{path}[{k!r}]', out)}" for k in sorted(x))
        return "{" + inner + "}"
    if x is None:
        return "None"
    out.append((path, x))
    return "*"
