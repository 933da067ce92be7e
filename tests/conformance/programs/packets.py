"""A port program for the conformance pairs: length-prefixed packets both ways.

``python3 packets.py N``: writes the packets ``one``, an empty one and ``three``,
each after its length in N bytes (big-endian), then answers each packet it reads
with the payload doubled; the packet ``quit`` is answered ``bye`` and ends the
program with exit status 3.  Elixir's side runs it with ``{:packet, N}``,
tether's with ``packet=N``.
"""

import sys

n = int(sys.argv[1])
out, inp = sys.stdout.buffer, sys.stdin.buffer


def put(payload: bytes) -> None:
    out.write(len(payload).to_bytes(n, "big") + payload)
    out.flush()


for p in (b"one", b"", b"three"):
    put(p)
while True:
    head = inp.read(n)
    if len(head) < n:
        sys.exit(0)
    body = inp.read(int.from_bytes(head, "big"))
    if body == b"quit":
        put(b"bye")
        sys.exit(3)
    put(body * 2)
