"""The example plugin's own tests: what a plugin author writes for theirs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jaxpat_example_plugin
import numpy as np

from jaxpat.patterns.testing import check_plugin


def test_plugin_registers() -> None:
    """The plugin passes every registration rule under its entry-point name."""
    registry = check_plugin(jaxpat_example_plugin, name="example")
    assert sorted((i.pattern, i.id) for i in registry.implementations()) == [
        ("associative-scan-cumsum", "example.associative_scan"),
        ("scan-cumsum", "example.triangular_matmul"),
    ]
    assert "associative-scan-cumsum" in registry.catalog


def test_entry_module_does_not_import_jax() -> None:
    """Finding the catalog file must not import JAX (catalog.load() does it)."""
    code = (
        "import sys, jaxpat_example_plugin as p\n"
        "assert p.jaxpat_catalog_files()[0].is_file()\n"
        "assert 'jax' not in sys.modules\n"
    )
    # Wherever this copy of the plugin is, the child imports the same one.
    where = str(Path(jaxpat_example_plugin.__file__).parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([where, os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_implementations_match_numpy() -> None:
    """Both implementations agree with np.cumsum along axis 0."""
    from jaxpat_example_plugin._implementations import IMPLEMENTATIONS

    xs = np.arange(12, dtype=np.int32).reshape(6, 2)
    for impl in IMPLEMENTATIONS:
        np.testing.assert_array_equal(np.asarray(impl.fn(xs)), np.cumsum(xs, axis=0))
