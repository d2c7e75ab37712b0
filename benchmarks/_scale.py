"""Synthetic catalogs for figure 6: the shipped catalog replicated k times, and how a run loads them.

Every shipped pattern is copied ``k`` times with its id suffixed ``-r{i}``
(same cases, values and claims). The copies are written as text (the shipped
file's pattern list repeated, with the pattern ids rewritten), at most
:func:`replicas_per_file` copies per file because one catalog file is
limited to 200,000 YAML nodes (the shipped one had about 11,300 on 2026-11-22,
20,000 on 2026-12-07). Each
file is passed with ``--jaxpat-catalog``; :mod:`benchmarks._replicas`
implements the copies with the reference functions, loaded with
``--jaxpat-load`` through a one-line shim module named ``replica`` (so the
implementation ids read ``replica.lax_scan``).
"""

from __future__ import annotations

import functools
import random
import re
from pathlib import Path

from . import _harness

#: A catalog file's YAML node limit (catalog/_yaml.py), less a margin for the file's head.
MAX_NODES_PER_FILE = 180_000
#: The shim module registered with ``--jaxpat-load``; its name is the plugin's name.
PLUGIN_MODULE = "replica"

_PATTERN_ID = re.compile(r"^  - id: (\S+)[ \t]*$", re.MULTILINE)
#: A deviation's ``implementation: reference.NAME``: the copies' implementations are ``replica.NAME``.
_REFERENCE_IMPL = re.compile(r"(\bimplementation: *)reference\.")


def shipped_text() -> str:
    from jaxpat.catalog import _loader

    return _loader.SHIPPED.read_text(encoding="utf-8")


def shipped_ids() -> list[str]:
    """The shipped pattern ids, in catalog order (read from the text: no YAML parse, no JAX)."""
    return _PATTERN_ID.findall(_split(shipped_text())[1])


def _split(text: str) -> tuple[str, str]:
    head, sep, body = text.partition("\npatterns:\n")
    if not sep or re.search(r"^\S", body, re.MULTILINE):
        raise RuntimeError("the shipped catalog no longer ends with its `patterns:` list; update benchmarks/_scale.py")
    return head + sep, body


@functools.cache
def replicas_per_file() -> int:
    """Copies of the shipped catalog that fit in one catalog file (its YAML nodes, counted with PyYAML)."""
    import yaml

    def count(node: yaml.Node) -> int:
        if isinstance(node, yaml.MappingNode):
            return 1 + sum(count(k) + count(v) for k, v in node.value)
        if isinstance(node, yaml.SequenceNode):
            return 1 + sum(count(v) for v in node.value)
        return 1

    nodes = count(yaml.compose(shipped_text(), Loader=yaml.SafeLoader))
    return max(1, MAX_NODES_PER_FILE // nodes)


def write_catalogs(directory: Path, k: int) -> list[Path]:
    """Write the ``k``-fold catalog into ``directory``; return its files in order."""
    head, body = _split(shipped_text())
    n = len(_PATTERN_ID.findall(body))
    files = []
    per_file = replicas_per_file()
    for start in range(0, k, per_file):
        parts = [head]
        for r in range(start, min(k, start + per_file)):
            copy, count = _PATTERN_ID.subn(lambda m, r=r: f"  - id: {m.group(1)}-r{r}", body)
            assert count == n
            # deviations name the reference implementations, which the copies run as `replica.NAME`
            copy = _REFERENCE_IMPL.sub(rf"\g<1>{PLUGIN_MODULE}.", copy)
            parts.append(copy)
        path = directory / f"replicas-x{k}-{start // per_file:03d}.yaml"
        path.write_text("".join(parts), encoding="utf-8")
        files.append(path)
    (directory / f"{PLUGIN_MODULE}.py").write_text(
        '"""Shim: the jaxpat plugin benchmarks._replicas under the plugin name `replica`."""\n'
        "from benchmarks._replicas import jaxpat_implementations  # noqa: F401\n",
        encoding="utf-8",
    )
    return files


def environ(directory: Path, k: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Only the copies run: reference and example blocked, entry points off, the shim importable."""
    return _harness.env({
        "JAXPAT_BLOCK_PLUGINS": "reference,example",
        "JAXPAT_DISABLE_PLUGIN_AUTOLOAD": "1",
        "JAXPAT_BENCH_REPLICAS": str(k),
        **(extra or {}),
    }, pythonpath=(directory, _harness.REPO))


def sample_patterns(n: int, seed: int = 2024) -> list[str]:
    """A fixed random sample of ``n`` shipped pattern ids (the same on every run and machine)."""
    ids = shipped_ids()
    return sorted(random.Random(seed).sample(ids, min(n, len(ids))))


def sample_replicas(k: int, n: int, seed: int = 2024) -> list[int]:
    """Replica 0 (warmed up) and ``n - 1`` fixed random others among ``1..k-1``."""
    others = sorted(random.Random(seed).sample(range(1, k), min(n - 1, k - 1))) if k > 1 else []
    return [0, *others]


def is_replica(nodeid: str, r: int) -> bool:
    """Whether ``nodeid`` is an item of replica ``r`` (``jaxpat::ID-rR::case[...]``)."""
    return f"-r{r}::" in nodeid
