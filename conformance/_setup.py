"""Set-up shared by the judge and the executors: what needs neither pytest nor JAX nor a plugin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jaxpat._util import cache_root
from jaxpat.patterns import hookimpl

__all__ = ["GUARDED_CONFIG", "DeviceNaming", "ExtraCatalog", "catalog_with_files", "default_cache_dir", "jsonable"]

#: JAX config flags the report's environment records (every flag is compared around each item by the executor).
GUARDED_CONFIG = (
    "jax_enable_x64", "jax_default_prng_impl", "jax_threefry_partitionable", "jax_numpy_rank_promotion",
    "jax_numpy_dtype_promotion", "jax_default_matmul_precision", "jax_disable_jit", "jax_debug_nans",
)


def default_cache_dir() -> Path:
    """The per-user persistent compilation cache: ``xla`` in :func:`jaxpat._util.cache_root`.

    ``$JAXPAT_CACHE_DIR/xla`` when that is set, else ``$XDG_CACHE_HOME/jaxpat/xla``,
    else ``~/.cache/jaxpat/xla`` (beside the catalog parse cache's ``catalog`` folder).
    """
    return cache_root() / "xla"


def jsonable(x: Any) -> Any:
    """Plain JSON values: config enums subclass str but cannot cross a process boundary as themselves."""
    if x is None or type(x) in (str, int, float, bool):
        return x
    return str(getattr(x, "value", x))


class ExtraCatalog:
    """An in-process plugin contributing ``--jaxpat-catalog`` files (YAML only: no code of anyone's)."""

    def __init__(self, files: list[str]) -> None:
        self.files = files

    @hookimpl
    def jaxpat_catalog_files(self) -> list[str]:
        return list(self.files)


#: This process's in-memory catalog parses (``catalog.load``'s ``parsed``), the executor's: empty in a fresh
#: interpreter; in a fork of the fork server, the shipped catalog that the server parsed before its first
#: executor's fork (plugin-free, from the same bytes: a changed byte is a miss, parsed again).
PARSED: dict[Any, Any] = {}


def catalog_with_files(paths: list[str], *, trust_cache: bool = True,
                       parsed: dict[Any, Any] | None = None) -> tuple[Any, list[tuple[str, str]]]:
    """The shipped catalog plus the ``--jaxpat-catalog`` files that are valid, and ``(label, message)`` for
    each file left out (its problems, naming file, line and field). The judge passes ``trust_cache=False``:
    it parses every file itself (a plugin can write the parse cache), each once per process (``parsed``: the
    in-memory parses of ``catalog.load``, keyed by the bytes' sha256)."""
    from jaxpat.catalog import CatalogError, load

    ok: list[tuple[str, Path]] = []
    problems: list[tuple[str, str]] = []
    catalog = load(use_cache=trust_cache, parsed=parsed)
    for p in paths:
        origin = f"catalog:{Path(p).name}"
        try:
            catalog = load(extra=[*ok, (origin, Path(p).resolve())], use_cache=trust_cache, parsed=parsed)
        except CatalogError as exc:
            problems.append((origin, f"catalog file {p} (--jaxpat-catalog) is invalid:\n{exc}"))
            continue
        ok.append((origin, Path(p).resolve()))
    return catalog, problems


class DeviceNaming:
    """How an item names its devices: the executor's ``ItemSpec`` (JAX devices) and the judge's ``JudgeSpec``
    (devices the probe described) alike. Needs ``device``, ``devices`` and ``case`` attributes."""

    device: Any
    devices: tuple
    case: Any

    @property
    def device_set(self) -> tuple:
        """The devices the item runs on, in order: index i is device i of ``$devices``, ``$mesh`` and ``shards``."""
        return self.devices or (self.device,)

    @property
    def device_id(self) -> str:
        """``cpu:3`` for one device; ``cpu:0..7`` (device *indices*, stable across hosts) for a device set."""
        if self.case.devices > 1:
            return f"{self.device.platform}:0..{self.case.devices - 1}"
        return f"{self.device.platform}:{self.device.id}"
