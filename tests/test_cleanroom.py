"""The clean-room boundary's parts, each shown to fail: results as data, verdicts from observations, budgets
enforced from outside, names and escapes (docs/security.md)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from jaxpat.catalog import ArrayValue, ExpectedError
from jaxpat.conformance import _judge, _wire
from jaxpat.conformance._collect import NAME_RULE, safe_label, skeleton
from jaxpat.conformance._pool import Executor, ExecutorFailure
from jaxpat.conformance._wire import KeyData, Other, WireError, decode

# -- results as data ----------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    np.arange(5, dtype=np.int32),
    np.array([[1.5, -0.0], [np.inf, np.nan]], dtype=np.float32),
    np.array([1 + 2j], dtype=np.complex64),
    np.array(True),
    np.float64(3.25),
    (np.zeros((0, 3), np.int8), [np.uint32(7)], {"a": np.ones(2, np.float16)}),
])
def test_numpy_results_cross_unchanged(value: object) -> None:
    """dtype, shape and bytes survive encode/decode (NumPy is the oracle: the bytes compared)."""
    back = decode(_wire.encode(value))
    leaves_in, shape_in = _wire.flatten(value)
    leaves_out, shape_out = _wire.flatten(back)
    assert shape_in == shape_out
    for (_, a), (_, b) in zip(leaves_in, leaves_out, strict=True):
        a, b = np.asarray(a), np.asarray(b)
        assert (a.dtype, a.shape, a.tobytes()) == (b.dtype, b.shape, b.tobytes())


def test_python_scalars_and_strings_keep_their_type() -> None:
    assert decode(_wire.encode((1, 2.5, True, 1j, "s", None))) == (1, 2.5, True, 1j, "s", None)
    assert type(decode(_wire.encode(1))) is int
    assert type(decode(_wire.encode(True))) is bool


def test_bfloat16_and_typed_keys_cross() -> None:
    import jax
    import jax.numpy as jnp

    x = jnp.array([1.5, 2.0], dtype=jnp.bfloat16)
    back = decode(_wire.encode(x))
    assert str(back.dtype) == "bfloat16"
    assert back.tobytes() == np.asarray(x).tobytes()
    key = jax.random.key(3)
    k = decode(_wire.encode(key))
    assert isinstance(k, KeyData)
    assert k.data.tolist() == np.asarray(jax.random.key_data(key)).tolist()


def test_an_object_that_equals_everything_crosses_as_an_opaque_leaf() -> None:
    class Yes:
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = object.__hash__

    arr = np.empty((), dtype=object)
    arr[()] = Yes()
    back = decode(_wire.encode(arr))
    assert isinstance(back, Other)
    assert back.type == "numpy.ndarray"
    problems = _judge.compare(ArrayValue("int32", (), (3,)), back, tolerance=_tol(), platform="cpu")
    assert problems
    assert "an object of type numpy.ndarray" in problems[0]


@pytest.mark.parametrize("data", [
    {"t": "array", "dtype": "int32", "shape": [2], "b64": "AAAA"},          # 3 bytes for 8
    {"t": "array", "dtype": "object", "shape": [], "b64": ""},               # not numeric
    {"t": "array", "dtype": "no-such", "shape": [1], "b64": "AAAAAA=="},
    {"t": "array", "dtype": "int8", "shape": [-1], "b64": ""},
    {"t": "dict", "keys": ["a", "a"], "items": [{"t": "none"}, {"t": "none"}]},
    {"t": "py", "type": "int", "v": "9" * 5000},
    {"t": "eval", "v": "__import__('os')"},
    "not even a dict",
])
def test_malformed_data_is_refused(data: object) -> None:
    with pytest.raises(WireError):
        decode(data)


def test_deep_nesting_is_refused() -> None:
    d: dict = {"t": "none"}
    for _ in range(200):
        d = {"t": "tuple", "items": [d]}
    with pytest.raises(WireError):
        decode(d)


# -- verdicts from observations ------------------------------------------------------------------

def _tol():  # the catalog's tolerance of a case
    from jaxpat.catalog import load

    return load().get("scan-cumsum").case("seed-arange-five").tolerance


def _case():
    from jaxpat.catalog import load

    pattern = load().get("scan-cumsum")
    return pattern, pattern.case("seed-arange-five")


def _obs(values: list[int], **more: object) -> dict:
    result = _wire.encode(np.array(values, dtype=np.int32))
    placement = [{"path": "result", "kind": "jax", "type": "ArrayImpl", "devices": "cpu:0", "shape": [5],
                  "shards": [[0, [[0, 5]]]], "sharding": "x"}]
    return {"result": result, "placement": placement, "second": "same", **more}


def test_a_right_observation_passes_and_a_wrong_one_fails() -> None:
    """The seed's printed [0 1 3 6 10] passes; one element off fails, naming the element."""
    pattern, case = _case()
    _judge.judge_case(pattern, case, "eager", "cpu", ["cpu:0"], _obs([0, 1, 3, 6, 10]))
    with pytest.raises(_judge.ConformanceFailure, match=r"(?s)wrong result:.*at \[4\]: expected 10, got 11"):
        _judge.judge_case(pattern, case, "eager", "cpu", ["cpu:0"], _obs([0, 1, 3, 6, 11]))


@pytest.mark.parametrize(("more", "fragment"), [
    ({"mutated": ["args[0]: changed"]}, "mutated its inputs"),
    ({"second": _wire.encode(np.array([0, 1, 3, 6, 9], np.int32))}, "non-deterministic"),
    ({"placement": []}, ""),  # no facts: nothing is expected of placement here, so it passes
    ({"error": {"type": "ValueError", "message": "boom\nmore", "traceback": "tb", "is_expected": False}},
     "unexpected exception ValueError: boom"),
    ({"unshippable": "too big"}, "cannot be compared: too big"),
    ({"damage": "the implementation changed global JAX config: x"}, "changed global JAX config"),
])
def test_each_observed_problem_flips_the_verdict(more: dict, fragment: str) -> None:
    pattern, case = _case()
    obs = _obs([0, 1, 3, 6, 10], **more)
    if not fragment:
        _judge.judge_case(pattern, case, "eager", "cpu", ["cpu:0"], obs)
        return
    with pytest.raises(_judge.ConformanceFailure, match=fragment):
        _judge.judge_case(pattern, case, "eager", "cpu", ["cpu:0"], obs)


def test_expected_errors_are_judged_from_the_shipped_exception() -> None:
    from jaxpat.catalog import load

    pattern = next(p for p in load() for c in p.cases if isinstance(c.expect, ExpectedError))
    case = next(c for c in pattern.cases if isinstance(c.expect, ExpectedError))
    transform = case.transforms[0]
    want = case.expect
    right = {"error": {"type": want.type_name, "message": want.match or "x", "is_expected": True}}
    _judge.judge_case(pattern, case, transform, "cpu", ["cpu:0"], right)
    wrong_type = {"error": {"type": "KeyError", "message": want.match or "x", "is_expected": False}}
    with pytest.raises(_judge.ConformanceFailure, match="got KeyError"):
        _judge.judge_case(pattern, case, transform, "cpu", ["cpu:0"], wrong_type)
    with pytest.raises(_judge.ConformanceFailure, match="to be raised, but the call returned"):
        _judge.judge_case(pattern, case, transform, "cpu", ["cpu:0"], {"result": _wire.encode(1)})


def test_wrong_placement_is_judged_from_facts() -> None:
    from jaxpat.conformance._placement import judge_placement

    facts = [{"path": "result", "kind": "jax", "type": "ArrayImpl", "devices": "cpu:0", "shape": [4],
              "shards": [[0, [[0, 4]]]], "sharding": "one"}]
    assert judge_placement(facts, ["cpu:0"], {"result": "replicated"}) == []
    problems = judge_placement(facts, ["cpu:0", "cpu:1"], {"result": "replicated"})
    assert problems
    assert "missing:    device 1: [0:4]" in problems[0]
    assert "expected a NumPy array on the host" in judge_placement(facts, ["cpu:0"], {"result": "host"})[0]


# -- budgets and deaths, enforced from outside -----------------------------------------------------

def _fake(tmp_path: Path, body: str) -> list[str]:
    script = tmp_path / "fake_executor.py"
    script.write_text(textwrap.dedent(body))
    return [sys.executable, str(script)]


def test_an_executor_past_its_budget_is_ended_with_its_children(tmp_path: Path) -> None:
    """Holding the GIL in C code cannot outlast the budget: the process group is killed from outside."""
    cmd = _fake(tmp_path, """
        import re, subprocess, sys
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        open(sys.argv[1], "w").write(str(child.pid))
        sys.stdin.readline()
        re.match(r"(a+)+$", "a" * 40 + "b")  # C code, holding the GIL, for hours
    """)
    pid_file = tmp_path / "child.pid"
    ex = Executor([str(pid_file)], command=cmd)
    with pytest.raises(ExecutorFailure) as info:
        ex.request({"op": "case"}, 1.0)
    assert info.value.kind == "timeout"
    assert info.value.limit == 1.0
    assert not ex.alive()
    child = int(pid_file.read_text())
    assert not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]


def test_an_executor_that_exits_0_fails_its_request(tmp_path: Path) -> None:
    ex = Executor([], command=_fake(tmp_path, "import os, sys\nsys.stdin.readline()\nos._exit(0)\n"))
    with pytest.raises(ExecutorFailure) as info:
        ex.request({"op": "case"}, 30.0)
    assert info.value.kind == "crashed"
    assert "exit status 0" in info.value.message


def test_an_answer_that_is_not_json_is_a_protocol_failure(tmp_path: Path) -> None:
    ex = Executor([], command=_fake(tmp_path, "import sys\nsys.stdin.readline()\nprint('{nope', flush=True)\n"
                                              "sys.stdin.readline()\n"))
    with pytest.raises(ExecutorFailure) as info:
        ex.request({"op": "case"}, 30.0)
    ex.kill()
    assert info.value.kind == "protocol"


# -- names and escapes -------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "ok"), [
    ("reference", True), ("my_plugin2", True), ("referenc\u0435", False), ("x]-y", False), ("Example", False),
    ("", False), ("a" * 65, False),
])
def test_plugin_names_are_ascii_identifiers(name: str, ok: bool) -> None:
    assert bool(NAME_RULE.fullmatch(name)) is ok
    assert all(ord(c) < 128 and c not in "[]-" for c in safe_label(name))


def test_look_alike_names_share_a_skeleton() -> None:
    assert skeleton("examp1e") == skeleton("example")
    assert skeleton("refe_rence") == skeleton("reference")
    assert skeleton("modern") == skeleton("modem")
    assert skeleton("scan") != skeleton("scam")


def test_control_characters_are_shown_escaped() -> None:
    text = "ok\n\x1b[2J\x1b]0;title\x07\u202eevil\tend"
    shown = _judge.printable(text)
    assert shown == "ok\n\\x1b[2J\\x1b]0;title\\x07\\u202eevil\tend"
    assert "\x1b" not in str(_judge.ConformanceFailure("a \x1b[31m red"))
