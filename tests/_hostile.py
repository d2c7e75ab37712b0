"""Hostile jaxpat plugins as real distributions: source trees written here, installed with pip into a folder.

Each plugin is a package ``jaxpat_hostile_NAME`` of a distribution
``jaxpat-hostile-NAME`` with an entry point ``NAME`` in group ``jaxpat``
(two distributions, ``...-dup-a`` and ``...-dup-b``, both take the entry point
``dup``). :func:`install` writes them all and installs them with
``pip install --no-deps --target DIR`` (from wheels written here); putting ``DIR``
on ``PYTHONPATH`` makes them installed distributions for any process
(``importlib.metadata`` finds their ``.dist-info`` and entry points).

What each does is in :data:`PLUGINS` (``kind`` says when it misbehaves).
They implement ``scan-cumsum`` (``xs``) and ``prng-key-from-seed``
(``seed``) of the shipped catalog, so a run over those two patterns
compares them with the reference implementations.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CHEATERS", "GOOD", "PLUGINS", "Plugin", "install"]

_HEAD = """\
from pathlib import Path

from jaxpat.patterns import Implementation, hookimpl
"""

_CUMSUM_OK = """
def cumsum(xs):
    import jax.numpy as jnp

    return jnp.cumsum(xs, axis=0)
"""

_CUMSUM_WRONG = """
def cumsum(xs):
    import jax.numpy as jnp

    return jnp.cumsum(xs, axis=0) + 1
"""


def _impls(*pairs: tuple[str, str]) -> str:
    body = ", ".join(f'Implementation("{pattern}", "{name}", {fn})' for pattern, name, fn in
                     [(p, n, n) for p, n in pairs])
    return f"""
@hookimpl
def jaxpat_implementations():
    return [{body}]
"""


def _catalog_hook(yaml_name: str) -> str:
    return f"""
@hookimpl
def jaxpat_catalog_files():
    return [Path(__file__).with_name("{yaml_name}").resolve()]
"""


@dataclass(frozen=True)
class Plugin:
    """One hostile distribution: entry-point name, what it does, its module source, extra package files."""

    name: str
    kind: str  # "import", "hook", "catalog", "item" or "good"
    does: str
    source: str
    files: tuple[tuple[str, str], ...] = ()
    dist: str = ""

    @property
    def distribution(self) -> str:
        return self.dist or f"jaxpat-hostile-{self.name.replace('_', '-')}"

    @property
    def module(self) -> str:
        return self.distribution.replace("-", "_")


_BROKEN_YAML = "version: 1\npatterns:\n  - id: hostile-broken\n    family: [unclosed\n"
_TAKEN_ID = textwrap.dedent("""\
    version: 1
    patterns:
      - id: scan-cumsum
        family: scan
        title: A pattern id that is already taken
        summary: Collides with the shipped scan-cumsum.
        source: {doc: hostile}
        signature: {args: [xs]}
        cases:
          - id: basic
            args: {xs: {$array: [1, 2], dtype: int32}}
            expect: {$array: [1, 3], dtype: int32}
            provenance: {kind: math}
""")

PLUGINS: tuple[Plugin, ...] = (
    # -- at import ------------------------------------------------------------------------------------
    Plugin("exit_import", "import", "raises SystemExit while being imported",
           "raise SystemExit(3)\n"),
    Plugin("ctrlc_import", "import", "raises KeyboardInterrupt while being imported",
           "raise KeyboardInterrupt\n"),
    Plugin("slow_import", "import", "takes 30 s to import",
           "import time\n\ntime.sleep(30)\n" + _HEAD + _CUMSUM_OK + _impls(("scan-cumsum", "cumsum"))),
    # -- catalog files --------------------------------------------------------------------------------
    Plugin("bad_yaml", "catalog", "ships a catalog file that is not valid YAML",
           _HEAD + _catalog_hook("patterns.yaml"), (("patterns.yaml", _BROKEN_YAML),)),
    Plugin("taken_id", "catalog", "ships a pattern whose id the shipped catalog declares",
           _HEAD + _catalog_hook("patterns.yaml"), (("patterns.yaml", _TAKEN_ID),)),
    # -- the same entry-point name from two distributions ---------------------------------------------
    Plugin("dup", "name", "takes the entry-point name of another distribution (and is wrong)",
           _HEAD + _CUMSUM_WRONG + _impls(("scan-cumsum", "cumsum")), dist="jaxpat-hostile-dup-a"),
    Plugin("dup", "name", "takes the entry-point name of another distribution (and is right)",
           _HEAD + _CUMSUM_OK + _impls(("scan-cumsum", "cumsum")), dist="jaxpat-hostile-dup-b"),
    # -- in a hook --------------------------------------------------------------------------------------
    Plugin("exit_hook", "hook", "raises SystemExit in jaxpat_implementations",
           _HEAD + "\n@hookimpl\ndef jaxpat_implementations():\n    raise SystemExit('bye')\n"),
    Plugin("x64_hook", "hook", "switches x64 on in jaxpat_implementations",
           _HEAD + _CUMSUM_OK + """
@hookimpl
def jaxpat_implementations():
    import jax

    jax.config.update("jax_enable_x64", True)
    return [Implementation("scan-cumsum", "cumsum", cumsum)]
"""),
    Plugin("patch_compare", "hook", "replaces jaxpat's comparison in jaxpat_implementations (and is wrong)",
           _HEAD + _CUMSUM_WRONG + """
@hookimpl
def jaxpat_implementations():
    from jaxpat.conformance import _compare, _execute

    _compare.compare = _execute.compare = lambda *args, **kwargs: []
    return [Implementation("scan-cumsum", "cumsum", cumsum)]
"""),
    # -- when an item runs ------------------------------------------------------------------------------
    Plugin("crasher", "item", "ends its process (os._exit) on every call",
           _HEAD + "import os\n\ndef cumsum(xs):\n    os._exit(3)\n" + _impls(("scan-cumsum", "cumsum"))),
    Plugin("hanger", "item", "never returns",
           _HEAD + "import time\n\ndef cumsum(xs):\n    time.sleep(10**6)\n" + _impls(("scan-cumsum", "cumsum"))),
    Plugin("ctrlc_impl", "item", "raises KeyboardInterrupt when called",
           _HEAD + "def cumsum(xs):\n    raise KeyboardInterrupt\n" + _impls(("scan-cumsum", "cumsum"))),
    Plugin("exit_impl", "item", "calls sys.exit() when called",
           _HEAD + "import sys\n\ndef cumsum(xs):\n    sys.exit(1)\n" + _impls(("scan-cumsum", "cumsum"))),
    Plugin("seed_offset", "item", "changes jax_random_seed_offset when called",
           _HEAD + """
def key(seed):
    import jax

    jax.config.update("jax_random_seed_offset", 7)
    return jax.random.PRNGKey(seed)
""" + _impls(("prng-key-from-seed", "key"))),
    Plugin("flood", "item", "prints 2 MB per call (and is wrong)",
           _HEAD + """
def cumsum(xs):
    import jax.numpy as jnp

    print("flood " * 350_000)
    return jnp.cumsum(xs, axis=0) + 1
""" + _impls(("scan-cumsum", "cumsum"))),
    Plugin("patch_at_call", "item", "rebinds numpy.allclose and jaxpat's comparison while called (and is wrong)",
           _HEAD + """
def cumsum(xs):
    import jax.numpy as jnp
    import numpy
    from jaxpat.conformance import _compare, _execute

    numpy.allclose = lambda *a, **k: True
    _compare.compare = _execute.compare = lambda *args, **kwargs: []
    return jnp.cumsum(xs, axis=0) + 1
""" + _impls(("scan-cumsum", "cumsum"))),
)

#: Plugins written to cheat rather than to break (issue: clean-room verdicts). Each would decide verdicts if its
#: code ran where they are decided; in an executor of its own it can only fail its own items, or be refused.
CHEATERS: tuple[Plugin, ...] = (
    Plugin("swap_code", "item", "swaps the code object of jaxpat's compare at import (and is wrong)",
           _HEAD + _CUMSUM_WRONG + """
from jaxpat.conformance import _compare

_compare.compare.__code__ = (lambda *args, **kwargs: []).__code__
""" + _impls(("scan-cumsum", "cumsum"))),
    Plugin("fake_module", "item", "puts a fake jaxpat.conformance._execute into sys.modules (and is wrong)",
           _HEAD + _CUMSUM_WRONG + """
import sys
import types

fake = types.ModuleType("jaxpat.conformance._execute")
fake.run_item = lambda *args, **kwargs: {}
fake.observe_case = lambda *args, **kwargs: {"result": {"t": "none"}}
sys.modules["jaxpat.conformance._execute"] = fake
""" + _impls(("scan-cumsum", "cumsum"))),
    Plugin("gc_launder", "item",
           "finds pytest's Config through gc and registers a hook that turns failures into passes",
           _HEAD + _CUMSUM_WRONG + """
import gc


class _Launder:
    def pytest_runtest_logreport(self, report):
        report.outcome = "passed"
        report.longrepr = None


def _launder():
    for obj in gc.get_objects():
        if type(obj).__name__ == "Config" and hasattr(obj, "pluginmanager"):
            try:
                obj.pluginmanager.register(_Launder(), "launder")
            except Exception:
                pass


@hookimpl
def jaxpat_implementations():
    _launder()
    return [Implementation("scan-cumsum", "cumsum", cumsum)]
"""),
    Plugin("rewrite_case", "item", "rewrites the expected values and tolerances of every Case in reach (and is wrong)",
           _HEAD + _CUMSUM_WRONG + """
import gc


def _rewrite():
    from jaxpat.catalog import ArrayValue, Case, Tolerance

    for obj in gc.get_objects():
        if isinstance(obj, Case) and isinstance(obj.expect, ArrayValue) and obj.expect.dtype.startswith("int"):
            data = tuple(v + 1 for v in obj.expect.data)
            object.__setattr__(obj, "expect", ArrayValue(obj.expect.dtype, obj.expect.shape, data))
        elif isinstance(obj, Tolerance):
            for name in ("rtol", "atol"):
                if hasattr(obj, name):
                    try:
                        object.__setattr__(obj, name, 1.0)
                    except Exception:
                        pass


def cumsum_after(xs):
    _rewrite()
    return cumsum(xs)


@hookimpl
def jaxpat_implementations():
    _rewrite()
    return [Implementation("scan-cumsum", "cumsum", cumsum_after)]
"""),
    Plugin("object_eq", "item", "returns a 0-d object array whose __eq__ is always true",
           _HEAD + """
import numpy


class _Yes:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__


def cumsum(xs):
    out = numpy.empty((), dtype=object)
    out[()] = _Yes()
    return out
""" + _impls(("scan-cumsum", "cumsum"))),
    Plugin("x64_thread", "item", "toggles jax_enable_x64 from a background thread started at import",
           _HEAD + _CUMSUM_OK + """
import threading
import time


def _toggle():
    import jax

    while True:
        time.sleep(0.01)
        jax.config.update("jax_enable_x64", not jax.config.jax_enable_x64)


threading.Thread(target=_toggle, daemon=True).start()
""" + _impls(("scan-cumsum", "cumsum"))),
    Plugin("exit0_import", "import", "ends its process with os._exit(0) while being imported",
           "import os\n\nos._exit(0)\n"),
    Plugin("exit0_hook", "hook", "ends its process with os._exit(0) in jaxpat_implementations",
           _HEAD + "import os\n\n@hookimpl\ndef jaxpat_implementations():\n    os._exit(0)\n"),
    Plugin("exit0_impl", "item", "ends its process with os._exit(0) when called",
           _HEAD + "import os\n\ndef cumsum(xs):\n    os._exit(0)\n" + _impls(("scan-cumsum", "cumsum"))),
    Plugin("poison_cache", "item", "rewrites the parse cache entry of the shipped catalog (and is right)",
           _HEAD + _CUMSUM_OK + """
def _poison():
    from jaxpat.catalog._parse_cache import cache_dir

    d = cache_dir()
    if d is None or not d.is_dir():
        return
    import hashlib
    import json

    for entry in d.glob("*.json"):
        blob = entry.read_bytes()
        head, _, body = blob.partition(b"\\n")
        if b'"seed-arange-five"' in body and b'"$array":[0,1,3,6,10]' in body:
            body = body.replace(b'"$array":[0,1,3,6,10]', b'"$array":[0,1,3,6,11]')
            header = json.loads(head)
            header["sha256"] = hashlib.sha256(body).hexdigest()  # a valid entry, with other content
            entry.write_bytes(json.dumps(header).encode() + b"\\n" + body)


@hookimpl
def jaxpat_implementations():
    _poison()
    return [Implementation("scan-cumsum", "cumsum", cumsum)]
"""),
    Plugin("gil_import", "import", "holds the GIL in C code (a catastrophic regex) while being imported",
           "import re\n\nre.match(r'(a+)+$', 'a' * 30 + 'b')\n" + _HEAD + _CUMSUM_OK
           + _impls(("scan-cumsum", "cumsum"))),
    Plugin("referenc\u0435", "name", "takes a name that looks like 'reference' (Cyrillic e) and is wrong",
           _HEAD + _CUMSUM_WRONG + _impls(("scan-cumsum", "cumsum")), dist="jaxpat-hostile-cyrillic"),
    Plugin("x]-lax_scan", "name", "takes an entry-point name with ']' and '-' (and is wrong)",
           _HEAD + _CUMSUM_WRONG + _impls(("scan-cumsum", "cumsum")), dist="jaxpat-hostile-brackets"),
    Plugin("ansi", "item", "puts terminal escapes in its exception messages",
           _HEAD + """
def cumsum(xs):
    raise ValueError("\\x1b[2J\\x1b[H\\x1b]0;all green\\x07\\x1b[32m ALL PASSED \\x1b[0m")
""" + _impls(("scan-cumsum", "cumsum"))),
)

#: A well-behaved third-party plugin, installed in both runs of the comparison.
GOOD = Plugin("goodtp", "good", "a correct cumsum", _HEAD + _CUMSUM_OK + _impls(("scan-cumsum", "cumsum")),
              dist="jaxpat-good-thirdparty")


def _wheel(plugin: Plugin, out: Path) -> Path:
    """A wheel of ``plugin`` (pure Python), written directly: building 18 projects with setuptools takes minutes."""
    dist = plugin.module
    info = f"{dist}-0.1.0.dist-info"
    files = {f"{plugin.module}/__init__.py": plugin.source}
    files.update({f"{plugin.module}/{name}": text for name, text in plugin.files})
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {plugin.distribution}\nVersion: 0.1.0\n"
    files[f"{info}/WHEEL"] = "Wheel-Version: 1.0\nGenerator: jaxpat-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/entry_points.txt"] = f"[jaxpat]\n{plugin.name} = {plugin.module}\n"
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    path = out / f"{dist}-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


def install(plugins: tuple[Plugin, ...] | list[Plugin], root: Path, target: Path) -> Path:
    """Make a wheel of each of ``plugins`` under ``root`` and install them into ``target`` (one pip call)."""
    root.mkdir(parents=True, exist_ok=True)
    wheels = [str(_wheel(p, root)) for p in plugins]
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--no-compile",
         "--disable-pip-version-check", "--target", str(target), *wheels],
        check=True, capture_output=True, text=True,
    )
    return target
