"""Running plugin code without trusting it: every exception, a time budget, and the harness checked after.

Plugin code runs in three places: importing a plugin's entry module,
calling its hooks (both in the registry, here in the patterns layer), and
calling its implementations (in conformance items). All three go through
the same checks:

* :func:`call_guarded` runs the code in a daemon thread and waits at most a
  budget. Whatever it raises, ``SystemExit`` and ``KeyboardInterrupt``
  included, is caught and returned; a call over budget is abandoned (the
  thread is left to finish or to die with the process) so one 30 s import
  cannot stall ``jaxpat list``. A real Ctrl-C still interrupts: the signal
  arrives in the main thread, which is only waiting.
* :class:`Harness` records which objects jaxpat's own modules (and the
  ``builtins``, NumPy and JAX namespaces it checks with) bind to their
  names -- functions, classes, methods, modules -- and finds any that plugin
  code replaced; :meth:`Harness.restore` puts them back.
* :func:`jax_config` reads *every* JAX config flag (``jax.config.values``),
  without importing JAX when nothing has yet; :func:`config_changes` and
  :func:`restore_config` compare and restore them.

Nothing here imports JAX or NumPy.
"""

from __future__ import annotations

import functools
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ENV_HOOK_TIMEOUT",
    "ENV_IMPORT_TIMEOUT",
    "Guarded",
    "Harness",
    "call_guarded",
    "config_changes",
    "describe_config_changes",
    "hook_budget",
    "import_budget",
    "jax_config",
    "restore_config",
]

#: Seconds a plugin's entry module may take to import (and its ``jaxpat_catalog_files`` to answer).
ENV_IMPORT_TIMEOUT = "JAXPAT_PLUGIN_IMPORT_TIMEOUT"
#: Seconds a plugin's ``jaxpat_implementations`` hook may take (it usually imports JAX).
ENV_HOOK_TIMEOUT = "JAXPAT_PLUGIN_HOOK_TIMEOUT"
DEFAULT_IMPORT_TIMEOUT = 10.0
DEFAULT_HOOK_TIMEOUT = 120.0


def _budget(name: str, default: float) -> float | None:
    from jaxpat import _env  # parsed and range-checked there; a bad value raises _env.EnvError

    return _env.seconds(_env.IMPORT_TIMEOUT if name == ENV_IMPORT_TIMEOUT else _env.HOOK_TIMEOUT, default)


def import_budget() -> float | None:
    """Seconds for an entry-module import (``JAXPAT_PLUGIN_IMPORT_TIMEOUT``, default 10; 0: no limit)."""
    return _budget(ENV_IMPORT_TIMEOUT, DEFAULT_IMPORT_TIMEOUT)


def hook_budget() -> float | None:
    """Seconds for ``jaxpat_implementations`` (``JAXPAT_PLUGIN_HOOK_TIMEOUT``, default 120; 0: no limit)."""
    return _budget(ENV_HOOK_TIMEOUT, DEFAULT_HOOK_TIMEOUT)


@dataclass
class Guarded:
    """What guarded plugin code did: its value, or what it raised (any BaseException), or that it ran over."""

    value: Any = None
    exc: BaseException | None = None
    traceback: str = ""
    timed_out: bool = False
    seconds: float = 0.0
    budget: float | None = None

    @property
    def ok(self) -> bool:
        return self.exc is None and not self.timed_out


def call_guarded(fn: Callable[[], Any], budget: float | None, *, name: str = "jaxpat-plugin") -> Guarded:
    """Run ``fn()`` in a daemon thread; wait at most ``budget`` seconds (None: no limit).

    Never raises what ``fn`` raises: the exception (``SystemExit``,
    ``KeyboardInterrupt`` and ``GeneratorExit`` included) and its formatted
    traceback are returned. A ``KeyboardInterrupt`` from a real Ctrl-C is
    raised in the waiting main thread and propagates as usual.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # plugin code: everything is caught, nothing escapes
            import traceback  # here, not at import: only a failure has a traceback to format

            box["exc"] = exc
            box["tb"] = traceback.format_exc()

    start = time.monotonic()
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    thread.join(budget)
    seconds = time.monotonic() - start
    if thread.is_alive():
        return Guarded(timed_out=True, seconds=seconds, budget=budget)
    return Guarded(box.get("value"), box.get("exc"), box.get("tb", ""), False, seconds, budget)


# ---------------------------------------------------------------------------
# JAX config
# ---------------------------------------------------------------------------

def jax_config() -> dict[str, Any] | None:
    """Every JAX config flag and its value, or None when JAX has not been imported (it is not imported here)."""
    jax = sys.modules.get("jax")
    config = getattr(jax, "config", None)
    values = getattr(config, "values", None)
    if not isinstance(values, Mapping):
        return None
    return dict(values)


def config_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, tuple[Any, Any]]:
    """``{flag: (before, after)}`` for every flag whose value differs (flags added since are not changes)."""
    if not before or not after:
        return {}
    out = {}
    for name, old in before.items():
        new = after.get(name, old)
        try:
            same = bool(new == old)
        except Exception:  # a value whose comparison raises counts as changed
            same = False
        if not same:
            out[name] = (old, new)
    return out


def restore_config(changes: Mapping[str, tuple[Any, Any]]) -> list[str]:
    """Set every changed flag back to its old value; return the flags that could not be restored."""
    jax = sys.modules.get("jax")
    failed = []
    for name, (old, _) in changes.items():
        try:
            jax.config.update(name, old)  # type: ignore[union-attr]
        except Exception:  # some flags are read-only once a backend exists
            failed.append(name)
    return failed


def describe_config_changes(changes: Mapping[str, tuple[Any, Any]], failed: list[str] = ()) -> str:  # type: ignore[assignment]
    """``jax_enable_x64 False -> True, ...`` with the flags that stayed changed marked."""
    parts = []
    for name, (old, new) in sorted(changes.items()):
        mark = " (could not be restored)" if name in failed else ""
        parts.append(f"{name} {old!r} -> {new!r}{mark}")
    return ", ".join(parts)


# ---------------------------------------------------------------------------
# the harness's own code
# ---------------------------------------------------------------------------

#: Namespaces checked besides jaxpat's own modules: what the comparisons are built from.
_EXTERNAL = ("builtins", "numpy", "numpy.testing", "jax", "jax.numpy", "jax.tree_util", "jax.random", "jax.lax")
_CODE = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, types.ModuleType, type,
         staticmethod, classmethod, property, types.WrapperDescriptorType, types.MethodDescriptorType,
         functools.partial)

Binding = tuple[str, ...]


def _watched(name: str) -> bool:
    return name == "jaxpat" or name.startswith("jaxpat.") or name in _EXTERNAL


def _is_code(value: Any, own: bool) -> bool:
    # NumPy's and JAX's public functions are often callable objects (array-function dispatchers, jitted
    # functions, ufuncs): outside jaxpat anything callable counts.
    return isinstance(value, _CODE) or (not own and callable(value))


def _names_used(modules: list[types.ModuleType]) -> set[str]:
    """Every global and attribute name jaxpat's code mentions (``co_names`` of every code object, nested too)."""
    names: set[str] = set()
    stack: list[types.CodeType] = []
    seen: set[int] = set()  # ids of the classes and code objects met (alive meanwhile): a name imported into
    for module in modules:  # several modules is walked once
        for value in list(vars(module).values()):
            if isinstance(value, type):
                if id(value) in seen:
                    continue
                seen.add(id(value))
                members = list(vars(value).values())
            else:
                members = [value]
            for member in members:
                func = getattr(member, "__func__", member)
                code = getattr(func, "__code__", None)
                if isinstance(code, types.CodeType) and id(code) not in seen:
                    seen.add(id(code))
                    stack.append(code)
    while stack:
        code = stack.pop()
        names.update(code.co_names)
        stack.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return names


def _bindings() -> Iterator[tuple[Binding, Any, Any]]:
    """``((module, name[, attribute]), owner, value)`` for every piece of code the harness relies on.

    jaxpat's own modules: every function, class (and their methods) and
    module they bind. ``builtins``, NumPy and JAX: the callables among the
    names jaxpat's code mentions (``np.allclose``, ``isinstance``, ...): the
    ones a replacement could turn against the checks.
    """
    modules = [(n, m) for n, m in list(sys.modules.items()) if m is not None and _watched(n)]
    used = _names_used([m for n, m in modules if n.startswith("jaxpat")])
    for modname, module in modules:
        try:
            namespace = dict(vars(module))
        except TypeError:
            continue
        own = modname.startswith("jaxpat")
        for key, value in namespace.items():
            if key.startswith("__") and key.endswith("__"):
                continue
            if not _is_code(value, own) or (not own and key not in used):
                continue
            yield (modname, key), module, value
            if own and isinstance(value, type) and getattr(value, "__module__", None) == modname:
                for attr, member in list(vars(value).items()):
                    if attr.startswith("__") and attr.endswith("__") and attr not in ("__init__", "__call__", "__eq__"):
                        continue
                    if _is_code(member, True):
                        yield (modname, key, attr), value, member


@dataclass(frozen=True)
class Replaced:
    """One name bound to another object than the harness's: where, and what it held and holds."""

    binding: Binding
    before: Any
    after: Any

    @property
    def name(self) -> str:
        return ".".join(self.binding)

    def __str__(self) -> str:
        return f"{self.name} (was {_qual(self.before)}, now {_qual(self.after)})"


def _qual(obj: Any) -> str:
    module = getattr(obj, "__module__", None) or type(obj).__module__
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{module}.{name}"


class Harness:
    """The code jaxpat checks with, as bound when the snapshot was taken; replacements are found and undone."""

    def __init__(self) -> None:
        self._owners: dict[Binding, Any] = {}
        # (namespace, name, object): a module's __dict__ or a class's live mappingproxy, read once
        self._entries: list[tuple[Mapping[str, Any], str, Any, Binding]] = []
        for binding, owner, value in _bindings():
            self._owners[binding] = owner
            self._entries.append((vars(owner), binding[-1], value, binding))

    def __len__(self) -> int:
        return len(self._entries)

    def replaced(self) -> list[Replaced]:
        """Every binding of the snapshot that now holds a different object (or was deleted)."""
        missing = _MISSING
        return [Replaced(binding, before, ns.get(name, missing))
                for ns, name, before, binding in self._entries if ns.get(name, missing) is not before]

    def restore(self, replaced: list[Replaced]) -> list[Replaced]:
        """Bind every replaced name back; return those that could not be restored."""
        failed = []
        for r in replaced:
            try:
                setattr(self._owners[r.binding], r.binding[-1], r.before)
            except Exception:  # e.g. a builtin type's attribute
                failed.append(r)
        return failed

    def check(self) -> tuple[list[Replaced], list[Replaced]]:
        """``(replaced, not restored)``: find replacements and undo them at once."""
        replaced = self.replaced()
        return replaced, (self.restore(replaced) if replaced else [])


_MISSING = object()


def describe_replaced(replaced: list[Replaced], failed: list[Replaced] = ()) -> str:  # type: ignore[assignment]
    """One line per replaced binding, at most 10."""
    lines = [f"  {r}{' (could not be restored)' if r in failed else ''}" for r in replaced[:10]]
    if len(replaced) > 10:
        lines.append(f"  ... and {len(replaced) - 10} more")
    return "\n".join(lines)
