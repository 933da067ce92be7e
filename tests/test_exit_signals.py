"""§1.1 (all 14 rows) and E-1 … E-10: what an exit signal does to its receiver."""

from __future__ import annotations

import pytest

import tether
from tether import ANY, Exit, Process, ProcessExit, receive, self, send, spawn, spawn_link
from tether.testing import wait_all_blocked

from .conftest import mailbox_now, trapper, wait_forever


async def spawn_trapper() -> tether.Pid:
    pid = spawn(trapper, self())
    assert await receive(("ready", pid)) == ("ready", pid)
    return pid


async def test_row1_exit_normal_to_non_trapping_other_is_dropped() -> None:
    pid = spawn(wait_forever)
    assert Process.exit(pid, "normal") is True
    await wait_all_blocked()
    assert Process.alive(pid) is True


async def test_row2_exit_normal_to_trapping_other_becomes_exit_message() -> None:
    pid = await spawn_trapper()
    Process.exit(pid, "normal")
    assert await receive(("got", ANY)) == ("got", Exit(self(), "normal"))
    assert Process.alive(pid) is True


async def test_row3_exit_self_normal_ends_the_caller_with_normal() -> None:
    async def suicide() -> None:
        Process.exit(self(), "normal")
        raise AssertionError("Process.exit(self(), normal) returned")

    pid, ref = tether.spawn_monitor(suicide)
    assert await receive() == tether.Down(ref, "process", pid, "normal")


async def test_row4_exit_self_normal_while_trapping_is_a_message_and_caller_lives() -> None:
    Process.flag("trap_exit", True)
    assert Process.exit(self(), "normal") is True
    assert await receive() == Exit(self(), "normal")
    assert Process.alive(self()) is True


async def test_row5_kill_cannot_be_trapped_and_becomes_killed() -> None:
    pid = await spawn_trapper()
    ref = Process.monitor(pid)
    Process.exit(pid, "kill")
    assert Process.alive(pid) is False
    down = await receive(tether.Down)
    assert down == tether.Down(ref, "process", pid, "killed")
    assert type(down.reason) is tether.Atom


async def test_row5_kill_self_ends_the_caller_with_killed() -> None:
    async def kill_self() -> None:
        Process.flag("trap_exit", True)
        Process.exit(self(), "kill")

    pid, ref = tether.spawn_monitor(kill_self)
    assert await receive() == tether.Down(ref, "process", pid, "killed")


async def test_row6_other_reason_ends_non_trapping_target_with_that_reason() -> None:
    pid, ref = tether.spawn_monitor(wait_forever)
    Process.exit(pid, ("custom", 1))
    assert await receive() == tether.Down(ref, "process", pid, ("custom", 1))


async def test_row7_other_reason_to_trapping_target_is_a_message_without_a_link() -> None:
    pid = await spawn_trapper()
    Process.exit(pid, "boom")
    assert await receive(("got", ANY)) == ("got", Exit(self(), "boom"))


async def test_row8_link_signal_after_unlink_is_dropped() -> None:
    Process.flag("trap_exit", True)
    pid = spawn_link(wait_forever)
    Process.unlink(pid)
    Process.exit(pid, "kill")
    await wait_all_blocked()
    assert await mailbox_now() == []


async def test_row9_linked_normal_exit_does_not_affect_non_trapping_partner() -> None:
    async def parent(top: tether.Pid) -> None:
        spawn_link(lambda_normal)
        await tether.Process.sleep(1)
        send(top, "parent alive")

    async def lambda_normal() -> None:
        return None

    spawn(parent, self())
    assert await receive() == "parent alive"


async def test_row10_linked_normal_exit_is_an_exit_message_when_trapping() -> None:
    Process.flag("trap_exit", True)

    async def child() -> None:
        return None

    pid = spawn_link(child)
    assert await receive() == Exit(pid, "normal")


async def test_row11_link_kill_from_exit1_stays_kill_and_propagates() -> None:
    async def middle(top: tether.Pid) -> None:
        spawn_link(exits_with_kill)
        await Process.sleep(None)

    async def exits_with_kill() -> None:
        tether.exit("kill")

    pid, ref = tether.spawn_monitor(middle, self())
    assert await receive() == tether.Down(ref, "process", pid, "kill")


async def test_row12_link_kill_is_trappable() -> None:
    Process.flag("trap_exit", True)

    async def exits_with_kill() -> None:
        tether.exit("kill")

    pid = spawn_link(exits_with_kill)
    assert await receive() == Exit(pid, "kill")
    assert Process.alive(self()) is True


@pytest.mark.parametrize("reason", ["killed", "shutdown", ("shutdown", "x"), "noproc", "boom"])
async def test_row13_link_signal_with_other_reason_kills_non_trapping_partner_with_it(
    reason: object,
) -> None:
    async def middle() -> None:
        spawn_link(exit_with, reason)
        await Process.sleep(None)

    async def exit_with(r: object) -> None:
        tether.exit(r)

    pid, ref = tether.spawn_monitor(middle)
    assert await receive() == tether.Down(ref, "process", pid, reason)


async def test_row14_link_signal_with_other_reason_is_a_message_when_trapping() -> None:
    Process.flag("trap_exit", True)

    async def crash() -> None:
        raise ValueError("bad")

    pid = spawn_link(crash)
    msg = await receive()
    assert isinstance(msg, Exit) and msg.pid == pid
    assert type(msg.reason) is ValueError and msg.reason.args == ("bad",)


async def test_e1_shutdown_is_not_special_at_the_signal_level() -> None:
    pid, ref = tether.spawn_monitor(wait_forever)
    Process.exit(pid, "shutdown")
    assert await receive() == tether.Down(ref, "process", pid, "shutdown")


async def test_e2_kill_becomes_killed_for_linked_processes() -> None:
    Process.flag("trap_exit", True)
    victim = spawn_link(wait_forever)
    Process.exit(victim, "kill")
    assert await receive() == Exit(victim, "killed")


async def test_e2_killed_propagates_through_non_trapping_links() -> None:
    async def holder(top: tether.Pid) -> None:
        v = spawn_link(wait_forever)
        send(top, v)
        await Process.sleep(None)

    holder_pid, ref = tether.spawn_monitor(holder, self())
    victim = await receive(tether.Pid)
    Process.exit(victim, "kill")
    assert await receive() == tether.Down(ref, "process", holder_pid, "killed")


async def test_e3_exit1_is_catchable_and_the_process_goes_on() -> None:
    try:
        tether.exit("foo")
    except ProcessExit as e:
        caught = e.reason
    assert caught == "foo"
    assert Process.alive(self()) is True


async def test_e3_exit_signal_to_self_cannot_be_caught() -> None:
    async def victim() -> None:
        try:
            Process.exit(self(), "boom")
        except BaseException:
            send(top, "caught")
            raise
        send(top, "survived")

    top = self()
    pid, ref = tether.spawn_monitor(victim)
    # The signal ends the process; its finally/except code runs but its sends are dropped.
    assert await receive() == tether.Down(ref, "process", pid, "boom")
    assert await mailbox_now() == []


async def test_e4_exit_returns_true_for_a_dead_target() -> None:
    pid, _ref = tether.spawn_monitor(wait_forever)
    Process.exit(pid, "kill")
    await receive(tether.Down)
    assert Process.exit(pid, "kill") is True
    assert Process.exit(tether.pid(0, 999999, 0), "boom") is True


async def test_e4_exit_with_non_pid_target_raises_type_error() -> None:
    with pytest.raises(TypeError, match="Process.exit: pid must be a tether.Pid"):
        Process.exit("not_a_pid", "kill")  # type: ignore[arg-type]


async def test_e5_first_exit_signal_decides_the_reason() -> None:
    pid, ref = tether.spawn_monitor(wait_forever)
    Process.exit(pid, "first")
    Process.exit(pid, "second")
    Process.exit(pid, "kill")
    assert await receive() == tether.Down(ref, "process", pid, "first")


async def test_e6_process_blocked_in_receive_with_timeout_is_killed_no_timeout_fires() -> None:
    async def waiter(top: tether.Pid) -> None:
        try:
            await receive(timeout=5)
        except TimeoutError:
            send(top, "timeout fired")

    pid, ref = tether.spawn_monitor(waiter, self())
    await wait_all_blocked()
    Process.exit(pid, "stop")
    assert await receive() == tether.Down(ref, "process", pid, "stop")
    await Process.sleep(10)
    assert await mailbox_now() == []


async def test_e7_trap_exit_flag_returns_old_value_default_false() -> None:
    assert Process.flag("trap_exit", True) is False
    assert Process.flag("trap_exit", True) is True
    assert Process.flag("trap_exit", False) is True


async def test_e7_trap_exit_is_read_when_the_signal_arrives_and_mailbox_is_untouched() -> None:
    Process.flag("trap_exit", True)
    pid = spawn_link(wait_forever)
    Process.exit(pid, "kill")
    Process.flag("trap_exit", False)
    assert await receive() == Exit(pid, "killed")


async def test_e8_returning_normally_exits_normal() -> None:
    async def done() -> int:
        return 7

    pid, ref = tether.spawn_monitor(done)
    down = await receive()
    assert down == tether.Down(ref, "process", pid, "normal")
    assert type(down.reason) is tether.Atom


async def test_e9_unlinked_child_crash_does_not_affect_parent() -> None:
    async def child() -> None:
        raise RuntimeError("x")

    _pid, _ref = tether.spawn_monitor(child)
    await receive(tether.Down)
    assert Process.alive(self()) is True


async def test_e10_name_is_released_before_down_and_exit_arrive() -> None:
    Process.flag("trap_exit", True)
    pid = spawn_link(wait_forever)
    Process.register(pid, "named")
    ref = Process.monitor(pid)
    Process.exit(pid, "bye")
    assert await receive(Exit) == Exit(pid, "bye")
    assert Process.whereis("named") is None
    assert await receive(tether.Down) == tether.Down(ref, "process", pid, "bye")
    me2 = spawn(wait_forever)
    assert Process.register(me2, "named") is True
