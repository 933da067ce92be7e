"""M-1 … M-15: monitors."""

from __future__ import annotations

import pytest

import tether
from tether import ANY, Down, Exit, Process, receive, self, send, spawn, spawn_link, spawn_monitor
from tether.testing import wait_all_blocked

from .conftest import mailbox_now, wait_forever


async def test_m1_monitor_is_unidirectional_the_watcher_gets_a_message_and_lives() -> None:
    pid = spawn(wait_forever)
    ref = Process.monitor(pid)
    assert isinstance(ref, tether.Ref)
    Process.exit(pid, "boom")
    assert await receive() == Down(ref, "process", pid, "boom")


async def test_m1_watcher_death_leaves_the_target_alone_and_clears_monitored_by() -> None:
    target = spawn(wait_forever)

    async def watcher(top: tether.Pid) -> None:
        Process.monitor(target)
        send(top, "monitoring")
        await Process.sleep(None)

    w = spawn(watcher, self())
    await receive(lambda m: m == "monitoring")
    assert Process.info(target, "monitored_by") == [w]
    Process.exit(w, "kill")
    assert Process.info(target, "monitored_by") == []
    assert Process.alive(target) is True


async def test_m2_down_message_fields_and_match_pattern() -> None:
    pid, ref = spawn_monitor(wait_forever)
    Process.exit(pid, "gone")
    match await receive():
        case Down(r, t, p, reason):
            assert (r, t, p, reason) == (ref, "process", pid, "gone")
            assert repr(t) == ":process"
        case other:
            pytest.fail(f"unexpected {other!r}")


async def test_m3_each_monitor_is_independent_with_its_own_down() -> None:
    pid = spawn(wait_forever)
    r1 = Process.monitor(pid)
    r2 = Process.monitor(pid)
    assert r1 != r2
    assert Process.info(self(), "monitors") == [("process", pid), ("process", pid)]
    assert Process.info(pid, "monitored_by") == [self(), self()]
    Process.exit(pid, "x")
    assert await mailbox_now() == [Down(r1, "process", pid, "x"), Down(r2, "process", pid, "x")]


async def test_m4_monitor_of_a_dead_pid_delivers_noproc_at_once() -> None:
    dead = tether.pid(0, 999_999, 0)
    ref = Process.monitor(dead)
    assert await receive(timeout=0) == Down(ref, "process", dead, "noproc")


async def test_m5_demonitor_returns_true_in_every_case() -> None:
    pid = spawn(wait_forever)
    ref = Process.monitor(pid)
    assert Process.demonitor(ref) is True
    assert Process.demonitor(ref) is True
    assert Process.demonitor(tether.make_ref()) is True


async def test_m5_demonitor_of_another_process_monitor_is_a_no_op() -> None:
    target = spawn(wait_forever)

    async def owner(top: tether.Pid) -> None:
        send(top, Process.monitor(target))
        await receive(Down)
        send(top, "owner got down")

    spawn(owner, self())
    ref = await receive(tether.Ref)
    assert Process.demonitor(ref) is True
    Process.exit(target, "x")
    assert await receive() == "owner got down"


async def test_m6_no_down_is_added_after_demonitor_returns() -> None:
    pid = spawn(wait_forever)
    ref = Process.monitor(pid)
    Process.demonitor(ref)
    Process.exit(pid, "x")
    await wait_all_blocked()
    assert await mailbox_now() == []


async def test_m6_a_down_queued_before_demonitor_stays_without_flush() -> None:
    pid, ref = spawn_monitor(wait_forever)
    Process.exit(pid, "x")
    assert Process.demonitor(ref) is True
    assert await mailbox_now() == [Down(ref, "process", pid, "x")]


async def test_m7_demonitor_flush_removes_one_queued_down() -> None:
    pid, ref = spawn_monitor(wait_forever)
    send(self(), "before")
    Process.exit(pid, "x")
    send(self(), "after")
    assert Process.demonitor(ref, flush=True) is True
    assert await mailbox_now() == ["before", "after"]


async def test_m8_demonitor_info_tells_whether_the_monitor_was_active() -> None:
    pid = spawn(wait_forever)
    ref = Process.monitor(pid)
    assert Process.demonitor(ref, info=True) is True
    assert Process.demonitor(ref, info=True) is False
    pid2, ref2 = spawn_monitor(wait_forever)
    Process.exit(pid2, "x")
    assert Process.demonitor(ref2, info=True) is False  # the DOWN is queued
    assert Process.demonitor(tether.make_ref(), info=True) is False


async def test_m9_demonitor_flush_info_false_when_down_was_queued_true_when_active() -> None:
    pid, ref = spawn_monitor(wait_forever)
    Process.exit(pid, "x")
    assert Process.demonitor(ref, flush=True, info=True) is False
    assert await mailbox_now() == []
    _pid2, ref2 = spawn_monitor(wait_forever)
    assert Process.demonitor(ref2, flush=True, info=True) is True
    # As the real BEAM answers (OTP 25): an unknown ref is "not found".
    assert Process.demonitor(tether.make_ref(), flush=True, info=True) is False


async def test_m10_bad_arguments_raise_type_error() -> None:
    with pytest.raises(TypeError, match="Process.demonitor: ref must be a tether.Ref"):
        Process.demonitor("x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="flush and info must be bool"):
        Process.demonitor(tether.make_ref(), flush="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Process.monitor: target must be"):
        Process.monitor(42)  # type: ignore[arg-type]


async def test_m11_monitor_by_name_reports_name_node_and_resolves_once() -> None:
    pid = spawn(wait_forever)
    Process.register(pid, "svc")
    ref = Process.monitor("svc")
    assert Process.info(self(), "monitors") == [("process", ("svc", "nonode@nohost"))]
    Process.unregister("svc")
    other = spawn(wait_forever)
    Process.register(other, "svc")
    Process.exit(pid, "x")
    assert await receive() == Down(ref, "process", ("svc", "nonode@nohost"), "x")
    assert Process.alive(other) is True


async def test_m11_monitor_of_an_unregistered_name_is_noproc_at_once() -> None:
    ref = Process.monitor("nobody")
    assert await receive(timeout=0) == Down(ref, "process", ("nobody", "nonode@nohost"), "noproc")
    ref2 = Process.monitor(("nobody", "nonode@nohost"))
    assert await receive(timeout=0) == Down(ref2, "process", ("nobody", "nonode@nohost"), "noproc")


async def test_m12_monitor_of_self_returns_a_ref_and_creates_nothing() -> None:
    ref = Process.monitor(self())
    assert isinstance(ref, tether.Ref)
    assert Process.info(self(), "monitors") == []
    assert Process.info(self(), "monitored_by") == []
    assert Process.demonitor(ref) is True
    Process.register(self(), "me")
    Process.monitor("me")
    assert Process.info(self(), "monitors") == []


async def test_m13_monitor_fires_once_and_is_removed_on_both_sides() -> None:
    pid = spawn(wait_forever)
    ref = Process.monitor(pid)
    Process.exit(pid, "x")
    assert await receive() == Down(ref, "process", pid, "x")
    assert Process.info(self(), "monitors") == []


async def test_m14_spawn_monitor_returns_pid_and_ref_atomically() -> None:
    async def instant() -> None:
        raise RuntimeError("now")

    pid, ref = spawn_monitor(instant)
    down = await receive()
    assert (down.ref, down.pid) == (ref, pid)
    assert type(down.reason) is RuntimeError


async def test_m15_trapping_linked_monitor_gets_both_exit_and_down() -> None:
    Process.flag("trap_exit", True)
    pid = spawn_link(wait_forever)
    ref = Process.monitor(pid)
    Process.exit(pid, "kill")
    got = await mailbox_now()
    # M-15: both arrive; their relative order is observed, not documented.
    assert len(got) == 2
    assert set(got) == {Exit(pid, "killed"), Down(ref, "process", pid, "killed")}


async def test_down_pattern_receive_picks_the_down_for_one_ref() -> None:
    p1, r1 = spawn_monitor(wait_forever)
    p2, r2 = spawn_monitor(wait_forever)
    Process.exit(p1, "one")
    Process.exit(p2, "two")
    assert await receive(Down(r2, ANY, ANY, ANY)) == Down(r2, "process", p2, "two")
    assert await receive(Down(r1, ANY, ANY, ANY)) == Down(r1, "process", p1, "one")


async def test_m16_messages_to_an_alias_reach_the_owner_until_unalias() -> None:
    alias = Process.alias()

    async def replier(to: tether.Ref) -> None:
        send(to, ("via alias", 1))

    spawn(replier, alias)
    assert await receive() == ("via alias", 1)
    assert Process.unalias(alias) is True
    assert Process.unalias(alias) is False
    spawn(replier, alias)
    await wait_all_blocked()
    assert await mailbox_now() == []


async def test_m16_a_reply_alias_takes_one_message_then_drops_the_rest() -> None:
    alias = Process.alias(reply=True)
    send(alias, "first")
    send(alias, "late")
    assert await mailbox_now() == ["first"]
    assert Process.unalias(alias) is False


async def test_m16_an_alias_dies_with_its_owner_and_others_cannot_unalias_it() -> None:
    async def owner(top: tether.Pid) -> None:
        send(top, Process.alias())
        await Process.sleep(None)

    pid = spawn(owner, self())
    alias = await receive(tether.Ref)
    assert Process.unalias(alias) is False  # not ours
    Process.exit(pid, "kill")
    node = tether._runtime._node.NODE
    assert isinstance(node, tether._runtime._node.Node) and node.aliases == {}
    assert send(alias, "dropped") == "dropped"


async def test_m16_a_monitor_alias_lives_until_the_monitor_is_removed() -> None:
    pid = spawn(wait_forever)
    ref = Process.monitor(pid, alias=True)
    send(ref, (ref, "reply"))
    assert await receive((ref, ANY)) == (ref, "reply")
    Process.demonitor(ref, flush=True)
    send(ref, (ref, "late"))
    pid2 = spawn(wait_forever)
    ref2 = Process.monitor(pid2, alias=True)
    Process.exit(pid2, "x")
    send(ref2, (ref2, "after down"))
    assert await mailbox_now() == [Down(ref2, "process", pid2, "x")]


async def test_m16_a_calls_monitor_is_its_alias_and_leaves_nothing_behind() -> None:
    # M-1, M-5, M-16 on a call's own path (_api.call_monitor / call_demonitor;
    # in C on the native core): while the call waits, the one ref is the
    # caller's monitor of the server, the server's monitored_by entry and the
    # caller's alias; the reply goes through the alias; afterwards, and after
    # a call that times out, nothing of it is left, a late reply is dropped and
    # a DOWN that was already queued is flushed.
    from tether._runtime import _node as _n
    from tether._runtime._api import call_demonitor, call_monitor, reply_filter

    node = _n.NODE
    assert isinstance(node, _n.Node)
    me = self()
    p = node.table[me]

    async def server() -> None:
        while True:
            msg = await receive()
            if msg == "stop":
                return
            (caller, tag), request = msg
            t = node.table[self()]
            seen = (
                dict(t.monitored_by or {}),
                dict(node.table[caller].monitors or {}),
                set(node.table[caller].aliases or ()),
                node.aliases.get(tag),
            )
            if request == "answer":
                send(tag, (tag, seen))

    s = spawn(server)
    from_ = call_monitor(s, "test")
    assert from_ is not None
    caller, ref = from_
    assert caller == me and type(ref) is tether.Ref
    send(s, (from_, "answer"))
    got = await receive(reply_filter(ref), timeout=5.0)
    assert got == (ref, ({ref: me}, {ref: (s, s)}, {ref}, (p, False)))
    call_demonitor(ref, "test")
    assert (p.monitors, p.aliases, node.table[s].monitored_by) == ({}, set(), {})
    assert ref not in node.aliases
    send(ref, "late")  # an inactive alias: dropped
    assert await mailbox_now() == []

    # a call that times out: the reply comes after, and is dropped
    from_ = call_monitor(s, "test")
    assert from_ is not None
    _, ref2 = from_
    with pytest.raises(TimeoutError):
        await receive(reply_filter(ref2), timeout=0.0)
    call_demonitor(ref2, "test")
    send(s, (from_, "answer"))
    await wait_all_blocked()
    assert await mailbox_now() == []
    assert node.live_deadlines == 0 and node.deadlines == []

    # the server dies first: its DOWN is queued, and call_demonitor flushes it
    from_ = call_monitor(s, "test")
    assert from_ is not None
    _, ref3 = from_
    send(s, "stop")
    await wait_all_blocked()
    assert await mailbox_now() == [Down(ref3, "process", s, "normal")]
    call_demonitor(ref3, "test")
    assert await mailbox_now() == []
    assert call_monitor(me, "test") is None  # calling_self
    dead = call_monitor(s, "test")  # a dead target: monitor_pid's immediate DOWN
    assert dead is not None and await receive() == Down(dead[1], "process", s, "noproc")
