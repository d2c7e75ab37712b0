"""pytest-xdist's private names jaxpat uses (conformance/_xdist.py) still exist in the installed release."""

from __future__ import annotations

import inspect
import re

import pytest

from jaxpat.conformance import _xdist


@pytest.mark.parametrize("name", _xdist.SCHEDULER_PRIVATE)
def test_load_scope_scheduling_has(name: str) -> None:
    from xdist.scheduler import LoadScopeScheduling

    source = inspect.getsource(LoadScopeScheduling)
    assert hasattr(LoadScopeScheduling, name) or re.search(rf"self\.{name}\s*[:=]", source), name


@pytest.mark.parametrize("name", _xdist.DSESSION_PRIVATE)
def test_dsession_has(name: str) -> None:
    from xdist.dsession import DSession

    assert f"self.{name}" in inspect.getsource(DSession), name


@pytest.mark.parametrize("name", _xdist.GATEWAY_PRIVATE)
def test_execnet_gateway_has(name: str) -> None:
    import execnet

    assert callable(getattr(execnet.Gateway, name)), name


def test_a_missing_name_fails_the_contract() -> None:
    """The check itself can fail: a name xdist does not have is not found."""
    from xdist.scheduler import LoadScopeScheduling

    assert not hasattr(LoadScopeScheduling, "_no_such_thing")
    assert not re.search(r"self\._no_such_thing\s*[:=]", inspect.getsource(LoadScopeScheduling))
