"""Rewrite tests/durations.json from a pytest junit xml file: ``python tests/_durations.py JUNIT.xml``.

tests/conftest.py sends the slowest tests (and groups of tests sharing an expensive fixture) to the
xdist workers first; it reads their durations here. Record them with
``pytest -n 2 --junitxml=JUNIT.xml``; tests under ``MIN_SECONDS`` are left out (they keep their order).
The figures only order the tests: a stale table makes the suite slower, never wrong.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET  # pytest's own output, not untrusted input
from pathlib import Path

MIN_SECONDS = 1.0
OUT = Path(__file__).with_name("durations.json")


def durations(junit: Path) -> dict[str, float]:
    """``path::name[params]`` -> seconds (set-up + call + teardown) of every test in ``junit``."""
    out: dict[str, float] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        # pytest writes classname "tests.test_x" (or "tests.test_x.TestClass") and the test's name; under
        # `--dist loadgroup` a grouped test's name ends with "@GROUP"
        parts = (case.get("classname") or "").split(".")
        path = "/".join(parts[:2]) + ".py"
        name = "::".join([*parts[2:], (case.get("name") or "").split("@", 1)[0]])
        key = f"{path}::{name}"
        out[key] = out.get(key, 0.0) + float(case.get("time") or 0.0)
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    found = durations(Path(argv[0]))
    kept = {k: round(v, 1) for k, v in sorted(found.items(), key=lambda kv: -kv[1]) if v >= MIN_SECONDS}
    try:  # the tests that go first whatever their time (CI-only ones: not in a local junit file) are kept
        first = json.loads(OUT.read_text(encoding="utf-8")).get("first", [])
    except (OSError, ValueError):
        first = []
    OUT.write_text(json.dumps({"source": f"pytest -n 2 --junitxml ({len(found)} tests; >= {MIN_SECONDS} s kept)",
                               "first": first, "seconds": kept}, indent=1) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(kept)} of {len(found)} tests")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
