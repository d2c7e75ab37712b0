"""Every ``JAXPAT_*`` environment variable jaxpat reads, declared once and parsed here.

Each :class:`Variable` has a name, the values it accepts, its default and a
one-line meaning; docs/cli.md's table is checked against :data:`VARIABLES`
(tests/test_env.py). One rule holds for all of them:

* unset, empty or only whitespace means the default;
* a value in the accepted form gives its parsed value;
* anything else raises :class:`EnvError`, a ``ValueError`` whose message names
  the variable, the value and what it accepts. The ``jaxpat`` command checks
  every set variable before it runs a subcommand and reports a bad one as a
  usage error (exit 2, docs/cli.md); ``pytest --jaxpat`` reports it as a
  ``pytest.UsageError``.

Callers use the typed accessors (:func:`cache_root`, :func:`flag`,
:func:`seconds`, :func:`devices`, :func:`label`, :func:`blocked_plugins`,
:func:`plugin_choice`, :func:`memory_budget`), never ``os.environ`` directly. Standard library only:
importing this module costs nothing.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "AUTOLOAD",
    "BLOCK",
    "CACHE_DIR",
    "DEVICES",
    "DEVICE_PLATFORMS",
    "DISABLE_CATALOG_CACHE",
    "DISABLE_OBSERVATIONS",
    "FRESH",
    "HOOK_TIMEOUT",
    "IMPORT_TIMEOUT",
    "LABEL",
    "MAX_MEMORY_MIB",
    "MAX_SECONDS",
    "MEMORY_BUDGET",
    "MIN_SECONDS",
    "NO_FORK_SERVER",
    "PLUGIN_CHOICE",
    "VARIABLES",
    "EnvError",
    "Variable",
    "blocked_plugins",
    "cache_root",
    "check_environment",
    "choice_variable",
    "devices",
    "flag",
    "label",
    "markdown_table",
    "memory_budget",
    "plugin_choice",
    "problems",
    "seconds",
]

Env = Mapping[str, str]

#: The smallest plugin time budget other than 0 (no limit): below a second even
#: jaxpat's own reference plugin may not finish importing, and a run would end
#: with "nothing selected" instead of naming the budget.
MIN_SECONDS = 1.0
#: The largest budget: about 11.6 days (``threading``'s waits overflow near 1e11 s).
MAX_SECONDS = 1_000_000.0
#: The platforms ``JAXPAT_DEVICES`` may name.
DEVICE_PLATFORMS = ("cpu", "cuda", "rocm", "tpu")
#: Longest host label.
MAX_LABEL = 200
#: Longest ``JAXPAT_CACHE_DIR`` (Linux's PATH_MAX).
MAX_PATH = 4096
#: The largest ``JAXPAT_MEMORY_BUDGET``: 1 TiB, in MiB.
MAX_MEMORY_MIB = 2**20

_ON = ("1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")
_DIST = re.compile(r"[A-Z0-9](?:[A-Z0-9._-]*[A-Z0-9])?", re.IGNORECASE)  # PEP 508 distribution names
_DEVICE_ID = re.compile(r"[0-9]+|[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9/-]+")  # an index, or a GPU-/MIG- UUID
_PLUGIN_NAME = re.compile(r"[^\s,]+")


class EnvError(ValueError):
    """A ``JAXPAT_*`` variable set to a value it does not accept: a usage error (exit 2).

    ``str()`` is ``NAME='value': why; accepts WHAT``.
    """

    def __init__(self, name: str, value: str, why: str, accepts: str) -> None:
        shown = value if len(value) <= 80 else value[:77] + "..."
        super().__init__(f"{name}={shown!r}: {why}; it accepts {accepts}")
        self.name = name
        self.value = value


@dataclass(frozen=True)
class Variable:
    """One environment variable: its name, what it accepts, its default and meaning, and its parser.

    ``parse(text)`` gets the stripped, non-empty value and returns the parsed
    one or raises ``ValueError(why)`` (turned into an :class:`EnvError`).
    """

    name: str
    accepts: str
    default: str
    meaning: str
    parse: Callable[[str], Any]
    #: ``JAXPAT_PLUGIN_<NAME>``: a family of variables, matched by prefix.
    prefix: bool = False

    def read(self, env: Env | None = None, name: str | None = None) -> Any:
        """The parsed value of the variable in ``env`` (default ``os.environ``), or None when unset or empty."""
        name = name or self.name
        raw = (os.environ if env is None else env).get(name)
        if raw is None or not raw.strip():
            return None
        try:
            return self.parse(raw.strip())
        except ValueError as exc:
            raise EnvError(name, raw, str(exc) or "not accepted", self.accepts) from None


# -- parsers ---------------------------------------------------------------------


def _printable(text: str, what: str) -> None:
    if not text.isprintable():
        raise ValueError(f"{what} contains a control character")


def _flag(text: str) -> bool:
    low = text.lower()
    if low in _ON:
        return True
    if low in _OFF:
        return False
    raise ValueError("not a yes/no value")


def _seconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("not a number") from None
    if math.isnan(value) or (math.isinf(value) and "inf" in text.lower()):
        raise ValueError("not a finite number")
    if value == 0:
        return None
    if value < 0:
        raise ValueError("negative")
    if value < MIN_SECONDS:
        raise ValueError(f"below the minimum of {MIN_SECONDS:g} s, too short for a plugin to load")
    if value > MAX_SECONDS:
        raise ValueError(f"above the maximum of {MAX_SECONDS:g} s")
    return value


def _cache_dir(text: str) -> Path:
    """An absolute directory that exists (or is created now) and that this process can write."""
    _printable(text, "the path")
    if len(text) > MAX_PATH:
        raise ValueError(f"longer than {MAX_PATH} characters")
    path = Path(os.path.expanduser(text))
    if not path.is_absolute():
        raise ValueError("not an absolute path")
    # what the first cache write would do, done now so that it fails here, with the variable's name;
    # one folder at a time (os.makedirs recurses once per missing level)
    missing = []
    here = path
    while not os.path.isdir(here):
        if os.path.lexists(here):
            raise ValueError("not a directory" if here == path else f"{str(here)!r} is not a directory")
        missing.append(here)
        if here.parent == here:
            break
        here = here.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder)
        except FileExistsError:
            if not os.path.isdir(folder):
                raise ValueError(f"{str(folder)!r} is not a directory") from None
        except OSError as exc:
            raise ValueError(f"cannot create it ({type(exc).__name__}: {exc.strerror or exc})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ValueError("not writable")
    return path


def _devices(text: str) -> tuple[str, tuple[str, ...]]:
    platform, colon, listed = text.partition(":")
    platform = platform.strip().lower()
    if platform not in DEVICE_PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}")
    ids = tuple(x.strip() for x in listed.split(",")) if colon and listed.strip() else ()
    if ids == ("-1",):  # CUDA_VISIBLE_DEVICES's "no device"
        return platform, ()
    for x in ids:
        if not _DEVICE_ID.fullmatch(x):
            raise ValueError(f"{x!r} is not a device index or UUID")
    if len(set(ids)) != len(ids):
        raise ValueError("a device is listed twice")
    return platform, ids


def _mib(text: str) -> int:
    if not text.isdigit() or not text.isascii():
        raise ValueError("not a whole number of MiB")
    value = int(text)
    if value > MAX_MEMORY_MIB:
        raise ValueError(f"above the maximum of {MAX_MEMORY_MIB} MiB")
    return value


def _label(text: str) -> str:
    _printable(text, "the label")
    if len(text) > MAX_LABEL:
        raise ValueError(f"longer than {MAX_LABEL} characters")
    return text


def _names(text: str) -> frozenset[str]:
    out = set()
    for part in text.split(","):
        name = part.strip()
        if not name:
            continue
        _printable(name, "a name")
        if not _PLUGIN_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a plugin name")
        out.add(name)
    return frozenset(out)


def _distribution(text: str) -> str:
    if not _DIST.fullmatch(text):
        raise ValueError("not a distribution name")
    return re.sub(r"[-_.]+", "-", text).lower()


# -- the variables ----------------------------------------------------------------

_YES_NO = "1/true/yes/on or 0/false/no/off (any case)"
_BUDGET = f"0 (no limit) or seconds from {MIN_SECONDS:g} to {MAX_SECONDS:g}"

CACHE_DIR = Variable(
    "JAXPAT_CACHE_DIR", "an absolute path (~ expands) to a directory jaxpat can create and write",
    "$XDG_CACHE_HOME/jaxpat, else ~/.cache/jaxpat",
    "root of jaxpat's caches: parsed catalog files in catalog/, installed plugin entry points in entry-points/, "
    "compiled XLA programs in xla/, stored results in results/", _cache_dir)
DISABLE_CATALOG_CACHE = Variable(
    "JAXPAT_DISABLE_CATALOG_CACHE", _YES_NO, "no",
    "yes: parse every catalog file, never read or write the parse cache or the entry-point index", _flag)
DISABLE_OBSERVATIONS = Variable(
    "JAXPAT_DISABLE_OBSERVATIONS", _YES_NO, "no",
    "yes: reports keep no observed values (to measure what observing costs)", _flag)
AUTOLOAD = Variable(
    "JAXPAT_DISABLE_PLUGIN_AUTOLOAD", _YES_NO, "no",
    "yes: skip plugins installed under the `jaxpat` entry point (the reference plugin still loads)", _flag)
BLOCK = Variable(
    "JAXPAT_BLOCK_PLUGINS", "comma-separated plugin names (no spaces or control characters inside a name)",
    "none", "plugins to skip, by name, before they are imported", _names)
PLUGIN_CHOICE = Variable(
    "JAXPAT_PLUGIN_<NAME>", "a distribution name (PEP 508: letters, digits, `.`, `_`, `-`)", "none",
    "which installed distribution provides plugin NAME when several register that name", _distribution,
    prefix=True)
IMPORT_TIMEOUT = Variable(
    "JAXPAT_PLUGIN_IMPORT_TIMEOUT", _BUDGET, "10",
    "time budget for importing a plugin's entry module (and its jaxpat_catalog_files)", _seconds)
HOOK_TIMEOUT = Variable(
    "JAXPAT_PLUGIN_HOOK_TIMEOUT", _BUDGET, "120",
    "time budget for a plugin's jaxpat_implementations hook (it usually imports JAX)", _seconds)
DEVICES = Variable(
    "JAXPAT_DEVICES", f"PLATFORM[:ID,ID,...] with PLATFORM one of {', '.join(DEVICE_PLATFORMS)} and each ID "
    "an index or a GPU-/MIG- UUID (`-1`: none)", "discovered",
    "declares the host's accelerators instead of discovering them (docs/devices.md)", _devices)
LABEL = Variable(
    "JAXPAT_LABEL", f"printable text, at most {MAX_LABEL} characters", "the host name",
    "this host's label in reports (docs/distributed.md)", _label)
FRESH = Variable(
    "JAXPAT_FRESH", _YES_NO, "no",
    "yes: run every item and leave the store alone, neither reading nor writing it (as `jaxpat check --fresh`)", _flag)
NO_FORK_SERVER = Variable(
    "JAXPAT_NO_FORK_SERVER", _YES_NO, "no",
    "yes: start every executor as a fresh interpreter, not as a fork of its judge's fork server (which imports "
    "JAX once; docs/security.md), and every plugin's process of `jaxpat list`, `show`, `validate` and `plugins` "
    "as one, not as a fork of the command's zygote", _flag)
MEMORY_BUDGET = Variable(
    "JAXPAT_MEMORY_BUDGET", f"a whole number of MiB from 0 to {MAX_MEMORY_MIB}", "512",
    "resident memory an executor may hold above what it held once ready to run items; past it, it drops JAX's "
    "compiled programs at the next pattern boundary (0: at every boundary; docs/report.md, `released`)", _mib)
HISTORY_DIR = Variable(
    "JAXPAT_HISTORY_DIR", "an absolute path (~ expands) to a directory jaxpat can create and write",
    "~/.cache/jaxpat/history",
    "where `jaxpat history` keeps one environment per JAX release and the release list", _cache_dir)

#: Every variable, in the order docs/cli.md lists them.
VARIABLES: tuple[Variable, ...] = (
    CACHE_DIR, DISABLE_CATALOG_CACHE, DISABLE_OBSERVATIONS, AUTOLOAD, BLOCK, PLUGIN_CHOICE, IMPORT_TIMEOUT,
    HOOK_TIMEOUT, DEVICES, LABEL, HISTORY_DIR, FRESH, NO_FORK_SERVER, MEMORY_BUDGET,
)
_BY_NAME = {v.name: v for v in VARIABLES if not v.prefix}
_CHOICE_PREFIX = "JAXPAT_PLUGIN_"


# -- accessors ----------------------------------------------------------------------


def cache_root(env: Env | None = None) -> Path:
    """jaxpat's cache folder: ``$JAXPAT_CACHE_DIR`` (created if missing), else ``$XDG_CACHE_HOME/jaxpat``, else
    ``~/.cache/jaxpat`` (not created). Raises :class:`EnvError` for an unusable ``JAXPAT_CACHE_DIR``."""
    env = os.environ if env is None else env
    root = CACHE_DIR.read(env)
    if root is not None:
        return Path(root)
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "jaxpat"


def flag(variable: Variable, env: Env | None = None) -> bool:
    """Whether a yes/no ``variable`` is on (unset: off)."""
    return bool(variable.read(env))


def seconds(variable: Variable, default: float, env: Env | None = None) -> float | None:
    """A time budget: ``default`` when unset, None for ``0`` (no limit), else the seconds given."""
    raw = (os.environ if env is None else env).get(variable.name, "")
    if not raw.strip():
        return default
    value: float | None = variable.read(env)
    return value


def memory_budget(env: Env | None = None) -> int | None:
    """``JAXPAT_MEMORY_BUDGET`` in bytes, or None when unset (the executor's default applies)."""
    value: int | None = MEMORY_BUDGET.read(env)
    return None if value is None else value * 2**20


def devices(env: Env | None = None) -> tuple[str, tuple[str, ...]] | None:
    """``JAXPAT_DEVICES`` as (platform, ids), or None when unset."""
    value: tuple[str, tuple[str, ...]] | None = DEVICES.read(env)
    return value


def label(env: Env | None = None) -> str | None:
    """``JAXPAT_LABEL`` (stripped), or None when unset."""
    value: str | None = LABEL.read(env)
    return value


def blocked_plugins(env: Env | None = None) -> frozenset[str]:
    """The plugin names ``JAXPAT_BLOCK_PLUGINS`` lists (empty when unset)."""
    value: frozenset[str] | None = BLOCK.read(env)
    return value or frozenset()


def choice_variable(plugin: str) -> str:
    """The variable that picks the distribution of plugin ``plugin``: ``JAXPAT_PLUGIN_<NAME>``."""
    return _CHOICE_PREFIX + re.sub(r"\W", "_", plugin).upper()


def plugin_choice(plugin: str, env: Env | None = None) -> str | None:
    """The normalised distribution name ``JAXPAT_PLUGIN_<NAME>`` picks for plugin ``plugin``, or None."""
    value: str | None = PLUGIN_CHOICE.read(env, choice_variable(plugin))
    return value


# -- checking them all ------------------------------------------------------------------


def _set_variables(env: Env) -> Iterator[tuple[str, Variable]]:
    for name in sorted(env):
        if name in _BY_NAME:
            yield name, _BY_NAME[name]
        elif name.startswith(_CHOICE_PREFIX) and len(name) > len(_CHOICE_PREFIX):
            yield name, PLUGIN_CHOICE


def problems(env: Env | None = None) -> list[EnvError]:
    """An :class:`EnvError` for each declared variable set in ``env`` to a value it does not accept."""
    env = os.environ if env is None else env
    out = []
    for name, variable in _set_variables(env):
        try:
            variable.read(env, name)
        except EnvError as exc:
            out.append(exc)
    return out


def check_environment(env: Env | None = None) -> None:
    """Raise the first of :func:`problems` (its message lists them all), or return when there is none."""
    found = problems(env)
    if found:
        first = found[0]
        if len(found) > 1:
            first.args = ("\n".join(str(e) for e in found),)
        raise first


def markdown_table() -> str:
    """The table of :data:`VARIABLES` that docs/cli.md shows (tests/test_env.py keeps the two equal)."""
    rows = ["| variable | accepts | default | meaning |", "|---|---|---|---|"]
    for v in VARIABLES:
        rows.append(f"| `{v.name}` | {v.accepts} | {v.default} | {v.meaning} |")
    return "\n".join(rows)
