"""The public Python entry point to one conformance check: :func:`run_case` (what repros call).

``jaxpat check`` runs thousands of these as pytest items; ``run_case`` runs
one, the same way, outside pytest: the case's inputs are built on the
device, the implementation runs under the transform, and the result is
compared with the catalog's expectation. A failure raises
:class:`ConformanceFailure` with the same message the report records.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from functools import cache
from typing import Any

from jaxpat._util import NoMatchError, did_you_mean

__all__ = ["run_case", "run_example"]

_TRANSFORMS = ("eager", "jit", "vmap", "grad")


@cache
def registry_for(load: tuple[str, ...], catalog: tuple[str, ...]) -> Any:
    """The registry with these extra plugin modules and catalog files (cached)."""
    from jaxpat.patterns import hookimpl, load_registry

    class _Files:
        def __init__(self, path: str) -> None:
            self.path = path

        @hookimpl
        def jaxpat_catalog_files(self) -> list[str]:
            return [self.path]

    extra: list[tuple[str, object]] = [(name, importlib.import_module(name)) for name in load]
    extra += [(f"catalog:{os.path.basename(p)}", _Files(os.path.abspath(p))) for p in catalog]
    return load_registry(extra_plugins=extra)


def _device(name: str | None) -> Any:
    import jax

    if name is None:
        return jax.devices()[0]
    platform, _, index = name.partition(":")
    try:
        devices = jax.devices(platform)
    except RuntimeError as exc:
        raise NoMatchError(f"no {platform!r} devices here: {exc}") from None
    for d in devices:
        if str(d.id) == (index or str(devices[0].id)):
            return d
    have = [f"{d.platform}:{d.id}" for d in devices]
    raise NoMatchError(f"no device {name!r}{did_you_mean(name, have)}; devices: {', '.join(have)}")


def _platform_devices(platform: str) -> list[Any]:
    import jax

    return list(jax.devices(platform))


def run_case(pattern: str, case: str, implementation: str, *, transform: str = "eager",
             device: str | None = None, load: Sequence[str] = (), catalog: Sequence[str] = ()) -> dict[str, Any]:
    """Check ``implementation`` (``PLUGIN.NAME``) on one case of ``pattern``, as ``jaxpat check`` does.

    ``transform`` is ``eager``, ``jit``, ``vmap`` or ``grad``; ``device`` is
    ``PLATFORM:ID`` such as ``cpu:0`` (default: JAX's first device); a case
    that declares ``devices: N`` runs on the platform's first N devices
    (``cpu:0..7``; too few is a ``NoMatchError`` saying how to get them). ``load``
    names modules whose jaxpat plugin to register as well and ``catalog``
    extra catalog files, like ``jaxpat check --load/--catalog``.

    Returns the facts the check records (``check_grads`` modes for ``grad``).
    Raises :class:`jaxpat.conformance.ConformanceFailure` when the
    implementation does not conform, and :class:`jaxpat.catalog.NoMatchError` (a
    ``KeyError``, with a did-you-mean) for an unknown pattern, case,
    implementation, transform or device. The script of a failure's
    reproduction (``repro`` in the report) is one call of this function.
    """
    from ._execute import ConformanceFailure, ItemSpec, run_item, snapshot_config, undo_config_changes

    if transform not in _TRANSFORMS:
        raise NoMatchError(f"unknown transform {transform!r}{did_you_mean(transform, _TRANSFORMS)}; "
                           f"known: {', '.join(_TRANSFORMS)}")
    registry = registry_for(tuple(load), tuple(catalog))
    try:
        pat = registry.catalog.get(pattern)
        the_case = pat.case(case)
        impl = registry.get(implementation, pattern=pattern)
    except KeyError as exc:
        raise NoMatchError(exc.args[0] if exc.args else str(exc)) from None
    if the_case.devices > 1:
        # a multi-device case runs on the platform's first N devices (``cpu:0..7``: a device set)
        spec = ItemSpec(pat, the_case, impl, _device(device.partition("..")[0] if device else None), transform)
        have = _platform_devices(spec.device.platform)
        if len(have) < the_case.devices:
            from ._collect import skip_reason_for_devices

            raise NoMatchError(skip_reason_for_devices(the_case.id, spec.device.platform, the_case.devices, have))
        spec = ItemSpec(pat, the_case, impl, have[0], transform, devices=tuple(have[:the_case.devices]))
    else:
        spec = ItemSpec(pat, the_case, impl, _device(device), transform)
    before = snapshot_config()  # as the item does: an implementation must leave JAX's global config alone
    facts: dict[str, Any] = {}
    try:
        run_item(spec, facts)
    finally:
        damage = undo_config_changes(before)
    if damage:
        raise ConformanceFailure(damage)
    return facts


def run_example(pattern: str, implementation: str, args: dict[str, Any], *, transform: str = "eager",
                device: str | None = None, load: Sequence[str] = (), catalog: Sequence[str] = ()) -> dict[str, Any]:
    """Check ``implementation`` on one generated input of ``pattern`` against the pattern's oracle.

    What an explore item of ``jaxpat check --explore`` does for one example
    (docs/explore.md), in this process: ``args`` maps every argument name to
    a value in the catalog's value language (``{"$array": [1, 2], "dtype":
    "int32"}``, a plain number, ``{"$key": 3}``), exactly as a failing
    explore item's message and repro print it; the oracle named by the
    pattern's ``explore.oracle`` gives the expected value. The other
    arguments mean what they mean for :func:`run_case`. Raises
    :class:`jaxpat.conformance.ConformanceFailure` when the implementation
    does not conform, :class:`jaxpat.catalog.NoMatchError` for unknown names
    and ``ValueError`` when the pattern has no domain and oracle or ``args``
    do not fit its signature.
    """
    from jaxpat.catalog import decode
    from jaxpat.catalog._explore import explore_transforms

    from ._execute import ConformanceFailure, ItemSpec, run_item, snapshot_config, undo_config_changes
    from ._explore import Example, explore_case

    if transform not in _TRANSFORMS:
        raise NoMatchError(f"unknown transform {transform!r}{did_you_mean(transform, _TRANSFORMS)}; "
                           f"known: {', '.join(_TRANSFORMS)}")
    registry = registry_for(tuple(load), tuple(catalog))
    try:
        pat = registry.catalog.get(pattern)
        impl = registry.get(implementation, pattern=pattern)
    except KeyError as exc:
        raise NoMatchError(exc.args[0] if exc.args else str(exc)) from None
    if transform not in explore_transforms(pat):
        raise ValueError(f"pattern {pattern!r} explores no {transform!r} (explored: "
                         f"{', '.join(explore_transforms(pat)) or 'none: it has no domain and oracle'})")
    if set(args) != set(pat.signature.args):
        raise ValueError(f"args must name exactly {list(pat.signature.args)}, got {sorted(args)}")
    example = Example({name: decode(args[name], role="input", path=("args", name)) for name in pat.signature.args})
    case = explore_case(pat, example, transform)
    spec = ItemSpec(pat, case, impl, _device(device), transform)
    before = snapshot_config()
    facts: dict[str, Any] = {}
    try:
        run_item(spec, facts)
    finally:
        damage = undo_config_changes(before)
    if damage:
        raise ConformanceFailure(damage)
    return facts
