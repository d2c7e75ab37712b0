"""The plugin registry: discovery order, validation rules, atomicity, errors, queries and the CLI."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from jaxpat import patterns
from jaxpat.catalog import Catalog, Pattern, Signature
from jaxpat.patterns import (
    Implementation,
    PluginValidationError,
    _cli,
    _discovery,
    _registry,
    _sandbox,
    _session,
    hookimpl,
    load_registry,
)
from jaxpat.patterns.testing import check_plugin

# ---------------------------------------------------------------------------
# Fixtures: a small catalog, in-process plugins, fake entry points
# ---------------------------------------------------------------------------


def make_pattern(pid: str, args: tuple[str, ...] = ("xs",)) -> Pattern:
    return Pattern(
        id=pid, family="scan", title=pid, summary="", tags=(), source={"doc": "test"},
        signature=Signature(args), cases=(),
    )


CATALOG = Catalog(
    (make_pattern("scan-cumsum"), make_pattern("scan-cumprod"), make_pattern("vmap-apply", ("f", "xs"))),
    files=("memory.yaml",),
    digest="test",
)


def cumsum(xs):
    return xs


def cumprod(xs):
    return xs


def apply(f, xs):
    return f(xs)


class Plugin:
    """An in-process plugin returning the implementations it was given."""

    def __init__(self, *impls: object) -> None:
        self.impls = list(impls)

    @hookimpl
    def jaxpat_implementations(self) -> list[object]:
        return self.impls


def impl(pattern: str = "scan-cumsum", name: str = "mine", fn: Any = cumsum) -> Implementation:
    return Implementation(pattern=pattern, name=name, fn=fn)


def load(*plugins: tuple[str, object], **kwargs: Any):
    """A registry of just ``plugins`` over the small catalog."""
    kwargs.setdefault("autoload", False)
    kwargs.setdefault("block", ["reference"])
    kwargs.setdefault("catalog", CATALOG)
    return load_registry(extra_plugins=plugins, **kwargs)


@dataclass
class FakeEntryPoint:
    """What the registry uses of importlib.metadata.EntryPoint."""

    name: str
    value: str
    dist: Any
    group: str = "jaxpat"

    def load(self) -> object:
        import importlib

        return importlib.import_module(self.value)


def dist(name: str, version: str = "1.0") -> SimpleNamespace:
    return SimpleNamespace(name=name, version=version)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv(_discovery.ENV_DISABLE_AUTOLOAD, raising=False)
    monkeypatch.delenv(_discovery.ENV_BLOCK, raising=False)
    return monkeypatch


@pytest.fixture
def modules(tmp_path: Path, clean_env: pytest.MonkeyPatch):
    """Write plugin modules to an importable folder; return a writer."""
    clean_env.syspath_prepend(str(tmp_path))
    written: list[str] = []

    def write(name: str, source: str) -> str:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        written.append(name)
        return name

    yield write
    for name in written:
        sys.modules.pop(name, None)


GOOD_MODULE = """
    from jaxpat.patterns import Implementation, hookimpl

    def cumsum(xs):
        return xs

    @hookimpl
    def jaxpat_implementations():
        return [Implementation(pattern="scan-cumsum", name="{name}", fn=cumsum)]
"""


@pytest.fixture
def entry_points(clean_env: pytest.MonkeyPatch):
    """Replace the registry's view of installed entry points."""
    def install(*eps: FakeEntryPoint) -> None:
        clean_env.setattr(_discovery, "entry_points", lambda group: [e for e in eps if e.group == group])

    return install


def only_error(registry) -> patterns.PluginLoadError:
    assert len(registry.errors) == 1, [str(e) for e in registry.errors]
    return registry.errors[0]


# ---------------------------------------------------------------------------
# Happy path and queries
# ---------------------------------------------------------------------------


def test_registers_implementations_with_provenance() -> None:
    """Registered implementations carry the plugin name; queries see them."""
    registry = load(("mine", Plugin(impl())))
    [got] = registry.implementations("scan-cumsum")
    assert (got.id, got.plugin, got.distribution, got.version) == ("mine.mine", "mine", "", "")
    assert registry.get("mine.mine") is got
    assert registry.missing() == ["scan-cumprod", "vmap-apply"]
    assert registry.errors == []


def test_plugin_info() -> None:
    """plugins() lists registered plugins in order with what each contributed."""
    registry = load(("a", Plugin(impl(), impl("scan-cumprod", fn=cumprod))), ("b", Plugin()))
    a, b = registry.plugins()
    assert (a.name, a.n_implementations, a.n_patterns, a.catalog_files) == ("a", 2, 0, ())
    assert (b.name, b.n_implementations, b.module) == ("b", 0, "<test_registry.Plugin>")


def test_order_is_catalog_then_registration_then_name() -> None:
    """implementations() is deterministic whatever order plugins return them in."""
    second = Plugin(impl("vmap-apply", "z", apply), impl("scan-cumsum", "b"), impl("scan-cumsum", "a"))
    first = Plugin(impl("scan-cumprod", "q", cumprod), impl("scan-cumsum", "y"))
    registry = load(("zz", first), ("aa", second))
    assert [(i.pattern, i.id) for i in registry.implementations()] == [
        ("scan-cumsum", "zz.y"), ("scan-cumsum", "aa.a"), ("scan-cumsum", "aa.b"),
        ("scan-cumprod", "zz.q"), ("vmap-apply", "aa.z"),
    ]


def test_same_name_for_different_patterns_is_fine() -> None:
    """Names are unique per (plugin, pattern), so get() needs the pattern when shared."""
    registry = load(("p", Plugin(impl("scan-cumsum", "lax_scan"), impl("scan-cumprod", "lax_scan", cumprod))))
    assert registry.get("p.lax_scan", "scan-cumprod").fn is cumprod
    with pytest.raises(KeyError, match="several patterns"):
        registry.get("p.lax_scan")


def test_get_unknown_suggests() -> None:
    """get() of an unknown id suggests a close one."""
    registry = load(("p", Plugin(impl(name="lax_scan"))))
    with pytest.raises(KeyError, match=r"did you mean 'p.lax_scan'"):
        registry.get("p.lax_scam")


def test_implementations_of_unknown_pattern() -> None:
    """implementations() of an id not in the catalog raises KeyError with a suggestion."""
    with pytest.raises(KeyError, match="did you mean 'scan-cumsum'"):
        load().implementations("scan-cumsun")


# ---------------------------------------------------------------------------
# Validation rules: each message says plugin, hook, implementation, rule and fix
# ---------------------------------------------------------------------------


def test_not_an_implementation() -> None:
    """A hook result item that is not an Implementation rejects the plugin."""
    error = only_error(load(("bad", Plugin({"pattern": "scan-cumsum"}))))
    assert error.stage == "jaxpat_implementations"
    for text in ("plugin 'bad' was not registered", "not an Implementation", "got dict", "fix:", "Implementation("):
        assert text in error.message


def test_unknown_pattern_did_you_mean() -> None:
    """An unknown pattern id is rejected with the closest catalog id."""
    error = only_error(load(("bad", Plugin(impl("scan-cumsun")))))
    assert "unknown pattern id" in error.message
    assert "implementation: bad.mine" in error.message
    assert "pattern:        scan-cumsun" in error.message
    assert "did you mean 'scan-cumsum'" in error.message


def test_duplicate_name_for_one_pattern() -> None:
    """Two implementations of one pattern with one name reject the plugin."""
    error = only_error(load(("bad", Plugin(impl(name="twice"), impl(name="twice")))))
    assert "duplicate implementation name" in error.message
    assert "two implementations named 'twice' for 'scan-cumsum'" in error.message


def xs_default(xs, unroll=1):
    return xs


def xs_kwonly_default(xs, *, unroll=1):
    return xs


def xs_varargs(xs, *rest, **options):
    return xs


@pytest.mark.parametrize("fn", [cumsum, xs_default, xs_kwonly_default, xs_varargs, lambda xs: xs])
def test_signature_accepted(fn: Any) -> None:
    """The pattern's args come first; anything after them may be omitted."""
    assert load(("ok", Plugin(impl(fn=fn)))).errors == []


def ys(ys):
    return ys


def xs_extra(xs, n):
    return xs


def xs_posonly(xs, /):
    return xs


def xs_kwonly(*, xs):
    return xs


def only_varargs(*args, **kwargs):
    return args


def xs_swapped(xs, f):
    return xs


@pytest.mark.parametrize(
    ("pattern", "fn", "reason"),
    [
        ("scan-cumsum", ys, "parameter 1 is 'ys', expected 'xs'"),
        ("scan-cumsum", xs_extra, "extra parameter 'n' has no default"),
        ("scan-cumsum", xs_posonly, "parameter 'xs' is positional-only"),
        ("scan-cumsum", xs_kwonly, "parameter 'xs' is keyword-only"),
        ("scan-cumsum", only_varargs, "lacks parameter 'xs'"),
        ("vmap-apply", xs_swapped, "parameter 1 is 'xs', expected 'f'"),
        ("vmap-apply", cumsum, "parameter 1 is 'xs', expected 'f'"),
        ("vmap-apply", lambda f: f, "it has (f), which lacks parameter 'xs'"),
        ("scan-cumsum", len, "parameter 1 is 'obj', expected 'xs'"),
    ],
)
def test_signature_rejected(pattern: str, fn: Any, reason: str) -> None:
    """Parameters must be the pattern's args, by name, in order, as ordinary parameters."""
    error = only_error(load(("bad", Plugin(impl(pattern, fn=fn)))))
    assert "parameters do not match the pattern's signature" in error.message
    assert reason in error.message
    assert "fix:" in error.message


def test_uninspectable_callable_is_rejected() -> None:
    """A callable whose signature cannot be read cannot be checked, so it is refused."""
    class Opaque:
        __signature__ = "not a signature"

        def __call__(self, xs):
            return xs

    error = only_error(load(("bad", Plugin(impl(fn=Opaque())))))
    assert "cannot be inspected" in error.message


def test_hook_that_raises() -> None:
    """A hook that raises rejects its plugin; the traceback is kept."""
    class Raises:
        @hookimpl
        def jaxpat_implementations(self):
            raise RuntimeError("boom in hook")

    error = only_error(load(("bad", Raises()), ("good", Plugin(impl()))))
    assert "hook raised" in error.message
    assert "RuntimeError: boom in hook" in error.message
    assert "Traceback" in error.traceback
    assert "boom in hook" in error.traceback
    assert "Traceback" in str(error)


def test_hook_returning_non_list() -> None:
    """The hook returns a list; a bare Implementation is refused."""
    class Bare:
        @hookimpl
        def jaxpat_implementations(self):
            return impl()

    assert "not a list" in only_error(load(("bad", Bare()))).message


def test_every_problem_is_reported_at_once() -> None:
    """All problems of one plugin appear in one numbered message."""
    error = only_error(load(("bad", Plugin(impl("nope"), impl(fn=ys), 42))))
    assert "3 problems" in error.message
    assert "problem 1 of 3: unknown pattern id" in error.message
    assert "problem 3 of 3: not an Implementation" in error.message


def test_unmarked_hook_is_reported() -> None:
    """A plugin without @hookimpl functions is refused and the unmarked ones are named."""
    class Unmarked:
        def jaxpat_implementations(self):
            return []

    error = only_error(load(("bad", Unmarked())))
    assert error.stage == "register"
    assert "no hooks" in error.message
    assert "unmarked functions: jaxpat_implementations" in error.message


def test_unknown_hook_name() -> None:
    """A marked function for a hook that does not exist is a typo, reported with a suggestion."""
    class Typo:
        @hookimpl
        def jaxpat_implementation(self):
            return []

    error = only_error(load(("bad", Typo())))
    assert "unknown hook" in error.message
    assert "did you mean 'jaxpat_implementations'" in error.message


def test_hook_with_arguments_is_refused_by_pluggy() -> None:
    """pluggy's own check (hookimpl arguments the spec lacks) is reported as a registration error."""
    class Args:
        @hookimpl
        def jaxpat_implementations(self, config):
            return []

    error = only_error(load(("bad", Args())))
    assert error.stage == "register"
    assert "config" in error.message


# ---------------------------------------------------------------------------
# Atomicity, strict mode, name clashes
# ---------------------------------------------------------------------------


def test_one_bad_implementation_rejects_the_whole_plugin() -> None:
    """A plugin with one good and one bad implementation registers neither; others load."""
    registry = load(("mixed", Plugin(impl(name="good"), impl("nope"))), ("other", Plugin(impl(name="fine"))))
    assert [i.id for i in registry.implementations()] == ["other.fine"]
    assert [p.name for p in registry.plugins()] == ["other"]
    assert registry.plugin_manager.get_plugin("mixed") is None
    assert only_error(registry).plugin == "mixed"


def test_strict_raises_on_first_failing_plugin() -> None:
    """strict=True turns the first failure into PluginValidationError."""
    with pytest.raises(PluginValidationError, match="unknown pattern id") as info:
        load(("bad", Plugin(impl("nope"))), ("worse", Plugin(42)), strict=True)
    assert info.value.plugin == "bad"


def test_in_process_name_clash() -> None:
    """Two plugins cannot share a name: neither is registered (one's results would pass for the other's)."""
    registry = load(("same", Plugin(impl(name="first"))), ("same", Plugin(impl(name="second"))))
    assert [i.id for i in registry.implementations()] == []
    assert [(e.plugin, e.stage) for e in registry.errors] == [("same", "register")] * 2
    assert all("plugin name already taken" in e.message for e in registry.errors)


def test_extra_plugins_need_a_name() -> None:
    """extra_plugins takes (name, plugin) pairs."""
    with pytest.raises(TypeError, match="non-empty name"):
        load(("", Plugin()))


def test_block_takes_a_list() -> None:
    """A bare string for block= is almost certainly a mistake."""
    with pytest.raises(TypeError, match="list of plugin names"):
        load(block="reference")


# ---------------------------------------------------------------------------
# Entry points: import errors, clashes, autoload, blocking, order
# ---------------------------------------------------------------------------


def test_entry_point_import_error_names_distribution(modules, entry_points) -> None:
    """A plugin that fails to import is reported with its distribution and traceback; others load."""
    modules("broken_plugin", "import this_module_does_not_exist_xyz\n")
    modules("fine_plugin", GOOD_MODULE.format(name="fine"))
    entry_points(
        FakeEntryPoint("broken", "broken_plugin", dist("jaxpat-broken", "2.3")),
        FakeEntryPoint("fine", "fine_plugin", dist("jaxpat-fine")),
    )
    registry = load(block=["reference"], autoload=True)
    assert [p.name for p in registry.plugins()] == ["fine"]
    error = only_error(registry)
    assert (error.plugin, error.distribution, error.version) == ("broken", "jaxpat-broken", "2.3")
    assert error.stage == "import"
    assert "jaxpat-broken 2.3; module broken_plugin" in error.message
    assert "ModuleNotFoundError" in error.message
    assert "Traceback" in error.traceback
    assert "this_module_does_not_exist_xyz" in error.traceback


def test_strict_import_error_chains_the_original(modules, entry_points) -> None:
    """strict=True raises PluginValidationError from the original import error."""
    modules("broken_plugin", "raise ImportError('needs libfoo')\n")
    entry_points(FakeEntryPoint("broken", "broken_plugin", dist("jaxpat-broken")))
    with pytest.raises(PluginValidationError, match="needs libfoo") as info:
        load(autoload=True, strict=True)
    assert isinstance(info.value.__cause__, ImportError)
    assert "Traceback" in info.value.message


def test_entry_point_name_clash_refuses_both_distributions(modules, entry_points, monkeypatch) -> None:
    """Two distributions registering one name: both are refused, each error names both and how to choose."""
    monkeypatch.delenv("JAXPAT_PLUGIN_DUP", raising=False)
    modules("one_plugin", GOOD_MODULE.format(name="one"))
    modules("two_plugin", GOOD_MODULE.format(name="two"))
    entry_points(
        FakeEntryPoint("dup", "two_plugin", dist("dist-two", "2.0")),
        FakeEntryPoint("dup", "one_plugin", dist("dist-one", "1.0")),
    )
    registry = load(autoload=True)
    assert [i.id for i in registry.implementations() if i.plugin == "dup"] == []
    errors = [e for e in registry.errors if e.plugin == "dup"]
    assert sorted(e.distribution for e in errors) == ["dist-one", "dist-two"]
    for error in errors:
        assert "dist-one 1.0; module one_plugin" in error.message
        assert "dist-two 2.0; module two_plugin" in error.message
        assert "JAXPAT_PLUGIN_DUP=" in error.message
    # the user chooses one (distribution names compare as normalized: dist_two == dist-two)
    monkeypatch.setenv("JAXPAT_PLUGIN_DUP", "Dist_Two")
    registry = load(autoload=True)
    assert [i.id for i in registry.implementations() if i.plugin == "dup"] == ["dup.two"]
    [error] = [e for e in registry.errors if e.plugin == "dup"]
    assert error.distribution == "dist-one"
    assert "JAXPAT_PLUGIN_DUP=dist-two chose dist-two 2.0" in error.message


def test_reference_entry_point_is_not_registered_twice(entry_points) -> None:
    """jaxpat's own `reference` entry point is skipped; another distribution claiming the name clashes."""
    entry_points(
        FakeEntryPoint("reference", "jaxpat.patterns.reference", dist("jaxpat", "0.1.0")),
        FakeEntryPoint("reference", "impostor", dist("impostor-dist", "9")),
    )
    session = _session.Session(strict=False)
    cands = _discovery.candidates(True, [], [], session)
    assert [(c.name, c.module) for c in cands] == [("reference", "jaxpat.patterns.reference")]
    assert "impostor-dist 9" in only_error(session).message


def test_entry_points_load_sorted_by_name(modules, entry_points) -> None:
    """Entry points register in name order, after the reference plugin and before extra plugins."""
    for name in ("b", "a", "c"):
        modules(f"{name}_plugin", GOOD_MODULE.format(name=name))
    entry_points(*(FakeEntryPoint(n, f"{n}_plugin", dist(f"d-{n}")) for n in ("c", "a", "b")))
    cands = _discovery.candidates(True, [], [("extra", Plugin())], _session.Session(strict=False))
    assert [c.name for c in cands] == ["reference", "a", "b", "c", "extra"]


def test_autoload_disabled_by_env(modules, entry_points, clean_env) -> None:
    """JAXPAT_DISABLE_PLUGIN_AUTOLOAD=1 skips entry points; autoload=True overrides it."""
    modules("fine_plugin", GOOD_MODULE.format(name="fine"))
    entry_points(FakeEntryPoint("fine", "fine_plugin", dist("jaxpat-fine")))
    clean_env.setenv("JAXPAT_DISABLE_PLUGIN_AUTOLOAD", "1")
    assert [p.name for p in load(autoload=None).plugins()] == []
    assert [p.name for p in load(autoload=True).plugins()] == ["fine"]
    clean_env.setenv("JAXPAT_DISABLE_PLUGIN_AUTOLOAD", "0")
    assert [p.name for p in load(autoload=None).plugins()] == ["fine"]
    for off in ("", "false", "no", "Off"):  # jaxpat._env: these leave the flag off
        clean_env.setenv("JAXPAT_DISABLE_PLUGIN_AUTOLOAD", off)
        assert [p.name for p in load(autoload=None).plugins()] == ["fine"], off
    clean_env.setenv("JAXPAT_DISABLE_PLUGIN_AUTOLOAD", "yes")
    assert [p.name for p in load(autoload=None).plugins()] == []


def test_block_by_argument_and_env(modules, entry_points, clean_env) -> None:
    """block= and JAXPAT_BLOCK_PLUGINS skip plugins by name before importing them."""
    modules("broken_plugin", "raise RuntimeError('must not be imported')\n")
    entry_points(FakeEntryPoint("broken", "broken_plugin", dist("jaxpat-broken")))
    registry = load(("mine", Plugin(impl())), autoload=True, block=["reference", "broken"])
    assert (registry.errors, [p.name for p in registry.plugins()]) == ([], ["mine"])
    clean_env.setenv("JAXPAT_BLOCK_PLUGINS", " broken , mine ")
    registry = load(("mine", Plugin(impl())), autoload=True)
    assert (registry.errors, registry.plugins()) == ([], [])
    assert registry.plugin_manager.is_blocked("broken")


def test_reference_can_be_blocked(clean_env) -> None:
    """Blocking `reference` leaves only the other plugins."""
    clean_env.setenv("JAXPAT_BLOCK_PLUGINS", "reference")
    cands = _discovery.candidates(False, [], [], _session.Session(strict=False))
    assert cands == []


# ---------------------------------------------------------------------------
# Catalog files contributed by plugins
# ---------------------------------------------------------------------------

PLUGIN_YAML = """\
version: 1
patterns:
  - id: {pid}
    family: scan
    title: A contributed pattern
    summary: For tests.
    source: {{doc: test}}
    signature: {{args: [xs]}}
    cases:
      - id: one
        args: {{xs: 1}}
        expect: 1
        provenance: {{kind: math, note: identity}}
"""


class FilePlugin:
    """An in-process plugin contributing catalog files and implementations."""

    def __init__(self, files: list[Any], *impls: Implementation) -> None:
        self.files, self.impls = files, list(impls)

    @hookimpl
    def jaxpat_catalog_files(self) -> list[Any]:
        return self.files

    @hookimpl
    def jaxpat_implementations(self) -> list[Implementation]:
        return self.impls


def write_yaml(tmp_path: Path, pid: str, name: str = "plugin.yaml") -> Path:
    path = tmp_path / name
    path.write_text(PLUGIN_YAML.format(pid=pid))
    return path


def test_plugin_contributes_a_pattern(tmp_path: Path) -> None:
    """A plugin's catalog file adds patterns after the base catalog's; it may implement them."""
    path = write_yaml(tmp_path, "plugin-identity")
    registry = load(("p", FilePlugin([path], impl("plugin-identity"))))
    assert registry.catalog.ids()[-1] == "plugin-identity"
    assert registry.catalog.ids()[:-1] == CATALOG.ids()
    assert str(path) in registry.catalog.files
    [info] = registry.plugins()
    assert (info.n_patterns, info.catalog_files) == (1, (path,))
    assert "plugin-identity" not in registry.missing()


def test_contributed_pattern_id_collision(tmp_path: Path) -> None:
    """A contributed id already in the catalog rejects the plugin, naming both files and the plugin."""
    path = write_yaml(tmp_path, "scan-cumsum")
    error = only_error(load(("p", FilePlugin([path]))))
    assert error.stage == "jaxpat_catalog_files"
    assert "duplicate pattern id" in error.message
    assert f"{path} (plugin 'p') is already declared in catalog.yaml" in error.message


def test_collision_between_two_plugins(tmp_path: Path) -> None:
    """The second plugin contributing the same id is rejected; the message names the first plugin."""
    one = write_yaml(tmp_path, "shared-id", "one.yaml")
    two = write_yaml(tmp_path, "shared-id", "two.yaml")
    registry = load(("one", FilePlugin([one])), ("two", FilePlugin([two])))
    error = only_error(registry)
    assert error.plugin == "two"
    assert f"already declared in {one} (plugin 'one')" in error.message


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        (["relative.yaml"], "'relative.yaml' is relative"),
        ([Path("/nonexistent/jaxpat.yaml")], "is not an existing file"),
        ([42], "42 is not a path"),
        ("/a/path.yaml", "not a list of paths"),
    ],
)
def test_bad_catalog_file_paths(files: Any, reason: str) -> None:
    """jaxpat_catalog_files returns a list of absolute paths of existing files."""
    error = only_error(load(("p", FilePlugin(files))))
    assert "bad catalog file path" in error.message
    assert reason in error.message


def test_invalid_catalog_file(tmp_path: Path) -> None:
    """A catalog file the loader rejects rejects the plugin, with the loader's problems."""
    path = tmp_path / "bad.yaml"
    path.write_text("version: 1\npatterns:\n  - id: Not-Kebab\n")
    error = only_error(load(("p", FilePlugin([path]))))
    assert "invalid catalog file" in error.message
    assert str(path) in error.message


def test_failing_plugin_withdraws_its_patterns(tmp_path: Path) -> None:
    """A rejected plugin's patterns leave the catalog; a plugin implementing them fails, saying why."""
    path = write_yaml(tmp_path, "plugin-identity")
    registry = load(
        ("a", FilePlugin([path], impl("plugin-identity"), impl("nope"))),
        ("b", Plugin(impl("plugin-identity"))),
    )
    assert "plugin-identity" not in registry.catalog
    assert [e.plugin for e in registry.errors] == ["a", "b"]
    assert "contributed by plugin 'a', which failed to load" in registry.errors[1].message


def test_plugin_catalog_files_does_not_import_jax(tmp_path: Path) -> None:
    """plugin_catalog_files() imports plugin entry modules only: no JAX."""
    code = (
        "import sys\nfrom jaxpat import patterns\n"
        "files = patterns.plugin_catalog_files(autoload=False)\n"
        "assert 'jax' not in sys.modules, sorted(m for m in sys.modules if m.startswith('jax'))\n"
        "print(files)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_plugin_catalog_files_pairs(modules, entry_points, tmp_path: Path) -> None:
    """plugin_catalog_files() returns (plugin name, absolute path) pairs and skips broken plugins."""
    path = write_yaml(tmp_path, "plugin-identity")
    modules("files_plugin", f"""
        from pathlib import Path
        from jaxpat.patterns import hookimpl

        @hookimpl
        def jaxpat_catalog_files():
            return [Path({str(path)!r})]
    """)
    modules("broken_plugin", "raise RuntimeError('broken')\n")
    entry_points(
        FakeEntryPoint("files", "files_plugin", dist("d-files")),
        FakeEntryPoint("broken", "broken_plugin", dist("d-broken")),
    )
    assert _registry.plugin_catalog_files(block=["reference"]) == [("files", path)]


def test_load_catalog_is_the_registrys_catalog(modules, entry_points, tmp_path: Path) -> None:
    """load_catalog() and load_registry().catalog are built by one function: same patterns, files, digest,
    origins; catalog.load() is the shipped catalog alone."""
    from jaxpat import catalog

    path = write_yaml(tmp_path, "plugin-identity")
    modules("files_plugin", f"""
        from pathlib import Path
        from jaxpat.patterns import hookimpl

        @hookimpl
        def jaxpat_catalog_files():
            return [Path({str(path)!r})]
    """)
    entry_points(FakeEntryPoint("files", "files_plugin", dist("d-files")))
    loaded = patterns.load_catalog(block=["reference"])
    registry = load_registry(block=["reference"])
    assert not registry.errors
    held = registry.catalog
    assert (loaded.patterns, loaded.files, loaded.digest) == (held.patterns, held.files, held.digest)
    assert loaded.get("plugin-identity").origin == "files"
    pure = catalog.load()
    assert "plugin-identity" not in pure
    assert loaded.ids() == [*pure.ids(), "plugin-identity"]
    assert loaded.files == (*pure.files, str(path))
    assert loaded.digest != pure.digest
    assert patterns.load_catalog(plugins=False) == pure
    # An invalid plugin file: the registry drops the plugin, and so does load_catalog(), with a warning
    # naming the plugin and its distribution (the others' patterns still load); strict=True makes it fatal.
    path.write_text("version: 1\npatterns:\n  - id: Not-Kebab\n")
    dropped = load_registry(block=["reference"]).catalog
    assert "plugin-identity" not in dropped
    with pytest.warns(_registry.PluginCatalogWarning, match="jaxpat plugin 'files' was not registered") as warned:
        assert patterns.load_catalog(block=["reference"]) == dropped
    assert "d-files 1.0; module files_plugin" in str(warned[0].message)
    with pytest.raises(PluginValidationError, match=r"d-files 1\.0"):
        patterns.load_catalog(block=["reference"], strict=True)


# ---------------------------------------------------------------------------
# The default registry, the testing helper, the real reference plugin
# ---------------------------------------------------------------------------


def test_get_registry_is_cached(clean_env) -> None:
    """get_registry() loads once per process until cache_clear()."""
    clean_env.setattr(_registry, "load_registry", lambda: object())
    _registry.get_registry.cache_clear()
    try:
        assert _registry.get_registry() is _registry.get_registry()
    finally:
        _registry.get_registry.cache_clear()


def test_check_plugin_returns_registry() -> None:
    """check_plugin registers one valid plugin alone."""
    registry = check_plugin(Plugin(impl()), name="mine", catalog=CATALOG)
    assert [i.id for i in registry.implementations()] == ["mine.mine"]


def test_check_plugin_raises() -> None:
    """check_plugin raises PluginValidationError listing every problem."""
    with pytest.raises(PluginValidationError, match=r"(?s)2 problems.*unknown pattern id.*do not match"):
        check_plugin(Plugin(impl("nope"), impl(fn=ys)), name="mine", catalog=CATALOG)


def test_check_plugin_refuses_to_be_blocked(clean_env) -> None:
    """A plugin under test that the environment blocks is an error, not a silent pass."""
    clean_env.setenv("JAXPAT_BLOCK_PLUGINS", "mine")
    with pytest.raises(PluginValidationError, match="blocked"):
        check_plugin(Plugin(impl()), name="mine", catalog=CATALOG)


def test_reference_plugin_is_valid(clean_env) -> None:
    """The shipped reference plugin passes every registration rule against the shipped catalog."""
    registry = check_plugin("jaxpat.patterns.reference", name="reference")
    assert registry.implementations()
    assert all(i.distribution == "jaxpat" for i in registry.implementations())


# ---------------------------------------------------------------------------
# jaxpat plugins
# ---------------------------------------------------------------------------


@pytest.fixture
def cli_registry(clean_env):
    """Make `jaxpat plugins` see a small registry with one failing plugin."""
    registry = load(("good", Plugin(impl(name="b"), impl(name="a"))), ("bad", Plugin(impl("nope"))))
    clean_env.setattr(_sandbox, "registry_isolated", lambda: registry)
    return registry


def run_cli(*argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="jaxpat")
    _cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["plugins", *argv])
    out = io.StringIO()
    status = args.func(args, out=out, err=io.StringIO())
    return status, out.getvalue()


def test_cli_json(cli_registry) -> None:
    """--format json is sorted, stable, and exits 1 because a plugin failed."""
    status, text = run_cli("--format", "json")
    data = json.loads(text)
    assert status == 1
    assert list(data) == ["errors", "implementations", "missing", "plugins"]
    assert data["implementations"] == {"scan-cumsum": ["good.a", "good.b"]}
    assert data["missing"] == ["scan-cumprod", "vmap-apply"]
    assert [p["name"] for p in data["plugins"]] == ["good"]
    assert data["plugins"][0]["implementations"] == 2
    assert [(e["plugin"], e["stage"]) for e in data["errors"]] == [("bad", "jaxpat_implementations")]
    assert text == run_cli("--format", "json")[1]


def test_cli_table(cli_registry) -> None:
    """The table shows plugins, implementations per pattern, missing patterns and load errors."""
    status, text = run_cli()
    assert status == 1
    assert "plugins (1)" in text
    assert "good" in text
    assert "scan-cumsum  good.a, good.b" in text
    assert "patterns without implementation (2)" in text
    assert "plugins that failed to load (1)" in text
    assert "unknown pattern id" in text


def test_cli_exit_zero_without_errors(clean_env) -> None:
    """No failed plugin: exit status 0, even with patterns left unimplemented."""
    clean_env.setattr(_sandbox, "registry_isolated", lambda: load(("good", Plugin(impl()))))
    assert run_cli()[0] == 0


def test_cli_loads_no_plugin_code_in_its_own_process() -> None:
    """`jaxpat plugins` asks each installed plugin in a process of its own: the example plugin is listed with
    its implementations, and its module never enters the command's process (docs/security.md)."""
    pytest.importorskip("jaxpat_example_plugin")
    code = ("import io, json, sys, argparse\n"
            "from jaxpat.patterns import _cli\n"
            "p = argparse.ArgumentParser(); _cli.add_parser(p.add_subparsers(dest='c'))\n"
            "a = p.parse_args(['plugins', '--format', 'json']); out = io.StringIO()\n"
            "status = a.func(a, out=out, err=sys.stderr)\n"
            "print(json.dumps({'status': status, 'data': json.loads(out.getvalue()),\n"
            "                  'imported': sorted(m for m in sys.modules if m.startswith('jaxpat_example'))}))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["imported"] == []
    assert seen["status"] == 0
    assert "example.triangular_matmul" in seen["data"]["implementations"]["scan-cumsum"]
    assert "example" in {p["name"] for p in seen["data"]["plugins"]}


def test_public_api() -> None:
    """patterns exports exactly its documented names."""
    assert sorted(patterns.__all__) == sorted([
        "Implementation", "PluginCatalogWarning", "PluginInfo", "PluginLoadError", "PluginValidationError",
        "Registry", "Unavailable", "get_registry", "hookimpl", "load_catalog", "load_catalog_and_errors",
        "load_registry", "plugin_catalog_files",
    ])


def test_cli_invalid_catalog(clean_env) -> None:
    """An invalid base catalog: exit status 1 and the loader's problems on stderr."""
    from jaxpat.catalog import CatalogError
    from jaxpat.catalog._errors import Problem

    def broken() -> None:
        raise CatalogError([Problem("catalog.yaml", 3, 1, "bad field")])

    clean_env.setattr(_sandbox, "registry_isolated", broken)
    parser = argparse.ArgumentParser(prog="jaxpat")
    _cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["plugins"])
    out, err = io.StringIO(), io.StringIO()
    assert _cli.plugins_command(args, out=out, err=err) == 1
    assert "catalog.yaml:3:1: bad field" in err.getvalue()
    assert out.getvalue() == ""


def test_docs_example_runs() -> None:
    """The doctest in docs/plugins.md passes."""
    import doctest

    docs = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"
    result = doctest.testfile(str(docs), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert (result.failed, result.attempted > 0) == (0, True)
