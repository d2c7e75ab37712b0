"""The README's benchmark figures are the committed results' (benchmarks/results/*.json), digit for digit.

The README's performance paragraph names the results files it quotes; for each, the
figures are recomputed from the JSON, formatted as the README writes them, and must
appear in the paragraph. It must also quote the newest committed results file, so that
fresh results cannot be committed without the README following.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
MIB = 2.0**20


def paragraph(readme: str) -> str:
    """The README's performance paragraph (the one that runs ``python -m benchmarks``), whitespace collapsed."""
    for block in readme.split("\n\n"):
        if "python -m\nbenchmarks" in block or "python -m benchmarks" in block:
            return " ".join(block.split())
    raise AssertionError("README.md has no paragraph quoting `python -m benchmarks`")


def _figure(data: dict[str, Any], number: int, index: int = 0) -> dict[str, Any]:
    return [f for f in data["figures"] if f["number"] == number][index]


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def full_run_fragments(data: dict[str, Any]) -> list[str]:
    """What the README says of a full run (figures 1-6), formatted as it writes them."""
    f1, f2, f3, f4, f5 = (_figure(data, n) for n in (1, 2, 3, 4, 5))
    f6a, f6b = _figure(data, 6, 0), _figure(data, 6, 1)
    collect = f6a["extra"]["collect"]
    k = min((int(k) for k, c in collect.items() if c["items"] >= 10_000))
    per = f6b["extra"]["per_item"]
    if "1x" in per:  # runs before 2026-12-07: figure 6b relative to 1x, figures 1 and 4 by whole process and pass
        r100 = per["100x sample"]["relative"] / per["1x"]["relative"]
        jit = f4["extra"]["passes"][0]["first_call_compiles_by_transform"]["jit"]
        overall = f4["ratio"]
    else:  # 6b relative to 2x; 1: the item loops' CPU time; 4: the suite's jit items, all transforms in a note
        r100 = per["100x sample"]["cpu_per_item_ms"] / per["2x"]["cpu_per_item_ms"]
        jit = f4["extra"]["suite_jit_compiles"]
        overall = f4["extra"]["all_transforms_ratio"]
    return [
        f"JAX {data['machine']['jax']}, {data['machine']['date'][:10]}",
        f"`-n 2` is {f2['ratio']:.2f}× faster than serial",
        f"start-up is {f5['ratio']:.2f}× of `import jax`",
        f"{_thousands(collect[str(k)]['items'])} items collect in {collect[str(k)]['wall']:.1f} s",
        f"({f6b['ratio']:.2f}, {r100:.2f})",
        f"makes a run {f3['ratio']:.2f}× faster",
        f"the suite costs {f1['ratio']:.2f}× a bare loop",
        f"({jit} compilations for {f4['extra']['jit_signatures']} signatures)",
        f"leaves {overall:.2f} compilations per signature",
    ]


def memory_fragments(data: dict[str, Any]) -> list[str]:
    """What the README says of figure 8 (worker memory)."""
    a, b = _figure(data, 8, 0), _figure(data, 8, 1)
    first = b["extra"]["release"]["per_pass"][0]
    kept = b["extra"]["no_release"]
    return [
        f"JAX {data['machine']['jax']}, {data['machine']['date'][:10]}",
        f"keeps {round(b['a'] * 1024)} KiB per item",
        f"{(kept['growth_per_item'] or 0) / 1024:.0f} KiB per item without the release",
        f"{first['compiles'] / max(1, kept['compiles']):.2f}× the compilations",
        f"the largest `-n 2` worker peaked at {a['a']:.0f} MiB",
    ]


def mismatches(readme: str) -> list[str]:
    """Each figure of the named results files that the README's paragraph does not quote exactly."""
    text = paragraph(readme)
    named = sorted(set(re.findall(r"benchmarks/results/([\w.-]+\.json)", text)))
    problems = [] if named else ["the paragraph names no benchmarks/results/*.json file"]
    newest = max((p.name for p in RESULTS.glob("*.json")), default=None)
    if newest is not None and newest not in named:
        problems.append(f"the paragraph does not quote the newest results, {newest}")
    for name in named:
        path = RESULTS / name
        if not path.is_file():
            problems.append(f"{name}: no such results file")
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        fragments = [] if data["quick"] else full_run_fragments(data)
        if any(f["number"] == 8 for f in data["figures"]):
            fragments += memory_fragments(data)
        if not fragments:
            problems.append(f"{name}: the README quotes no figure of it")
        problems += [f"{name}: the README does not say {f!r}" for f in fragments if f not in text]
    return problems


def test_readme_quotes_the_committed_results() -> None:
    assert mismatches((ROOT / "README.md").read_text(encoding="utf-8")) == []


def test_a_figure_that_differs_from_the_results_is_caught() -> None:
    """Counter-test: the README with one figure changed, or without a results file named, is caught."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    text = paragraph(readme)
    m = re.search(r"the suite costs (\d+\.\d\d)×", text)
    assert m is not None
    changed = readme.replace(f"costs {m.group(1)}×", f"costs {float(m.group(1)) - 0.01:.2f}×")
    assert changed != readme
    assert any("the suite costs" in p for p in mismatches(changed))
    m = re.search(r"keeps (-?\d+) KiB per item", text)
    assert m is not None
    grown = readme.replace(f"keeps {m.group(1)} KiB per item", f"keeps {int(m.group(1)) + 1} KiB per item")
    assert any("KiB per item" in p for p in mismatches(grown))
    unnamed = re.sub(r"benchmarks/results/[\w.-]+\.json", "benchmarks/results/", readme)
    assert mismatches(unnamed)


def test_readme_quotes_the_newest_reuse_results() -> None:
    """The README's re-run figures are the newest committed benchmarks/results/reuse/ file's."""
    newest = sorted((RESULTS / "reuse").glob("*.txt"))[-1]
    text = newest.read_text(encoding="utf-8")
    cold = re.search(r"^cold: +([\d.]+) s wall", text, re.M)
    warm = re.search(r"^re-run: +([\d.]+) s wall", text, re.M)
    ratio = re.search(r"^re-run / cold: ([\d.]+) wall .*, ([\d.]+) CPU$", text, re.M)
    assert cold, text
    assert warm, text
    assert ratio, text
    para = paragraph((ROOT / "README.md").read_text(encoding="utf-8"))
    assert f"benchmarks/results/reuse/{newest.name}" in para
    for fragment in (f"{cold.group(1)} s, then {warm.group(1)} s", f"({ratio.group(1)} of the cold run's wall time; "
                     f"{ratio.group(2)} of its CPU time)"):
        assert fragment in para, fragment


def test_the_readme_quotes_the_newest_suite_results() -> None:
    """README's "How long the suite takes" names the newest benchmarks/results/suite/ file and quotes its wall time,
    CPU time and result, as that file states them."""
    newest = max((RESULTS / "suite").glob("*.txt"), key=lambda p: p.name)
    text = newest.read_text(encoding="utf-8")
    wall = re.search(r"^wall time: (\d+) s", text, re.M)
    cpu = re.search(r"CPU time of every process: (\d+) s", text)
    result = re.search(r"^result: (.+)$", text, re.M)
    assert wall, f"{newest.name} lost its wall time line"
    assert cpu, f"{newest.name} lost its CPU time"
    assert result, f"{newest.name} lost its result line"
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    said = re.search(r"How long the suite takes \(\[([^\]]+)\]\([^)]*\)\): (.*?)\. ", readme)
    assert said, "README.md lost its sentence on how long the suite takes"
    assert said.group(1) == f"benchmarks/results/suite/{newest.name}"
    for fragment in (f"{wall.group(1)} s at `-n 2`", f"({result.group(1)};", f"{cpu.group(1)} s of CPU"):
        assert fragment in said.group(2), (fragment, said.group(2))



def report_scale_mismatches(doc: str) -> list[str]:
    """Each figure of the newest committed benchmarks/results/reports/ JSON that docs/report.md's table does not
    quote exactly (a row per command: wall time, CPU time, peak memory), and the file itself when unnamed."""
    newest = max((RESULTS / "reports").glob("*.json"), key=lambda p: p.name)
    data = json.loads(newest.read_text(encoding="utf-8"))
    text = " ".join(doc.split())
    problems = [] if f"benchmarks/results/reports/{newest.stem}" in text else [f"{newest.name} is not named"]
    for f in data["figures"]:
        x = f["extra"]
        name = x["command"]
        row = re.search(rf"^\| `report {name}`[^|]*\| ([^|]+) \| ([^|]+) \| ([^|]+) \|", doc, re.M)
        if row is None:
            problems.append(f"no row for `report {name}`")
            continue
        said = tuple(c.strip() for c in row.groups())
        want = (f"{x['wall_s']} s", f"{x['cpu_s']} s", f"{x['peak_rss_mib']} MiB")
        if said != want:
            problems.append(f"`report {name}`: the table says {said}, {newest.name} {want}")
    return problems


def test_docs_report_quotes_the_newest_report_scale_results() -> None:
    """docs/report.md's table of `report show/diff/merge/html` at 1,000,000 results is the newest committed
    figure 11 file's, and names it."""
    assert report_scale_mismatches((ROOT / "docs" / "report.md").read_text(encoding="utf-8")) == []


def test_a_report_scale_figure_that_differs_is_caught() -> None:
    """Counter-test: one figure of the table changed, or the file unnamed, is caught."""
    doc = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
    m = re.search(r"^\| `report merge`[^|]*\| ([\d.]+) s \|", doc, re.M)
    assert m is not None
    changed = doc.replace(m.group(0), m.group(0).replace(m.group(1), f"{float(m.group(1)) + 0.1:.1f}"))
    assert changed != doc
    assert any("`report merge`" in p for p in report_scale_mismatches(changed))
    unnamed = re.sub(r"benchmarks/results/reports/[\w.-]+", "benchmarks/results/reports/", doc)
    assert any("is not named" in p for p in report_scale_mismatches(unnamed))


def test_the_readme_quotes_the_newest_report_scale_results() -> None:
    """README's performance paragraph names the newest figure 11 file and quotes each command's wall time."""
    newest = max((RESULTS / "reports").glob("*.json"), key=lambda p: p.name)
    data = json.loads(newest.read_text(encoding="utf-8"))
    walls = {f["extra"]["command"]: f["extra"]["wall_s"] for f in data["figures"]}
    para = paragraph((ROOT / "README.md").read_text(encoding="utf-8"))
    assert f"benchmarks/results/reports/{newest.name}" in para
    said = ", ".join(f"{walls[c]} s" for c in ("show", "diff", "merge")) + f" and {walls['html']} s"
    assert said in para, said
    peak = max(f["extra"]["peak_rss_mib"] for f in data["figures"])
    assert f"{peak} MiB" in para
