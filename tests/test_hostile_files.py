"""Catalog files that are not ordinary small files: refused before they are read, naming the file.

Real files on disk: a FIFO (reading it would block forever), ``/dev/zero``
(endless), a 4 GiB sparse file (reading it whole is a MemoryError), a
symlink loop, a directory. Each is a catalog problem naming the file, from
``catalog.load()``, ``catalog.validate()`` and ``jaxpat validate``; nothing
hangs, nothing is read whole.
"""

from __future__ import annotations

import builtins
import os
import sys

import pytest

from jaxpat._cli import main
from jaxpat.catalog import CatalogError, load, validate
from jaxpat.catalog._loader import read_catalog_file
from jaxpat.catalog._names import BUILTIN_EXCEPTIONS, JAX_ERRORS, exception_name_problem

KIND = "malformed catalog files"


def _fifo(tmp_path):
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    return path, "FIFO"


def _dev_zero(tmp_path):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    return "/dev/zero", "character device"


def _huge(tmp_path):
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as f:  # sparse: takes no disk space
        f.truncate(4 * 1024**3)
    return path, "the file is 4294967296 bytes; the limit is"


def _loop(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.symlink_to(b)
    b.symlink_to(a)
    return a, "symlink loop"


def _directory(tmp_path):
    path = tmp_path / "dir.yaml"
    path.mkdir()
    return path, "a directory, not a regular file"


def _dangling(tmp_path):
    path = tmp_path / "dangling.yaml"
    path.symlink_to(tmp_path / "nowhere.yaml")
    return path, "No such file or directory"


MAKERS = [_fifo, _dev_zero, _huge, _loop, _directory, _dangling]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX special files")
@pytest.mark.parametrize("make", MAKERS, ids=lambda f: f.__name__.strip("_"))
def test_special_file_is_a_catalog_error_naming_it(make, tmp_path, monkeypatch, capsys, record_property):
    record_property("reliability", KIND)
    monkeypatch.chdir(tmp_path)
    path, why = make(tmp_path)
    name = os.path.basename(path)
    with pytest.raises(CatalogError) as info:
        load(path)
    (problem,) = info.value.problems
    assert name in problem.file, problem
    assert why in problem.message, problem
    problems = validate(path)
    assert len(problems) == 1
    assert why in problems[0].message
    # the same file given as a plugin's extra file (how plugin files arrive)
    with pytest.raises(CatalogError, match=why):
        load(extra=[("hostile", path)])
    assert main(["validate", "--no-plugins", str(path)]) != 0
    err = capsys.readouterr()
    assert name in err.out + err.err
    assert why in err.out + err.err
    assert "Traceback" not in err.out + err.err


def test_a_file_over_the_limit_is_refused_without_reading_it(tmp_path, monkeypatch):
    """The size is checked on the open file before any read: not one read call is made."""
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * 101)
    reads = []
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: reads.append(n) or real_read(fd, n))
    with pytest.raises(ValueError, match="101 bytes; the limit is 100"):
        read_catalog_file(path, max_bytes=100)
    assert reads == []
    assert read_catalog_file(path, max_bytes=101) == b"#" * 101


def test_exception_names_the_validator_accepts_are_the_ones_the_suite_resolves():
    """JAX_ERRORS is jax.errors' exception classes, exactly; every accepted name resolves at run time."""
    import jax.errors

    from jaxpat.conformance._execute import resolve_exception

    actual = sorted(n for n, v in vars(jax.errors).items() if isinstance(v, type) and issubclass(v, BaseException))
    assert sorted(JAX_ERRORS) == actual
    for name in [*BUILTIN_EXCEPTIONS, *JAX_ERRORS, *(f"jax.errors.{n}" for n in JAX_ERRORS)]:
        assert exception_name_problem(name) is None
        assert issubclass(resolve_exception(name), BaseException)
    for name in ("print", "NoSuchError", "jax.numpy", "os.system", "jax.errors.print"):
        assert exception_name_problem(name), name
    assert "did you mean `ValueError`" in exception_name_problem("ValueErorr")
    assert callable(builtins.print)
