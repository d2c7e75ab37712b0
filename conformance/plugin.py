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

__all__ = ["DEFAULT_TIMEOUT", "pytest_addoption", "pytest_configure", "pytest_xdist_auto_num_workers"]


def pytest_addoption(parser: pytest.Parser) -> None:
    """The options of :data:`._options.OPTIONS`, in the ``jaxpat`` group."""
    add_pytest_options(parser.getgroup("jaxpat", "jaxpat conformance (see `jaxpat check --help`)"))


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("jaxpat"):
        return
    _check_environment()
    from ._workers import parse_worker_devices

    try:
        parse_worker_devices(config.getoption("jaxpat_worker_devices"))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.addinivalue_line("markers", "jaxpat: a jaxpat conformance item")
    from jaxpat.catalog import FAMILIES

    for family in FAMILIES:
        config.addinivalue_line("markers", f"jaxpat_{family.replace('-', '_')}: jaxpat items of the {family} family")
    _prepare_environment(config)
    from ._filters import FilterCheck, NodeIdSelection, cache_dir_problem, take_node_ids

    problem = cache_dir_problem(config.getoption("jaxpat_cache_dir"))
    if problem and not config.getoption("jaxpat_no_cache"):
        raise pytest.UsageError(f"--jaxpat-cache-dir {config.getoption('jaxpat_cache_dir')}: {problem}")
    ids = take_node_ids(config)  # node ids select items; pytest would look for a file named `jaxpat`
    if ids:
        config.pluginmanager.register(NodeIdSelection(ids), "jaxpat-node-ids")
    if not hasattr(config, "workerinput"):
        from ._summary import FinalReport

        config.pluginmanager.register(FinalReport(config), "jaxpat-final-report")  # Ctrl-C before the session ran
        config.pluginmanager.register(FilterCheck(config), "jaxpat-filter-check")
    from ._session import JaxpatSession

    session = JaxpatSession(config)
    config.pluginmanager.register(session, "jaxpat-session")
    session.start_probe_early()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` on a GPU/TPU host: one worker per device group (``--worker-devices``); else xdist's default.

    Devices are counted from the environment, ``nvidia-smi`` or device files
    (conformance/_workers.py): no accelerator is initialised in the controller.
    """
    if not config.getoption("jaxpat", False):
        return None
    _check_environment()  # runs before pytest_configure
    from ._workers import auto_workers, discover, parse_worker_devices

    return auto_workers(discover(), parse_worker_devices(config.getoption("jaxpat_worker_devices")))


def _check_environment() -> None:
    """Every ``JAXPAT_*`` variable set to a value it accepts, or a ``pytest.UsageError`` naming the bad ones."""
    from jaxpat._env import EnvError, check_environment

    try:
        check_environment()
    except EnvError as exc:
        raise pytest.UsageError(str(exc)) from None


def _prepare_environment(config: pytest.Config) -> None:
    """Set what JAX reads at start-up, before anything imports it.

    An xdist worker sees only its own device group and takes its share of
    their memory, allocated on demand (conformance/_workers.py, docs/devices.md).
    """
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        from ._workers import discover, parse_worker_devices, worker_environment

        index = int(str(workerinput.get("workerid", "gw0")).removeprefix("gw") or 0)
        count = int(workerinput.get("workercount", 1) or 1)
        per_worker = parse_worker_devices(config.getoption("jaxpat_worker_devices"))
        os.environ.update(worker_environment(discover(), index, count, per_worker))
    n = config.getoption("jaxpat_cpu_devices")
    if n:
        flag = f"--xla_force_host_platform_device_count={n}"
        flags = os.environ.get("XLA_FLAGS", "")
        if "xla_force_host_platform_device_count" not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} {flag}".strip()
