"""The example plugin, pip-installed for real: found through its entry point, gone when uninstalled.

The example is installed with ``pip install --target DIR`` (its dist-info
carries the entry point) and child processes see it through ``PYTHONPATH``;
without that path they are the "uninstalled" state.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

import pytest

from jaxpat.patterns.testing import check_plugin

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "jaxpat-example-plugin"

# What a child process reports about the default registry and the catalog.
PROBE = """
import json, sys
from jaxpat import catalog
pure = catalog.load()
plugin_module_after_pure = 'jaxpat_example_plugin' in sys.modules
from jaxpat.patterns import load_catalog, load_registry
loaded = load_catalog()
ids = loaded.ids()
jax_after_catalog = 'jax' in sys.modules
registry = load_registry()
print(json.dumps({
    "catalog": ids,
    "pure_catalog": pure.ids(),
    "plugin_module_after_pure": plugin_module_after_pure,
    "origin": loaded.get("associative-scan-cumsum").origin if "associative-scan-cumsum" in loaded else None,
    "same_catalog": [registry.catalog.patterns == loaded.patterns, registry.catalog.files == loaded.files,
                     registry.catalog.digest == loaded.digest],
    "jax_after_catalog": jax_after_catalog,
    "plugins": [[p.name, p.distribution, p.version, p.n_patterns] for p in registry.plugins()],
    "implementations": [[i.pattern, i.id] for i in registry.implementations()],
    "errors": [str(e) for e in registry.errors],
}))
"""

# `jaxpat plugins --format json`, through the jaxpat command's own entry function.
CLI = "import sys; from jaxpat._cli import main; sys.exit(main(['plugins', '--format', 'json']))"


def _can_build_offline() -> bool:
    """True when this environment can build the example without fetching a build backend."""
    if importlib.util.find_spec("wheel") is not None:
        return True
    try:
        from importlib.metadata import version

        major, minor = (int(p) for p in version("setuptools").split(".")[:2])
    except Exception:
        return False
    return (major, minor) >= (70, 1)  # setuptools ships bdist_wheel itself from 70.1 on


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the pip-installed example plugin (package and dist-info)."""
    root = tmp_path_factory.mktemp("example")
    # Build from a copy: setuptools writes build/ and *.egg-info next to the sources.
    source = shutil.copytree(EXAMPLE, root / "src", ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = root / "site"
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(source)]
    if _can_build_offline():
        command.insert(4, "--no-build-isolation")
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=_env())
    assert result.returncode == 0, f"pip install failed:\n{result.stdout}\n{result.stderr}"
    return target


def _env(site: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAXPAT_") or k == "JAXPAT_CACHE_DIR"}
    env.pop("PYTHONPATH", None)
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return env


def _run(code: str, site: Path | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=_env(site))


def _probe(site: Path | None) -> dict[str, Any]:
    result = _run(PROBE, site)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_installed_plugin_is_registered(site: Path) -> None:
    """Installed, the plugin's pattern is in load_catalog() and its implementations in the registry;
    catalog.load() (the pure catalog) neither imports the plugin nor holds its pattern."""
    seen = _probe(site)
    assert "associative-scan-cumsum" in seen["catalog"]
    assert seen["origin"] == "example"
    assert "associative-scan-cumsum" not in seen["pure_catalog"]
    assert seen["plugin_module_after_pure"] is False
    assert seen["same_catalog"] == [True, True, True]  # the registry's catalog is load_catalog()'s
    assert seen["jax_after_catalog"] is False
    assert ["example", "jaxpat-example-plugin", "0.1.0", 1] in seen["plugins"]
    names = [p[0] for p in seen["plugins"]]
    assert names[-1] == "example"  # entry points register after the built-in reference plugin
    assert ["associative-scan-cumsum", "example.associative_scan"] in seen["implementations"]
    assert ["scan-cumsum", "example.triangular_matmul"] in seen["implementations"]
    assert not [e for e in seen["errors"] if "'example'" in e]


def test_jaxpat_plugins_lists_it(site: Path) -> None:
    """`jaxpat plugins --format json` shows the plugin with its distribution and version."""
    result = _run(CLI, site)
    data = json.loads(result.stdout)
    assert result.returncode == (1 if data["errors"] else 0), result.stderr
    [info] = [p for p in data["plugins"] if p["name"] == "example"]
    assert (info["distribution"], info["version"], info["module"]) == (
        "jaxpat-example-plugin", "0.1.0", "jaxpat_example_plugin",
    )
    assert (info["implementations"], info["patterns"]) == (2, 1)
    assert "example.associative_scan" in data["implementations"]["associative-scan-cumsum"]


def _installed_here() -> bool:
    try:
        distribution("jaxpat-example-plugin")
    except PackageNotFoundError:
        return False
    return True


@pytest.mark.skipif(_installed_here(), reason="jaxpat-example-plugin is installed in this environment itself")
def test_uninstalled_plugin_is_absent() -> None:
    """Without the install folder on the path, neither the pattern nor the plugin appears."""
    seen = _probe(None)
    assert "associative-scan-cumsum" not in seen["catalog"]
    assert "example" not in [p[0] for p in seen["plugins"]]


def test_blocked_plugin_is_absent(site: Path) -> None:
    """JAXPAT_BLOCK_PLUGINS=example hides an installed plugin."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=False,
        env={**_env(site), "JAXPAT_BLOCK_PLUGINS": "example"},
    )
    seen = json.loads(result.stdout)
    assert "associative-scan-cumsum" not in seen["catalog"]
    assert "example" not in [p[0] for p in seen["plugins"]]


def test_example_passes_check_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """The example's source tree passes the plugin author's helper, in-process."""
    monkeypatch.syspath_prepend(str(EXAMPLE))
    monkeypatch.delenv("JAXPAT_BLOCK_PLUGINS", raising=False)
    try:
        registry = check_plugin("jaxpat_example_plugin", name="example")
    finally:
        for name in [m for m in sys.modules if m.startswith("jaxpat_example_plugin")]:
            del sys.modules[name]
    assert sorted(i.id for i in registry.implementations()) == ["example.associative_scan", "example.triangular_matmul"]
    assert registry.catalog.get("associative-scan-cumsum").family == "scan"
