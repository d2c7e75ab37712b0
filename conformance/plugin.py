"""The pytest plugin entry point (``pytest11``): inert unless ``--jaxpat`` is given.

This module only declares options. Everything that costs something — the
catalog, the plugin registry, JAX — is imported in ``pytest_configure`` and
only when the run asks for conformance, so ordinary pytest runs of projects
that merely have jaxpat installed pay nothing.
"""

from __future__ import annotations

import os

import pytest

from ._options import DEFAULT_TIMEOUT, add_pytest_options

__all__ = ["DEFAULT_TIMEOUT", "pytest_addoption", "pytest_configure"]


def pytest_addoption(parser: pytest.Parser) -> None:
    """The options of :data:`._options.OPTIONS`, in the ``jaxpat`` group."""
    add_pytest_options(parser.getgroup("jaxpat", "jaxpat conformance (see `jaxpat check --help`)"))


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
