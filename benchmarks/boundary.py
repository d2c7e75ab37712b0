"""The cost of the clean-room process boundary: `jaxpat check -n 2` with executors vs the in-process runner.

    python -m benchmarks.boundary --baseline /path/to/old/venv/bin/jaxpat [--pattern GLOB ...] [--rounds 1]

The baseline is an install of commit 6fb7fef (the last runner that ran plugin
code in the judging process): ``git worktree add /tmp/old 6fb7fef && python3.12
-m venv /tmp/old/.venv && /tmp/old/.venv/bin/pip install -e /tmp/old``. Both
run the same catalog on the same JAX, interleaved in one invocation (so load
on the machine hits both alike): for each round, a cold run (an empty XLA
compilation cache) then a warm run (the cache the cold run filled), first the
baseline then this checkout. Figures are wall seconds of the whole command;
the ratio is this checkout / baseline, with MET or NOT MET against the
target (warm ratio <= 1.10). Results go to ``benchmarks/results/boundary/DATE-jax-VERSION-NCORE.json``
(a folder of their own: the README's paragraph quotes the newest file of ``benchmarks/results/``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

TARGET_WARM = 1.10
RESULTS = Path(__file__).parent / "results" / "boundary"


def _run(jaxpat: str, patterns: list[str], cache: Path, work: Path) -> dict[str, float | int | str]:
    args = [jaxpat, "check", "-n", "2", "--no-claims", "--fresh", "--cache-dir", str(cache), "--report", "r.json"]
    for p in patterns:
        args += ["--pattern", p]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    t0 = time.perf_counter()
    proc = subprocess.run(args, cwd=work, env=env, capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - t0
    report = json.loads((work / "r.json").read_text())
    return {"wall_s": round(wall, 2), "exit": proc.returncode, "items": report["summary"]["total"],
            "passed": report["summary"]["passed"], "status": report["status"]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.boundary", description=__doc__.split("\n\n")[0])
    p.add_argument("--baseline", required=True, help="the `jaxpat` script of an install of commit 6fb7fef")
    p.add_argument("--current", default=shutil.which("jaxpat") or str(Path(sys.executable).with_name("jaxpat")))
    p.add_argument("--pattern", action="append", default=[], help="patterns to run (default: the whole catalog)")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--no-write", action="store_true", help="print only; do not update the results file")
    ns = p.parse_args(argv)
    runs: dict[str, dict[str, list[dict]]] = {"baseline": {"cold": [], "warm": []},
                                              "current": {"cold": [], "warm": []}}
    for _ in range(ns.rounds):
        for which, exe in (("baseline", ns.baseline), ("current", ns.current)):
            with tempfile.TemporaryDirectory(prefix=f"jaxpat-boundary-{which}-") as tmp:
                cache, work = Path(tmp) / "xla", Path(tmp)
                for temp in ("cold", "warm"):
                    r = _run(exe, ns.pattern, cache, work)
                    runs[which][temp].append(r)
                    print(f"{which:8} {temp}: {r['wall_s']:8.2f} s  {r['items']} items, exit {r['exit']}",
                          flush=True)
    figures = {}
    for temp in ("cold", "warm"):
        base = statistics.median(r["wall_s"] for r in runs["baseline"][temp])
        cur = statistics.median(r["wall_s"] for r in runs["current"][temp])
        figures[temp] = {"baseline_s": base, "current_s": cur, "ratio": round(cur / base, 3)}
    met = figures["warm"]["ratio"] <= TARGET_WARM
    for temp, f in figures.items():
        print(f"{temp}: current {f['current_s']:.2f} s / baseline {f['baseline_s']:.2f} s = {f['ratio']:.3f}x")
    print(f"process boundary, warm: {figures['warm']['ratio']:.3f}x (target <= {TARGET_WARM}): "
          f"{'MET' if met else 'NOT MET'}")
    if not ns.no_write:
        import jax  # the version both installs ran (they share it)

        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / f"{datetime.now(timezone.utc):%Y-%m-%d}-jax-{jax.__version__}-{os.cpu_count()}core.json"
        out.write_text(json.dumps({
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
            "machine": f"{platform.node()} ({os.cpu_count()} cores)", "python": platform.python_version(),
            "patterns": ns.pattern or "the whole catalog", "rounds": ns.rounds, "runs": runs,
            "figures": figures, "target_warm": TARGET_WARM, "met": met,
            "command": "python -m benchmarks.boundary " + " ".join(argv or sys.argv[1:]),
        }, indent=2) + "\n")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
