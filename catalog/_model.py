"""The immutable, typed model of a loaded catalog."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from jaxpat._util import NoMatchError, did_you_mean

from ._claims_model import Claims, Condition, GradSpec, Source
from ._values import Value, encode

if TYPE_CHECKING:  # pragma: no cover - the model only annotates with it
    from ._explore import Explore

__all__ = [
    "FAMILIES",
    "TRANSFORMS",
    "Case",
    "Catalog",
    "Deviation",
    "Location",
    "Pattern",
    "Provenance",
    "Signature",
    "Tolerance",
]

FAMILIES = (
    "arange", "scan", "loops", "vmap", "prng", "pytree", "checkpoint",
    "arrays", "jit", "control-flow", "autodiff", "gotchas", "devices", "sharding", "distributed",
)
TRANSFORMS = ("eager", "jit", "vmap", "grad")
#: Specific platform names that fall back to a catalog platform (``cuda`` and ``rocm`` are ``gpu``).
PLATFORM_FALLBACK: Mapping[str, str] = MappingProxyType({"cuda": "gpu", "rocm": "gpu"})


def platform_names(platform: str | None) -> tuple[str, ...]:
    """The catalog names that apply to ``platform``, most specific first: ``cuda`` -> (``cuda``, ``gpu``)."""
    if not platform:
        return ()
    general = PLATFORM_FALLBACK.get(platform)
    return (platform, general) if general else (platform,)

#: Built-in tolerances (rtol, atol) per float dtype; catalogs override them.
DEFAULT_TOLERANCE: Mapping[str, tuple[float, float]] = MappingProxyType({
    "float16": (1e-3, 1e-3),
    "bfloat16": (1e-2, 1e-2),
    "float32": (1e-6, 1e-6),
    "float64": (1e-12, 1e-12),
    "complex64": (1e-6, 1e-6),
    "complex128": (1e-12, 1e-12),
})


def _frozen(d: Mapping | None) -> Mapping:
    return MappingProxyType(dict(d or {}))


@dataclass(frozen=True)
class Location:
    """Where something was declared: file, 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Signature:
    """Argument names in call order; ``static`` ones are hashable, jit-static."""

    args: tuple[str, ...]
    static: tuple[str, ...] = ()


@dataclass(frozen=True)
class Provenance:
    """Why an expected value is right: ``seed``, ``math``, ``oracle`` or ``observed``."""

    kind: str
    seed: str | None = None
    printed: str | None = None
    oracle: str | None = None
    jax: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Tolerance:
    """Per-dtype (rtol, atol), with per-platform overrides, merged over the defaults.

    ``sources`` says for each dtype where its figure came from (``built-in``,
    ``catalog defaults``, ``pattern``, ``case``), so failures can explain it.
    """

    table: Mapping[str, tuple[float, float]] = field(default_factory=lambda: DEFAULT_TOLERANCE)
    platforms: Mapping[str, Mapping[str, tuple[float, float]]] = field(default_factory=lambda: _frozen({}))
    sources: Mapping[str, str] = field(default_factory=lambda: _frozen({}))

    def for_dtype(self, dtype: str, platform: str | None = None) -> tuple[float, float, str]:
        """Return (rtol, atol, where-it-came-from) for ``dtype`` on ``platform``."""
        for name in platform_names(platform):
            if dtype in self.platforms.get(name, {}):
                rtol, atol = self.platforms[name][dtype]
                return rtol, atol, f"{self.sources.get(f'{name}:{dtype}', 'catalog')} ({name} override)"
        rtol, atol = self.table.get(dtype, (0.0, 0.0))
        return rtol, atol, self.sources.get(dtype, "built-in default")


@dataclass(frozen=True)
class Deviation:
    """A known deviation: items matching every field set in ``when`` are strict xfails."""

    when: Condition
    reason: str

    def matches(self, **item: str) -> bool:
        """True when every declared key equals the item's (``jax`` is a version spec)."""
        for key, want in self.when.to_dict().items():
            have = item.get(key)
            if key == "jax":  # ``want`` is validated at load; a ``have`` that is not PEP 440 matches nothing
                try:
                    if have is None or not version_matches(have, want):
                        return False
                except ValueError:
                    return False
            elif have != want:
                return False
        return True

    def to_dict(self) -> dict[str, Any]:
        return {"when": self.when.to_dict(), "reason": self.reason}


@dataclass(frozen=True)
class Case:
    """One call of a pattern: arguments, expected result, and how to check it."""

    id: str
    args: Mapping[str, Value]
    expect: Value
    provenance: Provenance
    transforms: tuple[str, ...]
    expect_under: Mapping[str, Value] = field(default_factory=lambda: _frozen({}))
    grad: GradSpec | None = None
    config: Mapping[str, Any] = field(default_factory=lambda: _frozen({}))
    tolerance: Tolerance = field(default_factory=Tolerance)
    note: str | None = None
    location: Location | None = None
    #: how many devices one item of this case runs on (the case's, else the pattern's ``devices``, else 1)
    devices: int = 1
    #: expected placement per result leaf path (``result``, ``result[0]``): ``"replicated"``, ``"host"``
    #: or a tuple of (device index, ((start, stop), ...) or None for the whole array)
    shards: Mapping[str, Any] = field(default_factory=lambda: _frozen({}))
    #: platforms (``gpu``, ``cuda``, ...) on which a repeated run may differ within tolerance
    nondeterministic: tuple[str, ...] = ()

    def is_nondeterministic(self, platform: str | None) -> bool:
        """True when the case declares ``platform`` (or its catalog name) nondeterministic."""
        return any(name in self.nondeterministic for name in platform_names(platform))
    #: run across this many processes joined by ``jax.distributed`` (family ``distributed``; None: one process)
    processes: int | None = None

    def __repr__(self) -> str:
        args = ", ".join(self.args)
        return f"<Case {self.id!r} ({args}) transforms={list(self.transforms)}>"

    def expected(self, transform: str) -> Value:
        """The expectation under ``transform`` (``expect_under`` wins over ``expect``).

        :raises NoMatchError: ``transform`` is not one of :data:`TRANSFORMS` (with a did-you-mean).
        """
        if transform not in TRANSFORMS:
            raise NoMatchError(f"unknown transform {transform!r}{did_you_mean(str(transform), TRANSFORMS)}; "
                               f"known: {', '.join(TRANSFORMS)}")
        return self.expect_under.get(transform, self.expect)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "args": {k: encode(v) for k, v in self.args.items()},
            "expect": encode(self.expect),
            "transforms": list(self.transforms),
            "provenance": {k: v for k, v in vars(self.provenance).items() if v is not None},
        }
        if self.expect_under:
            out["expect_under"] = {k: encode(v) for k, v in self.expect_under.items()}
        if self.grad:
            out["grad"] = self.grad.to_dict()
        if self.config:
            out["config"] = dict(self.config)
        if self.note:
            out["note"] = self.note
        if self.devices != 1:
            out["devices"] = self.devices
        if self.shards:
            out["shards"] = {
                path: spec if isinstance(spec, str) else [
                    {"device": d, **({"index": [list(r) for r in index]} if index is not None else {})}
                    for d, index in spec
                ]
                for path, spec in self.shards.items()
            }
        if self.nondeterministic:
            out["nondeterministic"] = list(self.nondeterministic)
        if self.processes:
            out["processes"] = self.processes
        return out


@dataclass(frozen=True)
class Pattern:
    """A JAX idiom: what it is, its cases, and its measurable claims."""

    id: str
    family: str
    title: str
    summary: str
    tags: tuple[str, ...]
    source: Source
    signature: Signature
    cases: tuple[Case, ...]
    claims: Claims = field(default_factory=Claims)
    deviations: tuple[Deviation, ...] = ()
    vmap_axes: Mapping[str, int | None] = field(default_factory=lambda: _frozen({}))
    origin: str = "catalog.yaml"
    location: Location | None = None
    #: the input domain and oracle of ``jaxpat check --explore`` (docs/explore.md), or why there is none
    explore: Explore | None = None

    def returns_value(self) -> bool:
        """True when some case of a single-process, single-device pattern expects a value (not an error, not a
        placement): the patterns an oracle can judge, the denominator of the explore coverage figure."""
        from ._values import ExpectedError

        return any(
            not isinstance(c.expect, ExpectedError) and not c.shards and c.devices == 1 and not c.processes
            for c in self.cases
        )

    def __repr__(self) -> str:
        return f"<Pattern {self.id!r} family={self.family!r} cases={len(self.cases)}>"

    def case(self, case_id: str) -> Case:
        """Return the case with this id; KeyError names the ones that exist."""
        for c in self.cases:
            if c.id == case_id:
                return c
        ids = [c.id for c in self.cases]
        raise NoMatchError(f"pattern {self.id!r} has no case {case_id!r}{did_you_mean(str(case_id), ids)}; "
                           f"cases: {', '.join(ids)}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "family": self.family,
            "title": self.title,
            "summary": self.summary,
            "tags": list(self.tags),
            "source": self.source.to_dict(),
            "signature": {"args": list(self.signature.args), "static": list(self.signature.static)},
            "cases": [c.to_dict() for c in self.cases],
            "claims": self.claims.to_dict(),
            "origin": self.origin,
        }
        if self.deviations:
            out["deviations"] = [d.to_dict() for d in self.deviations]
        if self.vmap_axes:
            out["vmap"] = {"in_axes": dict(self.vmap_axes)}
        if self.explore is not None:
            out["explore"] = self.explore.to_dict()
        return out


@dataclass(frozen=True)
class Catalog:
    """An ordered, immutable collection of patterns with a content digest."""

    patterns: tuple[Pattern, ...]
    files: tuple[str, ...] = ()
    digest: str = ""
    #: id -> pattern (first occurrence wins), so that get() and ``in`` are O(1).
    _index: dict[str, Pattern] = field(init=False, repr=False, compare=False, hash=False, default_factory=dict)

    def __post_init__(self) -> None:
        for p in self.patterns:
            self._index.setdefault(p.id, p)

    def __repr__(self) -> str:
        return (f"<Catalog {len(self.patterns)} patterns, {self.n_cases()} cases, "
                f"{len(self.files)} file{'s' if len(self.files) != 1 else ''}, digest {self.digest[:12] or '-'}>")

    def __iter__(self) -> Iterator[Pattern]:
        return iter(self.patterns)

    def __len__(self) -> int:
        return len(self.patterns)

    def __contains__(self, pattern_id: object) -> bool:
        try:
            return pattern_id in self._index
        except TypeError:  # unhashable: not an id
            return False

    def get(self, pattern_id: str) -> Pattern:
        """Return the pattern with this id; KeyError suggests a close id."""
        found = self._index.get(pattern_id) if isinstance(pattern_id, str) else None
        if found is not None:
            return found
        hint = did_you_mean(pattern_id, self.ids()) if isinstance(pattern_id, str) else ""
        raise NoMatchError(f"no pattern {pattern_id!r} in the catalog{hint}")

    def ids(self) -> list[str]:
        return [p.id for p in self.patterns]

    def filter(
        self,
        *,
        family: str | None = None,
        tag: str | None = None,
        claim: str | None = None,
        source: str | None = None,
    ) -> Catalog:
        """Return the sub-catalog of patterns matching every given criterion.

        ``claim`` keeps patterns that declare that claim kind (for every or some
        implementations; settings such as ``base_case`` are not claims);
        ``source`` matches a substring of the pattern's seed file, doc or section.

        A criterion may match nothing in combination with others (the result
        is then empty), but a name that matches nothing on its own -- a family,
        tag or claim kind no pattern here has, a source no pattern cites --
        raises :class:`NoMatchError` with the closest name.
        """
        for what, value, known in (
            ("family", family, lambda: {p.family for p in self.patterns} | set(FAMILIES)),
            ("tag", tag, lambda: {t for p in self.patterns for t in p.tags}),
            ("claim kind", claim, lambda: {k for p in self.patterns for k in p.claims.kinds(overrides=True)}),
        ):
            if value is not None:
                names = known()
                if value not in names or (what == "family" and not any(p.family == value for p in self.patterns)):
                    raise NoMatchError(f"no pattern has {what} {value!r}{did_you_mean(str(value), names)}")
        if source is not None and not any(source in v for p in self.patterns for v in p.source.to_dict().values()):
            raise NoMatchError(f"no pattern's source contains {source!r}")

        def keep(p: Pattern) -> bool:
            return (
                (family is None or p.family == family)
                and (tag is None or tag in p.tags)
                and (claim is None or claim in p.claims.kinds(overrides=True))
                and (source is None or any(source in v for v in p.source.to_dict().values()))
            )
        return Catalog(tuple(p for p in self.patterns if keep(p)), self.files, self.digest)

    def families(self) -> list[str]:
        return sorted({p.family for p in self.patterns})

    def n_cases(self) -> int:
        return sum(len(p.cases) for p in self.patterns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "digest": self.digest,
            "files": list(self.files),
            "patterns": [p.to_dict() for p in self.patterns],
        }


def _clauses(spec: str) -> list[Any]:
    """The ``packaging`` Specifier of each comma-separated clause (a bare version is ``==``).

    Raises ``ValueError`` when one is bad.
    """
    from packaging.specifiers import InvalidSpecifier, Specifier

    out = []
    for clause in spec.split(","):
        text = clause.strip()
        if not text:
            raise InvalidSpecifier(f"empty clause in version spec {spec!r}")
        out.append(Specifier("==" + text if text[:1].isdigit() else text))
    return out


#: A plain release (``0.10.2``), and a spec clause that is one after an operator taking any release: PEP 440
#: (and so ``packaging``) always accepts these, so :func:`version_problem` says so without importing it.
_PLAIN_VERSION = re.compile(r"[0-9]+(?:\.[0-9]+)*", re.ASCII)
_PLAIN_CLAUSE = re.compile(r"(?:==|!=|<=|>=|<|>)?[0-9]+(?:\.[0-9]+)*", re.ASCII)


def version_problem(text: str, *, spec: bool) -> str | None:
    """Why ``text`` is not a PEP 440 version (``spec=False``) or version spec (``spec=True``), or None when it is.

    What :func:`version_matches` accepts: the catalog validator reports these as problems. A plain release
    (and a spec of plain clauses) is accepted without importing ``packaging``; anything else is
    ``packaging``'s to decide.
    """
    plain = _PLAIN_CLAUSE if spec else _PLAIN_VERSION
    if all(plain.fullmatch(part.strip()) for part in (text.split(",") if spec else [text])):
        return None
    from packaging.version import Version

    try:
        if spec:
            _clauses(text)
        else:
            Version(text.strip())
    except ValueError as exc:
        return str(exc).replace("Invalid specifier: ", "not a PEP 440 version spec: ").replace(
            "Invalid version: ", "not a PEP 440 version: ")
    return None


def is_prerelease(version: str) -> bool:
    """True for a PEP 440 dev, alpha, beta or rc version (``0.13.0.dev20260101``, ``0.12.1rc1``).

    Raises ``ValueError`` when ``version`` is not PEP 440.
    """
    from packaging.version import Version

    return Version(version.strip()).is_prerelease


def version_matches(version: str, spec: str) -> bool:
    """True when ``version`` satisfies every comma-separated clause of ``spec`` (PEP 440, via ``packaging``).

    A clause is ``OP VERSION`` with OP one of ``<``, ``<=``, ``>``, ``>=``, ``==``,
    ``!=``, ``~=``, ``===``; a bare version means ``==`` (``"0.7"``). Decided here:

    * Ordered clauses (``<``, ``<=``, ``>``, ``>=``) compare PEP 440 order, and
      pre-releases are never left out: a nightly ``0.13.0.dev20260101`` or
      ``0.13.0rc1`` counts as *before* 0.13 (``<0.13`` is True, ``>=0.13`` False),
      ``0.12.0.dev20250101`` does not satisfy ``>=0.12``, ``0.12.1rc1`` satisfies
      ``>=0.12`` (it comes after 0.12) and ``<0.12.1``, and ``0.12.post1``
      satisfies ``>0.12``. (pip reads ``<0.13`` more narrowly: it never lets a
      pre-release of 0.13 itself match; here every version falls in exactly one of
      ``<V`` and ``>=V``.)
    * A local label is ignored unless the clause has one: ``0.12.1+cuda12``
      satisfies ``==0.12.1`` and ``<=0.12.1``, not ``>0.12.1``.
    * ``==``, ``!=`` (wildcards such as ``==0.12.*``), ``~=`` and ``===`` are
      ``packaging``'s, with pre-releases allowed.

    Raises ``ValueError`` (``packaging``'s ``InvalidVersion``/``InvalidSpecifier``)
    for a version or a clause that is not PEP 440. ``packaging`` is imported on
    the first call, so ``import jaxpat.catalog`` does not pay for it.
    """
    from packaging.version import Version

    have = Version(version.strip())
    public = Version(have.public)
    for want in _clauses(spec):
        op = want.operator
        if op in ("<", "<=", ">", ">="):
            bound = Version(want.version)
            mine = have if bound.local is not None else public
            ok = {"<": mine < bound, "<=": mine <= bound, ">": mine > bound, ">=": mine >= bound}[op]
        else:
            ok = want.contains(have, prereleases=True)
        if not ok:
            return False
    return True
