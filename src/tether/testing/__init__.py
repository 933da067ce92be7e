"""Testing tools for tether: a virtual clock, "wait until idle", and a pytest plugin.

* :func:`run` runs ``main`` in a fresh node on a virtual clock: receive timeouts,
  ``Process.sleep`` and ``send_after`` take no real time, and a test that would
  hang raises :class:`DeadlockError` instead.
* :func:`wait_all_blocked` suspends the caller until every other process is
  blocked, so a test can order events without sleeping on the real clock.
* The pytest plugin (installed with tether) runs each ``async def`` test as the
  first process of a fresh node on the virtual clock.  It is on for every async
  test when ``tether_auto = true`` is set in the pytest configuration, and for
  tests marked ``@pytest.mark.tether`` otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from tether._runtime import _node as _n
from tether._runtime._api import _cur, _park
from tether._runtime._api import run as _run

from ._clock import DeadlockError, VirtualClockLoop

__all__ = ["DeadlockError", "VirtualClockLoop", "clock", "run", "wait_all_blocked"]

T = TypeVar("T")


def run(
    main: Callable[..., Coroutine[Any, Any, T]],
    *args: Any,
    idle_timeout: float | None = 5.0,
    **options: Any,
) -> T:
    """Run ``main`` like :func:`tether.run`, on a fresh :class:`VirtualClockLoop`.

    Other keyword options (``apps=``, ``config=``, ``shutdown_timeout=``, ...) are
    ``tether.run``'s; the hog check is off (virtual time).
    """
    return _run(
        main,
        *args,
        hog_threshold=None,
        loop_factory=lambda: VirtualClockLoop(idle_timeout=idle_timeout),
        **options,
    )


def clock() -> float:
    """The node's loop time (virtual under :func:`run`), in seconds."""
    node = _n.NODE
    if not isinstance(node, _n.Node):
        raise _n.outside_error("tether.testing.clock")
    return node.loop.time()


async def wait_all_blocked() -> None:
    """Return once every other process is blocked (in receive, sleep or I/O).

    trio's ``wait_all_tasks_blocked``: the run queue is empty and the event loop has
    no ready callbacks.  Pending timers do not count as work, so the virtual clock
    has not jumped yet when this returns.
    """
    p = _cur("wait_all_blocked")
    node = _n.NODE
    assert isinstance(node, _n.Node)
    node.idle_waiters.append(p)
    if not node.idle_check_scheduled:
        node.idle_check_scheduled = True
        node.loop.call_soon(node._idle_check)
    await _park()
