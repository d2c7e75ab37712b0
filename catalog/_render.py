"""Short, readable renderings of catalog values for people (the CLI, failure messages)."""

from __future__ import annotations

import math
from typing import Any

from ._values import (
    ArrayValue,
    DevicesValue,
    DictValue,
    ExpectedError,
    GeneratedArray,
    KeyDataValue,
    KeyValue,
    ListValue,
    MeshValue,
    TupleValue,
    Value,
)

__all__ = ["render_value"]


def render_value(value: Value, *, max_elements: int = 12) -> str:
    """Render ``value`` on one line: ``int32[5] [0 1 3 6 10]``, ``raises TypeError matching 'x'``.

    Arrays with more than ``max_elements`` elements show their first ones and
    their size; nothing here imports NumPy.
    """
    if isinstance(value, ArrayValue):
        return _array(value, max_elements)
    if isinstance(value, GeneratedArray):
        params = "".join(f", {k}={v!r}" for k, v in value.params)
        return f"{_type(value.dtype, value.shape)} from {value.kind}(seed={value.seed}{params})"
    if isinstance(value, KeyValue):
        call = f"jax.random.PRNGKey({value.seed})" if value.legacy else f"jax.random.key({value.seed})"
        return call + (f" [{value.impl}]" if value.impl else "")
    if isinstance(value, KeyDataValue):
        impl = f" [{value.impl}]" if value.impl else ""
        return f"key array with key_data {_array(value.data, max_elements)}{impl}"
    if isinstance(value, DevicesValue):
        return f"the item's first {value.count} devices"
    if isinstance(value, MeshValue):
        dims = ", ".join(f"{a}={n}" for a, n in zip(value.axes, value.shape, strict=True))
        return f"Mesh({dims}) over the item's devices"
    if isinstance(value, ExpectedError):
        return f"raises {value.type_name}" + (f" matching {value.match!r}" if value.match else "")
    if isinstance(value, TupleValue):
        items = [render_value(v, max_elements=max_elements) for v in value.items]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    if isinstance(value, ListValue):
        return f"[{', '.join(render_value(v, max_elements=max_elements) for v in value.items)}]"
    if isinstance(value, DictValue):
        return "{" + ", ".join(f"{k}: {render_value(v, max_elements=max_elements)}" for k, v in value.items) + "}"
    return _scalar(value)


def _type(dtype: str, shape: tuple[int, ...]) -> str:
    return f"{dtype}[{', '.join(map(str, shape))}]"


def _array(value: ArrayValue, max_elements: int) -> str:
    if not value.shape:
        return f"{value.dtype} {_scalar(value.data[0])}"
    size = math.prod(value.shape)
    if size > max_elements:
        head = " ".join(_scalar(x) for x in value.data[:max_elements])
        return f"{_type(value.dtype, value.shape)} [{head} ...] ({size} elements)"
    return f"{_type(value.dtype, value.shape)} {_nested(list(value.data), value.shape)}"


def _nested(flat: list[Any], shape: tuple[int, ...]) -> str:
    if len(shape) == 1:
        return "[" + " ".join(_scalar(x) for x in flat) + "]"
    step = math.prod(shape[1:])
    rows = [_nested(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]
    return "[" + " ".join(rows) + "]"


def _scalar(x: Any) -> str:
    if isinstance(x, complex):
        return repr(x).strip("()")
    return repr(x)
