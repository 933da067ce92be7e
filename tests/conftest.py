"""Shared helpers.  Async tests run in a fresh node on a virtual clock (tether.testing)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

import pytest

import tether
from tether import receive

# The event loops a node is tested on: asyncio's own, and uvloop's (the loop
# uvicorn picks when it is installed; not built for Windows).
Factory = Callable[[], asyncio.AbstractEventLoop]
LOOPS: dict[str, Factory] = {"asyncio": asyncio.new_event_loop}
if sys.platform != "win32":
    import uvloop

    LOOPS["uvloop"] = uvloop.new_event_loop


@pytest.fixture(params=sorted(LOOPS))
def loop_factory(request: pytest.FixtureRequest) -> Factory:
    """Makes the node's event loop: a test that takes it runs once on each of ``LOOPS``."""
    return LOOPS[request.param]


def kind_of(factory: Factory) -> str:
    """``factory``'s name in ``LOOPS`` (``"asyncio"`` or ``"uvloop"``): what
    :func:`loop_kind` says inside a loop it made."""
    return next(kind for kind, f in LOOPS.items() if f is factory)


# A node on uvloop resolves names on libuv's worker threads, which then live on in
# the test process (unseen by `threading`).  The pty tests fork that process with
# pexpect, and Python 3.12 warns that a fork of a threaded process may copy a lock
# another thread holds into the child.  Those threads are idle when a pty test
# forks (no name is being resolved), and pexpect's child execs at once, so the
# warning does not apply to these tests; they say so.
FORKPTY_AFTER_UVLOOP = pytest.mark.filterwarnings(
    r"ignore:This process \(pid=\d+\) is multi-threaded, use of forkpty\(\):DeprecationWarning"
)


def loop_kind() -> str:
    """``"uvloop"`` or ``"asyncio"``: the package of the running loop's class."""
    return type(asyncio.get_running_loop()).__module__.partition(".")[0]


async def wait_forever() -> None:
    """A process body that blocks until a signal ends it."""
    await tether.Process.sleep(None)


async def echo_then_wait(parent: tether.Pid) -> None:
    """Tell the parent we started, then block."""
    tether.send(parent, ("started", tether.self()))
    await tether.Process.sleep(None)


async def crash_on(msg: Any, exc: BaseException) -> None:
    """Wait for ``msg``, then raise ``exc``."""
    await receive(lambda m: m == msg)
    raise exc


async def exit_on(msg: Any, reason: Any) -> None:
    """Wait for ``msg``, then exit(reason)."""
    await receive(lambda m: m == msg)
    tether.exit(reason)


async def trapper(parent: tether.Pid) -> None:
    """Trap exits and forward every message to ``parent``."""
    tether.Process.flag("trap_exit", True)
    tether.send(parent, ("ready", tether.self()))
    while True:
        m = await receive()
        tether.send(parent, ("got", m))


async def mailbox_now(timeout: float = 0) -> list[Any]:
    """Drain and return the caller's mailbox (like IEx flush)."""
    out = []
    while True:
        try:
            out.append(await receive(timeout=timeout))
        except TimeoutError:
            return out
