"""The one table of conformance options: the pytest plugin's and ``jaxpat check``'s are built from it.

Each :class:`Option` is a pytest option (``--jaxpat-NAME``, read as
``config.getoption("jaxpat_NAME")``) and, unless it is pytest-only, the
``jaxpat check`` flag that sets it (``--NAME``). ``jaxpat check`` turns its
namespace back into pytest arguments with :func:`to_pytest_args`.

Standard library only: ``plugin.py`` imports this in every pytest run.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_REPORT", "DEFAULT_TIMEOUT", "OPTIONS", "TRANSFORM_CHOICES", "Option", "add_check_arguments",
           "add_pytest_options", "to_pytest_args"]

#: Default per-item timeout in seconds (``--jaxpat-timeout``).
DEFAULT_TIMEOUT = 60.0
#: Where ``jaxpat check`` writes its report unless told (pytest writes none unless told).
DEFAULT_REPORT = "jaxpat-report.json"
#: ``--explore`` without a number: examples per explore item (``conformance/_explore.py``'s DEFAULT_EXAMPLES).
EXPLORE_EXAMPLES = 25
#: ``jaxpat.catalog.TRANSFORMS``, spelled out so that the plugin stays free of the catalog (a test checks).
TRANSFORM_CHOICES = ("eager", "jit", "vmap", "grad")

_UNSET: Any = object()


@dataclass(frozen=True)
class Option:
    """One conformance option.

    ``action`` is ``store``, ``store_true`` or ``append``. ``check`` is the
    ``jaxpat check`` flag (None: pytest only, ``jaxpat check`` always passes
    it or never needs it); ``check_default`` replaces ``default`` there;
    ``inverted`` makes the check flag a ``--no-...`` that turns a default-on
    pytest flag off.
    """

    pytest: str
    check: str | None
    help: str
    action: str = "store"
    default: Any = None
    type: Any = None
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    check_default: Any = _UNSET
    check_help: str | None = None
    inverted: bool = False
    #: ``"?"``: the value may be left out (then ``const`` is used), as in ``--explore`` alone
    nargs: str | None = None
    const: Any = None

    @property
    def dest(self) -> str:
        """The pytest destination: ``--jaxpat-cpu-devices`` → ``jaxpat_cpu_devices``."""
        return self.pytest.lstrip("-").replace("-", "_")

    @property
    def check_dest(self) -> str:
        """The ``jaxpat check`` namespace attribute (``--no-claims`` → ``claims``)."""
        assert self.check is not None
        name = self.check.lstrip("-")
        if self.inverted and not name.startswith("no-"):  # `--fresh` turns `--jaxpat-reuse` off: dest `reuse`
            return self.dest.removeprefix("jaxpat_")
        return (name.removeprefix("no-") if self.inverted else name).replace("-", "_")

    def _kwargs(self, default: Any) -> dict[str, Any]:
        kw: dict[str, Any] = {"action": self.action, "default": default}
        if self.action != "store_true":
            kw.update({k: v for k, v in (("type", self.type), ("metavar", self.metavar),
                                          ("choices", self.choices), ("nargs", self.nargs),
                                          ("const", self.const)) if v is not None})
        return kw


OPTIONS: tuple[Option, ...] = (
    Option("--jaxpat", None, "verify every registered implementation against the jaxpat catalog",
           action="store_true", default=False),
    Option("--jaxpat-only", None, "collect only jaxpat items, not the test files under the current directory",
           action="store_true", default=False),
    Option("--jaxpat-platforms", "--platforms",
           "comma-separated platforms to test (default: every platform JAX reports, e.g. cpu,gpu)", metavar="LIST"),
    Option("--jaxpat-strict-platforms", "--strict-platforms",
           "a requested platform that is absent is an error instead of a skip", action="store_true", default=False),
    Option("--jaxpat-all-devices", "--all-devices", "test every device of each platform, not only the first",
           action="store_true", default=False),
    Option("--jaxpat-cpu-devices", "--cpu-devices", "simulate N CPU devices (set before JAX starts, on every worker)",
           type=int, metavar="N"),
    Option("--jaxpat-worker-devices", "--worker-devices",
           "GPU/TPU hosts: devices each xdist worker sees (a count, default 1, or 'all'), set before JAX starts "
           "with the worker's memory share; -n auto starts one worker per group (docs/devices.md)",
           metavar="K|all"),
    Option("--jaxpat-pattern", "--pattern", "only patterns whose id matches GLOB (repeatable)",
           action="append", default=[], metavar="GLOB"),
    Option("--jaxpat-family", "--family", "only patterns of families matching GLOB (repeatable; `jaxpat list` "
           "shows each pattern's family)", action="append", default=[], metavar="GLOB"),
    Option("--jaxpat-impl", "--impl", "only implementations whose id (PLUGIN.NAME) matches GLOB (repeatable)",
           action="append", default=[], metavar="GLOB"),
    Option("--jaxpat-transform", "--transform", f"only these transforms: {', '.join(TRANSFORM_CHOICES)} (repeatable)",
           action="append", default=[], metavar="NAME", choices=TRANSFORM_CHOICES),
    Option("--jaxpat-load", "--load",
           "also register the jaxpat plugin in importable MODULE (for plugins under development)",
           action="append", default=[], metavar="MODULE"),
    Option("--jaxpat-catalog", "--catalog", "load an extra catalog file (its patterns join the run)",
           action="append", default=[], metavar="FILE"),
    Option("--jaxpat-report", "--report", "write the JSON conformance report to PATH (see docs/report.md)",
           metavar="PATH", check_default=DEFAULT_REPORT,
           check_help=f"where to write the JSON report (default: {DEFAULT_REPORT})"),
    Option("--jaxpat-timeout", "--timeout", f"per-item timeout; 0 disables it (default {DEFAULT_TIMEOUT:g})",
           type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS", check_default=None),
    Option("--jaxpat-cache-dir", "--cache-dir",
           "persistent XLA compilation cache directory (default: ~/.cache/jaxpat/xla, or $JAXPAT_CACHE_DIR/xla)",
           metavar="DIR"),
    Option("--jaxpat-no-cache", "--no-cache", "do not use the persistent compilation cache",
           action="store_true", default=False),
    Option("--jaxpat-full-output", "--full-output",
           "show an item's captured output in full (default: its first 2,000 and last 6,000 characters)",
           action="store_true", default=False),
    Option("--jaxpat-label", "--label",
           "label this host in the report (default: $JAXPAT_LABEL, else the machine's name); merge and diff "
           "tell hosts apart by it; with several --tx, one label per --tx, in order (docs/distributed.md)",
           action="append", default=[], metavar="NAME"),
    Option("--jaxpat-explore", "--explore",
           f"also draw N generated inputs per pattern, implementation and transform from the patterns' domains "
           f"and compare with their oracles (alone: {EXPLORE_EXAMPLES}; 0: off; docs/explore.md)",
           type=int, default=0, metavar="N", nargs="?", const=EXPLORE_EXAMPLES, check_default=None),
    Option("--jaxpat-explore-seed", "--explore-seed",
           "the seed of --explore's draws (default 0: every run draws the same inputs; the report records it)",
           type=int, default=0, metavar="SEED", check_default=None),
    Option("--jaxpat-claims", "--no-claims",
           "also measure the catalog's claims (jit, grad modes, memory and program growth)",
           action="store_true", default=False, inverted=True,
           check_help="skip measuring the catalog's claims (measured by default)"),
    Option("--jaxpat-reuse", "--fresh",
           "reuse an item's stored result when nothing that decides it changed (case, tolerance, deviations, "
           "the implementation's code, jaxpat, JAX/jaxlib/NumPy/Python, device kind, options); speed claims, "
           "crashes and timeouts always run (docs/cli.md, Reusing results)",
           action="store_true", default=False, inverted=True,
           check_help="run every item: ignore the results stored by earlier runs (jaxpat check reuses unchanged "
           "results by default; JAXPAT_FRESH=1 does the same)"),
)


def add_pytest_options(group: Any) -> None:
    """Add every option to a pytest option group (``parser.getgroup(...)``)."""
    for opt in OPTIONS:
        default = list(opt.default) if isinstance(opt.default, list) else opt.default
        group.addoption(opt.pytest, dest=opt.dest, help=opt.help, **opt._kwargs(default))


def check_options() -> Iterator[Option]:
    """The options ``jaxpat check`` offers."""
    return (o for o in OPTIONS if o.check is not None)


def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``jaxpat check`` flag of every option that has one."""
    for opt in check_options():
        flag, help_ = str(opt.check), opt.check_help or opt.help
        if opt.inverted:
            parser.add_argument(flag, dest=opt.check_dest, action="store_false", help=help_)
            continue
        default = opt.default if opt.check_default is _UNSET else opt.check_default
        kw = opt._kwargs(list(default) if isinstance(default, list) else default)
        parser.add_argument(flag, dest=opt.check_dest, help=help_, **kw)


def to_pytest_args(ns: argparse.Namespace) -> list[str]:
    """The pytest flags for the values of a ``jaxpat check`` namespace (options left at None are left out).

    Values are attached (``--jaxpat-report=PATH``): pytest-xdist rewrites every
    argument that names an existing path relative to an rsync root for remote
    (ssh, socket) workers and stops on one outside them; an attached value is
    passed on as it is.
    """
    args: list[str] = []
    for opt in check_options():
        value = getattr(ns, opt.check_dest)
        if opt.action == "store_true":
            args += [opt.pytest] if value else []
        elif opt.action == "append":
            args += [f"{opt.pytest}={v}" for v in value]
        elif value is not None:
            args += [f"{opt.pytest}={value}"]
    return args
