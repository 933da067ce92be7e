"""A hand-driven peer on a raw loopback socket: the hostile peer of the tests.

It speaks the distribution protocol itself (handshake version 6, then frames), so
a test can send exactly the bytes it wants: a well-formed handshake with a wrong
cookie, a control message whose fields have the wrong type, a flood, or nothing
at all.  It runs as asyncio code inside a process of the node under test (one
event loop), talking to that node's own listening port.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import struct
from typing import Any, Final

from tether import Atom, Pid, Ref
from tether._dist import epmd
from tether._dist import node as dn
from tether._dist.etf import Codec
from tether._runtime import _node as _n

NO_PAYLOAD: Final = object()
FLAGS: Final = dn.OUR_FLAGS  # what tether offers satisfies what it requires


def digest(challenge: int, cookie: str) -> bytes:
    return hashlib.md5(cookie.encode("latin-1") + str(challenge).encode()).digest()


def the_dist() -> dn.Dist:
    dist = _n.NODE.dist  # type: ignore[union-attr]
    assert isinstance(dist, dn.Dist)
    return dist


def ours(pid: Pid) -> Pid:
    """``pid`` (of the node under test) as this peer must write it: with its node."""
    d = the_dist()
    return Pid(pid.id, pid.serial, Atom(d.name), d.creation)


def our_ref(n: int) -> Ref:
    """A reference of the node under test, as this peer must write it."""
    d = the_dist()
    return Ref((1 << 96) | n, Atom(d.name), d.creation)


class RawPeer:
    """One connection, as the peer node ``name`` (``creation`` 7)."""

    def __init__(self, name: str, cookie: str, creation: int = 7) -> None:
        self.name = Atom(name)
        self.cookie = cookie
        self.creation = creation
        self.codec = Codec(name, creation)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def pid(self, n: int) -> Pid:
        """A pid of this peer node."""
        return Pid(n, 0, self.name, self.creation)

    def ref(self, n: int) -> Ref:
        """A reference made by this peer node (decoded form)."""
        return Ref((1 << 96) | n, self.name, self.creation)

    # -- handshake -------------------------------------------------------------

    async def _msg(self) -> bytes:
        assert self.reader is not None
        size = struct.unpack(">H", await self.reader.readexactly(2))[0]
        return await self.reader.readexactly(size)

    def _send_hs(self, body: bytes) -> None:
        assert self.writer is not None
        self.writer.write(struct.pack(">H", len(body)) + body)

    async def open(self, port: int | None = None) -> None:
        """Open the TCP connection to the node under test (no handshake yet)."""
        self.reader, self.writer = await asyncio.open_connection(
            "127.0.0.1", port or the_dist().port
        )

    async def send_name(self, flags: int = FLAGS) -> bytes:
        """Send ``send_name``; return the status the node answers (``b"sok"``...)."""
        if self.writer is None:
            await self.open()
        raw = self.name.encode()
        self._send_hs(b"N" + struct.pack(">QIH", flags, self.creation, len(raw)) + raw)
        return await self._msg()

    async def finish(self, status: bytes, answer_alive: bytes = b"strue") -> bool:
        """Answer the status, read the challenge, reply; True once acked (cookie
        right), False when the node hangs up (cookie wrong)."""
        if status == b"salive":
            self._send_hs(answer_alive)
        msg = await self._msg()
        assert msg[:1] == b"N", msg
        challenge = struct.unpack_from(">I", msg, 9)[0]
        mine = secrets.randbits(32)
        self._send_hs(b"r" + struct.pack(">I", mine) + digest(challenge, self.cookie))
        try:
            ack = await self._msg()
        except (asyncio.IncompleteReadError, ConnectionError):
            return False
        assert ack == b"a" + digest(mine, self.cookie), ack
        return True

    async def connect(self, port: int | None = None) -> None:
        """The whole handshake, as the connecting side; raises unless it succeeds."""
        await self.open(port)
        status = await self.send_name()
        assert status in (b"sok", b"salive"), status
        assert await self.finish(status), "handshake refused"

    async def accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """The whole handshake, as the accepting side (the node connects to us)."""
        self.reader, self.writer = reader, writer
        msg = await self._msg()
        assert msg[:1] == b"N", msg
        self._send_hs(b"sok")
        mine = secrets.randbits(32)
        raw = self.name.encode()
        self._send_hs(b"N" + struct.pack(">QIIH", FLAGS, mine, self.creation, len(raw)) + raw)
        reply = await self._msg()
        if reply[5:21] != digest(mine, self.cookie):
            return False
        theirs = struct.unpack_from(">I", reply, 1)[0]
        self._send_hs(b"a" + digest(theirs, self.cookie))
        return True

    # -- frames ------------------------------------------------------------------

    def frame(self, ctrl: Any, payload: Any = NO_PAYLOAD) -> bytes:
        body = b"p" + self.codec.encode(ctrl)
        if payload is not NO_PAYLOAD:
            body += self.codec.encode(payload)
        return struct.pack(">I", len(body)) + body

    def send(self, ctrl: Any, payload: Any = NO_PAYLOAD) -> None:
        assert self.writer is not None
        self.writer.write(self.frame(ctrl, payload))

    def send_raw(self, data: bytes) -> None:
        assert self.writer is not None
        self.writer.write(data)

    async def recv(self, timeout: float = 10) -> tuple[Any, Any] | None:
        """The next frame that is not a tick: ``(ctrl, payload)``; None at EOF."""
        assert self.reader is not None
        while True:
            try:
                head = await asyncio.wait_for(self.reader.readexactly(4), timeout)
            except (asyncio.IncompleteReadError, ConnectionError):
                return None
            size = struct.unpack(">I", head)[0]
            if size == 0:
                continue
            body = await asyncio.wait_for(self.reader.readexactly(size), timeout)
            ctrl, end = self.codec.decode_from(body, 1)
            payload = self.codec.decode_from(body, end)[0] if end < len(body) else NO_PAYLOAD
            return ctrl, payload

    async def closed_by_node(self, timeout: float = 10) -> bool:
        """True once the node has closed this connection (EOF); frames before are skipped."""
        while True:
            got = await self.recv(timeout)
            if got is None:
                return True

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def listen_as(
    peer: RawPeer,
) -> tuple[asyncio.Server, asyncio.StreamWriter, asyncio.Queue[Any]]:
    """Register ``peer`` with epmd and listen for the node to connect to it.

    Returns the server, the epmd registration (close it to unregister) and a queue
    that receives ``(reader, writer)`` for each connection the node opens."""
    conns: asyncio.Queue[Any] = asyncio.Queue()

    async def on_conn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await conns.put((reader, writer))

    server = await asyncio.start_server(on_conn, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    _reader, reg, _creation = await epmd.register(peer.name.split("@")[0], port)
    return server, reg, conns
