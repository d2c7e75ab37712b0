"""scripts/python3.12 (the README's development command) finds Python 3.12 on PATH or among pyenv's versions."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "python3.12"


def _exe(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


def _tools(tmp: Path) -> Path:
    """A folder with only the commands the script needs, so that no real python3.12 or pyenv is found."""
    tools = tmp / "tools"
    tools.mkdir(exist_ok=True)
    for name in ("ls", "grep", "sort", "tail"):
        found = shutil.which(name)
        assert found, name
        if not (tools / name).exists():
            (tools / name).symlink_to(found)
    return tools


def _run(tmp: Path, path_dirs: list[Path], pyenv_root: Path | None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.pathsep.join([*map(str, path_dirs), str(_tools(tmp))]), "HOME": str(tmp / "home")}
    if pyenv_root is not None:
        env["PYENV_ROOT"] = str(pyenv_root)
    return subprocess.run([str(SCRIPT), "-m", "venv", "x"], capture_output=True, text=True, env=env, cwd=tmp)


def test_the_readme_uses_the_script() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[4].startswith("scripts/python3.12 -m venv .venv && ")
    assert os.access(SCRIPT, os.X_OK)


def test_a_working_python312_on_path_is_used(tmp_path: Path) -> None:
    _exe(tmp_path / "bin" / "python3.12", 'echo "path python: $*"')
    _exe(tmp_path / "pyenv" / "versions" / "3.12.4" / "bin" / "python3.12", 'echo "pyenv python: $*"')
    proc = _run(tmp_path, [tmp_path / "bin"], tmp_path / "pyenv")
    assert (proc.returncode, proc.stdout) == (0, "path python: -m venv x\n")


def test_a_pyenv_shim_that_does_not_run_falls_back_to_pyenvs_newest_312(tmp_path: Path) -> None:
    """CI's case: the shim exits 127 without PYENV_VERSION; the newest 3.12.x of pyenv's versions runs."""
    _exe(tmp_path / "shims" / "python3.12", 'echo "pyenv: python3.12: command not found" >&2; exit 127')
    for version in ("3.12.1", "3.12.10", "3.12.9", "3.11.7", "3.13.0"):
        _exe(tmp_path / "pyenv" / "versions" / version / "bin" / "python3.12", f'echo "{version}: $*"')
    proc = _run(tmp_path, [tmp_path / "shims"], tmp_path / "pyenv")
    assert (proc.returncode, proc.stdout) == (0, "3.12.10: -m venv x\n"), proc.stderr


def test_pyenv_root_defaults_to_home(tmp_path: Path) -> None:
    _exe(tmp_path / "home" / ".pyenv" / "versions" / "3.12.2" / "bin" / "python3.12", 'echo "home: $*"')
    proc = _run(tmp_path, [], None)
    assert (proc.returncode, proc.stdout) == (0, "home: -m venv x\n"), proc.stderr


def test_no_python312_anywhere_says_what_to_install(tmp_path: Path) -> None:
    _exe(tmp_path / "pyenv" / "versions" / "3.11.7" / "bin" / "python3.11", "exit 0")
    proc = _run(tmp_path, [], tmp_path / "pyenv")
    assert proc.returncode == 127
    assert "no Python 3.12 found" in proc.stderr
    assert "pyenv install 3.12" in proc.stderr
