"""Fenced blocks of the Markdown docs, and running them (tests/test_docs.py).

Two kinds of block are executable:

* ```` ```pycon ```` blocks are doctests. The blocks of one file run in order in one fresh
  interpreter (they share names), with ``doctest.ELLIPSIS``.
* a fenced block right after the line ``<!-- test: output -->`` is a terminal sample: each line
  ``$ jaxpat ARGS`` is run (as ``python -m jaxpat ARGS``, in the repository, third-party plugins
  off, stdout and stderr together) and the lines up to the next ``$`` line are its expected
  output, compared as doctest compares (``...`` matches anything, a line of ``...`` any lines).
  ``JAXPAT_REGENERATE_DOCS=1 pytest tests/test_docs.py`` rewrites those outputs from the current
  catalog and code (a sample ending in a ``...`` line keeps that many lines and the ``...``).
"""

from __future__ import annotations

import doctest
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = "<!-- test: output -->"
_FENCE = re.compile(r"^(`{3,})(\S*)\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: its info string (``pycon``, ``console``, ``""``), body, and where it is."""

    lang: str
    body: str
    line: int  # 1-based line of the first body line
    end: int  # 1-based line of the closing fence
    marked: bool  # the line before the fence is MARKER


def blocks(text: str) -> list[Block]:
    """Every fenced block of a Markdown text, in order."""
    lines = text.splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang, start = m.group(1), m.group(2), i
        j = i + 1
        while j < len(lines) and lines[j].rstrip() != fence:
            j += 1
        marked = start > 0 and lines[start - 1].strip() == MARKER
        out.append(Block(lang, "\n".join(lines[start + 1:j]) + "\n", start + 2, j + 1, marked))
        i = j + 1
    return out


# -- doctests ------------------------------------------------------------------------------------------------------

_RUNNER = r"""
import doctest, json, sys
items = json.loads(sys.stdin.read())
parser = doctest.DocTestParser()
runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
globs = {"__name__": "__doc__"}
report = []
for name, line, body in items:
    test = parser.get_doctest(body, globs, name, name, line - 1)
    runner.run(test, out=report.append, clear_globs=False)
    globs.update(test.globs)  # DocTest copies the globals it is given: later blocks see earlier names
failed, attempted = runner.summarize(verbose=False)
print("\n".join(report))
print(json.dumps({"failed": failed, "attempted": attempted}))
"""


def run_doctests(name: str, text: str, env: dict[str, str], cwd: Path) -> tuple[int, int, str]:
    """Run the ``pycon`` blocks of one document in a fresh interpreter: ``(failed, attempted, report)``."""
    items = [(name, b.line, b.body) for b in blocks(text) if b.lang == "pycon"]
    proc = subprocess.run([sys.executable, "-c", _RUNNER], input=json.dumps(items), capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=900)
    if proc.returncode != 0:
        return 1, len(items), proc.stdout[-6000:] + proc.stderr[-6000:]
    head, _, last = proc.stdout.rstrip("\n").rpartition("\n")
    counts = json.loads(last)
    return counts["failed"], counts["attempted"], head


# -- terminal samples ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    command: str
    expected: str


def samples(block: Block) -> list[Sample]:
    """The ``$ jaxpat ...`` commands of a marked block with their expected output."""
    out: list[Sample] = []
    command: str | None = None
    lines: list[str] = []
    for line in block.body.splitlines():
        if line.startswith("$ "):
            if command is not None:
                out.append(Sample(command, "\n".join(lines)))
            command, lines = line[2:].strip(), []
        elif command is not None:
            lines.append(line.rstrip())
        else:
            raise ValueError(f"line {block.line}: a sample must start with `$ jaxpat ...`, not {line!r}")
    if command is not None:
        out.append(Sample(command, "\n".join(lines)))
    return out


def run_sample(command: str, env: dict[str, str]) -> str:
    """Output of ``$ command`` (stdout then stderr, trailing spaces stripped), run in the repository."""
    argv = shlex.split(command.split("  #")[0])
    if argv[0] != "jaxpat":
        raise ValueError(f"a sample runs `jaxpat ...`, not {command!r}")
    proc = subprocess.run([sys.executable, "-m", "jaxpat", *argv[1:]], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)
    text = proc.stdout + proc.stderr
    return "\n".join(line.rstrip() for line in text.rstrip("\n").splitlines())


def matches(expected: str, got: str) -> bool:
    """doctest's comparison with ELLIPSIS (``...`` matches anything, across lines too)."""
    return doctest.OutputChecker().check_output(expected + "\n", got + "\n", doctest.ELLIPSIS)


def sample_env(tmp: Path) -> dict[str, str]:
    """The environment samples and doctests run in: no third-party plugin (the README's first command
    installs none), caches in ``tmp``, a terminal width that does not wrap."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAXPAT_")}
    env.update(JAXPAT_DISABLE_PLUGIN_AUTOLOAD="1", JAXPAT_CACHE_DIR=str(tmp / "cache"), COLUMNS="200",
               JAX_PLATFORMS="cpu", NO_COLOR="1")
    env.pop("FORCE_COLOR", None)
    return env


def regenerate(path: Path, env: dict[str, str]) -> bool:
    """Rewrite the outputs of ``path``'s marked samples from the current code; True if the file changed."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    for block in reversed([b for b in blocks(text) if b.marked]):
        body: list[str] = []
        for sample in samples(block):
            got = run_sample(sample.command, env).splitlines()
            old = sample.expected.splitlines()
            if old and old[-1].strip() == "...":
                got = [*got[: len(old) - 1], "..."]
            body += [f"$ {sample.command}", *got]
        lines[block.line - 1: block.end - 1] = body
    new = "\n".join(lines) + "\n"
    if new != text:
        path.write_text(new, encoding="utf-8")
        return True
    return False
