"""Benchmark smoke for the core runtime's design targets: ``python -m bench.smoke``.

Prints each figure next to its target.  Absolute timings on this machine; the
benchmark-suite issue measures ratios to the BEAM and the peers side by side.
``--quick`` shrinks every workload (CI uses it only to see that it runs).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import tether
from tether import Process, receive, spawn
from tether.testing import wait_all_blocked

from .contenders.tether_w import _idle_memory, _ping_pong, _ring, _selective, _spawn_exit_down
from .rss import rss_bytes


async def idle() -> None:
    await receive()


async def main(quick: bool) -> dict[str, Any]:
    k = 10 if quick else 1
    res: dict[str, Any] = {}
    # The same workloads as the suite's tether rows (bench/contenders/tether_w.py).
    res["ping_pong_round_trip_us"] = await _ping_pong(200_000 // k)
    res["ring_hop_us"] = await _ring(1000, 1_000_000 // k)
    res["spawn_exit_down_us"] = await _spawn_exit_down(100_000 // k)
    res["idle_process_bytes"] = await _idle_memory(100_000 // k)
    res["selective_receive_10k_queued_us"] = await _selective(10_000 // k)
    if not quick:
        t = time.perf_counter()
        before = rss_bytes()
        pids = [spawn(idle) for _ in range(1_000_000)]
        await wait_all_blocked()
        res["million_idle_alive"] = len(Process.list()) - 1 >= 1_000_000
        res["million_idle_rss_mb"] = round((rss_bytes() - before) / 2**20)
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
