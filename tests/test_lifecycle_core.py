"""Spawn, exit, links and monitors where the native core takes them (issue #16).

The native core makes the spawn of an ``async def`` function (``Node.spawn``'s
common case), the pid, the process record and the monitor's ref in C, and
hashes pids and refs in C.  These tests pin what must not differ from the
Python reference; they run on whichever core is installed (CI runs both).
"""

from __future__ import annotations

import functools
from typing import Any, cast

import pytest

import tether
import tether.testing
from tether import ANY, Down, Exit, Process, receive, self, spawn, spawn_link, spawn_monitor
from tether._runtime import _core
from tether._runtime import _node as _n
from tether._runtime._types import ExitSignal, Pid, ProcessExit, Ref, TimerRef


async def _nothing() -> None:
    return None


async def _wait() -> None:
    await receive()


def _slots(p: _n.Process) -> dict[str, Any]:
    return {
        name: getattr(p, name)
        for name in _n.Process.__slots__
        if name not in ("__weakref__", "pid", "coro", "initial_call")
    }


def _node() -> _n.Node:
    node = _n.NODE
    assert isinstance(node, _n.Node)
    return node


async def test_a_spawned_record_starts_exactly_as_process_init_makes_it() -> None:
    pid = spawn(_wait)
    p = _node().table[pid]
    fresh = _n.Process(pid, None, None)
    assert _slots(p) == _slots(fresh)
    assert {k: type(v) for k, v in _slots(p).items()} == {
        k: type(v) for k, v in _slots(fresh).items()
    }
    assert p.pid is pid and p.initial_call is _wait and type(p.coro).__name__ == "coroutine"
    Process.exit(pid, "kill")


async def test_spawned_pids_are_local_pids_equal_to_those_made_by_hand() -> None:
    pid = spawn(_wait)
    assert (pid.serial, pid.node, pid.creation) == (0, None, 0)
    by_hand = tether.pid(0, pid.id, 0)
    # A local pid hashes as its id (the process table's keys are sequential).
    assert by_hand == pid and hash(by_hand) == hash(pid) == pid.id
    assert pid._hash is pid.id  # spawn shares the id's int as the hash
    assert {by_hand: "x"}[pid] == "x"
    assert Process.alive(by_hand) is True
    Process.exit(by_hand, "kill")
    assert Process.alive(pid) is False  # S-9


def test_pid_and_ref_hashes_are_their_hash_slots_on_either_core() -> None:
    pid = Pid(7, 1, "a@b", 3)
    assert hash(pid) == Pid.__hash__(pid) == hash((7, 1, "a@b", 3))
    for other in (Pid(7, 1), Pid(7, 0, "a@b"), Pid(7, 0, None, 3)):
        assert hash(other) == hash((7, other.serial, other.node, other.creation))
    assert hash(Pid(7)) == Pid.__hash__(Pid(7)) == 7
    big = Pid(2**70)  # over a Py_hash_t: the C slot hashes the int, as Python does
    assert hash(big) == hash(2**70) and {big: 1}[Pid(2**70)] == 1
    ref = Ref(2**80 + 5, "a@b", 2)
    assert hash(ref) == Ref.__hash__(ref) == hash((2**80 + 5, "a@b"))
    local = Ref()
    assert hash(local) == hash(local.n)
    tref = TimerRef()
    by_ref: dict[Ref, int] = {tref: 1}
    assert hash(tref) == hash(tref.n) and by_ref[Ref(tref.n)] == 1
    # A hash of -1 is -2 (what CPython makes of a __hash__ returning -1).
    assert hash(Ref(-1)) == -2 == hash(-1)


def test_pid_equality_is_its_eq_on_either_core() -> None:
    # The native core compares two Pids in C (== and !=); Pid.__eq__ is the
    # reference, and answers everything else.
    base = Pid(7, 1, "a@b", 3)
    twins = [Pid(7, 1, "a@b", 3), Pid(2**70), Pid(7)]
    others = [Pid(8, 1, "a@b", 3), Pid(7, 2, "a@b", 3), Pid(7, 1, "c@d", 3), Pid(7, 1, "a@b", 4)]
    for x in [base, *others]:
        assert (base == x) is Pid.__eq__(base, x) is (x is base)
        assert (base != x) is (not Pid.__eq__(base, x))
    assert twins[0] == base and (twins[0] != base) is False and twins[0] is not base
    assert Pid(2**70) == twins[1] and Pid(7) == twins[2] and Pid(7) != Pid(7, 0, "a@b")
    assert (base == 7) is False and (base != 7) is True and Pid.__eq__(base, 7) is NotImplemented
    assert (base == "a@b") is False and sorted([others[0], base]) == [base, others[0]]
    table = {base: "found"}
    assert table[Pid(7, 1, "a@b", 3)] == "found" and Pid(7, 1, "c@d", 3) not in table


async def test_spawn_monitor_gives_a_fresh_ref_and_the_down_has_it_m14() -> None:
    pid, ref = spawn_monitor(_nothing)
    assert type(ref) is Ref and ref.node is None
    assert _node().table[pid].monitored_by == {ref: self()}
    assert Process.info(self(), "monitors") == [("process", pid)]
    assert await receive() == Down(ref, "process", pid, "normal")  # E-8
    assert Process.info(self(), "monitors") == []  # M-13


async def test_spawn_link_links_both_sides_before_the_child_runs_l3() -> None:
    Process.flag("trap_exit", True)
    pid = spawn_link(_nothing)
    assert Process.info(self(), "links") == [pid]
    assert Process.info(pid, "links") == [self()]
    assert await receive(Exit(pid, ANY)) == Exit(pid, "normal")
    assert Process.info(self(), "links") == []  # L-10


async def test_the_engine_spawn_takes_its_flags_by_position_or_keyword() -> None:
    node, me = _node(), _node().current
    assert me is not None
    a, ref_a = node.spawn(me, _nothing, (), True, True, "spawn")
    b, ref_b = node.spawn(me, _nothing, (), link=True, monitor=True, what="spawn")
    _c, ref_c = node.spawn(me, _nothing, ())
    assert type(ref_a) is Ref and type(ref_b) is Ref and ref_c is None
    assert sorted(me.links or ()) == sorted([a, b])
    downs = [await receive(Down(r, ANY, ANY, ANY)) for r in (ref_a, ref_b)]
    assert [d.pid for d in downs] == [a, b]
    with pytest.raises(TypeError):
        twice: dict[str, Any] = {"link": True}
        node.spawn(me, _nothing, (), True, **twice)  # given twice, as Python says


async def test_spawn_of_other_callables_and_errors_are_the_python_ones() -> None:
    async def add(x: int, y: int, parent: tether.Pid) -> None:
        tether.send(parent, x + y)

    spawn(functools.partial(add, 1, 2), self())
    assert await receive() == 3

    def not_async() -> None:
        return None

    with pytest.raises(TypeError, match="is not an async function"):
        cast(Any, spawn)(not_async)
    with pytest.raises(TypeError):
        cast(Any, spawn)(add, 1)  # the call itself raises, in the caller


async def test_the_spawn_counter_counts_each_spawn_once() -> None:
    node = _node()
    before = node.spawns
    spawn(_nothing)
    spawn_link(_nothing)
    spawn_monitor(_nothing)
    assert node.spawns == before + 3


def test_process_exit_and_exit_signal_keep_reason_and_args() -> None:
    e = ProcessExit(("shutdown", 1))
    assert e.reason == ("shutdown", 1) and e.args == (("shutdown", 1),)
    assert repr(e) == "ProcessExit(('shutdown', 1))"
    s = ExitSignal("kill")
    assert s.reason == "kill" and s.args == ("kill",)


def test_the_native_core_takes_spawn_and_the_hashes() -> None:
    if _core.native is None:
        assert _n.Node.spawn.__code__.co_name == "spawn"
        return
    assert type(_n.Node.__dict__["spawn"]).__name__ == "instancemethod"


async def _link_to_then_wait(other: tether.Pid) -> None:
    Process.link(other)
    await receive()


async def test_an_exit_travels_a_chain_of_links_with_its_reason_l11() -> None:
    Process.flag("trap_exit", True)
    me = self()
    first = spawn(_wait)
    second = spawn(_link_to_then_wait, first)
    third = spawn(_link_to_then_wait, second)
    await tether.testing.wait_all_blocked()
    Process.link(third)
    Process.exit(first, "boom")
    # S-9: dead as soon as the exit signal returns, the whole chain.
    assert [Process.alive(p) for p in (first, second, third)] == [False, False, False]
    assert await receive(Exit(third, ANY)) == Exit(third, "boom")
    assert Process.info(me, "links") == []
    assert all(p not in _node().table for p in (first, second, third))


async def _monitor_then_wait(target: tether.Pid, parent: tether.Pid) -> None:
    Process.monitor(target)
    tether.send(parent, "monitoring")
    await receive()


async def test_a_dying_watcher_leaves_its_targets_monitored_by_m1() -> None:
    target = spawn(_wait)
    watcher = spawn(_monitor_then_wait, target, self())
    assert await receive() == "monitoring"
    assert Process.info(target, "monitored_by") == [watcher]
    Process.exit(watcher, "kill")
    assert Process.info(target, "monitored_by") == []
    assert Process.alive(target) is True
    Process.exit(target, "kill")


async def test_a_dead_process_counters_move_to_the_node_totals() -> None:
    node = _node()
    before = (node.received_by_dead, node.reductions_of_dead)
    pid = spawn(_wait)
    await tether.testing.wait_all_blocked()
    tether.send(pid, "a")  # its receive takes it: it returns (E-8)
    await tether.testing.wait_all_blocked()
    assert Process.alive(pid) is False
    # One message received; two steps (the start, the resume with "a").
    assert (node.received_by_dead, node.reductions_of_dead) == (before[0] + 1, before[1] + 2)
