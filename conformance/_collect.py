"""Collection: one item per pattern × case × implementation × device × transform.

Node ids are ``jaxpat::PATTERN::CASE[PLUGIN.IMPL-PLATFORM:ID-TRANSFORM]``; the
order is the catalog's, so every xdist worker collects the same list.
"""

from __future__ import annotations

import fnmatch
import os
import platform as _platform
import socket
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from jaxpat.catalog import Pattern
from jaxpat.patterns import Implementation, hookimpl

from jaxpat._util import cache_root, dist_version, first_line

#: JAX config flags the report's environment records (every flag is guarded: see ``check_harness``).
GUARDED_CONFIG = (
    "jax_enable_x64", "jax_default_prng_impl", "jax_threefry_partitionable", "jax_numpy_rank_promotion",
    "jax_numpy_dtype_promotion", "jax_default_matmul_precision", "jax_disable_jit", "jax_debug_nans",
)

#: Process-wide: JAX's monitoring listeners cannot be removed, so the counter lives once per process.
_STATE: dict[str, Any] = {"compiles": 0, "listener": False}
_REGISTRY = pytest.StashKey[Any]()
_ENV = pytest.StashKey[dict]()
_ENV_SENT = pytest.StashKey[bool]()
_SETUP = pytest.StashKey[bool]()
_LOAD_ERRORS = pytest.StashKey[list]()
_HARNESS = pytest.StashKey[Any]()


# ---------------------------------------------------------------------------
# process set-up
# ---------------------------------------------------------------------------

def default_cache_dir() -> Path:
    """The per-user persistent compilation cache: ``xla`` in :func:`jaxpat._util.cache_root`.

    ``$JAXPAT_CACHE_DIR/xla`` when that is set, else ``$XDG_CACHE_HOME/jaxpat/xla``,
    else ``~/.cache/jaxpat/xla`` (beside the catalog parse cache's ``catalog`` folder).
    """
    return cache_root() / "xla"


def setup_jax(config: pytest.Config) -> None:
    """Configure JAX once per process: compilation cache and the compile counter."""
    if config.stash.get(_SETUP, False):
        return
    import jax
    import jax.monitoring

    if not config.getoption("jaxpat_no_cache"):
        cache = Path(config.getoption("jaxpat_cache_dir") or default_cache_dir())
        cache.mkdir(parents=True, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", str(cache))
        # Conformance programs are small and quick to compile; cache them all.
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)

    def on_event(event: str, duration_secs: float, **_: str | int) -> None:
        if event == "/jax/core/compile/backend_compile_duration":
            _STATE["compiles"] += 1

    if not _STATE["listener"]:
        jax.monitoring.register_event_duration_secs_listener(on_event)
        _STATE["listener"] = True
    config.stash[_SETUP] = True


def compile_count() -> int:
    """XLA compilations (cache hits included) seen in this process so far."""
    return int(_STATE["compiles"])


class _ExtraCatalog:
    """An in-process plugin contributing the ``--jaxpat-catalog`` files."""

    def __init__(self, files: list[str]) -> None:
        self.files = files

    @hookimpl
    def jaxpat_catalog_files(self) -> list[str]:
        return list(self.files)


def load_registry(config: pytest.Config) -> Any:
    """The plugin registry for this run (cached per process)."""
    if _REGISTRY not in config.stash:
        import importlib

        from jaxpat.patterns import load_registry as _load

        # The checking code is imported before any plugin runs, so the registry's guard (patterns/_guard.py)
        # sees it as jaxpat bound it and a plugin hook that rebinds it is caught and refused.
        from . import _compare, _execute  # noqa: F401

        extra: list[tuple[str, object]] = []
        failed: list[tuple[str, str]] = []
        for name in config.getoption("jaxpat_load"):
            try:
                extra.append((name, importlib.import_module(name)))
            except Exception:  # reported as a failing item; the other plugins still run
                failed.append((name, traceback.format_exc()))
        config.stash[_LOAD_ERRORS] = failed
        # One plugin per file, so that a malformed file fails alone and the others still load.
        for path in config.getoption("jaxpat_catalog"):
            extra.append((f"catalog:{Path(path).name}", _ExtraCatalog([os.path.abspath(path)])))
        config.stash[_REGISTRY] = _load(extra_plugins=extra)
    return config.stash[_REGISTRY]


def select_devices(config: pytest.Config) -> tuple[list[Any], dict[str, list[str]]]:
    """The devices to test, and the requested platforms that are absent (with what exists)."""
    import jax
    from jax.extend.backend import backends

    available = {name: jax.devices(name) for name in backends()}
    wanted = config.getoption("jaxpat_platforms")
    names = [p.strip() for p in wanted.split(",") if p.strip()] if wanted else sorted(available)
    existing = [f"{d.platform}:{d.id}" for devs in available.values() for d in devs]
    devices, absent = [], {}
    for name in names:
        devs = available.get(name)
        if devs is None:
            try:
                devs = jax.devices(name)  # aliases such as "cuda" for the "gpu" backend
            except RuntimeError:
                absent[name] = existing
                continue
        devices.extend(devs if config.getoption("jaxpat_all_devices") else devs[:1])
    return devices, absent


def environment(config: pytest.Config) -> dict[str, Any]:
    """What this process runs on: devices, JAX config, plugins, catalog digest."""
    if _ENV not in config.stash:
        import jax

        setup_jax(config)
        devices, _ = select_devices(config)
        from ._hosts import host_label

        env: dict[str, Any] = {
            "host": host_label(config),
            "hostname": socket.gethostname(),
            "python": _platform.python_version(),
            "executable": sys.executable,
            "os": f"{_platform.system()} {_platform.release()} ({_platform.machine()})",
            "jax": jax.__version__,
            "jaxlib": dist_version("jaxlib"),
            "jaxpat": dist_version("jaxpat"),
            "devices": [
                {"id": f"{d.platform}:{d.id}", "platform": d.platform, "kind": d.device_kind} for d in devices
            ],
            "platforms": sorted({d.platform for d in devices}),
            "default_backend": jax.default_backend(),
            "jax_config": {name: _jsonable(getattr(jax.config, name)) for name in GUARDED_CONFIG},
            "compilation_cache": None if config.getoption("jaxpat_no_cache")
            else str(config.getoption("jaxpat_cache_dir") or default_cache_dir()),
        }
        try:
            registry = load_registry(config)
            env["catalog_digest"] = registry.catalog.digest
            env["plugins"] = [
                {"name": p.name, "distribution": p.distribution, "version": p.version} for p in registry.plugins()
            ]
        except Exception as exc:  # the catalog error item reports it in full
            env["catalog_digest"] = None
            env["plugins"] = []
            env["registry_error"] = first_line(exc)
        config.stash[_ENV] = env
    return config.stash[_ENV]


def _jsonable(x: Any) -> Any:
    """Plain JSON/execnet-safe values: config enums subclass str but cannot cross to the controller."""
    if x is None or type(x) in (str, int, float, bool):
        return x
    return str(getattr(x, "value", x))


# ---------------------------------------------------------------------------
# collection
# ---------------------------------------------------------------------------

#: Makes more items under the root: ``(config, root, registry, devices) -> items`` (the claims' items).
ItemMaker = Callable[[pytest.Config, pytest.Collector, Any, list[Any]], list[pytest.Item]]


def collect_items(session: pytest.Session, extra: Sequence[ItemMaker] = ()) -> list[pytest.Item]:
    """Every jaxpat item: setup errors, the cases' items, then what each of ``extra`` makes.

    ``extra`` is how upper modules add items (``_session`` passes
    ``_claims.claim_items`` under ``--jaxpat-claims``) without this module
    importing them: ``_claims`` builds on ``PatternCollector`` from here.
    """
    config = session.config
    setup_jax(config)
    root = JaxpatRoot.from_parent(session, name="jaxpat", nodeid="jaxpat")
    from jaxpat.catalog import CatalogError

    try:
        registry = load_registry(config)
    except CatalogError as exc:
        return [ErrorItem.from_parent(root, name="catalog", message=f"the catalog is invalid:\n{exc}")]
    items: list[pytest.Item] = []
    for name, tb in config.stash.get(_LOAD_ERRORS, []):
        items.append(ErrorItem.from_parent(
            root, name=f"plugin[{name}]", message=f"plugin module {name!r} (--jaxpat-load) failed to import:\n{tb}"))
    names = [getattr(err, "plugin", None) or "unknown" for err in registry.errors]
    for err, name in zip(registry.errors, names, strict=True):
        # two distributions refused for one name get an item each (node ids are unique)
        dist = str(getattr(err, "distribution", "") or "")
        label = f"{name}:{dist}" if names.count(name) > 1 and dist else name
        items.append(ErrorItem.from_parent(root, name=f"plugin[{label}]", message=str(getattr(err, "message", err))))
    _take_harness_baseline(config)
    devices, absent = select_devices(config)
    for platform, existing in absent.items():
        reason = f"platform {platform!r} was requested but is absent; devices here: {', '.join(existing)}"
        if config.getoption("jaxpat_strict_platforms"):
            items.append(ErrorItem.from_parent(root, name=f"platform[{platform}]", message=reason))
        else:
            items.append(SkipItem.from_parent(root, name=f"platform[{platform}]", reason=reason))
    items.extend(_pattern_items(config, root, registry, devices))
    for make in extra:
        items.extend(make(config, root, registry, devices))
    # Items made here bypass pytest's collection reports; announce them so that the
    # terminal's count ("collected N items", --collect-only) includes them.
    session.ihook.pytest_collectreport(report=pytest.CollectReport(root.nodeid, "passed", None, list(items)))
    return items


def _matches(value: str, globs: list[str]) -> bool:
    return not globs or any(fnmatch.fnmatchcase(value, g) for g in globs)


def pattern_collectors(
    config: pytest.Config, root: pytest.Collector, registry: Any, *, keep: Callable[[Any], bool] = lambda p: True,
) -> Iterator[tuple[PatternCollector, Any, list[Any]]]:
    """``(collector, pattern, implementations)`` for each pattern that ``keep`` accepts and
    ``--jaxpat-pattern`` selects, with the implementations ``--jaxpat-impl`` selects (none: skipped)."""
    for pattern in registry.catalog:
        if not keep(pattern) or not _matches(pattern.id, config.getoption("jaxpat_pattern")):
            continue
        impls = [i for i in registry.implementations(pattern.id) if _matches(i.id, config.getoption("jaxpat_impl"))]
        if not impls:
            continue
        col = PatternCollector.from_parent(root, name=pattern.id, pattern=pattern)
        # markers on the collector apply to all its items, at a fraction of per-item add_marker's cost
        col.add_marker(f"jaxpat_{pattern.family.replace('-', '_')}")
        yield col, pattern, impls


def _pattern_items(
    config: pytest.Config, root: pytest.Collector, registry: Any, devices: list[Any],
) -> list[pytest.Item]:

    from ._execute import ItemSpec

    transforms = config.getoption("jaxpat_transform")
    out: list[pytest.Item] = []
    for col, pattern, impls in pattern_collectors(config, root, registry):
        for case in pattern.cases:
            if case.processes:  # runs across processes: _multiprocess.distributed_items
                continue
            for impl in impls:
                if case.devices > 1:
                    out.extend(_device_set_items(config, col, pattern, case, impl, devices, transforms))
                    continue
                for device in devices:
                    for transform in case.transforms:
                        if transforms and transform not in transforms:
                            continue
                        spec = ItemSpec(pattern, case, impl, device, transform)
                        item = JaxpatItem.from_parent(
                            col, name=f"{case.id}[{impl.id}-{spec.device_id}-{transform}]", spec=spec,
                        )
                        _mark_deviations(item, spec)
                        out.append(item)
                if len(devices) > 1:
                    out.extend(_agreement_items(col, pattern, case, impl, devices, transforms))
    return out


def _mark_deviations(item: pytest.Item, spec: Any) -> None:
    import jax

    for dev in spec.pattern.deviations:
        # `platform: cuda` / `rocm` match that kind of GPU only; `gpu` matches both
        platform = spec.platform if dev.when.platform in ("cuda", "rocm") else spec.device.platform
        if dev.matches(platform=platform, jax=jax.__version__, implementation=spec.impl.id,
                       transform=spec.transform, case=spec.case.id, device=spec.device_id):
            item.add_marker(pytest.mark.xfail(strict=True, reason=f"known deviation: {dev.reason}"))


def _device_set_items(config: pytest.Config, col: pytest.Collector, pattern: Pattern, case: Any,
                      impl: Implementation, devices: list[Any], transforms: list[str]) -> list[pytest.Item]:
    """Items of a case that needs N > 1 devices: one per platform and transform, on the platform's first N devices.

    They run whether or not ``--all-devices`` is given (that option fans single-device
    items out); with fewer than N devices the items are skipped, saying what is needed.
    """
    import jax

    from ._execute import ItemSpec

    need = case.devices
    out: list[pytest.Item] = []
    for platform in dict.fromkeys(d.platform for d in devices):
        have = jax.devices(platform)
        chosen = tuple(have[:need])
        reason = None if len(have) >= need else skip_reason_for_devices(case.id, platform, need, have)
        for transform in case.transforms:
            if transforms and transform not in transforms:
                continue
            spec = ItemSpec(pattern, case, impl, chosen[0], transform, devices=chosen)
            item = JaxpatItem.from_parent(col, name=f"{case.id}[{impl.id}-{spec.device_id}-{transform}]", spec=spec)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))
            else:
                _mark_deviations(item, spec)
            out.append(item)
    return out


def skip_reason_for_devices(case_id: str, platform: str, need: int, have: list[Any]) -> str:
    """Why a case needing ``need`` devices cannot run here, and how to get them."""
    listed = ", ".join(f"{d.platform}:{d.id}" for d in have) or "none"
    how = (f"simulate them with `jaxpat check --cpu-devices {need}` (pytest: --jaxpat-cpu-devices {need})"
           if platform == "cpu" else
           f"run on a host with {need} {platform} devices, and give each worker all of them "
           f"(`jaxpat check -n 0`, or `--worker-devices {need}`; see docs/devices.md)")
    return f"case {case_id!r} needs {need} {platform} devices; this process sees {len(have)} ({listed}): {how}"


def _agreement_items(col: pytest.Collector, pattern: Pattern, case: Any, impl: Implementation,
                     devices: list[Any], transforms: list[str]) -> list[pytest.Item]:
    """One item per transform comparing every device's result with the first's (not for expected errors)."""
    from jaxpat.catalog import ExpectedError

    from ._execute import ItemSpec, expectation

    out: list[pytest.Item] = []
    for transform in case.transforms:
        if transforms and transform not in transforms:
            continue
        specs = [ItemSpec(pattern, case, impl, d, transform) for d in devices]
        if isinstance(expectation(specs[0]), ExpectedError):
            continue
        out.append(AgreementItem.from_parent(col, name=f"{case.id}[{impl.id}-devices-{transform}]", specs=specs))
    return out


class JaxpatRoot(pytest.Collector):
    """The parent of every jaxpat item; it is filled in by the plugin, not by walking files."""

    def collect(self) -> list[Any]:  # pragma: no cover - never walked
        return []


class PatternCollector(pytest.Collector):
    def __init__(self, *, pattern: Pattern, **kwargs: Any) -> None:
        loc = pattern.location
        if loc is not None and "path" not in kwargs:
            kwargs["path"] = Path(loc.file).resolve()
        super().__init__(**kwargs)
        self.pattern = pattern

    def collect(self) -> list[Any]:  # pragma: no cover - items are created directly
        return []


class JaxpatItem(pytest.Item):
    """One conformance check; its metadata travels in ``user_properties`` to the report."""

    def __init__(self, *, spec: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        impl: Implementation = spec.impl
        self.user_properties.append(("jaxpat", {
            "nodeid": self.nodeid,
            "kind": "case",
            "pattern": spec.pattern.id,
            "family": spec.pattern.family,
            "case": spec.case.id,
            "implementation": impl.id,
            "plugin": impl.plugin,
            "distribution": impl.distribution or None,
            "device": spec.device_id,
            "devices": [f"{d.platform}:{d.id}" for d in spec.device_set],
            "device_kind": spec.device.device_kind,
            "platform": spec.device.platform,
            "backend": spec.platform,
            "transform": spec.transform,
        }))

    def runtest(self) -> None:
        from jaxpat.patterns import Unavailable

        from ._execute import ConformanceFailure, release_pattern, repro, run_item

        release_pattern(self.spec.pattern.id)  # a new pattern: drop the last one's compiled programs (memory)
        facts: dict[str, Any] = {}
        if not self.config.stash.get(_ENV_SENT, False):
            self.user_properties.append(("jaxpat_env", environment(self.config)))
            self.config.stash[_ENV_SENT] = True
        before = compile_count()
        try:
            run_item(self.spec, facts)  # global damage is checked around this call (check_harness)
        except Unavailable as exc:
            pytest.skip(f"{self.spec.impl.id} is unavailable in this JAX: {exc}")
        except ConformanceFailure as exc:
            facts["message"] = str(exc)
            facts["repro"] = _repro(self.config, self.spec, repro, self.nodeid)
            raise
        finally:
            facts["compiles"] = compile_count() - before
            self.user_properties.append(("jaxpat_facts", facts))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        from ._execute import ConformanceFailure, repro

        exc = excinfo.value
        if not isinstance(exc, ConformanceFailure):
            return str(super().repr_failure(excinfo, style=style))
        spec = self.spec
        lines = [
            f"{spec.impl.id} does not conform to {spec.pattern.id} / case {spec.case.id!r} "
            f"under {spec.transform} on {spec.device_id}:",
            str(exc),
        ]
        cause = exc.__cause__
        if cause is not None and "unexpected exception" in str(exc):
            tb = traceback.format_exception(type(cause), cause, cause.__traceback__)
            lines += ["", "traceback (most recent call last, last frames):", *"".join(tb).splitlines()[-12:]]
        if spec.case.location:
            lines.append(f"case declared at {spec.case.location}")
        lines += ["", "reproduce (save as repro.py, run `python repro.py`):", _repro(self.config, spec, repro,
                                                                                     self.nodeid)]
        return "\n".join(lines)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        loc = self.spec.case.location
        return (self.path, (loc.line - 1) if loc else None, self.nodeid)


class AgreementItem(pytest.Item):
    """The same case on every selected device: results agree (bitwise for integers and keys)."""

    def __init__(self, *, specs: list[Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.specs = specs
        first = specs[0]
        self.user_properties.append(("jaxpat", {
            "nodeid": self.nodeid, "kind": "agreement", "pattern": first.pattern.id,
            "family": first.pattern.family, "case": first.case.id, "implementation": first.impl.id,
            "plugin": first.impl.plugin, "device": ",".join(s.device_id for s in specs),
            "platform": "+".join(sorted({s.device.platform for s in specs})), "transform": first.transform,
        }))

    def runtest(self) -> None:
        from ._execute import ConformanceFailure, run_agreement

        try:
            run_agreement(self.specs)
        except ConformanceFailure as exc:
            self.user_properties.append(("jaxpat_facts", {"message": str(exc)}))
            raise

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return str(excinfo.value)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return (self.path, None, self.nodeid)


class ErrorItem(pytest.Item):
    """Reports a problem found while collecting (invalid catalog, broken plugin) as a failure."""

    def __init__(self, *, message: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message
        self.user_properties.append(("jaxpat", {"nodeid": self.nodeid, "kind": "setup", "pattern": None}))

    def runtest(self) -> None:
        from ._execute import ConformanceFailure

        self.user_properties.append(("jaxpat_facts", {"message": self.message}))
        raise ConformanceFailure(self.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return self.message

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return (self.path, None, self.nodeid)


class SkipItem(pytest.Item):
    """A requested platform that is absent: skipped, with the devices that do exist."""

    def __init__(self, *, reason: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reason = reason
        self.user_properties.append(("jaxpat", {"nodeid": self.nodeid, "kind": "setup", "pattern": None}))

    def runtest(self) -> None:
        pytest.skip(self.reason)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return (self.path, None, self.nodeid)


def _repro(config: pytest.Config, spec: Any, make: Any, nodeid: str) -> str:
    """The item's reproduction, with this run's extra plugin modules and catalog files."""
    return str(make(spec, load=config.getoption("jaxpat_load"), catalog=config.getoption("jaxpat_catalog"),
                    nodeid=nodeid))


def _take_harness_baseline(config: pytest.Config) -> None:
    """Record the harness's own code (jaxpat, and what it checks with) once the plugins are loaded."""
    if _HARNESS in config.stash:
        return
    from jaxpat.patterns._guard import Harness

    from . import _compare, _execute  # noqa: F401 - the checking code must be in the baseline

    config.stash[_HARNESS] = Harness()


def snapshot_config() -> dict[str, Any]:
    """Every JAX config flag's value (``jax.config.values``), for :func:`check_harness`."""
    from jaxpat.patterns._guard import jax_config

    return jax_config() or {}


def check_harness(item: pytest.Item, before: dict[str, Any]) -> None:
    """After plugin code ran for ``item``: undo and report any global damage it did.

    Every JAX config flag is compared with ``before`` (not a hand-picked
    list), and jaxpat's own checking code -- and the NumPy, JAX and builtin
    callables it uses -- with the baseline taken after the plugins loaded.
    Anything changed is restored at once, so the items that follow run in
    the state they expect, and the item fails naming what its
    implementation changed.
    """
    from jaxpat.patterns._guard import config_changes, describe_config_changes, describe_replaced, restore_config

    from ._execute import ConformanceFailure

    problems = []
    changes = config_changes(before, snapshot_config())
    if changes:
        failed = restore_config(changes)
        problems.append(
            f"the implementation changed global JAX config: {_changes_from_to(changes)} (restored for the items "
            f"that follow{'' if not failed else '; not restorable: ' + describe_config_changes(changes, failed)}); "
            "use a case `config:` or `jax.config` context managers instead"
        )
    harness = item.config.stash.get(_HARNESS, None)
    if harness is not None:
        replaced, failed = harness.check()
        if replaced:
            problems.append(
                "the implementation replaced code jaxpat checks with (restored; this item's verdict cannot "
                f"be trusted):\n{describe_replaced(replaced, failed)}"
            )
    if problems:
        text = "\n".join(problems)
        # The damage is the headline of the item's record too, ahead of its own failure (if any).
        for name, value in reversed(item.user_properties):
            if name == "jaxpat_facts" and isinstance(value, dict):
                own = value.get("message")
                value["message"] = f"{text}\nbesides, the item's own check failed: {own}" if own else text
                break
        raise ConformanceFailure(text)


def _changes_from_to(changes: dict[str, tuple[Any, Any]]) -> str:
    return ", ".join(f"{n} from {a!r} to {b!r}" for n, (a, b) in sorted(changes.items()))
