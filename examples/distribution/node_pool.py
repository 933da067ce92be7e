"""Use all cores with a local node pool.

One tether node runs on one core (one interpreter, one GIL).  This starts a peer
node per core (child OS processes, ``tether.peer``), sends each a share of a
CPU-bound job with ``tether.rpc.call`` from a ``Task`` per chunk, and adds up
the answers.  Run::

    uv run python examples/distribution/node_pool.py

(epmd: the system one, started if needed, or tether's built-in one; the cookie:
``TETHER_COOKIE`` or ``~/.erlang.cookie``.)
"""

from __future__ import annotations

import os
import sys
import time

import tether
from tether import Task, peer, rpc

LIMIT = 1_200_000
CHUNKS = 8


@rpc.expose("node_pool")
def count_primes(lo: int, hi: int) -> int:
    """Primes in [lo, hi), by trial division: deliberately CPU-bound."""
    count = 0
    for n in range(max(lo, 2), hi):
        if n % 2 == 0:
            count += n == 2
            continue
        d = 3
        while d * d <= n:
            if n % d == 0:
                break
            d += 2
        else:
            count += 1
    return count


async def main() -> None:
    cores = os.cpu_count() or 2
    t0 = time.perf_counter()
    peers = [await peer.start(f"pool{i}", imports=["node_pool"]) for i in range(cores)]
    print(f"started {len(peers)} peer node(s), one per core", file=sys.stderr)

    step = LIMIT // CHUNKS
    chunks = [(i * step, (i + 1) * step) for i in range(CHUNKS)]
    t1 = time.perf_counter()
    tasks = [
        Task.async_(rpc.call, peers[i % cores].node, "node_pool", "count_primes", [lo, hi])
        for i, (lo, hi) in enumerate(chunks)
    ]
    counts = await Task.await_many(tasks, timeout=600)
    t2 = time.perf_counter()
    for (lo, hi), n in zip(chunks, counts, strict=True):
        print(f"primes in [{lo}, {hi}): {n}")
    print(f"primes below {LIMIT}: {sum(counts)}")
    print(f"pool: {t2 - t1:.2f} s (+{t1 - t0:.2f} s to start the peers)", file=sys.stderr)
    for p in peers:
        await p.stop()


if __name__ == "__main__":
    tether.run(main, name="pool_main@127.0.0.1")
