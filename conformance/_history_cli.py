"""``jaxpat history``: run patterns on a range of JAX releases and say where each behaviour changed (docs/history.md).

Registered in :data:`jaxpat._cli.COMMANDS`; importable without JAX (the
release environments import it).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from jaxpat._util import Exit

__all__ = ["add_parser", "history_command"]

EPILOG = """\
examples:
  jaxpat history --pattern 'scan-*'               every release in jaxpat's supported range
  jaxpat history --releases 0.6.2,0.7.0 --pattern checkpoint-scan-body
  jaxpat history --range '>=0.8,<0.10' --jobs 2 -n 1
  jaxpat history --bisect 0.10.2 0.12.1 --pattern checkpoint-scan-body
  jaxpat history --list-releases                  what the index offers, with the Python for each
  jaxpat history --check-catalog docs/history/history.json
  jaxpat history --from docs/history/history.json --markdown docs/history.md
  jaxpat history --from OUT/history.json --rebuild --json OUT/history.json   (compare its reports again)
  jaxpat history --pattern 'scan-*' -- --cpu-devices 8 --no-claims   (after --: jaxpat check options)

Each release gets its own environment under $JAXPAT_HISTORY_DIR (default
~/.cache/jaxpat/history), built with uv when it is installed, pip otherwise,
and kept for the next run; jaxpat and the installed jaxpat plugins are
installed in it as they are installed here (an editable checkout stays
editable). Each release runs `jaxpat check --label jax-X --report OUT/jax-X.json`;
the reports are compared release by release. A release that cannot be
installed is reported as uninstallable (with the installer's reason), not as a failure.

exit status: 0 done (changes between releases are what a history shows, not
findings); 1 a release's run broke (error), or --check-catalog found a
bound that history contradicts; 2 usage error (a bad range, an unknown
--bisect release); 3 unreadable input (--from, --merge or --check-catalog
file); 4 internal error; 130 interrupted.
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``history`` subcommand."""
    p = subparsers.add_parser(
        "history", help="run patterns on every JAX release in a range; say where each behaviour changed",
        description="Run the selected patterns on each JAX release of a range (one environment per release), "
        "then show the pattern x release matrix, each change with the first release showing it, a history "
        "JSON file and an HTML page; or bisect between two releases; or check the catalog's version-keyed "
        "deviations against a history.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = p.add_argument_group("which releases")
    which.add_argument("--releases", metavar="LIST", help="comma-separated releases (e.g. 0.6.2,0.7.0); "
                       "default: every release the index offers in --range")
    which.add_argument("--range", dest="spec", metavar="SPEC",
                       help="a version range like '>=0.8,<0.10' (default: jaxpat's own jax requirement)")
    which.add_argument("--python", action="append", default=[], metavar="PY",
                       help="a Python to build environments with: 3.12 or a path (repeatable; default: every "
                       "pythonX.Y on PATH; each release gets one that its wheels support, the same one for as "
                       "many releases as possible)")
    which.add_argument("--refresh-releases", action="store_true",
                       help="ask the index again instead of using the release list cached for a day")
    which.add_argument("--list-releases", action="store_true",
                       help="print the releases and the Python each would use, then stop")
    run = p.add_argument_group("what runs")
    run.add_argument("--pattern", action="append", default=[], metavar="GLOB",
                     help="only patterns whose id matches GLOB (repeatable; default: the whole catalog)")
    run.add_argument("-n", "--numprocesses", default="1", metavar="N",
                     help="jaxpat check's worker processes per release (default 1)")
    run.add_argument("-j", "--jobs", type=int, default=1, metavar="J",
                     help="releases run at once (default 1)")
    run.add_argument("--bisect", nargs=2, metavar=("OLD", "NEW"),
                     help="run OLD and NEW, then only the patterns of the items that differ on the releases "
                     "between them, halving, until each change has its first release")
    run.add_argument("--resume", action="store_true",
                     help="reuse the reports an earlier, stopped run with the same selection left in OUT")
    run.add_argument("--installer", choices=("uv", "pip"), help="default: uv when it is installed, else pip")
    run.add_argument("--env-dir", metavar="DIR", help="where environments are kept (default: $JAXPAT_HISTORY_DIR "
                     "or ~/.cache/jaxpat/history)")
    run.add_argument("check_args", nargs="*", metavar="-- CHECK_ARGS",
                     help="passed to every jaxpat check (e.g. --cpu-devices 8, --no-claims)")
    out = p.add_argument_group("output")
    out.add_argument("-o", "--out", default="jaxpat-history", metavar="DIR",
                     help="folder for each release's report and log (default: ./jaxpat-history)")
    out.add_argument("--json", metavar="PATH", help="the history file (default: OUT/history.json)")
    out.add_argument("--html", metavar="PATH", help="the HTML page (default: OUT/history.html)")
    out.add_argument("--markdown", metavar="PATH", help="also write the history as Markdown (docs/history.md)")
    out.add_argument("--note", metavar="TEXT",
                     help="a sentence recorded in the history file and printed on its pages (how it was made)")
    out.add_argument("--limit", type=int, default=3, metavar="N",
                     help="terminal: at most N changes listed per pattern (0: all; default 3)")
    src = p.add_argument_group("instead of running")
    src.add_argument("--from", dest="source", metavar="HISTORY",
                     help="read a history file and show or re-render it (no release runs)")
    src.add_argument("--rebuild", action="store_true",
                     help="with --from: compare the history's reports again (from the folder it names, else "
                     "the history file's folder), keeping its releases and record")
    src.add_argument("--merge", nargs="+", metavar="REPORT",
                     help="build the history from existing jaxpat check reports (one per release; a later "
                     "report of the same release, e.g. a run of patterns added since, replaces that "
                     "release's items of the patterns it ran)")
    src.add_argument("--check-catalog", metavar="HISTORY",
                     help="check every deviation keyed on a JAX version against this history (exit 1 when "
                     "history contradicts a bound)")
    p.set_defaults(func=history_command)
    return p


def history_command(ns: argparse.Namespace) -> int:
    """Run ``jaxpat history`` for the parsed options; return the exit status."""
    from . import _history as h
    from . import _history_view as view

    say = _printer()
    if ns.check_catalog:
        return _check_catalog(ns, say)
    if ns.source or ns.merge:
        try:
            if ns.source and ns.rebuild:
                hist = _rebuild(ns.source, say)
            else:
                hist = h.load_history(ns.source) if ns.source else _merge(ns.merge, say)
        except (h.HistoryError, OSError) as exc:
            print(f"jaxpat history: {exc}", file=sys.stderr)
            return int(Exit.UNREADABLE)
        _write_outputs(ns, hist, say, default_dir=None)
        for line in view.terminal_lines(hist, limit=ns.limit, style=view.style_for(sys.stdout)):
            print(line)
        return int(Exit.OK)
    if ns.jobs < 1:
        print("jaxpat history: --jobs must be at least 1", file=sys.stderr)
        return int(Exit.USAGE)
    try:
        plan = _plan(ns, say)
    except (h.HistoryError, ValueError) as exc:
        print(f"jaxpat history: {exc}", file=sys.stderr)
        return int(Exit.USAGE)
    releases, pythons, offered = plan
    if ns.list_releases:
        for r in releases:
            py = pythons[r]
            print(f"jax {r:<10} python {py.version:<8} (offered for python {', '.join(offered.get(r, [])) or 'none'})")
        return int(Exit.OK)
    out = Path(ns.out)
    out.mkdir(parents=True, exist_ok=True)
    jaxpat, plugins = h.local_requirements()
    env_dir = Path(ns.env_dir).expanduser() if ns.env_dir else h.history_dir()
    builder = h.EnvironmentBuilder(env_dir, jaxpat, plugins, installer=ns.installer)
    check_args = ["-n", str(ns.numprocesses), *ns.check_args]
    runner = h.CheckRunner(builder, pythons, out, check_args, progress=say, resume=ns.resume)
    say(f"{len(releases)} release{'s' if len(releases) != 1 else ''}: {', '.join(releases)}; environments in "
        f"{env_dir} ({builder.installer}); jaxpat from {jaxpat.spec}{' (editable)' if jaxpat.editable else ''}"
        + (f"; plugins: {', '.join(p.spec for p in plugins)}" if plugins else ""))
    started = time.time()
    meta = _meta(ns, releases, check_args)
    meta["reports"] = str(out.resolve())
    meta["index_releases"] = [r for r in offered if h.in_range(r, meta["range"])]
    meta["pythons"] = {r: pythons[r].version for r in releases}
    if ns.bisect:
        try:
            result = h.bisect(ns.bisect[0], ns.bisect[1], releases, ns.pattern, runner, jobs=ns.jobs, progress=say)
        except h.HistoryError as exc:
            print(f"jaxpat history: {exc}", file=sys.stderr)
            return int(Exit.USAGE if "not among" in str(exc) or "earlier release" in str(exc) else Exit.FINDINGS)
        meta["wall_seconds"] = round(time.time() - started, 1)
        hist = h.build_history(result.runs if not _repeats(result.runs) else _first_per_release(result.runs), meta)
        hist.bisect = result.to_dict()
        _write_outputs(ns, hist, say, default_dir=out)
        for line in view.bisect_lines(result, style=view.style_for(sys.stdout)):
            print(line)
        return int(Exit.OK)
    json_path = Path(ns.json) if ns.json else out / "history.json"

    def partial(finished: list[Any]) -> None:
        """After each release: the history so far (a run stopped early still leaves one)."""
        left = [r for r in releases if r not in {x.release for x in finished}]
        if not left:
            return
        so_far = h.build_history(finished, {**meta, "wall_seconds": round(time.time() - started, 1),
                                            "partial": True, "pending": left})
        so_far.write(json_path)

    runs = h.run_releases(releases, ns.pattern, runner, jobs=ns.jobs, done=partial)
    meta["wall_seconds"] = round(time.time() - started, 1)
    hist = h.build_history(runs, meta)
    _write_outputs(ns, hist, say, default_dir=out)
    for line in view.terminal_lines(hist, limit=ns.limit, style=view.style_for(sys.stdout)):
        print(line)
    return int(Exit.FINDINGS if any(r.status == "error" for r in runs) else Exit.OK)


def _printer() -> Any:
    def say(text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    return say


def _plan(ns: argparse.Namespace, say: Any) -> tuple[list[str], dict[str, Any], dict[str, list[str]]]:
    """The releases to run, the Python for each, and which Pythons the index offers each for."""
    from . import _history as h

    spec = ns.spec or h.supported_range()
    h.in_range("0", spec)  # a bad range is a usage error, before anything runs
    pythons = h.find_interpreters(ns.python)
    env_dir = Path(ns.env_dir).expanduser() if ns.env_dir else h.history_dir()
    asked = [v.strip() for v in (ns.releases or "").split(",") if v.strip()]
    offered: dict[str, list[str]] = {}
    if not asked or len(pythons) > 1 or ns.list_releases:  # with one Python and --releases, nothing to choose
        try:
            offered = h.list_releases(pythons, cache=env_dir / "releases.json", refresh=ns.refresh_releases,
                                      note=say)
        except h.HistoryError as exc:
            if not asked:
                raise
            say(f"{exc}; running the releases asked for")
    if asked:
        releases = h.sorted_versions(asked)
        if ns.spec:
            releases = [r for r in releases if h.in_range(r, spec)]
    else:
        releases = [r for r in offered if h.in_range(r, spec)]
    if ns.bisect and not asked:
        lo, hi = ns.bisect
        releases = [r for r in releases if h.version_key(lo) <= h.version_key(r) <= h.version_key(hi)]
    if not releases:
        raise h.HistoryError(f"no release of jax in {spec!r} is offered by the index"
                             + (f" (offered: {', '.join(offered)})" if offered else ""))
    return releases, h.choose_pythons(releases, offered, pythons), offered


def _meta(ns: argparse.Namespace, releases: list[str], check_args: list[str]) -> dict[str, Any]:
    from . import _history as h

    argv = ["jaxpat", "history", *sys.argv[2:]] if len(sys.argv) > 1 and sys.argv[1] == "history" else None
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": argv or ["jaxpat", "history"],
        "machine": h.machine(),
        "range": ns.spec or h.supported_range(),
        "selection": {"patterns": list(ns.pattern), "check_args": check_args, "jobs": ns.jobs},
    }


def _repeats(runs: list[Any]) -> bool:
    return len({r.release for r in runs}) != len(runs)


def _first_per_release(runs: list[Any]) -> list[Any]:
    """For a history of a bisect: the first full run of each release (the ends), else its first run."""
    by: dict[str, Any] = {}
    for r in runs:
        by.setdefault(r.release, r)
    return list(by.values())


def _merge(paths: list[str], say: Any) -> Any:
    from jaxpat.report import ReportError, load_report

    from . import _history as h

    by_release: dict[str, h.ReleaseRun] = {}
    for p in paths:
        try:
            rep = load_report(p)
        except ReportError as exc:
            raise h.HistoryError(str(exc)) from exc
        release = rep.environment.jax or (rep.hosts[0].jax if rep.hosts else None)
        if not release:
            raise h.HistoryError(f"{p}: the report does not say which jax it ran on")
        seconds = float(rep.duration_wall or 0.0)
        earlier = by_release.get(release)
        if earlier is not None and earlier.report is not None:
            # a later report of the same release is laid over the earlier: its patterns replace theirs
            layered, taken = h.layer_reports(earlier.report, rep)
            say(f"jax {release}: {Path(p).name} replaces {len(taken)} pattern{'s' if len(taken) != 1 else ''} "
                f"of {Path(str(earlier.report_path)).name}")
            by_release[release] = dataclasses.replace(
                earlier, report=layered, seconds=earlier.seconds + seconds,
                exit=max(earlier.exit or 0, rep.exitstatus or 0), updated_by=(*earlier.updated_by, str(p)))
            continue
        by_release[release] = h.ReleaseRun(release, "ran", rep.environment.python, report=rep, report_path=str(p),
                                           exit=rep.exitstatus, seconds=seconds)
    runs = list(by_release.values())
    layered_count = sum(1 for r in runs if r.updated_by)
    say(f"merged {len(paths)} reports: jax {', '.join(h.sorted_versions(r.release for r in runs))}"
        + (f" ({layered_count} release{'s' if layered_count != 1 else ''} from a report and its updates)"
           if layered_count else ""))
    meta: dict[str, Any] = {"created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                            "command": ["jaxpat", "history", "--merge", *paths], "machine": h.machine()}
    folders = {str(Path(str(r.report_path)).resolve().parent) for r in runs if r.report_path}
    if len(folders) == 1:  # where --rebuild finds them again
        meta["reports"] = folders.pop()
    return h.build_history(runs, meta)


def _rebuild(path: str, say: Any) -> Any:
    """The history at ``path`` made again from its own reports (the comparison of this jaxpat)."""
    from jaxpat.report import ReportError, load_report

    from . import _history as h

    old = h.load_history(path)
    folders = [Path(str(old.meta["reports"]))] if old.meta.get("reports") else []
    folders.append(Path(path).parent)
    runs = []
    for r in old.releases:
        if r["status"] != "ran":
            runs.append(h.ReleaseRun(r["version"], r["status"], r.get("python"), reason=r.get("reason"),
                                     exit=r.get("exit"), seconds=float(r.get("seconds") or 0.0)))
            continue
        found = next((f / str(r.get("report")) for f in folders if (f / str(r.get("report"))).is_file()), None)
        if found is None:
            raise h.HistoryError(f"{path}: the report of jax {r['version']} ({r.get('report')}) is in none of "
                                 + ", ".join(str(f) for f in folders))
        try:
            rep = load_report(found)
        except ReportError as exc:
            raise h.HistoryError(str(exc)) from exc
        for later in r.get("updated_by") or ():  # reports laid over this one by --merge, as they were named
            where = next((c for c in (Path(str(later)), *(f / str(later) for f in folders)) if c.is_file()), None)
            if where is None:
                raise h.HistoryError(f"{path}: the report laid over jax {r['version']}'s ({later}) is in none of "
                                     + ", ".join(str(f) for f in (Path.cwd(), *folders)))
            try:
                rep = h.layer_reports(rep, load_report(where))[0]
            except ReportError as exc:
                raise h.HistoryError(str(exc)) from exc
        runs.append(h.ReleaseRun(r["version"], "ran", r.get("python"), report=rep, report_path=str(found),
                                 exit=r.get("exit"), seconds=float(r.get("seconds") or 0.0),
                                 updated_by=tuple(str(x) for x in r.get("updated_by") or ())))
    say(f"rebuilt {path} from {sum(1 for r in runs if r.report is not None)} reports")
    hist = h.build_history(runs, old.meta)
    hist.bisect = old.bisect
    return hist


def _write_outputs(ns: argparse.Namespace, hist: Any, say: Any, *, default_dir: Path | None) -> None:
    from jaxpat._util import atomic_write

    from . import _history_view as view

    if getattr(ns, "note", None):
        hist.meta["note"] = ns.note
    json_path = ns.json or (str(default_dir / "history.json") if default_dir else None)
    html_path = ns.html or (str(default_dir / "history.html") if default_dir else None)
    if json_path:
        hist.write(Path(json_path))
        say(f"wrote {json_path}")
    if html_path:
        Path(html_path).parent.mkdir(parents=True, exist_ok=True)
        atomic_write(Path(html_path), view.render_html(hist))
        say(f"wrote {html_path}")
    if ns.markdown:
        Path(ns.markdown).parent.mkdir(parents=True, exist_ok=True)
        data = json_path or getattr(ns, "source", None)  # the history file the page is made from
        source = os.path.relpath(data, Path(ns.markdown).parent) if data else None
        atomic_write(Path(ns.markdown), view.render_markdown(hist, source=source))
        say(f"wrote {ns.markdown}")


def _check_catalog(ns: argparse.Namespace, say: Any) -> int:
    from jaxpat.patterns import load_catalog

    from . import _history as h
    from . import _history_view as view

    try:
        hist = h.load_history(ns.check_catalog)
    except h.HistoryError as exc:
        print(f"jaxpat history: {exc}", file=sys.stderr)
        return int(Exit.UNREADABLE)
    catalog = load_catalog()
    deviations = [(p.id, d, str(p.location) if p.location else None) for p in catalog for d in p.deviations]
    index = hist.meta.get("index_releases") or []
    checks = h.check_catalog(hist, deviations, index)
    for line in view.catalog_check_lines(checks, source=ns.check_catalog):
        print(line)
    return int(Exit.FINDINGS if any(c.verdict == "contradicted" for c in checks) else Exit.OK)


def quote(argv: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)
