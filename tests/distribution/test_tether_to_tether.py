"""Two tether nodes on loopback (issue: distribution; D-1, D-5)."""

from __future__ import annotations

import time
from typing import Any

import pytest

import tether
import tether.peer
from tether import ANY, Atom, Exit, Node, Process, Supervisor, receive, rpc

from ..conftest import Factory, kind_of, loop_kind
from .conftest import Twin, run_node

pytestmark = pytest.mark.timeout(120)


def test_d1_supervisor_restarts_a_worker_on_the_other_node_after_noconnection(twin: Twin) -> None:
    async def main() -> tuple[Any, ...]:
        me = tether.self()

        async def start_remote_worker() -> Any:
            return ("ok", await Node.spawn_link(twin.name, "pool", "worker", [me]))

        spec = {"id": "remote_worker", "start": (start_remote_worker, ())}
        _, sup = await Supervisor.start_link([spec], strategy="one_for_one")
        _, first, where = await receive(("worker_up", ANY, ANY), timeout=10)
        Node.disconnect(twin.name)  # the supervisor's link gets noconnection (D-1)
        _, second, where2 = await receive(("worker_up", ANY, ANY), timeout=10)
        children = await Supervisor.which_children(sup)
        # Reconnected (by the restart's spawn): ask the twin what is alive there.
        alive = await rpc.call(twin.name, "pool", "workers", [])
        return first, where, second, where2, children, alive

    first, where, second, where2, children, alive = run_node(main)
    assert where == where2 == Atom(twin.name)
    assert first != second and first.node == second.node == twin.name
    assert children == [("remote_worker", second, "worker", [children[0][3][0]])]
    # The old worker died of noconnection on its side; only the new one runs.
    assert alive == [second]


def test_pool_rpc_and_monitor_between_tether_nodes(twin: Twin, loop_factory: Factory) -> None:
    async def main() -> tuple[Any, ...]:
        squares = [await rpc.call(twin.name, "pool", "square", [i]) for i in range(5)]
        pid = await Node.spawn(twin.name, "pool", "worker", [tether.self()])
        await receive(("worker_up", pid, ANY), timeout=10)
        ref = Process.monitor(pid)
        Process.exit(pid, "kill")
        down = await receive(tether.Down(ref, ANY, ANY, ANY), timeout=10)
        Process.flag("trap_exit", True)
        pid2 = await Node.spawn_link(twin.name, "pool", "worker", [tether.self()])
        await receive(("worker_up", pid2, ANY), timeout=10)
        Process.exit(pid2, ("custom", 2))
        ex = await receive(Exit(pid2, ANY), timeout=10)
        return squares, down, ref, pid, ex

    squares, down, ref, pid, ex = run_node(main, loop_factory=loop_factory)
    assert squares == [0, 1, 4, 9, 16]
    assert down == tether.Down(ref, "process", pid, "killed")
    assert ex.reason == ("custom", 2)


def test_peer_nodes_start_answer_and_stop(loop_factory: Factory) -> None:
    """tether.peer (Erlang's :peer): a child node, reachable, gone after stop; it
    runs on the kind of event loop its parent runs on."""

    async def main() -> tuple[Any, ...]:
        p = await tether.peer.start("child", imports=["tests.distribution.twin_node"])
        square = await rpc.call(p.node, "pool", "square", [12])
        kinds = (loop_kind(), await rpc.call(p.node, "pool", "loop_kind", []))
        Node.monitor(p.node, True)
        status = await p.stop()
        down = await receive(("nodedown", ANY), timeout=10)
        return p.node, square, kinds, status, down

    node, square, kinds, status, down = run_node(main, loop_factory=loop_factory)
    assert node.startswith("child@")
    assert kinds == (kind_of(loop_factory),) * 2
    assert (square, down) == (144, ("nodedown", node))
    assert status in (0, -15)


def test_peer_start_errors() -> None:
    async def main() -> list[str]:
        out = []
        for name in ("child", "x@y"):
            try:
                await tether.peer.start(name)
            except (RuntimeError, ValueError) as e:
                out.append(str(e))
        return out

    assert tether.run(main) == [
        "peer.start: this node is not distributed; start it with tether.run(..., name=...)",
        "peer.start: this node is not distributed; start it with tether.run(..., name=...)",
    ]

    async def named() -> str:
        try:
            await tether.peer.start("x@y")
        except ValueError as e:
            return str(e)
        return "no error"

    assert run_node(named) == "peer.start: name must be the part before '@', got 'x@y'"


def test_simultaneous_connects_settle_on_one_connection(twin: Twin) -> None:
    """Both nodes connect to each other at the same moment, ten times: the
    handshake's tie-break leaves one connection, nothing is lost, and no
    nodedown is reported but the ones for our own disconnects."""

    async def main() -> list[Any]:
        me = tether.node()
        out = []
        for i in range(10):
            when = time.time() + 0.15
            await Node.spawn(twin.name, "pool", "hello_at", [("inbox", me), when])
            Node.monitor(twin.name, True)
            assert Node.disconnect(twin.name) is True
            out.append(await receive(("nodedown", ANY), timeout=5))
            await Process.sleep(max(0.0, when - time.time()))
            square = await rpc.call(twin.name, "pool", "square", [i])  # we connect ...
            hello = await receive(("hello", ANY), timeout=10)  # ... and so do they
            out.append((square, hello))
        Node.monitor(twin.name, True)
        await Process.sleep(0.3)
        assert Node.list("connected") == [Atom(twin.name)]
        return out

    async def with_inbox() -> list[Any]:
        Process.register(tether.self(), "inbox")
        return await main()

    out = run_node(with_inbox)
    down = ("nodedown", Atom(twin.name))
    assert out == [x for i in range(10) for x in (down, (i * i, ("hello", Atom(twin.name))))]


def test_a_burst_of_messages_and_a_large_one_arrive_whole_and_in_order(twin: Twin) -> None:
    """5,000 messages of mixed sizes and one of 3 MiB, sent without waiting:
    frames split across socket reads are reassembled, nothing lost or reordered."""

    async def main() -> tuple[int, bool]:
        echo = await Node.spawn(twin.name, "pool", "echo", [])
        me = tether.self()
        sizes = [1, 10, 1000, 70_000]
        payloads: list[Any] = [("m", i, b"\xff" * sizes[i % 4]) for i in range(5000)]
        payloads.append(("big", -1, b"\xfe" * (3 << 20)))
        for m in payloads:
            tether.send(echo, (me, m))
        got = [await receive(timeout=60) for _ in payloads]
        tether.send(echo, "stop")
        return len(got), got == payloads

    assert run_node(main) == (5001, True)


def test_send_after_to_a_pid_or_a_name_on_another_node_fires_there(twin: Twin) -> None:
    async def main() -> list[Any]:
        me = tether.self()
        Process.register(me, "inbox")
        echo = await Node.spawn(twin.name, "pool", "echo", [])
        # The echo sends each payload back: to our pid, and to our name on our node.
        Process.send_after(echo, (me, "by pid"), 0.05)
        Process.send_after(echo, (("inbox", str(tether.node())), "to our name"), 0.05)
        got = sorted([await receive(timeout=30), await receive(timeout=30)])
        tether.send(echo, "stop")
        return got

    assert run_node(main) == ["by pid", "to our name"]
