"""Distribution: connections to other nodes (Erlang, Elixir, tether).

Design
------
One :class:`Dist` per distributed node owns the listening socket, the epmd
registration and one :class:`Connection` per peer.  It is the runtime's
``Remote`` (``tether._runtime._remote``): the core stays in charge of every table
and calls ``node.dist`` only when a signal's target lives on another node; ``Dist``
calls back into the core (``deliver``, ``link_signal``, ``receive_exit2``,
``fire_monitor``, ``_remote.node_down``) when a control message arrives.  Both run on
the node's one event loop thread, so no lock is needed and the core's invariants
(synchronous signals, a total order) hold across the wire too: frames to one peer
are written in the order the signals were made, which is D-6's per-pair order.

Wire format: handshake version 6 (OTP 23+) with the cookie challenge, then frames
of ``4-byte length | 112 | control term | [payload term]`` ("pass-through", no
atom cache: we do not offer ``DFLAG_DIST_HDR_ATOM_CACHE`` or ``FRAGMENTS``, so
peers never send them).  An empty frame is a tick.

A connection is made on first use, as on the BEAM (auto-connect): until the
handshake ends, frames wait in ``Connection.pending``; if it fails, or has not
finished after the setup time (``SETUP_TIME``, Erlang's ``net_setuptime``), they
are dropped and every link and monitor that points at the node gets
``noconnection`` (D-1 … D-3).  Links and monitors to remote processes are recorded
only in the local process's own tables (``links``, ``monitors``, ``monitored_by``
hold remote pids next to local ones), so a lost connection is handled by one scan
of the process table (``_remote.node_down``), and nothing else has to be kept in
step.

Trust
-----
Before a peer proves it knows the cookie (its challenge reply), nothing it says
changes anything: an established connection it claims to replace, and a pending
one it wins the simultaneous-connect tie-break against, are touched only once
its digest checks.  After that, every control message is checked field by field
before it touches a table (``_c_*``), as erts' ``dist.c`` does: sender pids must
belong to the peer's node, targets to this one, refs must be refs, a ref that
keys a table (a monitor's, a spawn request's) must be the peer's own.  A message
that fails is an invalid distribution message: it is logged at ERROR on
``tether.dist`` and closes that one connection, which fires ``noconnection`` for
every link and monitor through it, as a lost connection does (erts logs "Invalid
distribution message" and kills the connection).  Any other exception while a
frame is handled does the same, with its traceback: no frame can stop the
scheduler or leave a table half written.

Flow control (the BEAM's busy distribution port)
-------------------------------------------------
Output: above ``busy_limit`` bytes (``dist_buf_busy_limit``, 1 MiB) waiting in a
connection's output buffer (asyncio's write buffer, or the frames queued while
it connects), the connection is busy: a process that sends on it is suspended
(``Node.suspend``) until the buffer is back under the limit; a caller that is not
a process gets a future to await instead.  Exit signals of a dying process and
protocol replies are written regardless (erts sends them "forced").  Input: the
node is *behind* on a connection when the messages that connection delivered and
that still sit unread in mailboxes add up to more than ``input_limit`` bytes (of
their frames), not counting the mailboxes of processes that output flow control
holds (they cannot read; counting them would let two nodes that flood each
other stop each other for good).  Then the connection stops reading its socket
(``transport.pause_reading``): TCP backpressure makes the peer's own busy limit
suspend its senders.  Reading resumes when the unread bytes fall to half the
limit (checked every few ms while paused).  The BEAM has no input limit (a
mailbox grows without bound); ``input_limit=None`` restores that.  The price of
the limit: a process that waits for one message while more than the limit of
other messages from the same node sit unread in its mailbox waits until it
times out, since what it waits for is behind them in the paused stream.

Invariants
----------
* ``connections[name]`` is the one live-or-pending connection to ``name``; a
  pending one is lost (``_lost``) at the latest ``SETUP_TIME`` after it began.
* ``in_monitors[ref]`` is ``(local target pid, name or None, watcher pid)`` for
  every monitor a remote process holds on a local one; the target's
  ``monitored_by[ref]`` is the remote watcher, whose node is ``ref``'s node.
* Every pid a peer stores in a local table (links, monitors, monitored_by) is a
  ``Pid`` of that peer's node, so ``node_down`` of that node removes it.
* ``conn.busy`` iff more than ``busy_limit`` bytes wait to be written on ``conn``;
  then ``conn.drained`` is the future its suspended senders wait on.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import reprlib
import secrets
import shutil
import socket
import ssl
import stat
import struct
import subprocess
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, NoReturn

from .._runtime import _remote
from .._runtime._types import NOCONNECTION, NOPROC, Atom, ImproperList, Pid, Port, Ref
from . import epmd as _epmd
from .etf import (
    DECODE_GAVE_UP,
    MAX_DEPTH,
    Codec,
    DecodeError,
    EncodeError,
    decode_from_c,
    put_term,
)
from .rpc import _exception_term, spawn_target

if TYPE_CHECKING:
    from .._runtime._mailbox import Mailbox
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

NODEDOWN: Final = Atom("nodedown")
NODEUP: Final = Atom("nodeup")
SPAWN_REPLY_ATOM: Final = Atom("spawn_reply")
OK: Final = Atom("ok")
ERROR: Final = Atom("error")
UNDEF: Final = Atom("undef")
EMPTY: Final = Atom("")


#: Erlang's ``net_setuptime``: a connection not up this many seconds after it began
#: is given up (``Node.connect`` answers False; waiting frames are dropped).
SETUP_TIME: Final = 7.0
#: Erlang's ``dist_buf_busy_limit`` default (bytes): above it a connection is busy.
DIST_BUF_BUSY_LIMIT: Final = 1 << 20
#: Unread bytes (of frames) a connection may have waiting in mailboxes before the
#: node stops reading it (see "Flow control" above).
DIST_INPUT_LIMIT: Final = 16 << 20
# While reading is paused: first and longest wait between two checks (seconds).
_RECHECK_FIRST: Final = 0.001
_RECHECK_MAX: Final = 0.05
# After epmd goes away: first and longest wait between two registration attempts.
_REREGISTER_FIRST: Final = 0.2
_REREGISTER_MAX: Final = 2.0
#: Longest printed form of an exit reason that has no term (see ``_reason_frame``).
MAX_PRINTED_REASON: Final = 1000


class HandshakeError(ConnectionError):
    """The handshake failed (wrong cookie, refused name, missing flags, bad frame)."""


class ProtocolError(Exception):
    """A peer broke the distribution protocol; its connection is closed."""


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


def check_cookie(cookie: Any, where: str) -> str:
    """``cookie`` if it can be one, else ``TypeError``/``ValueError`` saying why.

    A cookie is an Erlang atom whose characters each go into the handshake's MD5
    as one byte (``erlang:md5`` refuses a character above 255): non-empty,
    Latin-1, at most 255 characters.
    """
    if not isinstance(cookie, str):
        raise TypeError(f"tether.run: {where} must be a str, got {cookie!r}")
    if not cookie:
        raise ValueError(f"tether.run: {where} must not be empty")
    if len(cookie) > 255:
        raise ValueError(f"tether.run: {where} is longer than 255 characters (an atom's limit)")
    try:
        cookie.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(
            f"tether.run: {where} has a character outside Latin-1; the handshake digests "
            "each character as one byte (Erlang refuses such cookies too): use ASCII"
        ) from None
    return cookie


def cookie_path() -> Path:
    """``~/.erlang.cookie``, where ``erl`` keeps the cookie."""
    return Path.home() / ".erlang.cookie"


def read_cookie(cookie: str | None) -> str:
    """The cookie: the argument, else ``TETHER_COOKIE``, else ``~/.erlang.cookie``.

    As ``erl`` does, a missing ``~/.erlang.cookie`` is created with a random
    cookie, readable by the owner only, and one that others may read or write is
    refused ("must be accessible by owner only", ``auth.erl``).  Unlike ``erl``, a
    symbolic link that points nowhere is refused rather than followed (``erl``
    would create the file it names).
    """
    if cookie is not None:
        return check_cookie(cookie, "cookie")
    env = os.environ.get("TETHER_COOKIE")
    if env:
        return check_cookie(env, "TETHER_COOKIE")
    path = cookie_path()
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return _create_cookie(path)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"tether.run: cookie file {path} is not a regular file")
        if info.st_mode & 0o077:
            raise ValueError(
                f"tether.run: cookie file {path} must be accessible by owner only "
                f"(its mode is {stat.S_IMODE(info.st_mode):o}; chmod 400 it, as erl demands)"
            )
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd) as f:
        text = f.read().strip()
    return check_cookie(text, f"the cookie in {path}")


def _create_cookie(path: Path) -> str:
    new = "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(20))
    # O_EXCL|O_NOFOLLOW: never through a symbolic link, never over another file.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o400)
    except FileExistsError:
        raise ValueError(
            f"tether.run: cookie file {path} is a symbolic link to a file that does not "
            "exist; remove it or pass cookie="
        ) from None
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
        # Python 3.13 verifies certificates strictly by default (RFC 5280: a CA
        # without keyUsage is refused); Erlang's ssl does not.  Certificates that
        # an Erlang cluster accepts must be accepted here too.
        ctx.verify_flags &= ~getattr(ssl, "VERIFY_X509_STRICT", 0)
    return server, client


_BRIEF: Final = reprlib.Repr()
_BRIEF.maxlevel = 4
_BRIEF.maxstring = _BRIEF.maxother = 80
_BRIEF.maxlong = 60


def brief(value: Any, limit: int = 200) -> str:
    """A short printed form of any value, for logs and for reasons with no term.

    Total: bounded in depth and length (``reprlib``), and a value whose
    ``repr`` raises (or an int too long to print) shows as its type.
    """
    try:
        text = _BRIEF.repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Connection:
    """One peer: its handshake state, pending frames, flow control, the reader task.

    Invariant: ``busy`` iff more than the busy limit of bytes wait to be written
    (``pending_bytes`` while connecting, the transport's write buffer once up);
    ``drained`` is then the future its held senders wait on.  ``unread`` lists,
    oldest first, the messages this connection put in mailboxes that may still be
    unread (entries whose message was taken are dropped lazily, ``_settle``), and
    ``unread_bytes`` is the sum of their frame sizes.
    """

    def __init__(self, dist: Dist, name: str) -> None:
        self.dist = dist
        self.name = Atom(name)
        self.up = False
        self.closed = False
        self.pending: list[bytes] = []
        self.pending_bytes = 0
        self.writer: asyncio.StreamWriter | None = None
        self.transport: Any = None
        self.flags = 0
        self.hidden = True
        self.task: asyncio.Task[None] | None = None
        self.tick_task: asyncio.Task[None] | None = None
        self.setup_timer: asyncio.TimerHandle | None = None
        self.last_read = 0.0
        self.wrote = False
        self.connect_waiters: list[asyncio.Future[bool]] = []
        # UNLINK_ID: (local, remote) -> id of an unlink we sent and wait to be acked
        self.unlinking: dict[tuple[Pid, Pid], int] = {}
        # output flow control
        self.busy = False
        self.drained: asyncio.Future[None] | None = None
        # input flow control: (process, its mailbox, seq, message, frame bytes)
        self.unread: deque[tuple[Process, Mailbox, int, Any, int]] = deque()
        self.unread_bytes = 0
        self.reading_paused = False
        self.recheck: asyncio.TimerHandle | None = None
        self.recheck_delay = _RECHECK_FIRST

    def send(self, frame: bytes) -> None:
        """Queue or write one frame (the 4-byte length included)."""
        if self.closed:
            return
        if self.up:
            assert self.writer is not None
            self.writer.write(frame)  # over the limit: pause_writing -> set_busy
            self.wrote = True
        else:
            self.pending.append(frame)
            self.pending_bytes += len(frame)
            if self.pending_bytes > self.dist.busy_limit:
                self.set_busy()

    def set_busy(self) -> None:
        self.busy = True
        if self.drained is None:
            self.drained = self.dist.node.loop.create_future()

    def clear_busy(self) -> None:
        """Not busy any more (drained, or gone): release every held sender."""
        self.busy = False
        fut, self.drained = self.drained, None
        if fut is not None and not fut.done():
            fut.set_result(None)

    def __repr__(self) -> str:
        state = "closed" if self.closed else "up" if self.up else "pending"
        return f"<Connection {self.name} {state}{' busy' if self.busy else ''}>"


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
        busy_limit: int = DIST_BUF_BUSY_LIMIT,
        input_limit: int | None = DIST_INPUT_LIMIT,
    ) -> None:
        self.node = node
        self.name, self.long_names = full_name(name)
        self.alive, self.host = split_name(self.name)
        self.cookie = cookie
        self.hidden = hidden
        self.net_ticktime = net_ticktime
        self.tls = tls
        self.busy_limit = busy_limit
        self.input_limit = input_limit
        self.creation = 0
        self.codec = Codec(self.name, 0, binaries=binaries, default=_python_term)
        self.connections: dict[str, Connection] = {}
        self.in_monitors: dict[Ref, tuple[Pid, str | None, Pid]] = {}
        self.node_monitors: dict[str, list[Pid]] = {}
        self.all_node_monitors: list[Pid] = []
        self.pending_spawns: dict[Ref, tuple[Pid, str, bool, bool, bool]] = {}
        self.server: asyncio.Server | None = None
        self.epmd_reader: asyncio.StreamReader | None = None
        self.epmd_writer: asyncio.StreamWriter | None = None
        self.epmd_server: _epmd.EpmdServer | None = None
        self.port = 0
        self.unlink_ids = 0
        self.closing = False
        # the size of the frame being handled (what its message costs, input_limit)
        self._frame_size = 0
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
        self.epmd_reader, self.epmd_writer, creation = await self._register()
        self.creation = creation
        self.codec.rename(self.name, creation)
        self.node.name = Atom(self.name)
        self._task(self._keep_registered())

    async def _register(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, int]:
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

    async def _try_register(
        self,
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, int] | None:
        """Register with epmd; None when no epmd answers (a refusal still raises)."""
        try:
            return await _epmd.register(self.alive, self.port)
        except _epmd.EpmdError:
            raise
        except OSError:
            return None

    async def _keep_registered(self) -> None:
        """Register again whenever epmd goes away (it restarted), as Erlang nodes do.

        epmd keeps a registration while its TCP connection lasts and sends nothing
        on it, so the end of that connection is the signal.  Attempts repeat, at
        most ``_REREGISTER_MAX`` seconds apart, until one succeeds; the node keeps
        its creation (pids already out there name it).
        """
        while not self.closing:
            reader = self.epmd_reader
            assert reader is not None
            with contextlib.suppress(OSError):
                while await reader.read(64):
                    pass
            if self.closing:
                return
            logger.warning("lost the epmd registration of %s; registering again", self.name)
            delay = _REREGISTER_FIRST
            while not self.closing:
                await asyncio.sleep(delay)
                try:
                    reader, writer, _creation = await _epmd.register(self.alive, self.port)
                except OSError as e:
                    logger.debug("registering %s with epmd failed: %r", self.name, e)
                    delay = min(delay * 2, _REREGISTER_MAX)
                    continue
                if self.epmd_writer is not None:
                    self.epmd_writer.close()
                self.epmd_reader, self.epmd_writer = reader, writer
                logger.info("%s is registered with epmd again", self.name)
                break

    def close(self) -> list[asyncio.Task[Any]]:
        """Stop: close every connection and the epmd registration (no signals).

        Returns the tasks it cancelled, for the caller to wait on."""
        self.closing = True
        for conn in list(self.connections.values()):
            conn.closed = True
            for handle in (conn.setup_timer, conn.recheck):
                if handle is not None:
                    handle.cancel()
            conn.clear_busy()
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
            if name == self.name or self.closing:
                return None
            try:
                split_name(name)
            except ValueError:
                return None
            conn = Connection(self, name)
            self.connections[name] = conn
            conn.setup_timer = self.node.loop.call_later(SETUP_TIME, self._setup_expired, conn)
            conn.task = self._task(self._connect(conn))
        return conn

    def _setup_expired(self, conn: Connection) -> None:
        """``net_setuptime``: a connection still not up is given up (D-3 for its users)."""
        conn.setup_timer = None
        if not conn.up and not conn.closed:
            logger.info("connection to %s not up after %s s: given up", conn.name, SETUP_TIME)
            self._lost(conn)

    async def connect(self, name: str) -> bool:
        """``Node.connect``: make sure a connection to ``name`` is up.

        Answers within ``SETUP_TIME`` seconds: True once up, False when it fails or
        is given up."""
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
        # No timeouts here: the connection's setup timer (SETUP_TIME) bounds the
        # whole attempt and cancels this task when it fires (_lost).
        try:
            alive, host = split_name(conn.name)
            entry = await _epmd.port_please(alive, host)
            if entry is None:
                raise ConnectionError(f"{conn.name} is not registered with epmd on {host}")
            reader, writer = await asyncio.open_connection(
                host, entry.port, ssl=self.tls[1] if self.tls else None
            )
            conn.writer = writer
            await self._handshake_out(conn, reader, writer)
        except _Nok:
            # The peer is connecting to us at the same time and its attempt wins
            # (the greater name does): stay pending until its connection takes
            # this one's place (_accepted), or the setup timer gives up.
            if conn.writer is not None:
                conn.writer.close()
                conn.writer = None
            return
        except (OSError, asyncio.IncompleteReadError, HandshakeError, UnicodeError) as e:
            logger.debug("connection to %s failed: %r", conn.name, e)
            if self.connections.get(conn.name) is conn:
                self._lost(conn)
            return
        except asyncio.CancelledError:
            return
        except Exception:  # a bug here must cost one connection, never the node
            logger.exception("connecting to %s failed unexpectedly", conn.name)
            if self.connections.get(conn.name) is conn:
                self._lost(conn)
            return
        if self.connections.get(conn.name) is not conn or conn.closed:
            writer.close()  # another connection to the same node won meanwhile
            return
        self._established(conn, reader)

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            result = await asyncio.wait_for(self._handshake_in(reader, writer), SETUP_TIME)
        except (OSError, asyncio.IncompleteReadError, HandshakeError) as e:
            logger.info("refused a connection: %s", e)
            writer.close()
            return
        except Exception:  # a bug here must cost one connection, never the node
            logger.exception("refused a connection: the handshake failed unexpectedly")
            writer.close()
            return
        if result is None or self.closing:
            writer.close()
            return
        # The peer has proved it knows the cookie: only now may it change anything.
        conn, replaces = result
        if replaces is not None and self.connections.get(conn.name) is replaces and replaces.up:
            # It said it restarted (the "alive" status): the old connection is dead.
            self._lost(replaces)
        old = self.connections.get(conn.name)
        if old is not None and old is not conn:
            if old.up:
                writer.close()  # another connection came up meanwhile
                return
            # Our own attempt lost the tie-break: its queued frames, waiters and held
            # senders move here, and it stops.
            conn.pending = old.pending + conn.pending
            conn.pending_bytes += old.pending_bytes
            conn.connect_waiters = old.connect_waiters + conn.connect_waiters
            conn.busy, conn.drained = old.busy, old.drained
            old.pending, old.pending_bytes, old.connect_waiters = [], 0, []
            old.busy, old.drained = False, None
            old.closed = True
            if old.setup_timer is not None:
                old.setup_timer.cancel()
            if old.task is not None:
                old.task.cancel()
            if old.writer is not None:
                old.writer.close()
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
    ) -> tuple[Connection, Connection | None] | None:
        """The accepting side: a fresh connection (not yet registered) and the up one
        it replaces, if the peer says it restarted; None when refused politely.

        Nothing in ``connections`` changes here: the caller acts on the result,
        after the peer has proved it knows the cookie."""
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
        replaces: Connection | None = None
        if existing is not None and existing.up:
            # The peer says it restarted: if it proves the cookie, its new
            # connection replaces the old one (whose links and monitors then get
            # noconnection); if not, the old one is untouched (erl: "Invalid
            # challenge reply").
            self._write_hs(writer, b"salive")
            answer = await self._read_hs(reader)
            if answer != b"strue":
                return None
            replaces = existing
        elif existing is not None:
            if peer.encode() <= self.name.encode():
                logger.debug("simultaneous connect with %s: ours wins (nok)", peer)
                self._write_hs(writer, b"snok")
                return None
            # The greater name wins: theirs, once it has proved the cookie; until
            # then our own attempt goes on (_accepted stops it).
            logger.debug("simultaneous connect with %s: theirs wins", peer)
            self._write_hs(writer, b"sok_simultaneous")
        else:
            self._write_hs(writer, b"sok")
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
        return conn, replaces

    # -- an established connection ------------------------------------------------

    def _established(self, conn: Connection, reader: asyncio.StreamReader) -> None:
        loop = self.node.loop
        if conn.setup_timer is not None:
            conn.setup_timer.cancel()
            conn.setup_timer = None
        conn.up = True
        conn.hidden = self.hidden or not conn.flags & PUBLISHED
        conn.last_read = loop.time()
        writer = conn.writer
        assert writer is not None
        # From here on frames are parsed in data_received (no coroutine hop per
        # frame, which halves a remote round trip); bytes that came in with the
        # handshake's last read are still in the StreamReader: hand them over.
        transport: Any = writer.transport
        conn.transport = transport
        proto = _FrameProtocol(self, conn, transport)
        pending: bytearray = reader._buffer  # type: ignore[attr-defined]  # no public way
        leftover = bytes(pending)
        pending.clear()
        transport.set_protocol(proto)
        # Flow control: the transport calls proto.pause_writing above the busy
        # limit and resume_writing once back under it (no hysteresis, as erts).
        transport.set_write_buffer_limits(high=self.busy_limit, low=self.busy_limit)
        for frame in conn.pending:
            writer.write(frame)
        conn.pending.clear()
        conn.pending_bytes = 0
        if conn.busy and transport.get_write_buffer_size() <= self.busy_limit:
            conn.clear_busy()
        for fut in conn.connect_waiters:
            if not fut.done():
                fut.set_result(True)
        conn.connect_waiters.clear()
        self._tell(self.all_node_monitors, (NODEUP, conn.name))
        conn.tick_task = self._task(self._ticker(conn))
        if leftover:
            # (inside this task's step: the processes they wake get the usual
            # turn, not one run by data_received)
            proto.data_received(leftover)
            if conn.closed:
                return
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
            if conn.reading_paused:
                # We stopped reading (input flow control): the peer's ticks wait in
                # the socket, so its silence is ours, not its.
                conn.last_read = loop.time()
            elif loop.time() - conn.last_read > self.net_ticktime:
                logger.warning(
                    "%s did not answer ticks for %ss: disconnecting", conn.name, self.net_ticktime
                )
                conn.writer.transport.abort()  # no waiting for a stopped peer to read
                return
            if not conn.wrote:
                conn.writer.write(b"\0\0\0\0")
            conn.wrote = False

    def _frame(self, conn: Connection, frame: bytes) -> None:
        """Handle one frame of ``conn``: decode, check, act.

        Raises ``DecodeError`` or ``ProtocolError`` for a frame that is not valid;
        the caller closes the connection then.  Nothing has been changed when it
        raises: every field is checked before a table is touched.
        """
        if frame[0] != PASS_THROUGH:
            raise ProtocolError(f"unexpected frame type {frame[0]} (only pass-through 112 is used)")
        # Compressed terms are not part of the protocol (erts' decoder refuses
        # them in distribution messages; see etf.Codec.decode_from).
        codec = self.codec
        # codec.decode_from(frame, pos, compressed=False), with the C decoder
        # called directly when it is there (two Python calls less a message)
        got: Any = decode_from_c(codec, frame, 1, None)
        if got is DECODE_GAVE_UP:
            got = codec.decode_from(frame, 1, compressed=False)
        ctrl, end = got
        msg: Any = None
        has_payload = end < len(frame)
        if has_payload:
            got = decode_from_c(codec, frame, end, None)
            if got is DECODE_GAVE_UP:
                got = codec.decode_from(frame, end, compressed=False)
            msg, end2 = got
            if end2 != len(frame):
                raise ProtocolError("bytes after the payload of a control message")
        if type(ctrl) is not tuple or not ctrl or type(ctrl[0]) is not int:
            _invalid(ctrl, "not a tuple that starts with an operation")
        op = _CONTROL.get(ctrl[0])
        if op is None:
            _invalid(ctrl, f"unknown operation {ctrl[0]}")
        arity, payload, handler = op
        if len(ctrl) != arity:
            _invalid(ctrl, f"operation {ctrl[0]} has {arity} elements, not {len(ctrl)}")
        if has_payload != payload:
            _invalid(ctrl, "a payload follows" if has_payload else "the payload is missing")
        if logger.isEnabledFor(logging.DEBUG):  # brief() is not free: only when it shows
            logger.debug("<- %s %s %s", conn.name, brief(ctrl), brief(msg))
        self._frame_size = len(frame)
        handler(self, conn, ctrl, msg)

    def _drop(self, conn: Connection) -> None:
        """Close ``conn`` now, for a protocol error: D-1 … D-4 as for a lost connection."""
        if conn.transport is not None:
            conn.transport.abort()
        self._lost(conn)

    # -- input flow control -------------------------------------------------------

    def _behind(self, conn: Connection) -> int:
        """Unread bytes from ``conn`` held by processes free to run: a process that
        flow control holds (``Node.suspend``) cannot read, and waiting for it to
        read could deadlock two nodes that flood each other, so its mailbox does
        not count."""
        _settle(conn, full=True)
        held = sum(e[4] for e in conn.unread if e[0].suspended is not None)
        return conn.unread_bytes - held

    def _input_check(self, conn: Connection) -> None:
        """After a read: stop reading ``conn`` if the node is behind on it."""
        limit = self.input_limit
        assert limit is not None
        if conn.reading_paused or conn.closed:
            return
        behind = self._behind(conn)
        if behind > limit:
            logger.debug("%s: %d bytes of its messages unread: pausing input", conn.name, behind)
            conn.reading_paused = True
            conn.transport.pause_reading()
            conn.recheck_delay = _RECHECK_FIRST
            conn.recheck = self.node.loop.call_later(conn.recheck_delay, self._input_recheck, conn)

    def _input_recheck(self, conn: Connection) -> None:
        conn.recheck = None
        if conn.closed:
            return
        limit = self.input_limit
        assert limit is not None
        if self._behind(conn) <= limit // 2:
            conn.reading_paused = False
            conn.last_read = self.node.loop.time()
            conn.transport.resume_reading()
            return
        conn.recheck_delay = min(conn.recheck_delay * 2, _RECHECK_MAX)
        conn.recheck = self.node.loop.call_later(conn.recheck_delay, self._input_recheck, conn)

    def _deliver(self, conn: Connection, t: Process, msg: Any, alias: Ref | None = None) -> None:
        """Deliver a message from ``conn`` to ``t`` (or ``t``'s ``alias``) and count it
        as unread while it sits in ``t``'s mailbox (input flow control)."""
        mb = t.mailbox
        before = -1 if mb is None else mb.next_seq()
        if alias is None:
            self.node.deliver(t, msg)
        else:
            self.node.send_alias(alias, msg)
        if self.input_limit is None:
            return
        mb = t.mailbox
        if mb is not None and (seq := mb.next_seq()) != before:  # queued, not handed over
            size = self._frame_size
            conn.unread.append((t, mb, seq - 1, msg, size))
            conn.unread_bytes += size

    def _lost(self, conn: Connection) -> None:
        """The connection is gone (or never came up): D-1 … D-4 for every process."""
        if conn.closed:
            return
        conn.closed = True
        was_up = conn.up
        conn.up = False
        conn.pending.clear()
        conn.pending_bytes = 0
        for handle in (conn.setup_timer, conn.recheck):
            if handle is not None:
                handle.cancel()
        conn.setup_timer = conn.recheck = None
        conn.unread.clear()
        conn.unread_bytes = 0
        conn.clear_busy()  # held senders go on; what they sent is lost with the connection
        if conn.writer is not None:
            conn.writer.close()
        if conn.tick_task is not None:
            conn.tick_task.cancel()
        task = conn.task
        if (
            task is not None
            and not task.done()
            and task is not asyncio.current_task(self.node.loop)
        ):
            task.cancel()  # a connect attempt still under way
        if self.connections.get(conn.name) is conn:
            del self.connections[conn.name]
        for fut in conn.connect_waiters:
            if not fut.done():
                fut.set_result(False)
        conn.connect_waiters.clear()
        self._node_down(conn.name, was_up)

    def _node_down(self, name: str, was_up: bool) -> None:
        """Everything that went through node ``name`` ends.  Each step is guarded, so
        one bad entry cannot stop the others (the tables never hold one: the
        checks in ``_c_*`` keep them out; this is the second line)."""
        node = self.node
        # Spawn requests in flight: {spawn_reply, ReqId, error, noconnection}.
        for req, (owner, where, _link, _mon, _reply) in list(self.pending_spawns.items()):
            if where != name:
                continue
            del self.pending_spawns[req]
            try:
                p = node.table.get(owner)
                if p is not None:
                    if p.monitors is not None:
                        p.monitors.pop(req, None)
                    node.deliver(p, (SPAWN_REPLY_ATOM, req, ERROR, NOCONNECTION))
            except Exception:
                logger.exception("node-down of %s: the spawn reply to %r failed", name, owner)
        for ref, (_target, _name, watcher) in list(self.in_monitors.items()):
            if ref.node == name or watcher.node == name:
                del self.in_monitors[ref]
        _remote.node_down(node, name)  # D-1, D-2
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

    # -- outgoing signals (the runtime's Remote) ----------------------------------

    def _frame_for(
        self, ctrl: tuple[Any, ...], payload: Any = None, has_payload: bool = False
    ) -> bytes:
        """One frame; ``EncodeError`` (and nothing else) when a term has no encoding."""
        c = self.codec
        out = bytearray(b"\0\0\0\0p\x83")
        try:
            put_term(c, out, ctrl)  # c.put(out, ctrl), one Python call less
            if has_payload:
                out.append(131)
                put_term(c, out, payload)
        except EncodeError:
            raise
        except RecursionError:
            raise EncodeError(
                "cannot encode the message: it is nested too deeply for the encoder, or "
                "contains itself"
            ) from None
        except Exception as e:  # a value whose conversion raised (an exception's __str__)
            raise EncodeError(f"cannot encode the message: {brief(e)}") from e
        if len(out) - 4 > 0xFFFFFFFF:
            raise EncodeError(f"cannot encode the message: {len(out)} bytes is over 4 GiB")
        struct.pack_into(">I", out, 0, len(out) - 4)
        return bytes(out)

    def _reason_frame(self, ctrl: tuple[Any, ...], reason: Any) -> bytes:
        """A frame carrying exit reason ``reason``, whatever it is (never raises).

        tether's reasons are atoms written as plain str ("normal", "kill",
        "shutdown"), so a str reason goes as an atom; a Python exception goes as
        Elixir's crash shape ``{exception, stacktrace}``.  The BEAM can send any
        reason, every term being representable; a Python value that is not (an
        object with no term, a structure that contains itself, one nested deeper
        than ``etf.MAX_DEPTH``, which a tether peer would refuse) goes as its
        printed form: a binary of at most ``MAX_PRINTED_REASON`` characters
        (``brief``).  Depth is measured without recursion, so a reason that
        contains itself costs a bounded walk, never the stack.  The peer sees a reason that
        is neither ``normal`` nor ``shutdown``, so its links and monitors act as
        for any crash.
        """
        try:
            if not _nests_deeper(reason, MAX_DEPTH):
                return self._frame_for(ctrl, exit_reason_term(reason), True)
        except Exception:
            pass
        return self._frame_for(ctrl, brief(reason, MAX_PRINTED_REASON), True)

    def _hold(self, conn: Connection, sender: Pid) -> asyncio.Future[None] | None:
        """Flow control after ``sender`` wrote on ``conn``: nothing if it is not busy;
        else the running process that sent is suspended until it drains, and any
        other caller gets the future to await (``Remote``'s contract)."""
        if not conn.busy or conn.closed:
            return None
        if conn.drained is None:
            conn.drained = self.node.loop.create_future()
        p = self.node.current
        if p is not None and p.pid == sender:
            self.node.suspend(p, conn.drained)
            return None
        return conn.drained

    def _existing(self, node: str) -> Connection | None:
        """The connection to ``node`` if there is one (no auto-connect: what a
        signal about a link or monitor needs, which no connection can hold)."""
        conn = self.connections.get(node)
        return None if conn is None or conn.closed else conn

    def send(self, sender: Pid, to: Pid, msg: Any) -> asyncio.Future[None] | None:
        assert to.node is not None
        frame = self._frame_for((SEND_SENDER_OP, sender, to), msg, True)
        conn = self.connections.get(to.node)
        if conn is not None and conn.up and not conn.closed:
            # The common case, inlined (every remote send): connection() and
            # Connection.send for an open connection; _hold when the write
            # made it busy (pause_writing).
            conn.transport.write(frame)  # conn.writer.write, one Python call less
            conn.wrote = True
            return self._hold(conn, sender) if conn.busy else None
        conn = self.connection(to.node)
        if conn is None:
            return None
        conn.send(frame)
        return self._hold(conn, sender)

    def reg_send(self, sender: Pid, name: str, node: str, msg: Any) -> asyncio.Future[None] | None:
        frame = self._frame_for((REG_SEND, sender, EMPTY, Atom(name)), msg, True)
        conn = self.connection(node)
        if conn is None:
            return None
        conn.send(frame)
        return self._hold(conn, sender)

    def alias_send(self, sender: Pid, alias: Ref, msg: Any) -> asyncio.Future[None] | None:
        assert alias.node is not None
        frame = self._frame_for((ALIAS_SEND, sender, alias), msg, True)
        conn = self.connection(alias.node)
        if conn is None:
            return None
        conn.send(frame)
        return self._hold(conn, sender)

    def exit2(self, sender: Pid, to: Pid | Port, reason: Any) -> asyncio.Future[None] | None:
        assert to.node is not None
        frame = self._reason_frame((PAYLOAD_EXIT2, sender, to), reason)
        conn = self.connection(to.node)
        if conn is None:
            return None
        conn.send(frame)
        return self._hold(conn, sender)

    def link(self, p: Process, to: Pid | Port) -> None:
        assert to.node is not None
        conn = self.connection(to.node)
        if conn is None:
            self._unreachable(to.node)
            return
        conn.send(self._frame_for((LINK, p.pid, to)))
        self._hold(conn, p.pid)

    def unlink(self, p: Process, to: Pid | Port) -> None:
        if type(to) is not Pid:  # ports of other nodes: not in tether's distribution
            return
        assert to.node is not None
        conn = self._existing(to.node)
        if conn is None:
            return
        self.unlink_ids += 1
        uid = self.unlink_ids
        conn.unlinking[(p.pid, to)] = uid
        conn.send(self._frame_for((UNLINK_ID_OP, uid, p.pid, to)))

    def link_exit(self, sender: Pid | Port, to: Pid | Port, reason: Any) -> None:
        """A local process linked to ``to`` died with ``reason`` (forced: never held)."""
        try:
            if type(to) is not Pid or type(sender) is not Pid:
                return  # ports of other nodes: not in tether's distribution
            assert to.node is not None
            conn = self._existing(to.node)
            if conn is not None:
                conn.unlinking.pop((sender, to), None)
                conn.send(self._reason_frame((PAYLOAD_EXIT, sender, to), reason))
        except Exception:  # never into the core's terminate
            logger.exception("the exit signal from %r to %r was lost", sender, to)

    def monitor(self, p: Process, target: Pid | Port | tuple[str, str], ref: Ref) -> None:
        proc: Pid | Atom
        if isinstance(target, Pid):
            node, proc = target.node, target
        elif isinstance(target, tuple):
            node, proc = target[1], Atom(target[0])
        else:
            return  # ports of other nodes: not in tether's distribution
        assert node is not None
        try:
            frame = self._frame_for((MONITOR_P, p.pid, proc, ref))
        except EncodeError:  # a name no atom can hold (over 255 characters): none has it
            self.node.fire_monitor(p, ref, NOPROC)
            return
        conn = self.connection(node)
        if conn is None:
            self._unreachable(node)
            return
        conn.send(frame)
        self._hold(conn, p.pid)

    def demonitor(self, p: Process, target: Any, obj: Any, ref: Ref) -> None:
        """``p`` dropped (or died with) its monitor ``ref`` on a remote target.

        ``target``/``obj`` are the monitor's entry in ``p.monitors``: a remote pid
        for a pid monitor, ``None`` and ``(name, node)`` for a name monitor, and a
        placeholder pid (id 0) while a spawn_request's monitor awaits its reply.
        """
        try:
            node = _remote.monitor_node(target, obj)
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
        except Exception:  # never into the core's terminate
            logger.exception("the demonitor of %r by %r was lost", ref, p.pid)

    def monitor_exit(self, target: Process, ref: Ref, watcher: Pid | Port, reason: Any) -> None:
        """A local process that a remote one monitors died (forced: never held)."""
        try:
            entry = self.in_monitors.pop(ref, None)
            name = entry[1] if entry is not None else None
            who: Any = Atom(name) if name is not None else target.pid
            assert watcher.node is not None
            conn = self._existing(watcher.node)
            if conn is not None:
                conn.send(self._reason_frame((PAYLOAD_MONITOR_P_EXIT, who, watcher, ref), reason))
        except Exception:  # never into the core's terminate
            logger.exception("the DOWN for %r of %r was lost", watcher, target.pid)

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
        conn = self.connection(node)
        if conn is None:
            self._unreachable(node)
        else:
            conn.send(frame)
            self._hold(conn, p.pid)
        return req

    # -- incoming control messages ------------------------------------------------
    #
    # Each handler checks every field it uses before it changes anything (erts'
    # erts_net_message does the same checks, field by field); a failed check is
    # _invalid(), which closes the connection.  The operation's arity and whether a
    # payload follows were checked by _frame (the _CONTROL table).

    def _local(self, pid: Pid) -> Process | None:
        """The live local process ``pid`` (a pid of this node, checked by the caller)."""
        return self.node.table.get(pid)

    def _c_send(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        # {SEND, '', To} | {SEND_SENDER, From, To}, + Token for the _TT forms
        # (_pid's checks and _local inlined: every message from a peer comes here)
        if ctrl[0] in (SEND_SENDER_OP, SEND_SENDER_TT) and type(ctrl[1]) is not Pid:
            _pid(ctrl, ctrl[1], "the sender")
        to = ctrl[2]
        if type(to) is not Pid:
            _pid(ctrl, to, "the receiver")
        t = self.node.table.get(to) if to.node is None else None
        if t is not None:
            self._deliver(conn, t, msg)

    def _c_reg_send(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        # {REG_SEND, From, '', ToName}, + Token for REG_SEND_TT
        _pid(ctrl, ctrl[1], "the sender")
        name = _atom(ctrl, ctrl[3], "the registered name")
        t = self.node.names.get(name)
        if t is not None:
            self._deliver(conn, t, msg)

    def _c_alias_send(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        # {ALIAS_SEND, From, Alias}, + Token for ALIAS_SEND_TT
        _pid(ctrl, ctrl[1], "the sender")
        alias = ctrl[2]
        if type(alias) is not Ref:
            _invalid(ctrl, f"the alias {brief(alias)} is not a reference")
        entry = self.node.aliases.get(alias) if alias.node is None else None
        if entry is not None:
            self._deliver(conn, entry[0], msg, alias)

    def _c_link(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        # {LINK, From, To}
        sender = _peer_pid(conn, ctrl, ctrl[1], "the linking process")
        to = _our_pid(ctrl, ctrl[2], "the linked process")
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
        # {UNLINK_ID, Id, From, To}: erts refuses an id of 0 or over 64 bits
        uid = ctrl[1]
        if type(uid) is not int or not 0 < uid < 1 << 64:
            _invalid(ctrl, f"the unlink id {brief(uid)} is not an integer in 1..2^64-1")
        sender = _peer_pid(conn, ctrl, ctrl[2], "the unlinking process")
        to = _our_pid(ctrl, ctrl[3], "the unlinked process")
        t = self._local(to)
        if t is not None and t.links is not None:
            t.links.discard(sender)
        conn.send(self._frame_for((UNLINK_ID_ACK, uid, to, sender)))

    def _c_unlink_ack(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        # {UNLINK_ID_ACK, Id, From, To}
        uid = ctrl[1]
        if type(uid) is not int or not 0 <= uid < 1 << 64:
            _invalid(ctrl, f"the unlink id {brief(uid)} is not a 64-bit unsigned integer")
        sender = _peer_pid(conn, ctrl, ctrl[2], "the acknowledging process")
        to = _our_pid(ctrl, ctrl[3], "the unlinking process")
        if conn.unlinking.get((to, sender)) == uid:
            del conn.unlinking[(to, sender)]

    def _c_unlink_old(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        # {UNLINK, From, To}: before UNLINK_ID (OTP 25 still accepts it; 26 does not)
        sender = _peer_pid(conn, ctrl, ctrl[1], "the unlinking process")
        to = _our_pid(ctrl, ctrl[2], "the unlinked process")
        t = self._local(to)
        if t is not None and t.links is not None:
            t.links.discard(sender)

    def _c_exit(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        """A link exit signal: the remote ``sender`` died (L-1, §1.1 rows 9–14)."""
        # {EXIT, From, To, Reason} | {EXIT_TT, From, To, Token, Reason}
        # | {PAYLOAD_EXIT, From, To} | {PAYLOAD_EXIT_TT, From, To, Token} -- Reason
        sender = _peer_pid(conn, ctrl, ctrl[1], "the exiting process")
        to = _our_pid(ctrl, ctrl[2], "the linked process")
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
        sender = _peer_pid(conn, ctrl, ctrl[1], "the sender")
        to = _our_pid(ctrl, ctrl[2], "the receiver")
        reason = msg if ctrl[0] in (PAYLOAD_EXIT2, PAYLOAD_EXIT2_TT) else ctrl[-1]
        t = self._local(to)
        if t is not None:
            self.node.receive_exit2(t, sender, reason)

    def _c_monitor(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        # {MONITOR_P, Watcher, PidOrName, Ref}
        watcher = _peer_pid(conn, ctrl, ctrl[1], "the watcher")
        proc, ref = ctrl[2], ctrl[3]
        _peer_ref(conn, ctrl, ref, "the monitor reference")
        name: str | None = None
        if type(proc) is Pid:
            t = self._local(_our_pid(ctrl, proc, "the monitored process"))
        else:
            name = _atom(ctrl, proc, "the monitored process")
            t = self.node.names.get(name)
        if t is None:
            conn.send(self._frame_for((PAYLOAD_MONITOR_P_EXIT, proc, watcher, ref), NOPROC, True))
            return
        self._drop_in_monitor(ref)  # the same ref twice: the second replaces the first
        self.in_monitors[ref] = (t.pid, name, watcher)
        if t.monitored_by is None:
            t.monitored_by = {ref: watcher}
        else:
            t.monitored_by[ref] = watcher

    def _drop_in_monitor(self, ref: Ref) -> tuple[Pid, str | None, Pid] | None:
        entry = self.in_monitors.pop(ref, None)
        if entry is not None:
            t = self.node.table.get(entry[0])
            if t is not None and t.monitored_by is not None:
                t.monitored_by.pop(ref, None)
        return entry

    def _c_demonitor(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        # {DEMONITOR_P, Watcher, PidOrName, Ref}
        watcher = _peer_pid(conn, ctrl, ctrl[1], "the watcher")
        proc, ref = ctrl[2], ctrl[3]
        if type(ref) is not Ref:
            _invalid(ctrl, f"the monitor reference {brief(ref)} is not a reference")
        if type(proc) is Pid:
            _our_pid(ctrl, proc, "the monitored process")
        else:
            _atom(ctrl, proc, "the monitored process")
        entry = self.in_monitors.get(ref)
        if entry is not None and entry[2] == watcher:
            self._drop_in_monitor(ref)

    def _c_monitor_exit(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        # {MONITOR_P_EXIT, PidOrName, Watcher, Ref, Reason}
        # | {PAYLOAD_MONITOR_P_EXIT, PidOrName, Watcher, Ref} -- Reason
        watched, watcher, ref = ctrl[1], ctrl[2], ctrl[3]
        if type(ref) is not Ref:
            _invalid(ctrl, f"the monitor reference {brief(ref)} is not a reference")
        if type(watched) is Pid:
            if watched.node is None:
                _invalid(ctrl, f"the monitored process {brief(watched)} is a pid of this node")
        else:
            _atom(ctrl, watched, "the monitored process")
        _our_pid(ctrl, watcher, "the watcher")
        reason = msg if ctrl[0] == PAYLOAD_MONITOR_P_EXIT else ctrl[4]
        w = self._local(watcher)
        # Only a monitor on a process of this peer's node: a peer cannot fire the
        # monitors held on other nodes, or local ones.
        entry = None if w is None or w.monitors is None else w.monitors.get(ref)
        if w is not None and entry is not None and _remote.monitor_node(*entry) == conn.name:
            self.node.fire_monitor(w, ref, reason)

    def _c_spawn_request(self, conn: Connection, ctrl: tuple[Any, ...], args: Any) -> None:
        # {SPAWN_REQUEST, ReqId, From, GroupLeader, {M, F, Arity}, Opts}, + Token
        # for SPAWN_REQUEST_TT -- ArgList
        req, origin, gl, mfa, opts = ctrl[1], ctrl[2], ctrl[3], ctrl[4], ctrl[5]
        _peer_ref(conn, ctrl, req, "the request reference")
        origin = _peer_pid(conn, ctrl, origin, "the requesting process")
        _pid(ctrl, gl, "the group leader")
        if type(mfa) is not tuple or len(mfa) != 3:
            _invalid(ctrl, f"{brief(mfa)} is not a {{Module, Function, Arity}} tuple")
        module = _atom(ctrl, mfa[0], "the module")
        function = _atom(ctrl, mfa[1], "the function")
        arity = mfa[2]
        if type(arity) is not int or not 0 <= arity <= 255:
            _invalid(ctrl, f"the arity {brief(arity)} is not an integer in 0..255")
        if type(opts) is not list:
            _invalid(ctrl, f"the options {brief(opts)} are not a proper list")
        link = Atom("link") in opts
        monitor = Atom("monitor") in opts or any(
            type(o) is tuple and len(o) == 2 and o[0] == "monitor" for o in opts
        )
        if type(args) is not list or len(args) != arity:
            conn.send(self._frame_for((SPAWN_REPLY, req, origin, 0, Atom("badarg"))))
            return
        fun, fargs = spawn_target(self, module, function, args)
        node = self.node
        pid, _ = node.spawn(None, fun, tuple(fargs), what="spawn_request")
        t = node.table[pid]
        flags = 0
        if link:
            t.links = {origin}
            flags |= 1
        if monitor:
            self._drop_in_monitor(req)
            t.monitored_by = {req: origin}
            self.in_monitors[req] = (pid, None, origin)
            flags |= 2
        conn.send(self._frame_for((SPAWN_REPLY, req, origin, flags, pid)))

    def _c_spawn_reply(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        # {SPAWN_REPLY, ReqId, To, Flags, Result}, + Token for SPAWN_REPLY_TT
        req, to, flags, result = ctrl[1], ctrl[2], ctrl[3], ctrl[4]
        if type(req) is not Ref or req.node is not None:
            _invalid(ctrl, f"the request reference {brief(req)} is not one of this node's")
        to = _our_pid(ctrl, to, "the requesting process")
        if type(flags) is not int or not 0 <= flags < 1 << 27:
            _invalid(ctrl, f"the flags {brief(flags)} are not an integer in 0..2^27-1")
        if type(result) is Pid:
            _peer_pid(conn, ctrl, result, "the new process")
        else:
            _atom(ctrl, result, "the error")
        pending = self.pending_spawns.get(req)
        if pending is not None and (pending[1] != conn.name or pending[0] != to):
            return  # a reply about another node's request: not this peer's to give
        self.pending_spawns.pop(req, None)
        p = self._local(to)
        if pending is None or p is None:
            if type(result) is Pid and flags & 1:
                # The requester is gone: the link must not outlive it.
                conn.send(self._frame_for((PAYLOAD_EXIT, to, result), NOPROC, True))
            return
        if type(result) is Pid:
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

    def _c_group_leader(self, conn: Connection, ctrl: tuple[Any, ...], msg: Any) -> None:
        # {GROUP_LEADER, Leader, Member}: tether has no group leaders; checked, ignored
        _pid(ctrl, ctrl[1], "the group leader")
        _pid(ctrl, ctrl[2], "the member")


def exit_reason_term(reason: Any) -> Any:
    """An exit reason as the term a BEAM peer should see (see ``Dist._reason_frame``)."""
    if type(reason) is str:
        return Atom(reason)
    if isinstance(reason, BaseException):
        return (_python_term(reason), [])
    return reason


def _nests_deeper(term: Any, limit: int) -> bool:
    """Whether containers in ``term`` nest deeper than ``limit`` levels (a term that
    contains itself does).  Iterative; gives up (False: let the encoder judge)
    after ``_NEST_WALK`` containers."""
    stack = [(term, 1)]
    walked = 0
    while stack:
        value, depth = stack.pop()
        if isinstance(value, tuple | list):
            items: Any = value
        elif isinstance(value, dict):
            items = [*value.keys(), *value.values()]
        elif isinstance(value, ImproperList):
            items = [*value.items, value.tail]
        else:
            continue
        if depth > limit:
            return True
        walked += 1
        if walked > _NEST_WALK:
            return False
        stack.extend((item, depth + 1) for item in items)
    return False


_NEST_WALK: Final = 100_000


# -- field checks for incoming control messages ---------------------------------

_ATOM_VALUES: Final = {True: "true", False: "false"}


def _invalid(ctrl: Any, why: str) -> NoReturn:
    raise ProtocolError(f"invalid distribution message {brief(ctrl)}: {why}")


def _pid(ctrl: tuple[Any, ...], value: Any, what: str) -> Pid:
    if type(value) is not Pid:
        _invalid(ctrl, f"{what} {brief(value)} is not a pid")
    return value


def _peer_pid(conn: Connection, ctrl: tuple[Any, ...], value: Any, what: str) -> Pid:
    """A pid of the peer's own node (erts: ``dep == external_pid_dist_entry(pid)``)."""
    if type(value) is not Pid or value.node != conn.name:
        _invalid(ctrl, f"{what} {brief(value)} is not a pid of {conn.name}")
    return value


def _our_pid(ctrl: tuple[Any, ...], value: Any, what: str) -> Pid:
    """A pid of this node (one of an older incarnation is never alive)."""
    if type(value) is not Pid or value.node is not None:
        _invalid(ctrl, f"{what} {brief(value)} is not a pid of this node")
    return value


def _peer_ref(conn: Connection, ctrl: tuple[Any, ...], value: Any, what: str) -> Ref:
    """A ref the peer made: it keys a table of this node, so no peer may name
    another's (erts keeps such tables per connection; tether keys them by ref)."""
    if type(value) is not Ref or value.node != conn.name:
        _invalid(ctrl, f"{what} {brief(value)} is not a reference of {conn.name}")
    return value


def _atom(ctrl: tuple[Any, ...], value: Any, what: str) -> str:
    """An atom's name (the decoder gives ``true``/``false``/``nil`` as Python values)."""
    if type(value) is Atom:
        return value
    if value is None:
        return "nil"
    if type(value) is bool:
        return _ATOM_VALUES[value]
    _invalid(ctrl, f"{what} {brief(value)} is not an atom")


def _settle(conn: Connection, full: bool) -> None:
    """Drop the entries of ``conn.unread`` whose message was taken (or whose process
    died): the oldest ones always, all of them with ``full``.

    A message counts as taken once its mailbox no longer holds that very object at
    its sequence number (a mailbox that empties reuses numbers; the identity check
    keeps a reused number from counting as unread, except for a shared object such
    as a small int, which can only overcount, never lose a byte).
    """
    q = conn.unread
    while q:
        p, mb, seq, msg, n = q[0]
        if p.mailbox is mb and mb.holds(seq, msg):
            break
        q.popleft()
        conn.unread_bytes -= n
    if full and q:
        keep = [e for e in q if e[0].mailbox is e[1] and e[1].holds(e[2], e[3])]
        conn.unread = deque(keep)
        conn.unread_bytes = sum(e[4] for e in keep)


class _FrameProtocol(asyncio.Protocol):
    """Reads an established connection: 4-byte length frames; an empty one is a tick.

    Also its flow control: the transport calls ``pause_writing``/``resume_writing``
    around the busy limit (output), and reading stops while the node is behind on
    this connection (input, ``Dist._input_check``)."""

    def __init__(self, dist: Dist, conn: Connection, transport: Any) -> None:
        self.dist = dist
        self.conn = conn
        self.transport = transport
        self.buf = bytearray()
        self.node = dist.node
        loop = dist.node.loop
        # loop.time(), without its Python frame where it is asyncio's own
        # (BaseEventLoop.time returns time.monotonic()); a loop with its own
        # clock (tether.testing's virtual one) is asked.
        self.time: Callable[[], float] = (
            time.monotonic if type(loop).time is asyncio.BaseEventLoop.time else loop.time
        )

    def data_received(self, data: bytes) -> None:
        # The scheduler turn that this read's messages wake runs at its end, here,
        # rather than as a loop callback (a second pass of the event loop, with a
        # poll of the selector, for every message from a peer): while the frames
        # are handled the node counts as scheduled, so deliveries only queue the
        # processes they wake.  Not when a turn is already scheduled or running,
        # nor inside an asyncio task's step (a process step cannot run there).
        node = self.node
        claimed = not node.scheduled and node.current is None and _current_task(node.loop) is None
        if claimed:
            node.scheduled = True
        try:
            conn = self.conn
            if conn.closed:
                return
            conn.last_read = self.time()
            buf = self.buf
            buf += data
            pos, size_all = 0, len(buf)
            dist = self.dist
            frame_of = dist._frame
            try:
                while size_all - pos >= 4:
                    size = int.from_bytes(buf[pos : pos + 4], "big")
                    if size == 0:
                        pos += 4  # a tick
                        continue
                    if size > MAX_FRAME:
                        raise ProtocolError(
                            f"frame of {size} bytes is over the limit of {MAX_FRAME}"
                        )
                    if size_all - pos - 4 < size:
                        break
                    frame = bytes(buf[pos + 4 : pos + 4 + size])
                    pos += 4 + size
                    frame_of(conn, frame)
                    if conn.closed:
                        return
            except (DecodeError, ProtocolError) as e:
                logger.error("closing the connection to %s: %s", conn.name, e)
                dist._drop(conn)
                return
            except Exception:  # a bug: it costs this connection, never the node
                logger.exception(
                    "closing the connection to %s: a frame could not be handled", conn.name
                )
                dist._drop(conn)
                return
            finally:
                if pos:
                    del buf[:pos]
            if conn.unread:
                _settle(conn, full=False)
                if dist.input_limit is not None and conn.unread_bytes > dist.input_limit:
                    dist._input_check(conn)
        except BaseException:
            if claimed:
                claimed = False
                node.run_soon()  # the turn, as a loop callback after all
            raise
        finally:
            if claimed:
                if node.runq:
                    node.run()
                else:
                    node.scheduled = False

    def eof_received(self) -> bool | None:
        return None  # close

    def pause_writing(self) -> None:
        self.conn.set_busy()

    def resume_writing(self) -> None:
        self.conn.clear_busy()

    def connection_lost(self, exc: Exception | None) -> None:
        self.dist._lost(self.conn)


def _python_term(value: Any) -> Any:
    """The codec's ``default``: Python exceptions go as Elixir-style exception structs."""
    if isinstance(value, BaseException):
        return _exception_term(value)
    return value


_current_task: Final = asyncio.current_task
_Handler = Callable[[Dist, Connection, tuple[Any, ...], Any], None]


# operation -> (arity of the control tuple, whether a payload term follows, handler).
# Operations not here (NODE_LINK, ALTACT_SIG_SEND, ...) are invalid, as in erts.
_CONTROL: Final[dict[int, tuple[int, bool, _Handler]]] = {
    SEND: (3, True, Dist._c_send),
    SEND_TT: (4, True, Dist._c_send),
    SEND_SENDER_OP: (3, True, Dist._c_send),
    SEND_SENDER_TT: (4, True, Dist._c_send),
    REG_SEND: (4, True, Dist._c_reg_send),
    REG_SEND_TT: (5, True, Dist._c_reg_send),
    ALIAS_SEND: (3, True, Dist._c_alias_send),
    ALIAS_SEND_TT: (4, True, Dist._c_alias_send),
    LINK: (3, False, Dist._c_link),
    UNLINK: (3, False, Dist._c_unlink_old),
    UNLINK_ID_OP: (4, False, Dist._c_unlink_id),
    UNLINK_ID_ACK: (4, False, Dist._c_unlink_ack),
    EXIT: (4, False, Dist._c_exit),
    EXIT_TT: (5, False, Dist._c_exit),
    PAYLOAD_EXIT: (3, True, Dist._c_exit),
    PAYLOAD_EXIT_TT: (4, True, Dist._c_exit),
    EXIT2: (4, False, Dist._c_exit2),
    EXIT2_TT: (5, False, Dist._c_exit2),
    PAYLOAD_EXIT2: (3, True, Dist._c_exit2),
    PAYLOAD_EXIT2_TT: (4, True, Dist._c_exit2),
    MONITOR_P: (4, False, Dist._c_monitor),
    DEMONITOR_P: (4, False, Dist._c_demonitor),
    MONITOR_P_EXIT: (5, False, Dist._c_monitor_exit),
    PAYLOAD_MONITOR_P_EXIT: (4, True, Dist._c_monitor_exit),
    SPAWN_REQUEST: (6, True, Dist._c_spawn_request),
    SPAWN_REQUEST_TT: (7, True, Dist._c_spawn_request),
    SPAWN_REPLY: (5, False, Dist._c_spawn_reply),
    SPAWN_REPLY_TT: (6, False, Dist._c_spawn_reply),
    GROUP_LEADER: (3, False, Dist._c_group_leader),
}

__all__ = [
    "Dist",
    "EncodeError",
    "HandshakeError",
    "ImproperList",
    "ProtocolError",
    "check_cookie",
    "digest",
]
