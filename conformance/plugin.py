"""The pytest plugin entry point (``pytest11``): inert unless ``--jaxpat`` is given.

This module only declares options. Everything that costs something — the
catalog, the plugin registry, JAX — is imported in ``pytest_configure`` and
only when the run asks for conformance, so ordinary pytest runs of projects
that merely have jaxpat installed pay nothing.
"""

from __future__ import annotations

import os

import pytest

#: Default per-item timeout in seconds (``--jaxpat-timeout``).
DEFAULT_TIMEOUT = 60.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("jaxpat", "jaxpat conformance (see `jaxpat check --help`)")
    group.addoption(
        "--jaxpat", action="store_true", default=False,
        help="verify every registered implementation against the jaxpat catalog",
    )
    group.addoption(
        "--jaxpat-only", action="store_true", default=False,
        help="collect only jaxpat items, not the test files under the current directory",
    )
    group.addoption(
        "--jaxpat-platforms", default=None, metavar="LIST",
        help="comma-separated platforms to test (default: every platform JAX reports, e.g. cpu,gpu)",
    )
    group.addoption(
        "--jaxpat-strict-platforms", action="store_true", default=False,
        help="a requested platform that is absent is an error instead of a skip",
    )
    group.addoption(
        "--jaxpat-all-devices", action="store_true", default=False,
        help="test every device of each platform, not only the first",
    )
    group.addoption(
        "--jaxpat-cpu-devices", type=int, default=None, metavar="N",
        help="simulate N CPU devices (set before JAX starts, on every worker)",
    )
    group.addoption(
        "--jaxpat-pattern", action="append", default=[], metavar="GLOB",
        help="only patterns whose id matches GLOB (repeatable)",
    )
    group.addoption(
        "--jaxpat-impl", action="append", default=[], metavar="GLOB",
        help="only implementations whose id (PLUGIN.NAME) matches GLOB (repeatable)",
    )
    group.addoption(
        "--jaxpat-transform", action="append", default=[], metavar="NAME",
        help="only these transforms: eager, jit, vmap, grad (repeatable)",
    )
    group.addoption(
        "--jaxpat-load", action="append", default=[], metavar="MODULE",
        help="also register the jaxpat plugin in importable MODULE (for plugins under development)",
    )
    group.addoption(
        "--jaxpat-catalog", action="append", default=[], metavar="FILE",
        help="load an extra catalog file (its patterns join the run)",
    )
    group.addoption(
        "--jaxpat-report", default=None, metavar="PATH",
        help="write the JSON conformance report to PATH (see docs/report.md)",
    )
    group.addoption(
        "--jaxpat-timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
        help=f"per-item timeout; 0 disables it (default {DEFAULT_TIMEOUT:g})",
    )
    group.addoption(
        "--jaxpat-cache-dir", default=None, metavar="DIR",
        help="persistent XLA compilation cache directory (default: ~/.cache/jaxpat/xla, or $JAXPAT_CACHE_DIR/xla)",
    )
    group.addoption(
        "--jaxpat-no-cache", action="store_true", default=False,
        help="do not use the persistent compilation cache",
    )
    group.addoption(
        "--jaxpat-claims", action="store_true", default=False,
        help="also measure the catalog's claims (jit, grad modes, memory and program growth)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("jaxpat"):
        return
    config.addinivalue_line("markers", "jaxpat: a jaxpat conformance item")
    from jaxpat.catalog import FAMILIES

    for family in FAMILIES:
        config.addinivalue_line("markers", f"jaxpat_{family.replace('-', '_')}: jaxpat items of the {family} family")
    _prepare_environment(config)
    from ._session import JaxpatSession

    config.pluginmanager.register(JaxpatSession(config), "jaxpat-session")


def _prepare_environment(config: pytest.Config) -> None:
    """Set what JAX reads at start-up, before anything imports it.

    Several xdist workers share one accelerator: each would otherwise
    preallocate 75% of its memory, so workers allocate on demand instead.
    """
    if hasattr(config, "workerinput"):
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    n = config.getoption("jaxpat_cpu_devices")
    if n:
        flag = f"--xla_force_host_platform_device_count={n}"
        flags = os.environ.get("XLA_FLAGS", "")
        if "xla_force_host_platform_device_count" not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} {flag}".strip()
