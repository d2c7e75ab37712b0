"""The package's shape: one top-level name, layers that only point down, no import cycles."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

#: reads the source tree, where tests/test_types.py plants a probe module while it runs (same worker)
pytestmark = pytest.mark.xdist_group("source-tree")

ROOT = Path(__file__).resolve().parents[1]

#: Import name -> folder, as pyproject.toml's [tool.setuptools.package-dir] maps them.
PACKAGES = {
    "jaxpat": ROOT / "jaxpat",
    "jaxpat.catalog": ROOT / "catalog",
    "jaxpat.patterns": ROOT / "patterns",
    "jaxpat.report": ROOT / "report",
    "jaxpat.conformance": ROOT / "conformance",
}

#: Layers, bottom first; a module may import its own layer and the ones below it.
LAYERS = [
    ("helpers", ("jaxpat", "jaxpat._util", "jaxpat._env", "jaxpat._jsonschema", "jaxpat._forking")),
    ("catalog", ("jaxpat.catalog",)),
    # reading, checking, diffing and drawing reports: no pytest, no JAX (conformance writes reports with it)
    ("report", ("jaxpat.report",)),
    ("patterns", ("jaxpat.patterns",)),
    ("conformance", ("jaxpat.conformance",)),
    ("cli", ("jaxpat._cli", "jaxpat.__main__")),
]


def modules() -> dict[str, Path]:
    """Every module of the installed package, by dotted name."""
    found: dict[str, Path] = {}
    for name, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            if name == "jaxpat" and parts and parts[0] in ("catalog", "patterns", "report", "conformance"):
                continue
            found[".".join([name, *parts])] = path
    return found


def layer(module: str) -> int:
    """The index of the layer ``module`` belongs to (the longest matching prefix decides)."""
    best, depth = -1, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            exact_root = prefix == "jaxpat" and module == "jaxpat"
            if (exact_root or (prefix != "jaxpat" and (module == prefix or module.startswith(prefix + "."))))\
                    and len(prefix) > depth:
                best, depth = i, len(prefix)
    return best


def imports(module: str, path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """``(imported jaxpat module, line)`` for every import in the file, at any depth (functions included).

    ``from pkg import name`` counts as importing ``pkg.name`` when that is a
    module, else ``pkg``. Imports under ``if TYPE_CHECKING:`` are left out:
    they never run.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and _is_type_checking(node.test)
                   for child in node.body for n in ast.walk(child)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "jaxpat":
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, is_package, node.module, node.level)
            if base.split(".")[0] != "jaxpat":
                continue
            for alias in node.names:
                target = f"{base}.{alias.name}"
                yield (target if target in known else base), node.lineno


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _resolve(module: str, is_package: bool, name: str | None, level: int) -> str:
    if level == 0:
        return name or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def graph() -> dict[str, list[tuple[str, int]]]:
    known = modules()
    return {m: sorted(set(imports(m, p, known))) for m, p in known.items()}


def test_every_module_is_in_a_layer() -> None:
    """Each module belongs to exactly one layer (a new top-level module must be placed deliberately)."""
    assert [m for m in modules() if layer(m) < 0] == []


def test_layers_only_point_down() -> None:
    """catalog <- patterns <- conformance <- CLI: no module imports a layer above its own (even in a function)."""
    upward = [
        f"{modules()[m].relative_to(ROOT)}:{line}: {m} ({LAYERS[layer(m)][0]}) imports {target} "
        f"({LAYERS[layer(target)][0]})"
        for m, edges in graph().items() for target, line in edges if layer(target) > layer(m)
    ]
    assert upward == []


def test_no_import_cycles() -> None:
    """The import graph, function-level imports included, is acyclic."""
    edges = {m: {t for t, _ in e if t != m} for m, e in graph().items()}
    cycles = _cycles(edges)
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_graph_checks_can_fail() -> None:
    """The layer and cycle checks flag an upward import and a two-module cycle (they are not vacuous)."""
    assert layer("jaxpat.catalog._loader") < layer("jaxpat.patterns._registry")
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    src = "from jaxpat.patterns import hookimpl\n"
    fake = ROOT / "catalog" / "_zz_upward_probe.py"
    edges = list(imports("jaxpat.catalog._zz_upward_probe", _write(fake, src), modules()))
    fake.unlink()
    assert edges == [("jaxpat.patterns", 1)]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_no_code_imports_the_bare_folder_names() -> None:
    """Nothing imports `catalog`, `patterns`, `report` or `conformance` as top-level names (they install under
    jaxpat)."""
    bad = []
    for path in ROOT.rglob("*.py"):
        if any(part in (".venv", ".git", "build", "corpus") or part.startswith(".venv") for part in path.parts):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            bad += [f"{path.relative_to(ROOT)}:{node.lineno}: {n}" for n in names
                    if n.split(".")[0] in ("catalog", "patterns", "report", "conformance")]
    assert bad == []


def test_importing_the_report_package_imports_no_pytest_jax_or_numpy() -> None:
    """`jaxpat report` reads reports anywhere: `import jaxpat.report` (its whole public API) needs none of them."""
    code = ("import sys, jaxpat.report as r; r.render_html; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pytest', '_pytest', 'jax', 'numpy', "
            "'jaxlib', 'pluggy', 'yaml')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    # and the check can fail: the conformance package does import pytest
    code = code.replace("jaxpat.report as r; r.render_html", "jaxpat.conformance._session as r")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pytest" in out.stdout


@pytest.mark.xdist_group("source-tree")  # setuptools builds in the checkout's build/: one wheel build at a time
def test_wheel_installs_one_top_level_name(tmp_path: Path) -> None:
    """The built wheel holds only `jaxpat` (and its metadata); `jaxpat.__version__` works from it."""
    pytest.importorskip("setuptools")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path),
         str(ROOT)], capture_output=True, text=True,
    )
    if proc.returncode != 0 and "No module named pip" in proc.stderr:
        pytest.skip("pip is not installed in this environment")
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = tmp_path.glob("jaxpat-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        zf.extractall(tmp_path / "site")
    top = {n.split("/")[0] for n in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"jaxpat"}
    for expected in ("jaxpat/catalog/catalog.yaml", "jaxpat/catalog/schema.json", "jaxpat/report/report-schema.json",
                     "jaxpat/report/html/page.html", "jaxpat/report/html/page.css", "jaxpat/report/html/page.js",
                     "jaxpat/patterns/reference/scan.py", "jaxpat/py.typed"):
        assert expected in names
    code = "import jaxpat, jaxpat.catalog as c; print(jaxpat.__version__, len(c.load().patterns) > 0, c.__file__)"
    out = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(tmp_path / 'site')!r}); "
                          + code], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    version, loaded, where = out.stdout.split()
    assert version[0].isdigit()
    assert loaded == "True"
    assert where.startswith(str(tmp_path / "site"))
