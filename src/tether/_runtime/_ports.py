"""Ports: OS programs run as processes of the node (Erlang's ``open_port``,
Elixir's ``Port``).

Design
------
A port is a process record in the node's table whose id is a ``Port``
(``_node``'s "Ports" note), so links, monitors, exit signals and the graceful
stop treat it as any process.  Its body (``_port_body``) is a coroutine like
any process's: it waits in ``receive`` for what concerns it (a wake-up from the
pipes, the BEAM's port messages, the DOWN of its owner) and does the port's
work in its own steps: framing the program's output, delivering it to the
owner, closing.  The OS side is driven from the event loop:

* The program is started synchronously, in ``Port.open``, with
  ``subprocess.Popen``: ``Port.open`` is a plain function as Elixir's is, and
  a missing program is an ``OSError`` there and then (``enoent``), not a
  crash later.  Its pipes are non-blocking file descriptors watched with the
  loop's ``add_reader``/``add_writer``; its exit with a pidfd (Linux; a
  waiting thread elsewhere).  Rejected: ``asyncio.create_subprocess_exec`` and
  the pipe transports, whose setup is a coroutine (``Port.open`` would have to
  be awaited, and a port killed during the setup would leave the transport
  owning descriptors the port cannot release), and which notice a program
  closing its input at once, where the BEAM (and so tether) says ``epipe``
  only when a write fails; Python 3.11's default child watcher is a thread per
  child.
* The program gets its own session (``setsid``), so it and whatever it starts
  form one process group that can be signalled as a whole, and on Linux
  ``PR_SET_PDEATHSIG``, so it is killed if this OS process dies without
  closing its ports (SIGKILL from outside, a crash).
* A closing port closes the program's input and output, sends SIGTERM to its
  process group and hands it to the reaper, a thread that sends SIGKILL to
  what is left of the group ``kill_timeout`` seconds later and collects the
  exit status.  The BEAM only closes the pipes (a program that ignores its
  input being closed lives on); tether promises no orphan programs.  The
  closing is triggered from three places, any of which may come first: the
  body's ``finally``, the record's done callback (which runs even when the
  port died before its body ever ran), and the node's shutdown hook (a node
  stopping closes every port).  At interpreter exit, programs still being
  reaped get SIGKILL at once.

Back-pressure, both ways
------------------------
* Output: the port frames and delivers while its owner has fewer than
  ``max_queue`` messages queued; then it stops reading the pipe (the program
  blocks on its full pipe, as a shell pipeline does) and looks again every
  ``POLL`` seconds, resuming once the owner's queue is down to half.  So a
  flooding program costs the owner at most ``max_queue`` messages, and the
  port at most ``READ_AHEAD`` unframed bytes plus one frame.
* Input: writes go straight to the pipe; what the program has not read yet
  waits in the port.  Above ``BUSY_HIGH`` bytes waiting the port is busy: the
  process that wrote is held before its next step (``Node.suspend``, the
  BEAM's busy port) until ``BUSY_LOW`` is reached.

Message shapes, exit reasons and ordering are the BEAM's (checked against
OTP 25; tests/conformance has the live comparison): at the program's end of
output, ``("exit_status", n)`` once it has exited (if asked), then what is
left of an unfinished line as ``("noeol", ...)``, then ``"eof"`` (if asked,
and the port stays open) or the port's exit ``"normal"``.

Invariants
----------
* A port is in ``_ports(node)`` iff its record is alive; ``_PortState.closed``
  is set once, when its program is handed to the reaper.
* The reader is registered with the loop iff the port is open, not at the end
  of its output, and not ``paused``; the writer iff bytes are waiting.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Final, cast

from . import _node as _n
from . import _types
from ._api import _cur, _node, receive
from ._types import ANY, NORMAL, Atom, Down, ExitSignal, Pid, Port, ProcessExit
from ._validate import check_bool, check_int, check_seconds, check_timeout

__all__ = ["System", "close", "command", "connect", "info", "list_ports", "open_port"]

logger: Final = logging.getLogger("tether")

DATA: Final = Atom("data")
EOL: Final = Atom("eol")
NOEOL: Final = Atom("noeol")
EXIT_STATUS: Final = Atom("exit_status")
EOF: Final = Atom("eof")
CLOSED: Final = Atom("closed")
CONNECTED: Final = Atom("connected")
COMMAND: Final = Atom("command")
CLOSE: Final = Atom("close")
CONNECT: Final = Atom("connect")
EINVAL: Final = Atom("einval")
EPIPE: Final = Atom("epipe")
BADSIG: Final = Atom("badsig")

READ_SIZE: Final = 65536  # one read of the program's output (a pipe's capacity)
READ_AHEAD: Final = 1 << 20  # unframed bytes at most before the port stops reading
POLL: Final = 0.01  # seconds between looks at a full owner queue
BUSY_HIGH: Final = 1 << 16  # bytes waiting for the program: the port is busy...
BUSY_LOW: Final = 1 << 14  # ...until it is down to this
REAP_POLL: Final = 0.02  # the reaper's look at programs being terminated
ZOMBIE_WAIT: Final = 2.0  # after SIGKILL, seconds before the reaper gives up on one

_PACKET_MAX: Final = {1: (1 << 8) - 1, 2: (1 << 16) - 1, 4: (1 << 32) - 1}
_INFO_DEFAULT: Final = ("name", "links", "id", "connected", "input", "output", "os_pid")
_INFO_ITEMS: Final = (*_INFO_DEFAULT, "monitors", "monitored_by", "queue_size")
_PORTS_KEY: Final = "tether.ports"


class _Wake:
    """The wake-up the loop's callbacks send a port (private: no user can send one)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<port wake-up>"


_WAKE: Final = _Wake()


def _ports(node: _n.Node) -> dict[Port, _PortState]:
    """The node's open ports, oldest first; on first use, register the shutdown hook
    that closes them all when the node stops."""
    ports: dict[Port, _PortState] | None = node.ext.get(_PORTS_KEY)
    if ports is None:
        ports = node.ext[_PORTS_KEY] = {}

        def close_all(ports: dict[Port, _PortState] = ports) -> None:
            for st in list(ports.values()):
                st.shutdown()

        node.shutdown_hooks.append(close_all)
    return ports


class _PortState:
    """One port's side of the OS: its program, pipes, buffers and options."""

    def __init__(
        self,
        node: _n.Node,
        port: Port,
        popen: subprocess.Popen[bytes],
        name: str,
        owner: Pid,
        packet: int | None,
        line: int | None,
        exit_status: bool,
        eof: bool,
        kill_timeout: float,
        max_queue: int,
    ) -> None:
        self.node = node
        self.loop = node.loop
        self.port = port
        self.popen = popen
        self.name = name
        self.connected = owner
        self.owner_ref: Any = None  # the port's monitor of its owner
        self.rec: _n.Process | None = None
        self.packet = packet
        self.line = line
        self.exit_status = exit_status
        self.eof = eof
        self.kill_timeout = kill_timeout
        self.max_queue = max_queue
        assert popen.stdout is not None and popen.stdin is not None
        self.out_fd = popen.stdout.fileno()
        self.in_fd = popen.stdin.fileno()
        os.set_blocking(self.out_fd, False)
        os.set_blocking(self.in_fd, False)
        # Output not yet delivered: raw chunks (no framing), or a buffer read
        # from ``pos`` on (line, packet).
        self.chunks: deque[bytes] = deque()
        self.buf = bytearray()
        self.pos = 0
        self.buffered = 0
        self.reading = False
        self.paused = False
        self.at_eof = False
        self.done = False  # the end of output was handled ("eof" sent)
        self.blocked = False  # output waits for the owner's queue to go down
        self.held: Any = None  # a frame taken but not delivered (the owner was full)
        self.code: int | None = None  # the program's exit status, once known
        self.pidfd = -1
        # Input not yet written.
        self.out: deque[bytes] = deque()
        self.out_size = 0
        self.writing = False
        self.stdin_open = True
        self.close_input_when_written = False
        self.busy: Any = None  # an asyncio future while the port is busy
        self.input = 0
        self.output = 0
        self.woken = False
        self.closed = False

    # -- the loop's side: callbacks --------------------------------------------

    def start(self) -> None:
        self.loop.add_reader(self.out_fd, self._readable)
        self.reading = True
        self._watch_exit()

    def wake(self) -> None:
        """Have the port's body run (from a loop callback)."""
        rec = self.rec
        if not self.woken and rec is not None and rec.state != _n.DEAD:
            self.woken = True
            self.node.deliver(rec, _WAKE)

    def _readable(self) -> None:
        try:
            data = os.read(self.out_fd, READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""  # a read error ends the output, as end of file does
        if not data:
            self._stop_reading()
            self.at_eof = True
            self.wake()
            return
        self.input += len(data)
        if self.packet is None and self.line is None:
            self.chunks.append(data)
        else:
            self.buf += data
        self.buffered += len(data)
        if self.buffered >= READ_AHEAD:
            self._pause()
        self.wake()

    def _stop_reading(self) -> None:
        if self.reading:
            self.reading = False
            self.loop.remove_reader(self.out_fd)

    def _pause(self) -> None:
        if self.reading:
            self._stop_reading()
            self.paused = True

    def _resume(self) -> None:
        if self.paused and not self.closed:
            self.paused = False
            self.reading = True
            self.loop.add_reader(self.out_fd, self._readable)

    def _watch_exit(self) -> None:
        try:
            self.pidfd = os.pidfd_open(self.popen.pid)
        except (AttributeError, OSError):  # not Linux (or too old): a thread waits
            threading.Thread(target=self._wait_thread, name="tether-port-wait", daemon=True).start()
        else:
            self.loop.add_reader(self.pidfd, self._exited)

    def _wait_thread(self) -> None:
        self.popen.wait()
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
            self.loop.call_soon_threadsafe(self._exited)

    def _unwatch_exit(self) -> None:
        if self.pidfd >= 0:
            self.loop.remove_reader(self.pidfd)
            os.close(self.pidfd)
            self.pidfd = -1

    def _exited(self) -> None:
        self._unwatch_exit()
        rc = self.popen.poll()
        if rc is None:  # pragma: no cover - the pidfd said it has exited
            rc = self.popen.wait()
        self.code = rc if rc >= 0 else 128 - rc  # a signal: 128 + its number, as sh says
        self.wake()

    # -- input -----------------------------------------------------------------

    def write(self, data: bytes) -> Any:
        """Queue ``data`` for the program; the reason the port must exit, or None."""
        if not self.stdin_open:
            return EPIPE
        self.output += len(data)
        if not self.out:
            try:
                n = os.write(self.in_fd, data)
            except (BlockingIOError, InterruptedError):
                n = 0
            except OSError:  # EPIPE: the program closed its input (or is gone)
                return EPIPE
            if n == len(data):
                return None
            data = data[n:]
        self.out.append(data)
        self.out_size += len(data)
        if not self.writing:
            self.writing = True
            self.loop.add_writer(self.in_fd, self._writable)
        if self.out_size > BUSY_HIGH and self.busy is None:
            self.busy = self.loop.create_future()
        return None

    def _writable(self) -> None:
        while self.out:
            data = self.out[0]
            try:
                n = os.write(self.in_fd, data)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self._stop_writing()
                self._fail(EPIPE)
                return
            self.out_size -= n
            if n < len(data):
                self.out[0] = data[n:]
                break
            self.out.popleft()
        if self.busy is not None and self.out_size <= BUSY_LOW:
            self._not_busy()
        if not self.out:
            self._stop_writing()
            if self.close_input_when_written:
                self.close_input()

    def _stop_writing(self) -> None:
        if self.writing:
            self.writing = False
            self.loop.remove_writer(self.in_fd)

    def _not_busy(self) -> None:
        busy, self.busy = self.busy, None
        if busy is not None and not busy.done():
            busy.set_result(None)

    def close_input(self) -> None:
        """Close the program's input (it reads end of file) once all is written."""
        if self.out:
            self.close_input_when_written = True
            return
        if self.stdin_open:
            self.stdin_open = False
            assert self.popen.stdin is not None
            with contextlib.suppress(OSError):
                self.popen.stdin.close()

    def _fail(self, reason: Any) -> None:
        """The port exits with ``reason`` (from a loop callback)."""
        rec = self.rec
        if rec is not None and rec.state != _n.DEAD:
            self.node.terminate(rec, reason)

    # -- output, in the port's own steps ---------------------------------------

    def _frame(self) -> Any:
        """Take the next complete message of output, or None."""
        held = self.held
        if held is not None:
            self.held = None
            return held
        if self.packet is None and self.line is None:
            if not self.chunks:
                return None
            chunk = self.chunks.popleft()
            self.buffered -= len(chunk)
            return chunk
        buf, pos = self.buf, self.pos
        if self.line is not None:
            # erts's line mode: a line of at most L bytes is ("eol", line); a
            # longer one comes in L-byte ("noeol", piece)s, its end as "eol".
            limit = self.line
            i = buf.find(b"\n", pos, pos + limit + 1)
            if i >= 0:
                frame: Any = (EOL, bytes(buf[pos:i]))
                used = i + 1 - pos
            elif len(buf) - pos > limit:
                frame = (NOEOL, bytes(buf[pos : pos + limit]))
                used = limit
            else:
                return None
        else:
            n = self.packet
            assert n is not None
            if len(buf) - pos < n:
                return None
            size = int.from_bytes(buf[pos : pos + n], "big")
            if len(buf) - pos < n + size:
                return None
            frame = bytes(buf[pos + n : pos + n + size])
            used = n + size
        self.pos = pos + used
        self.buffered -= used
        return frame

    def pump(self) -> bool:
        """Deliver what the owner may take; True when the port is to close now.

        Runs in the port's own steps.  The owner's queue decides (see the
        module notes): at ``max_queue`` the port holds the frame in hand and
        stops reading; from then on it is ``blocked`` until the queue is down
        to half, looked at every ``POLL`` seconds.
        """
        node = self.node
        owner = node.table.get(self.connected)
        mb = owner.mailbox if owner is not None else None
        limit = self.max_queue
        if self.blocked:
            if mb is not None and len(mb) * 2 > limit:
                return False
            self.blocked = False
        port = self.port
        frame = self._frame()
        while frame is not None:
            if owner is None:
                frame = self._frame()  # the owner is gone (its DOWN is on the way)
                continue
            if mb is None:
                mb = owner.mailbox
            if mb is not None and len(mb) >= limit:
                self.held = frame
                self.blocked = True
                break
            node.deliver(owner, (port, (DATA, frame)))
            frame = self._frame()
        if self.pos > 65536 and self.pos * 2 > len(self.buf):
            del self.buf[: self.pos]  # compact now and then, not per frame
            self.pos = 0
        if self.blocked:
            self._pause()
            return False
        self._resume()
        if not self.at_eof or self.done:
            return False
        # The end of output: as erts, the exit status (once the program has
        # exited), then what is left of a line, then eof or the close.
        if self.exit_status:
            if self.code is None:
                return False  # the program closed its output but runs on
            if owner is not None:
                node.deliver(owner, (port, (EXIT_STATUS, self.code)))
        if self.line is not None and len(self.buf) > self.pos:
            rest = bytes(self.buf[self.pos :])
            self.buf.clear()
            self.pos = 0
            if owner is not None:
                node.deliver(owner, (port, (DATA, (NOEOL, rest))))
        if self.eof:
            self.done = True
            if owner is not None:
                node.deliver(owner, (port, EOF))
            return False
        return True

    # -- closing ---------------------------------------------------------------

    def shutdown(self) -> None:
        """Close the pipes and end the program (idempotent; see the module notes)."""
        if self.closed:
            return
        self.closed = True
        ports = self.node.ext.get(_PORTS_KEY)
        if ports is not None:
            ports.pop(self.port, None)
        self._stop_reading()
        self._stop_writing()
        self.paused = False
        self._not_busy()
        self.out.clear()
        for f in (self.popen.stdin, self.popen.stdout):
            if f is not None:
                with contextlib.suppress(OSError):
                    f.close()
        self.stdin_open = False
        with contextlib.suppress(OSError, RuntimeError):  # the loop may be closed
            self._unwatch_exit()
        _REAPER.terminate(self.popen, self.kill_timeout)


async def _port_body(st: _PortState) -> None:
    """The port's process: handle wake-ups, port messages and its owner's DOWN."""
    try:
        while True:
            if st.blocked:
                try:
                    msg = await receive(timeout=POLL)
                except TimeoutError:
                    msg = _WAKE
            else:
                msg = await receive()
            if msg is _WAKE:
                st.woken = False
            elif type(msg) is Down and msg.ref == st.owner_ref:
                # The owner exited: the port closes with its reason (as through
                # the link when that reason is not normal; tether closes it also
                # when the owner unlinked itself: no program outlives its owner).
                raise ProcessExit(msg.reason)
            else:
                _port_message(st, msg)
            if st.rec is not None and st.rec.state == _n.DEAD:
                return  # closed by a port message ("close")
            if st.pump():
                return  # the end of output: exit "normal"
    finally:
        st.shutdown()


def _port_message(st: _PortState, msg: Any) -> None:
    """The BEAM's port messages ``(owner, ("command", data))``, ``(owner, "close")``
    and ``(owner, ("connect", pid))``; anything else, or any of them from a pid
    that is not the owner, closes the port with ``"badsig"`` (OTP 25)."""
    node = st.node
    rec = st.rec
    assert rec is not None
    if type(msg) is tuple and len(msg) == 2 and msg[0] == st.connected:
        sender, what = msg
        if isinstance(what, str) and what == CLOSE:
            node.terminate(rec, NORMAL)
            s = node.table.get(sender)
            if s is not None:
                node.deliver(s, (st.port, CLOSED))  # after the port's EXIT, as erts
            return
        if type(what) is tuple and len(what) == 2:
            tag, arg = what
            if isinstance(tag, str) and tag == COMMAND:
                data = _iodata(arg)
                if data is not None:
                    reason = _command(st, data)
                    if reason is not None:
                        raise ProcessExit(reason)
                    return
            elif (
                isinstance(tag, str)
                and tag == CONNECT
                and type(arg) is Pid
                and node.table.get(arg) is not None
            ):
                _connect(st, arg)
                s = node.table.get(sender)
                if s is not None:
                    node.deliver(s, (st.port, CONNECTED))
                return
    raise ProcessExit(BADSIG)


# -- the API (Port's static methods call these) --------------------------------


def open_port(
    argv: Any,
    *,
    packet: Any,
    line: Any,
    exit_status: Any,
    eof: Any,
    stderr_to_stdout: Any,
    cd: Any,
    env: Any,
    kill_timeout: Any,
    max_queue: Any,
) -> Port:
    what = "Port.open"
    p = _cur(what)
    args = _check_argv(argv, what)
    if packet is not None and (isinstance(packet, bool) or packet not in (1, 2, 4)):
        raise ValueError(f"{what}: packet must be 1, 2, 4 or None, got {packet!r}")
    if line is not None:
        check_int(line, what, "line", 1)
        if packet is not None:
            raise ValueError(f"{what}: give packet or line, not both")
    check_bool(exit_status, what, "exit_status")
    check_bool(eof, what, "eof")
    check_bool(stderr_to_stdout, what, "stderr_to_stdout")
    if cd is not None and not isinstance(cd, str | bytes | os.PathLike):
        raise TypeError(f"{what}: cd must be a directory path or None, got {cd!r}")
    full_env = _check_env(env, what)
    grace = check_seconds(kill_timeout, what, "kill_timeout")
    check_int(max_queue, what, "max_queue", 1)
    node = _node()
    if p.state == _n.DEAD:
        return Port(next(node.ids))  # a dying process's effects are dropped
    popen = subprocess.Popen(
        args,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if stderr_to_stdout else None,
        cwd=cd,
        env=full_env,
        start_new_session=True,
        preexec_fn=_PREEXEC,  # see _pdeathsig: one prctl call, no lock taken
        bufsize=0,
    )
    port = Port(next(node.ids))
    name = os.fsdecode(args[0])
    st = _PortState(
        node, port, popen, name, p.pid, packet, line, exit_status, eof, grace, max_queue
    )
    coro = _n._start_coroutine(_port_body, (st,), what)
    # The record: a process whose id is the Port (typed Pid; see Process.pid).
    rec = _n.Process(cast(Pid, port), coro, _port_body)
    st.rec = rec
    node.table[port] = rec
    _ports(node)[port] = st
    # Linked to its owner, and monitoring it (the port closes when it exits).
    rec.links = {p.pid}
    if p.links is None:
        p.links = {port}
    else:
        p.links.add(port)
    st.owner_ref = node.monitor_pid(rec, p.pid)
    # Cleanup even if the port dies before its body first runs (then its
    # finally never runs): the done callback comes soon after its death.
    rec.add_done_callback(lambda _rec: st.shutdown())
    node.queue(rec)
    st.start()
    return port


def command(port: Any, data: Any) -> bool:
    what = "Port.command"
    p = _cur(what)
    _check_port(port, what)
    payload = _iodata(data)
    if payload is None:
        raise TypeError(
            f"{what}: data must be bytes, bytearray, memoryview, str (sent as UTF-8) or a "
            f"list of these, got {data!r}"
        )
    st = _open_state(port, what)
    if p.state == _n.DEAD:
        return True
    reason = _command(st, payload)
    node = _node()
    if reason is not None:
        assert st.rec is not None
        node.terminate(st.rec, reason)
        if p.state == _n.DEAD and p is node.current:
            raise ExitSignal(p.reason)  # the port's exit ended its (linked) caller
    elif st.busy is not None:
        node.suspend(p, st.busy)  # a busy port holds the writer (the BEAM's busy port)
    return True


def close(port: Any) -> bool:
    what = "Port.close"
    p = _cur(what)
    _check_port(port, what)
    st = _open_state(port, what)
    if p.state != _n.DEAD and st.rec is not None:
        _node().terminate(st.rec, NORMAL)
    return True


def connect(port: Any, pid: Any) -> bool:
    what = "Port.connect"
    p = _cur(what)
    _check_port(port, what)
    if type(pid) is not Pid:
        raise TypeError(f"{what}: pid must be a tether.Pid, got {pid!r}")
    st = _open_state(port, what)
    if pid.node is not None or pid not in _node().table:
        raise ValueError(f"{what}: {pid!r} is not a live process of this node")
    if p.state != _n.DEAD:
        _connect(st, pid)
    return True


def info(port: Any, item: Any = None) -> Any:
    what = "Port.info"
    _cur(what)
    _check_port(port, what)
    if item is not None and (not isinstance(item, str) or item not in _INFO_ITEMS):
        if not isinstance(item, str):
            raise TypeError(f"{what}: item must be a str or None, got {item!r}")
        raise ValueError(f"{what}: unknown item {item!r}; the items: {', '.join(_INFO_ITEMS)}")
    node = _node()
    st = _ports(node).get(port)
    if st is None or st.rec is None or st.rec.state == _n.DEAD:
        return None
    if item is None:
        return {k: _info_item(st, k) for k in _INFO_DEFAULT}
    return _info_item(st, item)


def list_ports() -> list[Port]:
    _cur("Port.list")
    # A port that has just died may still be here until its program is handed to
    # the reaper (a moment later): only live ones are listed.
    return [port for port, st in _ports(_node()).items() if st.rec and st.rec.state != _n.DEAD]


# -- helpers ---------------------------------------------------------------------


def _check_port(port: Any, what: str) -> None:
    if type(port) is not Port:
        raise TypeError(f"{what}: port must be a tether.Port, got {port!r}")


def _open_state(port: Port, what: str) -> _PortState:
    st = _ports(_node()).get(port)
    if st is None or st.rec is None or st.rec.state == _n.DEAD:
        raise ValueError(f"{what}: {port!r} is not open (it was closed, or its program ended)")
    return st


def _check_argv(argv: Any, what: str) -> list[Any]:
    if isinstance(argv, str | bytes):
        raise TypeError(
            f"{what}: argv must be a list such as ['cat'] or ['sh', '-c', command], "
            f"got the string {argv!r} (no shell splits it)"
        )
    if not isinstance(argv, list | tuple) or not argv:
        raise TypeError(f"{what}: argv must be a non-empty list of str, got {argv!r}")
    for a in argv:
        if not isinstance(a, str | bytes | os.PathLike):
            raise TypeError(f"{what}: every item of argv must be a str, got {a!r} in {argv!r}")
    return list(argv)


def _check_env(env: Any, what: str) -> dict[str, str] | None:
    if env is None:
        return None
    if not isinstance(env, dict):
        raise TypeError(f"{what}: env must be a dict of name -> str or None, got {env!r}")
    full = dict(os.environ)
    for k, v in env.items():
        if not isinstance(k, str) or not k or "=" in k:
            raise ValueError(f"{what}: env names must be non-empty str without '=', got {k!r}")
        if v is None:
            full.pop(k, None)
        elif isinstance(v, str):
            full[k] = v
        else:
            raise TypeError(f"{what}: env[{k!r}] must be a str or None (unset), got {v!r}")
    return full


def _iodata(data: Any) -> bytes | None:
    """Erlang's iodata, the Python way: bytes-like, str (UTF-8) or a list of them."""
    t = type(data)
    if t is bytes:
        return data  # type: ignore[no-any-return]
    if t is str:
        return data.encode()  # type: ignore[no-any-return]
    if t is bytearray or t is memoryview:
        return bytes(data)
    if t is list or t is tuple:
        parts = []
        for d in data:
            b = _iodata(d)
            if b is None:
                return None
            parts.append(b)
        return b"".join(parts)
    return None


def _command(st: _PortState, data: bytes) -> Any:
    """Write one command; the reason the port must exit with, or None."""
    if st.packet is not None:
        if len(data) > _PACKET_MAX[st.packet]:
            return EINVAL  # too long for its header: the BEAM's einval
        data = len(data).to_bytes(st.packet, "big") + data
    return st.write(data)


def _connect(st: _PortState, pid: Pid) -> None:
    node = st.node
    rec = st.rec
    assert rec is not None
    node.link(rec, pid)
    if st.owner_ref is not None:
        node.demonitor(rec, st.owner_ref)
    st.connected = pid
    st.owner_ref = node.monitor_pid(rec, pid)
    st.wake()  # output held for the old owner goes to the new one


def _info_item(st: _PortState, item: str) -> Any:
    rec = st.rec
    assert rec is not None
    if item == "name":
        return st.name
    if item == "links":
        return list(rec.links) if rec.links else []
    if item == "id":
        return st.port.id
    if item == "connected":
        return st.connected
    if item == "input":
        return st.input
    if item == "output":
        return st.output
    if item == "os_pid":
        return st.popen.pid
    if item == "monitors":
        return (
            [(Atom("process"), obj) for (_t, obj) in rec.monitors.values()] if rec.monitors else []
        )
    if item == "monitored_by":
        return list(rec.monitored_by.values()) if rec.monitored_by else []
    if item == "queue_size":
        return st.out_size
    raise AssertionError(item)


# -- the program's end: SIGTERM, then SIGKILL ------------------------------------


class _Job:
    __slots__ = ("deadline", "killed", "pgid", "popen")

    def __init__(self, popen: subprocess.Popen[bytes], deadline: float) -> None:
        self.popen = popen
        self.pgid = popen.pid  # setsid: the program leads its own process group
        self.deadline = deadline
        self.killed = False


def _signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to a process group; False if the group is empty."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a member changed its user
        return True
    return True


class _Reaper:
    """Ends the programs of closed ports, in a thread of its own.

    ``terminate`` sends SIGTERM to the program's process group at once; the
    thread then waits for the program to exit and its group to empty, sends
    SIGKILL to the group when ``kill_timeout`` has passed, and collects the exit
    status (no zombie is left).  It runs only while there is such work, looking
    every ``REAP_POLL`` seconds.  Real time: a program lives in the real world
    (the virtual clock of ``tether.testing`` does not apply).
    """

    def __init__(self) -> None:
        self.cond = threading.Condition(threading.Lock())
        self.jobs: list[_Job] = []
        self.thread: threading.Thread | None = None

    def terminate(self, popen: subprocess.Popen[bytes], grace: float) -> None:
        alive = popen.poll() is None
        if not _signal_group(popen.pid, signal.SIGTERM) and not alive:
            return  # it has exited and left nothing behind
        if alive:
            with contextlib.suppress(ProcessLookupError):
                popen.send_signal(signal.SIGTERM)  # if it left its group
        with self.cond:
            self.jobs.append(_Job(popen, time.monotonic() + grace))
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="tether-reaper", daemon=True)
                self.thread.start()
            self.cond.notify()

    def _run(self) -> None:
        with self.cond:
            while self.jobs:
                now = time.monotonic()
                for job in list(self.jobs):
                    exited = job.popen.poll() is not None
                    if exited and not _signal_group(job.pgid, 0):
                        self.jobs.remove(job)
                    elif now >= job.deadline and not job.killed:
                        job.killed = True
                        job.deadline = now + ZOMBIE_WAIT
                        _signal_group(job.pgid, signal.SIGKILL)
                        if not exited:
                            with contextlib.suppress(ProcessLookupError):
                                job.popen.kill()
                    elif now >= job.deadline:
                        # Killed, and still members (zombies nobody reaps, or a
                        # process in uninterruptible sleep): nothing more to do.
                        self.jobs.remove(job)
                self.cond.wait(REAP_POLL)
            self.thread = None

    def kill_all(self) -> None:
        """At interpreter exit: SIGKILL every program still being terminated."""
        with self.cond:
            jobs = list(self.jobs)
        for job in jobs:
            _signal_group(job.pgid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                job.popen.kill()
            with contextlib.suppress(Exception):
                job.popen.wait(0.5)

    def pending(self) -> int:
        with self.cond:
            return len(self.jobs)


_REAPER: Final = _Reaper()
atexit.register(_REAPER.kill_all)


def _pdeathsig() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has Linux kill the program if this process dies.

    It runs in the child between fork and exec, where only async-signal-safe
    work is safe: it makes one ``prctl`` call through a function pointer looked
    up here, in the parent, and takes no lock.  If this process died before the
    call, the child kills itself (the parent-death signal would never come).
    """
    if sys.platform != "linux":
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover - no libc prctl
        return None
    pr_set_pdeathsig = 1
    kill = signal.SIGKILL
    parent = os.getpid()

    def preexec() -> None:
        prctl(pr_set_pdeathsig, int(kill), 0, 0, 0)
        if os.getppid() != parent:
            os.kill(os.getpid(), kill)

    return preexec


_PREEXEC: Final = _pdeathsig()


# -- System.cmd ---------------------------------------------------------------------


class System:
    """Elixir's ``System`` module, the part about running programs."""

    def __init__(self) -> None:
        raise TypeError("System is a namespace of functions; it has no instances")

    @staticmethod
    async def cmd(
        command: str,
        args: list[str] | tuple[str, ...] = (),
        *,
        input: bytes | str = b"",
        cd: Any = None,
        env: dict[str, str | None] | None = None,
        stderr_to_stdout: bool = False,
        timeout: float | None = None,
    ) -> tuple[bytes, int]:
        """Run a program to its end; return ``(output, exit_status)``.

        Elixir's ``System.cmd/3``: ``await System.cmd("echo", ["hello"])`` is
        ``(b"hello\\n", 0)``.  The program runs as a port of the caller (so it
        is terminated if the caller dies); ``command`` is looked up on
        ``PATH``, no shell is involved.  Unlike Elixir, the program's standard
        input gets ``input`` and is then closed (Elixir leaves it open, so a
        program that reads it never ends), and the caller's mailbox is left as
        it was (the port is not linked to the caller).

        Args:
            input: bytes (or str, as UTF-8) for the program's standard input.
            cd, env, stderr_to_stdout: as for :meth:`tether.Port.open`.
            timeout: seconds the program may run (``None``: no limit); then it
                is terminated and ``TimeoutError`` raised.

        Raises:
            OSError: the program cannot be started (``FileNotFoundError``).
            TimeoutError: ``timeout`` passed first.
            TypeError, ValueError: a bad argument.
        """
        what = "System.cmd"
        p = _cur(what)
        if not isinstance(command, str) or not command:
            raise TypeError(f"{what}: command must be a non-empty str, got {command!r}")
        if not isinstance(args, list | tuple) or not all(isinstance(a, str) for a in args):
            raise TypeError(f"{what}: args must be a list of str, got {args!r}")
        data = _iodata(input) if isinstance(input, bytes | str) else None
        if data is None:
            raise TypeError(f"{what}: input must be bytes or str, got {input!r}")
        t = check_timeout(timeout, what)
        port = open_port(
            [command, *args],
            packet=None,
            line=None,
            exit_status=True,
            eof=False,
            stderr_to_stdout=stderr_to_stdout,
            cd=cd,
            env=env,
            kill_timeout=5.0,
            max_queue=1000,
        )
        node = _node()
        st = _ports(node).get(port)
        if st is None:  # the caller is dying: its effects are dropped
            raise ExitSignal(p.reason)
        node.unlink(p, port)
        if data:
            st.write(data)
        st.close_input()
        deadline = None if t is None else node.loop.time() + t
        out: list[bytes] = []
        try:
            while True:
                left = None if deadline is None else max(0.0, deadline - node.loop.time())
                try:
                    _port, (tag, value) = await receive((port, (ANY, ANY)), timeout=left)
                except TimeoutError:
                    raise TimeoutError(
                        f"{what}: {command!r} ran for more than {timeout} s; it was terminated"
                    ) from None
                if tag == DATA:
                    out.append(value)
                elif tag == EXIT_STATUS:
                    return b"".join(out), value
        finally:
            rec = node.table.get(port)
            if rec is not None:
                node.terminate(rec, NORMAL)


_types._PORTS = sys.modules[__name__]  # the Port functions call into this module
