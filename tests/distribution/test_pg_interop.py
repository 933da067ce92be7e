"""tether.pg against real Elixir nodes: one set of groups across the cluster.

A visible tether node's scope and an Elixir node's scope of the same name share
their groups through OTP 25's pg protocol (issue #17, item 2): members of either
side are members everywhere; a member that dies leaves everywhere; the members of
a node that goes down leave; monitors see it all.
"""

from __future__ import annotations

from typing import Any

import pytest

import tether
import tether.peer
from tether import ANY, Atom, Node, Process, pg, receive, rpc

from .conftest import Peer, ev, run_node

pytestmark = pytest.mark.timeout(120)

ROOM = Atom("room")
SLEEPING = "pid = spawn(fn -> Process.sleep(:infinity) end)\n"


async def sleeper() -> None:
    await Process.sleep(None)


async def wait_for(ref: tether.Ref, action: str, pids: list[Any]) -> Any:
    """The next notification of a pg monitor: (ref, action, group, pids)."""
    return await receive((ref, action, ANY, pids), timeout=10)


def test_a_group_holds_tether_and_elixir_members_seen_alike_from_both(ex: Peer) -> None:
    async def main() -> tuple[Any, ...]:
        await ev(ex, "{:ok, _} = :pg.start(:chat); :ok")
        await pg.start_link("chat")
        ref, before = await pg.monitor_scope(scope="chat")
        assert await Node.connect(ex.name)
        mine = tether.spawn(sleeper)
        assert await pg.join(ROOM, [mine, tether.self()], scope="chat") == "ok"
        theirs = await ev(
            ex,
            SLEEPING + ":ok = :pg.join(:chat, :room, pid)\npid",
        )
        joined = await wait_for(ref, "join", [theirs])
        here = pg.get_members(ROOM, scope="chat")
        local = pg.get_local_members(ROOM, scope="chat")
        there = await ev(ex, ":pg.get_members(:chat, :room)")
        there_local = await ev(ex, ":pg.get_local_members(:chat, :room)")
        groups = (pg.which_groups(scope="chat"), await ev(ex, ":pg.which_groups(:chat)"))
        return mine, theirs, before, joined, ref, here, local, there, there_local, groups

    mine, theirs, before, joined, ref, here, local, there, there_local, groups = run_node(
        main, hidden=False
    )
    me = local[1]
    assert before == {}
    assert joined == (ref, "join", "room", [theirs])
    assert sorted(here) == sorted(there) == sorted([mine, me, theirs])
    assert local == [mine, me] and there_local == [theirs]
    assert groups == (["room"], ["room"])


def test_a_member_that_dies_leaves_on_every_node(ex: Peer) -> None:
    async def main() -> tuple[Any, ...]:
        await ev(ex, "{:ok, _} = :pg.start(:deaths); :ok")
        await pg.start_link("deaths")
        assert await Node.connect(ex.name)
        ref, _ = await pg.monitor(ROOM, scope="deaths")
        mine = tether.spawn(sleeper)
        await pg.join(ROOM, mine, scope="deaths")
        theirs = await ev(
            ex,
            "pid = spawn(fn -> Process.sleep(:infinity) end)\n"
            ":ok = :pg.join(:deaths, :room, pid)\n"
            "{mref, _} = :pg.monitor(:deaths, :room)\npid",
        )
        await wait_for(ref, "join", [theirs])
        Process.exit(mine, "kill")
        mine_left = await ev(
            ex, "receive do {^mref, :leave, :room, pids} -> pids after 10_000 -> :none end"
        )
        there_after_mine = await ev(ex, ":pg.get_members(:deaths, :room)")
        await ev(ex, "Process.exit(pid, :kill)")
        theirs_left = await wait_for(ref, "leave", [theirs])
        return (
            mine,
            theirs,
            mine_left,
            there_after_mine,
            theirs_left,
            ref,
            pg.which_groups(scope="deaths"),
        )

    mine, theirs, mine_left, there_after_mine, theirs_left, ref, groups = run_node(
        main, hidden=False
    )
    assert mine_left == [mine]
    assert there_after_mine == [theirs]
    assert theirs_left == (ref, "leave", "room", [theirs])
    assert groups == []


def test_the_members_of_a_node_that_goes_down_leave(own_ex: Peer) -> None:
    async def main() -> tuple[Any, ...]:
        await ev(own_ex, "{:ok, _} = :pg.start(:lost); :ok")
        await pg.start_link("lost")
        assert await Node.connect(own_ex.name)
        ref, _ = await pg.monitor_scope(scope="lost")
        await pg.join(ROOM, tether.self(), scope="lost")
        theirs = await ev(
            own_ex,
            "pids = for _ <- 1..2, do: spawn(fn -> Process.sleep(:infinity) end)\n"
            ":ok = :pg.join(:lost, :room, pids)\n"
            ":ok = :pg.join(:lost, :other, hd(pids))\npids",
        )
        await wait_for(ref, "join", theirs)
        await wait_for(ref, "join", theirs[:1])
        before = sorted(pg.which_groups(scope="lost"))
        own_ex.kill()
        left = sorted([await receive((ref, "leave", ANY, ANY), timeout=20) for _ in range(2)])
        return (
            theirs,
            before,
            left,
            ref,
            pg.get_members(ROOM, scope="lost"),
            pg.which_groups(scope="lost"),
        )

    theirs, before, left, ref, members, groups = run_node(main, hidden=False)
    assert before == ["other", "room"]
    assert left == [(ref, "leave", "other", theirs[:1]), (ref, "leave", "room", theirs)]
    assert members == [members[0]] and members[0].node is None
    assert groups == ["room"]


def test_a_scope_started_after_the_connection_learns_the_groups(ex: Peer) -> None:
    async def main() -> tuple[Any, ...]:
        assert await Node.connect(ex.name)
        await ev(ex, "{:ok, _} = :pg.start(:late); :ok")
        theirs = await ev(
            ex,
            SLEEPING + ":ok = :pg.join(:late, :room, pid)\npid",
        )
        await pg.start_link("late")  # discovers the Elixir scope, which syncs
        ref, _ = await pg.monitor(ROOM, scope="late")
        members = pg.get_members(ROOM, scope="late")
        if not members:
            await wait_for(ref, "join", [theirs])
            members = pg.get_members(ROOM, scope="late")
        return theirs, members

    theirs, members = run_node(main, hidden=False)
    assert members == [theirs]


def test_a_hidden_node_keeps_its_groups_to_itself(ex: Peer) -> None:
    async def main() -> tuple[Any, ...]:
        await ev(ex, "{:ok, _} = :pg.start(:hidden_scope); :ok")
        await pg.start_link("hidden_scope")
        assert await Node.connect(ex.name)
        await pg.join(ROOM, tether.self(), scope="hidden_scope")
        await ev(
            ex,
            "pid = spawn(fn -> Process.sleep(:infinity) end); :pg.join(:hidden_scope, :room, pid)",
        )
        return (
            pg.get_members(ROOM, scope="hidden_scope"),
            await ev(ex, ":pg.get_members(:hidden_scope, :room) |> length()"),
        )

    here, there = run_node(main)
    assert len(here) == 1 and here[0].node is None
    assert there == 1


def test_two_visible_tether_nodes_share_their_groups() -> None:
    async def main() -> tuple[Any, ...]:
        await pg.start_link("twins")
        ref, _ = await pg.monitor_scope(scope="twins")
        await pg.join("room", tether.self(), scope="twins")
        peer = await tether.peer.start(
            "pg_twin", imports=["tests.distribution.twin_node"], hidden=False
        )
        theirs = await rpc.call(peer.node, "pool", "pg_join", ["twins", "room"])
        joined = await wait_for(ref, "join", [theirs])
        members = pg.get_members("room", scope="twins")
        await peer.stop()
        left = await wait_for(ref, "leave", [theirs])
        return theirs, joined, members, left, ref, pg.get_members("room", scope="twins")

    theirs, joined, members, left, ref, after = run_node(main, hidden=False)
    assert theirs.node.startswith("pg_twin@")
    assert joined == (ref, "join", "room", [theirs])
    assert members == [theirs, tether.Pid(members[1].id, members[1].serial)]
    assert left == (ref, "leave", "room", [theirs])
    assert after == members[1:]
