"""Hostile values for every JAXPAT_* variable: a value in range or the documented usage error, nothing else.

For each variable declared in jaxpat/_env.py, a fixed list of hostile values
(empty, whitespace, nan, inf, huge numbers, non-ASCII, control characters, files,
/dev/null, a missing folder under /proc, ``::::``, very long strings) and a seeded
batch of random ones are parsed. Each must give ``None`` (unset) or a value the
variable's range allows, or raise :class:`jaxpat._env.EnvError` with the variable's
name and what it accepts; any other exception is an internal error and fails the
test. Then a few end-to-end ``jaxpat`` runs for the variables that used to end in
an internal error. ``JAXPAT_FUZZ_EXAMPLES`` (default 300) sets the random batch.
"""

from __future__ import annotations

import math
import os
import random
import re
import string
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jaxpat import _env
from jaxpat._env import EnvError, Variable

SEED = 20261207
EXAMPLES = int(os.environ.get("JAXPAT_FUZZ_EXAMPLES", "300"))
#: Characters random values are drawn from: the syntax the parsers look at, letters, digits,
#: whitespace, NUL-free control characters, non-ASCII (a lone surrogate is what os.environ
#: holds for an undecodable byte).
ALPHABET = (string.digits * 3 + ".-+eE:,/~_ " + "abcxyzGPUMIinfa" + "\t\n\x01\x07\x1b\x1f\x7f"
            + "é日\u2028\u00a0\udcff٣")
HUGE = str(10**400)


def hostile(tmp: Path) -> list[str]:
    """The fixed hostile values; paths point into ``tmp`` or at harmless system files."""
    (tmp / "a-file").write_text("x")
    (tmp / "a-dir").mkdir(exist_ok=True)
    return [
        "", " ", "\t\n ", "nan", "NaN", "-nan", "inf", "-inf", "+Infinity", "-1", "0", "-0", "0.0", "1e-300",
        "1e300", "1e-9", "0.5", "1", "1e6", "1e6.1", HUGE, "-" + HUGE, "0x10", "1_000", "١٢", "½", "é", "日本語",
        "\x01", "\x1b[31mred", "\x7f", "a\nb", "tab\there", "\u2028", "\udcff", "::::", ":", ",", ",,,", " , ",
        "cuda:", "cuda:0,0", "cuda:-1", "cuda:-2", "CUDA:0", "tpu:0,1", "rocm:GPU-1234", "cpu:0", "gpu:0",
        "true", "YES", "off", "2", "yes please", "x" * 100_000, "9" * 100_000, "a," * 5_000,
        str(tmp / "a-file"), str(tmp / "a-dir"), str(tmp / "a-file" / "below"), str(tmp / "new" / "deeper"),
        "/dev/null", "/proc/jaxpat-missing/cache", "/proc/self/status", "~", "~/cache", "~nosuchuser/x",
        "relative/dir", str(tmp / ("n" * 300)), str(tmp) + "/" + "d/" * 2100,  # over MAX_PATH: nothing created
    ]


def randoms(rng: random.Random, n: int) -> list[str]:
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 40))) for _ in range(n)]


# -- what each variable's parsed value must satisfy ----------------------------------------

_DIST = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _ok_cache(v: Any) -> bool:
    return isinstance(v, Path) and v.is_absolute() and v.is_dir() and os.access(v, os.W_OK)


def _ok_seconds(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isfinite(v) and _env.MIN_SECONDS <= v <= _env.MAX_SECONDS)


def _ok_devices(v: Any) -> bool:
    platform, ids = v
    return (platform in _env.DEVICE_PLATFORMS and isinstance(ids, tuple) and len(set(ids)) == len(ids)
            and all(isinstance(i, str) and i and i.isprintable() and "," not in i for i in ids))


def _ok_label(v: Any) -> bool:
    return isinstance(v, str) and v.isprintable() and 0 < len(v) <= _env.MAX_LABEL and v == v.strip()


def _ok_names(v: Any) -> bool:
    return isinstance(v, frozenset) and all(n and n.isprintable() and not re.search(r"[\s,]", n) for n in v)


RANGE: dict[str, Callable[[Any], bool]] = {
    "JAXPAT_CACHE_DIR": _ok_cache,
    "JAXPAT_DISABLE_CATALOG_CACHE": lambda v: v in (True, False),
    "JAXPAT_DISABLE_OBSERVATIONS": lambda v: v in (True, False),
    "JAXPAT_DISABLE_PLUGIN_AUTOLOAD": lambda v: v in (True, False),
    "JAXPAT_FRESH": lambda v: v in (True, False),
    "JAXPAT_NO_FORK_SERVER": lambda v: v in (True, False),
    "JAXPAT_BLOCK_PLUGINS": _ok_names,
    "JAXPAT_PLUGIN_<NAME>": lambda v: isinstance(v, str) and bool(_DIST.fullmatch(v)),
    "JAXPAT_PLUGIN_IMPORT_TIMEOUT": _ok_seconds,
    "JAXPAT_PLUGIN_HOOK_TIMEOUT": _ok_seconds,
    "JAXPAT_DEVICES": _ok_devices,
    "JAXPAT_LABEL": _ok_label,
    "JAXPAT_HISTORY_DIR": _ok_cache,
    "JAXPAT_MEMORY_BUDGET": lambda v: type(v) is int and 0 <= v <= _env.MAX_MEMORY_MIB,
}


def test_every_declared_variable_has_a_range_here() -> None:
    assert set(RANGE) == {v.name for v in _env.VARIABLES}


def _for_cache_dir(value: str, tmp: Path) -> str:
    """Random absolute values for JAXPAT_CACHE_DIR go under ``tmp`` (validating one creates it)."""
    return str(tmp) + value if value.startswith("/") and not value.startswith(("/dev/", "/proc/", str(tmp))) \
        else value


@pytest.mark.parametrize("variable", _env.VARIABLES, ids=[v.name for v in _env.VARIABLES])
def test_hostile_values_give_a_value_in_range_or_the_usage_error(
        variable: Variable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # "~/..." values create folders there, nowhere else
    name = "JAXPAT_PLUGIN_FUZZ" if variable.prefix else variable.name
    rng = random.Random(f"{SEED}:{variable.name}")
    values = hostile(tmp_path) + randoms(rng, EXAMPLES)
    if variable in (_env.CACHE_DIR, _env.HISTORY_DIR):  # folders it creates stay under tmp_path
        values = [_for_cache_dir(v, tmp_path) for v in values]
    ok = refused = 0
    internal: list[str] = []
    for value in values:
        env = {name: value}
        refusal: EnvError | None = None
        try:
            got = variable.read(env, name)
        except EnvError as exc:
            refusal = exc
        except Exception as exc:  # an internal error: what this test exists to find
            internal.append(f"{value[:40]!r}: {type(exc).__name__}: {exc}")
            continue
        if refusal is not None:
            text = str(refusal)
            assert text.startswith(f"{name}="), text
            assert f"it accepts {variable.accepts}" in text, text
            assert refusal.name == name
            refused += 1
            assert _env.problems(env)[0].args == refusal.args  # the whole-environment check says the same
            continue
        if value.strip():
            assert RANGE[variable.name](got), f"{name}={value[:60]!r} parsed to {got!r}, out of range"
        else:
            assert got is None  # empty or whitespace: unset, the default
        assert _env.problems(env) == []
        ok += 1
    print(f"{name}: {len(values)} values tried, {ok} accepted, {refused} refused, {len(internal)} internal errors")
    assert not internal, "\n".join(internal[:10])
    assert refused > 0  # the hostile list always holds values the variable refuses


def test_every_variable_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random environments holding every variable: problems() names exactly the refused ones, never raises."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    rng = random.Random(SEED)
    pool = hostile(tmp_path)
    for _ in range(max(EXAMPLES // 3, 10)):
        env = {("JAXPAT_PLUGIN_X" if v.prefix else v.name): rng.choice(pool) for v in _env.VARIABLES}
        env["JAXPAT_CACHE_DIR"] = _for_cache_dir(env["JAXPAT_CACHE_DIR"], tmp_path)
        env["JAXPAT_HISTORY_DIR"] = _for_cache_dir(env["JAXPAT_HISTORY_DIR"], tmp_path)
        named = {e.name for e in _env.problems(env)}
        for var in _env.VARIABLES:
            key = "JAXPAT_PLUGIN_X" if var.prefix else var.name
            try:
                var.read(env, key)
            except EnvError:
                assert key in named
            else:
                assert key not in named


# -- end to end: the values that used to end in an internal error ------------------------------

#: (variable, value): each ended in exit 4 or an INTERNALERROR before jaxpat/_env.py.
BEFORE = [
    ("JAXPAT_PLUGIN_IMPORT_TIMEOUT", "nan"),  # ValueError from threading
    ("JAXPAT_PLUGIN_IMPORT_TIMEOUT", "inf"),  # OverflowError
    ("JAXPAT_PLUGIN_IMPORT_TIMEOUT", "1e-9"),  # plugins did not load: "no item matches", no reason
    ("JAXPAT_PLUGIN_HOOK_TIMEOUT", "1e300"),
    ("JAXPAT_DEVICES", "::::"),  # INTERNALERROR KeyError ''
    ("JAXPAT_CACHE_DIR", "/dev/null"),  # "no active workers"; -n 0: NotADirectoryError
]


def _jaxpat(*argv: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jaxpat", *argv], env={**os.environ, **env}, cwd=cwd,
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.parametrize(("name", "value"), BEFORE, ids=[f"{n}={v}" for n, v in BEFORE])
@pytest.mark.parametrize("argv", [["list"], ["check", "--pattern", "scan-cumsum", "-n", "0"]], ids=["list", "check"])
def test_jaxpat_refuses_them_as_usage_errors(name: str, value: str, argv: list[str], tmp_path: Path) -> None:
    proc = _jaxpat(*argv, env={name: value}, cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert f"jaxpat {argv[0]}: {name}={value!r}: " in proc.stderr
    assert "it accepts" in proc.stderr
    for sign in ("internal error", "INTERNALERROR", "Traceback"):
        assert sign not in out
    assert not (tmp_path / "jaxpat-report.json").exists()  # refused before anything ran


def test_a_cache_dir_that_is_a_file_is_refused_and_a_good_one_is_used(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    bad = _jaxpat("check", "--pattern", "scan-cumsum", "-n", "0", env={"JAXPAT_CACHE_DIR": str(tmp_path / "f")},
                  cwd=tmp_path)
    assert bad.returncode == 2, bad.stdout + bad.stderr
    assert "JAXPAT_CACHE_DIR=" in bad.stderr
    assert "not a directory" in bad.stderr
    good = tmp_path / "cache"
    ok = _jaxpat("check", "--pattern", "scan-cumsum", "-n", "0", "--no-claims", "--transform", "eager",
                 env={"JAXPAT_CACHE_DIR": str(good), "JAXPAT_DEVICES": "cpu"}, cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert (good / "xla").is_dir()  # the compilation cache went where the variable said
