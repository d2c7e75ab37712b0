"""A pattern's input *domain* and *oracle*: what ``jaxpat check --explore`` draws and compares with.

Declared under a pattern's ``explore:`` field (docs/explore.md)::

    explore:
      oracle: scan.cumsum                     # a function of jaxpat.conformance.oracles (MODULE.FUNCTION)
      sizes: {n: [0, 1, 2, 5, 8]}             # symbolic sizes and the buckets each is drawn from
      dtypes: {T: [int32, float32]}           # dtype variables shared by arguments
      args:                                   # one generator per signature argument
        xs: {kind: array, shape: [n], dtype: T, min: -100, max: 100}
      where: ["n >= 1"]                       # constraints: NAME OP NAME-or-NUMBER
      transforms: [eager, jit, vmap]          # default: the pattern's, without grad
      grad: {oracle: scan.cumsum_grad}        # runs the grad transform too (wrt: the cases' grad.wrt)
      tolerance: {float32: {rtol: 1.0e-5}}    # replaces the pattern's for explored inputs
      config: {jax_enable_x64: true}
      note: "free text"

or, for a pattern whose output is not a value or that cannot have an oracle::

    explore: {skip: "the output is an error, not a value"}

This module is the catalog layer's part: the structure (:data:`EXPLORE`,
checked with the rest of the format), the rules between fields
(:func:`check_explore`) and the immutable model (:class:`Explore`,
:func:`build_explore`). Drawing inputs (Hypothesis) and calling oracles
(NumPy) happen in the conformance judge, never here: this module imports
neither.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ._kinds import (
    Bool,
    Enum,
    Field,
    Kind,
    List,
    MapOf,
    Number,
    Path,
    Report,
    Schema,
    Str,
    Struct,
    Tagged,
    Value,
    suggest,
)
from ._values import DTYPES, INT_DTYPES, ArrayValue, DictValue, ExpectedError, KeyValue, ListValue, TupleValue
from ._values import Value as CatalogValue

if TYPE_CHECKING:  # pragma: no cover
    from ._model import Pattern as _Pattern

__all__ = [
    "ARG_KINDS",
    "MAX_BUCKET",
    "ORACLE_NAME",
    "ArrayGen",
    "BoolGen",
    "ChoiceGen",
    "ConstGen",
    "Constraint",
    "DictGen",
    "Explore",
    "FloatGen",
    "Gen",
    "IntGen",
    "KeyGen",
    "SeqGen",
    "SizeGen",
    "build_explore",
    "check_explore",
    "explore_kind",
    "gen_to_dict",
    "is_static_value",
    "parse_constraint",
]

#: An oracle's name: ``MODULE.FUNCTION`` inside ``jaxpat.conformance.oracles`` (never any other module).
ORACLE_NAME = r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*"
#: The largest size a bucket may hold: explored inputs are small (compiled once per shape).
MAX_BUCKET = 4096
#: The most elements one drawn array may have (the largest buckets multiplied).
MAX_ARRAY_ELEMENTS = 1 << 16
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_NUMBER = r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_CONSTRAINT = re.compile(rf"\s*({_NAME}|{_NUMBER})\s*(<=|>=|==|!=|<|>)\s*({_NAME}|{_NUMBER})\s*")
#: Default value ranges of drawn array elements and numbers (clipped to the dtype's range).
DEFAULT_MIN, DEFAULT_MAX = -100, 100

_ORACLE = Str(pattern=ORACLE_NAME, hint="an oracle name MODULE.FUNCTION of jaxpat.conformance.oracles, "
              "such as `scan.cumsum` (lowercase, one dot)")
_DTYPE_OR_VAR = Str(pattern=_NAME, hint="a dtype (`float32`) or a dtype variable declared under `dtypes`")


class _Dim(Kind):
    """One dimension of a drawn shape: an integer >= 0 or the name of a symbolic size."""

    expected = "an integer >= 0 or a size name"

    def check(self, value: Any, at: Path, report: Report) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            report.error(at, f"a dimension is an integer >= 0 or a size name declared under `sizes`, got {value!r}")
        elif isinstance(value, int) and not 0 <= value <= MAX_BUCKET:
            report.error(at, f"a fixed dimension is between 0 and {MAX_BUCKET}, got {value}")
        elif isinstance(value, str) and not re.fullmatch(_NAME, value):
            report.error(at, f"{value[:40]!r} is not a size name (a Python identifier)")

    def schema(self, defs: dict[str, Schema]) -> Schema:
        return {"anyOf": [{"type": "integer", "minimum": 0, "maximum": MAX_BUCKET},
                          {"type": "string", "pattern": f"^{_NAME}$"}]}


class _ArgRef(Kind):
    """An argument generator (recursive: tuples, lists and dicts hold generators)."""

    expected = "a mapping"

    def check(self, value: Any, at: Path, report: Report) -> None:
        ARG.check(value, at, report)

    def schema(self, defs: dict[str, Schema]) -> Schema:
        if "explore-arg" not in defs:
            defs["explore-arg"] = {}
            defs["explore-arg"] = ARG.schema(defs)
        return {"$ref": "#/definitions/explore-arg"}

    def accepts(self, value: Any) -> bool:
        return isinstance(value, dict)


_KIND = "kind"
_RANGE = (Field("min", Number(), doc="smallest value drawn (default -100, clipped to the dtype)"),
          Field("max", Number(), doc="largest value drawn (default 100, clipped to the dtype)"))
ARG_KINDS = ("array", "int", "float", "bool", "size", "choice", "key", "const", "tuple", "list", "dict")
ARG = Tagged(_KIND, {
    "array": Struct(at_least_one=("shape", "shapes"), fields=(
        Field(_KIND, Enum(("array",), "kind"), required=True),
        Field("shape", List(_Dim()), doc="dimensions: integers or size names ([] for a 0-d array)"),
        Field("shapes", List(List(_Dim()), min_items=1, empty_message="lists no shape"),
              doc="alternative shapes, one drawn (instead of `shape`): [[n], [n, m]] varies the rank"),
        Field("dtype", _DTYPE_OR_VAR, required=True, doc="a dtype or a dtype variable"),
        *_RANGE,
        Field("values", List(Number(), min_items=1, unique=True, empty_message="lists no value"),
              doc="draw every element from these values instead of [min, max]"),
    )),
    "int": Struct((Field(_KIND, Enum(("int",), "kind"), required=True), *_RANGE,
                   Field("nonzero", Bool(), doc="never 0 (a step, a divisor)")),
                  ),
    "float": Struct((Field(_KIND, Enum(("float",), "kind"), required=True), *_RANGE,
                     Field("nonzero", Bool(), doc="never 0"),
                     Field("width", Number(minimum=16, integer=True),
                           doc="draw values exactly representable at this width: 16, 32 (default) or 64"))),
    "bool": Struct((Field(_KIND, Enum(("bool",), "kind"), required=True),)),
    "size": Struct((Field(_KIND, Enum(("size",), "kind"), required=True),
                    Field("of", Str(pattern=_NAME, hint="a size name declared under `sizes`"), required=True,
                          doc="the Python int value of that size"))),
    "choice": Struct((Field(_KIND, Enum(("choice",), "kind"), required=True),
                      Field("values", List(Value("input"), min_items=1, empty_message="lists no value"),
                            required=True, doc="catalog values (value language), one drawn"))),
    "key": Struct((Field(_KIND, Enum(("key",), "kind"), required=True),
                   Field("legacy", Bool(), doc="a raw uint32[2] PRNGKey instead of a typed key"),
                   Field("impl", Enum(("threefry2x32",), "PRNG implementation"),
                         doc="the key's implementation (threefry2x32: what the oracles know)"),
                   Field("min", Number(minimum=0, integer=True), doc="smallest seed (default 0)"),
                   Field("max", Number(minimum=0, integer=True), doc="largest seed (default 2**31 - 1)"))),
    "const": Struct((Field(_KIND, Enum(("const",), "kind"), required=True),
                     Field("value", Value("input"), required=True, doc="a fixed catalog value"))),
    "tuple": Struct((Field(_KIND, Enum(("tuple",), "kind"), required=True),
                     Field("items", List(_ArgRef()), required=True, doc="a generator per item"))),
    "list": Struct((Field(_KIND, Enum(("list",), "kind"), required=True),
                    Field("items", List(_ArgRef()), required=True, doc="a generator per item"))),
    "dict": Struct((Field(_KIND, Enum(("dict",), "kind"), required=True),
                    Field("items", MapOf(_ArgRef()), required=True, doc="a generator per key"))),
}, noun="argument kind")

_BUCKET = List(Number(minimum=0, integer=True), min_items=1, unique=True, empty_message="lists no size")
_SKIP = Struct((Field("skip", Str(), required=True,
                      doc="why this pattern has no domain and oracle (shown by jaxpat show)"),))


class _Explore(Kind):
    """``{skip: REASON}`` or a domain with an oracle (the two are told apart by ``skip``)."""

    expected = "a mapping"

    def __init__(self, domain: Struct) -> None:
        self.domain = domain

    def check(self, value: Any, at: Path, report: Report) -> None:
        if isinstance(value, dict) and "skip" in value:
            _SKIP.check(value, at, report)
        else:
            self.domain.check(value, at, report)

    def schema(self, defs: dict[str, Schema]) -> Schema:
        return {"anyOf": [_SKIP.schema(defs), self.domain.schema(defs)]}

    def accepts(self, value: Any) -> bool:
        return isinstance(value, dict)


def explore_kind(transform_list: Kind, tolerance: Kind, config: Kind) -> Kind:
    """The ``explore:`` field's kind (``_format`` passes the kinds it shares with cases)."""
    return _Explore(Struct((
        Field("oracle", _ORACLE, required=True,
              doc="MODULE.FUNCTION of jaxpat.conformance.oracles: called with the drawn arguments by name"),
        Field("args", MapOf(_ArgRef(), keys=Str(pattern=_NAME, hint="an argument name")), required=True,
              doc="a generator for every name in signature.args"),
        Field("sizes", MapOf(_BUCKET, keys=Str(pattern=_NAME, hint="a size name (a Python identifier)")),
              doc="symbolic sizes and the buckets each is drawn from"),
        Field("dtypes", MapOf(List(Enum(tuple(sorted(DTYPES)), "dtype"), min_items=1, unique=True,
                                   empty_message="lists no dtype"),
                              keys=Str(pattern=_NAME, hint="a dtype variable name (a Python identifier)")),
              doc="dtype variables: every argument naming one gets the same drawn dtype"),
        Field("where", List(Str(), min_items=1, empty_message="lists no constraint"),
              doc="constraints `A OP B` (OP: < <= > >= == !=; A, B: a size, a scalar argument or a number)"),
        Field("transforms", transform_list, doc="the transforms explored (default: the pattern's, without grad)"),
        Field("grad", Struct((Field("oracle", _ORACLE, required=True, doc="the gradient's oracle"),)),
              doc="explore the grad transform too: the oracle gives d(output)/d(wrt), wrt from the cases' grad"),
        Field("tolerance", tolerance, doc="replaces the pattern's tolerance for explored inputs"),
        Field("config", config, doc="JAX config flags the explored calls run under"),
        Field("note", Str(), doc="free text: what the domain leaves out and why"),
    ), noun="explore field", hint="see docs/explore.md"))


# ---------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ArrayGen:
    """An array of one of ``shapes`` (ints and size names) and ``dtype`` (a dtype or a dtype variable)."""

    shapes: tuple[tuple[int | str, ...], ...]
    dtype: str
    min: float | None = None
    max: float | None = None
    values: tuple[float, ...] = ()


@dataclass(frozen=True)
class IntGen:
    """A Python int in [min, max]."""

    min: int | None = None
    max: int | None = None
    nonzero: bool = False


@dataclass(frozen=True)
class FloatGen:
    """A Python float in [min, max], exactly representable at ``width`` bits."""

    min: float | None = None
    max: float | None = None
    nonzero: bool = False
    width: int = 32


@dataclass(frozen=True)
class BoolGen:
    """A Python bool."""


@dataclass(frozen=True)
class SizeGen:
    """The value of the symbolic size ``of`` (a Python int)."""

    of: str


@dataclass(frozen=True)
class ChoiceGen:
    """One of ``values`` (catalog values)."""

    values: tuple[CatalogValue, ...]


@dataclass(frozen=True)
class KeyGen:
    """A PRNG key from a drawn seed: ``jax.random.key(seed)`` (``legacy``: ``PRNGKey(seed)``)."""

    legacy: bool = False
    impl: str | None = None
    min: int = 0
    max: int = 2**31 - 1


@dataclass(frozen=True)
class ConstGen:
    """Always ``value``."""

    value: CatalogValue


@dataclass(frozen=True)
class SeqGen:
    """A tuple (``kind="tuple"``) or list of generated items."""

    kind: str
    items: tuple[Gen, ...]


@dataclass(frozen=True)
class DictGen:
    """A dict of generated items, keys in declared order."""

    items: tuple[tuple[str, Gen], ...]


Gen = ArrayGen | IntGen | FloatGen | BoolGen | SizeGen | ChoiceGen | KeyGen | ConstGen | SeqGen | DictGen


@dataclass(frozen=True)
class Constraint:
    """``left OP right``: each side a name (a size or a scalar argument) or a number."""

    left: str | float
    op: str
    right: str | float

    def __str__(self) -> str:
        return f"{self.left} {self.op} {self.right}"

    def holds(self, names: Mapping[str, Any]) -> bool:
        """Whether the constraint holds for these values of the names (sizes and scalar arguments)."""
        a = names[self.left] if isinstance(self.left, str) else self.left
        b = names[self.right] if isinstance(self.right, str) else self.right
        return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[self.op])


def parse_constraint(text: str) -> Constraint | None:
    """The constraint ``text`` states, or None when it is not ``A OP B`` (nothing is evaluated)."""
    m = _CONSTRAINT.fullmatch(text)
    if m is None:
        return None

    def side(s: str) -> str | float:
        if re.fullmatch(_NAME, s):
            return s
        number = float(s)
        return int(number) if number.is_integer() and re.fullmatch(r"-?\d+", s) else number

    return Constraint(side(m.group(1)), m.group(2), side(m.group(3)))


@dataclass(frozen=True)
class Explore:
    """A pattern's domain and oracle (``skip`` is None), or why it has none (``skip`` says why)."""

    skip: str | None = None
    oracle: str | None = None
    args: Mapping[str, Gen] = field(default_factory=lambda: MappingProxyType({}))
    sizes: Mapping[str, tuple[int, ...]] = field(default_factory=lambda: MappingProxyType({}))
    dtypes: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    where: tuple[Constraint, ...] = ()
    #: the transforms explored; None: the pattern's (without grad unless ``grad_oracle``)
    transforms: tuple[str, ...] | None = None
    grad_oracle: str | None = None
    #: the tolerance explored results are compared with: ``tolerance`` merged over the file's and the pattern's
    #: (a :class:`~jaxpat.catalog.Tolerance`; None only for a skip)
    tolerance: Any = None
    #: the ``tolerance`` table as declared (None: none declared)
    tolerance_table: Any = None
    config: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    note: str | None = None

    @property
    def has_oracle(self) -> bool:
        """True when inputs can be drawn and compared (a domain with an oracle, not a skip)."""
        return self.skip is None and self.oracle is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able data, in the catalog's own format."""
        if self.skip is not None:
            return {"skip": self.skip}
        out: dict[str, Any] = {"oracle": self.oracle, "args": {k: gen_to_dict(g) for k, g in self.args.items()}}
        if self.sizes:
            out["sizes"] = {k: list(v) for k, v in self.sizes.items()}
        if self.dtypes:
            out["dtypes"] = {k: list(v) for k, v in self.dtypes.items()}
        if self.where:
            out["where"] = [str(c) for c in self.where]
        if self.transforms is not None:
            out["transforms"] = list(self.transforms)
        if self.grad_oracle:
            out["grad"] = {"oracle": self.grad_oracle}
        if self.tolerance_table:
            out["tolerance"] = self.tolerance_table
        if self.config:
            out["config"] = dict(self.config)
        if self.note:
            out["note"] = self.note
        return out


def gen_to_dict(gen: Gen) -> dict[str, Any]:
    """A generator in the catalog's format (what :func:`build_explore` read)."""
    from ._values import encode

    if isinstance(gen, ArrayGen):
        out: dict[str, Any] = {"kind": "array", "dtype": gen.dtype}
        if len(gen.shapes) == 1:
            out["shape"] = list(gen.shapes[0])
        else:
            out["shapes"] = [list(s) for s in gen.shapes]
        if gen.values:
            out["values"] = list(gen.values)
    elif isinstance(gen, IntGen | FloatGen):
        out = {"kind": "int" if isinstance(gen, IntGen) else "float"}
        if gen.nonzero:
            out["nonzero"] = True
        if isinstance(gen, FloatGen) and gen.width != 32:
            out["width"] = gen.width
    elif isinstance(gen, BoolGen):
        return {"kind": "bool"}
    elif isinstance(gen, SizeGen):
        return {"kind": "size", "of": gen.of}
    elif isinstance(gen, ChoiceGen):
        return {"kind": "choice", "values": [encode(v) for v in gen.values]}
    elif isinstance(gen, KeyGen):
        out = {"kind": "key", "min": gen.min, "max": gen.max}
        if gen.legacy:
            out["legacy"] = True
        if gen.impl:
            out["impl"] = gen.impl
        return out
    elif isinstance(gen, ConstGen):
        return {"kind": "const", "value": encode(gen.value)}
    elif isinstance(gen, SeqGen):
        return {"kind": gen.kind, "items": [gen_to_dict(g) for g in gen.items]}
    else:
        return {"kind": "dict", "items": {k: gen_to_dict(g) for k, g in gen.items}}
    for name in ("min", "max"):
        if getattr(gen, name) is not None:
            out[name] = getattr(gen, name)
    return out


def build_explore(raw: Any, values: Mapping[Path, Any], at: Path, layers: list[Any],
                  merge: Callable[[list[Any]], Any]) -> Explore | None:
    """The model of a checked ``explore:`` field at ``at`` (None when the pattern declares none).

    ``values`` are the catalog values the checker decoded, by path (``choice`` and ``const`` values);
    ``merge(layers + [explore's table])`` gives the tolerance (``_build.merge_tolerance``).
    """
    if not isinstance(raw, dict):
        return None
    if "skip" in raw:
        return Explore(skip=str(raw["skip"]).strip())
    return Explore(
        oracle=raw["oracle"],
        args=MappingProxyType({k: _gen(g, values, (*at, "args", k)) for k, g in raw["args"].items()}),
        sizes=MappingProxyType({k: tuple(v) for k, v in (raw.get("sizes") or {}).items()}),
        dtypes=MappingProxyType({k: tuple(v) for k, v in (raw.get("dtypes") or {}).items()}),
        where=tuple(c for c in map(parse_constraint, raw.get("where") or ()) if c is not None),
        transforms=tuple(raw["transforms"]) if "transforms" in raw else None,
        grad_oracle=(raw.get("grad") or {}).get("oracle"),
        tolerance=merge([*layers, ("explore", raw.get("tolerance"))]),
        tolerance_table=raw.get("tolerance"),
        config=MappingProxyType(dict(raw.get("config") or {})),
        note=raw.get("note"),
    )


def _gen(raw: dict, values: Mapping[Path, Any], at: Path) -> Gen:
    kind = raw["kind"]
    if kind == "array":
        shapes = [raw["shape"]] if "shape" in raw else raw["shapes"]
        return ArrayGen(tuple(tuple(s) for s in shapes), raw["dtype"], raw.get("min"), raw.get("max"),
                        tuple(raw.get("values") or ()))
    if kind == "int":
        return IntGen(raw.get("min"), raw.get("max"), bool(raw.get("nonzero", False)))
    if kind == "float":
        return FloatGen(raw.get("min"), raw.get("max"), bool(raw.get("nonzero", False)), int(raw.get("width", 32)))
    if kind == "bool":
        return BoolGen()
    if kind == "size":
        return SizeGen(raw["of"])
    if kind == "choice":
        keys = [(*at, "values", i) for i in range(len(raw["values"]))]
        return ChoiceGen(tuple(values[k] for k in keys))
    if kind == "key":
        return KeyGen(bool(raw.get("legacy", False)), raw.get("impl"), int(raw.get("min", 0)),
                      int(raw.get("max", 2**31 - 1)))
    if kind == "const":
        key = (*at, "value")
        return ConstGen(values[key])
    if kind in ("tuple", "list"):
        return SeqGen(kind, tuple(_gen(g, values, (*at, "items", i)) for i, g in enumerate(raw["items"])))
    return DictGen(tuple((k, _gen(g, values, (*at, "items", k))) for k, g in raw["items"].items()))


# ---------------------------------------------------------------------------
# which patterns, which transforms, coverage (what `jaxpat show`, `list` and reports say)
# ---------------------------------------------------------------------------

def explore_transforms(pattern: _Pattern) -> tuple[str, ...]:
    """The transforms a pattern's exploration runs: the domain's ``transforms``, else every transform under
    which some case expects a value (``grad`` only with a grad oracle), in the catalog's order."""
    ex = pattern.explore
    if ex is None or not ex.has_oracle:
        return ()
    if ex.transforms is not None:
        chosen = ex.transforms
    else:
        chosen = tuple(t for t in ("eager", "jit", "vmap", "grad") if any(
            t in c.transforms and not isinstance(c.expect_under.get(t, c.expect), ExpectedError)
            for c in pattern.cases))
    return tuple(t for t in chosen if t != "grad" or ex.grad_oracle)


def explorable(pattern: _Pattern) -> bool:
    """True when the pattern has a domain and an oracle and runs on one device in one process."""
    return bool(explore_transforms(pattern)) and all(c.devices == 1 and not c.processes for c in pattern.cases)


def coverage(patterns: Sequence[_Pattern]) -> dict[str, Any]:
    """The explore coverage of ``patterns``: how many return a value (:meth:`_Pattern.returns_value`), how many of
    those have a domain and an oracle, and the others' reasons (``skip``) or that they declare nothing."""
    value = [p for p in patterns if p.returns_value()]
    with_oracle = [p.id for p in value if p.explore is not None and p.explore.has_oracle]
    skipped = {p.id: str(p.explore.skip) for p in patterns if p.explore is not None and p.explore.skip}
    undeclared = [p.id for p in value if p.explore is None]
    return {"value_patterns": len(value), "with_oracle": len(with_oracle), "patterns": len(patterns),
            "skipped": skipped, "undeclared": undeclared,
            "figure": f"{len(with_oracle)}/{len(value)}"}


def coverage_line(patterns: Sequence[_Pattern]) -> str:
    """One line: ``explore coverage: K/V patterns that return a value have a domain and an oracle (P %) ...``."""
    c = coverage(patterns)
    pct = 100.0 * c["with_oracle"] / c["value_patterns"] if c["value_patterns"] else 0.0
    return (f"explore coverage: {c['with_oracle']}/{c['value_patterns']} patterns whose output is a value have a "
            f"domain and an oracle ({pct:.0f} %); {len(c['skipped'])} say why not (explore.skip), "
            f"{len(c['undeclared'])} declare nothing")



# ---------------------------------------------------------------------------
# rules between fields (the structure is checked by the format)
# ---------------------------------------------------------------------------

_SCALAR_KINDS = ("int", "float", "bool", "size")
_HASHABLE_KINDS = (*_SCALAR_KINDS, "choice", "const", "tuple")


def check_explore(pattern: dict, args: list[str] | None, static: list[str], at: Path, report: Report,
                  values: Mapping[Path, Any]) -> None:
    """Report what the format cannot say about ``pattern``'s ``explore:`` field at ``at``.

    Every signature argument has a generator and no other name does; size
    names, dtype variables and constraint names are declared; static
    arguments are drawn as hashable values; buckets and shapes stay small;
    ``grad`` needs a case's ``grad.wrt``; the case id ``explore`` is
    reserved for explore items.
    """
    raw = pattern.get("explore")
    if not isinstance(raw, dict) or "skip" in raw:
        return
    where = (*at, "explore")
    sizes: dict[str, Any] = raw["sizes"] if isinstance(raw.get("sizes"), dict) else {}
    dtypes: dict[str, Any] = raw["dtypes"] if isinstance(raw.get("dtypes"), dict) else {}
    for name, bucket in sizes.items():
        if isinstance(bucket, list):
            for i, n in enumerate(bucket):
                if isinstance(n, int) and not isinstance(n, bool) and n > MAX_BUCKET:
                    report.error((*where, "sizes", name, i), f"a size bucket holds at most {MAX_BUCKET}, got {n}")
        if name in dtypes:
            report.error((*where, "dtypes", name), f"`{name}` is declared both as a size and as a dtype variable",
                         key=True)
    gens: dict[str, Any] = raw["args"] if isinstance(raw.get("args"), dict) else {}
    if args is not None:
        for name in gens:
            if name not in args:
                report.error((*where, "args", name), f"unknown argument `{name}`{suggest(name, args)}; the "
                             f"signature's args are: {', '.join(args) or '(none)'}", key=True)
        for name in args:
            if name not in gens and "args" in raw:
                report.error((*where, "args"), f"missing a generator for argument `{name}`")
    scalars: dict[str, str] = {}
    for name, gen in gens.items():
        _check_gen(gen, (*where, "args", name), sizes, dtypes, report, values)
        if isinstance(gen, dict):
            if gen.get("kind") in _SCALAR_KINDS:
                scalars[name] = gen["kind"]
            if name in static and gen.get("kind") not in _HASHABLE_KINDS:
                report.error((*where, "args", name, "kind"), f"static argument `{name}` must be drawn as a "
                             f"hashable value ({', '.join(_HASHABLE_KINDS)}), not `{gen.get('kind')}`")
    known = [*sizes, *scalars]
    for i, text in enumerate(raw.get("where") or []):
        if not isinstance(text, str):
            continue
        c = parse_constraint(text)
        if c is None:
            report.error((*where, "where", i), f"{text[:60]!r} is not a constraint `A OP B` (OP: < <= > >= == !=; "
                         "A and B: a size name, a scalar argument or a number)")
            continue
        for side in (c.left, c.right):
            if isinstance(side, str) and side not in known:
                report.error((*where, "where", i), f"`{side}` is neither a size nor a scalar argument"
                             f"{suggest(side, known)}; known: {', '.join(known) or '(none)'}")
    if "grad" in raw and not any(isinstance(c, dict) and isinstance(c.get("grad"), dict)
                                 for c in pattern.get("cases") or []):
        report.error((*where, "grad"), "exploring `grad` needs a case with `grad: {wrt: ARG, ...}` (it says which "
                     "argument the gradient is taken with respect to)")
    _check_sizes_used(raw, sizes, where, report)


def _check_sizes_used(raw: dict, sizes: dict, where: Path, report: Report) -> None:
    text = repr(raw.get("args"))
    for name in sizes:
        if f"'{name}'" not in text:
            report.error((*where, "sizes", name), f"size `{name}` is used by no argument", key=True)


def _check_gen(gen: Any, at: Path, sizes: dict, dtypes: dict, report: Report, values: Mapping[Path, Any]) -> None:
    if not isinstance(gen, dict):
        return
    kind = gen.get("kind")
    lo: Any = gen.get("min")
    hi: Any = gen.get("max")
    if _is_number(lo) and _is_number(hi) and lo > hi:
        report.error((*at, "min"), f"min {lo} is above max {hi}")
    if kind == "array":
        if "shape" in gen and "shapes" in gen:
            report.error((*at, "shapes"), "give `shape` or `shapes`, not both", key=True)
        shapes = [((*at, "shape"), gen.get("shape"))] if "shape" in gen else [
            ((*at, "shapes", j), s) for j, s in enumerate(gen.get("shapes") or [])]
        for where, shape in shapes:
            _check_shape(shape, where, sizes, report)
        dtype = gen.get("dtype")
        if isinstance(dtype, str) and dtype not in DTYPES and dtype not in dtypes:
            report.error((*at, "dtype"), f"`{dtype}` is neither a dtype nor a dtype variable declared under "
                         f"`dtypes`{suggest(dtype, [*DTYPES, *dtypes])}")
        names = [dtype] if dtype in DTYPES else list(dtypes.get(dtype) or [])
        if any(d in ("bool",) or d in INT_DTYPES for d in names if isinstance(d, str)):
            for bound in ("min", "max"):
                b: Any = gen.get(bound)
                if _is_number(b) and not float(b).is_integer() and any(d in INT_DTYPES for d in names):
                    report.error((*at, bound), f"an integer dtype needs an integer {bound}, got {b}")
    elif kind == "size":
        of = gen.get("of")
        if isinstance(of, str) and of not in sizes:
            report.error((*at, "of"), f"`{of}` is not a size declared under `sizes`{suggest(of, sizes)}")
    elif kind == "int":
        for bound in ("min", "max"):
            v: Any = gen.get(bound)
            if _is_number(v) and not float(v).is_integer():
                report.error((*at, bound), f"an int's {bound} is an integer, got {v}")
    elif kind == "float":
        if gen.get("width") not in (None, 16, 32, 64):
            report.error((*at, "width"), f"a float width is 16, 32 or 64, got {gen.get('width')!r}")
    elif kind == "key":
        if _is_number(hi) and hi > 2**32 - 1:
            report.error((*at, "max"), f"a key seed is at most 2**32 - 1, got {hi}")
    elif kind in ("tuple", "list"):
        for i, item in enumerate(gen.get("items") or []):
            _check_gen(item, (*at, "items", i), sizes, dtypes, report, values)
    elif kind == "dict":
        items = gen.get("items")
        for k, item in (items.items() if isinstance(items, dict) else ()):
            _check_gen(item, (*at, "items", k), sizes, dtypes, report, values)


def _check_shape(shape: Any, at: Path, sizes: dict, report: Report) -> None:
    count = 1
    for i, dim in enumerate(shape if isinstance(shape, list) else []):
        if isinstance(dim, str):
            if dim not in sizes:
                report.error((*at, i), f"`{dim}` is not a size declared under `sizes`{suggest(dim, sizes)}")
            else:
                count *= max((n for n in sizes[dim] if isinstance(n, int)), default=1)
        elif isinstance(dim, int) and not isinstance(dim, bool):
            count *= dim
    if count > MAX_ARRAY_ELEMENTS:
        report.error(at, f"the largest drawn array has {count} elements; explored arrays hold at most "
                     f"{MAX_ARRAY_ELEMENTS} (use smaller buckets)")


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def is_static_value(value: CatalogValue) -> bool:
    """Whether a drawn catalog value can be a static (hashable) argument."""
    if isinstance(value, TupleValue):
        return all(is_static_value(v) for v in value.items)
    return not isinstance(value, (ListValue, DictValue, ArrayValue, KeyValue))
