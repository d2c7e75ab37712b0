"""The catalog format (docs/catalog-format.md), declared once.

The validator checks files against :data:`CATALOG` and ``python -m
catalog._schema`` turns it into ``catalog/schema.json``. Rules that relate
one field to another (a case's args against the signature, say) live in
:mod:`jaxpat.catalog._validate`.
"""

from __future__ import annotations

from ._claims_model import CLAIM_KINDS, OBSERVATIONS
from ._explore import explore_kind
from ._kinds import (
    Bool,
    Const,
    Enum,
    ExceptionName,
    Field,
    List,
    MapOf,
    Null,
    Number,
    OneOf,
    Ref,
    Str,
    Struct,
    Tagged,
    Value,
    VersionText,
)
from ._model import FAMILIES, TRANSFORMS
from ._names import PRNG_IMPLS
from ._values import COMPLEX_DTYPES, FLOAT_DTYPES

__all__ = [
    "CATALOG", "CLAIMS", "GROWTH", "JAX_CONFIG", "PLATFORMS", "PROVENANCE_KINDS", "TOLERANCE_DTYPES",
]

KEBAB = r"[a-z0-9]+(?:-[a-z0-9]+)*"
IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
#: A PEP 440 version's rough shape (packaging decides the rest: catalog._kinds.VersionText).
VERSION = r"[0-9][0-9A-Za-z.!+_*-]*"
_OP = rf"\s*(?:===|~=|<=|>=|==|!=|<|>)?\s*{VERSION}\s*"
VERSION_SPEC = rf"{_OP}(?:,{_OP})*"

#: Catalog platforms; ``cuda`` and ``rocm`` are the two kinds of ``gpu`` (more specific entries win).
PLATFORMS = ("cpu", "gpu", "tpu", "cuda", "rocm")
GROWTH = ("constant", "linear")
TOLERANCE_DTYPES = tuple(sorted(FLOAT_DTYPES | COMPLEX_DTYPES))

ID = Str(pattern=KEBAB, hint="a kebab-case id such as `scan-cumsum` (lowercase letters, digits, single dashes)")
NAME = Str(pattern=IDENTIFIER, hint="a Python identifier")
TEXT = Str()
ERROR_NAME = ExceptionName(
    pattern=rf"{IDENTIFIER}|jax\.errors\.{IDENTIFIER}",
    hint="an exception name: a builtin (`TypeError`), a jax.errors name, or jax.errors.NAME",
)
_IN_AXES = ("`in_axes` values are 0 (batched: the vmap transform stacks the case along a new leading axis) "
            "or null (not batched), not {got}")
TRANSFORM = Enum(TRANSFORMS, "transform")
TRANSFORM_LIST = List(TRANSFORM, min_items=1, unique=True, empty_message="lists no transform")

#: JAX config options a case may set, with the values each takes. A static
#: allow-list: validating must not import JAX. Add names here when needed.
JAX_CONFIG = {
    "jax_enable_x64": Bool(),
    "jax_threefry_partitionable": Bool(),
    "jax_default_prng_impl": Enum(PRNG_IMPLS, "PRNG implementation"),
    "jax_legacy_prng_key": Enum(("allow", "warn", "error"), "setting"),
    "jax_numpy_rank_promotion": Enum(("allow", "warn", "raise"), "setting"),
    "jax_numpy_dtype_promotion": Enum(("standard", "strict"), "setting"),
    "jax_default_matmul_precision": OneOf((Str(), Null())),
    "jax_disable_jit": Bool(),
    "jax_debug_nans": Bool(),
    "jax_debug_infs": Bool(),
    "jax_enable_checks": Bool(),
    "jax_check_tracer_leaks": Bool(),
    "jax_softmax_custom_jvp": Bool(),
    "jax_traceback_filtering": Enum(
        ("off", "tracebackhide", "remove_frames", "quiet_remove_frames", "auto"), "setting"
    ),
    "jax_platforms": OneOf((Str(), Null())),
}
CONFIG = Struct(
    tuple(Field(name, kind) for name, kind in JAX_CONFIG.items()),
    noun="JAX config option",
    hint="the known options are listed in catalog/_format.py (JAX_CONFIG)",
)

_TOLERANCE_ENTRY = Struct(
    (
        Field("rtol", Number(minimum=0), doc="relative tolerance, >= 0"),
        Field("atol", Number(minimum=0), doc="absolute tolerance, >= 0"),
    ),
    at_least_one=("rtol", "atol"),
)
_TOLERANCE_TABLE = tuple(Field(d, _TOLERANCE_ENTRY) for d in TOLERANCE_DTYPES)
_TOLERANCE_HINT = "integers, bools and PRNG key data always compare exactly"
TOLERANCE = Ref("tolerance", Struct(
    (
        *_TOLERANCE_TABLE,
        Field(
            "platforms",
            MapOf(
                Struct(_TOLERANCE_TABLE, noun="tolerance dtype", hint=_TOLERANCE_HINT),
                keys=Enum(PLATFORMS, "platform"),
            ),
            doc="per-platform overrides: {gpu: {float32: {rtol: 1.0e-5}}}",
        ),
    ),
    noun="tolerance dtype",
    hint=_TOLERANCE_HINT,
))

PROVENANCE_KINDS = ("seed", "math", "oracle", "observed")
_NOTE = Field("note", TEXT, doc="free text")
PROVENANCE = Ref("provenance", Tagged("kind", {
    "seed": Struct((
        Field("kind", Enum(("seed",), "provenance kind"), required=True),
        Field("seed", TEXT, required=True, doc="the seed file (in shared/seeds/) the value was printed in"),
        Field("printed", TEXT, required=True, doc="what the seed printed, verbatim"),
        _NOTE,
    )),
    "math": Struct((Field("kind", Enum(("math",), "provenance kind"), required=True), _NOTE)),
    "oracle": Struct((
        Field("kind", Enum(("oracle",), "provenance kind"), required=True),
        Field("oracle", TEXT, required=True, doc="the independent library that computed it, e.g. numpy"),
        _NOTE,
    )),
    "observed": Struct((
        Field("kind", Enum(("observed",), "provenance kind"), required=True),
        Field("jax", VersionText(pattern=VERSION, hint="a JAX version such as \"0.10.2\""),
              required=True, doc="the JAX version the value was observed with"),
        _NOTE,
    )),
}, noun="provenance kind"))

DEVICES = Number(minimum=1, integer=True)
_SHARD_RANGE = List(Number(minimum=0, integer=True), min_items=2, empty_message="is [START, STOP]")
_SHARD = Struct((
    Field("device", Number(minimum=0, integer=True), required=True,
          doc="the device's index in the item's device set (the index in a `$mesh`, row-major)"),
    Field("index", List(_SHARD_RANGE), doc="[START, STOP] per dimension; omitted: the whole array"),
), noun="shard field")
SHARDS = MapOf(
    OneOf((Enum(("replicated", "host"), "placement"), List(_SHARD, min_items=1, empty_message="lists no shard"))),
    keys=Str(pattern=r"result(?:\[[^\]]+\])*", hint="a result path such as `result`, `result[0]` or `result['w']`"),
)
NONDETERMINISTIC = List(Enum(PLATFORMS, "platform"), min_items=1, unique=True, empty_message="lists no platform")

CASE = Ref("case", Struct((
    Field("id", ID, required=True, doc="kebab-case, unique within its pattern"),
    Field("args", MapOf(Value("input"), keys=NAME), required=True, doc="a value for every name in signature.args"),
    Field("expect", Value("expect"), required=True, doc="the expected result, or {$error: NAME}"),
    Field("expect_under", MapOf(Value("expect"), keys=TRANSFORM), doc="per-transform expectations replacing expect"),
    Field("transforms", TRANSFORM_LIST, doc="overrides the pattern's transforms"),
    Field("grad", Struct((
        Field("wrt", NAME, required=True, doc="the argument to differentiate with respect to"),
        Field("expect", Value("expect"), required=True, doc="the expected gradient"),
    )), doc="for the grad transform"),
    Field("config", CONFIG, doc="JAX config flags this case runs under"),
    Field("tolerance", TOLERANCE, doc="overrides the pattern's tolerance"),
    Field("provenance", PROVENANCE, required=True, doc="why the expected value is right"),
    Field("note", TEXT, doc="free text"),
    Field("devices", DEVICES, doc="how many devices one item runs on (overrides the pattern's); default 1"),
    Field("shards", SHARDS, doc="expected placement of result leaves, read by the harness from the arrays"),
    Field("nondeterministic", NONDETERMINISTIC,
          doc="platforms where two runs may differ within tolerance (e.g. GPU atomics)"),
    Field("processes", Number(minimum=2, integer=True),
          doc="run the case across N processes joined by jax.distributed (docs/distributed.md)"),
)))

_BOOL_OR_RAISES = OneOf((Bool(), Struct((Field("raises", ERROR_NAME, required=True),))))
_SIZES = List(Number(minimum=1, integer=True), min_items=2, unique=True, empty_message="needs at least two sizes")
_BASELINE = Struct((
    Field("baseline", TEXT, required=True, doc="the implementation compared against, e.g. reference.lax_scan"),
    Field("at_least", Number(minimum=0, exclusive=True), required=True, doc="the smallest ratio that passes"),
))
_GROWTH_OR_RAISES = OneOf((Enum(GROWTH, "growth"), Struct((Field("raises", ERROR_NAME, required=True),))))
_SEED_TABLES = ("constructs", "loops")
_CLAIM_FIELDS = (
    Field("jit", _BOOL_OR_RAISES, doc="true, or {raises: NAME} when jit fails"),
    Field("grad", Struct(
        (Field("forward", _BOOL_OR_RAISES), Field("reverse", _BOOL_OR_RAISES)),
        at_least_one=("forward", "reverse"),
    ), doc="which autodiff modes work"),
    Field("memory", Struct((
        Field("param", NAME, required=True, doc="the size argument"),
        Field("sizes", _SIZES, required=True, doc="measured at every size; two become three (their geometric "
              "mean is added) so that the growth's shape is seen"),
        Field("forward", Enum(GROWTH, "growth"), doc="compiled temp + output memory of the jitted function"),
        Field("backward", _GROWTH_OR_RAISES, doc="bytes of the residuals jax.vjp saves, or {raises: NAME}"),
    ), at_least_one=("forward", "backward")), doc="how memory grows with param"),
    Field("program_size", Struct((
        Field("param", NAME, required=True, doc="the size argument"),
        Field("sizes", _SIZES, required=True, doc="measured at every size; two become three (their geometric "
              "mean is added) so that the growth's shape is seen"),
        Field("growth", Enum(GROWTH, "growth"), required=True),
    )), doc="how the compiled program (optimised HLO instructions) grows with param"),
    Field("early_exit", OneOf((Bool(), Struct((
        Field("param", NAME, required=True, doc="the loop's bound"),
        Field("sizes", _SIZES, required=True, doc="measured at 1, the smallest and the largest"),
        Field("stop", NAME, doc="the argument that moves the stopping point (e.g. a tolerance) while the bound "
              "stays at the largest size"),
        Field("stops", List(Number(), min_items=2, unique=True, empty_message="needs at least two values"),
              doc="values of `stop` that put the stopping point at different places"),
    )))), doc="true: the traced program has a `while` loop that stops on its own state; {param, sizes}: the work "
        "done (loop iterations, traced equations) stops growing before the bound does, and with {stop, stops} "
        "it also moves with `stop` at a fixed bound (a capped bound does not)"),
    Field("residuals", Struct((
        Field("baseline", TEXT, required=True, doc="the implementation compared against, e.g. reference.lax_scan"),
        Field("at_least", Number(minimum=0, exclusive=True), required=True, doc="the smallest saving factor"),
        Field("param", NAME, doc="a size argument to set"),
        Field("size", Number(minimum=1, integer=True), doc="its value"),
    )), doc="saves at least N times fewer residual bytes than the baseline"),
    Field("speedup", Struct((
        Field("baseline", TEXT, required=True, doc="the implementation compared against, e.g. reference.python_loop"),
        Field("at_least", Number(minimum=0, exclusive=True), required=True, doc="the smallest speed-up that holds"),
        Field("param", NAME, doc="a size argument to set"),
        Field("size", Number(minimum=1, integer=True), doc="its value"),
        Field("seed_figure", Number(minimum=0, exclusive=True), doc="the speed-up the seed reports, shown beside"),
    )), doc="at least N times faster than the baseline, within the noise band (docs/claims.md)"),
    Field("observe", Struct((
        Field("what", Enum(OBSERVATIONS, "observation"), required=True, doc="what is observed (docs/claims.md, "
              "Observations)"),
        Field("donate", NAME, doc="donation, in_place: the argument donated to jax.jit"),
        Field("at_most", Number(minimum=0), doc="fusion: the most kernels in the compiled program; "
              "jit_grad_memory: the largest ratio of compiled bytes to the baseline's"),
        Field("at_least", Number(minimum=0, exclusive=True), doc="first_call: the smallest speed-up of the first "
              "call (tracing + compiling + running)"),
        Field("baseline", TEXT, doc="first_call, jit_grad_memory: the implementation compared against"),
        Field("operands", List(NAME, min_items=1, unique=True), doc="operands: the operands (jaxpat.patterns."
              "observe.operand names) that must be evaluated"),
        Field("expensive", NAME, doc="compiles: the function that alone must be compiled, once"),
        Field("param", NAME, doc="a size argument to set"),
        Field("size", Number(minimum=1, integer=True), doc="its value"),
        Field("seed_figure", Number(minimum=0, exclusive=True), doc="a figure the seed reports, shown beside"),
    )), doc="a statement observed on the compiled program or on a run: fused kernels, a donated buffer, an "
        "in-place update, evaluated operands, asynchronous dispatch, what is compiled"),
    Field("wrt", NAME, doc="the argument grad and memory claims differentiate (default: the cases' grad.wrt)"),
    Field("under_jit", Bool(), doc="measure grad claims inside jax.jit, every non-static argument traced"),
    Field("seed_claim", TEXT, doc="the claim as the seed states it, kept verbatim when measurement disagrees"),
    Field("seed_table", List(Struct((
        Field("table", Enum(_SEED_TABLES, "seed table"), required=True),
        Field("row", TEXT, required=True, doc="the row's label in the seed"),
        Field("cells", MapOf(TEXT, keys=NAME), doc="the seed's cells, verbatim, by column"),
        Field("implementation", NAME, doc="the implementation measured (default: the pattern's first)"),
        Field("note", TEXT, doc="what measurement shows about this row"),
    ))), doc="the rows of the seeds' tables this pattern stands for (jaxpat claims)"),
    Field("base_case", ID, doc="the case whose arguments the measurements start from"),
    Field("notes", TEXT),
)
CLAIMS = Struct((
    *_CLAIM_FIELDS,
    Field("implementations", MapOf(Struct(_CLAIM_FIELDS, noun="claim"), keys=TEXT),
          doc="per-implementation overrides, keyed by NAME or PLUGIN.NAME"),
), noun="claim")

DEVIATION = Struct((
    Field("when", Struct((
        Field("platform", TEXT),
        Field("jax", VersionText(pattern=VERSION_SPEC, spec=True,
                                 hint="a version spec such as \"<0.5\" or \">=0.4.30,<0.6\""),
              doc="a PEP 440 version spec, e.g. \"<0.5\" (a nightly 0.13.0.dev... counts as <0.13)"),
        Field("implementation", TEXT, doc="PLUGIN.NAME"),
        Field("transform", TRANSFORM),
        Field("case", ID),
        Field("device", TEXT),
        Field("claim", Enum(CLAIM_KINDS, "claim kind"),
              doc="a claim's measurement instead of the cases; the deviation then applies to claim items only"),
    ), noun="deviation condition"), required=True, doc="every key is optional; all given must match"),
    Field("reason", TEXT, required=True),
))

PATTERN = Ref("pattern", Struct((
    Field("id", ID, required=True, doc="stable kebab-case id, unique across every loaded file"),
    Field("family", Enum(FAMILIES, "family"), required=True),
    Field("title", Str(one_line=True), required=True, doc="one line"),
    Field("summary", TEXT, required=True, doc="when to use it and its pitfalls"),
    Field("tags", List(ID, unique=True), doc="kebab-case words"),
    Field("source", Struct((
        Field("seed", TEXT, doc="a file in shared/seeds/"),
        Field("doc", TEXT, doc="a URL or title"),
        Field("section", TEXT),
    ), at_least_one=("seed", "doc")), required=True),
    Field("signature", Struct((
        Field("args", List(NAME, unique=True), required=True, doc="argument names in call order"),
        Field("static", List(NAME, unique=True), doc="the args jit treats as static"),
    )), required=True),
    Field("transforms", TRANSFORM_LIST, doc="default transforms of its cases"),
    Field("devices", DEVICES, doc="how many devices one item of its cases runs on; default 1"),
    Field("vmap", Struct((
        Field("in_axes", MapOf(OneOf((Null(), Const(0, _IN_AXES))), keys=NAME), doc="ARG: 0 or null"),
    )), doc="how the vmap transform batches the arguments"),
    Field("tolerance", TOLERANCE),
    Field("claims", CLAIMS, doc="measurable statements, checked by the conformance suite"),
    Field("deviations", List(DEVIATION), doc="known deviations, run as strict xfails"),
    Field("explore", explore_kind(TRANSFORM_LIST, TOLERANCE, CONFIG),
          doc="an input domain and an oracle for jaxpat check --explore, or {skip: REASON} (docs/explore.md)"),
    Field("cases", List(CASE, min_items=1, empty_message="a pattern needs at least one case"), required=True),
)))

CATALOG = Struct((
    Field("version", Const(1, "unsupported catalog format version: got {got}; this jaxpat reads `version: 1`"),
          required=True, doc="the format version"),
    Field("defaults", Struct((
        Field("transforms", TRANSFORM_LIST),
        Field("tolerance", TOLERANCE),
    )), doc="applies to every pattern of this file"),
    Field("patterns", List(PATTERN, min_items=1, empty_message="the catalog declares no patterns"), required=True),
), noun="top-level field")
