"""A bare coroutine trampoline: the floor one CPython thread sets for message passing.

The least a coroutine scheduler can do to move a message: processes are
coroutines driven by ``coro.send`` from a run queue, a mailbox is a deque, a
blocked ``receive`` is a bare ``yield`` handed the next message.  No links,
monitors, exit signals, selective receive, timeouts, counters or asyncio task
face: what tether does on top of this is its overhead.  ``bench.instructions``
counts it beside tether's two cores on the same rows (the issue "a native core"
measured it at 8.6k instructions per ping-pong round trip).
"""

from __future__ import annotations

import time
import types
from collections import deque
from collections.abc import Callable, Coroutine, Generator
from typing import Any

_WAIT = object()


class _Proc:
    __slots__ = ("coro", "mailbox", "resume", "waiting")

    def __init__(self, coro: Coroutine[Any, Any, Any]) -> None:
        self.coro = coro
        self.mailbox: deque[Any] = deque()
        self.waiting = False
        self.resume: Any = None


_runq: deque[_Proc] = deque()
_current: list[_Proc] = []


def spawn(fn: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> _Proc:
    p = _Proc(fn(*args))
    _runq.append(p)
    return p


def self() -> _Proc:
    return _current[0]


def send(p: _Proc, msg: Any) -> None:
    if p.waiting:
        p.waiting = False
        p.resume = msg
        _runq.append(p)
    else:
        p.mailbox.append(msg)


@types.coroutine
def receive() -> Generator[Any, Any, Any]:
    p = _current[0]
    if p.mailbox:
        return p.mailbox.popleft()
    p.waiting = True
    return (yield _WAIT)


def run(main: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> Any:
    """Run ``main(*args)`` and every process it spawns until the queue is empty."""
    result: list[Any] = []

    async def root() -> None:
        result.append(await main(*args))

    spawn(root)
    runq, current = _runq, _current
    current.append(None)  # type: ignore[arg-type]
    while runq:
        p = runq.popleft()
        current[0] = p
        value, p.resume = p.resume, None
        try:  # noqa: SIM105 - the measured loop: suppress() costs a with block
            p.coro.send(value)
        except StopIteration:
            pass
    return result[0]


async def _pong() -> None:
    while True:
        m = await receive()
        if m is None:
            return
        send(m, "pong")


async def _ping_pong(n: int) -> float:
    p, me = spawn(_pong), self()
    t = time.perf_counter()
    for _ in range(n):
        send(p, me)
        await receive()
    dt = time.perf_counter() - t
    send(p, None)
    return dt / n * 1e6


async def _ring_node(nxt: _Proc) -> None:
    while True:
        m = await receive()
        send(nxt, m - 1 if m else 0)
        if m == 0:
            return


async def _thread_ring(hops: int) -> float:
    first = self()
    for _ in range(100 - 1):
        first = spawn(_ring_node, first)
    t = time.perf_counter()
    send(first, hops)
    while True:
        m = await receive()
        if m == 0:
            break
        send(first, m - 1)
    return (time.perf_counter() - t) / hops * 1e6


async def _server() -> None:
    # A GenServer's loop at its barest: take (from, ref, request), reply (ref, reply).
    while True:
        caller, ref, _request = await receive()
        send(caller, (ref, "pong"))


async def _gen_call(n: int) -> float:
    s, me = spawn(_server), self()
    t = time.perf_counter()
    for i in range(n):
        send(s, (me, i, "ping"))
        await receive()
    return (time.perf_counter() - t) / n * 1e6


WORKLOADS: dict[str, Callable[[int], float]] = {
    "ping_pong": lambda n: float(run(_ping_pong, n)),
    "thread_ring": lambda n: float(run(_thread_ring, n)),
    "gen_call": lambda n: float(run(_gen_call, n)),
}
