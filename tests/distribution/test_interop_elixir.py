"""tether against a real Elixir node (peer.exs), both directions (issue: distribution).

Each test runs a fresh tether node (``run_node``) and drives the Elixir peer with
``ev`` (Code.eval_string over the wire).  The rule IDs are SEMANTICS.md's.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

import tether
from tether import ANY, Atom, Down, Exit, GenServer, Node, Process, Reply, receive, rpc, send
from tether.etf import BitBinary, ImproperList

from ..conftest import Factory
from .conftest import COOKIE, Peer, ev, ev_arg, run_node

pytestmark = pytest.mark.timeout(120)


def me() -> str:
    return f':"{tether.node()}"'


def test_ping_both_ways(ex: Peer) -> None:
    async def main() -> tuple[Any, ...]:
        pong = await Node.ping(ex.name)
        back = await ev(ex, f"Node.ping({me()})")
        # A hidden node (the default) is in :hidden/:connected, not in the visible list.
        return pong, back, Node.list(), Node.list("hidden"), Node.list("connected")

    assert run_node(main) == ("pong", "pong", [], [ex.name], [ex.name])


def test_ping_unknown_node_is_pang(ex: Peer) -> None:
    async def main() -> Any:
        return await Node.ping("nobody@127.0.0.1")

    assert run_node(main) == "pang"


def test_send_both_ways_by_pid_and_by_name(ex: Peer, loop_factory: Factory) -> None:
    async def main() -> tuple[Any, ...]:
        Process.register(tether.self(), "py_main")
        await ev(ex, f"send({{:py_main, {me()}}}, {{:by_name, self()}})")
        by_name = await receive(("by_name", ANY))
        peer_pid = by_name[1]
        send(peer_pid, ("hello", tether.self()))  # to an Elixir pid
        got = await ev(
            ex, 'receive do {"hello", from} -> send(from, {:thanks, node(from)}); :sent end'
        )
        thanks = await receive(("thanks", ANY))
        return got, thanks, peer_pid.node

    got, thanks, node = run_node(main, loop_factory=loop_factory)
    assert got == "sent"
    assert node == Atom(ex.name)
    assert thanks == ("thanks", tether.Atom(thanks[1]))
    assert thanks[1].startswith("py")


def test_term_mapping_round_trip(ex: Peer) -> None:
    """The documented mapping: every common type arrives as its Python value and
    goes back as the same term (Elixir compares with ===)."""

    async def main() -> tuple[Any, Any]:
        value = await ev(
            ex,
            '{:atom, true, false, nil, 1, -5, 1_000_000_000_000_000_000_000, 2.5, "héllo", '
            '<<255, 0>>, <<1::3>>, [1, 2, 3], [1 | :tail], %{"k" => [%{}], 1 => {}}, '
            "'chars', &String.upcase/1, self(), make_ref()}",
        )
        send(("peer", ex.name), (Atom("eval"), tether.self(), "receive do v -> v end"))
        # the peer is now waiting in receive: send the value back
        send(value[16], value)
        echoed = await receive((Atom("result"), ANY))
        return value, echoed[1]

    value, echoed = run_node(main)
    assert value[:11] == (
        Atom("atom"),
        True,
        False,
        None,
        1,
        -5,
        10**21,
        2.5,
        "héllo",
        b"\xff\x00",
        BitBinary(b"\x20", 3),
    )
    assert value[11] == [1, 2, 3]
    assert value[12] == ImproperList([1], Atom("tail"))
    assert value[13] == {"k": [{}], 1: ()}
    assert value[14] == [99, 104, 97, 114, 115]
    assert repr(value[15]) == "&Elixir.String.upcase/1"
    assert isinstance(value[16], tether.Pid) and isinstance(value[17], tether.Ref)
    assert echoed == value


class Counter(GenServer):
    def init(self, n: int) -> Any:
        return tether.Ok(n)

    def handle_call(self, req: Any, from_: Any, n: int) -> Any:
        if req == "inc":
            return Reply(n + 1, n + 1)
        return Reply(("unknown", req), n)


def test_python_genserver_called_from_elixir(ex: Peer) -> None:
    async def main() -> tuple[Any, ...]:
        ok, pid = await Counter.start_link(10, name="counter")
        by_name = await ev(ex, f"GenServer.call({{:counter, {me()}}}, :inc)")
        by_pid = await ev_arg(ex, "GenServer.call(arg, :inc)", pid)
        other = await ev_arg(ex, "GenServer.call(arg, {:what, 1})", pid)
        # erlang:whereis/1 is one of the read-only built-ins every node answers
        where = await ev(ex, f":rpc.call({me()}, :erlang, :whereis, [:counter])")
        return ok, by_name, by_pid, other, where == pid

    assert run_node(main) == ("ok", 11, 12, ("unknown", ("what", 1)), True)


def test_elixir_genserver_called_from_python(ex: Peer) -> None:
    async def main() -> tuple[Any, ...]:
        await ev(
            ex,
            "{:ok, _} = Agent.start(fn -> [] end, name: :stack_agent); "
            "defmodule Stack do use GenServer; "
            "def init(s), do: {:ok, s}; "
            "def handle_call(:pop, _from, [h | t]), do: {:reply, h, t}; "
            "def handle_call({:push, x}, _from, s), do: {:reply, :ok, [x | s]} end; "
            "{:ok, pid} = GenServer.start(Stack, [1], name: :stack); pid",
        )
        pushed = await GenServer.call(("stack", ex.name), (Atom("push"), 7))
        popped = await GenServer.call(("stack", ex.name), Atom("pop"))
        pid = await ev(ex, "Process.whereis(:stack)")
        again = await GenServer.call(pid, Atom("pop"))
        GenServer.cast(pid, "ignored")
        return pushed, popped, again

    assert run_node(main) == ("ok", 7, 1)


def test_g8_genserver_call_to_unknown_remote_name_exits_noproc(ex: Peer) -> None:
    async def main() -> Any:
        try:
            await GenServer.call(("no_such_server", ex.name), "hi", timeout=5)
        except tether.ProcessExit as e:
            return e.reason
        return "no exit"

    assert run_node(main) == ("noproc", ("GenServer.call", ("no_such_server", ex.name), "hi", 5))


def test_links_both_ways_with_reasons(ex: Peer) -> None:
    """L-1 and §1.1 across nodes: trapping sides get EXIT with the exact reason."""

    async def main() -> tuple[Any, ...]:
        Process.flag("trap_exit", True)
        # Python links to an Elixir process that exits with a reason.
        epid = await ev(ex, "spawn(fn -> receive do r -> exit(r) end end)")
        Process.link(epid)
        send(epid, ("custom", 1))
        py_side = await receive(Exit(epid, ANY), timeout=10)

        # Elixir links to a Python process that exits with a reason.
        async def victim() -> None:
            await receive(lambda m: m == "go")
            tether.exit(("bye", [1]))

        vpid = tether.spawn(victim)
        ex_side = await ev_arg(
            ex,
            'Process.flag(:trap_exit, true); Process.link(arg); send(arg, "go"); '
            "r = receive do {:EXIT, ^arg, r} -> r end; Process.flag(:trap_exit, false); r",
            vpid,
        )
        return py_side, ex_side

    py_side, ex_side = run_node(main)
    assert py_side.reason == ("custom", 1)
    assert ex_side == ("bye", [1])


def test_kill_across_nodes_and_normal_is_dropped(ex: Peer) -> None:
    """E-2 and §1.1 row 1 across nodes."""

    async def main() -> tuple[Any, ...]:
        epid = await ev(ex, "spawn(fn -> Process.sleep(:infinity) end)")
        mon = Process.monitor(epid)
        Process.exit(epid, "normal")  # dropped: not trapping
        Process.exit(epid, "kill")
        down = await receive(Down(mon, ANY, ANY, ANY), timeout=10)

        async def sleeper() -> None:
            await Process.sleep(None)

        spid = tether.spawn(sleeper)
        ref = Process.monitor(spid)
        await ev_arg(ex, "Process.exit(arg, :kill)", spid)
        down2 = await receive(Down(ref, ANY, ANY, ANY), timeout=10)
        return down.reason, down2.reason

    assert run_node(main) == ("killed", "killed")


def test_monitors_both_ways(ex: Peer) -> None:
    """M-1, M-4, M-11 across nodes: DOWN with the reason; noproc; by name."""

    async def main() -> tuple[Any, ...]:
        epid = await ev(ex, "spawn(fn -> receive do r -> exit(r) end end)")
        ref = Process.monitor(epid)
        send(epid, Atom("shutdown"))
        d1 = await receive(Down(ref, ANY, ANY, ANY), timeout=10)
        # a dead remote pid: noproc
        ref2 = Process.monitor(epid)
        d2 = await receive(Down(ref2, ANY, ANY, ANY), timeout=10)
        # by name on the remote node
        await ev(
            ex,
            "pid = spawn(fn -> receive do r -> exit(r) end end); "
            "Process.register(pid, :named); pid",
        )
        ref3 = Process.monitor(("named", ex.name))
        send(("named", ex.name), "boom")
        d3 = await receive(Down(ref3, ANY, ANY, ANY), timeout=10)
        # demonitor: nothing arrives
        epid4 = await ev(ex, "spawn(fn -> receive do r -> exit(r) end end)")
        ref4 = Process.monitor(epid4)
        removed = Process.demonitor(ref4)
        send(epid4, "x")

        # Elixir monitors a Python process
        async def victim() -> None:
            await receive(lambda m: m == "go")
            raise ValueError("nope")

        vpid = tether.spawn(victim)
        ex_down = await ev_arg(
            ex,
            'ref = Process.monitor(arg); send(arg, "go"); '
            "receive do {:DOWN, ^ref, :process, obj, r} -> {obj, r} end",
            vpid,
        )
        return d1, d2, d3, removed, ex_down, vpid, epid, ref, ref2, ref3

    d1, d2, d3, removed, ex_down, vpid, epid, ref, ref2, ref3 = run_node(main)
    assert d1 == Down(ref, "process", epid, "shutdown")
    assert d2 == Down(ref2, "process", epid, "noproc")
    assert d3 == Down(ref3, "process", (Atom("named"), Atom(ex.name)), "boom")
    assert removed is True
    obj, reason = ex_down
    assert obj == vpid
    exc, stack = reason
    assert exc[Atom("__struct__")] == "Elixir.Tether.PythonError"
    assert (exc[Atom("type")], exc[Atom("message")], stack) == ("ValueError", "nope", [])


def test_elixir_monitors_python_name_noproc_and_by_name(ex: Peer) -> None:
    async def main() -> tuple[Any, ...]:
        gone = await ev(
            ex,
            f"ref = Process.monitor({{:nobody_here, {me()}}}); "
            "receive do {:DOWN, ^ref, :process, obj, r} -> {obj, r} end",
        )

        async def named() -> None:
            Process.register(tether.self(), "py_named")
            await receive(lambda m: m == "stop")

        tether.spawn(named)
        await Process.sleep(0.01)
        by_name = await ev(
            ex,
            f'ref = Process.monitor({{:py_named, {me()}}}); send({{:py_named, {me()}}}, "stop"); '
            "receive do {:DOWN, ^ref, :process, obj, r} -> {obj, r} end",
        )
        return gone, by_name

    gone, by_name = run_node(main)
    node = Atom(str(gone[0][1]))
    assert gone == ((Atom("nobody_here"), node), "noproc")
    assert by_name == ((Atom("py_named"), node), "normal")


def test_unlink_then_exit_gives_nothing(ex: Peer) -> None:
    """L-7 across nodes, with UNLINK_ID and its ack."""

    async def main() -> list[Any]:
        Process.flag("trap_exit", True)
        epid = await ev(ex, "spawn(fn -> receive do r -> exit(r) end end)")
        Process.link(epid)
        Process.unlink(epid)
        ref = Process.monitor(epid)
        send(epid, "after_unlink")
        await receive(Down(ref, ANY, ANY, ANY), timeout=10)
        out = []
        with contextlib.suppress(TimeoutError):
            out.append(await receive(Exit(ANY, ANY), timeout=0.3))
        return out

    assert run_node(main) == []


def test_non_trapping_python_process_dies_with_remote_linked_reason(ex: Peer) -> None:
    async def main() -> Any:
        async def linked(epid: tether.Pid) -> None:
            Process.link(epid)
            send(epid, "die")
            await Process.sleep(None)

        epid = await ev(ex, "spawn(fn -> receive do r -> exit({:remote, r}) end end)")
        _pid, ref = tether.spawn_monitor(linked, epid)
        down = await receive(Down(ref, ANY, ANY, ANY), timeout=10)
        return down.reason

    assert run_node(main) == ("remote", "die")


def test_rpc_into_python(ex: Peer) -> None:
    @rpc.expose("Elixir.PyMath")
    def add(a: int, b: int) -> int:
        return a + b

    @rpc.expose("Elixir.PyMath", name="div")
    def divide(a: int, b: int) -> float:
        return a / b

    @rpc.expose("Elixir.PyMath")
    async def slow_echo(x: Any) -> Any:
        await Process.sleep(0.01)
        return x

    async def main() -> tuple[Any, ...]:
        return (
            await ev(ex, f":rpc.call({me()}, PyMath, :add, [1, 2])"),
            await ev(ex, f":erpc.call({me()}, PyMath, :slow_echo, [%{{a: [1]}}])"),
            await ev(ex, f":rpc.call({me()}, PyMath, :div, [1, 0])"),
            await ev(ex, f':rpc.call({me()}, :os, :cmd, [~c"echo pwned"])'),
            await ev(
                ex, f"try do :erpc.call({me()}, PyMath, :nope, []) catch k, r -> {{k, r}} end"
            ),
        )

    add_, echo, div0, os_cmd, erpc_undef = run_node(main)
    assert add_ == 3
    assert echo == {Atom("a"): [1]}
    assert div0[0] == "badrpc"
    err = div0[1][1][0]
    assert (err[Atom("type")], err[Atom("message")]) == ("ZeroDivisionError", "division by zero")
    # Not on the allow-list: undef, never run.
    assert os_cmd == (
        "badrpc",
        (
            "EXIT",
            ("undef", [("os", "cmd", [[101, 99, 104, 111, 32, 112, 119, 110, 101, 100]], [])]),
        ),
    )
    assert erpc_undef == ("error", ("exception", "undef", [("Elixir.PyMath", "nope", [], [])]))


def test_python_rpc_calls_elixir(ex: Peer) -> None:
    async def main() -> tuple[Any, ...]:
        up = await rpc.call(ex.name, "Elixir.String", "upcase", ["héllo"])
        try:
            await rpc.call(ex.name, "Elixir.String", "no_such_fun", [])
        except rpc.RpcError as e:
            undef = (e.kind, e.reason)
        try:
            await rpc.call(ex.name, "erlang", "exit", [Atom("bye")])
        except rpc.RpcError as e:
            exited = (e.kind, e.reason)
        try:
            await rpc.call(ex.name, "erlang", "throw", [1])
        except rpc.RpcError as e:
            thrown = (e.kind, e.reason)
        try:
            await rpc.call("nobody@127.0.0.1", "erlang", "node", [])
        except rpc.RpcError as e:
            noconn = (e.kind, e.reason)
        return up, undef, exited, thrown, noconn

    up, undef, exited, thrown, noconn = run_node(main)
    assert up == "HÉLLO"
    assert undef == ("error", "undef")
    assert exited == ("exit", "bye")
    assert thrown == ("throw", 1)
    assert noconn == ("error", ("erpc", "noconnection"))


def test_remote_spawn_from_elixir_runs_only_exposed_functions(ex: Peer) -> None:
    @rpc.expose("py_worker")
    async def work(parent: tether.Pid, x: int) -> None:
        send(parent, ("worked", x * 2))

    async def main() -> tuple[Any, ...]:
        ok = await ev(
            ex, f"Node.spawn({me()}, :py_worker, :work, [self(), 21]); receive do m -> m end"
        )
        bad = await ev(
            ex,
            f"{{pid, ref}} = Node.spawn_monitor({me()}, :py_worker, :missing, [1]); "
            "receive do {:DOWN, ^ref, :process, ^pid, r} -> r end",
        )
        return ok, bad

    ok, bad = run_node(main)
    assert ok == ("worked", 42)
    assert bad == ("undef", [("py_worker", "missing", [1], [])])


def test_python_spawns_on_elixir(ex: Peer) -> None:
    async def main() -> tuple[Any, ...]:
        Process.flag("trap_exit", True)
        pid = await Node.spawn_link(ex.name, "erlang", "exit", [Atom("spawned_exit")])
        e = await receive(Exit(pid, ANY), timeout=10)
        return pid.node, e.reason

    node, reason = run_node(main)
    assert reason == "spawned_exit"
    assert node.startswith("ex")


def test_d1_d2_d4_d5_noconnection_when_the_peer_os_process_is_killed(own_ex: Peer) -> None:
    """D-1, D-2, D-4, D-5: links, monitors, node monitors and a call in flight."""

    async def main() -> tuple[Any, ...]:
        Process.flag("trap_exit", True)
        epid = await ev(own_ex, "spawn(fn -> Process.sleep(:infinity) end)")
        await ev(
            own_ex,
            "defmodule Slow do use GenServer; def init(s), do: {:ok, s}; "
            "def handle_call(_, _, s), do: {:noreply, s} end; "
            "{:ok, _} = GenServer.start(Slow, 0, name: :slow); :ok",
        )
        Process.link(epid)
        ref = Process.monitor(epid)
        Node.monitor(own_ex.name, True)

        async def caller(parent: tether.Pid) -> None:
            try:
                await GenServer.call(("slow", own_ex.name), ("get", "never answered"), timeout=None)
            except tether.ProcessExit as e:
                send(parent, ("call_exit", e.reason))

        tether.spawn(caller, tether.self())
        await Process.sleep(0.2)
        own_ex.kill()
        got = [await receive(timeout=10) for _ in range(4)]
        return epid, ref, got

    epid, ref, got = run_node(main)
    node = Atom(own_ex.name)
    assert Exit(epid, "noconnection") in got
    assert Down(ref, "process", epid, "noconnection") in got
    assert ("nodedown", node) in got
    call_exit = next(m for m in got if type(m) is tuple and m[0] == "call_exit")
    assert call_exit[1] == (
        ("nodedown", node),
        ("GenServer.call", ("slow", node), ("get", "never answered"), None),
    )


def test_d3_link_and_monitor_to_a_node_that_is_down(ex: Peer) -> None:
    """D-3: link/monitor on a pid of a node that cannot be reached."""

    ghost = tether.Pid(100, 0, Atom("ghost@127.0.0.1"))

    async def main() -> tuple[Any, ...]:
        Process.flag("trap_exit", True)
        Process.link(ghost)
        ref = Process.monitor(ghost)
        got = [await receive(timeout=10), await receive(timeout=10)]
        return ref, got

    ref, got = run_node(main)
    assert sorted(got, key=lambda m: type(m).__name__) == [
        Down(ref, "process", ghost, "noconnection"),
        Exit(ghost, "noconnection"),
    ]


def test_wrong_cookie_to_elixir_is_refused(ex: Peer) -> None:
    """tether with a wrong cookie connecting to Elixir: refused, the node runs on."""

    async def main() -> tuple[Any, ...]:
        out = await Node.connect(ex.name)
        pong = await Node.ping(ex.name)
        return out, pong, Node.list("connected")

    assert run_node(main, cookie="wrong-cookie") == (False, "pang", [])


def test_wrong_cookie_from_elixir_is_refused(ex: Peer) -> None:
    """Elixir connecting with a wrong cookie: tether refuses the handshake."""

    async def main() -> tuple[Any, ...]:
        # The peer uses a wrong cookie for our node only, tries, then restores it
        # so that its answer can reach us.
        res = await ev(
            ex,
            f"Node.disconnect({me()}); :erlang.set_cookie({me()}, :not_the_cookie); "
            f'r = Node.connect({me()}); :erlang.set_cookie({me()}, :"{COOKIE}"); r',
        )
        # Refused, and this node runs on: the peer (right cookie again) still gets in.
        again = await ev(ex, f"Node.ping({me()})")
        return res, again

    assert run_node(main) == (False, "pong")


def test_d6_signals_between_two_nodes_are_ordered_per_pair(ex: Peer) -> None:
    """D-6 (and S-3 across nodes): 500 messages each way arrive in send order, and a
    process's last messages arrive before its exit signal and its DOWN."""

    async def main() -> tuple[Any, ...]:
        Process.flag("trap_exit", True)
        collector = await ev(
            ex,
            "spawn(fn -> l = for _ <- 1..500, do: (receive do {:n, i} -> i end); "
            "exit({:got, l}) end)",
        )
        Process.link(collector)
        for i in range(500):
            send(collector, (Atom("n"), i))
        from_py = await receive(Exit(collector, ANY), timeout=20)

        back = await ev_arg(
            ex,
            "for i <- 1..500, do: send(arg, {:m, i}); :sent",
            tether.self(),
        )
        from_ex = [(await receive((Atom("m"), ANY), timeout=20))[1] for _ in range(500)]
        # the Elixir side links a Python process that sends, then exits
        words = await ev_arg(
            ex,
            "Process.flag(:trap_exit, true); me = self(); "
            "pid = Node.spawn_link(node(arg), :py_order, :last_words, [me]); "
            "msgs = for _ <- 1..4, do: (receive do m -> m end); "
            "Process.flag(:trap_exit, false); {pid, msgs}",
            tether.self(),
        )
        return from_py.reason, back, from_ex, words

    @rpc.expose("py_order")
    async def last_words(parent: tether.Pid) -> None:
        for i in range(3):
            send(parent, ("word", i))
        tether.exit("done")

    from_py, back, from_ex, (pid, msgs) = run_node(main)
    assert from_py == ("got", list(range(500)))
    assert back == "sent"
    assert from_ex == list(range(1, 501))
    assert msgs == [("word", 0), ("word", 1), ("word", 2), ("EXIT", pid, "done")]


def test_read_only_erlang_builtins_answer_and_can_be_withdrawn(ex: Peer) -> None:
    async def main() -> tuple[Any, ...]:
        Process.register(tether.self(), "main_proc")
        got = await ev(
            ex,
            f"n = {me()}; {{:rpc.call(n, :erlang, :node, []), :rpc.call(n, :erlang, :nodes, []), "
            ":rpc.call(n, :erlang, :registered, []) |> Enum.sort(), "
            ":rpc.call(n, :erlang, :whereis, [:nobody]), "
            "length(:rpc.call(n, :erlang, :processes, [])) > 1}",
        )
        rpc.unexpose("erlang", "node")
        try:
            gone = await ev(ex, f":rpc.call({me()}, :erlang, :node, [])")
        finally:
            rpc.expose("erlang", "node")(tether.node)
        return got, gone

    got, gone = run_node(main)
    node, nodes, registered, nobody, many = got
    assert node.startswith("py") and nodes == [] and nobody == "undefined" and many is True
    assert registered == ["main_proc", "net_kernel"]
    assert gone == ("badrpc", ("EXIT", ("undef", [("erlang", "node", [], [])])))
