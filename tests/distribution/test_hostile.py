"""Hostile peers on raw loopback sockets (issue #12, items 1, 3 and 4).

Each test drives the protocol by hand (``hostile.RawPeer``) against a real tether
node and checks the exact outcome: which connection closed, what was logged,
and that the node's other connections and processes are untouched.  Real sockets
run on the real clock: waits are for events, with generous timeouts.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import struct
import time
import tracemalloc
import zlib
from typing import Any

import pytest

import tether
from tether import ANY, Atom, Exit, Node, Pid, Process, Ref, receive, send, spawn
from tether._dist import node as dn
from tether._dist.etf import MAX_BYTES_PER_BYTE, DecodeError, decode
from tether._runtime import _node as _n

from ..conftest import Factory
from .conftest import COOKIE, run_node, unique
from .hostile import NO_PAYLOAD, RawPeer, listen_as, our_ref, ours, the_dist

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("epmd_port")]

_n_peers = itertools.count(1)


def peer_name(prefix: str = "raw") -> str:
    return f"{prefix}{os.getpid()}_{next(_n_peers)}@127.0.0.1"


async def idle() -> None:
    await Process.sleep(None)


async def heartbeat() -> None:
    """Answers ("ping", pid) with "pong": the scheduler still runs processes."""
    while True:
        msg = await receive()
        send(msg[1], "pong")


async def beats(hb: Pid) -> bool:
    send(hb, ("ping", tether.self()))
    return await receive(timeout=5) == "pong"


def dist_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "tether.dist" and r.levelno == logging.ERROR
    ]


# -- item 1: every field of every control message is checked --------------------

A = Atom


def _cases(bad: RawPeer, t: Pid) -> list[tuple[Any, Any, str]]:
    """(control message, payload, the reason logged) for invalid messages."""
    me, other = bad.pid(1), Pid(1, 0, A("else@127.0.0.1"), 1)
    ref, local_ref = bad.ref(1), our_ref(5)
    mfa = (A("erpc"), A("execute_call"), 0)
    name = bad.name
    return [
        (A("hello"), NO_PAYLOAD, "not a tuple that starts with an operation"),
        ((5, me, t), NO_PAYLOAD, "unknown operation 5"),
        ((1, me), NO_PAYLOAD, "operation 1 has 3 elements, not 2"),
        ((1, me, t), A("x"), "a payload follows"),
        ((2, A(""), t), NO_PAYLOAD, "the payload is missing"),
        ((1, A("x"), t), NO_PAYLOAD, f"the linking process :x is not a pid of {name}"),
        ((1, 5, t), NO_PAYLOAD, f"the linking process 5 is not a pid of {name}"),
        ((1, other, t), NO_PAYLOAD, f"the linking process {other!r} is not a pid of {name}"),
        ((1, me, A("t")), NO_PAYLOAD, "the linked process :t is not a pid of this node"),
        ((1, me, me), NO_PAYLOAD, f"the linked process {me!r} is not a pid of this node"),
        ((2, A(""), 7), A("m"), "the receiver 7 is not a pid"),
        ((22, A("s"), t), A("m"), "the sender :s is not a pid"),
        ((6, me, A(""), 5), A("m"), "the registered name 5 is not an atom"),
        ((33, me, 5), A("m"), "the alias 5 is not a reference"),
        ((3, A("x"), t, A("normal")), NO_PAYLOAD, f"the exiting process :x is not a pid of {name}"),
        ((24, me, 5), A("boom"), "the linked process 5 is not a pid of this node"),
        ((26, me, 5), A("kill"), "the receiver 5 is not a pid of this node"),
        ((8, other, t, A("kill")), NO_PAYLOAD, f"the sender {other!r} is not a pid of {name}"),
        ((35, 0, me, t), NO_PAYLOAD, "the unlink id 0 is not an integer in 1..2^64-1"),
        ((35, 1 << 64, me, t), NO_PAYLOAD, "is not an integer in 1..2^64-1"),
        ((36, -1, me, t), NO_PAYLOAD, "the unlink id -1 is not a 64-bit unsigned integer"),
        ((4, me, 3), NO_PAYLOAD, "the unlinked process 3 is not a pid of this node"),
        ((19, A("w"), t, ref), NO_PAYLOAD, f"the watcher :w is not a pid of {name}"),
        ((19, me, t, 42), NO_PAYLOAD, f"the monitor reference 42 is not a reference of {name}"),
        ((19, me, t, local_ref), NO_PAYLOAD, f"is not a reference of {name}"),
        ((19, me, 3.5, ref), NO_PAYLOAD, "the monitored process 3.5 is not an atom"),
        ((20, me, t, "x"), NO_PAYLOAD, "the monitor reference 'x' is not a reference"),
        ((20, me, 7, ref), NO_PAYLOAD, "the monitored process 7 is not an atom"),
        ((21, me, A("w"), ref, A("x")), NO_PAYLOAD, "the watcher :w is not a pid of this node"),
        ((28, t, t, ref), A("x"), "is a pid of this node"),
        ((21, me, t, 1, A("x")), NO_PAYLOAD, "the monitor reference 1 is not a reference"),
        ((29, ref, A("o"), me, mfa, []), [], f"the requesting process :o is not a pid of {name}"),
        (
            (29, A("r"), me, me, mfa, []),
            [],
            f"the request reference :r is not a reference of {name}",
        ),
        ((29, ref, me, 1, mfa, []), [], "the group leader 1 is not a pid"),
        ((29, ref, me, me, (1, 2, 3), []), [], "the module 1 is not an atom"),
        ((29, ref, me, me, (A("m"), A("f")), []), [], "is not a {Module, Function, Arity} tuple"),
        (
            (29, ref, me, me, (A("m"), A("f"), -1), []),
            [],
            "the arity -1 is not an integer in 0..255",
        ),
        ((29, ref, me, me, mfa, A("x")), [], "the options :x are not a proper list"),
        ((31, ref, t, 0, me), NO_PAYLOAD, "is not one of this node's"),
        ((31, local_ref, t, -1, me), NO_PAYLOAD, "the flags -1 are not an integer in 0..2^27-1"),
        (
            (31, local_ref, t, 0, other),
            NO_PAYLOAD,
            f"the new process {other!r} is not a pid of {name}",
        ),
        ((31, local_ref, t, 0, 5), NO_PAYLOAD, "the error 5 is not an atom"),
        ((7, 1, me), NO_PAYLOAD, "the group leader 1 is not a pid"),
    ]


def test_every_invalid_control_message_closes_its_connection_only_and_is_logged(
    caplog: pytest.LogCaptureFixture, loop_factory: Factory
) -> None:
    """Issue #12 item 1: a malformed control message is an invalid distribution
    message (erts' name): logged at ERROR and its connection closed.  The node's
    other connection, its links and its processes are untouched, and nothing the
    message named reached a table."""
    caplog.set_level(logging.ERROR, logger="tether.dist")

    async def main() -> list[Any]:
        hb = spawn(heartbeat)
        target = spawn(idle)
        # A well-behaved peer linked to a local process: it must not notice anything.
        good = RawPeer(peer_name("good"), COOKIE)
        await good.connect()
        linked = spawn(idle)
        good.send((1, good.pid(9), ours(linked)))  # LINK
        while Process.info(linked, "links") != [good.pid(9)]:
            await asyncio.sleep(0.01)
        out = []
        n = len(_cases(good, Pid(0)))
        for i in range(n):
            bad = RawPeer(peer_name("bad"), COOKIE)
            await bad.connect()
            ctrl, payload, why = _cases(bad, ours(target))[i]
            bad.send(ctrl, payload)
            closed = await bad.closed_by_node()
            logged = [m for m in dist_errors(caplog) if m.endswith(why)]
            out.append((i, closed, len(logged), bad.name in Node.list("connected")))
            caplog.clear()
        tables = (
            Process.info(target, ["links", "monitored_by"]),
            Process.info(linked, "links"),
            good.name in Node.list("connected"),
            await beats(hb),
            the_dist().in_monitors,
        )
        return [n, out, tables]

    n, out, tables = run_node(main, loop_factory=loop_factory)
    assert n == 43
    assert out == [(i, True, 1, False) for i in range(n)]
    assert tables[0] == {"links": [], "monitored_by": []}
    assert len(tables[1]) == 1 and tables[2:] == (True, True, {})


def test_a_monitor_by_atom_then_a_disconnect_leaves_the_node_whole(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The wedge of issue #12 item 1: MONITOR_P whose watcher is an atom, then the
    peer goes.  Now the message is refused, and the node-down cleanup of that
    connection runs to the end: a local process linked to the peer gets
    noconnection, and the scheduler goes on."""
    caplog.set_level(logging.ERROR, logger="tether.dist")

    async def main() -> tuple[Any, ...]:
        hb = spawn(heartbeat)
        Process.flag("trap_exit", True)
        bad = RawPeer(peer_name(), COOKIE)
        await bad.connect()
        bad.send((1, bad.pid(3), ours(tether.self())))  # a real link first
        bad.send((19, A("watcher"), ours(hb), bad.ref(1)))
        closed = await bad.closed_by_node()
        exit_msg = await receive(Exit(ANY, ANY), timeout=5)
        return bad.name, closed, exit_msg, await beats(hb), Process.info(hb, "monitored_by")

    name, closed, exit_msg, alive, mons = run_node(main)
    assert (closed, alive, mons) == (True, True, [])
    assert exit_msg == Exit(Pid(3, 0, name, 7), "noconnection")
    why = f"the watcher :watcher is not a pid of {name}"
    assert [m for m in dist_errors(caplog) if m.endswith(why)] != []


def test_node_down_cleanup_finishes_past_a_bad_table_entry(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The second line of defence: even if a table held a bad entry, the node-down
    scan logs it and goes on (here process A's monitors hold garbage; process B,
    after A in the table, still gets its noconnection)."""
    caplog.set_level(logging.ERROR)

    async def main() -> tuple[Any, ...]:
        peer = RawPeer(peer_name(), COOKIE)
        await peer.connect()
        a = spawn(idle)
        b = tether.spawn(_trap_and_report, tether.self())
        await receive(lambda m: m == "ready", timeout=5)
        peer.send((1, peer.pid(4), ours(b)))  # LINK to b
        while Process.info(b, "links") != [peer.pid(4)]:
            await asyncio.sleep(0.01)
        pa = _n.NODE.table[a]  # type: ignore[union-attr]
        pa.monitors = {Ref(): "garbage"}  # not (target, object): unpacking fails
        Node.disconnect(peer.name)
        got = await receive(("b got", ANY), timeout=5)
        pa.monitors = None
        return got[1], Process.alive(a)

    got, a_alive = run_node(main)
    assert got.reason == "noconnection" and got.pid.id == 4
    assert a_alive is True
    assert any("skipped a bad table entry" in r.getMessage() for r in caplog.records)


async def _trap_and_report(parent: Pid) -> None:
    Process.flag("trap_exit", True)
    send(parent, "ready")
    send(parent, ("b got", await receive(Exit(ANY, ANY))))


@pytest.mark.parametrize(
    ("make_reason", "printed"),
    [
        (lambda: _cyclic(), "[[[[[...]]]]]"),
        (lambda: _deep(100_000), "(((((...),),),),)"),
        (lambda: {1, 2}, "{1, 2}"),
        (lambda: _Unprintable(), "<_Unprintable instance at 0x"),
    ],
    ids=["cyclic", "too-deep", "no-term", "repr-raises"],
)
def test_an_exit_reason_with_no_term_goes_out_printed_and_the_node_goes_on(
    make_reason: Any, printed: str
) -> None:
    """Issue #12 item 1, with no peer at fault: a local process linked to a remote
    one exits with a reason the encoder cannot write (cyclic, deeper than its
    stack, an object with no term).  The peer gets the exit signal with the
    printed form (``_reason_frame``), and the scheduler keeps running."""

    async def main() -> tuple[Any, ...]:
        hb = spawn(heartbeat)
        peer = RawPeer(peer_name(), COOKIE)
        await peer.connect()
        dying = spawn(_exit_on_go, make_reason)
        peer.send((1, peer.pid(5), ours(dying)))
        while Process.info(dying, "links") != [peer.pid(5)]:
            await asyncio.sleep(0.01)
        send(dying, "go")
        ctrl, payload = await peer.recv()  # type: ignore[misc]
        return ctrl, payload, await beats(hb)

    ctrl, payload, alive = run_node(main)
    assert ctrl[0] == dn.PAYLOAD_EXIT and ctrl[2].id == 5
    assert alive is True
    if printed.endswith("0x"):  # the printed form of an object with no repr has its address
        assert payload.startswith(printed)
    else:
        assert payload == printed


class _Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def _cyclic() -> list[Any]:
    x: list[Any] = []
    x.append(x)
    return x


def _deep(n: int) -> Any:
    x: Any = ()
    for _ in range(n):
        x = (x,)
    return x


async def _exit_on_go(make_reason: Any) -> None:
    await receive(lambda m: m == "go")
    tether.exit(make_reason())


def test_a_message_with_no_term_raises_encode_error_in_the_sender() -> None:
    """A cyclic or too-deep *message* is the sender's badarg: EncodeError (a
    TypeError) raised by send, nothing written, the sender goes on."""

    async def main() -> list[str]:
        peer = RawPeer(peer_name(), COOKIE)
        await peer.connect()
        out = []
        for msg in (_cyclic(), _deep(100_000)):
            try:
                send(peer.pid(1), msg)
            except TypeError as e:
                out.append(f"{type(e).__name__}: {e}")
        return out

    msg = (
        "EncodeError: cannot encode the message: it is nested too deeply for the encoder, "
        "or contains itself"
    )
    assert run_node(main) == [msg, msg]


def test_monitoring_a_remote_name_no_atom_can_hold_gives_noproc_at_once() -> None:
    """A name over 255 characters cannot be registered anywhere (an atom's limit):
    the monitor fires :noproc, as for any name nobody has; nothing is sent."""

    async def main() -> Any:
        peer = RawPeer(peer_name(), COOKIE)
        await peer.connect()
        ref = Process.monitor(("n" * 300, peer.name))
        return ref, await receive(timeout=5), Process.info(tether.self(), "monitors")

    ref, down, monitors = run_node(main)
    assert down.ref == ref and down.reason == "noproc" and monitors == []


# -- item 3: nothing said before the cookie is proved changes anything -----------


def test_a_wrong_cookie_claiming_a_connected_name_leaves_that_connection_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A client that claims the name of an already connected peer gets the
    "alive" status, but its wrong digest ends it there: the established
    connection and its links are untouched (erl: "Invalid challenge reply")."""
    caplog.set_level(logging.INFO, logger="tether.dist")

    async def main() -> tuple[Any, ...]:
        Process.flag("trap_exit", True)
        name = peer_name()
        good = RawPeer(name, COOKIE)
        await good.connect()
        good.send((1, good.pid(2), ours(tether.self())))  # linked to us
        while Process.info(tether.self(), "links") != [good.pid(2)]:
            await asyncio.sleep(0.01)
        liar = RawPeer(name, "not-the-cookie")
        status = await liar.send_name()
        accepted = await liar.finish(status)
        # the good connection still carries signals both ways
        good.send((2, A(""), ours(tether.self())), "still here")
        got = await receive(timeout=5)
        return status, accepted, got, Node.list("connected"), Process.info(tether.self(), "links")

    status, accepted, got, connected, links = run_node(main)
    assert (status, accepted, got) == (b"salive", False, "still here")
    assert len(connected) == 1 and links == [Pid(2, 0, connected[0], 7)]
    assert any("rejected: wrong cookie" in r.getMessage() for r in caplog.records)


def test_a_fake_winning_the_tie_break_does_not_wedge_the_real_connection() -> None:
    """While this node connects to Z, a client claiming to be Z (a greater name:
    it wins the simultaneous-connect tie-break) but with a wrong cookie is
    refused, and the real attempt completes: Node.connect answers True."""

    async def main() -> tuple[Any, ...]:
        z = RawPeer(f"zz{os.getpid()}_{next(_n_peers)}@127.0.0.1", COOKIE)
        server, reg, incoming = await listen_as(z)
        try:
            connecting = asyncio.ensure_future(Node.connect(z.name))
            reader, writer = await asyncio.wait_for(incoming.get(), 5)  # our attempt
            fake = RawPeer(z.name, "wrong")
            status = await fake.send_name()
            refused = not await fake.finish(status)
            ok = await z.accept(reader, writer)  # now Z answers our attempt
            return status, refused, ok, await asyncio.wait_for(connecting, 10)
        finally:
            reg.close()
            server.close()

    assert run_node(main) == (b"sok_simultaneous", True, True, True)


def test_node_connect_answers_false_within_the_setup_time_when_the_peer_never_answers() -> None:
    """net_setuptime (7 s): a peer that accepts the TCP connection and then says
    nothing cannot keep Node.connect (or the frames queued for it) pending."""

    async def main() -> tuple[Any, ...]:
        z = RawPeer(peer_name("mute"), COOKIE)
        server, reg, _incoming = await listen_as(z)
        try:
            t0 = time.monotonic()
            ok = await Node.connect(z.name)
            took = time.monotonic() - t0
            return ok, took, z.name in the_dist().connections
        finally:
            reg.close()
            server.close()

    ok, took, still_there = run_node(main)
    # 7 s by design; the margin covers a loaded 2-core machine
    assert (ok, still_there) == (False, False)
    assert dn.SETUP_TIME - 0.5 <= took < dn.SETUP_TIME + 5


@pytest.mark.parametrize("where", ["cookie=", "TETHER_COOKIE"])
def test_a_cookie_outside_latin_1_is_refused_at_start(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def main() -> None:
        raise AssertionError("must not start")

    msg = "has a character outside Latin-1"
    if where == "cookie=":
        with pytest.raises(ValueError, match=f"tether.run: cookie {msg}"):
            tether.run(main, name=unique("py"), cookie="kaffee\u2615")
    else:
        monkeypatch.setenv("TETHER_COOKIE", "kaffee\u2615")
        with pytest.raises(ValueError, match=f"tether.run: TETHER_COOKIE {msg}"):
            tether.run(main, name=unique("py"))


# -- item 4: the decoder's budget --------------------------------------------------


def _compressed(term_bytes: bytes) -> bytes:
    """``term_bytes`` (no version byte) as a COMPRESSED term (no version byte)."""
    return bytes([80]) + struct.pack(">I", len(term_bytes)) + zlib.compress(term_bytes)


def test_compressed_terms_only_at_the_top_as_otp() -> None:
    inner = b"\x6c" + struct.pack(">I", 3) + b"\x6a\x6a\x6a\x6a"  # [[], [], []]
    assert decode(b"\x83" + _compressed(inner)) == [[], [], []]
    nested = b"\x83\x68\x02\x61\x01" + _compressed(inner)  # {1, <compressed>}
    with pytest.raises(DecodeError) as e:
        decode(nested)
    assert str(e.value) == (
        "compressed term nested inside a term at offset 5 (OTP accepts one only at the "
        "top of binary_to_term)"
    )


def _frame_errors(caplog: pytest.LogCaptureFixture, body: bytes) -> tuple[Any, ...]:
    """Send one raw frame body; return (closed, the error logged, seconds it took)."""

    async def main() -> tuple[Any, ...]:
        hb = spawn(heartbeat)
        peer = RawPeer(peer_name(), COOKIE)
        await peer.connect()
        t0 = time.monotonic()
        peer.send_raw(struct.pack(">I", len(body)) + body)
        closed = await peer.closed_by_node(timeout=30)
        took = time.monotonic() - t0
        assert await beats(hb)
        return closed, took

    caplog.set_level(logging.ERROR, logger="tether.dist")
    closed, took = run_node(main)
    return closed, dist_errors(caplog), took


def test_a_compressed_term_in_a_frame_closes_the_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A distribution message never holds a compressed term (erts never writes
    one, and refuses one): even at the top of the control message."""
    inner = b"\x68\x03\x61\x02\x64\x00\x00\x67" + b"\x00" * 4
    closed, errors, _took = _frame_errors(caplog, b"p\x83" + _compressed(inner))
    assert closed is True and len(errors) == 1
    assert errors[0].endswith("compressed term at offset 2: not allowed in a distribution message")


def test_nested_compression_is_refused_at_once_not_in_quadratic_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The 0.9 MB frame of nested COMPRESSED that stalled a node 5.3 s: refused
    at the first nested one."""
    body = bytearray(b"\x6a")
    for _ in range(2000):  # each level a 1-tuple around a compressed term
        body = bytearray(b"\x68\x01") + _compressed(bytes(body))
    frame = b"p\x83\x68\x03\x61\x02\x64\x00\x00" + bytes(body)
    closed, errors, took = _frame_errors(caplog, frame)
    assert closed is True and "compressed term nested inside a term" in errors[0]
    assert took < 2.0  # microseconds of work; the margin is for a loaded machine


def test_a_map_of_keys_that_all_hash_alike_is_refused_in_linear_time() -> None:
    """16,384 int keys that all hash to 0 (multiples of 2**61 - 1) took 2.8 s to
    build; now the 17th key with one hash ends the decode."""
    m = 2**61 - 1
    keys = [m * (i + 1) for i in range(16_384)]
    body = bytearray(b"\x83\x74") + struct.pack(">I", len(keys))
    for k in keys:
        mag = k.to_bytes((k.bit_length() + 7) // 8, "little")
        body += b"\x6e" + bytes([len(mag), 0]) + mag + b"\x6a"
    t0 = time.monotonic()
    with pytest.raises(DecodeError) as e:
        decode(bytes(body))
    took = time.monotonic() - t0
    assert str(e.value) == (
        "map at offset 1 has more than 16 keys with one hash (a hash-flooding term)"
    )
    assert took < 0.5  # linear: well under a millisecond of work per thousand keys
    legit = {i: i for i in range(20_000)}  # distinct small ints never collide
    assert decode(tether.etf.encode(legit)) == legit


def test_a_hash_flooding_map_in_a_frame_closes_the_connection_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The same map as the payload of a SEND: its connection is closed with the
    decoder's error, in linear time, and the node goes on (``_frame_errors``)."""
    m = 2**61 - 1
    body = bytearray(b"\x83\x74") + struct.pack(">I", 16_384)
    for i in range(16_384):
        k = m * (i + 1)
        mag = k.to_bytes((k.bit_length() + 7) // 8, "little")
        body += b"\x6e" + bytes([len(mag), 0]) + mag + b"\x6a"
    ctrl = b"\x83\x68\x03\x61\x02\x64\x00\x00\x58\x77\x01x" + bytes(12)  # {2, '', Pid}
    closed, errors, took = _frame_errors(caplog, b"p" + ctrl + bytes(body))
    assert closed is True and len(errors) == 1
    at = 1 + len(ctrl) + 1  # "p", the control message, the payload's version byte
    assert errors[0].endswith(
        f"map at offset {at} has more than 16 keys with one hash (a hash-flooding term)"
    )
    assert took < 2.0  # linear: milliseconds; the margin is for a loaded machine


def test_a_frame_of_nils_stays_within_the_memory_budget() -> None:
    """The budget stated in tether.etf: n bytes make at most n objects and at most
    MAX_BYTES_PER_BYTE bytes of Python memory a byte (NIL_EXT, the worst tag)."""
    n = 1_000_000
    data = b"\x83\x6c" + struct.pack(">I", n) + b"\x6a" * (n + 1)
    tracemalloc.start()
    try:
        value = decode(data)
        size, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(value) == n
    assert size <= MAX_BYTES_PER_BYTE * len(data)
