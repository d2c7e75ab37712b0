"""The typed value language of catalog files (see docs/catalog-format.md).

Decoding turns plain YAML data (dicts, lists, scalars) into immutable value
objects. Nothing here imports NumPy or JAX at module level: conversion to
arrays happens only when a caller asks for it (``to_numpy``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._names import exception_name_problem, prng_impl_problem

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = [
    "DTYPES",
    "ArrayValue",
    "DevicesValue",
    "DictValue",
    "ExpectedError",
    "GeneratedArray",
    "KeyDataValue",
    "KeyValue",
    "ListValue",
    "MeshValue",
    "TupleValue",
    "Value",
    "ValueError_",
    "decode",
    "encode",
    "to_numpy",
]

INT_DTYPES = frozenset({"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"})
FLOAT_DTYPES = frozenset({"float16", "bfloat16", "float32", "float64"})
COMPLEX_DTYPES = frozenset({"complex64", "complex128"})
DTYPES = frozenset({"bool"} | INT_DTYPES | FLOAT_DTYPES | COMPLEX_DTYPES)

#: Largest array literal or generated array a catalog may declare (elements).
MAX_ELEMENTS = 1_000_000
GENERATORS = {
    "normal": ("loc", "scale"),
    "uniform": ("low", "high"),
    "integers": ("low", "high"),
    "arange": ("start", "step"),
    "linspace": ("start", "stop"),
}
#: Where each float dtype overflows: a finite literal this large (halfway past the
#: largest finite value, so it rounds up) would silently become inf.
_FLOAT_OVERFLOW = {
    "float16": 65520.0,
    "bfloat16": 3.39617752923046e38,
    "float32": 3.4028235677973366e38,
    "float64": math.inf,
}
_INT_RANGES = {
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
}

Path = tuple[str | int, ...]


class ValueError_(ValueError):  # noqa: N801 - distinct name, keeps builtin ValueError visible
    """A value that does not follow the value language; ``path`` locates it.

    ``key`` is True when the mapping *key* at ``path`` is what is wrong (an
    unknown `$` form, a field a form does not take), not the value under it.
    """

    def __init__(self, message: str, path: Path = (), *, key: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.key = key


@dataclass(frozen=True)
class ArrayValue:
    """An array with an explicit dtype and shape; ``data`` is flat, row-major."""

    dtype: str
    shape: tuple[int, ...]
    data: tuple[Any, ...]

    def to_numpy(self) -> np.ndarray:
        """Return a new NumPy array with this dtype, shape and data."""
        import numpy as np

        return np.asarray(self.data, dtype=_np_dtype(self.dtype)).reshape(self.shape)

    def nested(self) -> Any:
        """Return the data as nested lists (a number for 0-d arrays)."""
        return _nest(list(self.data), self.shape)


@dataclass(frozen=True)
class GeneratedArray:
    """An array derived from NumPy's ``default_rng(seed)`` or a closed form."""

    kind: str
    seed: int
    shape: tuple[int, ...]
    dtype: str
    params: tuple[tuple[str, float], ...] = ()

    def to_numpy(self) -> np.ndarray:
        """Generate the array; the same declaration always gives the same bits."""
        import numpy as np

        p = dict(self.params)
        size = math.prod(self.shape)
        flat: np.ndarray
        if self.kind == "arange":
            flat = p.get("start", 0) + p.get("step", 1) * np.arange(size)
        elif self.kind == "linspace":
            flat = np.linspace(p.get("start", 0.0), p.get("stop", 1.0), size)
        else:
            rng = np.random.default_rng(self.seed)
            if self.kind == "normal":
                flat = rng.normal(p.get("loc", 0.0), p.get("scale", 1.0), size)
            elif self.kind == "uniform":
                flat = rng.uniform(p.get("low", 0.0), p.get("high", 1.0), size)
            else:
                flat = rng.integers(int(p.get("low", 0)), int(p.get("high", 10)), size)
        return np.asarray(flat).astype(_np_dtype(self.dtype)).reshape(self.shape)


@dataclass(frozen=True)
class KeyValue:
    """A PRNG key input: ``jax.random.key(seed)``, or ``PRNGKey(seed)`` if legacy."""

    seed: int
    legacy: bool = False
    impl: str | None = None

    def to_numpy(self) -> np.ndarray:
        """The key's data (``jax.random.key_data`` of the key), computed without JAX: ``uint32[2]``.

        For the default ``threefry2x32`` implementation a 32-bit seed ``s``
        gives ``[0, s mod 2**32]``. Other implementations (``rbg``, ...) and
        seeds outside 32 bits need JAX: ``NotImplementedError`` says so.
        """
        import numpy as np

        if self.impl not in (None, "threefry2x32") or not -(2**31) <= self.seed < 2**31:
            raise NotImplementedError(
                f"the data of key(seed={self.seed}, impl={self.impl or 'threefry2x32'}) needs JAX: "
                "jax.random.key_data(jax.random.key(seed, impl=...))"
            )
        return np.array([0, self.seed & 0xFFFFFFFF], dtype=np.uint32)


@dataclass(frozen=True)
class KeyDataValue:
    """An expected typed key array, compared through ``jax.random.key_data``."""

    data: ArrayValue
    impl: str | None = None

    def to_numpy(self) -> np.ndarray:
        """The expected key data as a NumPy array (what ``jax.random.key_data`` returns)."""
        return self.data.to_numpy()


@dataclass(frozen=True)
class DevicesValue:
    """Input only: the first ``count`` devices of the item's device set, as a tuple of ``jax.Device``.

    The conformance suite resolves it; a case using it declares ``devices:`` at least ``count``.
    """

    count: int


@dataclass(frozen=True)
class MeshValue:
    """Input only: a ``jax.sharding.Mesh`` of ``shape`` over the item's first devices, axes named ``axes``.

    Device *index* ``i`` of the mesh (row-major over ``shape``) is the item's device ``i``; the
    ``shards`` expectations of a case refer to those indices.
    """

    shape: tuple[int, ...]
    axes: tuple[str, ...]

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class TupleValue:
    """A tuple of values."""

    items: tuple[Value, ...]

    def to_numpy(self) -> tuple[Any, ...]:
        """A tuple of each item's NumPy form (:func:`to_numpy`)."""
        return tuple(to_numpy(v) for v in self.items)


@dataclass(frozen=True)
class ListValue:
    """A list of values."""

    items: tuple[Value, ...]

    def to_numpy(self) -> list[Any]:
        """A list of each item's NumPy form (:func:`to_numpy`)."""
        return [to_numpy(v) for v in self.items]


@dataclass(frozen=True)
class DictValue:
    """A dict; keys keep their declared order."""

    items: tuple[tuple[str, Value], ...] = field(default=())

    def keys(self) -> list[str]:
        return [k for k, _ in self.items]

    def to_numpy(self) -> dict[str, Any]:
        """A dict of each item's NumPy form (:func:`to_numpy`), in declared order."""
        return {k: to_numpy(v) for k, v in self.items}


@dataclass(frozen=True)
class ExpectedError:
    """Calling raises ``type_name`` (or a subclass), its message containing ``match``."""

    type_name: str
    match: str | None = None

    def to_numpy(self) -> Any:
        """An expected error has no value: ``TypeError``, naming the error."""
        raise TypeError(f"an expected error ({self.type_name}) has no NumPy form")


def to_numpy(value: Value) -> Any:
    """Any catalog value in NumPy form: arrays as ``np.ndarray``, key data as ``uint32`` arrays,
    containers element by element, plain scalars (bool, int, float, str, None) as they are."""
    method = getattr(value, "to_numpy", None)
    return method() if method is not None else value


Value = (
    None | bool | int | float | str
    | ArrayValue | GeneratedArray | KeyValue | KeyDataValue | TupleValue | ListValue | DictValue
    | ExpectedError | DevicesValue | MeshValue
)

_TYPED_KEYS = {
    "$array": {"dtype", "shape"},
    "$tuple": set(),
    "$dict": set(),
    "$key": {"legacy", "impl"},
    "$key_data": {"impl"},
    "$generate": {"seed", "shape", "dtype", "loc", "scale", "low", "high", "start", "step", "stop"},
    "$error": {"match"},
    "$devices": set(),
    "$mesh": {"axes"},
}
_INPUT_ONLY = {"$key", "$generate", "$devices", "$mesh"}
_EXPECT_ONLY = {"$key_data", "$error"}


def decode(data: Any, *, role: str = "input", path: Path = ()) -> Value:
    """Decode plain YAML data into a value.

    ``role`` is ``"input"`` (case arguments) or ``"expect"`` (expected results);
    some forms are valid in only one role. Raises :class:`ValueError_` whose
    ``path`` locates the offending part relative to ``path``.
    """
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return ListValue(tuple(decode(v, role=role, path=(*path, i)) for i, v in enumerate(data)))
    if not isinstance(data, Mapping):
        raise ValueError_(f"unsupported value of type {type(data).__name__}", path)
    typed = [k for k in data if isinstance(k, str) and k.startswith("$")]
    if not typed:
        return DictValue(tuple(
            (_key(k, path), decode(v, role=role, path=(*path, k))) for k, v in data.items()
        ))
    return _decode_typed(data, typed, role, path)


def _key(k: Any, path: Path) -> str:
    if not isinstance(k, str):
        raise ValueError_(f"dict keys must be strings, got {k!r}", path)
    return k


def _decode_typed(data: Mapping, typed: list[str], role: str, path: Path) -> Value:
    if len(typed) > 1:
        raise ValueError_(f"a typed value has exactly one `$` key, got {', '.join(typed)}", path)
    tag = typed[0]
    if tag not in _TYPED_KEYS:
        raise ValueError_(
            f"unknown typed value `{tag}`{_suggest(tag, _TYPED_KEYS)}; "
            f"known: {', '.join(sorted(_TYPED_KEYS))}",
            (*path, tag),
            key=True,
        )
    extra = set(data) - {tag} - _TYPED_KEYS[tag]
    if extra:
        bad = sorted(map(str, extra))[0]
        raise ValueError_(
            f"unknown field `{bad}` in a `{tag}` value{_suggest(bad, _TYPED_KEYS[tag])}",
            (*path, bad),
            key=True,
        )
    if role == "input" and tag in _EXPECT_ONLY:
        raise ValueError_(f"`{tag}` is only allowed in expected values", (*path, tag), key=True)
    if role == "expect" and tag in _INPUT_ONLY:
        raise ValueError_(f"`{tag}` is only allowed in case arguments", (*path, tag), key=True)
    return _DECODERS[tag](data, role, path)


def _decode_array(data: Mapping, role: str, path: Path) -> ArrayValue:
    dtype = _dtype(data.get("dtype"), (*path, "dtype"))
    raw = data["$array"]
    inferred, flat = _flatten(raw, (*path, "$array"))
    if "shape" in data:
        shape = _shape(data["shape"], (*path, "shape"))
        if math.prod(shape) == 0 and flat == []:
            pass
        elif inferred != shape and not (len(flat) == math.prod(shape) and len(inferred) == 1):
            raise ValueError_(
                f"data has shape {list(inferred)} but `shape` says {list(shape)}", (*path, "$array")
            )
    else:
        shape = inferred
    if len(flat) > MAX_ELEMENTS:
        raise ValueError_(f"array literal has {len(flat)} elements; the limit is {MAX_ELEMENTS}", path)
    return ArrayValue(dtype, shape, tuple(_check_elements(flat, dtype, (*path, "$array"))))


def _decode_key(data: Mapping, role: str, path: Path) -> KeyValue:
    seed = data["$key"]
    if not isinstance(seed, int) or isinstance(seed, bool) or not -(2**63) <= seed < 2**64:
        raise ValueError_("`$key` takes an integer seed (a 64-bit integer)", (*path, "$key"))
    legacy = data.get("legacy", False)
    if not isinstance(legacy, bool):
        raise ValueError_("`legacy` must be true or false", (*path, "legacy"))
    return KeyValue(seed, legacy, _prng_impl(data, path))


def _decode_key_data(data: Mapping, role: str, path: Path) -> KeyDataValue:
    try:
        arr = _decode_array({"$array": data["$key_data"], "dtype": "uint32"}, role, path)
    except ValueError_ as e:
        rest = e.path[len(path) + 1:] if e.path[:len(path) + 1] == (*path, "$array") else ()
        raise ValueError_(e.message, (*path, "$key_data", *rest)) from None
    if not arr.shape:
        raise ValueError_("`$key_data` must be at least 1-d (the key's words)", (*path, "$key_data"))
    return KeyDataValue(arr, _prng_impl(data, path))


def _prng_impl(data: Mapping, path: Path) -> str | None:
    impl = _opt_str(data, "impl", path)
    problem = None if impl is None else prng_impl_problem(impl)
    if problem:
        raise ValueError_(problem, (*path, "impl"))
    return impl


def _decode_generate(data: Mapping, role: str, path: Path) -> GeneratedArray:
    kind = data["$generate"]
    if not isinstance(kind, str) or kind not in GENERATORS:
        raise ValueError_(
            f"unknown generator {kind!r}{_suggest(str(kind), GENERATORS)}; known: {', '.join(GENERATORS)}",
            (*path, "$generate"),
        )
    for req in ("shape", "dtype"):
        if req not in data:
            raise ValueError_(f"`$generate` needs `{req}`", path)
    seed = data.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError_("`seed` must be a non-negative integer", (*path, "seed"))
    shape = _shape(data["shape"], (*path, "shape"))
    if math.prod(shape) > MAX_ELEMENTS:
        raise ValueError_(
            f"generated array has {math.prod(shape)} elements; the limit is {MAX_ELEMENTS}", (*path, "shape")
        )
    params = []
    for name in sorted(set(data) - {"$generate", "seed", "shape", "dtype"}):
        if name not in GENERATORS[kind]:
            raise ValueError_(f"generator `{kind}` takes {', '.join(GENERATORS[kind])}, not `{name}`", (*path, name))
        v = data[name]
        if not _is_num(v) or not math.isfinite(_as_float(v)):
            raise ValueError_(f"`{name}` must be a finite number", (*path, name))
        params.append((name, v))
    return GeneratedArray(kind, seed, shape, _dtype(data["dtype"], (*path, "dtype")), tuple(params))


def _decode_error(data: Mapping, role: str, path: Path) -> ExpectedError:
    name = data["$error"]
    if not isinstance(name, str) or not _valid_error_name(name):
        raise ValueError_(
            "`$error` names a builtin exception (TypeError), a jax.errors name "
            "(ConcretizationTypeError) or jax.errors.NAME",
            (*path, "$error"),
        )
    problem = exception_name_problem(name)
    if problem:
        raise ValueError_(f"`$error`: {problem}", (*path, "$error"))
    return ExpectedError(name, _opt_str(data, "match", path))


def _decode_devices(data: Mapping, role: str, path: Path) -> DevicesValue:
    n = data["$devices"]
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 4096:
        raise ValueError_("`$devices` takes a device count (an integer from 1 to 4096)", (*path, "$devices"))
    return DevicesValue(n)


def _decode_mesh(data: Mapping, role: str, path: Path) -> MeshValue:
    shape = data["$mesh"]
    if (not isinstance(shape, list) or not shape or len(shape) > 8
            or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape)):
        raise ValueError_("`$mesh` takes the mesh shape, a list of 1 to 8 positive integers such as [4, 2]",
                          (*path, "$mesh"))
    if math.prod(shape) > 4096:
        raise ValueError_(f"a mesh of {math.prod(shape)} devices is larger than the limit (4096)", (*path, "$mesh"))
    axes = data.get("axes")
    if axes is None:
        raise ValueError_("`$mesh` needs `axes`: one name per mesh dimension, such as [x, y]", path)
    if (not isinstance(axes, list) or len(axes) != len(shape)
            or not all(isinstance(a, str) and a.isidentifier() for a in axes) or len(set(axes)) != len(axes)):
        raise ValueError_(f"`axes` must be {len(shape)} distinct identifiers, one per mesh dimension",
                          (*path, "axes"))
    return MeshValue(tuple(shape), tuple(axes))


def devices_needed(value: Value) -> int:
    """How many devices an input value needs (``$devices``, ``$mesh``), at any depth; 0 when none."""
    if isinstance(value, DevicesValue):
        return value.count
    if isinstance(value, MeshValue):
        return value.size
    if isinstance(value, (TupleValue, ListValue)):
        return max((devices_needed(v) for v in value.items), default=0)
    if isinstance(value, DictValue):
        return max((devices_needed(v) for _, v in value.items), default=0)
    return 0


def _valid_error_name(name: str) -> bool:
    parts = name.split(".")
    if not all(p.isidentifier() for p in parts):
        return False
    return len(parts) == 1 or parts[0] == "jax"


_DECODERS: dict[str, Callable[[Any, str, Path], Value]] = {
    "$array": _decode_array,
    "$tuple": lambda d, role, path: TupleValue(_items(d["$tuple"], "$tuple", role, path)),
    "$dict": lambda d, role, path: _decode_dict(d, role, path),
    "$key": _decode_key,
    "$key_data": _decode_key_data,
    "$generate": _decode_generate,
    "$error": _decode_error,
    "$devices": _decode_devices,
    "$mesh": _decode_mesh,
}


def _items(raw: Any, tag: str, role: str, path: Path) -> tuple[Value, ...]:
    if not isinstance(raw, list):
        raise ValueError_(f"`{tag}` takes a list", (*path, tag))
    return tuple(decode(v, role=role, path=(*path, tag, i)) for i, v in enumerate(raw))


def _decode_dict(d: Mapping, role: str, path: Path) -> DictValue:
    raw = d["$dict"]
    if not isinstance(raw, Mapping):
        raise ValueError_("`$dict` takes a mapping", (*path, "$dict"))
    return DictValue(tuple(
        (_key(k, path), decode(v, role=role, path=(*path, "$dict", k))) for k, v in raw.items()
    ))


def _opt_str(data: Mapping, name: str, path: Path) -> str | None:
    v = data.get(name)
    if v is not None and not isinstance(v, str):
        raise ValueError_(f"`{name}` must be a string", (*path, name))
    return v


def _dtype(d: Any, path: Path) -> str:
    if d is None:
        raise ValueError_("`$array` needs a `dtype`", path[:-1])
    if not isinstance(d, str) or d not in DTYPES:
        raise ValueError_(f"unknown dtype {d!r}{_suggest(str(d), DTYPES)}", path)
    return d


def _shape(s: Any, path: Path) -> tuple[int, ...]:
    if not isinstance(s, list) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in s):
        raise ValueError_("`shape` must be a list of non-negative integers", path)
    if len(s) > 32:
        raise ValueError_("`shape` has more than 32 dimensions", path)
    return tuple(s)


def _flatten(raw: Any, path: Path) -> tuple[tuple[int, ...], list[Any]]:
    """Return (shape, flat elements) of nested lists; ragged data is an error."""
    if not isinstance(raw, list):
        return (), [raw]
    if not raw:
        return (0,), []
    if not any(isinstance(item, list) for item in raw):  # one dimension (most literals): what the loop gives
        if len(raw) > MAX_ELEMENTS:
            raise ValueError_(f"array literal exceeds {MAX_ELEMENTS} elements", path)
        return (len(raw),), list(raw)
    shapes, flat = [], []
    for i, item in enumerate(raw):
        s, f = _flatten(item, (*path, i))
        shapes.append(s)
        flat.extend(f)
        if len(flat) > MAX_ELEMENTS:
            raise ValueError_(f"array literal exceeds {MAX_ELEMENTS} elements", path)
    if any(s != shapes[0] for s in shapes):
        bad = next(i for i, s in enumerate(shapes) if s != shapes[0])
        raise ValueError_(
            f"ragged array: row {bad} has shape {list(shapes[bad])}, row 0 has {list(shapes[0])}", (*path, bad)
        )
    return (len(raw), *shapes[0]), flat


def _check_elements(flat: list[Any], dtype: str, path: Path) -> list[Any]:
    """The elements as the dtype holds them; ValueError_ naming the first element that does not fit."""
    if dtype == "bool":
        for i, x in enumerate(flat):
            if not isinstance(x, bool):
                raise ValueError_(f"element {i} ({_short(x)}) is not a bool", path)
        return list(flat)
    if dtype in INT_DTYPES:
        lo, hi = _INT_RANGES[dtype]
        for i, x in enumerate(flat):
            if isinstance(x, bool) or not isinstance(x, int):
                raise ValueError_(f"element {i} ({_short(x)}) is not an integer, but dtype is {dtype}", path)
            if not lo <= x <= hi:
                raise ValueError_(f"element {i} ({_short(x)}) is out of range for {dtype}", path)
        return list(flat)
    if dtype in COMPLEX_DTYPES:
        return [_complex(x, i, dtype, path) for i, x in enumerate(flat)]
    out = []
    overflow = _FLOAT_OVERFLOW[dtype]
    for i, x in enumerate(flat):
        if not _is_num(x):
            raise ValueError_(f"element {i} ({_short(x)}) is not a number", path)
        x = _as_float(x)
        if abs(x) >= overflow and not (isinstance(flat[i], float) and math.isinf(flat[i])):
            raise ValueError_(f"element {i} ({_short(flat[i])}) is out of range for {dtype}", path)
        out.append(x)
    return out


def _is_num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _as_float(x: int | float) -> float:
    """``float(x)``, but an int too large for a float gives inf instead of raising."""
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def _complex(x: Any, i: int, dtype: str, path: Path) -> complex:
    """A complex element: a real number, or a string such as ``"1+2j"`` (``[re, im]`` would read as a dimension)."""
    if _is_num(x):
        value = complex(_as_float(x))
    elif isinstance(x, str):
        try:
            value = complex(x.replace(" ", ""))
        except ValueError:
            raise ValueError_(f"element {i} ({_short(x)}) is not a complex number such as \"1+2j\"", path) from None
    else:
        raise ValueError_(f"element {i} ({_short(x)}) is not a number or a complex string such as \"1+2j\"", path)
    limit = _FLOAT_OVERFLOW["float32" if dtype == "complex64" else "float64"]
    if any(abs(part) >= limit for part in (value.real, value.imag)) and not _declared_inf(x):
        raise ValueError_(f"element {i} ({_short(x)}) is out of range for {dtype}", path)
    return value


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 40 else text[:37] + "..."


def _declared_inf(x: Any) -> bool:
    return (isinstance(x, float) and math.isinf(x)) or (isinstance(x, str) and "inf" in x.lower())


def _nest(flat: list[Any], shape: tuple[int, ...]) -> Any:
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return flat
    step = math.prod(shape[1:])
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def _np_dtype(name: str) -> Any:
    if name == "bfloat16":
        import ml_dtypes

        return ml_dtypes.bfloat16
    return name


def _suggest(word: str, options: Any) -> str:
    from jaxpat._util import did_you_mean

    return did_you_mean(word, options, code=True)


def encode(value: Value) -> Any:
    """Return plain data that :func:`decode` turns back into ``value``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, ArrayValue):
        def enc(x: Any) -> Any:
            if not isinstance(x, complex):
                return x
            if x.imag == 0 and math.copysign(1.0, x.imag) > 0:
                return x.real
            return repr(x).strip("()")
        nested = _nest([enc(x) for x in value.data], value.shape)
        out: dict[str, Any] = {"$array": nested, "dtype": value.dtype}
        if 0 in value.shape:
            out["shape"] = list(value.shape)
        return out
    if isinstance(value, GeneratedArray):
        return {"$generate": value.kind, "seed": value.seed, "shape": list(value.shape),
                "dtype": value.dtype, **dict(value.params)}
    if isinstance(value, KeyValue):
        out = {"$key": value.seed}
        if value.legacy:
            out["legacy"] = True
        if value.impl:
            out["impl"] = value.impl
        return out
    if isinstance(value, KeyDataValue):
        out = {"$key_data": value.data.nested()}
        if value.impl:
            out["impl"] = value.impl
        return out
    if isinstance(value, TupleValue):
        return {"$tuple": [encode(v) for v in value.items]}
    if isinstance(value, ListValue):
        return [encode(v) for v in value.items]
    if isinstance(value, DictValue):
        body = {k: encode(v) for k, v in value.items}
        return {"$dict": body} if any(k.startswith("$") for k in body) else body
    if isinstance(value, DevicesValue):
        return {"$devices": value.count}
    if isinstance(value, MeshValue):
        return {"$mesh": list(value.shape), "axes": list(value.axes)}
    if isinstance(value, ExpectedError):
        return {"$error": value.type_name, **({"match": value.match} if value.match else {})}
    raise TypeError(f"not a catalog value: {value!r}")

