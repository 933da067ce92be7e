"""L-1 … L-11: links."""

from __future__ import annotations

import contextlib

import pytest

import tether
from tether import ANY, Down, Exit, NoProcError, Process, receive, self, send, spawn, spawn_link
from tether.testing import wait_all_blocked

from .conftest import mailbox_now, wait_forever


async def test_l1_link_is_bidirectional_and_seen_from_both_sides() -> None:
    pid = spawn(wait_forever)
    assert Process.link(pid) is True
    assert Process.info(self(), "links") == [pid]
    assert Process.info(pid, "links") == [self()]


async def test_l1_parent_crash_kills_its_linked_child() -> None:
    async def parent(top: tether.Pid) -> None:
        child = spawn_link(wait_forever)
        send(top, ("child", child))
        await receive(lambda m: m == "die")
        raise RuntimeError("parent died")

    par = spawn(parent, self())
    (_, child) = await receive(("child", ANY))
    ref = Process.monitor(child)
    send(par, "die")
    down = await receive(Down)
    assert down.ref == ref and down.pid == child
    assert type(down.reason) is RuntimeError and down.reason.args == ("parent died",)


async def test_l2_link_is_idempotent_and_one_unlink_removes_it() -> None:
    pid = spawn(wait_forever)
    Process.link(pid)
    Process.link(pid)
    assert Process.info(self(), "links") == [pid]
    Process.unlink(pid)
    assert Process.info(self(), "links") == []
    assert Process.info(pid, "links") == []


async def test_l3_spawn_link_child_crashing_immediately_still_notifies_parent() -> None:
    Process.flag("trap_exit", True)

    async def boom() -> None:
        raise KeyError("k")

    pid = spawn_link(boom)
    msg = await receive()
    assert msg.pid == pid and type(msg.reason) is KeyError


async def test_l4_link_to_dead_pid_raises_noproc_when_not_trapping() -> None:
    pid, _ref = tether.spawn_monitor(wait_forever)
    Process.exit(pid, "kill")
    await receive(Down)
    with pytest.raises(NoProcError, match="noproc"):
        Process.link(pid)
    assert Process.alive(self()) is True


async def test_l4_uncaught_noproc_from_link_kills_the_caller_with_the_error() -> None:
    dead = spawn(wait_forever)
    Process.exit(dead, "kill")

    async def linker() -> None:
        Process.link(dead)

    _pid, _ref = tether.spawn_monitor(linker)
    down = await receive(Down)
    assert type(down.reason) is NoProcError


async def test_l4_link_to_dead_pid_when_trapping_returns_true_and_sends_exit_noproc() -> None:
    Process.flag("trap_exit", True)
    pid = spawn(wait_forever)
    Process.exit(pid, "kill")
    assert Process.link(pid) is True
    assert await receive() == Exit(pid, "noproc")


async def test_l5_link_to_self_is_a_no_op_returning_true() -> None:
    assert Process.link(self()) is True
    assert Process.info(self(), "links") == []


async def test_l6_link_to_a_non_pid_raises_type_error_naming_the_argument() -> None:
    with pytest.raises(
        TypeError, match=r"Process.link: pid must be a tether.Pid or a tether.Port, got 'x'"
    ):
        Process.link("x")  # type: ignore[arg-type]


async def test_l7_unlink_returns_true_for_no_link_dead_target_and_self() -> None:
    pid = spawn(wait_forever)
    assert Process.unlink(pid) is True
    Process.exit(pid, "kill")
    assert Process.unlink(pid) is True
    assert Process.unlink(self()) is True


async def test_l8_after_unlink_no_exit_arrives_because_of_the_link() -> None:
    Process.flag("trap_exit", True)
    for _ in range(50):
        pid = spawn_link(wait_forever)
        Process.exit(pid, "boom")  # a trapping caller: the EXIT may already be queued
        Process.unlink(pid)
        with contextlib.suppress(TimeoutError):
            await receive(Exit(pid, ANY), timeout=0)
    await wait_all_blocked()
    assert await mailbox_now() == []


async def test_l8_exit_already_queued_before_unlink_stays_in_the_mailbox() -> None:
    Process.flag("trap_exit", True)

    async def quick() -> None:
        raise ValueError("early")

    pid = spawn_link(quick)
    await wait_all_blocked()
    Process.unlink(pid)
    msg = await receive(timeout=0)
    assert isinstance(msg, Exit) and msg.pid == pid


async def test_l9_after_unlink_a_crash_of_the_former_partner_spares_the_caller() -> None:
    pid = spawn_link(wait_forever)
    Process.unlink(pid)
    Process.exit(pid, "crash")
    await wait_all_blocked()
    assert Process.alive(self()) is True


async def test_l10_link_is_removed_when_the_partner_dies() -> None:
    Process.flag("trap_exit", True)
    pid = spawn_link(wait_forever)
    Process.exit(pid, "kill")
    await receive(Exit)
    assert Process.info(self(), "links") == []


async def test_l11_exit_reason_travels_unchanged_along_a_chain() -> None:
    async def chain(n: int, top: tether.Pid) -> None:
        if n == 0:
            send(top, ("tail", self()))
        else:
            spawn_link(chain, n - 1, top)
        await Process.sleep(None)

    head, ref = tether.spawn_monitor(chain, 100, self())
    (_, tail) = await receive(("tail", ANY))
    Process.exit(tail, "kill")
    assert await receive(Down) == Down(ref, "process", head, "killed")
    assert await mailbox_now() == []


async def test_l11_long_linked_chain_dies_without_recursion_overflow() -> None:
    async def chain(n: int, top: tether.Pid) -> None:
        pid = self()
        for _ in range(n):
            pid = spawn_link(wait_forever)
        send(top, ("tail", pid))
        await Process.sleep(None)

    # A star, then a chain of 20,000 links built from the tail.
    async def builder(top: tether.Pid) -> None:
        prev = self()
        for _ in range(20_000):
            nxt = spawn(wait_forever)
            Process.link(nxt)  # links builder <-> nxt
            prev = nxt
        send(top, ("last", prev))
        await Process.sleep(None)

    b, ref = tether.spawn_monitor(builder, self())
    (_, last) = await receive(("last", ANY))
    Process.exit(last, "bye")
    assert await receive(Down) == Down(ref, "process", b, "bye")
    await wait_all_blocked()
    assert Process.list() == [self()]
