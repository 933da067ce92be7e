"""Benchmark smoke for the core runtime's design targets: ``python -m bench.smoke``.

Prints each figure next to its target.  Absolute timings on this machine; the
benchmark-suite issue measures ratios to the BEAM and the peers side by side.
``--quick`` shrinks every workload (CI uses it only to see that it runs).
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import time
from typing import Any

import tether
from tether import ANY, Process, receive, self, send, spawn
from tether.testing import wait_all_blocked


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def pong() -> None:
    while True:
        m = await receive()
        if m is None:
            return
        send(m, "pong")


async def ping_pong(n: int) -> float:
    p = spawn(pong)
    me = self()
    t = time.perf_counter()
    for _ in range(n):
        send(p, me)
        await receive()
    dt = time.perf_counter() - t
    send(p, None)
    return dt / n * 1e6


async def ring_node(nxt: tether.Pid | None) -> None:
    if nxt is None:
        nxt = (await receive(("next", ANY)))[1]
    while True:
        m = await receive()
        if m == 0:
            send(nxt, 0)
            return
        send(nxt, m - 1)


async def ring(size: int, hops: int) -> float:
    first = spawn(ring_node, None)
    prev = first
    for _ in range(size - 1):
        prev = spawn(ring_node, prev)
    send(first, ("next", prev))
    me = self()

    # The last node forwards to us so we see the end: wrap with a monitor.
    refs = [Process.monitor(p) for p in Process.list() if p != me]
    t = time.perf_counter()
    send(first, hops)
    for _ in refs:
        await receive(tether.Down)
    dt = time.perf_counter() - t
    return dt / hops * 1e6


async def idle() -> None:
    await receive()


async def idle_memory(n: int) -> float:
    gc.collect()
    before = rss_kb()
    pids = [spawn(idle) for _ in range(n)]
    await wait_all_blocked()
    gc.collect()
    after = rss_kb()
    for p in pids:
        Process.exit(p, "kill")
    return (after - before) * 1024 / n


async def selective(queued: int, rounds: int) -> float:
    me = self()
    for i in range(queued):
        send(me, ("noise", i))
    t = time.perf_counter()
    for _ in range(rounds):
        ref = tether.make_ref()
        send(me, (ref, "reply"))
        await receive((ref, ANY))
    return (time.perf_counter() - t) / rounds * 1e6


async def spawn_exit_down(n: int) -> float:
    async def nothing() -> None:
        return None

    t = time.perf_counter()
    for _ in range(n):
        tether.spawn_monitor(nothing)
        await receive()
    return (time.perf_counter() - t) / n * 1e6


async def main(quick: bool) -> dict[str, Any]:
    k = 10 if quick else 1
    res: dict[str, Any] = {}
    res["ping_pong_round_trip_us"] = await ping_pong(200_000 // k)
    res["ring_hop_us"] = await ring(1000, 1_000_000 // k)
    res["spawn_exit_down_us"] = await spawn_exit_down(100_000 // k)
    res["idle_process_bytes"] = await idle_memory(100_000 // k)
    res["selective_receive_10k_queued_us"] = await selective(10_000, 10_000 // k)
    if not quick:
        t = time.perf_counter()
        before = rss_kb()
        pids = [spawn(idle) for _ in range(1_000_000)]
        await wait_all_blocked()
        res["million_idle_alive"] = len(Process.list()) - 1 >= 1_000_000
        res["million_idle_rss_mb"] = round((rss_kb() - before) / 1024)
        res["million_idle_spawn_s"] = round(time.perf_counter() - t, 2)
        del pids
    return res


TARGETS = {
    "ping_pong_round_trip_us": 2.0,
    "ring_hop_us": 1.0,
    "idle_process_bytes": 2600,
    "selective_receive_10k_queued_us": 180.0,
}


def cli() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", help="also write the figures to this file")
    ns = ap.parse_args()
    res = tether.run(main, ns.quick, hog_threshold=None)
    for key, value in res.items():
        target = TARGETS.get(key)
        verdict = ""
        if target is not None:
            verdict = f"target <= {target}: " + ("met" if value <= target else "SHORT")
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{key:36} {shown:>12}  {verdict}")
    if ns.json:
        with open(ns.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    cli()
