"""The runtime's counters for the observer: per-process steps and messages, node totals."""

from __future__ import annotations

import time

import tether
from tether import Exit, Process, receive, self, send, spawn, spawn_link
from tether._runtime import _node as _n
from tether.testing import wait_all_blocked


def _node() -> _n.Node:
    node = _n.NODE
    assert isinstance(node, _n.Node)
    return node


async def _take(n: int) -> None:
    for _ in range(n):
        await receive()
    await Process.sleep(None)


async def test_reductions_count_the_steps_of_a_process_one_per_resume() -> None:
    pid = spawn(_take, 3)
    assert Process.info(pid, "reductions") == 0  # not started yet
    await wait_all_blocked()
    assert Process.info(pid, "reductions") == 1  # ran up to its first receive
    for m in ("a", "b", "c"):
        send(pid, m)
        await wait_all_blocked()
    assert Process.info(pid, "reductions") == 4


async def test_messages_received_counts_handed_over_queued_and_signal_messages() -> None:
    async def trapping() -> None:
        Process.flag("trap_exit", True)
        await receive(lambda m: m == "go")
        await Process.sleep(None)

    pid = spawn(trapping)
    await wait_all_blocked()
    send(pid, "queued")  # not what it waits for: queued
    send(pid, "go")  # handed to its receive
    Process.exit(pid, "bye")  # a trapped exit signal: a message
    await wait_all_blocked()
    assert Process.info(pid, "messages_received") == 3
    assert Process.info(pid, "messages") == ["queued", Exit(self(), "bye")]


async def test_reductions_is_in_the_default_info_after_trap_exit() -> None:
    info = Process.info(self())
    assert list(info)[-2:] == ["trap_exit", "reductions"]
    assert info["reductions"] == 1  # the test's own first step


async def test_node_totals_keep_the_counts_of_dead_processes() -> None:
    node = _node()
    spawns, delivered, steps = node.spawns, node.delivered(), node.reductions()
    pid = spawn(_take, 2)
    send(pid, 1)
    send(pid, 2)
    await wait_all_blocked()
    Process.exit(pid, "kill")
    assert node.spawns == spawns + 1
    assert node.delivered() == delivered + 2
    # Its steps: the first (which took both queued messages, the second receive
    # answered from the mailbox), and ours since we read the total: one to the
    # wait, one back from it.
    assert node.reductions() == steps + 1 + 1


async def test_a_dying_process_spawn_is_not_counted() -> None:
    node = _node()

    async def spawn_in_finally() -> None:
        try:
            await Process.sleep(None)
        finally:
            spawn(_take, 1)  # dropped: a dead process's spawns never live

    pid = spawn_link(spawn_in_finally)
    Process.flag("trap_exit", True)
    await wait_all_blocked()
    before = node.spawns
    Process.exit(pid, "kill")
    assert await receive(Exit(pid, tether.ANY)) == Exit(pid, "killed")
    await wait_all_blocked()
    assert node.spawns == before


def test_scheduler_busy_time_and_the_watchdog_record_a_long_step() -> None:
    # Real time: the watchdog is a thread sampling the real clock every 50 ms
    # (hog_threshold=None), so a step must really take long to be seen.  0.4 s
    # gives a margin of 8 samples on a loaded machine; the assertions only ask for
    # a quarter of it.
    seen: dict[str, object] = {}

    async def hog() -> None:
        time.sleep(0.4)

    async def main() -> None:
        node = _node()
        busy = node.busy
        pid = spawn(hog)
        await Process.sleep(0.6)  # real seconds: the watchdog closes the record
        assert node.watchdog is not None
        seen["steps"] = list(node.watchdog.long_steps)
        seen["pid"] = pid
        seen["busy"] = node.busy - busy
        seen["longest"] = node.watchdog.longest

    tether.run(main, hog_threshold=None)
    steps = seen["steps"]
    assert isinstance(steps, list) and len(steps) == 1
    _when, ran, pid = steps[0]
    assert pid == seen["pid"]
    assert 0.1 <= ran <= seen["longest"]
    assert isinstance(seen["busy"], float) and seen["busy"] >= 0.3
