"""patterns/_guard.py: plugin code runs guarded, and what it replaces or reconfigures is found and undone."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import jaxpat.catalog._loader as loader
from jaxpat._env import EnvError
from jaxpat.patterns import _guard


@pytest.mark.parametrize("exc", [SystemExit(3), KeyboardInterrupt(), GeneratorExit(), ValueError("v")],
                         ids=lambda e: type(e).__name__)
def test_call_guarded_catches_every_base_exception(exc: BaseException) -> None:
    def boom() -> None:
        raise exc

    done = _guard.call_guarded(boom, 30)
    assert done.exc is exc
    assert not done.ok
    assert type(exc).__name__ in done.traceback


def test_call_guarded_returns_the_value_and_abandons_a_slow_call() -> None:
    assert _guard.call_guarded(lambda: 42, 30).value == 42
    release = threading.Event()
    done = _guard.call_guarded(lambda: release.wait(60), 0.2)
    release.set()  # let the abandoned thread finish
    assert done.timed_out
    assert done.budget == 0.2


def test_budgets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_guard.ENV_IMPORT_TIMEOUT, "2.5")
    monkeypatch.setenv(_guard.ENV_HOOK_TIMEOUT, "0")
    assert _guard.import_budget() == 2.5
    assert _guard.hook_budget() is None  # 0: no limit
    monkeypatch.delenv(_guard.ENV_IMPORT_TIMEOUT)
    assert _guard.import_budget() == _guard.DEFAULT_IMPORT_TIMEOUT
    monkeypatch.setenv(_guard.ENV_IMPORT_TIMEOUT, "soon")  # no longer silently the default
    with pytest.raises(EnvError, match=r"JAXPAT_PLUGIN_IMPORT_TIMEOUT='soon': not a number"):
        _guard.import_budget()


def test_harness_finds_and_restores_a_replaced_function_and_method() -> None:
    harness = _guard.Harness()
    original, method = loader.read_catalog_file, loader._Source.__init__
    try:
        loader.read_catalog_file = lambda *a, **k: b""  # type: ignore[assignment]
        loader._Source.__init__ = lambda self, *a: None  # type: ignore[method-assign]
        replaced, failed = harness.check()
        names = sorted(r.name for r in replaced)
        assert names == ["jaxpat.catalog._loader._Source.__init__", "jaxpat.catalog._loader.read_catalog_file"]
        assert failed == []
        assert loader.read_catalog_file is original
        assert loader._Source.__init__ is method
        assert harness.replaced() == []
    finally:
        loader.read_catalog_file, loader._Source.__init__ = original, method  # type: ignore[method-assign]


def test_harness_watches_the_external_callables_jaxpat_names() -> None:
    import builtins

    harness = _guard.Harness()
    original = builtins.isinstance
    try:
        builtins.isinstance = lambda *a: True
        replaced, _ = harness.check()
    finally:
        builtins.isinstance = original
    assert [r.name for r in replaced] == ["builtins.isinstance"]


def test_jax_config_is_compared_over_every_flag_and_restored() -> None:
    jax = pytest.importorskip("jax")
    before = _guard.jax_config()
    assert before is not None
    assert len(before) > 50  # every flag, not a hand list
    jax.config.update("jax_random_seed_offset", 5)
    changes = _guard.config_changes(before, _guard.jax_config())
    assert changes == {"jax_random_seed_offset": (0, 5)}
    assert _guard.restore_config(changes) == []
    assert jax.config.jax_random_seed_offset == 0
    assert "jax_random_seed_offset 0 -> 5" in _guard.describe_config_changes(changes)


def test_a_harness_check_is_one_lookup_per_binding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checked after every item, so it must stay cheap: counted, not timed. A check makes exactly one
    namespace lookup per recorded binding (two for a replaced one) and never walks the modules again
    (that walk, ``_bindings()``, is what building a Harness costs)."""
    harness = _guard.Harness()
    assert len(harness) > 100  # it does cover jaxpat's modules
    lookups = {"n": 0}

    class Counting:
        def __init__(self, ns: Any) -> None:
            self.ns = ns

        def get(self, name: str, default: Any = None) -> Any:
            lookups["n"] += 1
            return self.ns.get(name, default)

    harness._entries = [(Counting(ns), name, before, b) for ns, name, before, b in harness._entries]

    assert harness.replaced() == []
    assert lookups["n"] == len(harness)

    def walk_again() -> Any:
        raise AssertionError("a check walked the modules again")

    # the walk itself is one of the bindings a check watches: replacing it by a function that fails
    # shows the check does not call it, and that the count is of real work (one more lookup for a find)
    monkeypatch.setattr(_guard, "_bindings", walk_again)
    lookups["n"] = 0
    found = harness.replaced()
    assert [r.binding for r in found] == [("jaxpat.patterns._guard", "_bindings")]
    assert lookups["n"] == len(harness) + 1


def test_the_names_jaxpat_mentions_are_every_code_object_s_names() -> None:
    """_names_used walks each class and code object once; what it finds is what walking every binding of every
    module (repeats included), every nested code object, finds: an independent plain walk."""
    import sys
    import types

    modules = [m for n, m in list(sys.modules.items()) if m is not None and n.startswith("jaxpat")]

    def plain(code: types.CodeType) -> set[str]:
        return set(code.co_names).union(*(plain(c) for c in code.co_consts if isinstance(c, types.CodeType)))

    expected: set[str] = set()
    for module in modules:
        for value in vars(module).values():
            for member in (vars(value).values() if isinstance(value, type) else [value]):
                code = getattr(getattr(member, "__func__", member), "__code__", None)
                if isinstance(code, types.CodeType):
                    expected |= plain(code)
    assert _guard._names_used(modules) == expected
    assert "isinstance" in expected  # jaxpat's code mentions builtins
