"""pytest plugin: run ``async def`` tests as the first process of a fresh node.

Each test gets its own node on a :class:`~tether.testing.VirtualClockLoop`, so
receive timeouts take no real time, and a test that would block forever fails with
``DeadlockError``.  ``@pytest.mark.tether(idle_timeout=60)`` gives tests that
wait for the real world (an OS program's output) longer than the default 5 real
seconds of idleness before that verdict.  After the test, the plugin checks that
the node left nothing behind (the node is shut down either way).
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import pytest

from . import run


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "tether_auto",
        "run every async def test in a fresh tether node (else only @pytest.mark.tether)",
        type="bool",
        default=False,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "tether(idle_timeout=5.0): run this async test in a fresh tether node; "
        "idle_timeout is the real seconds of idleness that make a deadlock",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    fn = pyfuncitem.obj
    if not inspect.iscoroutinefunction(fn):
        return None
    auto = bool(pyfuncitem.config.getini("tether_auto"))
    marker = pyfuncitem.get_closest_marker("tether")
    if not auto and marker is None:
        return None
    idle_timeout = marker.kwargs.get("idle_timeout", 5.0) if marker is not None else 5.0
    argnames = pyfuncitem._fixtureinfo.argnames
    kwargs: dict[str, Any] = {name: pyfuncitem.funcargs[name] for name in argnames}
    run(functools.partial(fn, **kwargs), idle_timeout=idle_timeout)
    return True
