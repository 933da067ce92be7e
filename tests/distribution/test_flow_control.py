"""Flow control on a connection (issue #12 item 5): the busy limit on output, the
input limit on what waits unread.

A raw peer on loopback plays the slow side.  The kernel's socket buffers (which
autotune to megabytes on loopback) are made small so that the node's own buffer
fills after a few hundred kilobytes; the waits are for events, polled, with
generous timeouts.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

import tether
from tether import Atom, Pid, Process, receive, send, spawn
from tether._dist import node as dn

from ..conftest import Factory
from .conftest import COOKIE, run_node
from .hostile import RawPeer, ours, the_dist
from .test_hostile import peer_name

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("epmd_port")]

CHUNK = b"x" * 10_000


async def until(cond: Any, timeout: float = 20) -> None:
    """Wait (polling every 10 ms) until ``cond()`` holds; fail after ``timeout`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not cond():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


def shrink_buffers(transport: Any, peer: RawPeer) -> None:
    """Small kernel buffers on both ends, so user-space buffers fill quickly."""
    transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    assert peer.writer is not None
    sock = peer.writer.transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)


async def _flood(to: Pid, n: int, parent: Pid) -> None:
    for i in range(n):
        send(to, (i, CHUNK))
        send(parent, ("sent", i))
        await asyncio.sleep(0)  # one send a step: suspension takes effect at a step


def test_d6_a_process_sending_on_a_busy_connection_is_suspended_until_it_drains(
    loop_factory: Factory,
) -> None:
    """D-6: "distributed sends can block the sender for flow control"; the order
    per pair holds across the suspension."""
    limit = 32 << 10

    async def main() -> tuple[Any, ...]:
        peer = RawPeer(peer_name("slow"), COOKIE)
        await peer.connect()
        conn = the_dist().connections[peer.name]
        await until(lambda: conn.up)
        shrink_buffers(conn.transport, peer)
        n = 12  # 120 kB: past the limit and the (shrunk) kernel buffers together
        me = tether.self()
        sender = spawn(_flood, peer.pid(1), n, me)
        await until(lambda: Process.info(sender, "status") == "suspended")
        buffered = conn.transport.get_write_buffer_size()
        sent = sum(1 for m in Process.info(me, "messages") if m[0] == "sent")
        # the peer now reads everything: the sender goes on to the end
        got = []
        while len(got) < n:
            frame = await peer.recv()
            assert frame is not None
            got.append(frame[1][0])
        await until(lambda: not Process.alive(sender))
        return buffered, sent, n, got

    buffered, sent, n, got = run_node(main, dist_buf_busy_limit=limit, loop_factory=loop_factory)
    assert limit < buffered <= limit + len(CHUNK) + 100  # stopped at the first send past it
    assert sent < n
    assert got == list(range(n))  # nothing lost or reordered by the suspension


def test_a_caller_that_is_not_a_process_gets_a_future_that_completes_on_drain(
    loop_factory: Factory,
) -> None:
    async def main() -> tuple[Any, ...]:
        peer = RawPeer(peer_name("slow"), COOKIE)
        await peer.connect()
        dist = the_dist()
        conn = dist.connections[peer.name]
        await until(lambda: conn.up)
        shrink_buffers(conn.transport, peer)
        results: list[Any] = []
        loop = asyncio.get_running_loop()
        # sends from a loop callback: no process is running
        for i in range(12):
            loop.call_soon(lambda i=i: results.append(dist.send(Pid(1), peer.pid(1), (i, CHUNK))))
        await until(lambda: len(results) == 12)
        futures = [r for r in results if r is not None]
        first_busy = results.index(futures[0])
        pending = not futures[0].done()
        for _ in range(12):
            await peer.recv()
        await until(lambda: futures[0].done())
        return first_busy, pending, all(f is futures[0] for f in futures), conn.busy

    first_busy, pending, shared, busy = run_node(
        main, dist_buf_busy_limit=16 << 10, loop_factory=loop_factory
    )
    assert 0 < first_busy < 12 and pending is True and shared is True and busy is False


async def _hold_then_drain(parent: Pid) -> None:
    await receive(lambda m: m == "go")  # ignores the flood meanwhile
    n = 0
    while True:
        msg = await receive(timeout=5)
        if msg == "done":
            send(parent, ("drained", n))
            return
        n += 1


def test_the_node_stops_reading_a_connection_whose_messages_wait_unread(
    loop_factory: Factory,
) -> None:
    """The node is behind on a connection when its unread messages exceed the input
    limit: it stops reading (the peer's writes then block), does not mistake its
    own pause for the peer's silence, and reads on once they are taken."""
    limit = 256 << 10

    async def main() -> tuple[Any, ...]:
        target = spawn(_hold_then_drain, tether.self())
        peer = RawPeer(peer_name("flood"), COOKIE)
        await peer.connect()
        conn = the_dist().connections[peer.name]
        await until(lambda: conn.up)
        assert peer.writer is not None
        sent = 0
        while not conn.reading_paused:
            peer.send((dn.SEND_SENDER_OP, peer.pid(1), ours(target)), CHUNK)
            sent += 1
            try:
                await asyncio.wait_for(peer.writer.drain(), 0.2)
            except TimeoutError:
                await until(lambda: conn.reading_paused)
        queued = Process.info(target, "message_queue_len")
        unread = conn.unread_bytes
        await asyncio.sleep(2.5)  # > net_ticktime (1 s): still connected while paused
        still_up = peer.name in tether.Node.list("connected")
        peer.send((dn.SEND_SENDER_OP, peer.pid(1), ours(target)), Atom("done"))
        send(target, "go")
        drained = await receive(timeout=30)
        return sent, queued, unread, still_up, drained

    sent, queued, unread, still_up, drained = run_node(
        main, dist_input_limit=limit, net_ticktime=1, loop_factory=loop_factory
    )
    frame = len(CHUNK) + 60
    assert limit < unread <= limit + (256 << 10) + frame  # at most one socket read past it
    assert queued * frame >= unread - frame
    assert still_up is True
    assert drained == ("drained", sent)  # every message arrived once reading resumed
