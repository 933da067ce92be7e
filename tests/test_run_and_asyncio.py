"""tether.run, asyncio interop, the hog watchdog, and the testing toolkit itself."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from typing import Any

import pytest

import tether
import tether.testing
from tether import Down, Process, ProcessExit, receive, self, send, spawn, spawn_monitor
from tether.testing import DeadlockError, clock, wait_all_blocked

from .conftest import wait_forever


def test_run_returns_main_result_and_leaves_no_node_behind() -> None:
    async def main(a: int, b: int) -> int:
        return a + b

    assert tether.run(main, 2, 3) == 5
    with pytest.raises(RuntimeError):
        tether.self()


def test_run_reraises_a_crash_of_main() -> None:
    async def main() -> None:
        raise KeyError("main crashed")

    with pytest.raises(KeyError, match="main crashed"):
        tether.run(main)


def test_run_raises_process_exit_for_other_abnormal_reasons() -> None:
    async def main() -> None:
        tether.exit(("shutdown", "bye"))

    with pytest.raises(ProcessExit) as info:
        tether.run(main)
    assert info.value.reason == ("shutdown", "bye")


def test_run_reraises_the_linked_crash_that_killed_main() -> None:
    async def crashy() -> None:
        match await receive():
            case "crash":
                1 / 0  # noqa: B018

    async def main() -> None:
        pid = tether.spawn_link(crashy)
        send(pid, "crash")
        await receive()

    with pytest.raises(ZeroDivisionError):
        tether.run(main)


def test_run_ends_every_other_process_and_runs_their_finally_blocks() -> None:
    cleaned: list[str] = []

    async def worker() -> None:
        try:
            await Process.sleep(None)
        finally:
            cleaned.append("worker finally")

    async def main() -> str:
        spawn(worker)
        await wait_all_blocked()
        return "done"

    assert tether.testing.run(main) == "done"
    assert cleaned == ["worker finally"]


async def test_a_process_can_await_asyncio_awaitables() -> None:
    await asyncio.sleep(0)
    await asyncio.sleep(1.5)
    assert clock() == pytest.approx(1.5)
    fut = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_later(2, fut.set_result, "value")
    assert await fut == "value"
    assert await asyncio.to_thread(lambda: 6 * 7) == 42


async def test_a_kill_ends_a_process_awaiting_asyncio_and_cancels_what_it_awaited() -> None:
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[None] = loop.create_future()
    unwound: list[str] = []

    async def awaiting() -> None:
        try:
            await fut
        finally:
            unwound.append("finally ran")

    pid, ref = spawn_monitor(awaiting)
    await wait_all_blocked()
    assert Process.info(pid, "status") == "waiting"
    Process.exit(pid, "kill")
    assert await receive() == Down(ref, "process", pid, "killed")
    await wait_all_blocked()  # the unwinding resumes it once the future is cancelled
    assert fut.cancelled() is True
    assert unwound == ["finally ran"]


async def test_sends_from_a_finally_block_of_a_killed_process_are_dropped() -> None:
    async def victim(top: tether.Pid) -> None:
        try:
            await Process.sleep(None)
        finally:
            send(top, "from finally")
            spawn(wait_forever)

    pid, ref = spawn_monitor(victim, self())
    await wait_all_blocked()
    Process.exit(pid, "stop")
    assert await receive() == Down(ref, "process", pid, "stop")
    await wait_all_blocked()
    assert Process.list() == [self()]
    with pytest.raises(TimeoutError):
        await receive(timeout=0)


async def test_virtual_clock_jumps_when_all_processes_are_blocked() -> None:
    t0 = clock()
    await Process.sleep(3600)
    assert clock() - t0 == pytest.approx(3600)


async def test_wait_all_blocked_returns_after_others_have_run_to_a_block() -> None:
    seen: list[int] = []

    async def step(n: int) -> None:
        seen.append(n)
        await receive()

    for i in range(3):
        spawn(step, i)
    await wait_all_blocked()
    assert seen == [0, 1, 2]


def test_a_test_that_would_hang_fails_fast_with_deadlock_error() -> None:
    async def main() -> None:
        await receive()

    with pytest.raises(DeadlockError, match="every process is blocked"):
        tether.testing.run(main, idle_timeout=0.05)


def test_the_watchdog_warns_about_a_process_hogging_the_loop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="tether")

    async def hog() -> None:
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            pass

    async def main() -> None:
        _, _ref = spawn_monitor(hog)
        await receive(Down)

    tether.run(main, hog_threshold=0.05)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    who = "(test_the_watchdog_warns_about_a_process_hogging_the_loop.<locals>.hog)"
    assert who + " has run for more than 0.05 s without awaiting" in warnings[0]


async def test_a_process_is_asyncio_current_task_so_asyncio_timeout_works() -> None:
    me = tether._runtime._node.NODE.current  # type: ignore[union-attr]
    assert asyncio.current_task() is me
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(2):
            await asyncio.sleep(10)
    assert clock() == pytest.approx(2)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(1):
            await receive()
    async with asyncio.timeout(5):
        await asyncio.sleep(1)
    assert Process.alive(self()) is True


def test_each_step_has_its_process_as_current_task_and_none_is_current_between_steps() -> None:
    # Node.step brackets a step with asyncio's _enter_task/_leave_task (the
    # native core does their dict operations itself, task_enter/task_leave in
    # _cnode.c): during a step current_task() is that process, in a loop
    # callback between steps it is None.
    seen: list[object] = []

    async def child(parent: tether.Pid) -> None:
        task = asyncio.current_task()
        send(parent, task.get_name() if task is not None else None)

    async def main() -> tuple[bool, str | None, str, list[object]]:
        loop = asyncio.get_running_loop()
        loop.call_soon(lambda: seen.append(asyncio.current_task(loop)))
        pid = spawn(child, self())
        name = await receive()
        task = asyncio.current_task()
        return task is not None and task.get_name() == repr(self()), name, repr(pid), seen

    mine, name, pid, between = tether.run(main)
    assert (mine, name, between) == (True, pid, [None])


def test_a_step_that_removes_itself_as_current_task_dies_of_asyncios_error() -> None:
    # _leave_task's check, kept by both cores: the step's process must still be
    # the current task when it yields.  Only this process dies; the node goes on.
    async def tamper() -> None:
        del asyncio.tasks._current_tasks[asyncio.get_running_loop()]  # type: ignore[attr-defined]
        await receive()

    async def main() -> tuple[str, str, bool]:
        pid, ref = spawn_monitor(tamper)
        down = await receive(Down(ref, tether.ANY, tether.ANY, tether.ANY))
        reason = down.reason
        return type(reason).__name__, str(reason).replace(repr(pid), "PID"), Process.alive(self())

    assert tether.run(main) == (
        "RuntimeError",
        "Leaving task <Process PID state=1> does not match the current task None.",
        True,
    )


def test_a_step_that_leaves_another_task_current_dies_and_the_node_goes_on() -> None:
    # The process put something else in asyncio's table of current tasks: it
    # dies of _leave_task's error, and no task is current afterwards
    # (Node._reset_current_task), so later steps enter; before, every later
    # step failed to enter and tether.run hung.
    async def tamper() -> None:
        asyncio.tasks._current_tasks[asyncio.get_running_loop()] = "intruder"  # type: ignore[attr-defined]
        await receive()

    async def other(parent: tether.Pid) -> None:
        send(parent, "alive")

    async def main() -> tuple[str, str, bool]:
        pid, ref = spawn_monitor(tamper)
        down = await receive(Down(ref, tether.ANY, tether.ANY, tether.ANY))
        spawn(other, self())
        alive = await receive(timeout=5.0)  # a bound on a hang, not an ordering
        return str(down.reason).replace(repr(pid), "PID"), alive, Process.alive(self())

    assert tether.run(main) == (
        "Leaving task <Process PID state=1> does not match the current task 'intruder'.",
        "alive",
        True,
    )


async def test_wait_for_and_gather_of_coroutines_work_inside_a_process() -> None:
    async def double(x: int) -> int:
        await asyncio.sleep(0.5)
        return 2 * x

    assert await asyncio.wait_for(double(2), 1) == 4
    assert await asyncio.gather(double(1), double(3)) == [2, 6]


_VAR: contextvars.ContextVar[str] = contextvars.ContextVar("tether_test_var", default="unset")


def test_a_turn_is_scheduled_by_one_reused_handle_in_the_nodes_context() -> None:
    # Node.run_soon (_node._run_soon): on asyncio's own loops, one Handle, made
    # when the node starts and appended to the loop's ready queue; in debug mode
    # (and on other loops) loop.call_soon.  Every turn runs in the node's context.
    from tether._runtime._node import _run_soon

    seen: list[str] = []
    loop = asyncio.new_event_loop()
    try:

        def make() -> Any:
            _VAR.set("the node's")
            return _run_soon(loop, lambda: seen.append(_VAR.get()))

        run_soon = contextvars.copy_context().run(make)
        assert run_soon.func == loop._ready.append  # type: ignore[attr-defined]
        run_soon()
        handle = loop._ready[0]  # type: ignore[attr-defined]
        loop.call_soon(loop.stop)
        loop.run_forever()
        run_soon()
        assert loop._ready[0] is handle and len(loop._ready) == 1  # type: ignore[attr-defined]
        loop.call_soon(loop.stop)
        loop.run_forever()
        assert seen == ["the node's", "the node's"] and _VAR.get() == "unset"
        loop.set_debug(True)
        debug = contextvars.copy_context().run(make)
        assert debug.func == loop.call_soon and debug.keywords["context"] is not None
        debug()
        loop.call_soon(loop.stop)
        loop.run_forever()
        assert seen == ["the node's"] * 3
    finally:
        loop.close()


def test_a_context_variable_a_process_sets_is_seen_in_later_turns() -> None:
    async def reader(parent: tether.Pid) -> None:
        await receive()
        send(parent, ("saw", _VAR.get()))

    async def main() -> tuple[Any, str]:
        _VAR.set("set by main")
        pid = spawn(reader, self())
        await asyncio.sleep(0.01)  # the next turn is woken by the loop's timer
        send(pid, "go")
        return await receive(), _VAR.get()

    assert tether.run(main) == (("saw", "set by main"), "set by main")
    assert _VAR.get() == "unset"
