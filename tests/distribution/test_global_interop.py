"""tether.global_ against real Elixir nodes: one name table for the whole cluster.

A visible tether node runs OTP 25's ``global`` protocol (issue #17, item 1): names
registered on either side are found, called and monitored from the other; a node
that goes takes its names with it; the global lock is one lock; and when two
clusters that both hold a name join, the clash is settled as OTP settles it — by
the node whose name sorts first, with the name's resolve function, run on the node
of the pid that holds it (over rpc when that is another node).

Elixir names are atoms, so the tether side names them with ``Atom``: a plain
``str`` is a binary on the wire (``"jobs"`` in Elixir), a different name.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import tether
from tether import ANY, Atom, Down, GenServer, Node, Process, Reply, global_, receive, send

from .conftest import COOKIE, Peer, ev, run_node, start_elixir, unique

pytestmark = pytest.mark.timeout(120)

EX_ECHO = """
defmodule ExEcho do
  use GenServer
  def init(arg), do: {:ok, arg}
  def handle_call(req, _from, s), do: {:reply, {:ex_echo, node(), req}, s}
end
"""


class Echo(GenServer):
    def handle_call(self, request: Any, from_: Any, state: Any, /) -> Any:
        return Reply(("echo", tether.node(), request), state)


async def sleeper() -> None:
    await Process.sleep(None)


# ex2 registers :clash at boot, before anyone connects to it (a test that talked to
# it first would join the two clusters early): a sleeping pid, and a watcher that
# tells how it ended.
CLASH_AT_BOOT = """
pid = spawn(fn -> Process.sleep(:infinity) end)
watcher = spawn(fn ->
  ref = Process.monitor(pid)
  receive do
    {:DOWN, ^ref, _, _, reason} -> receive do {:get, from} -> send(from, {:ended, reason}) end
  end
end)
:yes = :global.register_name(:clash, pid)
"""
HOW_IT_ENDED = (
    "send(watcher, {:get, self()}); receive do {:ended, r} -> r after 10_000 -> :alive end"
)


async def settled(*peers: Peer) -> None:
    """Wait until every exchange of names in flight has ended, on this node and on
    ``peers``: a registration on a node takes the global lock on every node it
    knows, so it completes only once no synchronisation holds it there, and each
    synchronisation releases the lock only after it has sent its results."""
    assert await global_.register_name(("probe", tether.node()), tether.self()) == "yes"
    for peer in peers:
        await ev(peer, ":yes = :global.register_name({:probe, node()}, self())")


@pytest.fixture
def two_ex(epmd_port: int) -> Iterator[tuple[Peer, Peer]]:
    """Two Elixir nodes of the test's own, not connected to each other; the names
    sort ex1 < ex2 < any "py..." node, and the second holds :clash."""
    a = start_elixir(epmd_port, prefix="exa")
    try:
        b = start_elixir(epmd_port, prefix="exb", boot=CLASH_AT_BOOT)
        try:
            yield a, b
        finally:
            b.kill()
    finally:
        a.kill()


def test_a_name_registered_on_tether_is_found_and_called_from_elixir_and_back(ex: Peer) -> None:
    async def main() -> tuple[Any, ...]:
        assert await Node.connect(ex.name)
        _, pid = await Echo.start_link(name=("global", Atom("py_echo")))
        await global_.sync()
        there = await ev(ex, ":global.sync(); :global.whereis_name(:py_echo)")
        called = await ev(ex, "GenServer.call({:global, :py_echo}, :hi)")
        via = await ev(ex, "GenServer.call({:via, :global, :py_echo}, :via)")
        await ev(ex, EX_ECHO + "{:ok, _} = GenServer.start(ExEcho, nil, name: {:global, :ex_echo})")
        await global_.sync()
        theirs = global_.whereis_name(Atom("ex_echo"))
        back = await GenServer.call(("global", Atom("ex_echo")), "hello")
        back_via = await GenServer.call(("via", global_, Atom("ex_echo")), "via")
        ref = Process.monitor(("global", Atom("ex_echo")))
        await ev(ex, ":yes = :global.register_name(:ex_peer, self())")
        await global_.sync()
        send(("global", Atom("ex_peer")), ("hello", tether.self()))
        got = await ev(ex, 'receive do {"hello", from} -> from end')
        names = sorted(global_.registered_names())
        theirs_names = await ev(ex, ":global.registered_names() |> Enum.sort()")
        await ev(ex, "GenServer.stop({:global, :ex_echo})")
        down = await receive(Down(ref, ANY, ANY, ANY), timeout=10)
        return pid, there, called, via, theirs, back, back_via, got, names, theirs_names, down, ref

    pid, there, called, via, theirs, back, back_via, got, names, theirs_names, down, ref = run_node(
        main, hidden=False
    )
    assert there == pid
    assert called == ("echo", called[1], "hi") and called[1].startswith("py")
    assert via == ("echo", called[1], "via")
    assert theirs.node == ex.name
    assert back == ("ex_echo", ex.name, "hello")
    assert back_via == ("ex_echo", ex.name, "via")
    assert got.node is None  # the sender, a tether pid, came back as this node's
    assert names == theirs_names == ["ex_echo", "ex_peer", "py_echo"]
    assert down == Down(ref, "process", theirs, "normal")


def test_unregister_and_re_register_reach_every_node(ex: Peer) -> None:
    async def main() -> tuple[Any, ...]:
        assert await Node.connect(ex.name)
        mine = tether.spawn(sleeper)
        assert await global_.register_name(Atom("moving"), mine) == "yes"
        await global_.sync()
        taken = await ev(ex, ":global.sync(); :global.register_name(:moving, self())")
        moved = await ev(ex, "{:global.re_register_name(:moving, self()), self()}")
        after_move = global_.whereis_name(Atom("moving"))
        gone = await global_.unregister_name(Atom("moving"))
        theirs = await ev(ex, ":global.whereis_name(:moving)")
        return taken, moved, after_move, gone, theirs, global_.whereis_name(Atom("moving"))

    taken, moved, after_move, gone, theirs, here = run_node(main, hidden=False)
    assert taken == "no"
    assert moved[0] == "yes" and after_move == moved[1]
    assert (gone, theirs, here) == ("ok", "undefined", None)


def test_the_names_of_a_node_that_goes_down_are_removed(own_ex: Peer) -> None:
    async def main() -> tuple[Any, ...]:
        assert await Node.connect(own_ex.name)
        pid = await ev(own_ex, "pid = spawn(fn -> Process.sleep(:infinity) end)")
        await ev(own_ex, ":yes = :global.register_name(:doomed, pid)")
        await global_.sync()
        before = global_.whereis_name(Atom("doomed"))
        Node.monitor(own_ex.name, True)
        own_ex.kill()
        await receive(("nodedown", ANY), timeout=10)
        await Process.sleep(0.1)  # the server's monitor of the pid fires noconnection
        return pid, before, global_.whereis_name(Atom("doomed")), global_.registered_names()

    pid, before, after, names = run_node(main, hidden=False)
    assert (before, after, names) == (pid, None, [])


def test_a_clash_is_settled_by_the_elixir_node_that_sorts_first(
    two_ex: tuple[Peer, Peer],
) -> None:
    """Two clusters, {tether, ex1} and {ex2}, hold :clash; tether joins ex2.  ex2's
    name sorts before tether's ("ex..." < "py..."), so ex2 resolves with its own
    entry's function, OTP's random_exit_name: the pid of the node that sorts
    last is killed, and everywhere the survivor is the name's pid."""
    ex1, ex2 = two_ex

    async def main() -> tuple[Any, ...]:
        assert await Node.connect(ex1.name)
        mine = tether.spawn(sleeper)
        ref = Process.monitor(mine)
        assert await global_.register_name(Atom("clash"), mine) == "yes"
        await ev(ex1, ":global.sync()")
        assert await Node.connect(ex2.name)  # the clusters join
        down = await receive(Down(ref, ANY, ANY, ANY), timeout=20)
        await settled(ex1, ex2)
        views = [
            global_.whereis_name(Atom("clash")),
            await ev(ex1, ":global.whereis_name(:clash)"),
            await ev(ex2, ":global.whereis_name(:clash)"),
        ]
        theirs = await ev(ex2, "pid")
        alive = await ev(ex2, "Process.alive?(pid)")
        return mine, ref, down, theirs, views, alive, sorted(Node.list())

    mine, ref, down, theirs, views, alive, nodes = run_node(main, hidden=False)
    assert down == Down(ref, "process", mine, "killed")
    assert views == [theirs, theirs, theirs] and alive is True
    assert nodes == sorted([ex1.name, ex2.name])  # global connected the two clusters


def test_a_clash_is_settled_by_tether_when_its_name_sorts_first(
    two_ex: tuple[Peer, Peer],
) -> None:
    """The same clash from a tether node named "a...": tether resolves, with its
    own entry's function (random_exit_name, run here), and kills the Elixir pid."""
    ex1, ex2 = two_ex

    async def main() -> tuple[Any, ...]:
        assert await Node.connect(ex1.name)
        mine = tether.spawn(sleeper)
        assert await global_.register_name(Atom("clash"), mine) == "yes"
        await ev(ex1, ":global.sync()")
        assert await Node.connect(ex2.name)  # the clusters join
        ended = await ev(ex2, HOW_IT_ENDED, timeout=20)
        await settled(ex1, ex2)
        views = [
            global_.whereis_name(Atom("clash")),
            await ev(ex1, ":global.whereis_name(:clash)"),
            await ev(ex2, ":global.whereis_name(:clash)"),
        ]
        return mine, ended, views, Process.alive(mine)

    mine, ended, views, alive = tether.run(main, name=unique("a"), cookie=COOKIE, hidden=False)
    assert ended == "killed"
    assert views == [mine, mine, mine] and alive is True


def test_elixir_runs_a_python_resolve_function_on_tether_over_rpc(
    two_ex: tuple[Peer, Peer],
) -> None:
    """Clusters {tether, ex1} and {ex2} join when ex1 connects to ex2: ex1 sorts
    first and its entry is tether's pid, so it calls global:resolve_it on tether,
    which runs the Python function the name was registered with."""
    ex1, ex2 = two_ex

    async def main() -> tuple[Any, ...]:
        me = tether.self()

        def keep_the_elixir_one(name: Any, pid1: tether.Pid, pid2: tether.Pid) -> tether.Pid:
            send(me, ("resolving", name, pid1, pid2))
            return pid1 if pid1.node is not None else pid2

        assert await Node.connect(ex1.name)
        mine = tether.spawn(sleeper)
        assert await global_.register_name(Atom("clash"), mine, keep_the_elixir_one) == "yes"
        await ev(ex1, ":global.sync()")
        assert await ev(ex1, f'Node.connect(:"{ex2.name}")') is True  # the clusters join
        resolving = await receive(("resolving", ANY, ANY, ANY), timeout=20)
        await settled(ex1, ex2)
        views = [
            global_.whereis_name(Atom("clash")),
            await ev(ex1, ":global.whereis_name(:clash)"),
            await ev(ex2, ":global.whereis_name(:clash)"),
        ]
        theirs = await ev(ex2, "pid")
        return mine, theirs, resolving, views, Process.alive(mine)

    mine, theirs, resolving, views, alive = run_node(main, hidden=False)
    assert resolving == ("resolving", "clash", theirs, mine)
    assert views == [theirs, theirs, theirs]
    assert alive is True  # this resolve function kills nobody


def test_the_global_lock_is_one_lock_for_tether_and_elixir(ex: Peer) -> None:
    async def main() -> tuple[Any, ...]:
        assert await Node.connect(ex.name)
        await global_.sync()
        nodes = [tether.node(), Atom(ex.name)]
        held = await global_.set_lock((Atom("printer"), "py"), nodes)
        theirs_blocked = await ev(
            ex, ":global.set_lock({:printer, :ex}, [node() | Node.list()], 0)"
        )
        again = await global_.set_lock((Atom("printer"), "py"), nodes, 0)  # same requester
        await global_.del_lock((Atom("printer"), "py"), nodes)
        theirs_free = await ev(ex, ":global.set_lock({:printer, :ex}, [node() | Node.list()], 0)")
        mine_blocked = await global_.set_lock((Atom("printer"), "py"), nodes, 0)
        await ev(ex, ":global.del_lock({:printer, :ex}, [node() | Node.list()])")
        in_trans = await global_.trans((Atom("printer"), "py"), lambda: "printed", nodes, 0)
        return held, theirs_blocked, again, theirs_free, mine_blocked, in_trans

    assert run_node(main, hidden=False) == (True, False, True, True, False, "printed")


def test_a_hidden_node_keeps_its_global_names_to_itself(ex: Peer) -> None:
    async def main() -> tuple[Any, ...]:
        assert await Node.connect(ex.name)
        mine = tether.spawn(sleeper)
        assert await global_.register_name(Atom("hidden_name"), mine) == "yes"
        await ev(ex, "pid = spawn(fn -> Process.sleep(:infinity) end)")
        await ev(ex, ":yes = :global.register_name(:ex_only, pid)")
        theirs = await ev(ex, ":global.whereis_name(:hidden_name)")
        return global_.registered_names(), theirs, await global_.sync()

    assert run_node(main) == (["hidden_name"], "undefined", "ok")


def test_a_lost_connection_report_makes_tether_ask_that_node_to_disconnect(
    own_ex: Peer, caplog: pytest.LogCaptureFixture
) -> None:
    """prevent_overlapping_partitions (OTP 25's default): told that node A lost node
    B, a node connected to B asks B to disconnect from it ({remove_connection, me}),
    and B does."""

    async def main() -> tuple[Any, ...]:
        assert await Node.connect(own_ex.name)
        await global_.sync()
        Node.monitor(own_ex.name, True)
        me = tether.node()
        # own_ex reports, as a node "a@nowhere" would, that a lost own_ex.
        await ev(
            own_ex,
            f'send({{:global_name_server, :"{me}"}}, '
            f'{{:lost_connection, :"a@nowhere", 1, 1, node()}}); :ok',
        )
        down = await receive(("nodedown", ANY), timeout=10)
        return me, down

    me, down = run_node(main, hidden=False)
    assert down == ("nodedown", own_ex.name)
    assert [r.getMessage() for r in caplog.records if "overlapping" in r.getMessage()] == [
        f"'global' at node {me} requested disconnect from node {own_ex.name} in order to "
        "prevent overlapping partitions"
    ]
