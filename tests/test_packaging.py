"""The built wheel is a working installation: every data file the code reads is in it, and
`jaxpat mutate` / `jaxpat validate` run from it in a fresh virtual environment.

The wheel is built once per module (``pip wheel --no-deps --no-build-isolation``, offline), installed
with ``pip --python NEWVENV install --no-deps`` into a venv made without pip; the venv reaches
jaxpat's dependencies (JAX, pytest, ...) through a ``.pth`` line naming this environment's
site-packages, which comes after its own site-packages, so ``import jaxpat`` finds the installed
wheel and not this checkout (a path line in a ``.pth`` file does not run that folder's own ``.pth``
files, so the editable install's import hook is not loaded there).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Folder -> import package, as pyproject.toml's [tool.setuptools.package-dir] maps them.
FOLDERS = {"jaxpat": "jaxpat", "catalog": "jaxpat/catalog", "patterns": "jaxpat/patterns", "report": "jaxpat/report",
           "conformance": "jaxpat/conformance"}


def data_files() -> dict[str, Path]:
    """Every file that is not Python source in the package folders, by its path in the wheel, plus the
    top-level catalog.yaml (jaxpat/catalog/catalog.yaml in the wheel). Found by walking, not listed."""
    found = {"jaxpat/catalog/catalog.yaml": ROOT / "catalog.yaml"}
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts:
                found[f"{package}/{path.relative_to(ROOT / folder).as_posix()}"] = path
    return found


#: setuptools builds in the checkout's build/ folder: wheel builds of this module and tests/test_structure.py run
#: on one xdist worker, one at a time (two at once collide: "File exists: build/bdist.../jaxpat-0.1.0.dist-info")
pytestmark = pytest.mark.xdist_group("source-tree")

@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("setuptools")
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", str(out),
         str(ROOT)], capture_output=True, text=True,
    )
    if proc.returncode != 0 and "No module named pip" in proc.stderr:
        pytest.skip("pip is not installed in this environment")
    assert proc.returncode == 0, proc.stderr[-3000:]
    (whl,) = out.glob("jaxpat-*.whl")
    return whl


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; dependencies come from this environment's site-packages."""
    root = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "zz-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                           "--no-index", str(wheel)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAXPAT_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(JAXPAT_CACHE_DIR=str(tmp / "cache"), JAXPAT_DISABLE_PLUGIN_AUTOLOAD="1", JAX_PLATFORMS="cpu")
    return env


def test_every_data_file_is_in_the_wheel(wheel: Path) -> None:
    """Each non-Python file of the package folders (and catalog.yaml) is in the wheel, byte for byte."""
    expected = data_files()
    assert {"jaxpat/conformance/equivalent-mutants.json", "jaxpat/report/html/page.html"} <= set(expected)
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        missing = sorted(set(expected) - names)
        assert missing == [], f"not in the wheel: {missing}"
        changed = sorted(n for n, path in expected.items() if zf.read(n) != path.read_bytes())
    assert changed == []


def test_wheel_metadata_has_no_pytest_timeout_and_says_it_is_typed(wheel: Path) -> None:
    """pytest-timeout is not a dependency (the watchdog replaced it); classifiers name typing and Pythons."""
    with zipfile.ZipFile(wheel) as zf:
        (meta,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        text = zf.read(meta).decode()
    requires = [line for line in text.splitlines() if line.startswith("Requires-Dist:")]
    assert requires
    assert not any("timeout" in r for r in requires), requires
    for classifier in ("Typing :: Typed", "Programming Language :: Python :: 3.11",
                       "Programming Language :: Python :: 3.12", "Programming Language :: Python :: 3.13"):
        assert f"Classifier: {classifier}" in text
    assert "License-Expression: Apache-2.0" in text


def test_nothing_imports_pytest_timeout() -> None:
    """No module of the package, the tests or the benchmarks uses pytest-timeout (so it need not be installed):
    no import of it, no ``@pytest.mark.timeout``, no ``-p timeout``, no ini ``timeout`` setting."""
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11 (the tests run on 3.12)

    use = re.compile(r"^\s*(import|from) pytest_timeout\b|\bmark\.timeout\b"
                     r"|[\"']-p[\"'], [\"']timeout[\"']|-p timeout\b", re.M)
    users = [str(p.relative_to(ROOT)) for folder in (*FOLDERS, "tests", "benchmarks")
             for p in (ROOT / folder).rglob("*.py")
             if p.name != "test_packaging.py" and use.search(p.read_text(encoding="utf-8"))]
    assert users == []
    ini = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    assert not [k for k in ini if "timeout" in k]
    assert use.search("import pytest\n@pytest.mark.timeout(5)\n")  # the pattern finds a use


def test_installed_mutate_loads_every_equivalence_rule(venv: Path, tmp_path: Path) -> None:
    """`jaxpat mutate` from the wheel loads all recorded equivalence rules and explains the pattern's survivor.

    jacobian-linear-map has one survivor recorded as equivalent; without the rules file it would be
    unexplained and the command would exit 1.
    """
    rules = json.loads((ROOT / "conformance" / "equivalent-mutants.json").read_text(encoding="utf-8"))["equivalent"]
    assert any(r["pattern"] == "jacobian-linear-map" for r in rules)
    proc = subprocess.run([str(venv / "bin" / "jaxpat"), "mutate", "--pattern", "jacobian-linear-map", "--format",
                           "json"], capture_output=True, text=True, cwd=tmp_path, env=_env(tmp_path))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    assert summary["equivalence_rules"] == len(rules) >= 15
    assert summary["equivalent"] >= 1
    assert summary["unexplained"] == 0
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import jaxpat.conformance as c; print(c.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, env=_env(tmp_path), check=True).stdout
    assert where.startswith(str(venv)), where


def test_installed_validate_finds_the_shipped_catalog(venv: Path, tmp_path: Path) -> None:
    """`jaxpat validate` from the wheel reads the wheel's catalog.yaml (a copy of the top-level file)."""
    env = _env(tmp_path)
    proc = subprocess.run([str(venv / "bin" / "jaxpat"), "validate", "--no-plugins"], capture_output=True, text=True,
                          cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    code = "from jaxpat.catalog._loader import SHIPPED; print(SHIPPED)"
    shipped = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, cwd=tmp_path,
                             env=env, check=True).stdout.strip()
    assert shipped.startswith(str(venv)), shipped
    assert shipped.endswith("jaxpat/catalog/catalog.yaml"), shipped
    assert Path(shipped).read_bytes() == (ROOT / "catalog.yaml").read_bytes()


def test_the_checkout_has_one_catalog_yaml() -> None:
    """No copy or symlink of catalog.yaml inside catalog/ (it breaks on checkouts without symlinks);
    a source checkout reads the top-level file."""
    from jaxpat.catalog._loader import SHIPPED

    assert not (ROOT / "catalog" / "catalog.yaml").exists()
    assert not (ROOT / "catalog" / "catalog.yaml").is_symlink()
    assert SHIPPED.resolve() == (ROOT / "catalog.yaml").resolve()
