"""jaxpat._util: the small shared helpers."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from jaxpat import _util


def test_did_you_mean_suggests_the_closest_and_nothing_when_far() -> None:
    """A near miss gets a suggestion; an unrelated word gets none."""
    assert _util.did_you_mean("scna", ["scan", "loops"]) == " (did you mean 'scan'?)"
    assert _util.did_you_mean("zzzzzz", ["scan", "loops"]) == ""
    assert _util.closest("loop", ["loops", "vmap"]) == "loops"


def test_first_line_keeps_type_and_first_line_only() -> None:
    """Only the first line of the message, cut to the limit, after the type name."""
    assert _util.first_line(ValueError("bad\nmore")) == "ValueError: bad"
    assert _util.first_line(KeyError()) == "KeyError"
    assert _util.first_line(ValueError("x" * 50), limit=10) == "ValueError: " + "x" * 9 + "…"


def test_cache_root_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """JAXPAT_CACHE_DIR wins over XDG_CACHE_HOME, which wins over ~/.cache."""
    monkeypatch.setenv("JAXPAT_CACHE_DIR", str(tmp_path / "a"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "b"))
    assert _util.cache_root() == tmp_path / "a"
    monkeypatch.delenv("JAXPAT_CACHE_DIR")
    assert _util.cache_root() == tmp_path / "b" / "jaxpat"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    assert _util.cache_root() == tmp_path / "h" / ".cache" / "jaxpat"


def test_atomic_write_replaces_whole_file_with_ordinary_permissions(tmp_path: Path) -> None:
    """The new content replaces the old; no temporary file is left; mode follows the umask."""
    target = tmp_path / "r.json"
    target.write_text("old")
    _util.atomic_write(target, "new")
    assert target.read_text() == "new"
    assert os.listdir(tmp_path) == ["r.json"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_atomic_write_failure_leaves_nothing(tmp_path: Path) -> None:
    """Writing into a missing folder raises OSError and creates nothing."""
    with pytest.raises(FileNotFoundError):
        _util.atomic_write(tmp_path / "missing" / "r.json", b"x")
    assert os.listdir(tmp_path) == []


def test_table_aligns_columns() -> None:
    """Columns are padded to the widest cell; no trailing spaces."""
    assert _util.table([("a", "bbb"), ("cc", "d")], header=("h1", "h2")) == "h1  h2\na   bbb\ncc  d"
    assert _util.table([]) == ""


def test_dist_version() -> None:
    """An installed distribution has a version; an absent one has None."""
    assert _util.dist_version("pytest")
    assert _util.dist_version("no-such-distribution-jaxpat") is None
