"""CLI and terminal rough edges (issue 24): failure wording, filter typos, node ids, terminal summary, Ctrl-C."""

from __future__ import annotations

import re

import numpy as np
import pytest
from jaxpat.catalog import ArrayValue, Tolerance
from jaxpat.conformance import _compare
from jaxpat.conformance._judge import ConformanceFailure

# -- failure wording ------------------------------------------------------------------------------------------


def _tol(rtol: float = 1e-6, atol: float = 1e-6) -> Tolerance:
    return Tolerance(table={"float32": (rtol, atol), "int32": (0.0, 0.0)})


def test_value_mismatch_says_beyond_the_tolerance_with_the_largest_difference() -> None:
    """"values differ beyond rtol=..., atol=...: max abs diff D, max rel diff R" on the first line; D and R
    computed here independently with plain Python."""
    want = [1.0, 2.5, 4.0]
    got = [1.0, 2.5, 4.75]
    msgs = _compare.compare(ArrayValue("float32", (3,), tuple(want)), np.asarray(got, np.float32),
                            tolerance=_tol(), platform="cpu")
    assert len(msgs) == 1
    first = msgs[0].splitlines()[0]
    assert "within" not in first
    abs_diff = max(abs(g - w) for g, w in zip(got, want, strict=True))
    rel_diff = max(abs(g - w) / abs(w) for g, w in zip(got, want, strict=True))
    assert first == (f"result: values differ beyond rtol=1e-06, atol=1e-06 (float32 tolerance from built-in "
                     f"default): max abs diff {abs_diff:.6g}, max rel diff {rel_diff:.6g}")
    # a difference inside the tolerance is no failure (the wording's counter-case)
    assert _compare.compare(ArrayValue("float32", (3,), tuple(want)), np.asarray([1.0, 2.5, 4.000001], np.float32),
                            tolerance=_tol(), platform="cpu") == []


@pytest.mark.parametrize(("want", "got", "dtype"), [
    ([1.0, 2.5, 100.0, -3.0], [1.0, 2.5, 7.25, -3.0], "float32"),
    ([1, 3, 6, 10, 15], [2, 4, 7, 11, -160], "int32"),
    ([[1.0, 20.0], [300.0, 4.0]], [[1.5, 20.0], [3.0, -4.0]], "float32"),
], ids=["float", "int", "2d"])
def test_expected_and_actual_are_aligned_element_by_element(want: list, got: list, dtype: str) -> None:
    """Each element of the actual array ends in the same column as the same element of the expected one."""
    arr = np.asarray(want, dtype)
    msg = _compare.compare(ArrayValue(dtype, arr.shape, tuple(arr.ravel().tolist())), np.asarray(got, dtype),
                           tolerance=_tol(), platform="cpu")[0]
    lines = msg.splitlines()
    exp_at = next(i for i, line in enumerate(lines) if line.startswith("  expected: "))
    rows = arr.shape[0] if arr.ndim == 2 else 1
    exp_lines, act_lines = lines[exp_at:exp_at + rows], lines[exp_at + rows:exp_at + 2 * rows]
    assert act_lines[0].startswith("  actual:   ")

    def ends(line: str) -> list[int]:
        return [m.end() for m in re.finditer(r"-?[0-9][0-9.e+-]*", line[len("  expected: "):])]

    flat_want = [str(x) for x in np.asarray(want, dtype).ravel()]
    flat_got = [str(x) for x in np.asarray(got, dtype).ravel()]
    for e, a in zip(exp_lines, act_lines, strict=True):
        assert ends(e) == ends(a), (e, a)
    shown_want = re.findall(r"-?[0-9][0-9.e+-]*", " ".join(x[len("  expected: "):] for x in exp_lines))
    shown_got = re.findall(r"-?[0-9][0-9.e+-]*", " ".join(x[len("  expected: "):] for x in act_lines))
    assert shown_want == flat_want
    assert shown_got == flat_got


def test_failure_messages_still_escape_control_characters() -> None:
    """The new wording goes through ConformanceFailure, which escapes control characters."""
    assert str(ConformanceFailure("values differ \x1b[2J")) == "values differ \\x1b[2J"
