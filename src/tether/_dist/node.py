"""Distribution: connections to other nodes (Erlang, Elixir, tether).

Design
------
One :class:`Dist` per distributed node owns the listening socket, the epmd
registration and one :class:`Connection` per peer.  The runtime core
(``tether._runtime._node``) stays in charge of every table; it calls into
``node.dist`` only when a signal's target lives on another node, and ``Dist``
calls back into the core (``deliver``, ``terminate``, ...) when a control message
arrives.  Both run on the node's one event loop thread, so no lock is needed and
the core's invariants (synchronous signals, a total order) hold across the wire
too: frames to one peer are written in the order the signals were made, which is
D-6's per-pair order.

Wire format: handshake version 6 (OTP 23+) with the cookie challenge, then frames
of ``4-byte length | 112 | control term | [payload term]`` ("pass-through", no
atom cache: we do not offer ``DFLAG_DIST_HDR_ATOM_CACHE`` or ``FRAGMENTS``, so
peers never send them).  An empty frame is a tick.

A connection is made on first use, as on the BEAM (auto-connect): until the
handshake ends, frames wait in ``Connection.pending``; if it fails they are
dropped and every link and monitor that points at the node gets ``noconnection``
(D-1 … D-3).  Links and monitors to remote processes are recorded only in the
local process's own tables (``links``, ``monitors``, ``monitored_by`` hold remote
pids next to local ones), so a lost connection is handled by one scan of the
process table (``_node_down``), and nothing else has to be kept in step.

Invariants
----------
* ``connections[name]`` is the one live-or-pending connection to ``name``.
* ``in_monitors[ref]`` is ``(local target pid, name or None, watcher pid)`` for
  every monitor a remote process holds on a local one; the target's
  ``monitored_by[ref]`` is the remote watcher.
* A malformed frame closes that connection only (the node keeps running).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import secrets
import shutil
import socket
import ssl
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from .._runtime._node import DEAD
from .._runtime._types import NOCONNECTION, NOPROC, Atom, Pid, Ref
from . import epmd as _epmd
from .etf import Codec, DecodeError, EncodeError, ImproperList

if TYPE_CHECKING:
    from .._runtime._node import Node, Process

logger: Final = logging.getLogger("tether.dist")

# -- distribution flags (erts/emulator/beam/dist.h) ----------------------------
PUBLISHED: Final = 0x1
EXTENDED_REFERENCES: Final = 0x4
DIST_MONITOR: Final = 0x8
FUN_TAGS: Final = 0x10
DIST_MONITOR_NAME: Final = 0x20
NEW_FUN_TAGS: Final = 0x80
EXTENDED_PIDS_PORTS: Final = 0x100
EXPORT_PTR_TAG: Final = 0x200
BIT_BINARIES: Final = 0x400
NEW_FLOATS: Final = 0x800
UNICODE_IO: Final = 0x1000
SMALL_ATOM_TAGS: Final = 0x4000
UTF8_ATOMS: Final = 0x10000
MAP_TAG: Final = 0x20000
BIG_CREATION: Final = 0x40000
SEND_SENDER: Final = 0x80000
BIG_SEQTRACE_LABELS: Final = 0x100000
EXIT_PAYLOAD: Final = 0x400000
FRAGMENTS: Final = 0x800000
HANDSHAKE_23: Final = 0x1000000
UNLINK_ID: Final = 0x2000000
MANDATORY_25_DIGEST: Final = 0x4000000
SPAWN: Final = 1 << 32
NAME_ME: Final = 1 << 33
V4_NC: Final = 1 << 34
ALIAS: Final = 1 << 35

#: What OTP 25 requires of every peer (DFLAG_DIST_MANDATORY_25).
MANDATORY_25: Final = (
    EXTENDED_REFERENCES
    | FUN_TAGS
    | EXTENDED_PIDS_PORTS
    | UTF8_ATOMS
    | NEW_FUN_TAGS
    | BIG_CREATION
    | NEW_FLOATS
    | MAP_TAG
    | EXPORT_PTR_TAG
    | BIT_BINARIES
    | HANDSHAKE_23
)
#: What tether requires of a peer: OTP 25's mandatory set, and the features every
#: OTP 23+ node has that tether's frames use (it writes PAYLOAD_EXIT, SEND_SENDER,
#: UNLINK_ID, SPAWN_REQUEST and ALIAS_SEND without checking per message).
REQUIRED: Final = (
    MANDATORY_25
    | DIST_MONITOR
    | DIST_MONITOR_NAME
    | SEND_SENDER
    | EXIT_PAYLOAD
    | UNLINK_ID
    | SPAWN
    | ALIAS
)
#: What tether offers (it handles every term and control message these name).
OUR_FLAGS: Final = (
    MANDATORY_25
    | MANDATORY_25_DIGEST
    | DIST_MONITOR
    | DIST_MONITOR_NAME
    | UNICODE_IO
    | SMALL_ATOM_TAGS
    | SEND_SENDER
    | BIG_SEQTRACE_LABELS
    | EXIT_PAYLOAD
    | UNLINK_ID
    | SPAWN
    | V4_NC
    | ALIAS
)

# -- control message operations ---------------------------------------------
LINK: Final = 1
SEND: Final = 2
EXIT: Final = 3
UNLINK: Final = 4
NODE_LINK: Final = 5
REG_SEND: Final = 6
GROUP_LEADER: Final = 7
EXIT2: Final = 8
SEND_TT: Final = 12
EXIT_TT: Final = 13
REG_SEND_TT: Final = 16
EXIT2_TT: Final = 18
MONITOR_P: Final = 19
DEMONITOR_P: Final = 20
MONITOR_P_EXIT: Final = 21
SEND_SENDER_OP: Final = 22
SEND_SENDER_TT: Final = 23
PAYLOAD_EXIT: Final = 24
PAYLOAD_EXIT_TT: Final = 25
PAYLOAD_EXIT2: Final = 26
PAYLOAD_EXIT2_TT: Final = 27
PAYLOAD_MONITOR_P_EXIT: Final = 28
SPAWN_REQUEST: Final = 29
SPAWN_REQUEST_TT: Final = 30
SPAWN_REPLY: Final = 31
SPAWN_REPLY_TT: Final = 32
ALIAS_SEND: Final = 33
ALIAS_SEND_TT: Final = 34
UNLINK_ID_OP: Final = 35
UNLINK_ID_ACK: Final = 36

PASS_THROUGH: Final = 112
#: Largest frame accepted from a peer (bytes); a bigger one closes the connection.
MAX_FRAME: Final = 128 << 20
#: Largest handshake message (they are a few dozen bytes).
MAX_HANDSHAKE: Final = 1024
HANDSHAKE_TIMEOUT: Final = 7.0

NODEDOWN: Final = Atom("nodedown")
NODEUP: Final = Atom("nodeup")
SPAWN_REPLY_ATOM: Final = Atom("spawn_reply")
OK: Final = Atom("ok")
ERROR: Final = Atom("error")
UNDEF: Final = Atom("undef")
EMPTY: Final = Atom("")


class HandshakeError(ConnectionError):
    """The handshake failed (wrong cookie, refused name, missing flags, bad frame)."""


class _Nok(Exception):
    """The peer answered ``nok``: it is connecting to us and its attempt wins."""


def digest(challenge: int, cookie: str) -> bytes:
    """The handshake digest: ``md5(cookie ++ integer_to_list(challenge))``."""
    return hashlib.md5(cookie.encode("latin-1") + str(challenge).encode()).digest()


def split_name(name: str) -> tuple[str, str]:
    """``"alive@host"`` → ``("alive", "host")``; ValueError names the problem."""
    alive, sep, host = name.partition("@")
    if not sep or not alive or not host:
        raise ValueError(f"node name {name!r} must look like 'name@host'")
    return alive, host


def full_name(name: str) -> tuple[str, bool]:
    """Complete a node name as ``erl -name``/``-sname`` do; return it and whether it is long.

    ``"py"`` becomes ``"py@<short hostname>"``; a host with a dot (or an IP
    address) makes a long name.
    """
    if not isinstance(name, str) or not name or any(c.isspace() for c in name):
        raise ValueError(f"tether.run: name must be 'name' or 'name@host', got {name!r}")
    if "@" not in name:
        host = socket.gethostname().split(".")[0]
        return f"{name}@{host}", False
    _alive, host = split_name(name)
    return name, "." in host or ":" in host


def read_cookie(cookie: str | None) -> str:
    """The cookie: the argument, else ``TETHER_COOKIE``, else ``~/.erlang.cookie``.

    As ``erl`` does, a missing ``~/.erlang.cookie`` is created with a random
    cookie, readable by the owner only.
    """
    if cookie is not None:
        if not isinstance(cookie, str) or not cookie:
            raise ValueError("tether.run: cookie must be a non-empty str")
        return cookie
    env = os.environ.get("TETHER_COOKIE")
    if env:
        return env
    path = Path.home() / ".erlang.cookie"
    try:
        text = path.read_text().strip()
        if text:
            return text
    except FileNotFoundError:
        pass
    new = "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(20))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o400)
    with os.fdopen(fd, "w") as f:
        f.write(new)
    return new


def dist_tls(
    certfile: str | os.PathLike[str],
    keyfile: str | os.PathLike[str] | None = None,
    cafile: str | os.PathLike[str] | None = None,
    *,
    verify: bool = True,
) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """TLS for distribution, compatible with Erlang's ``-proto_dist inet_tls``.

    Pass the result as ``tether.run(..., tls=...)``.  ``certfile``/``keyfile`` are
    this node's certificate and key (used as server and as client, as
    ``ssl_dist_optfile`` usually does); ``cafile`` the CA that signed the peers'.
    With ``verify`` (default) each side must present a certificate the CA
    signed; host names are not checked (node names are not host names).
    epmd stays plain TCP, as with Erlang.
    """
    if verify and cafile is None:
        raise ValueError("dist_tls: verify=True needs cafile= (the CA of the peers' certificates)")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    client = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    client.check_hostname = False
    for ctx in (server, client):
        ctx.load_cert_chain(certfile, keyfile)
        if cafile is not None:
            ctx.load_verify_locations(cafile)
        ctx.verify_mode = ssl.CERT_REQUIRED if verify else ssl.CERT_NONE
    return server, client


class Connection:
    """One peer: its handshake state, pending frames, and the reader task."""

    def __init__(self, dist: Dist, name: str) -> None:
        self.dist = dist
        self.name = Atom(name)
        self.up = False
        self.closed = False
        self.pending: list[bytes] = []
        self.writer: asyncio.StreamWriter | None = None
        self.flags = 0
        self.hidden = True
        self.task: asyncio.Task[None] | None = None
        self.tick_task: asyncio.Task[None] | None = None
        self.last_read = 0.0
        self.wrote = False
        self.connect_waiters: list[asyncio.Future[bool]] = []
        # UNLINK_ID: (local, remote) -> id of an unlink we sent and wait to be acked
        self.unlinking: dict[tuple[Pid, Pid], int] = {}

    def send(self, frame: bytes) -> None:
        """Queue or write one frame (the 4-byte length included)."""
        if self.closed:
            return
        if self.up:
            assert self.writer is not None
            self.writer.write(frame)
            self.wrote = True
        else:
            self.pending.append(frame)


class Dist:
    """The distribution controller of one node (see the module docstring)."""

    def __init__(
        self,
        node: Node,
        name: str,
        cookie: str,
        *,
        hidden: bool = True,
        net_ticktime: float = 60.0,
        tls: tuple[ssl.SSLContext, ssl.SSLContext] | None = None,
        binaries: Literal["str", "bytes"] = "str",
    ) -> None:
        self.node = node
        self.name, self.long_names = full_name(name)
        self.alive, self.host = split_name(self.name)
        self.cookie = cookie
        self.hidden = hidden
        self.net_ticktime = net_ticktime
        self.tls = tls
        self.creation = 0
        self.codec = Codec(self.name, 0, binaries=binaries, default=_python_term)
        self.connections: dict[str, Connection] = {}
        self.in_monitors: dict[Ref, tuple[Pid, str | None, Pid]] = {}
        self.node_monitors: dict[str, list[Pid]] = {}
        self.all_node_monitors: list[Pid] = []
        self.pending_spawns: dict[Ref, tuple[Pid, str, bool, bool, bool]] = {}
        self.server: asyncio.Server | None = None
        self.epmd_writer: asyncio.StreamWriter | None = None
        self.epmd_server: _epmd.EpmdServer | None = None
        self.port = 0
        self.unlink_ids = 0
        # every task this controller started and that has not ended (close() ends them)
        self.tasks: set[asyncio.Task[Any]] = set()

    def _task(self, coro: Any) -> asyncio.Task[Any]:
        t = self.node.loop.create_task(coro)
        self.tasks.add(t)
        t.add_done_callback(self.tasks.discard)
        return t

    # -- start / stop ---------------------------------------------------------

    async def start(self) -> None:
        """Listen, register with epmd (starting one if needed), adopt the name."""
        bind = "127.0.0.1" if self.host in ("127.0.0.1", "localhost") else None
        self.server = await asyncio.start_server(
            self._accepted, bind, 0, ssl=self.tls[0] if self.tls else None
        )
        self.port = int(self.server.sockets[0].getsockname()[1])
        self.epmd_writer, creation = await self._register()
        self.creation = creation
        self.codec.rename(self.name, creation)
        self.node.name = Atom(self.name)

    async def _register(self) -> tuple[asyncio.StreamWriter, int]:
        registered = await self._try_register()
        if registered is not None:
            return registered
        # No epmd: start the system one if installed, else our own, in-process.
        exe = shutil.which("epmd")
        if exe is not None:
            subprocess.run([exe, "-daemon"], check=False)
            for _ in range(50):
                registered = await self._try_register()
                if registered is not None:
                    return registered
                await asyncio.sleep(0.05)
        self.epmd_server = _epmd.EpmdServer()
        await self.epmd_server.start()
        return await _epmd.register(self.alive, self.port)

    async def _try_register(self) -> tuple[asyncio.StreamWriter, int] | None:
        """Register with epmd; None when no epmd answers (a refusal still raises)."""
        try:
            return await _epmd.register(self.alive, self.port)
        except _epmd.EpmdError:
            raise
        except OSError:
            return None

    def close(self) -> list[asyncio.Task[Any]]:
        """Stop: close every connection and the epmd registration (no signals).

        Returns the tasks it cancelled, for the caller to wait on."""
        for conn in list(self.connections.values()):
            conn.closed = True
            if conn.writer is not None:
                conn.writer.close()
        self.connections.clear()
        tasks = [t for t in self.tasks if not t.done()]
        for t in tasks:
            t.cancel()
        if self.server is not None:
            self.server.close()
        if self.epmd_writer is not None:
            self.epmd_writer.close()
        if self.epmd_server is not None:
            self.epmd_server.close()
        return tasks

    # -- connections ----------------------------------------------------------

    def connection(self, name: str) -> Connection | None:
        """The connection to ``name``, starting one if there is none (auto-connect)."""
        conn = self.connections.get(name)
        if conn is None:
            if name == self.name:
                return None
            try:
                split_name(name)
            except ValueError:
                return None
            conn = Connection(self, name)
            self.connections[name] = conn
            conn.task = self._task(self._connect(conn))
        return conn

    async def connect(self, name: str) -> bool:
        """``Node.connect``: make sure a connection to ``name`` is up."""
        if name == self.name:
            return True
        conn = self.connection(name)
        if conn is None:
            return False
        if conn.up:
            return True
        fut: asyncio.Future[bool] = self.node.loop.create_future()
        conn.connect_waiters.append(fut)
        return await fut

    async def _connect(self, conn: Connection) -> None:
        try:
            alive, host = split_name(conn.name)
            entry = await asyncio.wait_for(_epmd.port_please(alive, host), HANDSHAKE_TIMEOUT)
            if entry is None:
                raise ConnectionError(f"{conn.name} is not registered with epmd on {host}")
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, entry.port, ssl=self.tls[1] if self.tls else None),
                HANDSHAKE_TIMEOUT,
            )
            conn.writer = writer
            await asyncio.wait_for(self._handshake_out(conn, reader, writer), HANDSHAKE_TIMEOUT)
        except _Nok:
            # The peer is connecting to us at the same time and its attempt wins
            # (the greater name does): stay pending until it takes over.
            if conn.writer is not None:
                conn.writer.close()
                conn.writer = None
            await asyncio.sleep(HANDSHAKE_TIMEOUT)
            if self.connections.get(conn.name) is conn and not conn.up:
                self._lost(conn)
            return
        except (TimeoutError, OSError, asyncio.IncompleteReadError, HandshakeError) as e:
            logger.debug("connection to %s failed: %r", conn.name, e)
            if self.connections.get(conn.name) is conn:
                self._lost(conn)
            return
        except asyncio.CancelledError:
            return
        if self.connections.get(conn.name) is not conn or conn.closed:
            writer.close()  # another connection to the same node won meanwhile
            return
        self._established(conn, reader)

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn: Connection | None = None
        try:
            conn = await asyncio.wait_for(self._handshake_in(reader, writer), HANDSHAKE_TIMEOUT)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, HandshakeError) as e:
            logger.info("refused a connection: %s", e)
            writer.close()
            return
        except Exception:  # a bug here must cost one connection, never the node
            logger.exception("refused a connection: the handshake failed unexpectedly")
            writer.close()
            return
        if conn is None:
            writer.close()
            return
        old = self.connections.get(conn.name)
        if old is not None and old is not conn:
            if old.up:
                writer.close()  # another connection came up meanwhile
                return
            # Our own attempt lost the race: its queued frames and waiters move here.
            conn.pending = old.pending + conn.pending
            conn.connect_waiters = old.connect_waiters + conn.connect_waiters
            old.pending, old.connect_waiters = [], []
            old.closed = True
            if old.task is not None:
                old.task.cancel()
        self.connections[conn.name] = conn
        conn.task = asyncio.current_task()
        self._established(conn, reader)

    # -- handshake ----------------------------------------------------------------

    async def _read_hs(self, reader: asyncio.StreamReader) -> bytes:
        if self.tls:
            size = struct.unpack(">I", await reader.readexactly(4))[0]
        else:
            size = struct.unpack(">H", await reader.readexactly(2))[0]
        if size == 0 or size > MAX_HANDSHAKE:
            raise HandshakeError(f"handshake message of {size} bytes")
        return await reader.readexactly(size)

    def _write_hs(self, writer: asyncio.StreamWriter, body: bytes) -> None:
        # inet_tls_dist frames the handshake with 4 length bytes, inet_tcp_dist with 2.
        writer.write(struct.pack(">I" if self.tls else ">H", len(body)) + body)

    def _flags(self) -> int:
        return OUR_FLAGS if self.hidden else OUR_FLAGS | PUBLISHED

    def _check_flags(self, flags: int, peer: str) -> None:
        missing = REQUIRED & ~flags
        if missing:
            raise HandshakeError(
                f"{peer} lacks distribution flags {missing:#x} that tether needs (OTP 25 or newer)"
            )

    async def _handshake_out(
        self, conn: Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        name = self.name.encode("utf-8")
        self._write_hs(
            writer, b"N" + struct.pack(">QIH", self._flags(), self.creation, len(name)) + name
        )
        status = await self._read_hs(reader)
        if status[:1] != b"s":
            raise HandshakeError(f"expected a status from {conn.name}, got {status[:1]!r}")
        text = status[1:].decode("latin-1")
        if text == "alive":
            # The peer has a connection from us: true only if we know of none up
            # (the old one died on our side, or never was), else this one yields.
            other = self.connections.get(conn.name)
            if other is not None and other is not conn and other.up:
                self._write_hs(writer, b"sfalse")
                raise HandshakeError(f"{conn.name}: already connected")
            self._write_hs(writer, b"strue")
        elif text == "nok":
            raise _Nok()
        elif text not in ("ok", "ok_simultaneous"):
            raise HandshakeError(f"{conn.name} answered {text!r}")
        msg = await self._read_hs(reader)
        if msg[:1] != b"N" or len(msg) < 19:
            raise HandshakeError(f"expected a version 6 challenge from {conn.name}")
        flags, challenge, _creation, nlen = struct.unpack_from(">QIIH", msg, 1)
        peer = msg[19 : 19 + nlen].decode("utf-8", "replace")
        if peer != conn.name:
            raise HandshakeError(f"connected to {conn.name} but it calls itself {peer}")
        self._check_flags(flags, peer)
        mine = secrets.randbits(32)
        self._write_hs(writer, b"r" + struct.pack(">I", mine) + digest(challenge, self.cookie))
        ack = await self._read_hs(reader)
        if ack[:1] != b"a" or ack[1:17] != digest(mine, self.cookie):
            raise HandshakeError(f"{conn.name} did not prove it knows the cookie")
        conn.flags = flags

    async def _handshake_in(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> Connection | None:
        msg = await self._read_hs(reader)
        if msg[:1] != b"N" or len(msg) < 15:
            raise HandshakeError("peer did not send a version 6 send_name ('N')")
        flags, _creation, nlen = struct.unpack_from(">QIH", msg, 1)
        peer = msg[15 : 15 + nlen].decode("utf-8", "replace")
        try:
            split_name(peer)
        except ValueError as e:
            raise HandshakeError(f"refused a peer with a malformed name: {e}") from None
        self._check_flags(flags, peer)
        existing = self.connections.get(peer)
        if existing is not None and existing.up:
            # The peer says it restarted: the old connection is dead (its links
            # and monitors get noconnection), this one replaces it.
            self._write_hs(writer, b"salive")
            answer = await self._read_hs(reader)
            if answer != b"strue":
                return None
            self._lost(existing)
        elif existing is not None:
            if peer.encode() <= self.name.encode():
                logger.debug("simultaneous connect with %s: ours wins (nok)", peer)
                self._write_hs(writer, b"snok")
                return None
            logger.debug("simultaneous connect with %s: theirs wins", peer)
            # The greater name wins: theirs.  Ours stops; its frames move over
            # when this one is established (_accepted).
            self._write_hs(writer, b"sok_simultaneous")
            if existing.task is not None:
                existing.task.cancel()
            if existing.writer is not None:
                existing.writer.close()
                existing.writer = None
        else:
            self._write_hs(writer, b"sok")
        # A fresh record: nothing in ``connections`` changes until the peer
        # has proved it knows the cookie.
        conn = Connection(self, peer)
        conn.writer = writer
        name = self.name.encode("utf-8")
        mine = secrets.randbits(32)
        self._write_hs(
            writer,
            b"N" + struct.pack(">QIIH", self._flags(), mine, self.creation, len(name)) + name,
        )
        reply = await self._read_hs(reader)
        if reply[:1] != b"r" or len(reply) != 21 or reply[5:21] != digest(mine, self.cookie):
            raise HandshakeError(f"connection attempt from {peer} rejected: wrong cookie")
        theirs = struct.unpack_from(">I", reply, 1)[0]
        self._write_hs(writer, b"a" + digest(theirs, self.cookie))
        conn.flags = flags
        return conn

    # -- an established connection ------------------------------------------------

    def _established(self, conn: Connection, reader: asyncio.StreamReader) -> None:
        loop = self.node.loop
        conn.up = True
        conn.hidden = self.hidden or not conn.flags & PUBLISHED
        conn.last_read = loop.time()
        assert conn.writer is not None
        for frame in conn.pending:
            conn.writer.write(frame)
        conn.pending.clear()
        for fut in conn.connect_waiters:
            if not fut.done():
                fut.set_result(True)
        conn.connect_waiters.clear()
        self._tell(self.all_node_monitors, (NODEUP, conn.name))
        conn.tick_task = self._task(self._ticker(conn))
        # From here on frames are parsed in data_received (no coroutine hop per
        # frame, which halves a remote round trip); bytes that came in with the
        # handshake's last read are still in the StreamReader: hand them over.
        transport: Any = conn.writer.transport
        proto = _FrameProtocol(self, conn, transport)
        pending: bytearray = reader._buffer  # type: ignore[attr-defined]  # no public way
        leftover = bytes(pending)
        pending.clear()
        transport.set_protocol(proto)
        if leftover:
            proto.data_received(leftover)
        if reader.at_eof() or transport.is_closing():
            self._lost(conn)
            return
        transport.resume_reading()

    async def _ticker(self, conn: Connection) -> None:
        """Send a tick every net_ticktime/4 when idle; drop a silent peer."""
        loop = self.node.loop
        interval = self.net_ticktime / 4
        while not conn.closed:
            await asyncio.sleep(interval)
            if conn.closed or conn.writer is None:
                return
            if loop.time() - conn.last_read > self.net_ticktime:
                logger.warning(
                    "%s did not answer ticks for %ss: disconnecting", conn.name, self.net_ticktime
                )
                conn.writer.transport.abort()  # no waiting for a stopped peer to read
                return
            if not conn.wrote:
                conn.writer.write(b"\0\0\0\0")
            conn.wrote = False

    def _frame(self, conn: Connection, frame: bytes) -> None:
        if frame[0] != PASS_THROUGH:
            raise ProtocolError(f"unexpected frame type {frame[0]} (only pass-through 112 is used)")
        ctrl, end = self.codec.decode_from(frame, 1)
        msg: Any = None
        has_payload = end < len(frame)
        if has_payload:
            msg, end2 = self.codec.decode_from(frame, end)
            if end2 != len(frame):
                raise ProtocolError("bytes after the payload of a control message")
        if type(ctrl) is not tuple or not ctrl or type(ctrl[0]) is not int:
            raise ProtocolError(f"control message is not a tuple with an operation: {ctrl!r}")
        logger.debug("<- %s %r %r", conn.name, ctrl, msg)
        handler = _CONTROL.get(ctrl[0])
        if handler is None:
            logger.debug("ignoring control message %r from %s", ctrl, conn.name)
            return
        try:
            handler(self, conn, ctrl, msg)
        except (IndexError, TypeError, ValueError, AttributeError) as e:
            raise ProtocolError(f"malformed control message {ctrl!r}: {e}") from e

    def _lost(self, conn: Connection) -> None:
        """The connection is gone (or never came up): D-1 … D-4 for every process."""
        if conn.closed:
            return
        conn.closed = True
        was_up = conn.up
        conn.up = False
        conn.pending.clear()
        if conn.writer is not None:
            conn.writer.close()
        if conn.tick_task is not None:
            conn.tick_task.cancel()
        if self.connections.get(conn.name) is conn:
            del self.connections[conn.name]
        for fut in conn.connect_waiters:
            if not fut.done():
                fut.set_result(False)
        conn.connect_waiters.clear()
        self._node_down(conn.name, was_up)

    def _node_down(self, name: str, was_up: bool) -> None:
        node = self.node
        # Spawn requests in flight: {spawn_reply, ReqId, error, noconnection}.
        for req, (owner, where, _link, _mon, _reply) in list(self.pending_spawns.items()):
            if where == name:
                del self.pending_spawns[req]
                p = node.table.get(owner)
                if p is not None:
                    if p.monitors is not None:
                        p.monitors.pop(req, None)
                    node.deliver(p, (SPAWN_REPLY_ATOM, req, ERROR, NOCONNECTION))
        for ref, (_target, _name, watcher) in list(self.in_monitors.items()):
            if watcher.node == name:
                del self.in_monitors[ref]
        dying: list[tuple[Process, Pid]] = []
        for p in list(node.table.values()):
            if p.monitored_by:
                for ref in [r for r, w in p.monitored_by.items() if w.node == name]:
                    del p.monitored_by[ref]
            if p.monitors:
                for ref in [r for r, (t, obj) in p.monitors.items() if _node_of(t, obj) == name]:
                    node.fire_monitor(p, ref, NOCONNECTION)  # D-2
            if p.links:
                for other in [o for o in p.links if o.node == name]:
                    p.links.discard(other)
                    dying.append((p, other))
        for p, other in dying:  # D-1
            if p.state != DEAD:  # an earlier noconnection may have ended it already
                node.link_signal(p, other, NOCONNECTION)
        down = (NODEDOWN, Atom(name))
        self._tell(self.node_monitors.pop(name, []), down)  # D-4
        if was_up:
            self._tell(self.all_node_monitors, down)

    def _tell(self, watchers: list[Pid], msg: Any) -> None:
        """Deliver ``msg`` to each of ``watchers`` still alive."""
        table = self.node.table
        for watcher in list(watchers):
            w = table.get(watcher)
            if w is not None:
                self.node.deliver(w, msg)

    def _unreachable(self, name: str) -> None:
        """A signal for a node that cannot be reached (a bad name): noconnection soon."""
        self.node.loop.call_soon(self._node_down, name, False)

    def disconnect(self, name: str) -> bool:
        conn = self.connections.get(name)
        if conn is None or not conn.up:
            return False
        self._lost(conn)
        return True

    def nodes(self, kind: str) -> list[Atom]:
        ups = [c for c in self.connections.values() if c.up]
        if kind == "visible":
            return [c.name for c in ups if not c.hidden]
        if kind == "hidden":
            return [c.name for c in ups if c.hidden]
        return [c.name for c in ups]

    def monitor_nodes(self, p: Process, flag: bool) -> None:
        """``:net_kernel.monitor_nodes``: nodeup/nodedown for every node, per subscription."""
        if flag:
            self.all_node_monitors.append(p.pid)
        elif p.pid in self.all_node_monitors:
            self.all_node_monitors.remove(p.pid)

    def monitor_node(self, p: Process, name: str, flag: bool) -> None:
        if not flag:
            watchers = self.node_monitors.get(name)
            if watchers and p.pid in watchers:
                watchers.remove(p.pid)
            return
        if name == self.name:
            return
        conn = self.connection(name)
        if conn is None:
            self.node.deliver(p, (NODEDOWN, Atom(name)))
            return
        self.node_monitors.setdefault(name, []).append(p.pid)

    # -- outgoing signals (called by the runtime core) ----------------------------

    def _frame_for(
        self, ctrl: tuple[Any, ...], payload: Any = None, has_payload: bool = False
    ) -> bytes:
        c = self.codec
        out = bytearray(b"\0\0\0\0p\x83")
        c.put(out, ctrl)
        if has_payload:
            out.append(131)
            c.put(out, payload)
        struct.pack_into(">I", out, 0, len(out) - 4)
        return bytes(out)

    def _emit(self, node: str, frame: bytes) -> bool:
        """Send ``frame`` to ``node``, connecting if need be; False if it has no valid name."""
        conn = self.connection(node)
        if conn is None:
            return False
        conn.send(frame)
        return True

    def _existing(self, node: str) -> Connection | None:
        """The connection to ``node`` if there is one (no auto-connect: what a
        signal about a link or monitor needs, which no connection can hold)."""
        conn = self.connections.get(node)
        return None if conn is None or conn.closed else conn

    def send(self, sender: Pid, to: Pid, msg: Any) -> None:
        assert to.node is not None
        self._emit(to.node, self._frame_for((SEND_SENDER_OP, sender, to), msg, True))

    def reg_send(self, sender: Pid, name: str, node: str, msg: Any) -> None:
        self._emit(node, self._frame_for((REG_SEND, sender, EMPTY, Atom(name)), msg, True))

    def alias_send(self, sender: Pid, alias: Ref, msg: Any) -> None:
        assert alias.node is not None
        self._emit(alias.node, self._frame_for((ALIAS_SEND, sender, alias), msg, True))

    def exit2(self, sender: Pid, to: Pid, reason: Any) -> None:
        assert to.node is not None
        self._emit(to.node, self._reason_frame((PAYLOAD_EXIT2, sender, to), reason))

    def link(self, p: Process, to: Pid) -> None:
        assert to.node is not None
        if not self._emit(to.node, self._frame_for((LINK, p.pid, to))):
            self._unreachable(to.node)

    def unlink(self, p: Process, to: Pid) -> None:
        assert to.node is not None
        conn = self._existing(to.node)
        if conn is None:
            return
        self.unlink_ids += 1
        uid = self.unlink_ids
        conn.unlinking[(p.pid, to)] = uid
        conn.send(self._frame_for((UNLINK_ID_OP, uid, p.pid, to)))

    def _reason_frame(self, ctrl: tuple[Any, ...], reason: Any) -> bytes:
        # Exit reasons: tether's reasons are atoms written as plain str
        # ("normal", "kill", "shutdown"), so a str reason goes as an atom; a
        # Python exception goes as Elixir's crash shape {exception, stacktrace}.
        # A reason with no term (a lambda, an arbitrary object) goes as its repr
        # rather than fail a death.
        reason = exit_reason_term(reason)
        try:
            return self._frame_for(ctrl, reason, True)
        except (EncodeError, ValueError, OverflowError, struct.error):
            return self._frame_for(ctrl, repr(reason), True)

    def link_exit(self, sender: Pid, to: Pid, reason: Any) -> None:
        """A local process linked to ``to`` died with ``reason``."""
        assert to.node is not None
        conn = self._existing(to.node)
        if conn is not None:
            conn.unlinking.pop((sender, to), None)
            conn.send(self._reason_frame((PAYLOAD_EXIT, sender, to), reason))

    def monitor(self, p: Process, target: Pid | tuple[str, str], ref: Ref) -> None:
        proc: Pid | Atom
        if isinstance(target, Pid):
            node, proc = target.node, target
        else:
            node, proc = target[1], Atom(target[0])
        assert node is not None
        if not self._emit(node, self._frame_for((MONITOR_P, p.pid, proc, ref))):
            self._unreachable(node)

    def demonitor(self, p: Process, target: Any, obj: Any, ref: Ref) -> None:
        """``p`` dropped (or died with) its monitor ``ref`` on a remote target.

        ``target``/``obj`` are the monitor's entry in ``p.monitors``: a remote pid
        for a pid monitor, ``None`` and ``(name, node)`` for a name monitor, and a
        placeholder pid (id 0) while a spawn_request's monitor awaits its reply.
        """
        node = _node_of(target, obj)
        conn = None if node is None else self._existing(node)
        if conn is None:
            return
        if target is None:
            proc: Any = Atom(obj[0])  # by name
        elif target.id == 0:
            return  # a spawn that has not answered: nothing to take back yet
        else:
            proc = target
        conn.send(self._frame_for((DEMONITOR_P, p.pid, proc, ref)))

    def monitor_exit(self, target: Process, ref: Ref, watcher: Pid, reason: Any) -> None:
        """A local process that a remote one monitors died."""
        entry = self.in_monitors.pop(ref, None)
        name = entry[1] if entry is not None else None
        who: Any = Atom(name) if name is not None else target.pid
        assert watcher.node is not None
        conn = self._existing(watcher.node)
        if conn is not None:
            conn.send(self._reason_frame((PAYLOAD_MONITOR_P_EXIT, who, watcher, ref), reason))

    def spawn_request(
        self,
        p: Process,
        node: str,
        module: str,
        function: str,
        args: list[Any],
        *,
        link: bool,
        monitor: bool,
        reply_ok: bool = False,
    ) -> Ref:
        """``erlang:spawn_request/5``: the reply arrives as ``("spawn_reply", req, "ok", pid)``
        (only if ``reply_ok``) or ``("spawn_reply", req, "error", reason)``; with
        ``monitor`` the monitor's ref is ``req``."""
        req = Ref()
        opts: list[Any] = []
        if link:
            opts.append(Atom("link"))
        if monitor:
            opts.append(Atom("monitor"))
        frame = self._frame_for(
            (SPAWN_REQUEST, req, p.pid, p.pid, (Atom(module), Atom(function), len(args)), opts),
            list(args),
            True,
        )
        self.pending_spawns[req] = (p.pid, node, link, monitor, reply_ok)
        if monitor:
            placeholder = Pid(0, 0, Atom(node))
            self.node._add_remote_monitor(p, req, placeholder, placeholder)
        if not self._emit(node, frame):
            self._unreachable(node)
        return req

    # -- incoming control messages ------------------------------------------------

    def _local(self, pid: Any) -> Process | None:
        if type(pid) is not Pid or pid.node is not None:
            return None
        return self.node.table.get(pid)

    def _c_send(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        t = self._local(ctrl[2])
        if t is not None:
            self.node.deliver(t, msg)

    def _c_reg_send(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        t = self.node.names.get(ctrl[3])
        if t is not None:
            self.node.deliver(t, msg)

    def _c_alias_send(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        alias = ctrl[2]
        if isinstance(alias, Ref) and alias.node is None:
            self.node.send_alias(alias, msg)

    def _c_link(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        sender, to = ctrl[1], ctrl[2]
        t = self._local(to)
        if t is None:
            # L-4 across nodes: the linker gets an exit signal with noproc.
            conn.send(self._frame_for((PAYLOAD_EXIT, to, sender), NOPROC, True))
            return
        if t.links is None:
            t.links = {sender}
        else:
            t.links.add(sender)

    def _c_unlink_id(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        uid, sender, to = ctrl[1], ctrl[2], ctrl[3]
        t = self._local(to)
        if t is not None and t.links is not None:
            t.links.discard(sender)
        conn.send(self._frame_for((UNLINK_ID_ACK, uid, to, sender)))

    def _c_unlink_ack(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        uid, sender, to = ctrl[1], ctrl[2], ctrl[3]
        if conn.unlinking.get((to, sender)) == uid:
            del conn.unlinking[(to, sender)]

    def _c_unlink_old(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        t = self._local(ctrl[2])
        if t is not None and t.links is not None:
            t.links.discard(ctrl[1])

    def _c_exit(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        """A link exit signal: the remote ``sender`` died (L-1, §1.1 rows 9–14)."""
        sender, to = ctrl[1], ctrl[2]
        reason = msg if ctrl[0] in (PAYLOAD_EXIT, PAYLOAD_EXIT_TT) else ctrl[-1]
        if (to, sender) in conn.unlinking:
            return  # we unlinked; the signal crossed our UNLINK_ID (ignored as the BEAM does)
        t = self._local(to)
        if t is None or not t.links or sender not in t.links:
            return
        t.links.discard(sender)
        self.node.link_signal(t, sender, reason)

    def _c_exit2(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        """``Process.exit(pid, reason)`` from a remote process (§1.1 rows 1–7)."""
        sender, to = ctrl[1], ctrl[2]
        reason = msg if ctrl[0] in (PAYLOAD_EXIT2, PAYLOAD_EXIT2_TT) else ctrl[-1]
        t = self._local(to)
        if t is not None:
            self.node.receive_exit2(t, sender, reason)

    def _c_monitor(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        watcher, proc, ref = ctrl[1], ctrl[2], ctrl[3]
        name: str | None = None
        if isinstance(proc, Pid):
            t = self._local(proc)
        else:
            name = str(proc)
            t = self.node.names.get(name)
        if t is None:
            conn.send(self._frame_for((PAYLOAD_MONITOR_P_EXIT, proc, watcher, ref), NOPROC, True))
            return
        self.in_monitors[ref] = (t.pid, name, watcher)
        if t.monitored_by is None:
            t.monitored_by = {ref: watcher}
        else:
            t.monitored_by[ref] = watcher

    def _c_demonitor(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        ref = ctrl[3]
        entry = self.in_monitors.pop(ref, None)
        if entry is not None:
            t = self.node.table.get(entry[0])
            if t is not None and t.monitored_by is not None:
                t.monitored_by.pop(ref, None)

    def _c_monitor_exit(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        watcher, ref = ctrl[2], ctrl[3]
        reason = msg if ctrl[0] == PAYLOAD_MONITOR_P_EXIT else ctrl[4]
        w = self._local(watcher)
        if w is not None:
            self.node.fire_monitor(w, ref, reason)

    def _c_spawn_request(self, conn: Connection, ctrl: tuple[Any, ...], args: Any) -> None:
        from .rpc import spawn_target

        req, origin, mfa, opts = ctrl[1], ctrl[2], ctrl[4], ctrl[5]
        module, function, arity = mfa
        link = Atom("link") in opts
        monitor = Atom("monitor") in opts
        if not isinstance(args, list) or len(args) != arity:
            conn.send(self._frame_for((SPAWN_REPLY, req, origin, 0, Atom("badarg"))))
            return
        fun, fargs = spawn_target(self, str(module), str(function), args)
        node = self.node
        pid, _ = node.spawn(None, fun, tuple(fargs), what="spawn_request")
        t = node.table[pid]
        flags = 0
        if link:
            t.links = {origin}
            flags |= 1
        if monitor:
            t.monitored_by = {req: origin}
            self.in_monitors[req] = (pid, None, origin)
            flags |= 2
        conn.send(self._frame_for((SPAWN_REPLY, req, origin, flags, pid)))

    def _c_spawn_reply(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        req, to, flags, result = ctrl[1], ctrl[2], ctrl[3], ctrl[4]
        pending = self.pending_spawns.pop(req, None)
        p = self._local(to)
        if pending is None or p is None:
            if isinstance(result, Pid) and flags & 1:
                # The requester is gone: the link must not outlive it.
                conn.send(self._frame_for((PAYLOAD_EXIT, to, result), NOPROC, True))
            return
        if isinstance(result, Pid):
            if flags & 1:
                if p.links is None:
                    p.links = {result}
                else:
                    p.links.add(result)
            if flags & 2 and p.monitors is not None and req in p.monitors:
                p.monitors[req] = (result, result)
            if pending[4]:
                self.node.deliver(p, (SPAWN_REPLY_ATOM, req, OK, result))
        else:
            if p.monitors is not None:
                p.monitors.pop(req, None)
            self.node.deliver(p, (SPAWN_REPLY_ATOM, req, ERROR, result))

    def _c_ignore(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        pass


def exit_reason_term(reason: Any) -> Any:
    """An exit reason as the term a BEAM peer should see (see ``_reason_frame``)."""
    if type(reason) is str:
        return Atom(reason)
    if isinstance(reason, BaseException):
        return (_python_term(reason), [])
    return reason


class _FrameProtocol(asyncio.Protocol):
    """Reads an established connection: 4-byte length frames; an empty one is a tick."""

    def __init__(self, dist: Dist, conn: Connection, transport: Any) -> None:
        self.dist = dist
        self.conn = conn
        self.transport = transport
        self.buf = bytearray()
        self.time = dist.node.loop.time

    def data_received(self, data: bytes) -> None:
        conn = self.conn
        if conn.closed:
            return
        conn.last_read = self.time()
        buf = self.buf
        buf += data
        pos, size_all = 0, len(buf)
        frame_of = self.dist._frame
        try:
            while size_all - pos >= 4:
                size = int.from_bytes(buf[pos : pos + 4], "big")
                if size == 0:
                    pos += 4  # a tick
                    continue
                if size > MAX_FRAME:
                    raise ProtocolError(f"frame of {size} bytes is over the limit of {MAX_FRAME}")
                if size_all - pos - 4 < size:
                    break
                frame = bytes(buf[pos + 4 : pos + 4 + size])
                pos += 4 + size
                frame_of(conn, frame)
                if conn.closed:
                    return
        except (DecodeError, ProtocolError) as e:
            logger.warning("closing the connection to %s: %s", conn.name, e)
            self.transport.abort()
            self.dist._lost(conn)
            return
        finally:
            if pos:
                del buf[:pos]

    def eof_received(self) -> bool | None:
        return None  # close

    def connection_lost(self, exc: Exception | None) -> None:
        self.dist._lost(self.conn)


def _python_term(value: Any) -> Any:
    """The codec's ``default``: Python exceptions go as Elixir-style exception structs."""
    if isinstance(value, BaseException):
        from .rpc import _exception_term

        return _exception_term(value)
    return value


class ProtocolError(Exception):
    """A peer broke the distribution protocol; its connection is closed."""


def _node_of(target: Any, obj: Any) -> str | None:
    """The remote node of a monitor entry ``(target, obj)`` (see ``demonitor``), or None."""
    if isinstance(target, Pid) and target.node is not None:
        return target.node
    if type(obj) is tuple and len(obj) == 2 and isinstance(obj[1], str):
        return obj[1] if target is None else None
    return None


_CONTROL: dict[int, Callable[[Dist, Connection, tuple[Any, ...], Any], None]] = {
    SEND: Dist._c_send,
    SEND_TT: Dist._c_send,
    SEND_SENDER_OP: Dist._c_send,
    SEND_SENDER_TT: Dist._c_send,
    REG_SEND: Dist._c_reg_send,
    REG_SEND_TT: Dist._c_reg_send,
    ALIAS_SEND: Dist._c_alias_send,
    ALIAS_SEND_TT: Dist._c_alias_send,
    LINK: Dist._c_link,
    UNLINK: Dist._c_unlink_old,
    UNLINK_ID_OP: Dist._c_unlink_id,
    UNLINK_ID_ACK: Dist._c_unlink_ack,
    EXIT: Dist._c_exit,
    EXIT_TT: Dist._c_exit,
    PAYLOAD_EXIT: Dist._c_exit,
    PAYLOAD_EXIT_TT: Dist._c_exit,
    EXIT2: Dist._c_exit2,
    EXIT2_TT: Dist._c_exit2,
    PAYLOAD_EXIT2: Dist._c_exit2,
    PAYLOAD_EXIT2_TT: Dist._c_exit2,
    MONITOR_P: Dist._c_monitor,
    DEMONITOR_P: Dist._c_demonitor,
    MONITOR_P_EXIT: Dist._c_monitor_exit,
    PAYLOAD_MONITOR_P_EXIT: Dist._c_monitor_exit,
    SPAWN_REQUEST: Dist._c_spawn_request,
    SPAWN_REQUEST_TT: Dist._c_spawn_request,
    SPAWN_REPLY: Dist._c_spawn_reply,
    SPAWN_REPLY_TT: Dist._c_spawn_reply,
    GROUP_LEADER: Dist._c_ignore,
    NODE_LINK: Dist._c_ignore,
}

__all__ = ["Dist", "EncodeError", "HandshakeError", "ImproperList", "ProtocolError", "digest"]
