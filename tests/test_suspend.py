"""Node.suspend: the flow-control hook (a process held until a future is done)."""

from __future__ import annotations

import asyncio

from tether import Process, receive, self, send, spawn, spawn_monitor
from tether._runtime import _node as _n
from tether.testing import wait_all_blocked

from .conftest import mailbox_now


def _node() -> _n.Node:
    node = _n.NODE
    assert isinstance(node, _n.Node)
    return node


async def test_a_suspended_process_runs_no_further_step_until_its_future_is_done() -> None:
    node = _node()
    gate: asyncio.Future[None] = node.loop.create_future()
    parent = self()

    async def sender() -> None:
        send(parent, 1)
        node.suspend(node.table[self()], gate)
        send(parent, 2)  # the current step goes on to its next await
        await asyncio.sleep(0)
        send(parent, 3)  # held here until the gate opens
        got = await receive()
        send(parent, ("got", got))

    pid = spawn(sender)
    await wait_all_blocked()
    assert await mailbox_now() == [1, 2]
    assert Process.info(pid, "status") == "suspended"
    send(pid, "hello")  # waits in its mailbox meanwhile
    await wait_all_blocked()
    assert await mailbox_now() == []
    gate.set_result(None)
    await wait_all_blocked()
    assert await mailbox_now() == [3, ("got", "hello")]


async def test_a_kill_ends_a_suspended_process_at_once() -> None:
    node = _node()
    gate: asyncio.Future[None] = node.loop.create_future()

    async def held() -> None:
        node.suspend(node.table[self()], gate)
        await asyncio.sleep(0)

    pid, ref = spawn_monitor(held)
    await wait_all_blocked()
    assert Process.info(pid, "status") == "suspended"
    Process.exit(pid, "kill")
    assert Process.alive(pid) is False
    assert await receive(timeout=0) == _n.Down(ref, "process", pid, "killed")
    gate.set_result(None)  # opening the gate later does nothing
    await wait_all_blocked()
    assert await mailbox_now() == []
