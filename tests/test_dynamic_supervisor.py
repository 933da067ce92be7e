"""DynamicSupervisor (SU-10) and Task.Supervisor (T-8)."""

from __future__ import annotations

from typing import Any

import tether
from tether import (
    ANY,
    Down,
    DynamicSupervisor,
    GenServer,
    Ok,
    Process,
    Reply,
    Task,
    TaskSupervisor,
    receive,
    self,
)
from tether.testing import wait_all_blocked

from .conftest import mailbox_now


class W(GenServer):
    def init(self, arg: Any) -> Any:
        return Ok(arg)

    def handle_call(self, request: Any, from_: Any, state: Any) -> Any:
        return Reply(state, state)


def wspec(arg: Any = None, restart: str = "permanent") -> dict[str, Any]:
    return {"id": "ignored", "start": (W.start_link, (arg,)), "restart": restart}


async def test_su10_start_child_which_and_count_children() -> None:
    _, sup = await DynamicSupervisor.start_link()
    ok, a = await DynamicSupervisor.start_child(sup, wspec(1))
    ok2, b = await DynamicSupervisor.start_child(sup, wspec(2))
    assert (ok, ok2) == ("ok", "ok")
    assert await DynamicSupervisor.which_children(sup) == [
        ("undefined", a, "worker", [W]),
        ("undefined", b, "worker", [W]),
    ]
    assert await DynamicSupervisor.count_children(sup) == {
        "specs": 2,
        "active": 2,
        "supervisors": 0,
        "workers": 2,
    }


async def test_su10_max_children_and_extra_arguments() -> None:
    async def start(extra: Any, arg: Any) -> Any:
        return await W.start_link((extra, arg))

    _, sup = await DynamicSupervisor.start_link(max_children=1, extra_arguments=["x"])
    _, pid = await DynamicSupervisor.start_child(sup, {"id": 0, "start": (start, (1,))})
    assert await GenServer.call(pid, "state") == ("x", 1)
    assert await DynamicSupervisor.start_child(sup, {"id": 0, "start": (start, (2,))}) == (
        "error",
        "max_children",
    )


async def test_su10_restart_types_permanent_replaced_temporary_gone() -> None:
    _, sup = await DynamicSupervisor.start_link()
    _, perm = await DynamicSupervisor.start_child(sup, wspec(1))
    _, temp = await DynamicSupervisor.start_child(sup, wspec(2, "temporary"))
    Process.exit(perm, "kill")
    Process.exit(temp, "kill")
    await wait_all_blocked()
    children = [pid for _i, pid, _t, _m in await DynamicSupervisor.which_children(sup)]
    assert len(children) == 1 and children[0] not in (perm, temp)
    assert await GenServer.call(children[0], "state") == 1


async def test_su10_transient_child_not_restarted_after_normal() -> None:
    _, sup = await DynamicSupervisor.start_link()
    _, t = await DynamicSupervisor.start_child(sup, wspec(1, "transient"))
    await GenServer.stop(t)
    await wait_all_blocked()
    assert await DynamicSupervisor.which_children(sup) == []


async def test_su10_terminate_child_takes_a_pid() -> None:
    _, sup = await DynamicSupervisor.start_link()
    _, pid = await DynamicSupervisor.start_child(sup, wspec())
    assert await DynamicSupervisor.terminate_child(sup, pid) == "ok"
    assert Process.alive(pid) is False
    assert await DynamicSupervisor.terminate_child(sup, pid) == ("error", "not_found")


async def test_su10_child_triggers_maximum_restarts() -> None:
    Process.flag("trap_exit", True)
    _, sup = await DynamicSupervisor.start_link(max_restarts=2)
    await DynamicSupervisor.start_child(sup, wspec())
    for _ in range(3):
        (_i, pid, _t, _m), *_ = await DynamicSupervisor.which_children(sup)
        Process.exit(pid, "kill")
        await wait_all_blocked()
    assert await receive(tether.Exit) == tether.Exit(sup, "shutdown")
    assert Process.list() == [self()]


async def add(a: int, b: int) -> int:
    return a + b


async def crash() -> None:
    raise RuntimeError("supervised boom")


async def test_t8_task_supervisor_async_links_and_returns_the_result() -> None:
    _, sup = await TaskSupervisor.start_link()
    task = await TaskSupervisor.async_(sup, add, 1, 2)
    assert task.pid in Process.info(self(), "links")
    assert await Task.await_(task) == 3


async def test_t8_async_nolink_crash_spares_the_caller() -> None:
    _, sup = await TaskSupervisor.start_link()
    task = await TaskSupervisor.async_nolink(sup, crash)
    result = await Task.yield_(task)
    assert result[0] == "exit" and type(result[1]) is RuntimeError
    assert Process.alive(self()) is True
    task2 = await TaskSupervisor.async_nolink(sup, crash)
    down = await receive(Down(task2.ref, ANY, ANY, ANY))
    assert type(down.reason) is RuntimeError


async def test_t8_start_child_children_and_terminate_child() -> None:
    async def wait() -> None:
        await Process.sleep(None)

    _, sup = await TaskSupervisor.start_link()
    ok, pid = await TaskSupervisor.start_child(sup, wait)
    assert ok == "ok"
    assert await TaskSupervisor.children(sup) == [pid]
    assert await TaskSupervisor.terminate_child(sup, pid) == "ok"
    assert await TaskSupervisor.children(sup) == []
    await wait_all_blocked()
    assert await mailbox_now() == []
