"""Docs that cannot go stale: the README's and docs/'s examples run, and their figures are checked.

* ```` ```pycon ```` blocks (the README tour, the README's `run_case` example, docs/plugins.md)
  run as doctests (tests/_docblocks.py);
* terminal samples marked ``<!-- test: output -->`` (docs/cli.md) are run against the current
  catalog and compared; ``JAXPAT_REGENERATE_DOCS=1 pytest tests/test_docs.py`` rewrites them;
* docs/plugins.md's plugin module is written out, installed on ``sys.path`` and validated;
* figures the README states (catalog size, corpus size, YAML limits, budgets, the mutation
  score) are compared with what they describe;
* docs/design.md's import-order lists are valid orders of the real import graph, every module listed;
* each checker has a counter-test that feeds it a wrong document.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import _docblocks as d
import pytest

#: tests/test_types.py plants a probe module in report/ while it runs; the tests that read the source tree
#: (test_docs, test_structure, test_packaging) run on the same xdist worker, one at a time
pytestmark = pytest.mark.xdist_group("source-tree")

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


# -- doctests --------------------------------------------------------------------------------------------------------


WITH_PYCON = [p for p in (README, *DOCS) if any(b.lang == "pycon" for b in d.blocks(_read(p)))]
WITH_SAMPLES = [p for p in (README, *DOCS) if any(b.marked for b in d.blocks(_read(p)))]


def test_the_documents_with_examples() -> None:
    """The documents whose examples run (so that losing a block or a marker is noticed)."""
    assert [p.name for p in WITH_PYCON] == ["README.md", "plugins.md"]
    assert [p.name for p in WITH_SAMPLES] == ["cli.md"]


@pytest.mark.parametrize("path", WITH_PYCON, ids=lambda p: p.name)
def test_pycon_blocks_run(path: Path, tmp_path: Path) -> None:
    """Every ```pycon block of the document passes as a doctest (fresh interpreter, third-party plugins off)."""
    text = _read(path)
    failed, attempted, report = d.run_doctests(path.name, text, d.sample_env(tmp_path), tmp_path)
    assert (failed, attempted > 0) == (0, True), report


def test_the_readme_tour_and_repro_are_doctests() -> None:
    """The README's Python examples are pycon (run above), not inert ```python blocks, except the plugin
    module (run by test_readme_plugin_example_registers)."""
    found = d.blocks(_read(README))
    pycon = [b.body for b in found if b.lang == "pycon"]
    assert any("load_catalog()" in b and "reg.implementations" in b for b in pycon)
    assert any("run_case(" in b for b in pycon)
    assert [b.body.splitlines()[0] for b in found if b.lang == "python"] == [
        "# my_jaxpat_plugin/__init__.py — keep it JAX-free: patterns.load_catalog() imports it"]


def test_a_wrong_doctest_fails(tmp_path: Path) -> None:
    """Counter-test: a doctest with a wrong expected value is reported."""
    text = "```pycon\n>>> 1 + 1\n3\n```\n\n```pycon\n>>> x = 2\n```\n```pycon\n>>> x\n2\n```\n"
    failed, attempted, report = d.run_doctests("t.md", text, d.sample_env(tmp_path), tmp_path)
    assert (failed, attempted) == (1, 3), report
    assert "Expected:\n    3\nGot:\n    2" in report


# -- terminal samples --------------------------------------------------------------------------------------------------


def _marked(path: Path) -> list[d.Block]:
    return [b for b in d.blocks(_read(path)) if b.marked]


def test_cli_md_has_checked_samples() -> None:
    """docs/cli.md's list/show samples are marked for checking (so they cannot silently stop being checked)."""
    commands = [s.command for b in _marked(ROOT / "docs" / "cli.md") for s in d.samples(b)]
    assert {"jaxpat list --family arange", "jaxpat show scan-cumsum", "jaxpat show scan-cumsun",
            "jaxpat list --family loop"} <= set(commands), commands


@pytest.mark.parametrize("path", WITH_SAMPLES, ids=lambda p: p.name)
def test_terminal_samples_match_the_current_catalog(path: Path, tmp_path: Path) -> None:
    """Each marked sample's output is what the command prints now (regenerate: JAXPAT_REGENERATE_DOCS=1)."""
    marked = _marked(path)
    env = d.sample_env(tmp_path)
    if os.environ.get("JAXPAT_REGENERATE_DOCS") == "1":
        d.regenerate(path, env)
        marked = _marked(path)
    stale = []
    for block in marked:
        for sample in d.samples(block):
            got = d.run_sample(sample.command, env)
            if not d.matches(sample.expected, got):
                stale.append(f"{path.name}:{block.line}: `{sample.command}`\n--- documented:\n{sample.expected}\n"
                             f"--- printed now:\n{got}")
    assert stale == [], "stale samples (JAXPAT_REGENERATE_DOCS=1 pytest tests/test_docs.py rewrites them):\n" + \
        "\n".join(stale)


def test_a_stale_sample_is_caught_and_regenerated(tmp_path: Path) -> None:
    """Counter-test: a sample with a wrong title fails the comparison; regeneration fixes it and keeps `...`."""
    env = d.sample_env(tmp_path)
    got = d.run_sample("jaxpat show scan-cumsum", env)
    title = got.splitlines()[0]
    assert title.startswith("scan-cumsum — ")
    assert d.matches(title + "\n...", got)
    assert not d.matches("scan-cumsum — Cumulative sum with a lax.scan carry\n...", got)
    doc = tmp_path / "doc.md"
    doc.write_text(f"intro\n\n{d.MARKER}\n```\n$ jaxpat show scan-cumsum\nscan-cumsum — wrong\n...\n```\nend\n")
    assert d.regenerate(doc, env)
    assert _read(doc) == f"intro\n\n{d.MARKER}\n```\n$ jaxpat show scan-cumsum\n{title}\n...\n```\nend\n"


# -- docs/plugins.md and the README's plugin: the module as written registers ---------------------------------------


EXAMPLE_PATTERNS = ROOT / "examples" / "jaxpat-example-plugin" / "jaxpat_example_plugin" / "patterns.yaml"


def _write_plugin(tmp_path: Path, files: dict[str, str]) -> Path:
    pkg = tmp_path / "my_jaxpat_plugin"
    pkg.mkdir()
    for name, body in files.items():
        (pkg / name).write_text(body, encoding="utf-8")
    # the docs' jaxpat_catalog_files returns patterns.yaml beside the module: the example plugin's
    (pkg / "patterns.yaml").write_bytes(EXAMPLE_PATTERNS.read_bytes())
    return pkg


def _check_registers(tmp_path: Path, expected: list[str]) -> None:
    code = ("import sys, my_jaxpat_plugin\n"
            "assert 'jax' not in sys.modules, 'the entry module imported JAX'\n"
            "from jaxpat.patterns.testing import check_plugin\n"
            "registry = check_plugin(my_jaxpat_plugin, name='mine')\n"
            "print([i.id for i in registry.implementations()])\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                          env=d.sample_env(tmp_path), timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert proc.stdout.strip() == repr(expected)


def test_plugins_md_plugin_module_registers(tmp_path: Path) -> None:
    """docs/plugins.md section 1's two files, written as they are, pass check_plugin (section 5's test)."""
    files = {}
    for block in d.blocks(_read(ROOT / "docs" / "plugins.md")):
        first = block.body.splitlines()[0] if block.body.strip() else ""
        m = re.fullmatch(r"# my_jaxpat_plugin/(\w+\.py)", first)
        if block.lang == "python" and m:
            files[m.group(1)] = block.body
    assert set(files) == {"__init__.py", "_impl.py"}
    _write_plugin(tmp_path, files)
    _check_registers(tmp_path, ["mine.associative_scan"])


def test_plugins_md_test_and_registry_blocks_run(tmp_path: Path) -> None:
    """docs/plugins.md's section-5 test passes against section 1's plugin, and section 7's registry calls run."""
    found = [b for b in d.blocks(_read(ROOT / "docs" / "plugins.md")) if b.lang == "python"]
    files = {m.group(1): b.body for b in found if (m := re.fullmatch(r"# my_jaxpat_plugin/(\w+\.py)",
                                                                     b.body.splitlines()[0]))}
    (test,) = [b.body for b in found if "def test_plugin_registers" in b.body]
    (api,) = [b.body for b in found if b.body.startswith("from jaxpat.patterns import get_registry")]
    _write_plugin(tmp_path, files)
    script = f"{test}\ntest_plugin_registers()\n{api}\nprint('ok', len(registry.implementations()) > 0)\n"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path,
                          env=d.sample_env(tmp_path), timeout=600)
    assert (proc.returncode, proc.stdout.strip()) == (0, "ok True"), proc.stderr[-4000:]


def test_readme_plugin_example_registers(tmp_path: Path) -> None:
    """The README's plugin module, written as it is, passes check_plugin."""
    (block,) = [b for b in d.blocks(_read(README)) if b.lang == "python"]
    _write_plugin(tmp_path, {"__init__.py": block.body})
    _check_registers(tmp_path, ["mine.associative_scan"])


# -- figures the README states --------------------------------------------------------------------------------------


def test_readme_catalog_size() -> None:
    from jaxpat import catalog

    cat = catalog.load()
    m = re.search(r"declares (\d+) patterns and (\d+) cases", _flat(_read(README)))
    assert m, "README no longer states the catalog's size"
    assert (int(m.group(1)), int(m.group(2))) == (len(cat), cat.n_cases())


def test_readme_corpus_size() -> None:
    m = re.search(r"`tests/corpus/` holds (\d+) malformed catalogs", _flat(_read(README)))
    assert m, "README no longer states the corpus size"
    assert int(m.group(1)) == len(list((ROOT / "tests" / "corpus").glob("*.yaml")))


def test_readme_yaml_limits_and_budgets() -> None:
    from jaxpat import _env
    from jaxpat.catalog._yaml import DEFAULT_LIMITS

    text = _flat(_read(README))
    nodes = f"{DEFAULT_LIMITS.max_nodes:,}".replace(",", " ")
    assert (f"({DEFAULT_LIMITS.max_bytes // 2**20} MiB, {nodes} nodes counting alias uses, depth "
            f"{DEFAULT_LIMITS.max_depth})") in text
    assert (f"an import over {_env.IMPORT_TIMEOUT.default} s or a hook over {_env.HOOK_TIMEOUT.default} s"
            in text)


def test_readme_supported_range_matches_pyproject() -> None:
    """Both places the README states the supported JAX range say pyproject's bounds."""
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11 (the tests run on 3.12)

    deps = tomllib.loads(_read(ROOT / "pyproject.toml"))["project"]["dependencies"]
    (jax,) = [x for x in deps if x.startswith("jax>=")]
    low, high = re.fullmatch(r"jax>=([\d.]+),<([\d.]+)", jax).groups()
    text = _flat(_read(README))
    assert f"JAX and jaxlib ≥ {low}, < {high}" in text
    assert f"`jax>={low},<{high}` in `pyproject.toml`" in text
    assert not re.search(r"< ?0\.(?!" + re.escape(high.split(".")[1]) + r"\b)\d+\b", text.split("## Supported")[0])


MUTATE_RESULTS = ROOT / "docs" / "mutate" / "mutate.json"


def test_readme_mutation_figures_come_from_the_committed_run() -> None:
    """The mutation paragraph quotes docs/mutate/mutate.json (a `jaxpat mutate --format json` run): totals,
    score, equivalent and unexplained survivors by cause, and which patterns made no mutant."""
    from jaxpat import catalog

    run = json.loads(_read(MUTATE_RESULTS))
    text = _flat(_read(README))
    para = text[text.index("## Mutation testing"):text.index("## Reliability")]
    assert run["equivalence_rules"] == len(json.loads(_read(ROOT / "conformance" / "equivalent-mutants.json"))
                                           ["equivalent"])
    survivors = run["survivors"]
    assert run["total"] - run["killed"] == len(survivors) == run["equivalent"] + run["unexplained"]
    expected = (f"({len(run['per_pattern'])} patterns; JAX {run['jax']}, {run['device'].split(':')[0].upper()}, "
                f"`jaxpat mutate --format json`, [docs/mutate/mutate.json](docs/mutate/mutate.json)): "
                f"**{run['total']} mutants, {run['killed']} killed ({100 * run['killed'] / run['total']:.1f} %)**; "
                f"{run['equivalent']} survivors are recorded as equivalent")
    assert expected in para, expected
    open_ = [s for s in survivors if not s["equivalent"]]
    assert f"and {len(open_)} unexplained survivors are open" in para
    causes = {
        "`grad-linear-function`'s `grad` claim does not tell forward-only from reverse-only counters":
            [s for s in open_ if s["pattern"] == "grad-linear-function" and s["kind"] == "claim:grad"],
        "each `distributed-*` pattern has one case, which a constant result passes":
            [s for s in open_ if s["pattern"].startswith("distributed-") and s["mutant"] == "constant"],
        "a ratio-1 speed counter measured *inconclusive* (its noise band straddled the claimed ratio)":
            [s for s in open_ if s["mutant"] == "baseline-speed" and "inconclusive" in s["reason"]],
    }
    assert sum(len(v) for v in causes.values()) == len(open_), "an open survivor the README does not explain"
    for words, found in causes.items():
        if found:  # a cause with no survivor left is not listed
            assert f"{words} ({len(found)})" in para, words
    cat = catalog.load()
    absent = [p for p in cat if p.id not in run["per_pattern"]]
    assert set(run["per_pattern"]) <= {p.id for p in cat}
    assert all(all(c.devices > 1 for c in p.cases) for p in absent), (
        "the catalog has patterns the committed mutation run did not see; rerun it: "
        "JAXPAT_DISABLE_PLUGIN_AUTOLOAD=1 jaxpat mutate --format json > docs/mutate/mutate.json, then the README")
    assert f"so the {len(absent)} patterns whose cases need 8 devices" in para


def test_readme_states_no_unchecked_suite_total() -> None:
    """Counts of a suite run ("766 passed") and its duration ("a few minutes at most") go stale silently: the
    README quotes none, unless the sentence names a committed results file (benchmarks/results/...)."""
    text = _read(README)
    assert not re.search(r"\b\d+ passed\)", text)
    dev = text[text.index("## Development"):]
    for line in dev.splitlines():
        if re.search(r"\bminutes?\b|\b\d+ ?s\b|\d+:\d\d", line):
            assert "benchmarks/results/" in line, line


# -- docs/design.md: the import-order lists are the code's -------------------------------------------------------------


def _design_order(folder: str) -> list[str]:
    text = _read(ROOT / "docs" / "design.md")
    start = text.index(f"### Import order inside `{folder}/`")
    block = d.blocks(text[start:])[0]
    return [line.split()[0] for line in block.body.splitlines() if line.strip()]


def _local_imports(folder: str) -> dict[str, set[str]]:
    """module -> the modules of the same folder it imports (module level or in functions; not TYPE_CHECKING)."""
    from test_structure import graph

    package = f"jaxpat.{folder}"
    out: dict[str, set[str]] = {}
    for module, edges in graph().items():
        if module == package or module.startswith(package + "."):
            name = module[len(package) + 1:] or "__init__"
            if "." in name:
                continue
            out[name] = {t[len(package) + 1:] or "__init__" for t, _ in edges
                         if (t == package or t.startswith(package + ".")) and t != module}
    return out


def order_problems(order: list[str], imports: dict[str, set[str]]) -> list[str]:
    problems = [f"{m} is not listed" for m in sorted(set(imports) - set(order))]
    problems += [f"{m} is listed but is no module" for m in order if m not in imports]
    problems += [f"{m} is listed twice" for m in sorted({m for m in order if order.count(m) > 1})]
    position = {m: i for i, m in enumerate(order)}
    for m, deps in sorted(imports.items()):
        for dep in sorted(deps):
            if m in position and dep in position and position[dep] > position[m]:
                problems.append(f"{m} imports {dep}, which is listed after it")
    return problems


@pytest.mark.parametrize("folder", ["conformance", "report"])
def test_design_import_order_is_the_codes(folder: str) -> None:
    """docs/design.md lists every module of the folder, each after every module it imports."""
    order = _design_order(folder)
    assert order, f"no import-order list for {folder}/"
    imports = _local_imports(folder)
    if folder == "conformance":
        imports.pop("__init__", None)  # the package's public names, listed apart
    assert order_problems(order, imports) == []


def test_order_problems_can_fail() -> None:
    imports = {"a": set(), "b": {"a"}, "c": {"b"}}
    assert order_problems(["a", "b", "c"], imports) == []
    assert order_problems(["a", "c", "b"], imports) == ["c imports b, which is listed after it"]
    assert order_problems(["a", "b"], imports) == ["c is not listed"]


# -- what docs/report.md promises ------------------------------------------------------------------------------------


def test_report_reason_when_no_item_ran(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/report.md: a run in which no item ran is `incomplete` with a `reason`, exit status 5."""
    pytester.copy_example("conformance")
    monkeypatch.setenv("JAXPAT_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("JAXPAT_BLOCK_PLUGINS", "reference")
    monkeypatch.setenv("PYTHONPATH", str(pytester.path) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--jaxpat", "--jaxpat-only", "--jaxpat-catalog", "tcat.yaml", "--jaxpat-load",
        "good", "--jaxpat-no-cache", "--jaxpat-report", "report.json", "--jaxpat-pattern", "t-square",
        "-k", "no-such-item", timeout=300)
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED, result.stdout.str()[-3000:]
    report = json.loads((pytester.path / "report.json").read_text())
    assert (report["status"], report.get("reason")) == ("incomplete", "no item ran")
    assert "no item ran" in _read(ROOT / "docs" / "report.md")


# -- statements about the code ---------------------------------------------------------------------------------------


def test_measure_docstring_says_what_is_measured() -> None:
    """conformance/_measure.py's table says what the verdicts use: compiled HLO instructions for program size,
    compiled temp + output bytes for forward memory (not jaxpr equations, not temp bytes alone)."""
    doc = ast.get_docstring(ast.parse(_read(ROOT / "conformance" / "_measure.py"))) or ""
    def row(kind: str, after: str) -> str:
        cells = [line.split("|")[2] for line in doc[doc.index(f"| `{kind}`"):doc.index(f"| `{after}`")].splitlines()]
        return _flat(" ".join(cells))

    size = row("program_size", "early_exit")
    assert size.startswith(" HLO instructions of the compiled"), size
    assert "temp + output bytes" in row("memory", "program_size")
    verdicts = _read(ROOT / "conformance" / "_claim_verdicts.py")
    assert 'figures["hlo_instructions"]' in verdicts
    assert "total = [t + o for t, o in zip(temp, out" in verdicts


def test_no_doc_mentions_pytest_timeout_or_timing_checks() -> None:
    """pytest-timeout is gone (the watchdog replaced it) and unit tests have no wall-clock limits."""
    found = [str(p.relative_to(ROOT)) for p in [README, *DOCS, ROOT / "tests" / "corpus" / "README.md",
                                                   ROOT / "benchmarks" / "README.md"]
             if "pytest-timeout" in _read(p)]
    assert found == []
    corpus = _flat(_read(ROOT / "tests" / "corpus" / "README.md"))
    assert "under 2 s" not in corpus
    from test_corpus import MAX_BYTES

    assert f"allocates under {MAX_BYTES // 2**20} MiB" in corpus


def _owned_modules() -> set[str]:
    """Files named in docs/design.md's "Who owns what" table, as repository paths."""
    text = _read(ROOT / "docs" / "design.md")
    table = text[text.index("### Who owns what"):text.index("### Import order")]
    named: set[str] = set()
    for row in table.splitlines():
        if not row.startswith("| `"):
            continue
        folder = ""
        for item in re.findall(r"`([^`]+)`", row.split("|")[1]):
            if "/" in item.rstrip("/"):
                folder, _, item = item.rpartition("/")
            named.add(f"{folder}/{item.rstrip('/')}")
    return named


def test_design_table_names_every_module() -> None:
    """Every module of the package (and data folder) has a row in docs/design.md's ownership table."""
    from test_structure import modules

    paths = {str(p.relative_to(ROOT)) for p in modules().values()}
    paths = {p for p in paths if not p.endswith("__init__.py") or p == "report/__init__.py"}  # packages: by folder
    missing = sorted(p for p in paths if p not in _owned_modules()
                     and not any(p.startswith(o + "/") for o in _owned_modules()))
    assert missing == []


PRIVATE_IMPORT = re.compile(r"from jaxpat(\.\w+)*\._\w+ import|import jaxpat(\.\w+)*\._\w+")


def test_docs_import_only_public_modules() -> None:
    """No example tells users to import a private module (`jaxpat.report._drift`): the public API suffices."""
    found = [f"{p.name}:{n}: {line.strip()}" for p in [README, *DOCS]
             for n, line in enumerate(_read(p).splitlines(), 1) if PRIVATE_IMPORT.search(line)]
    assert found == []
    assert PRIVATE_IMPORT.search("from jaxpat.report._drift import drift, format_text")  # what it used to say


def test_benchmark_figure_count_is_the_code() -> None:
    """README, benchmarks/run.py and benchmarks/__main__.py say how many figures `python -m benchmarks` prints: the
    number of distinct figure numbers run.py builds (``h.Figure(N, ...)``)."""
    source = _read(ROOT / "benchmarks" / "run.py")
    numbers = {int(n) for n in re.findall(r"h\.Figure\(\s*(\d+),", source)}
    # figures built in a module of their own (reports at scale)
    numbers |= {int(n) for n in re.findall(r"\bFigure\(\s*(\d+),", _read(ROOT / "benchmarks" / "report_scale.py"))}
    assert numbers == set(range(1, len(numbers) + 1))
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
    word = words[len(numbers)]
    assert f"`python -m benchmarks` prints {word} figures" in _flat(_read(README))
    assert f": {word} figures" in source.splitlines()[0]
    assert f"print the {word} figures" in _read(ROOT / "benchmarks" / "__main__.py").splitlines()[0]


def test_readme_explore_mutation_figures_come_from_the_committed_run() -> None:
    """The sentence on `jaxpat mutate --explore` quotes docs/mutate/mutate-explore.json."""
    run = json.loads(_read(ROOT / "docs" / "mutate" / "mutate-explore.json"))
    text = _flat(_read(README))
    assert (run["explore"]["examples"], run["explore"]["seed"]) == (10, 0)
    assert f"{run['total']} mutants including" in text
    assert f"{run['killed']} killed, {run['killed_by_explore']} of them only on generated inputs" in text
    assert f"{run['equivalent']} equivalent" in text
    rate = 100 * run["killed"] / (run["total"] - run["equivalent"])
    assert f"{rate:.2f} % of the others killed; {run['unexplained']} edge" in text
    assert all(s["mutant"].startswith("edge-") for s in run["survivors"] if not s["equivalent"])
