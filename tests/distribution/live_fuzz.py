"""The live-node fuzzer (issue #12 item 2): control messages on real connections to
a running node whose processes link, monitor, exit and disconnect.

``fuzz.py`` decodes fuzzed frames; this one runs their consequences.  A real
tether node (``tether.run``, real epmd, real sockets on loopback) hosts worker
processes; a few raw peers (``hostile.RawPeer``) connect to it and send batches
of well-formed control messages of every operation -- links, unlinks, monitors,
exits, sends, spawn requests, replies -- built from the node's real pids, names
and refs, so they take effect.  Some messages are commands for the workers
(link to, monitor, send to, exit with a reason that may have no term), so the
node sends signals back; the driver also disconnects peers from the node's side
and hangs up from theirs.  A batch may end with one *invalid* message: one field
of the wrong type or shape (or a wrong arity, a stray or missing payload, an
unknown operation).

Oracle:

* a batch ending with an invalid message closes that connection (and only
  that one); a valid batch does not (a round trip through the node after it);
* the scheduler keeps running: that round trip goes through a process, and it
  is also what the driver (a plain asyncio task, not a process) waits on, so a
  wedged scheduler is a failed round trip, not a hang;
* no exception escapes: nothing logged with a traceback, no error from the
  event loop, no crash report but the workers' own;
* the tables stay consistent (``check_tables``) at every checkpoint, and once
  every peer is gone no process holds a link or monitor to another node.

Run: ``python -m tests.distribution.live_fuzz --messages 1000000 [--seed N]``
(it starts an epmd of its own on a free port); the suite runs a slice
(``test_live_fuzz.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import tether
from tether import Atom, Pid, Process, Ref, receive, rpc, send
from tether._dist import node as dn
from tether._runtime import _node as _n
from tether._runtime._remote import monitor_node
from tether._runtime._types import ImproperList

from .hostile import NO_PAYLOAD, RawPeer, our_ref, ours, the_dist

A = Atom
COOKIE = "live-fuzz-cookie"
WORKERS = 24
NAMES = [f"fuzz_w{i}" for i in range(4)]
ECHO = "fuzz_echo"
SYNC_TIMEOUT = 20.0  # generous: a loaded 2-core machine; a wedge is forever


@dataclass
class Stats:
    messages: int = 0
    invalid: int = 0
    batches: int = 0
    closed_as_expected: int = 0
    reconnects: int = 0
    disconnects: int = 0
    hangups: int = 0
    checkpoints: int = 0
    spawn_replies: int = 0
    seconds: float = 0.0
    violations: list[str] = field(default_factory=list)
    unexpected_logs: list[str] = field(default_factory=list)
    ops: dict[int, int] = field(default_factory=dict)


# -- the node's side: workers and the echo -----------------------------------------


async def worker() -> None:
    """Obeys commands the peers send it: the node's processes act on their own."""
    refs: list[Ref] = []
    while True:
        msg = await receive()
        if type(msg) is not tuple or not msg or not isinstance(msg[0], str):
            continue
        cmd, args = msg[0], msg[1:]
        try:
            if cmd == "link" and type(args[0]) is Pid:
                Process.link(args[0])
            elif cmd == "unlink" and type(args[0]) is Pid:
                Process.unlink(args[0])
            elif cmd == "monitor" and (type(args[0]) is Pid or type(args[0]) is tuple):
                refs.append(Process.monitor(args[0]))
            elif cmd == "demonitor" and refs:
                Process.demonitor(refs.pop(0), flush=True)
            elif cmd == "trap":
                Process.flag("trap_exit", bool(args[0]))
            elif cmd == "send" and type(args[0]) is Pid:
                send(args[0], args[1])
            elif cmd == "exit":
                tether.exit(_reason(args[0]))
            elif cmd == "spawn" and isinstance(args[0], str):
                await tether.Node.spawn(args[0], "fuzz", "worker", [])
        except (TypeError, ValueError, tether.NoProcError, dn.EncodeError):
            pass  # a command with bad arguments is the worker's badarg, not the node's


def _reason(kind: Any) -> Any:
    """Exit reasons, some with no term at all (``_reason_frame``'s fallback)."""
    if kind == "cyclic":
        x: list[Any] = []
        x.append(x)
        return x
    if kind == "deep":
        d: Any = ()
        for _ in range(5000):
            d = (d,)
        return d
    if kind == "object":
        return object()
    return kind


rpc.expose("fuzz", "worker")(worker)


async def echo() -> None:
    """The round trip of every sync: ``(token, pid)`` -> ``("pong", token)``."""
    while True:
        msg = await receive()
        if type(msg) is tuple and len(msg) == 2 and type(msg[1]) is Pid:
            send(msg[1], ("pong", msg[0]))


# -- table consistency --------------------------------------------------------------


def check_tables() -> list[str]:
    """The node's invariants (``_node`` and ``_dist.node`` module docs)."""
    node = _n.NODE
    assert isinstance(node, _n.Node)
    dist = the_dist()
    nodes = set(dist.connections)
    bad: list[str] = []
    for pid, p in node.table.items():
        if p.state == _n.DEAD:
            bad.append(f"{pid!r} is dead but in the table")
        for other in p.links or ():
            if type(other) is not Pid:
                bad.append(f"{pid!r} links to a non-pid {other!r}")
            elif other.node is None:
                q = node.table.get(other)
                if q is None or not q.links or pid not in q.links:
                    bad.append(f"link {pid!r} -> {other!r} is not symmetric")
            elif other.node not in nodes:
                bad.append(f"{pid!r} links to {other!r} of a node with no connection")
        for ref, entry in (p.monitors or {}).items():
            target, obj = entry
            where = monitor_node(target, obj)
            if where is not None and where not in nodes:
                bad.append(f"{pid!r} monitors {obj!r} of a node with no connection")
            if type(target) is Pid and target.node is None:
                t = node.table.get(target)
                if t is None or (t.monitored_by or {}).get(ref) != pid:
                    bad.append(f"monitor {ref!r} of {pid!r} has no other side")
        for ref, watcher in (p.monitored_by or {}).items():
            if type(watcher) is not Pid:
                bad.append(f"{pid!r} is monitored by a non-pid {watcher!r}")
            elif watcher.node is None:
                w = node.table.get(watcher)
                if w is None or (w.monitors or {}).get(ref, (None,))[0] != pid:
                    bad.append(f"{pid!r} monitored_by {ref!r} has no other side")
            elif dist.in_monitors.get(ref, (None, None, None))[2] != watcher:
                bad.append(f"{pid!r} monitored by {watcher!r} is not in in_monitors")
            elif watcher.node not in nodes:
                bad.append(f"{pid!r} monitored by {watcher!r} of a node with no connection")
    for ref, (target, _name, watcher) in dist.in_monitors.items():
        t = node.table.get(target)
        if t is None or (t.monitored_by or {}).get(ref) != watcher:
            bad.append(f"in_monitors {ref!r} has no target side")
    for name, p in node.names.items():
        if p.name != name or node.table.get(p.pid) is not p:
            bad.append(f"name {name} points at a dead or renamed process")
    for conn in dist.connections.values():
        if conn.closed:
            bad.append(f"{conn!r} is closed but still in connections")
        if conn.unread_bytes < 0:
            bad.append(f"{conn!r} counts {conn.unread_bytes} unread bytes")
    return bad


def remote_references() -> list[str]:
    """Links and monitors that still point at (or come from) other nodes."""
    node = _n.NODE
    assert isinstance(node, _n.Node)
    out = []
    for pid, p in node.table.items():
        out += [f"{pid!r} links {o!r}" for o in p.links or () if o.node is not None]
        out += [f"{pid!r} monitors {e[1]!r}" for e in (p.monitors or {}).values()
                if monitor_node(*e) is not None]  # fmt: skip
        out += [f"{pid!r} monitored by {w!r}" for w in (p.monitored_by or {}).values()
                if w.node is not None]  # fmt: skip
    d = the_dist()
    out += [f"in_monitors {r!r}" for r in d.in_monitors]
    out += [f"pending spawn {r!r}" for r in d.pending_spawns]
    return out


# -- messages -------------------------------------------------------------------------

# Field kinds: what the node requires of each field (``_dist.node._c_*``).
PEER_PID, OUR_PID, ANY_PID, OUR_PID_OR_ATOM, PID, REF, PEER_REF = range(7)
OUR_REF, UID, UID0, ATOM, MFA, OPTS, FLAGS, RESULT, WATCHED = range(7, 16)


def _violates(kind: int, v: Any, peer: Atom, me: Atom) -> bool:
    """True when ``v`` breaks the rule of ``kind`` (as written by peer ``peer``)."""
    is_pid, is_ref = type(v) is Pid, type(v) is Ref
    is_atom = type(v) is Atom or v is None or type(v) is bool
    if kind == PEER_PID:
        return not (is_pid and v.node == peer)
    if kind == OUR_PID:
        return not (is_pid and v.node == me)
    if kind in (ANY_PID, PID):
        return not is_pid
    if kind == OUR_PID_OR_ATOM:
        return not ((is_pid and v.node == me) or is_atom)
    if kind == REF:
        return not is_ref
    if kind == PEER_REF:
        return not (is_ref and v.node == peer)
    if kind == OUR_REF:
        return not (is_ref and v.node == me)
    if kind == UID:
        return not (type(v) is int and 0 < v < 1 << 64)
    if kind == UID0:
        return not (type(v) is int and 0 <= v < 1 << 64)
    if kind == ATOM:
        return not is_atom
    if kind == MFA:
        return not (
            type(v) is tuple
            and len(v) == 3
            and all(type(x) is Atom or x is None or type(x) is bool for x in v[:2])
            and type(v[2]) is int
            and 0 <= v[2] <= 255
        )
    if kind == OPTS:
        return type(v) is not list
    if kind == FLAGS:
        return not (type(v) is int and 0 <= v < 1 << 27)
    if kind == RESULT:
        return not ((is_pid and v.node == peer) or is_atom)
    if kind == WATCHED:
        return not ((is_pid and v.node != me) or is_atom)
    return False


class Fuzzer:
    def __init__(self, rng: random.Random, stats: Stats) -> None:
        self.rng = rng
        self.stats = stats
        self.me = A(the_dist().name)
        self.workers: list[Pid] = []
        self.echo: Pid | None = None
        self.uid = 0
        self.last_invalid: Any = None  # (ctrl, payload) of the last invalid message

    # values of each kind, valid ones drawn from the node's real state

    def local(self) -> Pid:
        return ours(self.rng.choice(self.workers))

    def valid(self, kind: int, peer: RawPeer) -> Any:
        r = self.rng
        if kind == PEER_PID:
            return peer.pid(r.randrange(1, 40))
        if kind == OUR_PID:
            return self.local()
        if kind == ANY_PID:  # mostly the node's own, so commands reach workers
            return r.choice([self.local(), self.local(), self.local(), peer.pid(1)])
        if kind == PID:
            return r.choice([self.local(), peer.pid(r.randrange(1, 40))])
        if kind == OUR_PID_OR_ATOM:
            return r.choice([self.local(), A(r.choice(NAMES)), A("no_such_name")])
        if kind in (REF, PEER_REF):
            return peer.ref(r.randrange(1, 200))
        if kind == OUR_REF:
            return our_ref(r.randrange(1, 1000))
        if kind in (UID, UID0):
            self.uid += 1
            return self.uid
        if kind == ATOM:
            return A(r.choice([*NAMES, "no_such_name", "normal"]))
        if kind == MFA:
            return r.choice([(A("fuzz"), A("worker"), 0), (A("erpc"), A("nope"), 2)])
        if kind == OPTS:
            return r.choice([[], [A("link")], [A("monitor")], [A("link"), A("monitor")]])
        if kind == FLAGS:
            return r.randrange(0, 4)
        if kind == RESULT:
            return r.choice([peer.pid(r.randrange(1, 40)), A("badarg")])
        if kind == WATCHED:
            return r.choice([peer.pid(r.randrange(1, 40)), A("some_name")])
        return self.term(3)

    def wrong(self, kind: int, peer: RawPeer) -> Any:
        r = self.rng
        pool: list[Callable[[], Any]] = [
            lambda: A(r.choice(["x", "nil", "true", "undefined"])),
            lambda: r.randrange(-(1 << 70), 1 << 70),
            lambda: r.random(),
            lambda: (),
            lambda: tuple(self.term(1) for _ in range(r.randrange(1, 4))),
            lambda: [self.term(1)],
            lambda: "binary",
            lambda: b"\xff\x00",
            lambda: Pid(r.randrange(1 << 15), 0, A("else@127.0.0.1"), 1),
            lambda: self.local(),
            lambda: peer.pid(1),
            lambda: peer.ref(1),
            lambda: our_ref(1),
            lambda: Ref(1, A("else@127.0.0.1"), 1),
            lambda: ImproperList([1], 2),
            lambda: {A("k"): self.local()},
            lambda: 0,
            lambda: -1,
            lambda: 1 << 64,
            lambda: (A("m"), A("f")),
            lambda: (A("m"), A("f"), 300),
            lambda: (1, A("f"), 0),
        ]
        while True:
            v = r.choice(pool)()
            if _violates(kind, v, peer.name, self.me):
                return v

    def term(self, depth: int) -> Any:
        r = self.rng
        k = r.randrange(9 if depth > 0 else 6)
        if k == 0:
            return r.randrange(-(1 << 40), 1 << 40)
        if k == 1:
            return A(r.choice(["ok", "error", "normal", "shutdown", "x"]))
        if k == 2:
            return "s" * r.randrange(0, 40)
        if k == 3:
            return r.random()
        if k == 4:
            return self.local()
        if k == 5:
            return b"\x00" * r.randrange(0, 20)
        if k == 6:
            return tuple(self.term(depth - 1) for _ in range(r.randrange(0, 4)))
        if k == 7:
            return [self.term(depth - 1) for _ in range(r.randrange(0, 4))]
        return {self.term(0): self.term(depth - 1) for _ in range(r.randrange(0, 3))}

    def command(self, peer: RawPeer) -> Any:
        """A command for a worker (see ``worker``)."""
        r = self.rng
        k = r.randrange(9)
        ppid = peer.pid(r.randrange(1, 40))
        if k == 0:
            return ("link", ppid)
        if k == 1:
            return ("unlink", ppid)
        if k == 2:
            return ("monitor", r.choice([ppid, (r.choice(["x", "y"]), peer.name)]))
        if k == 3:
            return ("demonitor",)
        if k == 4:
            return ("trap", r.random() < 0.5)
        if k == 5:
            return ("send", ppid, self.term(2))
        if k == 6:
            return ("exit", r.choice(["normal", "shutdown", "boom", "cyclic", "deep", "object"]))
        if k == 7:
            return ("spawn", peer.name)
        return ("link", self.local())

    def reason(self) -> Any:
        return A(self.rng.choice(["normal", "normal", "shutdown", "boom", "kill"]))

    # (op, [(kind, value)], payload or NO_PAYLOAD)
    def message(self, peer: RawPeer) -> tuple[int, list[tuple[int, Any]], Any]:
        r = self.rng
        v = lambda k: (k, self.valid(k, peer))  # noqa: E731
        op = r.choice(
            [22, 22, 22, 2, 6, 33, 1, 1, 35, 36, 4, 3, 24, 8, 26, 19, 19, 20, 21, 28, 29, 31, 7]
        )
        cmd_or_term = self.command(peer) if r.random() < 0.6 else self.term(3)
        if op == 22:  # any pids (erts asserts the sender; a receiver elsewhere is dropped)
            return op, [v(PID), v(ANY_PID)], cmd_or_term
        if op == 2:
            return op, [(-1, A("")), v(ANY_PID)], cmd_or_term
        if op == 6:
            return op, [v(PID), (-1, A("")), v(ATOM)], cmd_or_term
        if op == 33:
            return op, [v(PID), v(REF)], self.term(2)
        if op == 1:
            return op, [v(PEER_PID), v(OUR_PID)], NO_PAYLOAD
        if op == 35:
            return op, [v(UID), v(PEER_PID), v(OUR_PID)], NO_PAYLOAD
        if op == 36:
            return op, [v(UID0), v(PEER_PID), v(OUR_PID)], NO_PAYLOAD
        if op == 4:
            return op, [v(PEER_PID), v(OUR_PID)], NO_PAYLOAD
        if op == 3:
            return op, [v(PEER_PID), v(OUR_PID), (-1, self.reason())], NO_PAYLOAD
        if op == 24:
            return op, [v(PEER_PID), v(OUR_PID)], self.reason()
        if op == 8:
            return op, [v(PEER_PID), v(OUR_PID), (-1, self.reason())], NO_PAYLOAD
        if op == 26:
            return op, [v(PEER_PID), v(OUR_PID)], self.reason()
        if op == 19:
            return op, [v(PEER_PID), v(OUR_PID_OR_ATOM), v(PEER_REF)], NO_PAYLOAD
        if op == 20:
            return op, [v(PEER_PID), v(OUR_PID_OR_ATOM), v(REF)], NO_PAYLOAD
        if op == 21:
            return op, [v(WATCHED), v(OUR_PID), v(REF), (-1, self.reason())], NO_PAYLOAD
        if op == 28:
            return op, [v(WATCHED), v(OUR_PID), v(REF)], self.reason()
        if op == 29:
            return op, [v(PEER_REF), v(PEER_PID), v(PID), (MFA, None), v(OPTS)], "args"
        if op == 31:
            return op, [v(OUR_REF), v(OUR_PID), v(FLAGS), v(RESULT)], NO_PAYLOAD
        return op, [v(PID), v(PID)], NO_PAYLOAD  # 7: GROUP_LEADER

    def frame(self, peer: RawPeer, invalid: bool) -> bytes:
        op, fields, payload = self.message(peer)
        self.stats.ops[op] = self.stats.ops.get(op, 0) + 1
        values = [val for _k, val in fields]
        if op == 29:  # the MFA's arity matches the args
            mfa = self.valid(MFA, peer)
            values[3] = mfa
            payload = [self.term(1) for _ in range(mfa[2])]
        if invalid:
            how = self.rng.randrange(10)
            checked = [i for i, (k, _v) in enumerate(fields) if k >= 0]
            if how == 0:
                values.append(self.term(1))  # wrong arity
            elif how == 1 and len(values) > 1:
                values.pop()
            elif how == 2:
                payload = self.term(1) if payload is NO_PAYLOAD else NO_PAYLOAD
            elif how == 3:
                op = self.rng.choice([0, 5, 9, 10, 11, 14, 15, 17, 37, 1 << 30])
            elif how == 4:
                self.last_invalid = (self.wrong(ATOM, peer), NO_PAYLOAD)
                return peer.frame(self.last_invalid[0])  # not a tuple at all
            else:
                i = self.rng.choice(checked)
                values[i] = self.wrong(fields[i][0], peer)
            self.last_invalid = ((op, *values), payload)
        return peer.frame((op, *values), payload)


# -- the driver: a plain asyncio task ---------------------------------------------------


class _Records(logging.Handler):
    """Collects what the node logs at WARNING and above."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _expected(record: logging.LogRecord) -> bool:
    """What a node says when a peer breaks the protocol: one line, no traceback."""
    msg = record.getMessage()
    return (
        record.name == "tether.dist"
        and record.exc_info is None
        and (msg.startswith("closing the connection to") or "did not answer ticks" in msg)
    )


class Peer:
    """A raw peer, its reader task, and the round trip it waits for."""

    def __init__(self, name: str) -> None:
        self.raw = RawPeer(name, COOKIE)
        self.reader: asyncio.Task[None] | None = None
        self.eof = asyncio.Event()
        self.token = 0
        self.pong: asyncio.Future[bool] | None = None

    async def connect(self, stats: Stats) -> None:
        """Connect again under the same name (a new incarnation each time)."""
        for _ in range(1000):
            self.raw = RawPeer(self.raw.name, COOKIE, creation=self.raw.creation % 1000 + 1)
            status = await self.raw.send_name()
            if status == b"snok":  # the node is connecting to us (a worker's link): retry
                self.raw.close()
                await asyncio.sleep(0.005)
                continue
            assert await self.raw.finish(status), status
            self.eof = asyncio.Event()
            self.reader = asyncio.ensure_future(self._read(stats))
            return
        raise AssertionError(f"could not connect {self.raw.name}")

    async def round_trip(self) -> bool:
        """A message through the node's echo process and back: everything sent
        before it was handled.  False if the connection closed instead."""
        self.token += 1
        self.pong = asyncio.get_running_loop().create_future()
        me = self.raw.pid(1)
        self.raw.send((dn.REG_SEND, me, A(""), A(ECHO)), (self.token, me))
        return await asyncio.wait_for(self.pong, SYNC_TIMEOUT)

    async def _read(self, stats: Stats) -> None:
        """Reads everything the node sends (so it never backs up), answers its
        spawn requests, and notes the pong of the round trip."""
        raw = self.raw
        while True:
            got = await raw.recv(timeout=3600)
            if got is None:
                self.eof.set()
                if self.pong is not None and not self.pong.done():
                    self.pong.set_result(False)
                return
            ctrl, payload = got
            if ctrl[0] == dn.SEND_SENDER_OP and type(payload) is tuple and len(payload) == 2:
                if payload == ("pong", self.token) and self.pong and not self.pong.done():
                    self.pong.set_result(True)
            elif ctrl[0] == dn.SPAWN_REQUEST:
                stats.spawn_replies += 1
                req, origin, opts = ctrl[1], ctrl[2], ctrl[5]
                answer: Any = raw.pid(7) if req.n % 3 else A("badarg")
                flags = (1 if A("link") in opts else 0) | (2 if A("monitor") in opts else 0)
                raw.send((dn.SPAWN_REPLY, req, ours(origin), flags, answer))


async def drive(messages: int, seed: int, stats: Stats, progress: bool) -> None:
    rng = random.Random(seed)
    node = _n.NODE
    assert isinstance(node, _n.Node)
    fz = Fuzzer(rng, stats)
    fz.echo = node.spawn(None, echo, ())[0]
    node.register(node.table[fz.echo], ECHO)

    def replenish() -> None:
        fz.workers = [w for w in fz.workers if w in node.table]
        while len(fz.workers) < WORKERS:
            fz.workers.append(node.spawn(None, worker, ())[0])
        free = [node.table[w] for w in fz.workers if node.table[w].name is None]
        for name in NAMES:
            if name not in node.names and free:
                node.register(free.pop(), name)

    replenish()
    peers = [Peer(f"lf{os.getpid()}_{i}@127.0.0.1") for i in range(3)]
    for p in peers:
        await p.connect(stats)
    t0 = time.perf_counter()
    while stats.messages < messages:
        peer = rng.choice(peers)
        invalid = rng.random() < 0.08
        size = rng.randrange(1, 120)
        frames = [fz.frame(peer.raw, False) for _ in range(size - 1)]
        frames.append(fz.frame(peer.raw, invalid))
        peer.raw.send_raw(b"".join(frames))
        stats.messages += size
        stats.batches += 1
        if invalid:
            stats.invalid += 1
            try:
                await asyncio.wait_for(peer.eof.wait(), SYNC_TIMEOUT)
                stats.closed_as_expected += 1
            except TimeoutError:
                stats.violations.append(
                    f"an invalid message was accepted (seed {seed}): {fz.last_invalid!r}"
                )
                return
            await _reconnect(peer, stats)
        else:
            try:
                ok = await peer.round_trip()
            except TimeoutError:
                stats.violations.append(f"no round trip in {SYNC_TIMEOUT} s: wedged?")
                asyncio.get_running_loop().stop()  # the node's processes may never run again
                return
            if not ok:
                stats.violations.append(f"a valid batch closed the connection (seed {seed})")
                return
            act = rng.random()
            if act < 0.01:  # the node's side disconnects (a process calls it)
                stats.disconnects += 1
                node.spawn(None, _disconnect, (peer.raw.name,))
                await asyncio.wait_for(peer.eof.wait(), SYNC_TIMEOUT)
                await _reconnect(peer, stats)
            elif act < 0.02:  # the peer hangs up
                stats.hangups += 1
                peer.raw.close()
                await asyncio.wait_for(peer.eof.wait(), SYNC_TIMEOUT)
                await _reconnect(peer, stats)
        replenish()
        if stats.batches % 50 == 0:
            stats.checkpoints += 1
            stats.violations += check_tables()
            if stats.violations:
                return
        if progress and stats.batches % 2000 == 0:
            rate = stats.messages / (time.perf_counter() - t0)
            print(f"{stats.messages} messages, {rate:,.0f}/s", file=sys.stderr, flush=True)
    # the end: every peer goes; nothing of them may remain
    for p in peers:
        p.raw.close()
        await asyncio.wait_for(p.eof.wait(), SYNC_TIMEOUT)
    await asyncio.sleep(0.05)
    stats.violations += check_tables()
    stats.violations += [f"left behind: {r}" for r in remote_references()]


async def _disconnect(name: str) -> None:
    tether.Node.disconnect(name)


async def _reconnect(peer: Peer, stats: Stats) -> None:
    if peer.reader is not None:
        await peer.reader
    # the node may still be closing this name's connection: wait until it is gone
    deadline = asyncio.get_running_loop().time() + SYNC_TIMEOUT
    while peer.raw.name in the_dist().connections:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.001)
    stats.reconnects += 1
    await peer.connect(stats)


def run(messages: int, seed: int = 1, progress: bool = False) -> Stats:
    """Fuzz a live node with ``messages`` control messages; needs ERL_EPMD_PORT's epmd."""
    stats = Stats()
    records = _Records()
    loop_errors: list[str] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _l, ctx: loop_errors.append(str(ctx.get("message"))))
        task = asyncio.ensure_future(drive(messages, seed, stats, progress))
        await asyncio.wait([task])  # a process waiting on a plain task
        task.result()

    logger = logging.getLogger("tether")
    logger.addHandler(records)
    t0 = time.perf_counter()
    try:
        tether.run(main, name=f"lfnode{os.getpid()}@127.0.0.1", cookie=COOKIE, hog_threshold=None)
    except RuntimeError as e:  # the driver stopped a wedged node's loop
        if "Event loop stopped" not in str(e):
            raise
    finally:
        logger.removeHandler(records)
    stats.seconds = time.perf_counter() - t0
    stats.unexpected_logs = [
        f"{r.name} {r.levelname}: {r.getMessage()[:300]}"
        for r in records.records
        if not _expected(r)
    ] + loop_errors
    return stats


def main(argv: list[str] | None = None) -> int:
    from .conftest import running_epmd

    ap = argparse.ArgumentParser(prog="python -m tests.distribution.live_fuzz")
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    with running_epmd() as port:
        os.environ["ERL_EPMD_PORT"] = str(port)
        s = run(args.messages, args.seed, progress=True)
    print(
        f"{s.messages:,} messages in {s.batches:,} batches, {s.seconds:.1f} s "
        f"({s.messages / s.seconds:,.0f}/s): {s.invalid:,} invalid "
        f"({s.closed_as_expected:,} closed their connection), {s.reconnects:,} reconnects, "
        f"{s.disconnects} node-side disconnects, {s.hangups} peer hang-ups, "
        f"{s.spawn_replies} spawn requests answered, {s.checkpoints} table checks; "
        f"{len(s.violations)} violations, {len(s.unexpected_logs)} unexpected log records"
    )
    print("operations:", dict(sorted(s.ops.items())))
    for v in (s.violations + s.unexpected_logs)[:10]:
        print("  !", v)
    return 1 if s.violations or s.unexpected_logs else 0


if __name__ == "__main__":
    sys.exit(main())
