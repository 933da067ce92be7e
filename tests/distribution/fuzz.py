"""Fuzz the distribution's input side: the term decoder, the control-frame handler
and the handshake (issue: distribution, "at least a million frames").

Run: ``python -m tests.distribution.fuzz --frames 1000000 [--seed N]``.  The test suite
runs it too (``test_fuzz.py``).  A frame is a mutation of a valid one (bytes
flipped, inserted, deleted, length fields set to extremes, truncated, spliced) or
plain random bytes.  The only outcomes allowed are a decoded value or the defined
errors (DecodeError, ProtocolError, HandshakeError, IncompleteReadError); any other
exception is a crash and is reported with the frame that caused it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import struct
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import tether
from tether import Atom, Pid, Ref
from tether._dist import node as dn
from tether._dist.etf import BitBinary, Codec, DecodeError, Export, ImproperList
from tether._runtime import _node as _n

NAME = "fuzz@127.0.0.1"
PEER = "peer@127.0.0.1"


@dataclass
class Stats:
    frames: int = 0
    decoded: int = 0
    rejected: int = 0
    handshakes: int = 0
    crashes: list[tuple[bytes, str]] = field(default_factory=list)


def corpus(codec: Codec) -> list[bytes]:
    """Valid control frames (without the 4-byte length) and terms to mutate."""
    me, peer = Pid(70), Pid(90, 0, Atom(PEER), 3)
    ref = Ref(5, Atom(PEER), 3)
    terms: list[Any] = [
        (1, peer, me),
        (2, Atom(""), me),
        (22, peer, me),
        (6, peer, Atom(""), Atom("fuzz_target")),
        (8, peer, me, Atom("normal")),
        (19, peer, me, ref),
        (19, peer, Atom("fuzz_target"), ref),
        (20, peer, me, ref),
        (21, peer, me, ref, Atom("noproc")),
        (24, peer, me),
        (26, peer, me),
        (28, peer, me, ref),
        (29, ref, peer, peer, (Atom("erpc"), Atom("execute_call"), 4), [Atom("monitor")]),
        (31, ref, me, 2, peer),
        (33, peer, Ref(9)),
        (35, 7, peer, me),
        (36, 7, peer, me),
    ]
    payloads: list[Any] = [
        Atom("hello"),
        {"k": [1, 2.5, b"\xff", (Atom("a"), -(1 << 80))]},
        ImproperList([1, 2], Atom("t")),
        BitBinary(b"\xf0", 4),
        Export("lists", "map", 2),
        [Ref(3), "x" * 40, list(range(300))],
    ]
    out = []
    for i, t in enumerate(terms):
        frame = b"p" + codec.encode(t)
        if t[0] in (2, 22, 6, 24, 26, 28, 29, 33):
            frame += codec.encode(payloads[i % len(payloads)])
        out.append(frame)
    out += [codec.encode(p) for p in payloads]
    return out


def mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    b = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 3, 4))):
        op = rng.randrange(8)
        if op == 0 and b:  # flip bits
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1 and b:  # random byte
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == 2:  # insert a tag byte
            b.insert(
                rng.randrange(len(b) + 1),
                rng.choice(
                    [
                        70,
                        77,
                        80,
                        82,
                        88,
                        90,
                        97,
                        98,
                        99,
                        100,
                        104,
                        105,
                        106,
                        107,
                        108,
                        109,
                        110,
                        111,
                        112,
                        113,
                        114,
                        115,
                        116,
                        118,
                        119,
                        120,
                        121,
                    ]
                ),
            )
        elif op == 3 and b:  # delete a run
            i = rng.randrange(len(b))
            del b[i : i + rng.randint(1, 8)]
        elif op == 4 and len(b) > 4:  # an extreme length field
            i = rng.randrange(len(b) - 3)
            b[i : i + 4] = struct.pack(
                ">I", rng.choice([0, 1, 255, 256, 65535, 2**31 - 1, 2**32 - 1])
            )
        elif op == 5 and b:  # truncate
            del b[rng.randrange(len(b)) :]
        elif op == 6:  # splice with another frame
            other = rng.choice(pool)
            i, j = rng.randrange(len(b) + 1), rng.randrange(len(other) + 1)
            b = b[:i] + other[j:]
        else:  # duplicate a slice
            if b:
                i = rng.randrange(len(b))
                b[i:i] = b[i : i + rng.randint(1, 16)]
    return bytes(b)


class _Writer:
    def __init__(self) -> None:
        self.out = bytearray()

    def write(self, data: bytes) -> None:
        self.out += data

    def close(self) -> None:
        pass


def _drive(coro: Any) -> Any:
    """Run a coroutine that never really suspends (its reader has all its data)."""
    try:
        coro.send(None)
    except StopIteration as e:
        return e.value
    coro.close()
    raise RuntimeError("handshake suspended: the fake reader should never block")


def handshake_inputs(rng: random.Random, cookie: str) -> bytes:
    """A handshake as a peer would send it (send_name, challenge_reply), mutated or not."""
    name = PEER.encode()
    send_name = b"N" + struct.pack(">QIH", dn.OUR_FLAGS, 3, len(name)) + name
    reply = b"r" + struct.pack(">I", rng.getrandbits(32)) + bytes(16)
    msgs = [send_name, reply]
    raw = b"".join(struct.pack(">H", len(m)) + m for m in msgs)
    return raw


def run(frames: int, seed: int = 1, progress: bool = False) -> Stats:
    stats = Stats()
    rng = random.Random(seed)
    loop = asyncio.new_event_loop()
    node = _n.Node(loop)
    _n.set_node(node)
    try:
        dist = dn.Dist(node, NAME, "cookie")
        dist.codec.rename(NAME, 1)
        node.dist = dist
        node.name = Atom(NAME)

        async def target() -> None:
            await tether.Process.sleep(None)

        pids = [node.spawn(None, target, ())[0] for _ in range(4)]
        node.register(node.table[pids[0]], "fuzz_target")
        conn = dn.Connection(dist, PEER)
        conn.closed = False
        codec = dist.codec
        pool = corpus(codec)
        hs_pool = [handshake_inputs(rng, "cookie") for _ in range(8)]
        allowed = (DecodeError, dn.ProtocolError)
        t0 = time.perf_counter()
        for i in range(frames):
            r = rng.random()
            if r < 0.02:
                data = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64)))
            else:
                data = mutate(rng, rng.choice(pool), pool)
            stats.frames += 1
            try:
                if i % 50 == 0:
                    # the handshake, fed a mutated peer side
                    raw = mutate(rng, rng.choice(hs_pool), hs_pool) if rng.random() < 0.9 else data
                    reader = asyncio.StreamReader(loop=loop)
                    reader.feed_data(raw)
                    reader.feed_eof()
                    stats.handshakes += 1
                    with contextlib.suppress(
                        dn.HandshakeError,
                        asyncio.IncompleteReadError,
                    ):
                        _drive(dist._handshake_in(reader, _Writer()))  # type: ignore[arg-type]
                    dist.connections.clear()
                elif data[:1] == b"p":
                    dist._frame(conn, data)
                    stats.decoded += 1
                else:
                    codec.decode(data)
                    stats.decoded += 1
            except allowed:
                stats.rejected += 1
            except Exception as e:  # a crash: keep the frame
                stats.crashes.append((data, f"{type(e).__name__}: {e}"))
                if len(stats.crashes) > 20:
                    break
            if len(conn.pending) > 1000:
                conn.pending.clear()
            if progress and i and i % 100000 == 0:
                print(f"{i} frames, {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
            # Keep the node's tables from growing without bound (every spawn or
            # link a fuzzed frame made is legal protocol, not a leak).
            if len(node.table) > 200:
                for p in list(node.table.values())[4:]:
                    node.terminate(p, Atom("kill"))
                node.runq.clear()
        return stats
    finally:
        node.shutdown()
        _n.set_node(_n.NO_NODE)
        loop.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.distribution.fuzz")
    ap.add_argument("--frames", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    s = run(args.frames, args.seed, progress=True)
    dt = time.perf_counter() - t0
    print(
        f"{s.frames} frames ({s.handshakes} handshakes) in {dt:.1f} s: "
        f"{s.decoded} decoded, {s.rejected} rejected cleanly, {len(s.crashes)} crashes"
    )
    for data, why in s.crashes[:5]:
        print(f"  crash: {why}\n    frame: {data.hex()}")
    return 1 if s.crashes else 0


if __name__ == "__main__":
    sys.exit(main())


def handshake_only(raw: bytes) -> None:
    """Feed ``raw`` to the accepting handshake of a fresh node; only the defined
    errors may come out (a regression check for inputs the fuzzers found)."""
    loop = asyncio.new_event_loop()
    node = _n.Node(loop)
    _n.set_node(node)
    try:
        dist = dn.Dist(node, NAME, "cookie")
        reader = asyncio.StreamReader(loop=loop)
        reader.feed_data(raw)
        reader.feed_eof()
        with contextlib.suppress(dn.HandshakeError, asyncio.IncompleteReadError):
            _drive(dist._handshake_in(reader, _Writer()))  # type: ignore[arg-type]
    finally:
        _n.set_node(_n.NO_NODE)
        loop.close()
