"""A failure's reproduction script runs as printed, outside pytest."""

from __future__ import annotations

import subprocess
import sys

import pytest

jax = pytest.importorskip("jax")

from jaxpat.conformance._execute import ItemSpec, repro  # noqa: E402
from jaxpat.patterns import load_registry  # noqa: E402


@pytest.mark.parametrize("transform", ["eager", "jit"])
def test_repro_script_runs(transform: str, tmp_path) -> None:
    """The script imports what it uses under the jaxpat package and prints the implementation's result."""
    registry = load_registry()
    pattern = registry.catalog.get("scan-cumsum")
    case = next(c for c in pattern.cases if transform in c.transforms)
    impl = registry.implementations(pattern.id)[0]
    script = repro(ItemSpec(pattern, case, impl, jax.devices("cpu")[0], transform))
    # from an unrelated folder: the repository's top-level folders must not stand in for the package
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
