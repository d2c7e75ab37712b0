"""The one node-id codec (jaxpat.report.parse_nodeid / format_nodeid): every id shape, round trips, odd ids."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jaxpat.report import NodeId, Result, format_nodeid, nodeid_record, parse_nodeid

# every shape the collectors build (conformance/_collect.py, _claims.py, _multiprocess.py), written out by hand
SHAPES = [
    ("jaxpat::scan-cumsum::five[reference.lax_scan-cpu:0-jit]",
     NodeId("case", "scan-cumsum", case="five", implementation="reference.lax_scan", device="cpu:0", transform="jit")),
    ("jaxpat::sharding-psum::eight-devices[reference.shard_map_psum-cpu:0..7-eager]",
     NodeId("case", "sharding-psum", case="eight-devices", implementation="reference.shard_map_psum",
            device="cpu:0..7", transform="eager")),
    ("jaxpat::vmap-square::two[my-plugin.impl_2-devices-vmap]",
     NodeId("agreement", "vmap-square", case="two", implementation="my-plugin.impl_2", device="devices",
            transform="vmap")),
    ("jaxpat::dist-sum::two-procs[reference.global_sum-2proc-jit]",
     NodeId("multiprocess", "dist-sum", case="two-procs", implementation="reference.global_sum", device="2proc",
            transform="jit")),
    ("jaxpat::scan-cumsum::claim-program_size[reference.lax_scan-gpu:3]",
     NodeId("claim", "scan-cumsum", claim="program_size", implementation="reference.lax_scan", device="gpu:3")),
    ("jaxpat::plugin[broken-plugin]", NodeId("setup", setup="plugin", name="broken-plugin")),
    ("jaxpat::platform[tpu]", NodeId("setup", setup="platform", name="tpu")),
]


@pytest.mark.parametrize(("text", "node"), SHAPES, ids=[n.kind + str(i) for i, (_, n) in enumerate(SHAPES)])
def test_every_shape_parses_and_round_trips(text: str, node: NodeId) -> None:
    assert parse_nodeid(text) == node
    assert format_nodeid(node) == text
    assert str(parse_nodeid(text)) == text


def test_derived_members() -> None:
    case = parse_nodeid(SHAPES[0][0])
    assert (case.plugin, case.platform, case.processes) == ("reference", "cpu", None)
    assert case.short() == "scan-cumsum::five[reference.lax_scan-cpu:0-jit]"
    assert case.item_name() == "five[reference.lax_scan-cpu:0-jit]"
    assert parse_nodeid(SHAPES[2][0]).plugin == "my-plugin"  # a plugin name with a dash: the impl keeps it
    assert parse_nodeid(SHAPES[2][0]).platform is None
    assert parse_nodeid(SHAPES[3][0]).processes == 2
    assert parse_nodeid(SHAPES[4][0]).platform == "gpu"
    assert parse_nodeid(SHAPES[4][0]).item_name() == "claim-program_size[reference.lax_scan-gpu:3]"


@pytest.mark.parametrize("text", [
    "", "jaxpat", "jaxpat::", "tests/test_x.py::test_y", "jaxpat::p::c", "jaxpat::p::c[]", "jaxpat::p::c[a-b]",
    "jaxpat::p::c[impl-cpu:0-jit", "jaxpat::p::c[a[b]-cpu:0-jit]", "jaxpat::p::c[impl-gpu-jit]",
    "jaxpat::p::claim-[impl-cpu:0]", "jaxpat::plugin[a]b]", "jaxpat::a::b::c[i-cpu:0-jit]", "x\x1b[2Jy",
])
def test_ids_of_no_known_shape_are_other_and_keep_their_text(text: str) -> None:
    node = parse_nodeid(text)
    assert node.kind == "other"
    assert node.pattern is None
    assert format_nodeid(node) == text


def test_a_case_id_named_like_a_claim_is_still_a_case() -> None:
    """A case id may start with `claim-`; three bracket fields make it a case, two a claim."""
    node = parse_nodeid("jaxpat::p::claim-like[reference.f-cpu:0-jit]")
    assert (node.kind, node.case, node.transform) == ("case", "claim-like", "jit")


def test_format_refuses_a_node_missing_a_member() -> None:
    with pytest.raises(ValueError, match="needs more members"):
        format_nodeid(NodeId("case", "p", case="c", implementation="i", device="cpu:0"))


_word = st.from_regex(r"[a-z0-9]+(-[a-z0-9]+){0,2}", fullmatch=True)
_impl = st.builds(lambda p, n: f"{p}.{n}", st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True),
                  st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True))
_device = st.one_of(st.builds(lambda p, i: f"{p}:{i}", st.sampled_from(["cpu", "gpu", "tpu"]), st.integers(0, 99)),
                    st.builds(lambda p, n: f"{p}:0..{n}", st.sampled_from(["cpu", "gpu"]), st.integers(1, 15)),
                    st.just("devices"), st.builds(lambda n: f"{n}proc", st.integers(1, 64)))


@given(_word, _word, _impl, _device, st.sampled_from(["eager", "jit", "vmap", "grad"]))
def test_generated_case_ids_round_trip(pattern: str, case: str, impl: str, device: str, transform: str) -> None:
    text = f"jaxpat::{pattern}::{case}[{impl}-{device}-{transform}]"
    node = parse_nodeid(text)
    assert (node.pattern, node.case, node.implementation, node.device, node.transform) == (
        pattern, case, impl, device, transform)
    assert format_nodeid(node) == text


@given(_word, st.from_regex(r"[a-z][a-z_]{0,12}", fullmatch=True), _impl,
       st.builds(lambda p, i: f"{p}:{i}", st.sampled_from(["cpu", "gpu"]), st.integers(0, 9)))
def test_generated_claim_ids_round_trip(pattern: str, claim: str, impl: str, device: str) -> None:
    text = f"jaxpat::{pattern}::claim-{claim}[{impl}-{device}]"
    node = parse_nodeid(text)
    assert (node.kind, node.pattern, node.claim, node.implementation, node.device) == (
        "claim", pattern, claim, impl, device)
    assert format_nodeid(node) == text


@given(st.text(max_size=60))
def test_any_text_parses_without_raising_and_formats_back(text: str) -> None:
    assert format_nodeid(parse_nodeid(text)) == text


def test_nodeid_record_is_what_items_record() -> None:
    """The members a crashed item's record gets from its id (what a claim item and a case item write themselves)."""
    claim = nodeid_record("jaxpat::scan-cumsum::claim-jit[reference.lax_scan-cpu:0]")
    assert claim == {"nodeid": "jaxpat::scan-cumsum::claim-jit[reference.lax_scan-cpu:0]", "kind": "claim",
                     "pattern": "scan-cumsum", "implementation": "reference.lax_scan", "plugin": "reference",
                     "device": "cpu:0", "platform": "cpu", "claim": "jit", "transform": "claim:jit"}
    case = nodeid_record(SHAPES[0][0])
    assert {k: case[k] for k in ("kind", "pattern", "case", "implementation", "device", "platform", "transform")} == {
        "kind": "case", "pattern": "scan-cumsum", "case": "five", "implementation": "reference.lax_scan",
        "device": "cpu:0", "platform": "cpu", "transform": "jit"}
    assert nodeid_record(SHAPES[3][0])["platform"] == "cpu"
    assert nodeid_record("jaxpat::plugin[x]") == {"nodeid": "jaxpat::plugin[x]", "kind": "setup", "pattern": None}
    assert nodeid_record("odd") == {"nodeid": "odd", "kind": "case"}


def test_pattern_id_of_a_record_without_pattern_comes_from_the_codec() -> None:
    """Result.pattern_id parses the id: the pattern, not the case (the old split took the last `::` part)."""
    r = Result(nodeid="jaxpat::scan-cumsum::five[reference.lax_scan-cpu:0-jit]", outcome="passed")
    assert r.pattern_id == "scan-cumsum"
    assert Result(nodeid="jaxpat::plugin[broken]", outcome="error").pattern_id == "plugin"
