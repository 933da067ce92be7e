"""Task (T-1 … T-7, LOG-4) and Agent (A-1)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import tether
from tether import ANY, Agent, Down, Exit, Process, ProcessExit, Task, receive, self, spawn
from tether.testing import wait_all_blocked

from .conftest import mailbox_now


async def double(x: int) -> int:
    return 2 * x


async def slow(x: int) -> int:
    await Process.sleep(x)
    return x


async def boom() -> None:
    raise RuntimeError("task_boom")


async def test_t1_async_links_monitors_and_replies_ref_result_then_down() -> None:
    task = Task.async_(double, 21)
    assert task.owner == self() and task.pid in Process.info(self(), "links")
    assert Process.info(self(), "monitors") == [("process", task.pid)]
    await wait_all_blocked()
    assert await mailbox_now() == [(task.ref, 42), Down(task.ref, "process", task.pid, "normal")]


async def test_t1_callers_are_recorded_in_the_task_dictionary() -> None:
    async def callers() -> Any:
        return Process.get("$callers")

    assert await Task.await_(Task.async_(callers)) == [self()]


async def test_t2_await_returns_the_result_and_leaves_the_mailbox_empty() -> None:
    task = Task.async_(double, 4)
    assert await Task.await_(task) == 8
    await wait_all_blocked()
    assert await mailbox_now() == []
    assert Process.info(self(), "monitors") == []


async def test_t3_await_timeout_exits_caller_task_keeps_running_late_reply_dropped() -> None:
    task = Task.async_(slow, 10)
    with pytest.raises(ProcessExit) as info:
        await Task.await_(task, 1)
    assert info.value.reason == ("timeout", ("Task.await", task, 1))
    assert Process.alive(task.pid) is True
    await Process.sleep(20)
    assert await mailbox_now() == []


async def test_t3_uncaught_await_timeout_kills_the_linked_task_too() -> None:
    me = self()

    async def owner() -> None:
        t = Task.async_(slow, 10)
        tether.send(me, ("task", t.pid))
        await Task.await_(t, 1)

    _pid, ref = tether.spawn_monitor(owner)
    _, tpid = await receive(("task", ANY))
    tref = Process.monitor(tpid)
    down = await receive(Down(ref, ANY, ANY, ANY))
    assert down.reason[0] == "timeout"
    assert await receive(Down(tref, ANY, ANY, ANY)) == Down(tref, "process", tpid, down.reason)


async def test_t4_task_crash_kills_non_trapping_owner_with_its_reason() -> None:
    async def owner() -> None:
        Task.async_(boom)
        await Process.sleep(None)

    _pid, _ref = tether.spawn_monitor(owner)
    down = await receive(Down)
    assert type(down.reason) is RuntimeError and down.reason.args == ("task_boom",)


async def test_t4_trapping_owner_await_exits_with_reason_and_gets_exit_message() -> None:
    Process.flag("trap_exit", True)
    task = Task.async_(boom)
    with pytest.raises(ProcessExit) as info:
        await Task.await_(task)
    reason, mfa = info.value.reason
    assert type(reason) is RuntimeError and mfa == ("Task.await", task, 5.0)
    msg = await receive(Exit)
    assert msg.pid == task.pid and msg.reason is reason


async def test_t5_only_the_owner_may_await() -> None:
    task = Task.async_(double, 1)
    me = self()

    async def other() -> None:
        try:
            await Task.await_(task)
        except ValueError as e:
            tether.send(me, str(e))

    other_pid = spawn(other)
    assert await receive(str) == (
        f"Task.await_: task {task!r} must be queried from the owner but was queried from "
        f"{other_pid!r}"
    )
    assert await Task.await_(task) == 2


async def test_t6_yield_returns_none_on_timeout_then_ok() -> None:
    task = Task.async_(slow, 3)
    assert await Task.yield_(task, 1) is None
    assert await Task.yield_(task, 5) == ("ok", 3)


async def test_t6_yield_returns_exit_for_a_crashed_task_when_trapping() -> None:
    Process.flag("trap_exit", True)
    task = Task.async_(boom)
    result = await Task.yield_(task)
    assert result[0] == "exit" and type(result[1]) is RuntimeError


async def test_t6_shutdown_stops_a_running_task_and_returns_none() -> None:
    task = Task.async_(slow, 100)
    assert await Task.shutdown(task) is None
    assert Process.alive(task.pid) is False
    assert await mailbox_now() == []
    task2 = Task.async_(slow, 100)
    assert await Task.shutdown(task2, "brutal_kill") is None


async def test_t6_shutdown_returns_the_reply_that_raced_in() -> None:
    task = Task.async_(double, 5)
    await wait_all_blocked()
    assert await Task.shutdown(task) == ("ok", 10)


async def test_t7_start_and_start_link_return_ok_pid_and_send_no_reply() -> None:
    ok, pid = await Task.start_link(double, 1)
    assert ok == "ok" and pid in Process.info(self(), "links")
    _ok2, _pid2 = await Task.start(double, 1)
    await wait_all_blocked()
    assert await mailbox_now() == []


async def test_t7_await_many_keeps_input_order() -> None:
    tasks = [Task.async_(slow, n) for n in (3, 1, 2)]
    assert await Task.await_many(tasks) == [3, 1, 2]


async def test_log4_task_crash_report(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="tether")
    Process.flag("trap_exit", True)
    task = Task.async_(boom)
    await receive(Exit)
    lines = [r.getMessage().splitlines() for r in caplog.records]
    assert lines == [
        [
            f"Task {task.pid!r} started from {self()!r} terminating",
            "** (RuntimeError) task_boom",
            "Function: boom",
            "    Args: []",
        ]
    ]


async def test_log4_task_exit_with_abnormal_reason_is_reported_as_stop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="tether")
    Process.flag("trap_exit", True)

    async def quits() -> None:
        tether.exit("task_boom")

    Task.async_(quits)
    await receive(Exit)
    assert caplog.records[0].getMessage().splitlines()[1] == "** (stop) :task_boom"


async def test_a1_agent_start_get_update_get_and_update_cast_stop() -> None:
    ok, agent = await Agent.start_link(lambda: {"count": 0})
    assert ok == "ok" and agent in Process.info(self(), "links")
    assert await Agent.get(agent, lambda s: s["count"]) == 0
    assert await Agent.update(agent, lambda s: {"count": s["count"] + 1}) == "ok"
    assert await Agent.get_and_update(agent, lambda s: (s["count"], {"count": 10})) == 1
    assert Agent.cast(agent, lambda s: {"count": s["count"] + 5}) == "ok"
    assert await Agent.get(agent, lambda s: s) == {"count": 15}
    assert await Agent.stop(agent) == "ok"
    assert Process.alive(agent) is False


async def test_a1_agent_timeout_wraps_the_request() -> None:
    async def slow_get(s: Any) -> Any:
        await Process.sleep(10)
        return s

    _, agent = await Agent.start_link(lambda: 1)
    with pytest.raises(ProcessExit) as info:
        await Agent.get(agent, slow_get, 1)
    assert info.value.reason == ("timeout", ("GenServer.call", agent, ("get", slow_get), 1))


async def test_a1_agent_fun_raising_crashes_the_agent_and_the_caller_exits() -> None:
    def bad(s: Any) -> Any:
        raise RuntimeError("agent fun")

    _, agent = await Agent.start(lambda: 1)
    with pytest.raises(ProcessExit) as info:
        await Agent.get(agent, bad)
    assert type(info.value.reason[0]) is RuntimeError
    assert Process.alive(agent) is False


async def test_a1_agent_noproc_failing_init_and_names() -> None:
    dead = tether.pid(0, 999_999, 0)
    with pytest.raises(ProcessExit) as info:
        await Agent.get(dead, lambda s: s)
    assert info.value.reason[0] == "noproc"

    def bad_init() -> Any:
        raise ValueError("no state")

    result = await Agent.start_link(bad_init)
    assert result[0] == "error" and type(result[1]) is ValueError
    _, _a = await Agent.start_link(lambda: "x", name="agent")
    assert await Agent.get("agent", lambda s: s) == "x"
