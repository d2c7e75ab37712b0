"""The value language: decoding, its errors, and ``decode(encode(v)) == v``."""

from __future__ import annotations

import math
import string

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from jaxpat.catalog import (
    ArrayValue,
    DictValue,
    ExpectedError,
    GeneratedArray,
    KeyDataValue,
    KeyValue,
    ListValue,
    TupleValue,
    decode,
    encode,
)
from jaxpat.catalog._values import DTYPES, GENERATORS, INT_DTYPES, ValueError_

# -- decoding ----------------------------------------------------------------------


@pytest.mark.parametrize("plain", [None, True, 3, 2.5, "add", math.inf])
def test_plain_scalars_are_themselves(plain):
    """Plain YAML scalars decode to the same Python value."""
    assert decode(plain) == plain


def test_lists_and_mappings_become_value_containers():
    """A list is a ListValue and a mapping without `$` keys a DictValue, in declared order."""
    assert decode([1, [2]]) == ListValue((1, ListValue((2,))))
    assert decode({"b": 1, "a": 2}) == DictValue((("b", 1), ("a", 2)))


def test_array_shape_is_inferred_and_data_is_flat():
    """`$array` infers its shape from nested lists and stores data row-major."""
    value = decode({"$array": [[1, 2, 3], [4, 5, 6]], "dtype": "int32"})
    assert value == ArrayValue("int32", (2, 3), (1, 2, 3, 4, 5, 6))
    assert value.nested() == [[1, 2, 3], [4, 5, 6]]


def test_array_explicit_shape_allows_empty_and_reshapes_flat_data():
    """An explicit `shape` may hold zeros with empty data, or reshape flat data."""
    assert decode({"$array": [], "dtype": "float32", "shape": [0, 3]}).shape == (0, 3)
    assert decode({"$array": [1, 2, 3, 4], "dtype": "int8", "shape": [2, 2]}).shape == (2, 2)


def test_float_arrays_hold_floats_and_zero_d_arrays_a_number():
    """Float array elements become floats; a bare number is a 0-d array."""
    assert decode({"$array": [1, 2], "dtype": "float32"}).data == (1.0, 2.0)
    assert decode({"$array": 7, "dtype": "int32"}) == ArrayValue("int32", (), (7,))


def test_complex_elements_are_numbers_or_strings():
    """Complex elements are real numbers or strings such as "1+2j" (a pair would read as a dimension)."""
    value = decode({"$array": [1, "2-3j", "nan+1j"], "dtype": "complex64"})
    assert value.shape == (3,)
    assert value.data[:2] == (1 + 0j, 2 - 3j)


def test_typed_forms_decode_to_their_classes():
    """Each `$` form decodes to its value class."""
    assert decode({"$tuple": [1, 2]}) == TupleValue((1, 2))
    assert decode({"$dict": {"$x": 1}}) == DictValue((("$x", 1),))
    assert decode({"$key": 3, "legacy": True}) == KeyValue(3, legacy=True)
    assert decode({"$key_data": [1, 2]}, role="expect") == KeyDataValue(ArrayValue("uint32", (2,), (1, 2)))
    assert decode({"$error": "TypeError", "match": "x"}, role="expect") == ExpectedError("TypeError", "x")
    generated = decode({"$generate": "normal", "seed": 1, "shape": [2], "dtype": "float32", "scale": 2})
    assert generated == GeneratedArray("normal", 1, (2,), "float32", (("scale", 2),))


@pytest.mark.parametrize(
    ("data", "role", "message", "path"),
    [
        ({"$array": [1], "dtype": "int23"}, "input", "unknown dtype 'int23' (did you mean `int32`?)", ("dtype",)),
        ({"$array": [1]}, "input", "`$array` needs a `dtype`", ()),
        ({"$array": [1, 2, 3], "dtype": "int32", "shape": [2, 2]}, "input", "data has shape [3]", ("$array",)),
        ({"$array": [[1, 2], [3]], "dtype": "int32"}, "input", "ragged array: row 1", ("$array", 1)),
        ({"$array": [1, math.nan], "dtype": "int32"}, "input", "element 1 (nan) is not an integer", ("$array",)),
        ({"$array": [256], "dtype": "uint8"}, "input", "out of range for uint8", ("$array",)),
        ({"$array": [1e39], "dtype": "float32"}, "input", "out of range for float32", ("$array",)),
        ({"$array": [2, 1], "dtype": "bool"}, "input", "is not a bool", ("$array",)),
        ({"$array": ["1+2x"], "dtype": "complex64"}, "input", "not a complex number", ("$array",)),
        ({"$arrray": [1], "dtype": "int32"}, "input", "unknown typed value `$arrray`", ("$arrray",)),
        ({"$tuple": [], "$dict": {}}, "input", "exactly one `$` key", ()),
        ({"$tuple": [], "dtype": "x"}, "input", "unknown field `dtype` in a `$tuple` value", ("dtype",)),
        ({"$key": 1}, "expect", "only allowed in case arguments", ("$key",)),
        ({"$error": "TypeError"}, "input", "only allowed in expected values", ("$error",)),
        ({"$error": "os.system"}, "expect", "`$error` names a builtin exception", ("$error",)),
        ({"$key_data": [[1, 2], [3]]}, "expect", "ragged array", ("$key_data", 1)),
        ({"$generate": "gauss", "shape": [2], "dtype": "float32"}, "input", "unknown generator 'gauss'",
         ("$generate",)),
        ({"$generate": "normal", "shape": [2000, 1000], "dtype": "float32"}, "input", "the limit is 1000000",
         ("shape",)),
        ({"$generate": "normal", "shape": [2], "dtype": "float32", "low": 1}, "input", "takes loc, scale", ("low",)),
        ({"$generate": "normal", "shape": [2], "dtype": "float32", "loc": 10**400}, "input", "finite", ("loc",)),
        ({"$array": [1], "dtype": ["int32"]}, "input", "unknown dtype", ("dtype",)),
        ({"$key": 2**64}, "input", "64-bit integer", ("$key",)),
    ],
)
def test_invalid_values_raise_with_a_path(data, role, message, path):
    """Each malformed value raises ValueError_ with a message and the path of the offending part."""
    with pytest.raises(ValueError_) as info:
        decode(data, role=role)
    assert message in info.value.message
    assert info.value.path == path


def test_error_paths_are_relative_to_the_given_path():
    """`path=` prefixes the path of an error found inside."""
    with pytest.raises(ValueError_) as info:
        decode([{"$array": [1], "dtype": "x"}], path=("cases", 0, "expect"))
    assert info.value.path == ("cases", 0, "expect", 0, "dtype")


def test_to_numpy_builds_arrays_and_generation_is_deterministic():
    """ArrayValue and GeneratedArray convert to NumPy; the same declaration gives the same bits."""
    np = pytest.importorskip("numpy")
    arr = decode({"$array": [[1, 2], [3, 4]], "dtype": "int16"}).to_numpy()
    assert arr.dtype == np.int16
    assert arr.shape == (2, 2)
    gen = decode({"$generate": "normal", "seed": 7, "shape": [3], "dtype": "float32"})
    assert np.array_equal(gen.to_numpy(), gen.to_numpy())


# -- round trip ------------------------------------------------------------------------

_FLOAT_LIMIT = {"float16": 65504.0, "bfloat16": 3.38e38, "float32": 3.4e38, "float64": 1.7e308}


def _element(dtype: str) -> st.SearchStrategy:
    if dtype == "bool":
        return st.booleans()
    if dtype in INT_DTYPES:
        bits = int(dtype.lstrip("uint"))
        lo, hi = (0, 2**bits - 1) if dtype.startswith("u") else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        return st.integers(lo, hi)
    limit = _FLOAT_LIMIT["float32" if dtype == "complex64" else "float64" if dtype == "complex128" else dtype]
    part = st.one_of(st.floats(-limit, limit), st.sampled_from([math.inf, -math.inf, math.nan]))
    if dtype.startswith("complex"):
        return st.builds(complex, part, part)
    return part


@st.composite
def _arrays(draw, *, dtype: str | None = None, nonempty: bool = False) -> ArrayValue:
    dtype = dtype or draw(st.sampled_from(sorted(DTYPES)))
    shape = tuple(draw(st.lists(st.integers(1 if nonempty else 0, 3), max_size=3)))
    size = math.prod(shape)
    data = tuple(draw(st.lists(_element(dtype), min_size=size, max_size=size)))
    return ArrayValue(dtype, shape, data)


@st.composite
def _generated(draw) -> GeneratedArray:
    kind = draw(st.sampled_from(sorted(GENERATORS)))
    names = draw(st.lists(st.sampled_from(GENERATORS[kind]), unique=True))
    params = tuple((name, draw(st.floats(-1e6, 1e6) | st.integers(-100, 100))) for name in sorted(names))
    shape = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
    return GeneratedArray(kind, draw(st.integers(0, 2**32)), shape, draw(st.sampled_from(sorted(DTYPES))), params)


_TEXT = st.text(string.printable, min_size=1, max_size=8)
_PRNG_IMPLS = st.sampled_from(["threefry2x32", "rbg", "unsafe_rbg"])
_ERROR_NAMES = st.sampled_from(["TypeError", "ConcretizationTypeError", "jax.errors.UnexpectedTracerError"])
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=8),
)


def _values(role: str) -> st.SearchStrategy:
    leaves = [_SCALARS, _arrays()]
    if role == "input":
        leaves += [_generated(), st.builds(KeyValue, st.integers(0, 2**63), st.booleans(), st.none() | _PRNG_IMPLS)]
    else:
        leaves += [
            st.builds(KeyDataValue, _arrays(dtype="uint32", nonempty=True).filter(lambda a: a.shape != ()),
                      st.none() | _PRNG_IMPLS),
            st.builds(ExpectedError, _ERROR_NAMES, st.none() | _TEXT),
        ]
    return st.recursive(st.one_of(leaves), _value_containers, max_leaves=8)


def _value_containers(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        st.lists(inner, max_size=3).map(lambda xs: TupleValue(tuple(xs))),
        st.lists(inner, max_size=3).map(lambda xs: ListValue(tuple(xs))),
        st.dictionaries(st.text(max_size=4), inner, max_size=3).map(lambda d: DictValue(tuple(d.items()))),
    )


@pytest.mark.parametrize("role", ["input", "expect"])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_decode_inverts_encode(role, data):
    """decode(encode(v)) reproduces v exactly (NaN and signed zeros included) for every value of a role."""
    value = data.draw(_values(role))
    assert repr(decode(encode(value), role=role)) == repr(value)


@pytest.mark.parametrize(
    "value",
    [
        ArrayValue("float32", (0, 2), ()),
        ArrayValue("complex128", (2,), (complex(1, -0.0), complex(math.nan, math.inf))),
        DictValue((("$tuple", 1),)),
        TupleValue((TupleValue(()),)),
    ],
    ids=["empty-2d", "complex-edge", "dollar-key", "nested-tuple"],
)
def test_round_trip_edge_cases(value):
    """Empty shapes, complex signed zeros and NaNs, and `$` keys survive encode then decode."""
    assert repr(decode(encode(value))) == repr(value)


# -- array literals: the one-pass checks agree with the element-by-element rules ----------------------------------


def _oracle_array(raw, dtype):
    """Shape and elements of an ``$array`` literal, or the first problem, by the rules written out plainly: nested
    lists of equal length, then every element checked against the dtype in order (an independent restatement of
    docs/catalog-format.md, kept here so that the fast paths of catalog/_values.py are compared with it)."""
    def flatten(x, path):
        if not isinstance(x, list):
            return (), [x]
        if not x:
            return (0,), []
        parts = []
        for i, item in enumerate(x):
            part = flatten(item, (*path, i))
            if part[0] == "ragged":  # raised inside item i before its siblings are compared
                return part
            parts.append(part)
        for i, (shape, _) in enumerate(parts):
            if shape != parts[0][0]:
                return ("ragged", i, path)
        return (len(x), *parts[0][0]), [e for _, f in parts for e in f]

    flat = flatten(raw, ("$array",))
    if flat[0] == "ragged":
        return ("ragged", (*flat[2], flat[1]))
    shape, elements = flat
    limits = {"int8": 2**7, "int16": 2**15, "int32": 2**31, "int64": 2**63}
    for i, x in enumerate(elements):
        if dtype == "bool":
            ok = type(x) is bool
        elif dtype in INT_DTYPES:
            bits = int(dtype.lstrip("uint") or 0)
            lo, hi = (0, 2**bits - 1) if dtype.startswith("u") else (-limits[dtype], limits[dtype] - 1)
            ok = type(x) is int and lo <= x <= hi
        else:
            ok = type(x) in (int, float) and (dtype != "float16" or abs(x) < 65520.0 or math.isinf(x))
        if not ok:
            return ("element", i)
    return ("ok", shape, tuple(float(x) if dtype.startswith("float") else x for x in elements))


_SCALARS = st.one_of(st.booleans(), st.integers(-300, 300), st.floats(-1e5, 1e5, allow_nan=False),
                     st.sampled_from([0, 127, 128, -128, -129, 255, 256, 65519.0, 65520.0, 2**40, -(2**40),
                                      math.inf]))


@settings(max_examples=300, deadline=None)
@example(raw=[127, -128], dtype="int8")  # each dtype's edges, inside and just outside
@example(raw=[[1], [-129]], dtype="int8")
@example(raw=[0, 255], dtype="uint8")
@example(raw=[[255, 256]], dtype="uint8")
@example(raw=[2**31 - 1, -(2**31)], dtype="int32")
@example(raw=[65519.0, math.inf], dtype="float16")
@example(raw=[1, 65520.0], dtype="float16")
@example(raw=[1, [2]], dtype="int32")  # a scalar beside a list: ragged, not an element problem
@example(raw=[[1], 2], dtype="int32")
@example(raw=[True, 1], dtype="bool")
@example(raw=[1, True], dtype="int64")
@given(raw=st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4), max_leaves=30),
       dtype=st.sampled_from(["bool", "int8", "uint8", "int32", "int64", "float16", "float32"]))
def test_array_literals_decode_as_the_plain_rules_say(raw, dtype):
    expected = _oracle_array(raw, dtype)
    if expected[0] == "ok":
        got = decode({"$array": raw, "dtype": dtype})
        assert (got.shape, got.data) == expected[1:]
        assert [type(x) for x in got.data] == [type(x) for x in expected[2]]
        return
    with pytest.raises(ValueError_) as info:
        decode({"$array": raw, "dtype": dtype})
    if expected[0] == "ragged":
        assert info.value.message.startswith(f"ragged array: row {expected[1][-1]} ")
        assert info.value.path == expected[1]
    else:
        assert info.value.message.startswith(f"element {expected[1]} (")
        assert info.value.path == ("$array",)


def test_a_one_dimensional_literal_past_the_element_limit_is_refused_where_it_was():
    from jaxpat.catalog._values import MAX_ELEMENTS

    with pytest.raises(ValueError_) as info:
        decode({"$array": [0] * (MAX_ELEMENTS + 1), "dtype": "int8"})
    assert info.value.message == f"array literal exceeds {MAX_ELEMENTS} elements"
    assert info.value.path == ("$array",)
    assert decode({"$array": [0] * MAX_ELEMENTS, "dtype": "int8"}).shape == (MAX_ELEMENTS,)
