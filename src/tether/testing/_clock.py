"""A virtual clock for the asyncio event loop: time jumps when everything is blocked.

Design
------
asyncio's loop asks its selector to wait ``timeout`` seconds when it has no ready
callbacks and a timer ``timeout`` seconds away.  ``_AutojumpSelector`` first polls
real I/O without waiting; if nothing is ready it advances the virtual clock by
``timeout`` instead of sleeping, so the timer is due on the next turn.  With no
timer at all (``timeout is None``) the loop is truly idle; we then wait on real I/O
but only up to ``idle_timeout`` real seconds, after which ``DeadlockError`` says
which processes were waiting where (a test that would hang fails fast).

This is trio's ``MockClock(autojump_threshold=0)`` for asyncio.  Rejected:
patching ``time.monotonic`` (global, breaks unrelated code) and freezegun-style
clocks (they do not drive the loop's timer heap).
"""

from __future__ import annotations

import asyncio
import selectors
from typing import Any


class DeadlockError(RuntimeError):
    """Every process is blocked and no timer or I/O can wake any of them."""


class _AutojumpSelector(selectors.BaseSelector):
    def __init__(self, inner: selectors.BaseSelector, loop: VirtualClockLoop) -> None:
        self._inner = inner
        self._loop = loop

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.modify(fileobj, events, data)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        events = self._inner.select(0)
        if events or timeout == 0:
            return events
        if timeout is None:
            events = self._inner.select(self._loop.idle_timeout)
            if not events and self._loop.idle_timeout is not None:
                self._loop.deadlocked = True
            return events
        self._loop.advance(timeout)
        return []

    def close(self) -> None:
        self._inner.close()

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.get_key(fileobj)

    def get_map(self) -> Any:
        return self._inner.get_map()


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """An asyncio event loop whose ``time()`` is virtual and jumps when idle.

    Args:
        idle_timeout: real seconds to wait for I/O when no timer is pending before
            declaring a deadlock (``None``: wait forever).
    """

    def __init__(self, idle_timeout: float | None = 5.0) -> None:
        self._vtime = 0.0
        self.idle_timeout = idle_timeout
        self.deadlocked = False
        selector = selectors.DefaultSelector()
        super().__init__(_AutojumpSelector(selector, self))

    def time(self) -> float:
        """The virtual time in seconds; starts at 0."""
        return self._vtime

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (timers fire on the next loop turn)."""
        if seconds < 0:
            raise ValueError(f"advance: seconds must be >= 0, got {seconds}")
        self._vtime += seconds

    def _run_once(self) -> None:
        super()._run_once()  # type: ignore[misc]
        if self.deadlocked:
            self.deadlocked = False
            if not self._ready:  # type: ignore[attr-defined]
                self.stop()
                raise DeadlockError(_deadlock_report())


def _deadlock_report() -> str:
    from tether._runtime import _node as n

    node = n.NODE
    lines = ["every process is blocked and nothing can wake one (no timer, no I/O):"]
    if isinstance(node, n.Node):
        for p in node.table.values():
            frames = n.current_frames(p)
            where = (
                f"{frames[0].f_code.co_qualname} at {frames[0].f_code.co_filename}:"
                f"{frames[0].f_lineno}"
                if frames
                else "not started"
            )
            lines.append(f"  {p.pid!r} waiting in {where}")
    return "\n".join(lines)
