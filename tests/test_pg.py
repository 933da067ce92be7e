"""tether.pg on one node (issue #17, item 2): scopes, groups, monitors.

The cluster half (other nodes' members, node loss) is
``tests/distribution/test_pg_interop.py`` against real Elixir nodes; the BEAM's own
trace of these calls is the conformance pair ``pg01_process_groups``.
"""

from __future__ import annotations

import logging

import pytest

import tether
from tether import ANY, Process, ProcessExit, Supervisor, pg, receive, self, send, spawn
from tether.testing import wait_all_blocked

from .conftest import mailbox_now, wait_forever


async def test_start_link_registers_the_scope_and_a_second_start_is_already_started() -> None:
    ok, scope = await pg.start_link()
    assert (ok, Process.whereis("pg")) == ("ok", scope)
    assert await pg.start_link() == ("error", ("already_started", scope))
    ok, chat = await pg.start("chat")
    assert ok == "ok" and Process.whereis("chat") == chat
    assert self() in Process.info(scope, "links") and self() not in Process.info(chat, "links")


async def test_members_are_listed_newest_first_once_per_join() -> None:
    await pg.start_link()
    a, b = spawn(wait_forever), spawn(wait_forever)
    assert await pg.join("workers", a) == "ok"
    assert await pg.join("workers", [b, a]) == "ok"
    assert pg.get_members("workers") == [b, a, a]
    assert pg.get_local_members("workers") == [b, a, a]
    assert await pg.leave("workers", a) == "ok"  # one membership
    assert pg.get_members("workers") == [b, a]
    assert await pg.leave("workers", [a, b]) == "ok"
    assert pg.get_members("workers") == []
    assert pg.which_groups() == []
    assert await pg.leave("workers", a) == "not_joined"


async def test_a_member_that_dies_leaves_every_group_it_joined() -> None:
    await pg.start_link()
    a = spawn(wait_forever)
    await pg.join("g1", a)
    await pg.join("g2", a)
    await pg.join("g2", self())
    assert sorted(pg.which_groups()) == ["g1", "g2"]
    Process.exit(a, "kill")
    await wait_all_blocked()
    assert (pg.get_members("g1"), pg.get_members("g2"), pg.which_groups()) == (
        [],
        [self()],
        ["g2"],
    )


async def test_scopes_keep_separate_groups() -> None:
    await pg.start_link()
    await pg.start_link("other")
    await pg.join("g", self(), scope="other")
    assert pg.get_members("g", scope="other") == [self()]
    assert pg.get_members("g") == []
    assert pg.which_groups(scope="other") == ["g"]
    assert pg.which_local_groups(scope="other") == ["g"]


async def test_monitors_see_joins_and_leaves_and_demonitor_flushes_their_messages() -> None:
    await pg.start_link()
    a = spawn(wait_forever)
    await pg.join("g", a)
    ref, groups = await pg.monitor_scope()
    gref, members = await pg.monitor("g")
    assert (groups, members) == ({"g": [a]}, [a])
    await pg.join("h", self())
    await pg.leave("g", a)
    assert await mailbox_now() == [
        (ref, "join", "h", [self()]),
        (ref, "leave", "g", [a]),
        (gref, "leave", "g", [a]),
    ]
    await pg.join("g", a)
    assert await pg.demonitor(ref) == "ok"
    assert await pg.demonitor(ref) is False
    assert await mailbox_now() == [(gref, "join", "g", [a])]  # ref's join was flushed
    assert await pg.demonitor(gref) == "ok"
    await pg.leave("g", a)
    assert await mailbox_now() == []


async def test_a_monitor_ends_with_the_process_that_holds_it() -> None:
    await pg.start_link()
    me = self()

    async def watcher() -> None:
        send(me, await pg.monitor_scope())
        await wait_forever()

    w = spawn(watcher)
    ref, _ = await receive((tether.Ref, ANY))
    Process.exit(w, "kill")
    await wait_all_blocked()
    assert await pg.demonitor(ref) is False  # the scope dropped it


async def test_readers_of_a_scope_that_is_not_running() -> None:
    assert pg.get_members("g") == []
    assert pg.get_local_members("g", scope="nowhere") == []
    with pytest.raises(ValueError, match="pg.which_groups: no scope 'pg' is running"):
        pg.which_groups()
    with pytest.raises(ProcessExit) as e:
        await pg.join("g", self())
    assert e.value.reason == ("noproc", ("GenServer.call", "pg", ("join_local", "g", self()), None))


async def test_a_stopped_scope_takes_its_groups_with_it() -> None:
    _, scope = await pg.start("temp")
    await pg.join("g", self(), scope="temp")
    Process.exit(scope, "kill")
    await wait_all_blocked()
    assert pg.get_members("g", scope="temp") == []
    await pg.start("temp")
    assert pg.which_groups(scope="temp") == []


async def test_bad_arguments_raise_before_the_scope_is_asked() -> None:
    await pg.start_link()
    with pytest.raises(TypeError, match="pg.join: pids must be a pid or a list of pids"):
        await pg.join("g", "me")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="pg.join: pids must be a pid or a list of pids"):
        await pg.join("g", [self(), "me"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="pg.leave: .* is a pid of another node"):
        await pg.leave("g", tether.Pid(1, 0, "elsewhere@host"))
    with pytest.raises(TypeError, match="pg.join: group must be a value other nodes can read"):
        await pg.join(object(), self())
    with pytest.raises(TypeError, match="pg.start_link: scope must be a non-empty str"):
        await pg.start_link(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="pg.demonitor: ref must be a tether.Ref"):
        await pg.demonitor("ref")  # type: ignore[arg-type]
    assert pg.which_groups() == []


async def test_a_scope_logs_and_drops_a_message_it_does_not_know(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, scope = await pg.start_link()
    await pg.join("g", self())
    send(scope, ("join", "not a pid", "g", []))
    send(scope, "garbage")
    await wait_all_blocked()
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [
        "pg scope pg: unexpected message ('join', 'not a pid', 'g', [])",
        "pg scope pg: unexpected message 'garbage'",
    ]
    assert pg.get_members("g") == [self()]


async def test_a_scope_runs_under_a_supervisor() -> None:
    _, sup = await Supervisor.start_link([pg.child_spec("supervised")], strategy="one_for_one")
    [(cid, pid, kind, _)] = await Supervisor.which_children(sup)
    assert (cid, kind, Process.whereis("supervised")) == ("supervised", "worker", pid)
