"""Receive timeouts: one heap per node, one asyncio timer for the earliest deadline.

``Node.set_receive_timer`` replaced an asyncio ``TimerHandle`` per receive with a
timeout (``GenServer.call``'s 5 s default made one per call).  These tests pin what
that design must keep: timeouts fire at their time and in deadline order, a
cancelled one never fires, the heap stays bounded however many are set and
cancelled, and calls made one after another do not arm a timer each.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tether import GenServer, Reply, receive, self, send, spawn
from tether._runtime import _node as _n
from tether.testing import clock, wait_all_blocked


def node() -> _n.Node:
    assert isinstance(_n.NODE, _n.Node)
    return _n.NODE


async def test_receive_timeouts_fire_at_their_deadlines_in_deadline_order() -> None:
    me = self()

    async def waiter(name: str, seconds: float) -> None:
        try:
            await receive(timeout=seconds)
        except TimeoutError:
            send(me, (name, clock()))

    start = clock()
    spawn(waiter, "late", 3.0)
    spawn(waiter, "early", 1.0)
    spawn(waiter, "middle", 2.0)
    got = [await receive(), await receive(), await receive()]
    assert got == [("early", start + 1.0), ("middle", start + 2.0), ("late", start + 3.0)]
    assert node().live_deadlines == 0


async def test_a_receive_given_its_message_before_the_timeout_never_times_out() -> None:
    me = self()

    async def waiter() -> None:
        msg = await receive(timeout=1.0)
        send(me, ("got", msg))
        try:
            await receive(timeout=5.0)
        except TimeoutError:
            send(me, ("timed out", clock()))

    start = clock()
    w = spawn(waiter)
    await wait_all_blocked()
    send(w, "hello")
    assert await receive() == ("got", "hello")
    # The first timeout (at 1.0) was cancelled: only the second one fires, at 5.0.
    assert await receive() == ("timed out", start + 5.0)


async def test_the_heap_stays_bounded_while_timeouts_are_set_and_cancelled() -> None:
    me = self()

    async def echo() -> None:
        while True:
            sender = await receive()
            send(sender, "pong")

    e = spawn(echo)

    # A long-lived timeout keeps the heap from emptying while 1000 short-lived
    # ones are set and cancelled behind it.
    async def sleeper_body() -> None:
        await receive(timeout=100.0)

    sleeper = spawn(sleeper_body)
    await wait_all_blocked()
    for _ in range(1000):
        send(e, me)
        assert await receive(timeout=5.0) == "pong"
    n = node()
    assert n.live_deadlines == 1  # the sleeper's
    assert len(n.deadlines) <= 2 * n.live_deadlines + 64
    assert n.table[sleeper].timer is not None


class _Echo(GenServer):
    def handle_call(self, request: Any, from_: Any, state: Any) -> Any:
        return Reply(request, state)


async def test_calls_made_one_after_another_arm_one_asyncio_timer_not_one_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, server = await _Echo.start()
    loop = asyncio.get_running_loop()
    armed: list[float] = []
    call_at = loop.call_at

    def counting_call_at(when: float, callback: Any, *args: Any, **kw: Any) -> Any:
        if getattr(callback, "__name__", "") == "_deadlines_due":
            armed.append(when)
        return call_at(when, callback, *args, **kw)

    monkeypatch.setattr(loop, "call_at", counting_call_at)
    start = clock()
    for i in range(200):
        assert await GenServer.call(server, i) == i
    # Virtual time did not move, so one asyncio timer (armed by the first call,
    # or still armed by the server's start) covers every call's 5 s timeout.
    assert armed in ([], [start + 5.0])
    assert clock() == start
    assert node().live_deadlines == 0


async def test_a_tagged_receive_waits_times_out_and_keeps_the_rest_in_order() -> None:
    # S-5 and the receive timeout, for each pattern the native core waits for in C
    # (a tuple tag, Exit(pid, ANY), Down(ref, ANY, ANY, ANY), a reply matcher):
    # the matching message is handed over, the others stay queued in arrival
    # order, and a timeout raises TimeoutError at its deadline with its message.
    from tether import ANY, Down, Exit, Process, make_ref, spawn_link, spawn_monitor
    from tether._runtime._api import reply_filter

    me = self()

    async def later(msgs: list[Any]) -> None:
        for m in msgs:
            send(me, m)

    await wait_all_blocked()
    start = clock()
    tag = make_ref()
    spawn(later, [("noise", 1), (tag, "no: one item too many", 0), (tag, "yes")])
    assert await receive((tag, ANY), timeout=5.0) == (tag, "yes")

    Process.flag("trap_exit", True)
    other = spawn_link(later, [])
    pid = spawn_link(later, [("noise", 2)])
    assert await receive(Exit(pid, ANY)) == Exit(pid, "normal")

    mpid, ref = spawn_monitor(later, [("noise", 3)])
    assert await receive(Down(ref, ANY, ANY, ANY), timeout=5.0) == Down(
        ref, "process", mpid, "normal"
    )
    rpid, ref2 = spawn_monitor(later, [(make_ref(), "not mine")])
    assert await receive(reply_filter(ref2), timeout=5.0) == Down(ref2, "process", rpid, "normal")
    assert clock() == start  # nothing waited for a timer

    with pytest.raises(TimeoutError) as e:
        await receive((tag, ANY), timeout=0.5)
    assert str(e.value) == "receive: no matching message within 0.5 s"
    assert clock() == start + 0.5
    with pytest.raises(TimeoutError) as e:
        await receive(Exit(me, ANY), timeout=0.0)
    assert str(e.value) == "receive: no matching message (timeout=0)"
    with pytest.raises(TimeoutError) as e:
        await receive(Down(ref, ANY, ANY, ANY), timeout=2)  # an int: _receive's own path
    assert str(e.value) == "receive: no matching message within 2.0 s"
    assert clock() == start + 2.5
    rest = [await receive(timeout=0) for _ in range(6)]
    assert rest[:5] == [
        ("noise", 1),
        (tag, "no: one item too many", 0),
        Exit(other, "normal"),
        ("noise", 2),
        ("noise", 3),
    ]
    assert rest[5][1] == "not mine" and type(rest[5][0]) is type(tag) and rest[5][0] != ref2
    assert node().live_deadlines == 0


def _deadline_of_a_timed_receive(set_clock: Any = None) -> tuple[float, float, float]:
    """(loop.time() before, the deadline the receive set, loop.time() after) for
    a receive(timeout=0.5) on asyncio's own loop (not the virtual clock)."""
    seen: list[float] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        if set_clock is not None:
            loop.time = set_clock  # type: ignore[method-assign]

        async def waiter() -> None:
            await receive(timeout=0.5)

        before = loop.time()
        w = spawn(waiter)
        while not node().deadlines:  # the waiter's first step sets its deadline
            await asyncio.sleep(0)
        seen.extend([before, node().deadlines[0][0], loop.time()])
        send(w, "done")

    import tether

    tether.run(main, hog_threshold=None)
    return seen[0], seen[1], seen[2]


def test_a_receive_deadline_is_the_event_loops_time_plus_the_timeout() -> None:
    # The native core reads asyncio's clock (BaseEventLoop.time, time.monotonic)
    # without calling the bound method; the deadline must be what
    # loop.time() + timeout gives, between two readings of loop.time().
    before, deadline, after = _deadline_of_a_timed_receive()
    assert before + 0.5 <= deadline <= after + 0.5


def test_a_loop_whose_time_is_replaced_on_the_instance_gives_the_deadline() -> None:
    # loop.time set on the instance (a test's fake clock) is what both cores use.
    assert _deadline_of_a_timed_receive(lambda: 1000.0) == (1000.0, 1000.5, 1000.0)
