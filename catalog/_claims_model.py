"""Typed claims, gradients, sources and deviation conditions of the catalog model.

Built from validated plain data with ``from_dict`` and turned back into
JSON-able data with ``to_dict`` (``X.from_dict(x.to_dict()) == x``). No JAX,
no NumPy.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

from ._values import Value, encode

__all__ = [
    "CLAIM_KINDS",
    "OBSERVATIONS",
    "Claims",
    "Condition",
    "EarlyExitClaim",
    "GradClaim",
    "GradSpec",
    "MeasurementSettings",
    "MemoryClaim",
    "ObserveClaim",
    "ProgramSizeClaim",
    "Raises",
    "ResidualsClaim",
    "SeedTableRow",
    "Source",
    "SpeedupClaim",
]

#: The claim kinds the conformance suite measures, in the order it measures them.
CLAIM_KINDS = ("jit", "grad", "memory", "program_size", "early_exit", "residuals", "speedup", "observe")


def _drop_none(pairs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in pairs.items() if v is not None}


@dataclass(frozen=True)
class Raises:
    """A claim that something fails: ``{raises: NAME}`` (a builtin, ``jax.errors`` or dotted ``jax.`` name)."""

    raises: str

    def to_dict(self) -> dict[str, Any]:
        return {"raises": self.raises}


#: ``true`` (works), ``false`` (fails somehow) or ``{raises: NAME}``.
Works = bool | Raises


def _works(value: Any) -> Works | None:
    if value is None or isinstance(value, bool):
        return value
    return Raises(str(value["raises"]))


def _plain(value: Any) -> Any:
    return value.to_dict() if hasattr(value, "to_dict") else value


@dataclass(frozen=True)
class GradClaim:
    """Which autodiff modes work: ``forward`` (jvp) and ``reverse`` (vjp); None is not claimed."""

    forward: Works | None = None
    reverse: Works | None = None

    def modes(self) -> Iterator[tuple[str, Works]]:
        """The declared ``(mode, claimed)`` pairs, forward first."""
        for mode in ("forward", "reverse"):
            claimed = getattr(self, mode)
            if claimed is not None:
                yield mode, claimed

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GradClaim:
        return cls(_works(data.get("forward")), _works(data.get("reverse")))

    def to_dict(self) -> dict[str, Any]:
        return {mode: _plain(claimed) for mode, claimed in self.modes()}


@dataclass(frozen=True)
class MemoryClaim:
    """How memory grows with ``param`` between the smallest and largest of ``sizes``.

    ``forward``: compiled temp memory, ``constant`` or ``linear``; ``backward``:
    residual bytes ``jax.vjp`` saves, ``constant``, ``linear`` or ``Raises``.
    """

    param: str
    sizes: tuple[int, ...] = (100, 1000)
    forward: str | None = None
    backward: str | Raises | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MemoryClaim:
        back = data.get("backward")
        return cls(str(data["param"]), tuple(data.get("sizes") or (100, 1000)), data.get("forward"),
                   back if back is None or isinstance(back, str) else Raises(str(back["raises"])))

    def to_dict(self) -> dict[str, Any]:
        return _drop_none({"param": self.param, "sizes": list(self.sizes), "forward": self.forward,
                           "backward": _plain(self.backward)})


@dataclass(frozen=True)
class ProgramSizeClaim:
    """How the traced program (equations, sub-jaxprs included) grows with ``param``."""

    param: str
    growth: str
    sizes: tuple[int, ...] = (10, 100)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProgramSizeClaim:
        return cls(str(data["param"]), str(data["growth"]), tuple(data.get("sizes") or (10, 100)))

    def to_dict(self) -> dict[str, Any]:
        return {"param": self.param, "sizes": list(self.sizes), "growth": self.growth}


@dataclass(frozen=True)
class EarlyExitClaim:
    """The computation stops before its bound: measured by the work it does (loop iterations and traced
    equations) at 1 and at the smallest and largest of ``sizes`` of ``param``, and, with ``stop``, at each of
    ``stops`` with ``param`` at its largest (a stop that moves with its argument, not a capped bound).
    ``early_exit: true`` (a bool) is measured on the program's structure instead (a ``while`` loop that stops
    on its own state)."""

    param: str
    sizes: tuple[int, ...] = (10, 100)
    #: The argument that moves the stopping point (a tolerance, a threshold), and values of it that put the
    #: stop at different places: measured with ``param`` at its largest size, the work must move with it.
    stop: str | None = None
    stops: tuple[float, ...] | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EarlyExitClaim:
        stops = data.get("stops")
        return cls(str(data["param"]), tuple(data.get("sizes") or (10, 100)), data.get("stop"),
                   None if stops is None else tuple(stops))

    def to_dict(self) -> dict[str, Any]:
        return _drop_none({"param": self.param, "sizes": list(self.sizes), "stop": self.stop,
                           "stops": None if self.stops is None else list(self.stops)})


@dataclass(frozen=True)
class ResidualsClaim:
    """Saves at least ``at_least`` times fewer residual bytes than ``baseline`` (optionally at ``param=size``)."""

    baseline: str
    at_least: float
    param: str | None = None
    size: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResidualsClaim:
        return cls(str(data["baseline"]), data["at_least"], data.get("param"), data.get("size"))

    def to_dict(self) -> dict[str, Any]:
        return _drop_none({"baseline": self.baseline, "at_least": self.at_least, "param": self.param,
                           "size": self.size})


@dataclass(frozen=True)
class SpeedupClaim:
    """At least ``at_least`` times faster than ``baseline``, measured in one process with a noise band
    (optionally with ``param`` set to ``size``); ``seed_figure`` is the ratio the seed reports, shown beside."""

    baseline: str
    at_least: float
    param: str | None = None
    size: int | None = None
    seed_figure: float | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SpeedupClaim:
        return cls(str(data["baseline"]), data["at_least"], data.get("param"), data.get("size"),
                   data.get("seed_figure"))

    def to_dict(self) -> dict[str, Any]:
        return _drop_none({"baseline": self.baseline, "at_least": self.at_least, "param": self.param,
                           "size": self.size, "seed_figure": self.seed_figure})


#: What an ``observe`` claim observes (docs/claims.md, *Observations*).
OBSERVATIONS = ("fusion", "donation", "in_place", "operands", "async_dispatch", "compiles", "first_call",
                "jit_grad_memory")


@dataclass(frozen=True)
class ObserveClaim:
    """A statement observed on the compiled program or on a run rather than on values: ``what`` names the
    observation (:data:`OBSERVATIONS`); the other fields are its parameters (None: not given).

    ``donate``: the argument donated (donation, in_place); ``at_most``: the most kernels (fusion) or the
    largest ratio to the baseline (jit_grad_memory); ``at_least``: the smallest speed-up (first_call);
    ``baseline``: the implementation compared against; ``operands``: the names of the operands that must be
    evaluated (operands); ``expensive``: the function that alone is jitted (compiles); ``param``/``size``:
    a size argument to set.
    """

    what: str
    donate: str | None = None
    at_most: float | None = None
    at_least: float | None = None
    baseline: str | None = None
    operands: tuple[str, ...] | None = None
    expensive: str | None = None
    param: str | None = None
    size: int | None = None
    seed_figure: float | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ObserveClaim:
        ops = data.get("operands")
        return cls(str(data["what"]), data.get("donate"), data.get("at_most"), data.get("at_least"),
                   data.get("baseline"), None if ops is None else tuple(str(o) for o in ops), data.get("expensive"),
                   data.get("param"), data.get("size"), data.get("seed_figure"))

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.operands is not None:
            out["operands"] = list(self.operands)
        return _drop_none(out)


@dataclass(frozen=True)
class SeedTableRow:
    """A row of one of the seeds' tables that the pattern stands for (``jaxpat claims``)."""

    table: str
    row: str
    cells: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    implementation: str | None = None
    note: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SeedTableRow:
        return cls(str(data["table"]), str(data["row"]), MappingProxyType(dict(data.get("cells") or {})),
                   data.get("implementation"), data.get("note"))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"table": self.table, "row": self.row}
        if self.cells:
            out["cells"] = dict(self.cells)
        return out | _drop_none({"implementation": self.implementation, "note": self.note})


@dataclass(frozen=True)
class MeasurementSettings:
    """How claims are measured and described; not claims themselves.

    ``wrt``: the argument grad and memory claims differentiate; ``under_jit``:
    differentiate inside ``jax.jit``; ``base_case``: the case measurements
    start from; ``seed_claim``: the seed's wording; ``seed_table``: seed table
    rows; ``notes``. None means "not set" (an override leaves it as it was).
    """

    wrt: str | None = None
    under_jit: bool | None = None
    base_case: str | None = None
    seed_claim: str | None = None
    seed_table: tuple[SeedTableRow, ...] | None = None
    notes: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MeasurementSettings:
        table = data.get("seed_table")
        return cls(data.get("wrt"), data.get("under_jit"), data.get("base_case"), data.get("seed_claim"),
                   None if table is None else tuple(SeedTableRow.from_dict(r) for r in table), data.get("notes"))

    def to_dict(self) -> dict[str, Any]:
        table = None if self.seed_table is None else [r.to_dict() for r in self.seed_table]
        return _drop_none({"wrt": self.wrt, "under_jit": self.under_jit, "base_case": self.base_case,
                           "seed_claim": self.seed_claim, "seed_table": table, "notes": self.notes})


_SETTINGS = tuple(f.name for f in fields(MeasurementSettings))
_BUILDERS: dict[str, Any] = {
    "jit": _works,
    "grad": GradClaim.from_dict,
    "memory": MemoryClaim.from_dict,
    "program_size": ProgramSizeClaim.from_dict,
    "early_exit": lambda v: v if isinstance(v, bool) else EarlyExitClaim.from_dict(v),
    "residuals": ResidualsClaim.from_dict,
    "speedup": SpeedupClaim.from_dict,
    "observe": ObserveClaim.from_dict,
}


@dataclass(frozen=True)
class Claims:
    """A pattern's measurable claims, its measurement settings, and per-implementation overrides.

    Each claim kind (:data:`CLAIM_KINDS`) is None when not claimed. ``settings``
    are kept apart: they describe how to measure, they are not claims.
    ``implementations`` maps ``NAME`` or ``PLUGIN.NAME`` to overriding claims
    (see :meth:`for_implementation`).
    """

    jit: Works | None = None
    grad: GradClaim | None = None
    memory: MemoryClaim | None = None
    program_size: ProgramSizeClaim | None = None
    early_exit: bool | EarlyExitClaim | None = None
    residuals: ResidualsClaim | None = None
    speedup: SpeedupClaim | None = None
    observe: ObserveClaim | None = None
    settings: MeasurementSettings = field(default_factory=MeasurementSettings)
    implementations: Mapping[str, Claims] = field(default_factory=lambda: MappingProxyType({}))

    def kinds(self, *, overrides: bool = False) -> tuple[str, ...]:
        """The claim kinds declared, in :data:`CLAIM_KINDS` order (never a setting such as ``base_case``).

        With ``overrides``, also those declared only for some implementations.
        """
        found = {k for k in CLAIM_KINDS if getattr(self, k) is not None}
        if overrides:
            for sub in self.implementations.values():
                found |= set(sub.kinds())
        return tuple(k for k in CLAIM_KINDS if k in found)

    def claimed(self, kind: str) -> Any:
        """The claim of ``kind`` (None when not claimed); KeyError for a name that is not a claim kind."""
        if kind not in CLAIM_KINDS:
            raise KeyError(f"{kind!r} is not a claim kind ({', '.join(CLAIM_KINDS)})")
        return getattr(self, kind)

    def is_empty(self) -> bool:
        """True when nothing is declared: no claim, no setting, no override."""
        return self == Claims()

    def for_implementation(self, *keys: str) -> Claims:
        """The claims for an implementation: the first of ``keys`` (``PLUGIN.NAME``, ``NAME``) found in
        ``implementations`` overrides each claim and setting it declares; the result has no overrides."""
        base = replace(self, implementations=MappingProxyType({}))
        over = next((self.implementations[k] for k in keys if k in self.implementations), None)
        if over is None:
            return base
        changes: dict[str, Any] = {k: getattr(over, k) for k in CLAIM_KINDS if getattr(over, k) is not None}
        settings = {k: getattr(over.settings, k) for k in _SETTINGS if getattr(over.settings, k) is not None}
        return replace(base, **changes, settings=replace(base.settings, **settings))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Claims:
        """Claims from a validated ``claims:`` mapping (claim kinds, settings and ``implementations``)."""
        data = data or {}
        kinds = {k: _BUILDERS[k](data[k]) for k in CLAIM_KINDS if data.get(k) is not None}
        per = {str(name): cls.from_dict(sub) for name, sub in (data.get("implementations") or {}).items()}
        return cls(**kinds, settings=MeasurementSettings.from_dict(data), implementations=MappingProxyType(per))

    def to_dict(self) -> dict[str, Any]:
        """The ``claims:`` mapping as JSON-able data: claim kinds, then settings, then ``implementations``."""
        out: dict[str, Any] = {k: _plain(getattr(self, k)) for k in self.kinds()}
        out.update(self.settings.to_dict())
        if self.implementations:
            out["implementations"] = {k: v.to_dict() for k, v in self.implementations.items()}
        return out


@dataclass(frozen=True)
class GradSpec:
    """A case's ``grad`` block: the gradient with respect to ``wrt`` is ``expect``."""

    wrt: str
    expect: Value

    def to_dict(self) -> dict[str, Any]:
        return {"wrt": self.wrt, "expect": encode(self.expect)}


@dataclass(frozen=True)
class Source:
    """Where a pattern comes from: a ``seed`` file in shared/seeds/ and/or a ``doc`` (URL or title), a ``section``."""

    seed: str | None = None
    doc: str | None = None
    section: str | None = None

    def to_dict(self) -> dict[str, str]:
        return _drop_none({"seed": self.seed, "doc": self.doc, "section": self.section})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Source:
        return cls(data.get("seed"), data.get("doc"), data.get("section"))

    def __str__(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in self.to_dict().items())


@dataclass(frozen=True)
class Condition:
    """When a known deviation applies: every field that is set must equal the item's (``jax`` is a version spec)."""

    platform: str | None = None
    jax: str | None = None
    implementation: str | None = None
    transform: str | None = None
    case: str | None = None
    device: str | None = None
    #: A claim kind: the deviation applies to that claim's items (and never to case items).
    claim: str | None = None

    def to_dict(self) -> dict[str, str]:
        return _drop_none({f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Condition:
        return cls(**{f.name: data.get(f.name) for f in fields(cls)})
