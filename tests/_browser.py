"""Open a page in headless Chromium (Debian's ``chromium``) and return its DOM and console errors.

Used by the HTML report tests. ``.ci/run`` installs Chromium and sets
``JAXPAT_REQUIRE_BROWSER=1``, which turns a missing browser from a skip into
a failure there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--enable-logging=stderr", "--v=0", "--hide-scrollbars"]


def chromium() -> str:
    """The browser's path; skips the test when there is none (fails under JAXPAT_REQUIRE_BROWSER=1)."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("JAXPAT_REQUIRE_BROWSER") == "1":
        pytest.fail("JAXPAT_REQUIRE_BROWSER=1 but no chromium on PATH (.ci/run installs Debian's chromium)")
    pytest.skip("no chromium on PATH (apt-get install chromium)")


@dataclass
class Page:
    dom: str
    console_errors: list[str]
    log: str

    def by_id(self, element_id: str) -> str:
        """The text content of the element with this id ('' when absent), as the DOM's textContent."""
        finder = _TextOf(element_id)
        finder.feed(self.dom)
        return "".join(finder.text)


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _TextOf(HTMLParser):
    def __init__(self, element_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.element_id = element_id
        self.depth = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == self.element_id:
            self.depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag not in _VOID:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text.append(data)


def open_page(path: Path, query: str = "", *, screenshot: Path | None = None,
              size: tuple[int, int] = (1280, 2000), timeout: float = 180) -> Page:
    """Load ``path`` (a file) with ``?query`` in a fresh profile; return the DOM after the scripts ran.

    With ``screenshot``, a PNG of the page's first ``size`` pixels is written there as well.
    """
    browser = chromium()
    url = path.resolve().as_uri() + (f"?{query}" if query else "")
    with tempfile.TemporaryDirectory(prefix="jaxpat-chromium-") as profile:
        base = [browser, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=10000"]
        proc = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=timeout)
        if screenshot is not None:
            subprocess.run([*base, f"--screenshot={screenshot}", f"--window-size={size[0]},{size[1]}", url],
                           capture_output=True, text=True, timeout=timeout, check=False)
    console = [line for line in proc.stderr.splitlines()
               if ":CONSOLE" in line and ("Uncaught" in line or "rror" in line)]
    return Page(proc.stdout, console, proc.stderr)
