"""Generated inputs against oracles (docs/explore.md): the catalog schema, the oracles, the judge's exploration."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from jaxpat.catalog import CatalogError
from jaxpat.catalog._loader import _load_bytes

_PATTERN = """\
version: 1
patterns:
  - id: cum
    family: scan
    title: t
    summary: s
    source: {{doc: d}}
    signature: {{args: [xs, k], static: [k]}}
{explore}
    cases:
      - id: c
        args: {{xs: {{$array: [1, 2], dtype: int32}}, k: 1}}
        expect: {{$array: [1, 3], dtype: int32}}
        provenance: {{kind: math}}
"""


def _load(explore: str) -> object:
    text = _PATTERN.format(explore=textwrap.indent(textwrap.dedent(explore).strip("\n"), "    "))
    return _load_bytes([("mine.yaml", text.encode())])


def _problems(explore: str) -> list[str]:
    with pytest.raises(CatalogError) as err:
        _load(explore)
    return [str(p) for p in err.value.problems]


GOOD = """\
explore:
  oracle: scan.cumsum
  sizes: {n: [0, 1, 5]}
  dtypes: {T: [int32, float32]}
  args:
    xs: {kind: array, shape: [n], dtype: T}
    k: {kind: size, of: n}
  where: ["n >= 1"]
"""


def test_a_domain_loads_into_the_model() -> None:
    cat = _load(GOOD)
    ex = cat.get("cum").explore  # type: ignore[attr-defined]
    assert ex.oracle == "scan.cumsum"
    assert ex.has_oracle
    assert ex.sizes == {"n": (0, 1, 5)}
    assert ex.dtypes == {"T": ("int32", "float32")}
    assert str(ex.where[0]) == "n >= 1"
    assert ex.to_dict()["args"]["k"] == {"kind": "size", "of": "n"}


def test_a_skip_loads_with_its_reason() -> None:
    cat = _load('explore: {skip: "the output is an error"}')
    ex = cat.get("cum").explore  # type: ignore[attr-defined]
    assert ex.skip == "the output is an error"
    assert not ex.has_oracle


@pytest.mark.parametrize(("explore", "field", "fragment"), [
    (GOOD.replace("scan.cumsum", "os.system()"), "explore.oracle", "is not an oracle name"),
    (GOOD.replace("shape: [n]", "shape: [q]"), "explore.args.xs.shape[0]", "`q` is not a size declared"),
    (GOOD.replace("dtype: T", "dtype: U"), "explore.args.xs.dtype", "neither a dtype nor a dtype variable"),
    (GOOD.replace("of: n", "of: m"), "explore.args.k.of", "`m` is not a size"),
    (GOOD.replace("    k: {kind: size, of: n}\n", ""), "explore.args", "missing a generator for argument `k`"),
    (GOOD.replace("k: {kind: size", "kk: {kind: size"), "explore.args.kk", "unknown argument `kk`"),
    (GOOD.replace("k: {kind: size, of: n}", "k: {kind: array, shape: [n], dtype: int32}"),
     "explore.args.k.kind", "static argument `k` must be drawn as a hashable value"),
    (GOOD.replace('"n >= 1"', '"n >= 1 or True"'), "explore.where[0]", "is not a constraint"),
    (GOOD.replace('"n >= 1"', '"z >= 1"'), "explore.where[0]", "`z` is neither a size"),
    (GOOD.replace("[0, 1, 5]", "[0, 1, 5000]"), "explore.sizes.n[2]", "at most 4096"),
    (GOOD.replace("kind: array", "kind: arrray"), "explore.args.xs.kind", "did you mean `array`"),
    (GOOD.replace("dtype: T}", "dtype: T, min: 5, max: 1}"), "explore.args.xs.min", "min 5 is above max 1"),
    (GOOD.replace("oracle: scan.cumsum", "oracle: scan.cumsum\n  grad: {oracle: scan.cumsum}"), "explore.grad",
     "needs a case with `grad"),
    (GOOD.replace("  where", "  wheer"), "explore.wheer", "did you mean `where`"),
])
def test_schema_problems_name_file_line_pattern_and_field(explore: str, field: str, fragment: str) -> None:
    problems = _problems(explore)
    assert any(p.startswith("mine.yaml:") and "pattern 'cum'" in p and f"field {field!r}" in p and fragment in p
               for p in problems), problems


def test_the_case_id_explore_is_reserved() -> None:
    with pytest.raises(CatalogError) as err:
        _load_bytes([("mine.yaml", _PATTERN.format(explore="").replace("- id: c", "- id: explore").encode())])
    assert "reserved" in str(err.value)
    assert "mine.yaml:" in str(err.value)


def test_the_shipped_catalog_declares_domains() -> None:
    from jaxpat.catalog import load

    cat = load(use_cache=False)
    assert cat.get("scan-cumsum").explore is not None


# ---------------------------------------------------------------------------
# oracles: independent of the code under test, checked against mathematics
# ---------------------------------------------------------------------------

def test_every_shipped_oracle_name_resolves_and_nothing_else_does() -> None:
    from jaxpat.catalog import load
    from jaxpat.conformance.oracles import OracleError, resolve

    for p in load(use_cache=False):
        if p.explore is not None and p.explore.has_oracle:
            assert callable(resolve(p.explore.oracle)), p.id
            if p.explore.grad_oracle:
                assert callable(resolve(p.explore.grad_oracle)), p.id
    for name in ("os.system", "threefry.split", "prng._key", "prng.np", "scan", "scan.cumsum.x", "Scan.cumsum"):
        with pytest.raises(OracleError):
            resolve(name)


def test_oracles_agree_with_mathematics() -> None:
    import numpy as np

    from jaxpat.catalog import KeyValue
    from jaxpat.conformance.oracles import arange, arrays, control, loops, prng, scan, threefry, vmap

    assert scan.cumsum(np.array([0, 1, 2, 3, 4], np.int32)).tolist() == [0, 1, 3, 6, 10]
    assert scan.cumsum(np.zeros((0, 2), np.float32)).shape == (0, 2)
    assert scan.total(np.array([[1, 2], [3, 4]], np.int32)).tolist() == [4, 6]
    assert np.allclose(scan.moving_average(np.array([3.0, 3.0], np.float32)), [1.0, 5.0 / 3.0])  # (0+3)/3, (2+3)/3
    assert arange.arange_int(10, 0, -3).tolist() == [10, 7, 4, 1]  # ceil(-10 / -3) = 4 elements
    assert arange.arange_int(5, 0, 1).tolist() == []
    assert arange.triangular(5).tolist() == [0, 1, 3, 6, 10]
    assert float(loops.power_sum(np.float32(0.5), 10)) == 1.998046875  # (1 - 2**-10) / (1 - 1/2)
    assert float(loops.power_sum_grad(np.float32(2.0), 4)) == 1 + 2 * 2 + 3 * 4
    assert float(loops.power(np.float32(-2.0), 3)) == -8.0
    assert float(loops.power_grad(np.float32(3.0), 0)) == 0.0
    assert int(loops.collatz_steps(np.int32(27))) == 111  # the known record below 100
    assert int(loops.collatz_steps(np.int32(1))) == 0
    assert vmap.euclidean_rows(np.array([[0, 0]]), np.array([[3, 4]])).tolist() == [5.0]
    assert vmap.conv1d_rows(np.array([[0.0, 1, 2, 3, 4]], np.float32), np.array([[2.0, 3, 4]], np.float32)).tolist() \
        == [[7.0, 16.0, 25.0]]  # the kernel is flipped: 0*4 + 1*3 + 2*2
    out, unchanged = arrays.at_add(np.zeros(4, np.int32), np.array([0, 0, 2]), 1)
    assert out.tolist() == [2, 0, 1, 0]
    assert unchanged.tolist() == [0, 0, 0, 0]
    a, x = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32), np.array([1.0, -1.0], np.float32)
    eps = 1e-3
    numeric = [((x + eps * e) @ a @ (x + eps * e) - (x - eps * e) @ a @ (x - eps * e)) / (2 * eps) for e in np.eye(2)]
    assert np.allclose(arrays.quadratic_form_grad(a, x), numeric, atol=1e-3)
    assert control.square_or_negate(np.float32(0.0)) == 0.0
    assert control.square_or_negate_grad(np.float32(0.0)) == -1
    # Threefry: Random123's known answers, then the catalog's published bits
    for key, ctr, want in threefry.KAT:
        assert threefry.threefry2x32(key, ctr) == want
    assert prng.key_data(42).tolist() == [0, 42]
    assert prng.split(42, 2).tolist() == [[1832780943, 270669613], [64467757, 2916123636]]  # prng-split's case
    assert prng.random_bits3(KeyValue(42)).tolist() == [2098992034, 2919706841, 2646866425]
    assert prng.uniform3(KeyValue(0)).tolist() == [0.9476670026779175, 0.9785798788070679, 0.33229148387908936]


# ---------------------------------------------------------------------------
# the judge's exploration, with a stand-in executor (plain NumPy: no JAX here)
# ---------------------------------------------------------------------------

def _cumsum_pattern() -> object:
    from jaxpat.catalog import load

    return load(use_cache=False).get("scan-cumsum")


def _runner(fn: object, seen: list | None = None) -> object:
    """An executor stand-in: ``fn(xs)`` on the example's NumPy input, shipped as _wire data (or its exception)."""
    from jaxpat.conformance import _wire

    def run(example: object, case: object) -> dict:
        xs = example.args["xs"].to_numpy()  # type: ignore[attr-defined]
        if seen is not None:
            seen.append(example.encoded())  # type: ignore[attr-defined]
        try:
            out = fn(xs)  # type: ignore[operator]
        except Exception as exc:
            return {"error": {"type": type(exc).__name__, "message": str(exc), "is_expected": False}}
        data = _wire.encode(out)
        return {"result": data, "second": "same", "placement": [], "compiles": 1}

    return run


def _verdict(pattern: object) -> object:
    from jaxpat.conformance._judge import judge_case

    def verdict(case: object, obs: dict) -> None:
        judge_case(pattern, case, "eager", "cpu", ["cpu:0"], obs)  # type: ignore[arg-type]

    return verdict


def _flattening_cumsum(xs: object) -> object:
    """Right on every non-empty input, like the plugin below: reshape(rows, -1) cannot infer -1 when rows is 0."""
    import numpy as np

    a = np.asarray(xs)
    if a.shape[0] == 0:
        raise ValueError("cannot reshape array of size 0 into shape (0, -1)")
    return np.cumsum(a.reshape(a.shape[0], -1), axis=0, dtype=a.dtype).reshape(a.shape)


def test_a_wrong_on_empty_input_is_found_and_shrunk_to_the_minimal_example() -> None:
    from jaxpat.conformance._explore import run_exploration

    pattern = _cumsum_pattern()
    result = run_exploration(pattern, "eager", 25, 0, "t::explore[x]", _runner(_flattening_cumsum),  # type: ignore[arg-type]
                             _verdict(pattern))
    assert result.failure is not None
    assert result.failure.example.encoded() == {"xs": {"$array": [], "dtype": "int32", "shape": [0]}}
    assert "unexpected exception ValueError" in result.failure.message
    assert result.failure.actual.startswith("raised ValueError")


def test_a_right_implementation_passes_every_example_and_shapes_come_from_buckets() -> None:
    import numpy as np

    from jaxpat.conformance._explore import run_exploration

    pattern = _cumsum_pattern()
    seen: list = []
    right = _runner(lambda xs: np.cumsum(xs, axis=0, dtype=xs.dtype) if xs.dtype.kind == "i"
                    else np.cumsum(xs.astype(np.float64), axis=0).astype(xs.dtype), seen)
    result = run_exploration(pattern, "eager", 30, 0, "t::explore[y]", right, _verdict(pattern),  # type: ignore[arg-type]
                             compiles=lambda obs: int(obs["compiles"]))
    assert result.failure is None
    assert result.error is None
    assert result.generated == result.calls == len(seen) == 30
    # sizes n in {0, 1, 2, 5, 16}, m in {1, 3}, rank 1 or 2, two dtypes: at most (5 + 10) * 2 = 30 shapes
    shapes = {(e["xs"]["dtype"], json.dumps(np.asarray(e["xs"]["$array"]).shape if e["xs"]["$array"] else
                                          e["xs"].get("shape"))) for e in seen}
    assert len(result.shapes) <= 30
    assert len(shapes) <= 30
    assert result.compiles == 30  # the stand-in reports one compile per call


def test_exploration_is_reproducible_from_its_seed() -> None:
    import numpy as np

    from jaxpat.conformance._explore import item_seed, run_exploration

    pattern = _cumsum_pattern()

    def right(xs: object) -> object:
        a = np.asarray(xs)
        return np.cumsum(a, axis=0, dtype=a.dtype) if a.dtype.kind == "i" else \
            np.cumsum(a.astype(np.float64), axis=0).astype(a.dtype)

    runs = []
    for seed, fn in ((7, _flattening_cumsum), (7, _flattening_cumsum), (8, _flattening_cumsum), (7, right),
                     (7, right), (8, right)):
        seen: list = []
        result = run_exploration(pattern, "eager", 20, seed, "t::explore[z]", _runner(fn, seen),  # type: ignore[arg-type]
                                 _verdict(pattern))
        runs.append((seen, result.facts()))
    assert runs[0] == runs[1]  # the same inputs, in the same order, the same shrunk failure
    assert runs[0][1]["item_seed"] == item_seed(7, "t::explore[z]") != runs[2][1]["item_seed"]
    assert runs[2][1]["failure"]["args"] == runs[0][1]["failure"]["args"]  # another seed shrinks to the same minimum
    assert runs[3] == runs[4]  # all 20 examples drawn: the same ones
    assert runs[3][0] != runs[5][0]  # another seed draws other inputs
    assert len(runs[3][0]) == 20


def test_an_oracle_that_cannot_run_fails_the_item_with_its_reason() -> None:
    import dataclasses

    from jaxpat.conformance._explore import run_exploration

    pattern = _cumsum_pattern()
    broken = dataclasses.replace(pattern, explore=dataclasses.replace(pattern.explore, oracle="scan.nope"))  # type: ignore[arg-type]
    result = run_exploration(broken, "eager", 5, 0, "t", _runner(_flattening_cumsum), _verdict(broken))
    assert result.error is not None
    assert "no oracle 'nope' in jaxpat.conformance.oracles.scan" in result.error
    assert result.calls == 1  # it stopped at once


def test_the_judges_exploration_never_imports_jax() -> None:
    """The judge draws, calls oracles and judges without JAX (tests/test_cleanroom.py's rule, for explore)."""
    code = textwrap.dedent("""
        import sys
        from jaxpat.catalog import load
        from jaxpat.catalog._explore import explore_transforms
        from jaxpat.conformance import _explore, _explore_items, _wire
        from jaxpat.conformance.oracles import MODULES, resolve
        from jaxpat.conformance._judge import judge_case
        import numpy as np
        for m in MODULES:
            __import__("jaxpat.conformance.oracles." + m)
        from hypothesis import HealthCheck, Phase, given, settings
        cat = load(use_cache=False)
        # one draw per pattern (through `given`, as run_exploration draws; `.example()` costs ~100 times more),
        # and its oracle's expectation under each transform
        drawn = []
        once = settings(max_examples=1, database=None, phases=[Phase.generate], deadline=None,
                        suppress_health_check=list(HealthCheck))
        domains = [p for p in cat if p.explore is not None and p.explore.has_oracle]
        for p in domains:
            @once
            @given(_explore.strategy(p.explore))
            def draw(ex):  # called at once: p is this pattern
                for t in explore_transforms(p):
                    _explore.oracle_expectation(p, ex, t)
                drawn.append(p.id)
            draw()
        assert len(domains) > 100 and sorted(set(drawn)) == sorted(p.id for p in domains), drawn
        pattern = cat.get("scan-cumsum")
        def run(example, case):
            xs = example.args["xs"].to_numpy()
            return {"result": _wire.encode(np.cumsum(xs, axis=0, dtype=xs.dtype)), "second": "same"}
        def verdict(case, obs):
            judge_case(pattern, case, "eager", "cpu", ["cpu:0"], obs)
        _explore.run_exploration(pattern, "eager", 5, 0, "t", run, verdict)
        banned = ("jax.", "jaxlib", "jaxpat.patterns.reference")
        print(sorted(m for m in sys.modules if m == "jax" or m.startswith(banned)))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "[]"


# ---------------------------------------------------------------------------
# end to end: a plugin right on every fixed case and wrong on an empty input, installed as a distribution
# ---------------------------------------------------------------------------

_EDGY_SOURCE = '''
def cumsum(xs):
    import jax.numpy as jnp

    # rows x everything else, so that one cumsum serves every rank: right on every non-empty xs, but reshape
    # cannot infer -1 when there is no row
    flat = xs.reshape(xs.shape[0], -1)
    return jnp.cumsum(flat, axis=0).reshape(xs.shape)
'''


@pytest.fixture(scope="module")
def edgy(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``jaxpat check --explore 10 --explore-seed 3`` on scan-cumsum with the plugin ``edgy`` alone."""
    import os

    import _hostile  # tests/_hostile.py: plugins as real distributions, installed with pip into a folder

    plugin = _hostile.Plugin("edgy", "good", "scan-cumsum through reshape(rows, -1): wrong on an empty xs",
                             _hostile._HEAD + _EDGY_SOURCE + _hostile._impls(("scan-cumsum", "cumsum")))
    root = tmp_path_factory.mktemp("edgy")
    site = _hostile.install([plugin], root / "wheels", root / "site")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAXPAT_PLUGIN_", "JAXPAT_BLOCK"))}
    env["JAXPAT_BLOCK_PLUGINS"] = "example,reference"  # nothing of them is selected: no executor for them
    env["PYTHONPATH"] = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    report = root / "r.json"
    proc = subprocess.run([sys.executable, "-m", "jaxpat", "check", "--pattern", "scan-cumsum", "--impl", "edgy.*",
                           "--explore", "10", "--explore-seed", "3", "--no-claims", "-n", "0", "--report",
                           str(report)], cwd=root, env=env, capture_output=True, text=True, timeout=900)
    assert report.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return {"proc": proc, "report": json.loads(report.read_text()), "path": report, "env": env, "root": root}


def test_the_edge_bug_passes_every_fixed_case_and_fails_under_explore(edgy: dict) -> None:
    results = edgy["report"]["results"]
    cases = [r for r in results if r.get("kind") == "case"]
    explored = [r for r in results if r.get("kind") == "explore"]
    assert len(cases) == 12  # 4 cases x eager, jit, vmap
    assert {r["outcome"] for r in cases} == {"passed"}
    assert sorted(r["transform"] for r in explored) == ["eager", "jit", "vmap"]
    assert {r["outcome"] for r in explored} == {"failed"}
    assert edgy["proc"].returncode == 1
    for r in explored:
        assert r["nodeid"] == f"jaxpat::scan-cumsum::explore[edgy.cumsum-cpu:0-{r['transform']}]"
        facts = r["explore"]
        assert facts["seed"] == 3
        assert facts["examples"] == 10
        failure = facts["failure"]
        assert failure["args"] == {"xs": {"$array": [], "dtype": "int32", "shape": [0]}}  # the minimal input
        assert failure["expected"] == {"$array": [], "dtype": "int32", "shape": [0]}
        assert failure["actual"].startswith("raised ")
        message = r["message"]
        assert 'args: {"xs": {"$array": [], "dtype": "int32", "shape": [0]}}' in message
        assert "expected (oracle scan.cumsum)" in message
        assert "run_example('scan-cumsum', 'edgy.cumsum', args" in r["repro"]
    top = edgy["report"]["explore"]
    assert top["seed"] == 3
    assert top["examples"] == 10
    assert top["coverage"]["with_oracle"] >= 15
    assert "explore coverage:" in edgy["proc"].stdout


def test_the_repro_reproduces_the_shrunk_example(edgy: dict) -> None:
    explored = next(r for r in edgy["report"]["results"] if r.get("kind") == "explore")
    script = edgy["root"] / "repro.py"
    script.write_text(explored["repro"])
    proc = subprocess.run([sys.executable, str(script)], cwd=edgy["root"], env=edgy["env"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode != 0
    assert "ConformanceFailure" in proc.stderr
    assert "conforms" not in proc.stdout


def test_save_turns_the_failing_example_into_a_catalog_case(edgy: dict, tmp_path: object) -> None:
    import yaml

    from jaxpat.catalog import load
    from jaxpat.catalog._loader import SHIPPED

    proc = subprocess.run([sys.executable, "-m", "jaxpat", "explore", "--save", str(edgy["path"])],
                          cwd=edgy["root"], env=edgy["env"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    snippet = proc.stdout
    assert snippet.count("- id: explore-") == 1  # three items, one distinct example
    (case,) = yaml.safe_load(snippet)
    assert case["args"] == {"xs": {"$array": [], "dtype": "int32", "shape": [0]}}
    assert case["expect"] == {"$array": [], "dtype": "int32", "shape": [0]}
    assert case["provenance"]["kind"] == "oracle"
    # pasted under scan-cumsum's cases, the catalog is valid and holds the case
    text = SHIPPED.read_text()
    start = text.index("\n  - id: scan-cumsum\n")
    at = text.index("\n    cases:\n", start) + len("\n    cases:\n")
    pasted = text[:at] + textwrap.indent(snippet, "      ") + text[at:]
    target = tmp_path / "catalog.yaml"  # type: ignore[operator]
    target.write_text(pasted)
    assert case["id"] in [c.id for c in load([target], use_cache=False).get("scan-cumsum").cases]
    refused = subprocess.run([sys.executable, "-m", "jaxpat", "explore", "--save", str(edgy["path"]), "--append",
                              str(SHIPPED)], cwd=edgy["root"], env=edgy["env"], capture_output=True, text=True,
                             timeout=300)
    assert refused.returncode == 2
    assert "will not write the shipped catalog" in refused.stderr


# ---------------------------------------------------------------------------
# jaxpat mutate --explore
# ---------------------------------------------------------------------------

_SQUARE = """\
version: 1
patterns:
  - id: t-square
    family: arrays
    title: t
    summary: s
    source: {doc: d}
    signature: {args: [x]}
    transforms: [eager, jit]
    explore:
      oracle: vmap.square
      sizes: {n: [0, 1, 2, 3]}
      args:
        x: {kind: array, shape: [n], dtype: float32, min: -100, max: 100}
    cases:
      - id: two
        args: {x: {$array: [1.0, 2.5], dtype: float32}}
        expect: {$array: [1.0, 6.25], dtype: float32}
        provenance: {kind: math, note: "x * x"}
"""


def test_mutate_explore_kills_the_edge_mutants_that_every_fixed_case_lets_through(tmp_path: object) -> None:
    import jax

    from jaxpat import catalog
    from jaxpat.conformance import _mutate
    from jaxpat.patterns import Implementation

    path = tmp_path / "c.yaml"  # type: ignore[operator]
    path.write_text(_SQUARE)
    cat = catalog.load_files([path])

    class _Registry:
        def __init__(self) -> None:
            self.catalog = cat

        def implementations(self, pattern_id: str) -> list:
            return [Implementation("t-square", "times_self", lambda x: x * x).bound("test")]

    plain = {r.mutant: r for r in _mutate.run_mutants(_Registry(), jax.devices()[0])}
    assert not any(name.startswith("edge-") for name in plain)  # only with --explore
    explored = {r.mutant: r for r in _mutate.run_mutants(_Registry(), jax.devices()[0], explore=10)}
    edges = {k: r for k, r in explored.items() if k.startswith("edge-")}
    assert sorted(edges) == ["edge-empty", "edge-large", "edge-negative", "edge-singleton"]
    for name, r in edges.items():
        assert r.killed, (name, r.reason)
        assert r.by_explore, (name, r.by)  # every fixed case passed: only a generated input told it apart
        assert r.by.startswith("explore[eager]"), r.by
    assert explored["identity"].killed
    assert not explored["identity"].by_explore  # the fixed case kills it first
    assert explored["constant"].by_explore  # the one case is the one it returns: the fixed case cannot see it
    assert _mutate.summarise(list(explored.values()))["killed_by_explore"] == 5
