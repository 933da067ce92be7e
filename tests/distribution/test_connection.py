"""The connection itself: malformed frames, size limits, ticks, hidden/visible
(issue: distribution, parts 1, 2 and 5)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import struct
from typing import Any

import pytest

import tether
from tether import ANY, Atom, Node, receive, rpc
from tether._runtime import _node as _n
from tether.testing import wait_all_blocked

from ..conftest import Factory
from .conftest import Peer, Twin, ev, run_node, start_elixir

pytestmark = pytest.mark.timeout(120)


def _conn(name: str) -> Any:
    return _n.NODE.dist.connections[name]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("frame", "what"),
    [
        (struct.pack(">I", 9) + b"p\x83\x68\x01\x61\xff\x00\x00\x00", "bytes after"),
        (struct.pack(">I", 3) + b"\x83\x61\x01", "unexpected frame type"),
        (struct.pack(">I", 4) + b"p\x83\x6c\xff", "truncated"),
        (struct.pack(">I", 0x7FFFFFFF), "over the limit"),
    ],
)
def test_a_malformed_frame_closes_that_connection_only(twin: Twin, frame: bytes, what: str) -> None:
    """A peer that breaks the protocol is cut off; both nodes keep running and
    reconnect on the next use.  (The twin is the receiving side here.)"""

    async def main() -> tuple[Any, ...]:
        Node.monitor(twin.name, True)
        assert await rpc.call(twin.name, "pool", "square", [3]) == 9
        _conn(twin.name).writer.write(frame)  # raw bytes on the wire
        down = await receive(("nodedown", ANY), timeout=10)
        again = await rpc.call(twin.name, "pool", "square", [4])
        return down, again

    down, again = run_node(main)
    assert down == ("nodedown", Atom(twin.name))
    assert again == 16


def test_d4_a_silent_peer_is_dropped_after_net_ticktime(twin: Twin) -> None:
    """Ticks: a peer that stops answering (SIGSTOP) is declared down."""

    async def main() -> Any:
        assert await Node.connect(twin.name)
        Node.monitor(twin.name, True)
        os.kill(twin.proc.pid, signal.SIGSTOP)
        try:
            return await receive(("nodedown", ANY), timeout=10)
        finally:
            os.kill(twin.proc.pid, signal.SIGCONT)

    assert run_node(main, net_ticktime=1.0) == ("nodedown", Atom(twin.name))


def test_ticks_keep_an_idle_connection_to_elixir_alive(epmd_port: int) -> None:
    """Both sides tick (net_ticktime 1 s): 3 s of silence and still connected."""
    peer = start_elixir(epmd_port, erl_args="-kernel net_ticktime 1")
    try:

        async def main() -> tuple[Any, ...]:
            assert await Node.connect(peer.name)
            Node.monitor(peer.name, True)
            try:
                got = await receive(("nodedown", ANY), timeout=3)
            except TimeoutError:
                got = None
            return got, Node.list("connected"), await ev(peer, "length(Node.list(:connected))")

        assert run_node(main, net_ticktime=1.0) == (None, [Atom(peer.name)], 1)
    finally:
        peer.kill()


def test_visible_node_is_in_elixir_node_list(ex: Peer) -> None:
    async def main() -> tuple[Any, ...]:
        assert await Node.connect(ex.name)
        theirs = await ev(ex, f':"{tether.node()}" in Node.list()')
        return theirs, Node.list(), Node.list("hidden"), Node.list(["this", "visible"])

    theirs, visible, hidden, both = run_node(main, hidden=False)
    assert (theirs, visible, hidden) == (True, [Atom(ex.name)], [])
    assert both[1:] == [Atom(ex.name)] and both[0].startswith("py")


def test_hidden_node_is_not_in_elixir_node_list(ex: Peer) -> None:
    async def main() -> tuple[Any, ...]:
        assert await Node.connect(ex.name)
        return (
            await ev(ex, f':"{tether.node()}" in Node.list()'),
            await ev(ex, f':"{tether.node()}" in Node.list(:hidden)'),
        )

    assert run_node(main) == (False, True)


def test_node_functions_check_their_arguments() -> None:
    async def main() -> list[str]:
        out = []
        for call in (
            lambda: Node.disconnect(42),  # type: ignore[arg-type]
            lambda: Node.list("everything"),
            lambda: Node.monitor("x@y", "yes"),  # type: ignore[arg-type]
        ):
            try:
                call()
            except (TypeError, ValueError) as e:
                out.append(str(e))
        return out

    assert tether.run(main) == [
        "Node.disconnect: node must be a node name like 'name@host', got 42",
        "Node.list: kind must be one of visible, hidden, connected, this, known (or a list), "
        "got 'everything'",
        "Node.monitor: flag must be bool, got 'yes'",
    ]


def test_not_distributed_node() -> None:
    async def main() -> tuple[Any, ...]:
        Node.monitor("x@127.0.0.1", True)
        down = await receive(("nodedown", ANY), timeout=0)
        return tether.node(), Node.alive(), await Node.connect("x@127.0.0.1"), Node.list(), down

    assert tether.run(main) == ("nonode@nohost", False, False, [], ("nodedown", "x@127.0.0.1"))


def test_run_argument_errors() -> None:
    async def main() -> None:
        pass

    with pytest.raises(ValueError, match="cookie= needs name="):
        tether.run(main, cookie="c")
    with pytest.raises(ValueError, match="name must be 'name' or 'name@host'"):
        tether.run(main, name="bad name")
    with pytest.raises(ValueError, match="net_ticktime must be a positive number"):
        tether.run(main, name="x", net_ticktime=0)


def test_a_name_already_registered_is_refused(twin: Twin) -> None:
    async def main() -> None:
        pass

    with pytest.raises(OSError, match="refused to register"):
        tether.run(main, name=twin.name, cookie="c")
    # and the OS process can run a node again afterwards
    assert tether.run(main) is None


def test_d4_one_nodedown_per_monitor_call(twin: Twin) -> None:
    async def main() -> list[Any]:
        assert await Node.connect(twin.name)
        Node.monitor(twin.name, True)
        Node.monitor(twin.name, True)
        Node.monitor(twin.name, True)
        Node.monitor(twin.name, False)  # removes one of the three
        assert Node.disconnect(twin.name) is True
        got = [await receive(("nodedown", ANY), timeout=5) for _ in range(2)]
        with contextlib.suppress(TimeoutError):
            got.append(await receive(("nodedown", ANY), timeout=0.2))
        return got

    assert run_node(main) == [("nodedown", Atom(twin.name))] * 2


def test_monitor_nodes_reports_every_nodeup_and_nodedown(twin: Twin) -> None:
    async def main() -> list[Any]:
        Node.monitor_nodes(True)
        assert await Node.connect(twin.name)
        Node.disconnect(twin.name)
        assert await Node.connect(twin.name)
        got = [await receive(timeout=5) for _ in range(3)]
        Node.monitor_nodes(False)
        Node.disconnect(twin.name)
        with contextlib.suppress(TimeoutError):
            got.append(await receive(timeout=0.2))
        return got

    node = Atom(twin.name)
    assert run_node(main) == [("nodeup", node), ("nodedown", node), ("nodeup", node)]


def test_a_peers_message_is_handled_and_its_receiver_run_within_the_read(
    twin: Twin, loop_factory: Factory
) -> None:
    """The turn a read's messages wake runs at the end of that read (one pass of
    the event loop a message); from inside an asyncio task, where no process step
    can run, the turn is scheduled as usual.  Either way the message arrives."""
    from tether._dist.node import SEND_SENDER_OP

    async def waiter(log: list[Any]) -> None:
        while True:
            log.append(await receive())

    async def main() -> tuple[Any, ...]:
        assert await Node.connect(twin.name)
        node = _n.NODE
        dist = node.dist  # type: ignore[union-attr]
        proto = _conn(twin.name).transport.get_protocol()
        log: list[Any] = []
        to = tether.spawn(waiter, log)
        peer_pid = tether.Pid(5, 0, twin.name, 1)
        loop = asyncio.get_running_loop()
        seen: list[Any] = []

        def frame(msg: Any) -> bytes:
            return dist._frame_for((SEND_SENDER_OP, peer_pid, to), msg, True)  # type: ignore[union-attr, no-any-return]

        def from_callback() -> None:
            proto.data_received(frame("in a callback"))
            seen.append((list(log), node.scheduled))

        async def from_task() -> None:
            proto.data_received(frame("in a task"))
            seen.append((list(log), node.scheduled))

        loop.call_soon(from_callback)
        await wait_all_blocked()
        await asyncio.ensure_future(from_task())
        await wait_all_blocked()
        return tuple(seen), tuple(log)

    seen, log = run_node(main, loop_factory=loop_factory)
    assert seen == (
        (["in a callback"], False),  # ran before data_received returned
        (["in a callback"], True),  # queued: the turn comes after the task's step
    )
    assert log == ("in a callback", "in a task")
