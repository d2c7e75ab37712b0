"""Every claim plot in the HTML report draws exactly the figures its verdict was computed from.

Each claim kind is judged from hand-written figures (the pure judge, no JAX); the records go through the
HTML report's plot code, and the points it draws (``data-x``/``data-y`` on each marker) are compared with
the figures the verdict used: temp + output bytes for forward memory (not temp alone), compiled HLO
instructions for program size (not jaxpr equations), the work for early exit, the ratio for speed-up and
residuals. Overlapping series stay distinguishable.
"""

from __future__ import annotations

import html
import re
from types import SimpleNamespace
from typing import Any

from jaxpat.catalog import Claims
from jaxpat.conformance import _claim_verdicts as cv
from jaxpat.report import ClaimRecord, _html

SIZES = [10, 100, 1000]
WORKS = {"ok": True, "detail": "works", "types": []}

CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "jit": ({"jit": True}, {"jit": WORKS}),
    "grad": ({"grad": {"forward": True, "reverse": True}}, {"forward": WORKS, "reverse": WORKS}),
    "memory": (
        {"memory": {"param": "n", "sizes": SIZES, "forward": "linear", "backward": "linear"}},
        {"param": "n", "sizes": SIZES, "platform": "cpu",
         # temp alone is constant; the output grows: the verdict (and the plot) use temp + output
         "forward": {"temp_bytes": [196, 196, 196], "output_bytes": [40, 400, 4000]},
         "trips": SIZES, "equations": [4, 4, 4], "fingerprints": ["a", "b", "c"],
         "backward": {"residual_bytes": [44, 404, 4004]}},
    ),
    "program_size": (
        {"program_size": {"param": "n", "sizes": [10, 100], "growth": "linear"}},
        # the jaxpr stays at 3 equations while the compiled program grows: the plot must show the HLO
        {"param": "n", "sizes": [10, 32, 100], "hlo_instructions": [12, 34, 102], "hlo_while_loops": [0, 0, 0],
         "equations": [3, 3, 3], "trips": [10, 32, 100], "loop_primitives": ["scan"]},
    ),
    "early_exit": (
        {"early_exit": {"param": "n", "sizes": [10, 100], "stop": "tol", "stops": [0.1, 0.001]}},
        {"param": "n", "points": [1, 10, 100], "work": [2, 20, 20], "stop": "tol", "stops": [0.1, 0.001],
         "stop_work": [8, 20]},
    ),
    "residuals": ({"residuals": {"baseline": "plain", "at_least": 1.25}},
                  {"residual_bytes": 76, "baseline_residual_bytes": 100, "baseline": "r.plain"}),
    "speedup": ({"speedup": {"baseline": "eager", "at_least": 3}},
                {"seconds": [1.0] * 5, "baseline_seconds": [10.0, 9.0, 11.0, 10.0, 12.0], "baseline": "r.eager"}),
    "observe": ({"observe": {"what": "first_call", "baseline": "python_loop", "at_least": 1.5}},
                {"what": "first_call", "seconds": [0.1] * 5, "baseline_seconds": [0.4, 0.5, 0.45, 0.5, 0.4],
                 "baseline": "r.python_loop"}),
}


def _record(claim: str, impl: str = "r.impl") -> tuple[ClaimRecord, cv.Judgement]:
    data, figures = CASES[claim]
    claims = Claims.from_dict(data)
    j = cv.judge(claim, claims, figures)
    claimed = claims.claimed(claim)
    plain = claimed.to_dict() if hasattr(claimed, "to_dict") else claimed
    return ClaimRecord("p", impl, claim, j.verdict, plain, j.measured, j.message), j


def _drawn(records: list[ClaimRecord]) -> dict[str, list[tuple[str, list[float], list[float]]]]:
    """The line plots' points by plot title: (series label, xs, ys) as the SVG draws them."""
    section = _html._plots_section(SimpleNamespace(claims=tuple(records)))  # type: ignore[arg-type]
    out: dict[str, list[tuple[str, list[float], list[float]]]] = {}
    for svg in re.findall(r'<svg[^>]*class="lineplot".*?</svg>', section, re.S):
        title = html.unescape(re.search(r'aria-label="([^"]*)"', svg).group(1))  # type: ignore[union-attr]
        series = []
        for label, body in re.findall(r'<polyline[^>]*data-series="([^"]*)"/>(.*?)(?=<polyline|<line x1|$)', svg,
                                      re.S):
            pts = re.findall(r'data-x="([^"]+)" data-y="([^"]+)"', body)
            series.append((html.unescape(label), [float(x) for x, _ in pts], [float(y) for _, y in pts]))
        out[title] = series
    return out


def _bars(records: list[ClaimRecord]) -> list[tuple[str, float]]:
    section = _html._plots_section(SimpleNamespace(claims=tuple(records)))  # type: ignore[arg-type]
    return [(html.unescape(label), float(v)) for label, v in re.findall(r"<title>([^<]*?): ([0-9.e+-]+)×", section)]


def test_memory_plot_draws_temp_plus_output_and_residuals() -> None:
    rec, j = _record("memory")
    drawn = _drawn([rec])
    fwd = drawn["forward memory: compiled temp + output bytes vs n"]
    assert fwd == [("r.impl", [10.0, 100.0, 1000.0], [float(v) for v in j.measured["forward"]["bytes"]])]
    assert fwd[0][2] == [236.0, 596.0, 4196.0]  # 196 + 40·k: not the constant temp bytes
    assert cv.growth(fwd[0][1], fwd[0][2]) == j.measured["forward"]["growth"] == "linear"
    bwd = drawn["backward memory: residual bytes jax.vjp saves vs n"]
    assert bwd[0][2] == [float(v) for v in j.measured["backward"]["residual_bytes"]]
    assert cv.growth(bwd[0][1], bwd[0][2]) == j.measured["backward"]["growth"]


def test_program_size_plot_draws_compiled_instructions_not_equations() -> None:
    rec, j = _record("program_size")
    drawn = _drawn([rec])
    (series,) = drawn["program size: compiled HLO instructions vs n"]
    assert series[2] == [12.0, 34.0, 102.0] == [float(v) for v in j.measured["hlo_instructions"]]
    assert cv.growth(series[1], series[2]) == j.measured["growth"] == "linear"
    assert j.verdict == "held"


def test_early_exit_plot_draws_the_work() -> None:
    rec, j = _record("early_exit")
    (series,) = _drawn([rec])["work (loop iterations + traced equations) vs n"]
    assert (series[1], series[2]) == ([1.0, 10.0, 100.0], [2.0, 20.0, 20.0])
    assert series[2] == [float(w) for w in j.measured["work"]]


def test_ratio_plots_draw_the_verdicts_ratio() -> None:
    speed, js = _record("speedup")
    resid, jr = _record("residuals")
    bars = dict(_bars([speed, resid]))
    assert bars["p · r.impl"] in (js.measured["speedup"], jr.measured["saving_factor"])
    values = sorted(v for _, v in _bars([speed, resid]))
    assert values == sorted([js.measured["speedup"], jr.measured["saving_factor"]])


def test_jit_and_grad_have_nothing_to_plot() -> None:
    for claim in ("jit", "grad"):
        rec, _ = _record(claim)
        assert cv.verdict_figures(claim, rec.measured, rec.claimed) == []
        assert _drawn([rec]) == {}


def test_every_claim_kind_is_covered() -> None:
    assert set(CASES) == set(cv._JUDGES)


def test_identical_series_stay_distinguishable() -> None:
    """Two implementations with the same figures: both series are drawn, with different dashes and markers."""
    a, _ = _record("program_size", "r.fori_loop")
    b, _ = _record("program_size", "r.scan")
    section = _html._plots_section(SimpleNamespace(claims=(a, b)))  # type: ignore[arg-type]
    (series_a, series_b) = _drawn([a, b])["program size: compiled HLO instructions vs n"]
    assert series_a[1:] == series_b[1:]
    dashes = re.findall(r'<polyline[^>]*stroke-dasharray="([^"]+)"', section)
    assert len(dashes) == 2
    assert dashes[0] != dashes[1]
    assert re.search(r"<circle[^>]*data-x", section)
    assert re.search(r"<rect[^>]*data-x", section)  # the second series' markers are squares


def test_a_plot_without_the_verdicts_figure_draws_nothing() -> None:
    """An old record with jaxpr equations but no HLO instructions is not plotted as if it were the verdict's."""
    rec = ClaimRecord("p", "r.impl", "program_size", "held", None,
                      {"param": "n", "sizes": [10, 100], "equations": [3, 3], "growth": "constant"})
    assert _drawn([rec]) == {}
