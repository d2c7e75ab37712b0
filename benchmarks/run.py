"""``python -m benchmarks``: eleven figures, each a ratio of two measurements taken side by side in one invocation.

1. harness overhead: the CPU time of the conformance suite's item loop (pytest, serial, no persistent
   cache: the judge and its executor) vs a bare loop doing the same JAX work (:mod:`benchmarks.bare_loop`,
   its first pass) — target <= 1.05 (start-up is figure 5's; whole-process times in the notes);
2. parallel: ``-n 2`` vs ``-n 0``, whole pytest process — target >= 1.7x faster;
3. persistent compilation cache: cold vs warm, serial — target >= 3x faster;
4. compilations per jit signature: what the suite's jit items compile vs their distinct signatures (those
   whose call returned) — target <= 1.00, with no signature compiled more than once and no jit program
   compiled by a second pass over the same items in one process (save those listed apart, with the bare
   loop's figures, as evicted from JAX's bounded jit lowering cache: :func:`evicted_recompiles`);
5. start-up: ``from jaxpat import patterns; patterns.load_catalog()`` vs ``import jax`` — target <= 0.3,
   and no JAX import;
6. scale: synthetic catalogs 10x and 100x the shipped one — (a) 10,000+ items collected in <= 5 s;
   (b) time per warm jit item at 10x (and a 100x sample) within +-10% of 2x;
7. observation overhead: the CPU time of one cold pass of every item with its observations vs the same
   pass less their own CPU time (:mod:`benchmarks.observe_cost`) — target <= 1.05;
8. worker memory: (a) the peak resident memory of each ``-n 2`` worker (the report's ``peak_rss``) —
   bound <= 1 GiB; (b) resident memory left behind per item by a process running every item, releasing
   at each pattern boundary (:mod:`benchmarks.memory`) — bound <= 0.1 MiB per item;
9. reuse: a re-run with nothing changed vs the cold run that stored its results — target <= 0.10
   (inconclusive in a checkout without a result store);
10. the project's test suite, ``pytest -n 2 tests/``, whole process — bound <= 300 s (read from the newest
   committed ``benchmarks/results/suite/`` file unless ``--run-suite``; the output says which);
11. reports at scale: ``jaxpat report show``, ``diff``, ``merge`` and ``html`` on two synthetic reports of
   1,000,000 results (100,000 with ``--quick``; :mod:`benchmarks.report_scale`) — each <= 60 s and <= 2 GiB
   (read from the newest committed ``benchmarks/results/reports/`` file unless ``--run-reports``).

Every measurement is a fresh subprocess; ``benchmarks/README.md`` explains the definitions.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import _harness as h
from . import _scale, report_scale

#: Patterns of the reduced (``--quick``) run: a fixed sample, so quick figures are comparable run to run.
QUICK_PATTERNS = 10
#: Patterns whose jit items figure 6b runs at every scale in a quick run (a full run takes them all).
SCALE_QUICK_PATTERNS = 30
#: Replicas of the 100x catalog that figure 6b's sample runs (replica 0, warmed up, and 9 others).
SCALE_SAMPLE_REPLICAS = 10
#: Figure 6b: runs of each of the 2x and 10x scales, alternating (their per-item figures pooled).
SCALE_ROUNDS = 2
#: Figure 10: the test suite's workers (the 2-core machine's `-n auto`) and its bound, seconds.
SUITE_WORKERS, SUITE_BOUND = 2, 300.0
#: What figure 10 runs: the whole suite.
SUITE_TESTS = [str(Path(__file__).resolve().parents[1] / "tests")]
#: Committed results that figures 10 and 11 read unless ``--run-suite`` / ``--run-reports``.
SUITE_RESULTS = Path(__file__).resolve().parent / "results" / "suite"
REPORT_RESULTS = Path(__file__).resolve().parent / "results" / "reports"


class Bench:
    """One invocation: a scratch directory, the subprocess environment, and the figures measured so far."""

    def __init__(self, ns: argparse.Namespace) -> None:
        self.ns = ns
        self.quick = ns.quick
        self.root = Path(tempfile.mkdtemp(prefix="jaxpat-bench-", dir=ns.workdir))
        self.pycache = self.root / "pycache"
        self.patterns = _scale.sample_patterns(QUICK_PATTERNS) if self.quick else []
        self.figures: list[h.Figure] = []
        self.raw: dict[str, Any] = {}

    # -- environment -----------------------------------------------------------

    def env(self, extra: dict[str, str] | None = None, **kw: Any) -> dict[str, str]:
        """Bytecode cached (as in an installed environment), in a prefix of our own: nothing written to the repo.

        jaxpat's per-user caches (the catalog parse cache) live in the scratch directory too.
        """
        out = h.env(extra, **kw)
        out["JAXPAT_CACHE_DIR"] = str(self.root / "cache")
        if not self.ns.no_bytecode_cache:
            out.pop("PYTHONDONTWRITEBYTECODE", None)
            out["PYTHONPYCACHEPREFIX"] = str(self.pycache)
        return out

    def workdir(self, name: str) -> Path:
        d = self.root / name
        d.mkdir(parents=True, exist_ok=True)
        return d

    def log(self, msg: str) -> None:
        print(f"  .. {msg}", file=sys.stderr, flush=True)

    def pytest(self, name: str, *, workers: int = 0, no_cache: bool = True, cache_dir: str | None = None,
               env: dict[str, str] | None = None, reuse: bool = False, timing: bool = False,
               **kw: Any) -> tuple[h.Proc, dict[str, Any]]:
        """A conformance run in a fresh process; returns it and its JSON report.

        ``timing``: with :mod:`benchmarks._timing` loaded; its figures (the item loop's wall and CPU time)
        are in ``self.raw[name + "-timing"]``.
        """
        cwd = self.workdir(name)
        report = str(cwd / "report.json")
        kw.setdefault("patterns", self.patterns)
        environ = dict(env or self.env())
        if timing:
            kw["extra"] = [*kw.get("extra", ()), "-p", "benchmarks._timing"]
            environ["JAXPAT_BENCH_TIMING"] = str(cwd / "timing.json")
        cmd = h.pytest_command(cwd, report=report, workers=workers, no_cache=no_cache, cache_dir=cache_dir,
                               reuse=reuse, **kw)
        proc = h.run(cmd, cwd=cwd, environ=environ)
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"{name}: pytest exited {proc.returncode}:\n{proc.tail()}")
        rep = h.load_json(report)
        if timing:
            self.raw[f"{name}-timing"] = h.load_json(cwd / "timing.json")
        self.log(f"{name}: {proc.wall:.1f} s, {rep['summary'].get('total')} items, "
                 f"{rep['compiles']['count']} compilations, exit {proc.returncode}")
        return proc, rep

    def bare(self, name: str, passes: int) -> tuple[h.Proc, dict[str, Any]]:
        cwd = self.workdir(name)
        out = cwd / "bare.json"
        cmd = [sys.executable, "-m", "benchmarks.bare_loop", "--passes", str(passes), "--out", str(out)]
        for p in self.patterns:
            cmd += ["--pattern", p]
        proc = h.run(cmd, cwd=cwd, environ=self.env())
        if proc.returncode != 0:
            raise RuntimeError(f"{name}: bare loop exited {proc.returncode}:\n{proc.tail()}")
        data = h.load_json(out)
        self.log(f"{name}: {proc.wall:.1f} s, {data['items']} items, passes "
                 + ", ".join(f"{p['seconds']:.1f} s / {p['compiles']} compilations" for p in data["passes"]))
        return proc, data

    def add(self, fig: h.Figure) -> None:
        self.figures.append(fig)
        print("\n".join(fig.lines()), flush=True)

    # -- warm-up ---------------------------------------------------------------

    def warm_up(self) -> None:
        """Fill the bytecode cache (and the OS file cache) before anything is timed."""
        t0 = time.perf_counter()
        env = self.env(pythonpath=())
        for code in ("from jaxpat import patterns; patterns.load_catalog()", "import jax",
                     "import jax, jaxpat.patterns, jaxpat.conformance._execute, jaxpat.conformance._compare; "
                     "jaxpat.patterns.load_registry()"):
            h.run([sys.executable, "-c", code], cwd=self.root, environ=env)
        cwd = self.workdir("warm-up")
        cmd = h.pytest_command(cwd, patterns=self.patterns or ["arange-*"], extra=["--collect-only"])
        h.run(cmd, cwd=cwd, environ=self.env())
        self.log(f"warm-up (bytecode cache, file cache): {time.perf_counter() - t0:.1f} s")

    # -- figures 1, 2 and 4 -------------------------------------------------------

    def overhead_parallel_compiles(self, figures: set[int]) -> None:
        serial_walls, bare_walls, par_walls = [], [], []
        serial_cpus, bare_cpus, par_cpus = [], [], []
        serial_rep = bare_data = par_rep = None
        # figure 1's item loops: pytest's first item's start to its last item's finish (judge + executors), the
        # bare loop's first pass
        loop_walls: list[float] = []
        loop_cpus: list[float] = []
        judge_cpus: list[float] = []
        pass_walls: list[float] = []
        pass_cpus: list[float] = []
        for r in range(self.ns.repeat):
            # Alternate the order (ABBA) so that a drift in the machine's load hits both sides alike.
            order = ["serial", "bare", "parallel"] if r % 2 == 0 else ["parallel", "bare", "serial"]
            for side in order:
                if side == "serial":
                    proc, serial_rep = self.pytest(f"serial-{r}", timing=True)
                    serial_walls.append(proc.wall)
                    serial_cpus.append(proc.cpu)
                    t = self.raw[f"serial-{r}-timing"]
                    loop_walls.append(t["loop_seconds"])
                    loop_cpus.append(sum(t["loop_cpu"].values()) if t.get("loop_cpu") else float("nan"))
                    judge_cpus.append((t.get("loop_cpu") or {}).get("judge", float("nan")))
                elif side == "bare" and figures & {1, 4}:
                    proc, bare_data = self.bare(f"bare-{r}", passes=2 if 4 in figures else 1)
                    bare_walls.append(proc.wall - bare_data["seconds_after_first_pass"])
                    bare_cpus.append(bare_data["cpu_at_first_pass_end"])
                    pass_walls.append(bare_data["passes"][0]["seconds"])
                    pass_cpus.append(bare_data["passes"][0].get("cpu", float("nan")))
                elif side == "parallel" and figures & {2, 8}:
                    proc, par_rep = self.pytest(f"parallel-{r}", workers=2)
                    self.raw["parallel_report"] = par_rep
                    par_walls.append(proc.wall)
                    par_cpus.append(proc.cpu)
        assert serial_rep is not None
        items = serial_rep["summary"]["total"]
        if 1 in figures and bare_data is not None:
            # The harness's cost per item: CPU time of the item loops (the judge and its executors vs the bare
            # loop's first pass), which a busy machine disturbs far less than wall time (on the shared 2-core
            # machine, wall times of the same run differ by 30 % and more). Start-up is left out: it is figure
            # 5's (pytest, the catalog, the probe and the executors start before the first item); the whole
            # process is in the notes.
            a, b = h.median(loop_cpus), h.median(pass_cpus)
            ratio = a / b if b > 0 else float("nan")
            why = "" if ratio == ratio else "no CPU time of the item loop (no /proc on this system?)"
            wa, wb = h.median(serial_walls), h.median(bare_walls)
            la, lb = h.median(loop_walls), h.median(pass_walls)
            self.add(h.Figure(
                1, "harness overhead: item loop of the conformance suite (pytest -n 0, --jaxpat-no-cache; judge + "
                "executor) vs the bare JAX loop's first pass, CPU time",
                f"pytest item loop, CPU ({items} items, {_outcomes(serial_rep)})", a,
                f"bare loop, first pass, CPU ({bare_data['items']} items)", b, "s",
                ratio, "<= 1.05", not why and h.check(ratio, "<= 1.05"),
                notes=[f"CPU runs: pytest loop {_list(loop_cpus, 2)} (judge {_list(judge_cpus, 2)}); bare pass "
                       f"{_list(pass_cpus, 2)}; per item: pytest {1000 * a / max(1, items):.1f} ms, bare "
                       f"{1000 * b / max(1, bare_data['items']):.1f} ms",
                       f"wall time of the item loops: pytest {la:.1f} s, bare {lb:.1f} s, ratio "
                       f"{la / max(1e-9, lb):.3f} (load average now {h._loadavg()})",
                       f"whole process (start-up included, figure 5): wall pytest {wa:.1f} s, bare {wb:.1f} s, ratio "
                       f"{wa / max(1e-9, wb):.3f}; CPU pytest {h.median(serial_cpus):.1f} s, bare "
                       f"{h.median(bare_cpus):.1f} s, ratio "
                       f"{h.median(serial_cpus) / max(1e-9, h.median(bare_cpus)):.3f}",
                       "CPU: user + system of every thread; pytest's loop: the judge and each process it started that "
                       "lived through the loop (benchmarks/_timing.py reads /proc)"],
                extra={"pytest_loop_cpu": loop_cpus, "pytest_loop_judge_cpu": judge_cpus, "bare_pass_cpu": pass_cpus,
                       "pytest_loop_walls": loop_walls, "bare_pass_walls": pass_walls,
                       "pytest_walls": serial_walls, "bare_walls": bare_walls, "pytest_cpu": serial_cpus,
                       "bare_cpu": bare_cpus},
                inconclusive=why,
            ))
        if 2 in figures and par_rep is not None:
            a, b = h.median(serial_walls), h.median(par_walls)
            ratio = a / b
            self.add(h.Figure(
                2, "parallel: pytest -n 2 --dist loadscope vs -n 0 (both --jaxpat-no-cache), whole process",
                "-n 0 (serial)", a, f"-n 2 ({par_rep['summary']['total']} items, {_outcomes(par_rep)})", b, "s",
                ratio, ">= 1.7", h.check(ratio, ">= 1.7"),
                notes=[f"runs: serial {_list(serial_walls)}; -n 2 {_list(par_walls)}",
                       f"CPU time (all processes): serial {h.median(serial_cpus):.1f} s, "
                       f"-n 2 {h.median(par_cpus):.1f} s",
                       f"compilations: serial {serial_rep['compiles']['count']}, -n 2 {par_rep['compiles']['count']} "
                       f"({_by_process(par_rep)})"],
                extra={"serial_walls": serial_walls, "parallel_walls": par_walls},
            ))
        if 4 in figures and bare_data is not None and len(bare_data["passes"]) >= 2:
            p1, p2 = bare_data["passes"][0], bare_data["passes"][1]
            c1, c2 = p1["compiles"], p2["compiles"]
            # The suite's own jit items (the executor's per-item counts in the report: both calls of the item, its
            # inputs) against the distinct signatures jit keys its programs on (computed by the bare loop from the
            # same items): no signature compiled twice, and no more compilations than signatures.
            counts = jit_signature_counts(serial_rep["results"], bare_data.get("jit_signature_of") or {})
            jit2 = p2["compiles_by_transform"].get("jit", 0)
            jit_again = {k: v for k, v in p2["compiles_by_item"].items() if k.endswith("-jit]")}
            # recompilations that JAX's bounded lowering cache explains are listed apart; the rest count
            evicted = {k: v for k, v in jit_again.items() if k in evicted_recompiles(bare_data)}
            counted_again = {k: v for k, v in jit_again.items() if k not in evicted}
            jit2_counted = jit2 - sum(evicted.values())
            ratio = counts.compiles / counts.signatures if counts.signatures else float("nan")
            jit_calls = p1["first_call_compiles_by_transform"].get("jit", 0)
            recompiling = sorted(p2["compiles_by_item"].items(), key=lambda kv: -kv[1])
            impls = sorted({k.split("[", 1)[1].split("-cpu")[0].split("-gpu")[0] for k, _ in recompiling})
            self.add(h.Figure(
                4, "compilations per jit signature: the suite's jit items (pytest -n 0 report) vs the distinct "
                "signatures of those items whose first call returned",
                f"compilations in those jit items ({counts.items} items)", counts.compiles,
                "distinct jit signatures (impl, device, dynamic shapes/dtypes, static values, config)",
                counts.signatures, "", ratio, "<= 1.00",
                h.check(ratio, "<= 1.00") and not counts.twice and jit2_counted == 0,
                notes=[
                    f"signatures compiled more than once: {len(counts.twice)} (target 0)"
                    + (f": {_signature_list(counts.twice)}" if counts.twice else ""),
                    *([f"listed apart: {len(counts.released)} signatures compiled again only after their executor "
                       f"had released its compiled programs (it held more than its memory budget, "
                       f"{_release_budget() / 2**20:.0f} MiB above its baseline: figure 8's trade; the report marks "
                       f"the item after each release `released`): {_signature_list(counts.released)}"]
                      if counts.released else []),
                    f"signatures that compiled nothing although their call returned (a program found in JAX's caches, "
                    f"shared with another signature): {len(counts.none)}"
                    + (f": {_signature_list(counts.none)}" if counts.none else ""),
                    f"left out: {len(counts.raised)} signatures whose every item's first call raised (no program to "
                    f"compile or reuse: a deviation's xfail, an expected failure found at trace time), compiling "
                    f"{sum(counts.raised.values())}" + (f": {_signature_list(counts.raised)}" if counts.raised else ""),
                    f"bare loop, the same items twice in one process: jit items compiled {jit_calls} programs in "
                    f"their first calls (pass 1) for {bare_data['jit_signatures']} signatures of "
                    f"{bare_data['jit_items']} items, and {jit2} in pass 2, {jit2_counted} of them counted (target 0)"
                    + (f": {_signature_list(counted_again)}" if counted_again else ""),
                    *([f"listed apart: {len(evicted)} jit items compiled again in pass 2 ({sum(evicted.values())} "
                       f"programs) because JAX's jit lowering cache had evicted their program: calls of a program "
                       f"with effects (jax.debug.callback) go through JAX's Python dispatch, which looks the program "
                       f"up in jax._src.pjit._pjit_lower, an LRU; between the signature's last call in pass 1 and "
                       f"pass 2 it took at least its size in other programs, and a warm call right after compiled "
                       f"nothing and was found there: "
                       + "; ".join(f"{k} ({v}; {_recompile_figures(bare_data['jit_recompiles'][k])})"
                                   for k, v in evicted.items())] if evicted else []),
                    f"every transform: passes 1 + 2 {c1 + c2} vs pass 1 {c1} compilations, ratio "
                    f"{(c1 + c2) / max(1, c1):.3f}; pass 2 compiled {c2} programs in {p2['items_that_compiled']} of "
                    f"{bare_data['items']} items (by transform: {_dict(p2['compiles_by_transform'])})",
                    *([f"implementations whose own code compiles on every call (a jax.jit made inside the call, "
                       f"eager control flow): {', '.join(impls)}"] if impls else []),
                    f"the suite's own count (pytest -n 0 report): {serial_rep['compiles']['count']} compilations "
                    f"vs bare pass 1: {c1}",
                ],
                extra={"passes": bare_data["passes"], "jit_signatures": counts.signatures,
                       "suite_jit_compiles": counts.compiles, "suite_jit_items": counts.items,
                       "signatures_compiled_twice": counts.twice, "signatures_compiled_none": counts.none,
                       "signatures_compiled_after_release": counts.released,
                       "signatures_raised": counts.raised, "suite_compiles": serial_rep["compiles"]["count"],
                       "jit_recompiles": bare_data.get("jit_recompiles"), "jit_pass_2_evicted": evicted,
                       "jit_pass_2_counted": counted_again,
                       "all_transforms_ratio": round((c1 + c2) / max(1, c1), 4)},
            ))

    # -- figure 3 ------------------------------------------------------------------

    def cache(self) -> None:
        cache_dir = self.workdir("xla-cache")
        shutil.rmtree(cache_dir)
        cold, cold_rep = self.pytest("cache-cold", no_cache=False, cache_dir=str(cache_dir), timing=True)
        entries = sum(1 for _ in cache_dir.rglob("*") if _.is_file())
        warm_walls, warm_loop_cpus = [], []
        warm_rep: dict[str, Any] = {}
        for r in range(self.ns.repeat):
            proc, warm_rep = self.pytest(f"cache-warm-{r}", no_cache=False, cache_dir=str(cache_dir), timing=True)
            warm_walls.append(proc.wall)
            warm_loop_cpus.append(sum((self.raw[f"cache-warm-{r}-timing"].get("loop_cpu") or {}).values()))
        cold_loop_cpu = sum((self.raw["cache-cold-timing"].get("loop_cpu") or {}).values())
        b = h.median(warm_walls)
        ratio = cold.wall / b
        loop_ratio = cold_loop_cpu / max(1e-9, h.median(warm_loop_cpus))
        self.add(h.Figure(
            3, "persistent compilation cache: cold (fresh --jaxpat-cache-dir) vs warm (same dir), pytest -n 0",
            f"cold ({cold_rep['summary']['total']} items, {_outcomes(cold_rep)})", cold.wall,
            f"warm ({_outcomes(warm_rep)})", b, "s", ratio, ">= 3", h.check(ratio, ">= 3"),
            notes=[f"cache entries written: {entries}; warm runs {_list(warm_walls)}",
                   f"item loop only (start-up left out), CPU time of the judge and its executors: cold "
                   f"{cold_loop_cpu:.1f} s, warm {h.median(warm_loop_cpus):.1f} s, ratio {loop_ratio:.3f}; whole "
                   f"process CPU: cold {cold.cpu:.1f} s, warm {proc.cpu:.1f} s",
                   f"compilation events: cold {cold_rep['compiles']['count']}, warm {warm_rep['compiles']['count']} "
                   "(a persistent-cache hit still counts as a compilation event)"],
            extra={"cold": cold.wall, "warm": warm_walls, "entries": entries},
        ))

    # -- figure 7 ------------------------------------------------------------------

    def observation(self) -> None:
        """Observations' CPU time inside one cold pass of every item (:mod:`benchmarks.observe_cost`)."""
        cwd = self.workdir("observe")
        out = cwd / "observe.json"
        cmd = [sys.executable, "-m", "benchmarks.observe_cost", "--out", str(out)]
        for p in self.patterns:
            cmd += ["--pattern", p]
        proc = h.run(cmd, cwd=cwd, environ=self.env())
        if proc.returncode != 0:
            raise RuntimeError(f"observe_cost exited {proc.returncode}:\n{proc.tail()}")
        data = h.load_json(out)
        with_obs, without = data["cpu_total"], data["cpu_total"] - data["cpu_observing"]
        ratio = data["ratio"]
        self.add(h.Figure(
            7, "observation overhead: one cold pass of every item (run_item), CPU time with the observations "
            "vs the same pass less their own CPU time",
            f"with observations ({data['items']} items, {data['observations']} observations)", with_obs,
            "without (the same pass, less observe_value/observe_error)", without, "s", ratio, "<= 1.05",
            h.check(ratio, "<= 1.05"),
            notes=[f"observing: {data['cpu_observing']:.2f} s CPU in {data['observations']} calls; pass wall "
                   f"{data['wall']:.1f} s; report size: see benchmarks/README.md"],
            extra=data,
        ))

    # -- figure 8 ------------------------------------------------------------------

    def memory(self) -> None:
        """Peak resident memory per ``-n 2`` worker; resident memory left behind per item (one process)."""
        rep = self.raw.get("parallel_report")
        if rep is None:
            _, rep = self.pytest("memory-parallel", workers=2)
        peak = rep.get("peak_rss") or {}
        by_process = dict(peak.get("by_process") or {})
        items = rep["summary"].get("total", 0)
        mib = 2.0**20
        top = max(by_process.values(), default=0) / mib
        self.add(h.Figure(
            8, "worker memory (a): peak resident memory of each worker, pytest -n 2 (the report's peak_rss)",
            f"largest peak ({items} items; {len(by_process)} processes: the workers and their executors)", top,
            "bound", 1024.0, "MiB", top / 1024.0, "<= 1", bool(by_process) and h.check(top / 1024.0, "<= 1"),
            notes=[f"peak per worker: {', '.join(f'{k} {v / mib:.0f} MiB' for k, v in sorted(by_process.items()))}"
                   f"; release budget {_release_budget() / mib:.0f} MiB above each executor's resident memory once "
                   "ready (conformance/_execute.RELEASE_BUDGET)",
                   "the -n 2 run of figure 2 when it ran, else one of its own"],
            extra={"peak_rss": peak, "items": items},
        ))
        sides = {}
        for release in (True, False):
            cwd = self.workdir(f"memory-{'release' if release else 'kept'}")
            out = cwd / "memory.json"
            # with the release: a second pass over the same items, measured, after the first pass's one-off
            # costs (JAX's first jit, grad, vmap, sharding, ... in this process); without: the first pass
            cmd = [sys.executable, "-m", "benchmarks.memory", "--out", str(out)]
            cmd += ["--passes", "2"] if release else ["--no-release"]
            for p in self.patterns:
                cmd += ["--pattern", p]
            proc = h.run(cmd, cwd=cwd, environ=self.env())
            if proc.returncode != 0:
                raise RuntimeError(f"benchmarks.memory exited {proc.returncode}:\n{proc.tail()}")
            sides[release] = h.load_json(out)
            d = sides[release]
            self.log(f"memory ({'release' if release else 'no release'}): {d['items']} items, "
                     f"{(d['growth_per_item'] or 0) / 1024:.0f} KiB/item, peak {d['peak_rss'] / mib:.0f} MiB, "
                     f"{d['compiles']} compilations, {d['seconds']:.1f} s")
        rel, kept = sides[True], sides[False]
        first, second = rel["per_pass"][0], rel["per_pass"][-1]
        growth = (second["growth_per_item"] or 0.0) / mib
        self.add(h.Figure(
            8, "worker memory (b): resident memory left behind per item, one process running every item "
            "(run_item) twice, released at each pattern boundary; the second pass",
            f"growth per item, second pass ({second['measured_items']} items)", growth,
            "bound", 0.1, "MiB", growth / 0.1, "<= 1",
            second["growth_per_item"] is not None and h.check(growth, "<= 0.1"),
            notes=[f"first pass (JAX's one-off costs included): {(first['growth_per_item'] or 0) / mib:.3f} MiB per "
                   f"item with the release, {(kept['growth_per_item'] or 0) / mib:.3f} MiB without it; peak "
                   f"{rel['peak_rss'] / mib:.0f} MiB with it (two passes), {kept['peak_rss'] / mib:.0f} MiB without "
                   "(one pass)",
                   f"what the release costs, first pass: {first['compiles']} compilations vs {kept['compiles']} "
                   f"without ({first['compiles'] / max(1, kept['compiles']):.2f}x: programs that patterns share are "
                   "compiled again after each release)",
                   "ratio: growth / bound; the suite's executors release only once they hold more than their "
                   "budget above what they held when ready, this process at every pattern boundary"],
            extra={"release": {k: v for k, v in rel.items() if k != "boundaries"},
                   "no_release": {k: v for k, v in kept.items() if k != "boundaries"}},
        ))

    # -- figure 9 ------------------------------------------------------------------

    def reuse(self) -> None:
        """A re-run with nothing changed vs the cold run that stored its results (one result store, serial)."""
        cache = self.workdir("reuse-cache")
        env = self.env()
        env["JAXPAT_CACHE_DIR"] = str(cache)  # a store of its own: the other figures' runs store results too
        env.pop("JAXPAT_FRESH", None)
        if "--fresh" not in h.check_options():
            self.add(h.Figure(
                9, "reuse: a re-run with nothing changed vs the cold run (pytest -n 0, same result store)",
                "cold run", float("nan"), "re-run", float("nan"), "s", float("nan"), "<= 0.10", False,
                notes=["this checkout's `jaxpat check` has no `--fresh`: it stores and reuses no results"],
                inconclusive="no result store in this checkout"))
            return
        cold, cold_rep = self.pytest("reuse-cold", env=env, reuse=True)
        warm, warm_rep = self.pytest("reuse-warm", env=env, reuse=True)
        results = warm_rep.get("results", [])
        reused = sum(1 for r in results if r.get("reused"))
        cold_reused = sum(1 for r in cold_rep.get("results", []) if r.get("reused"))
        ratio = warm.wall / cold.wall
        why = ""
        if cold_reused:
            why = f"the cold run reused {cold_reused} results (its store was not empty)"
        elif not reused:
            why = "the re-run reused nothing"
        self.add(h.Figure(
            9, "reuse: a re-run with nothing changed vs the cold run (pytest -n 0, --jaxpat-no-cache, one store)",
            f"cold run ({cold_rep['summary'].get('total')} items, {_outcomes(cold_rep)}, store empty)", cold.wall,
            f"re-run ({reused} of {len(results)} results reused, {_outcomes(warm_rep)})", warm.wall, "s",
            ratio, "<= 0.10", not why and h.check(ratio, "<= 0.10"),
            notes=[f"CPU time: cold {cold.cpu:.1f} s, re-run {warm.cpu:.1f} s, "
                   f"ratio {warm.cpu / max(1e-9, cold.cpu):.3f}",
                   f"compilations: cold {cold_rep['compiles']['count']}, re-run {warm_rep['compiles']['count']}",
                   "the persistent compilation cache is off on both sides: the difference is the result store"],
            extra={"cold": cold.wall, "warm": warm.wall, "reused": reused, "results": len(results)},
            inconclusive=why))

    # -- figure 10 -----------------------------------------------------------------

    def suite_from_results(self) -> None:
        """Figure 10 read from the newest committed ``benchmarks/results/suite/`` file (the suite is not run)."""
        path = newest_results(SUITE_RESULTS, "*.txt")
        name = "test suite: pytest -n 2 tests/ (whole process) vs the bound"
        if path is None:
            self.add(h.Figure(10, name, "suite", float("nan"), "bound", SUITE_BOUND, "s", float("nan"), "<= 1", False,
                              notes=[f"no committed results in {_rel(SUITE_RESULTS)}; `--run-suite` runs it"],
                              inconclusive="no committed suite results"))
            return
        text = path.read_text(encoding="utf-8")
        m = re.search(r"^wall time: (\d+(?:\.\d+)?) s", text, re.M)
        result = re.search(r"^result: (.+)$", text, re.M)
        if m is None:
            raise RuntimeError(f"{path}: no `wall time: N s` line")
        wall = float(m.group(1))
        ratio = wall / SUITE_BOUND
        self.add(h.Figure(
            10, name, f"suite ({result.group(1) if result else 'result not stated'})", wall, "bound", SUITE_BOUND,
            "s", ratio, "<= 1", h.check(ratio, "<= 1"),
            notes=[f"read from the committed {_rel(path)} (not run here: `--run-suite` runs the suite, "
                   "about 12 minutes on 2 cores)", *[f"{line.strip()}" for line in text.splitlines()[:3]]],
            extra={"from": _rel(path), "wall": wall}))

    def reports_from_results(self) -> None:
        """Figure 11 read from the newest committed ``benchmarks/results/reports/`` JSON (not run)."""
        path = newest_results(REPORT_RESULTS, "*.json")
        if path is None:
            self.add(h.Figure(11, "reports at scale", "wall time", float("nan"), "peak memory", float("nan"), "",
                              float("nan"), "<= 1.00", False,
                              notes=[f"no committed results in {_rel(REPORT_RESULTS)}; `--run-reports` runs it"],
                              inconclusive="no committed report-scale results"))
            return
        data = h.load_json(path)
        for f in data["figures"]:
            notes = [f"read from the committed {_rel(path)} ({data['machine'].get('date', '')}; not run here: "
                     "`--run-reports` runs benchmarks/report_scale.py)", *f.get("notes", [])]
            self.add(h.Figure(11, f["name"], f["a_label"], f["a"], f["b_label"], f["b"], f.get("unit", ""),
                              f["ratio"], f["target"], bool(f["met"]), notes=notes,
                              extra={**f.get("extra", {}), "from": _rel(path)}))

    def suite(self) -> None:
        """The project's own test suite at ``-n 2``, whole process, and the sum of its tests' durations."""
        cwd = self.workdir("suite")
        xml = cwd / "junit.xml"
        env = h.env(pythonpath=())  # the suite sets its own caches (tests/conftest.py)
        env.pop("JAXPAT_TESTS_CACHE_DIR", None)
        cmd = [sys.executable, "-m", "pytest", "-n", str(SUITE_WORKERS), "-q", "-p", "no:cacheprovider",
               f"--junitxml={xml}", *SUITE_TESTS]
        proc = h.run(cmd, cwd=h.REPO, environ=env, timeout=3600)
        durations = h.junit_durations(xml) if xml.exists() else {}
        total = sum(durations.values())
        slowest = sorted(durations.items(), key=lambda kv: -kv[1])[:5]
        last = (proc.stdout.strip().splitlines() or [""])[-1]
        self.log(f"suite: {proc.wall:.1f} s, exit {proc.returncode}: {last}")
        bound = SUITE_BOUND
        ratio = proc.wall / bound
        set_vars = [v for v in ("JAXPAT_FULL_REPORT", "JAXPAT_REQUIRE_BROWSER") if env.get(v)]
        self.add(h.Figure(
            10, f"test suite: pytest -n {SUITE_WORKERS} tests/ (whole process) vs the bound",
            f"suite ({len(durations)} tests: {last})", proc.wall, "bound", bound, "s", ratio, "<= 1",
            proc.returncode == 0 and h.check(ratio, "<= 1"),
            notes=[f"sum of the tests' durations (junit xml): {total:.1f} s; CPU time {proc.cpu:.1f} s; exit "
                   f"{proc.returncode}",
                   "slowest: " + "; ".join(f"{k} {v:.1f} s" for k, v in slowest),
                   f"set for this run: {', '.join(set_vars) or 'neither JAXPAT_FULL_REPORT nor JAXPAT_REQUIRE_BROWSER'}"
                   " (CI sets both)"],
            extra={"wall": proc.wall, "sum_of_durations": total, "tests": len(durations),
                   "returncode": proc.returncode, "summary": last}))

    # -- figure 5 ------------------------------------------------------------------

    def startup(self) -> None:
        n = 5 if self.quick else 11
        cat_code = ("import sys; from jaxpat import patterns; patterns.load_catalog(); "
                    "sys.exit(3 if any(m == 'jax' or m.startswith(('jax.', 'jaxlib')) for m in sys.modules) else 0)")
        jax_code = "import jax"
        variants = {"bytecode cached": self.env(pythonpath=())}
        if not self.ns.no_bytecode_cache and not self.quick:
            no_bc = h.env(pythonpath=())
            no_bc["PYTHONDONTWRITEBYTECODE"] = "1"
            no_bc.pop("PYTHONPYCACHEPREFIX", None)
            no_bc["JAXPAT_CACHE_DIR"] = str(self.root / "cache")
            variants["bytecode cache empty (PYTHONDONTWRITEBYTECODE=1, no pycache in the repo)"] = no_bc
            variants["catalog parse cache off (JAXPAT_DISABLE_CATALOG_CACHE=1)"] = self.env(
                {"JAXPAT_DISABLE_CATALOG_CACHE": "1"}, pythonpath=())
        results = {}
        for label, env in variants.items():
            cat: list[float] = []
            jx: list[float] = []
            for i in range(n + 1):  # the first pair warms up and is dropped
                for side in (("cat", "jax") if i % 2 == 0 else ("jax", "cat")):
                    code = cat_code if side == "cat" else jax_code
                    p = h.run([sys.executable, "-c", code], cwd=self.root, environ=env)
                    if side == "cat" and p.returncode == 3:
                        raise AssertionError("`from jaxpat import patterns; patterns.load_catalog()` imported JAX")
                    if p.returncode != 0:
                        raise RuntimeError(f"start-up run failed:\n{p.tail()}")
                    if i:
                        (cat if side == "cat" else jx).append(p.wall)
            results[label] = (h.median(cat), h.median(jx), cat, jx)
        label = next(iter(results))
        a, b, cat, jx = results[label]
        ratio = a / b
        notes = [f"{label}: median of {n}; catalog {_list(cat, 3)}; jax {_list(jx, 3)}",
                 "JAX is not imported by `from jaxpat import patterns; patterns.load_catalog()` "
                 "(asserted on every run)"]
        for other, (oa, ob, _, _) in list(results.items())[1:]:
            notes.append(f"{other}: {oa:.3f} s vs {ob:.3f} s, ratio {oa / ob:.3f}")
        self.add(h.Figure(
            5, "start-up: python -c 'from jaxpat import patterns; patterns.load_catalog()' vs python -c 'import jax'",
            "from jaxpat import patterns; patterns.load_catalog()", a, "import jax", b, "s", ratio, "<= 0.3",
            h.check(ratio, "<= 0.3"),
            notes=notes, extra={k: {"catalog": v[2], "jax": v[3]} for k, v in results.items()},
        ))

    # -- figure 6 ------------------------------------------------------------------

    def _collect_once(self, k: int, d: Path, files: list[Path], r: int) -> tuple[int, float, float]:
        """``pytest --collect-only -q`` of the k-fold catalog: (items, whole-process wall, collection phase)."""
        timing = d / f"collect-timing-{r}.json"
        cmd = h.pytest_command(d, catalogs=[str(f) for f in files], loads=[_scale.PLUGIN_MODULE],
                               extra=["--collect-only", "-p", "benchmarks._timing"])
        env = _with_bytecode(self, _scale.environ(d, k, {"JAXPAT_BENCH_TIMING": str(timing)}))
        proc = h.run(cmd, cwd=d, environ=env)
        if proc.returncode not in (0, 5):
            raise RuntimeError(f"collect x{k}: exit {proc.returncode}:\n{proc.tail()}")
        items = sum(1 for line in proc.stdout.splitlines() if line.startswith("jaxpat::"))
        return items, proc.wall, h.load_json(timing)["collection_seconds"]

    def scale(self) -> None:
        scales = (1, 10) if self.quick else (1, 10, 100)
        dirs = {}
        for k in scales:
            d = self.workdir(f"scale-x{k}")
            dirs[k] = (d, _scale.write_catalogs(d, k))
        # (a) collection: 1x, the smallest catalog with >= 10,000 items (the target), 10x, 100x
        first = self._collect_once(1, *dirs[1], 0)
        kmin = math.ceil(10_000 / max(1, first[0]))
        if kmin not in dirs:
            d = self.workdir(f"scale-x{kmin}")
            dirs[kmin] = (d, _scale.write_catalogs(d, kmin))
        small = sorted({1, kmin, *scales} - {100})
        runs: dict[int, list[tuple[int, float, float]]] = {k: [] for k in small}
        runs[1].append(first)
        for r in range(2 if self.quick else 3):  # interleaved, so that a drift of the machine hits all alike
            for k in small:
                if not (k == 1 and r == 0):
                    runs[k].append(self._collect_once(k, *dirs[k], r))
        if 100 in scales:
            runs[100] = [self._collect_once(100, *dirs[100], 0)]
        collect: dict[int, dict[str, Any]] = {}
        for k, rs in runs.items():
            if rs[0][0] != k * runs[1][0][0]:  # e.g. a synthetic file over the catalog's node limit: error items
                raise RuntimeError(f"collect x{k}: {rs[0][0]} items, expected {k} x {runs[1][0][0]}")
            collect[k] = {"items": rs[0][0], "wall": h.median([w for _, w, _ in rs]), "walls": [w for _, w, _ in rs],
                          "phase": h.median([p for _, _, p in rs])}
            self.log(f"collect x{k}: {rs[0][0]} items, {_list(collect[k]['walls'])} "
                     f"(collection phase {collect[k]['phase']:.2f} s)")
        a, b = collect[1]["wall"], collect[kmin]["wall"]
        notes = [f"x{k}: {c['items']} items, whole process {c['wall']:.2f} s (runs {_list(c['walls'], 2)}), "
                 f"collection phase {c['phase']:.2f} s, {1e6 * c['phase'] / max(1, c['items']):.0f} us/item in the "
                 "phase" for k, c in sorted(collect.items())]
        self.add(h.Figure(
            6, "scale (a): pytest --collect-only -q, synthetic catalogs (whole process, median)",
            f"1x ({collect[1]['items']} items)", a,
            f"{kmin}x ({collect[kmin]['items']} items: the fewest replicas giving >= 10,000)", b, "s",
            b / a, ">= 10,000 items collected in <= 5 s", collect[kmin]["items"] >= 10_000 and b <= 5.0,
            notes=[f"ratio: {kmin}x / 1x wall time", *notes], extra={"collect": collect},
        ))
        # (b) time per item, warm caches, at every scale
        # jit items only: once warm, a jit item compiles nothing, so its JAX work is the same at every
        # scale and what varies is the harness (eager, vmap and grad items of control-flow patterns
        # recompile on every call, figure 4, and their compile times would drown the harness).
        # Replica 0's items run first (the catalog's order) and warm the executor's caches; the items of
        # every later replica call the same functions with the same shapes. Timed: the items of replicas
        # other than 0 that compiled nothing (the report's per-item `compiles`). The base is 2x (replica 1
        # timed), since at 1x every item is a first call.
        base = _scale.sample_patterns(SCALE_QUICK_PATTERNS) if self.quick else []
        if 2 not in dirs:
            d = self.workdir("scale-x2")
            dirs[2] = (d, _scale.write_catalogs(d, 2))
        # The 2x and 10x runs alternate, SCALE_ROUNDS times each (2x, 10x, [100x sample], 2x, 10x, ...), and each
        # scale's figure pools its runs: this host's per-item CPU time drifts by tens of per cent over minutes
        # (2026-12-07: the same items and code at 3.16 and at 4.80 ms per item in two runs 35 minutes apart),
        # which runs of one scale after the other would read as a difference between the scales.
        per_runs: dict[str, list[dict[str, Any]]] = {}
        two = ("2x", 2, [f"{p}-r*" for p in base])
        ten = ("10x", 10, [f"{p}-r*" for p in base])
        schedule = [two, ten]
        if 100 in scales:
            reps = _scale.sample_replicas(100, SCALE_SAMPLE_REPLICAS)
            schedule.append(("100x sample", 100, [f"*-r{i}" for i in reps]))
        schedule += [two, ten] * (SCALE_ROUNDS - 1)
        for label, k, globs in schedule:
            d, files = dirs[k]
            timing = d / "run-timing.json"
            cwd = self.workdir(f"scale-run-x{k}")
            cmd = h.pytest_command(cwd, report=str(cwd / "report.json"), catalogs=[str(f) for f in files],
                                   loads=[_scale.PLUGIN_MODULE], patterns=globs, transforms=["jit"],
                                   extra=["-p", "benchmarks._timing"])
            env = _with_bytecode(self, _scale.environ(d, k, {"JAXPAT_BENCH_TIMING": str(timing)}))
            proc = h.run(cmd, cwd=cwd, environ=env)
            if proc.returncode not in (0, 1):
                raise RuntimeError(f"scale run {label}: exit {proc.returncode}:\n{proc.tail()}")
            t = h.load_json(timing)
            rep = h.load_json(cwd / "report.json")
            compiles = {r["nodeid"]: r.get("compiles", 0) for r in rep["results"]}
            timed = [(x, nid) for x, nid in zip(t["item_seconds"], t["nodeids"], strict=True)
                     if not _scale.is_replica(nid, 0)]
            quiet = [x for x, nid in timed if compiles.get(nid, 0) == 0]
            n = t["items_run"]
            # CPU time (judge + executors) from the first timed item's start to the last item's finish: the
            # items after replica 0 run one after another, so the span is theirs (the few that compiled included)
            timed_from = next((i for i, nid in enumerate(t["nodeids"]) if not _scale.is_replica(nid, 0)), None)
            cs, cf = t.get("item_cpu_start") or [], t.get("item_cpu_finish") or []
            span = n - timed_from if timed_from is not None else 0
            cpu_ms = (1000 * (cf[-1] - cs[timed_from]) / span) \
                if timed_from is not None and span and len(cs) == n == len(cf) else float("nan")
            run = {
                "items": n, "timed_items": len(timed), "loop": t["loop_seconds"],
                "per_item_ms": 1000 * sum(quiet) / max(1, len(quiet)),
                "cpu_per_item_ms": cpu_ms, "cpu_span_items": span,
                "cpu_by_replica_ms": _by_replica(t) if len(cs) == n == len(cf) else {},
                "quiet_items": len(quiet), "wall": proc.wall,
                "outcomes": _outcomes(rep), "compiles": rep["compiles"]["count"],
                "deciles_ms": _deciles(quiet),
                # whether the executor passed its release budget decides how many items compile again
                "peak_rss": (rep.get("peak_rss") or {}).get("by_process") or {},
            }
            per_runs.setdefault(label, []).append(run)
            peaks = ", ".join(f"{k} {v / 2.0**20:.0f} MiB" for k, v in sorted(run["peak_rss"].items())
                              if isinstance(v, int | float))
            self.log(f"scale run {label}: {n} items, loop {t['loop_seconds']:.1f} s, "
                     f"{run['per_item_ms']:.2f} ms per item over the {len(quiet)} of {len(timed)} "
                     f"timed items that compiled nothing, {cpu_ms:.2f} ms CPU per item, {proc.wall:.1f} s in all; "
                     f"{run['compiles']} compilations; peak {peaks or 'not reported'}")
        per = {label: _pooled(rs) for label, rs in per_runs.items()}
        a, b = per["2x"]["cpu_per_item_ms"], per["10x"]["cpu_per_item_ms"]
        ratio = b / a
        wall_ratio = per["10x"]["per_item_ms"] / per["2x"]["per_item_ms"]
        what = f"{len(base)} sampled patterns" if base else "every pattern"
        notes = [f"jit items of {what}; replica 0's items run first (warm-up, not timed); "
                 f"100x sample: replicas {', '.join(map(str, _scale.sample_replicas(100, SCALE_SAMPLE_REPLICAS)))}",
                 "per item: CPU time of the judge and its executors (user + system, /proc) from the first item "
                 "after replica 0 to the last, over those items: pytest, the judge and the executor round trip "
                 "around a warm jit call; CPU time, because the runs at each scale are minutes apart on a shared "
                 "machine and wall time carries the load of the moment",
                 f"wall time instead (mean logstart-to-logfinish of the timed items that compiled nothing): "
                 f"10x / 2x {wall_ratio:.3f}"]
        by_run = "; ".join(label + " " + ", ".join(f"{r['cpu_per_item_ms']:.2f}" for r in rs)
                           for label, rs in per_runs.items())
        notes.append(f"runs, alternating, {SCALE_ROUNDS} of 2x and of 10x: CPU ms per item {by_run} (each scale's "
                     "figure pools its runs: their CPU time over their items)")
        for label, p in per.items():
            notes.append(f"{label}: {p['items']} items ({p['outcomes']}), {p['cpu_per_item_ms']:.2f} ms CPU per item "
                         f"over {p['cpu_span_items']} items; wall {p['per_item_ms']:.2f} ms per item over "
                         f"{p['quiet_items']} of {p['timed_items']} timed items; {p['compiles']} compilations; "
                         f"median wall per tenth of the run {'/'.join(f'{x:.1f}' for x in p['deciles_ms'])} ms")
        # How far apart the replicas of one run are (the same items, one after another): the noise of a replica's
        # mean, from which the ratio's uncertainty follows; a ratio whose +-2 sigma straddles an edge of the band
        # cannot say whether the target is met.
        reps10 = [v for run in per_runs["10x"] for r, v in run["cpu_by_replica_ms"].items() if r != "0"]
        sd_rel = statistics.stdev(reps10) / statistics.mean(reps10) if len(reps10) >= 3 else float("nan")
        m2 = max(1, sum(1 for run in per_runs["2x"] for r in run["cpu_by_replica_ms"] if r != "0"))
        sigma = ratio * sd_rel * math.sqrt(1 / m2 + 1 / max(1, len(reps10)))
        notes.insert(2, f"replicas of the 10x run, CPU ms per item: "
                        f"{', '.join(f'r{r} {v:.2f}' for r, v in per['10x']['cpu_by_replica_ms'].items() if r != '0')}"
                        f"; spread (sd/mean) {sd_rel:.3f}, so the ratio is {ratio:.3f} +- {2 * sigma:.3f} (2 sigma)")
        why = ""
        if sigma != sigma:
            why = "fewer than 3 timed replicas at 10x: no estimate of the noise"
        elif any(ratio - 2 * sigma < edge < ratio + 2 * sigma for edge in (0.90, 1.10)):
            why = (f"the ratio's 2-sigma interval {ratio - 2 * sigma:.2f}..{ratio + 2 * sigma:.2f} straddles an edge "
                   "of the band")
        met = not why and h.check(ratio, "within 0.90..1.10")
        if "100x sample" in per:
            r100 = per["100x sample"]["cpu_per_item_ms"] / a
            notes.append(f"100x sample / 2x: {r100:.3f} (target within 0.90..1.10: "
                         f"{'MET' if h.check(r100, 'within 0.90..1.10') else 'NOT MET'})")
            met = met and h.check(r100, "within 0.90..1.10")
        self.add(h.Figure(
            6, "scale (b): CPU time per warm jit item (harness included), 10x vs 2x",
            f"2x ({per['2x']['cpu_span_items']} timed items)", a, f"10x ({per['10x']['cpu_span_items']} timed items)",
            b,
            "ms", ratio, "within 0.90..1.10", met, notes=notes, extra={"per_item": per, "sigma": sigma},
            inconclusive=why,
        ))


@dataclasses.dataclass
class JitCounts:
    """Figure 4's counts over the suite's jit items (see :func:`jit_signature_counts`)."""

    #: items and compilations of the signatures counted (those with an item whose first call returned)
    items: int
    compiles: int
    signatures: int
    #: counted signatures that compiled more than one program, and none: {their items' node ids: compilations}
    twice: dict[str, int]
    none: dict[str, int]
    #: signatures left out, every item's first call having raised: {node ids: compilations}
    raised: dict[str, int]
    #: counted signatures that compiled again only after their executor released its programs (a ``released``
    #: item since the signature's previous compiling item, each compiling item one program): {node ids: compilations}
    released: dict[str, int] = dataclasses.field(default_factory=dict)


def jit_signature_counts(results: list[dict[str, Any]], signature_of: dict[str, int]) -> JitCounts:
    """Compilations per jit signature from a report's results and the bare loop's signature of each jit item.

    A signature counts when one of its items ran (passed, failed, xfailed, xpassed) and that item's first
    call returned a value (its observation is not an error): then jit has a program for it, which must be
    compiled once in all of its items (the executor's per-item ``compiles``: both calls and the inputs). A
    signature whose every item raised (a deviation: ``x.block_until_ready()`` on a tracer raises while
    tracing) has no program, and is reported apart instead of counting as "compiled nothing".
    """
    groups: dict[int, list[dict[str, Any]]] = {}
    for r in results:
        if r.get("nodeid") in signature_of and r.get("outcome") in ("passed", "failed", "xfailed", "xpassed"):
            groups.setdefault(signature_of[r["nodeid"]], []).append(r)

    def name(rs: list[dict[str, Any]]) -> str:
        return " + ".join(str(r["nodeid"]) for r in rs)

    order = {str(r.get("nodeid")): i for i, r in enumerate(results)}  # the order they ran in (-n 0)
    releases = [i for i, r in enumerate(results) if r.get("released") is True]

    def after_releases(rs: list[dict[str, Any]]) -> bool:
        """Whether each compiling item but the first compiled one program, with a release since the last."""
        at = sorted((order[str(r["nodeid"])], int(r.get("compiles") or 0)) for r in rs if r.get("compiles"))
        return all(c == 1 for _, c in at) and all(any(a < k <= b for k in releases)
                                                  for (a, _), (b, _) in itertools.pairwise(at))

    counts = JitCounts(0, 0, 0, {}, {}, {})
    for rs in groups.values():
        n = sum(int(r.get("compiles") or 0) for r in rs)
        if all("error" in (r.get("observed") or {}) for r in rs):
            counts.raised[name(rs)] = n
            continue
        counts.items += len(rs)
        counts.compiles += n
        counts.signatures += 1
        if n > 1 and after_releases(rs):
            counts.released[name(rs)] = n
            counts.compiles -= n - 1  # the ratio counts the program once; the note lists the compilations
        elif n > 1:
            counts.twice[name(rs)] = n
        elif n == 0:
            counts.none[name(rs)] = n
    return counts


def evicted_recompiles(bare: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The jit items of the bare loop's pass 2 that compiled again because JAX's jit lowering cache evicted their
    program, by node id (the bare loop's ``jit_recompiles`` entries); figure 4 lists them apart.

    An item is such only when every figure shows it: the cache (``jax._src.pjit._pjit_lower``, an LRU) took at
    least its size in other programs between the signature's last item in pass 1 and the item in pass 2, so an
    entry used before them was evicted, whatever else was looked up; and one more call right after pass 2 compiled
    nothing and looked its program up in that cache (JAX's Python dispatch, which a program with effects such as
    ``jax.debug.callback`` takes on every call, where other programs are found in JAX's C++ cache of the jit
    function and are never evicted so). A recompilation missing any of these figures (an older bare loop, another
    JAX, fewer programs in between, a warm call that compiles: a fresh callable, a cache cleared) is not listed
    here and counts against the target.
    """
    evicted = {}
    for nodeid, r in (bare.get("jit_recompiles") or {}).items():
        between, size, warm = r.get("lowered_between"), r.get("lowering_cache_size"), r.get("warm_call") or {}
        if (isinstance(between, int) and isinstance(size, int) and size > 0 and between >= size
                and warm.get("compiles") == 0 and (warm.get("lowering_lookups") or 0) >= 1):
            evicted[nodeid] = r
    return evicted


def _recompile_figures(r: dict[str, Any]) -> str:
    warm = r.get("warm_call") or {}
    return (f"{r.get('lowered_between')} programs lowered in between, cache of {r.get('lowering_cache_size')}; "
            f"warm call: {warm.get('compiles')} compilations, {warm.get('lowering_lookups')} lookups")


def _signature_list(d: dict[str, int], most: int = 5) -> str:
    shown = [f"{k} ({v})" for k, v in list(d.items())[:most]]
    return "; ".join(shown) + (f"; ... {len(d) - most} more" if len(d) > most else "")


def newest_results(folder: Path, glob: str) -> Path | None:
    """The newest committed results file in ``folder`` (names start with the date: the greatest name)."""
    return max(folder.glob(glob), key=lambda p: p.name, default=None)


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(h.REPO))
    except ValueError:
        return str(path)


def _release_budget() -> int:
    """``_execute.RELEASE_BUDGET``, read from the source (importing ``_execute`` would import JAX here)."""
    import re

    text = (h.REPO / "conformance" / "_execute.py").read_text(encoding="utf-8")
    m = re.search(r"^RELEASE_BUDGET = (\d+) \* 2\*\*20$", text, re.M)
    return int(m.group(1)) * 2**20 if m else 0


def _with_bytecode(bench: Bench, env: dict[str, str]) -> dict[str, str]:
    """``env`` with the bench's bytecode prefix and jaxpat cache directory (as :meth:`Bench.env`)."""
    env["JAXPAT_CACHE_DIR"] = str(bench.root / "cache")
    if not bench.ns.no_bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(bench.pycache)
    return env


def _by_replica(t: dict[str, Any]) -> dict[str, float]:
    """CPU milliseconds per item of each replica's items (they run one after another), by replica number."""
    out: dict[str, float] = {}
    spans: dict[str, list[int]] = {}
    for i, nid in enumerate(t["nodeids"]):
        m = re.search(r"-r(\d+)::", nid)
        if m:
            spans.setdefault(m.group(1), []).append(i)
    for r, idx in spans.items():
        out[r] = 1000 * (t["item_cpu_finish"][idx[-1]] - t["item_cpu_start"][idx[0]]) / len(idx)
    return out


def _pooled(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Figure 6b's runs of one scale as one: the first run's counts, CPU and wall time per item over all the runs'
    items, each replica's CPU per item averaged over the runs, and each run's own figures under ``runs``."""
    if len(runs) == 1:
        return {**runs[0], "runs": [dict(runs[0])]}
    out = dict(runs[0])
    span = sum(r["cpu_span_items"] for r in runs)
    out["cpu_per_item_ms"] = sum(r["cpu_per_item_ms"] * r["cpu_span_items"] for r in runs) / span if span \
        else float("nan")
    out["cpu_span_items"] = span
    quiet = sum(r["quiet_items"] for r in runs)
    out["per_item_ms"] = sum(r["per_item_ms"] * r["quiet_items"] for r in runs) / quiet if quiet else float("nan")
    out["quiet_items"] = quiet
    out["timed_items"] = sum(r["timed_items"] for r in runs)
    keys = sorted({k for r in runs for k in r["cpu_by_replica_ms"]}, key=int)
    out["cpu_by_replica_ms"] = {k: statistics.mean(r["cpu_by_replica_ms"][k] for r in runs
                                                   if k in r["cpu_by_replica_ms"]) for k in keys}
    out["runs"] = [{k: v for k, v in r.items() if k != "deciles_ms"} for r in runs]
    return out


def _deciles(xs: list[float]) -> list[float]:
    """Median item time (ms) in each tenth of the run, first to last: a drift shows a per-item cost growing."""
    if not xs:
        return []
    n = len(xs)
    out = []
    for i in range(10):
        chunk = sorted(xs[i * n // 10:(i + 1) * n // 10]) or [0.0]
        out.append(1000 * chunk[len(chunk) // 2])
    return out


def _outcomes(rep: dict[str, Any]) -> str:
    s = rep.get("summary", {})
    return ", ".join(f"{s[k]} {k}" for k in ("passed", "failed", "error", "xfailed", "xpassed", "skipped") if s.get(k))


def _by_process(rep: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(rep["compiles"]["by_process"].items()))


def _list(xs: list[float], digits: int = 1) -> str:
    return "[" + ", ".join(f"{x:.{digits}f}" for x in xs) + "] s"


def _dict(d: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--quick", action="store_true",
                    help=f"reduced run for a smoke check (< 2 minutes): {QUICK_PATTERNS} sampled patterns for figures "
                         "1-4, no 100x catalog, fewer repeats")
    ap.add_argument("--only", default=None, metavar="LIST",
                    help="figures to measure, e.g. 1,4 (default all)")
    ap.add_argument("--repeat", type=int, default=1, metavar="N",
                    help="repeat the long runs (figures 1-3) N times, alternating the order, and take medians")
    ap.add_argument("--json", metavar="PATH", help="also write the figures and the machine as JSON")
    ap.add_argument("--workdir", metavar="DIR", help="where to create the scratch directory (default: the system's)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory (reports, timings, catalogs)")
    ap.add_argument("--no-bytecode-cache", action="store_true",
                    help="leave PYTHONDONTWRITEBYTECODE as the environment has it (default: cache bytecode, under "
                         "a PYTHONPYCACHEPREFIX in the scratch directory, as an installed environment would)")
    ap.add_argument("--run-suite", action="store_true",
                    help="figure 10: run the test suite (about 12 minutes on 2 cores); default: read the newest "
                         "committed benchmarks/results/suite/ file, and say so")
    ap.add_argument("--run-reports", action="store_true",
                    help="figure 11: run benchmarks/report_scale.py (1,000,000 results; 100,000 with --quick); "
                         "default: read the newest committed benchmarks/results/reports/ file, and say so")
    ns = ap.parse_args(argv)
    only = ns.only or "1,2,3,4,5,6,7,8,9,10,11"
    figures = {int(x) for x in only.split(",") if x.strip()}

    bench = Bench(ns)
    m = h.machine()
    print(f"jaxpat benchmarks{' (--quick)' if ns.quick else ''}: {m['date']}")
    print(f"machine: {m['cores']} cores, {m['cpu']}, {m['memory_gib']} GiB, {m['os']}; python {m['python']}, "
          f"jax {m['jax']}, jaxlib {m['jaxlib']}, pytest {m['pytest']}, pytest-xdist {m['pytest_xdist']}; "
          f"load average {m['loadavg']}")
    if ns.quick:
        print(f"quick: figures 1-4 on {len(bench.patterns)} patterns: {', '.join(bench.patterns)}")
    print(flush=True)
    t0 = time.perf_counter()
    try:
        if figures & set(range(1, 10)):
            bench.warm_up()
        if figures & {1, 2, 4}:
            bench.overhead_parallel_compiles(figures)
        if 8 in figures:
            bench.memory()
        if 3 in figures:
            bench.cache()
        if 7 in figures:
            bench.observation()
        if 5 in figures:
            bench.startup()
        if 6 in figures:
            bench.scale()
        if 9 in figures:
            bench.reuse()
        if 10 in figures:
            if ns.run_suite:
                bench.suite()
            else:
                bench.suite_from_results()
        if 11 in figures:  # reports at scale (benchmarks/report_scale.py)
            if ns.run_reports:
                for fig in report_scale.figures(bench.workdir("reports"), report_scale.QUICK_N if ns.quick
                                                else report_scale.FULL_N):
                    bench.add(fig)
            else:
                bench.reports_from_results()
    finally:
        total = time.perf_counter() - t0
        m["loadavg_end"] = h._loadavg()
        print(f"\ntotal {total / 60:.1f} min; load average at the end {m['loadavg_end']}"
              f"{'; scratch ' + str(bench.root) if ns.keep else ''}")
        if ns.json:
            Path(ns.json).write_text(json.dumps({"machine": m, "quick": ns.quick, "seconds": round(total, 1),
                                                 "figures": [f.to_dict() for f in bench.figures]}, indent=1))
        if not ns.keep:
            shutil.rmtree(bench.root, ignore_errors=True)
    met = sum(f.met for f in bench.figures)
    print(f"{met} of {len(bench.figures)} figures meet their targets")
    return 0


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
