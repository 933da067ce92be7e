"""CPU-bound work on every core: ``CpuPool`` against ``tether.peer`` nodes and
``concurrent.futures.ProcessPoolExecutor`` (issue #15).

``uv run python -m bench.cpu [--quick] [--reps N]`` runs the same jobs
(``bench/cpu_jobs.py``) four ways and prints a markdown table (medians):

* throughput: the primes below ``LIMIT`` counted in ``CHUNKS`` jobs, wall time
  (pools already started), against one process doing it alone;
* per-task overhead: ``TINY`` jobs that cost nothing (``square``), µs per task,
  one at a time (latency: submit, wait, next) and all at once (throughput);
* start-up: the time to get the pool's workers (or peers) running.

Figures are the best of ``--reps`` runs (interleaved): on a shared machine
the other load only ever adds time; the load average is printed with them.

Each pool has ``os.cpu_count()`` workers.  ``CpuPool`` and the peers run inside
a tether node (the peers need a distributed one); ``ProcessPoolExecutor`` runs
in plain Python, as its users call it.  Workers start with ``forkserver`` for
both pools.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import tether
from tether import CpuPool, Task, peer, rpc

from .cpu_jobs import count_primes, square

LIMIT, CHUNKS, TINY = 600_000, 24, 2_000
QUICK = (60_000, 8, 200)


def _chunks(limit: int, n: int) -> list[tuple[int, int]]:
    step = limit // n
    return [(i * step, (i + 1) * step) for i in range(n)]


def serial(limit: int, n: int) -> dict[str, float]:
    t = time.perf_counter()
    total = sum(count_primes(lo, hi) for lo, hi in _chunks(limit, n))
    return {"throughput_s": time.perf_counter() - t, "total": total}


def executor(limit: int, n: int, tiny: int, cores: int) -> dict[str, float]:
    ctx = multiprocessing.get_context("forkserver")
    t0 = time.perf_counter()
    with ProcessPoolExecutor(cores, mp_context=ctx) as ex:
        list(ex.map(square, range(cores)))  # every worker up
        start = time.perf_counter() - t0
        chunks = _chunks(limit, n)
        t = time.perf_counter()
        total = sum(ex.map(count_primes, [c[0] for c in chunks], [c[1] for c in chunks]))
        through = time.perf_counter() - t
        t = time.perf_counter()
        for i in range(tiny):
            ex.submit(square, i).result()
        latency = (time.perf_counter() - t) / tiny * 1e6
        t = time.perf_counter()
        list(ex.map(square, range(tiny)))
        batch = (time.perf_counter() - t) / tiny * 1e6
    return {
        "start_s": start,
        "throughput_s": through,
        "latency_us": latency,
        "batch_us": batch,
        "total": total,
    }


def cpu_pool(limit: int, n: int, tiny: int, cores: int) -> dict[str, float]:
    async def main() -> dict[str, float]:
        t0 = time.perf_counter()
        _, pool = await CpuPool.start_link(cores)
        while (await CpuPool.info(pool))["ready"] < cores:
            await tether.Process.sleep(0.005)
        start = time.perf_counter() - t0
        t = time.perf_counter()
        total = 0
        stream = CpuPool.async_stream(
            pool, _count, _chunks(limit, n), max_concurrency=2 * cores, timeout=None
        )
        async for _, count in stream:
            total += count
        through = time.perf_counter() - t
        t = time.perf_counter()
        for i in range(tiny):
            await CpuPool.run(pool, square, i)
        latency = (time.perf_counter() - t) / tiny * 1e6
        t = time.perf_counter()
        stream = CpuPool.async_stream(
            pool, square, range(tiny), max_concurrency=2 * cores, timeout=None
        )
        async for _ in stream:
            pass
        batch = (time.perf_counter() - t) / tiny * 1e6
        await CpuPool.stop(pool)
        return {
            "start_s": start,
            "throughput_s": through,
            "latency_us": latency,
            "batch_us": batch,
            "total": total,
        }

    return tether.run(main, hog_threshold=None)


def _count(chunk: tuple[int, int]) -> int:
    return count_primes(*chunk)


def peers(limit: int, n: int, tiny: int, cores: int) -> dict[str, float]:
    async def main() -> dict[str, float]:
        t0 = time.perf_counter()
        nodes = [
            (await peer.start(f"bench_cpu{i}", imports=["bench.cpu_jobs"])) for i in range(cores)
        ]
        start = time.perf_counter() - t0
        names = [p.node for p in nodes]
        chunks = _chunks(limit, n)
        t = time.perf_counter()
        tasks = [
            Task.async_(rpc.call, names[i % cores], "bench_cpu", "count_primes", [lo, hi])
            for i, (lo, hi) in enumerate(chunks)
        ]
        total = sum(await Task.await_many(tasks, timeout=None))
        through = time.perf_counter() - t
        t = time.perf_counter()
        for i in range(tiny):
            await rpc.call(names[i % cores], "bench_cpu", "square", [i])
        latency = (time.perf_counter() - t) / tiny * 1e6
        t = time.perf_counter()
        tasks = [
            Task.async_(rpc.call, names[i % cores], "bench_cpu", "square", [i]) for i in range(tiny)
        ]
        await Task.await_many(tasks, timeout=None)
        batch = (time.perf_counter() - t) / tiny * 1e6
        for p in nodes:
            await p.stop()
        return {
            "start_s": start,
            "throughput_s": through,
            "latency_us": latency,
            "batch_us": batch,
            "total": total,
        }

    return tether.run(main, name="bench_cpu_main@127.0.0.1", hog_threshold=None)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args(argv)
    limit, n, tiny = QUICK if args.quick else (LIMIT, CHUNKS, TINY)
    cores = os.cpu_count() or 1
    runs: dict[str, list[dict[str, float]]] = {
        "serial": [],
        "executor": [],
        "cpu_pool": [],
        "peers": [],
    }
    for _ in range(args.reps):  # interleaved, contender by contender
        runs["serial"].append(serial(limit, n))
        runs["executor"].append(executor(limit, n, tiny, cores))
        runs["cpu_pool"].append(cpu_pool(limit, n, tiny, cores))
        runs["peers"].append(peers(limit, n, tiny, cores))
    totals = {r["total"] for rs in runs.values() for r in rs}
    assert len(totals) == 1, f"the contenders disagree: {totals}"
    med = {
        name: {k: min(r[k] for r in rs) for k in rs[0] if k != "total"} for name, rs in runs.items()
    }
    base = med["serial"]["throughput_s"]
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(
        f"{cores} cores; primes below {limit} in {n} jobs; {tiny} tiny jobs; "
        f"best of {args.reps} repetitions; load average {load} at the end"
    )
    print(
        "| contender | throughput (s) | speed-up | start-up (s) | latency µs/task | batch µs/task |"
    )
    print("|---|---|---|---|---|---|")
    labels = {
        "serial": "one process, no pool",
        "executor": "ProcessPoolExecutor",
        "cpu_pool": "tether CpuPool",
        "peers": "tether.peer nodes (rpc)",
    }
    for name, m in med.items():
        cells = [
            f"{m['throughput_s']:.3g}",
            f"{base / m['throughput_s']:.2f}×",
            f"{m['start_s']:.3g}" if "start_s" in m else "—",
            f"{m['latency_us']:.3g}" if "latency_us" in m else "—",
            f"{m['batch_us']:.3g}" if "batch_us" in m else "—",
        ]
        print(f"| {labels[name]} | " + " | ".join(cells) + " |")
    os.makedirs("bench/out", exist_ok=True)
    with open("bench/out/cpu.json", "w") as f:
        json.dump({"cores": cores, "limit": limit, "jobs": n, "tiny": tiny, "runs": runs}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
