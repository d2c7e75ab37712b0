"""jaxpat's pattern catalog: load, validate and query it without importing JAX."""

from ._errors import CatalogError, Problem
from ._loader import load, load_files, validate
from ._model import FAMILIES, TRANSFORMS, Case, Catalog, Deviation, Location, Pattern, Provenance, Signature, Tolerance
from ._values import (
    ArrayValue,
    DictValue,
    ExpectedError,
    GeneratedArray,
    KeyDataValue,
    KeyValue,
    ListValue,
    TupleValue,
    Value,
    decode,
    encode,
)

__all__ = [
    "FAMILIES",
    "TRANSFORMS",
    "ArrayValue",
    "Case",
    "Catalog",
    "CatalogError",
    "Deviation",
    "DictValue",
    "ExpectedError",
    "GeneratedArray",
    "KeyDataValue",
    "KeyValue",
    "ListValue",
    "Location",
    "Pattern",
    "Problem",
    "Provenance",
    "Signature",
    "Tolerance",
    "TupleValue",
    "Value",
    "decode",
    "encode",
    "load",
    "load_files",
    "validate",
]
