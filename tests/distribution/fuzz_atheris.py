"""Coverage-guided fuzzing (atheris, libFuzzer) of the decoder, the control-frame
handler and the handshake: ``python -m tests.distribution.fuzz_atheris -runs=1000000``.

The first byte of each input picks the target; the rest is the frame.  The fourth
target decodes the frame with the C codec and with the Python one (native core)
and requires the same term or the same DecodeError.  Any
exception but the defined ones (DecodeError, ProtocolError, HandshakeError,
IncompleteReadError) is a crash, which libFuzzer reports with the input that
caused it.  ``test_fuzz.py`` runs it in the suite; tests/distribution/fuzz.py is
the seeded mutational fuzzer that runs without atheris.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys

import atheris

with atheris.instrument_imports(include=["tether"]):
    from tether import Atom
    from tether._dist import etf
    from tether._dist import node as dn
    from tether._dist.etf import DecodeError
    from tether._runtime import _node as _n

from . import fuzz as seeded


def _setup() -> tuple[dn.Dist, dn.Connection, asyncio.AbstractEventLoop, list[bytes]]:
    loop = asyncio.new_event_loop()
    node = _n.Node(loop)
    _n.set_node(node)
    dist = dn.Dist(node, seeded.NAME, "cookie")
    dist.codec.rename(seeded.NAME, 1)
    node.dist = dist
    node.name = Atom(seeded.NAME)

    async def target() -> None:
        await asyncio.Event().wait()

    for _ in range(4):
        node.spawn(None, target, ())
    node.register(next(iter(node.table.values())), "fuzz_target")
    conn = dn.Connection(dist, seeded.PEER)
    return dist, conn, loop, seeded.corpus(dist.codec)


DIST, CONN, LOOP, CORPUS = _setup()


def _decoded(frame: bytes) -> tuple[str, str]:
    try:
        return ("ok", repr(DIST.codec.decode(frame)))
    except DecodeError as e:
        return ("DecodeError", str(e))


def _both_codecs(frame: bytes) -> None:
    """The C codec (native core) and the Python one decode alike, or raise the
    same DecodeError (with the pure-Python core both are the Python)."""
    c = _decoded(frame)
    saved = etf._cetf
    etf._cetf = None  # type: ignore[misc]
    try:
        p = _decoded(frame)
    finally:
        etf._cetf = saved  # type: ignore[misc]
    if c != p:
        raise AssertionError(f"the C codec gave {c}, the Python one {p}")


def one_input(data: bytes) -> None:
    if not data:
        return
    which, frame = data[0] % 4, data[1:]
    try:
        if which == 0:
            DIST.codec.decode(frame)
        elif which == 3:
            _both_codecs(frame)
        elif which == 1 and frame:
            DIST._frame(CONN, b"p" + frame)
        else:
            reader = asyncio.StreamReader(loop=LOOP)
            reader.feed_data(frame)
            reader.feed_eof()
            with contextlib.suppress(dn.HandshakeError, asyncio.IncompleteReadError):
                seeded._drive(DIST._handshake_in(reader, seeded._Writer()))  # type: ignore[arg-type]
            DIST.connections.clear()
    except (DecodeError, dn.ProtocolError):
        pass
    CONN.pending.clear()
    node = DIST.node
    if len(node.table) > 100:
        for p in list(node.table.values())[4:]:
            node.terminate(p, Atom("kill"))
        node.runq.clear()


def main() -> None:
    # The corpus: the seeded fuzzer's valid frames, each under all four targets.
    import os
    import tempfile

    seeds = tempfile.mkdtemp(prefix="tether-fuzz-corpus")
    for i, frame in enumerate(CORPUS):
        body = frame[1:] if frame[:1] == b"p" else frame
        for t in range(4):
            with open(os.path.join(seeds, f"{i}_{t}"), "wb") as f:
                f.write(bytes([t]) + body)
    atheris.Setup([sys.argv[0], *sys.argv[1:], seeds], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
