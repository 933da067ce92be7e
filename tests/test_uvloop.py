"""A node on uvloop: the same outcomes as on asyncio's own loop.

uvloop is the event loop uvicorn picks when it is installed, so a service that
embeds a node often runs on it.  The node uses nothing of asyncio's loop that
uvloop lacks: its turn is scheduled with ``loop.call_soon`` there (the reused
handle is for asyncio's own loops), its connections are uvloop's transports,
and its signal handlers uvloop's.  Every test here runs once on each loop
(``loop_factory``, tests/conftest.py) and asserts the same exact values on both.
They run on the real clock: waits are for events, with generous timeouts.  Other
modules' tests take ``loop_factory`` too: distribution's, and the graceful stop
on ``SIGTERM`` and Ctrl-C (tests/test_fault_isolation.py).
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
from typing import Any

import pytest

import tether
from tether import (
    ANY,
    Down,
    Exit,
    GenServer,
    NoReply,
    Ok,
    Process,
    Reply,
    Supervisor,
    receive,
    self,
    send,
    spawn,
    spawn_link,
    spawn_monitor,
)

from .conftest import Factory, kind_of, loop_kind


class _Counter(GenServer):
    def init(self, start: int, /) -> Any:
        return Ok(start)

    def handle_call(self, request: Any, from_: Any, n: int, /) -> Any:
        if request == "crash":
            raise ZeroDivisionError("division by zero")
        return Reply(n, n + 1)

    def handle_cast(self, request: int, n: int, /) -> Any:
        return NoReply(n + request)


async def _crash_on_go() -> None:
    await receive(lambda m: m == "go")
    raise RuntimeError("boom")


async def _exit_on_go() -> None:
    await receive(lambda m: m == "go")
    tether.exit(("bye", 1))


def test_processes_links_monitors_timeouts_and_otp_are_the_same_on_each_loop(
    loop_factory: Factory,
) -> None:
    async def main() -> tuple[Any, ...]:
        kind = loop_kind()
        crasher, ref = spawn_monitor(_crash_on_go)
        send(crasher, "go")
        down = await receive(Down(ref, ANY, ANY, ANY), timeout=10)
        Process.flag("trap_exit", True)
        exiter = spawn_link(_exit_on_go)
        send(exiter, "go")
        exit_ = await receive(Exit(exiter, ANY), timeout=10)
        try:
            await receive(("never", ANY), timeout=0.02)
            timed_out = False
        except TimeoutError:
            timed_out = True
        _ok, counter = await _Counter.start_link(10)
        calls = [await GenServer.call(counter, "next") for _ in range(3)]
        _ok, sup = await Supervisor.start_link([_Counter.child_spec(0)], strategy="one_for_one")
        [(_id, first, _type, _mods)] = await Supervisor.which_children(sup)
        ref2 = Process.monitor(first)
        Process.exit(first, "kill")
        await receive(Down(ref2, ANY, ANY, ANY), timeout=10)
        [(_id, second, _type, _mods)] = await Supervisor.which_children(sup)
        return (
            kind,
            (down.pid, down.reason.__class__, down.reason.args),
            crasher,
            exit_,
            exiter,
            timed_out,
            calls,
            second != first and Process.alive(second),
        )

    kind, down, crasher, exit_, exiter, timed_out, calls, restarted = tether.run(
        main, hog_threshold=None, loop_factory=loop_factory
    )
    assert kind == kind_of(loop_factory)
    assert down == (crasher, RuntimeError, ("boom",))
    assert exit_ == Exit(exiter, ("bye", 1))
    assert (timed_out, calls, restarted) == (True, [10, 11, 12], True)


_VAR: contextvars.ContextVar[str] = contextvars.ContextVar("tether_uvloop_var", default="unset")


def test_every_turn_runs_in_the_nodes_context_on_each_loop(loop_factory: Factory) -> None:
    # On uvloop the next turn is loop.call_soon(run, context=the node's); on
    # asyncio's loop the reused handle carries the same context.
    async def reader(parent: tether.Pid) -> None:
        await receive()
        send(parent, ("saw", _VAR.get()))

    async def main() -> tuple[Any, str, str]:
        _VAR.set("set by main")
        pid = spawn(reader, self())
        await asyncio.sleep(0.01)  # the next turn is woken by the loop's timer
        send(pid, "go")
        return await receive(timeout=10), _VAR.get(), loop_kind()

    saw, mine, kind = tether.run(main, hog_threshold=None, loop_factory=loop_factory)
    assert (saw, mine) == (("saw", "set by main"), "set by main")
    assert kind == kind_of(loop_factory)
    assert _VAR.get() == "unset"


async def _hog() -> None:
    while True:
        pass


def test_a_hog_is_killed_and_a_sys_exit_is_one_crash_on_each_loop(loop_factory: Factory) -> None:
    async def quits() -> None:
        sys.exit(3)

    async def main() -> tuple[Any, ...]:
        hog, ref = spawn_monitor(_hog)
        # Generous: the kill comes after 0.05 s of hogging; the machine may be loaded.
        hog_down = await receive(Down(ref, ANY, ANY, ANY), timeout=60)
        quitter, ref2 = spawn_monitor(quits)
        quit_down = await receive(Down(ref2, ANY, ANY, ANY), timeout=10)
        echo = spawn(_echo)
        send(echo, (self(), "still here"))
        return (
            (hog_down.pid == hog, hog_down.reason),
            (quit_down.pid == quitter, type(quit_down.reason), quit_down.reason.code),
            await receive(timeout=10),
        )

    assert tether.run(main, hog_threshold=0.05, hog_policy="kill", loop_factory=loop_factory) == (
        (True, ("hog", 0.05)),
        (True, SystemExit, 3),
        "still here",
    )


async def _echo() -> None:
    to, what = await receive()
    send(to, what)


def test_open_node_inside_a_service_running_on_each_loop(loop_factory: Factory) -> None:
    async def service() -> tuple[Any, ...]:
        async with tether.open_node() as node:
            _ok, counter = await node.run(_Counter.start, 5)
            first = await node.call(counter, "next")
            node.cast(counter, 10)
            second = await node.call(counter, "next")
            with pytest.raises(tether.ExitError) as info:
                await node.call(counter, "crash")
            reason = info.value.reason
        return loop_kind(), first, second, type(reason[0]), reason[1][0]

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        kind, first, second, error, call = runner.run(service())
    assert kind == kind_of(loop_factory)
    assert (first, second, error, call) == (5, 16, ZeroDivisionError, "GenServer.call")
