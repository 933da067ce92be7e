"""tether's side of every workload.  Each function returns µs per op (bytes for memory)."""

from __future__ import annotations

import asyncio
import gc
import random
import time
from typing import Any

import tether
from tether import (
    ANY,
    Down,
    Exit,
    GenServer,
    Ok,
    Process,
    Reply,
    Supervisor,
    receive,
    self,
    send,
    spawn,
    spawn_link,
    spawn_monitor,
)
from tether.testing import wait_all_blocked

from ..rss import rss_bytes
from . import loop_factory
from .codec_term import codec_rows, tether_term


def _run(main: Any, *args: Any) -> float:
    return float(tether.run(main, *args, hog_threshold=None, loop_factory=loop_factory()))


async def _pong() -> None:
    while True:
        m = await receive()
        if m is None:
            return
        send(m, "pong")


async def _ping_pong(n: int) -> float:
    p, me = spawn(_pong), self()
    t = time.perf_counter()
    for _ in range(n):
        send(p, me)
        await receive()
    dt = time.perf_counter() - t
    send(p, None)
    return dt / n * 1e6


async def _counter(top: tether.Pid) -> None:
    n = 0
    while True:
        m = await receive()
        if m == 1:
            n += 1
        else:
            send(top, n)
            return


async def _counting(n: int) -> float:
    c = spawn(_counter, self())
    t = time.perf_counter()
    for _ in range(n):
        send(c, 1)
    send(c, 0)
    await receive()
    return (time.perf_counter() - t) / n * 1e6


async def _ring_node(nxt: tether.Pid) -> None:
    while True:
        m = await receive()
        send(nxt, m - 1 if m else 0)
        if m == 0:
            return


async def _ring(size: int, hops: int) -> float:
    first = self()
    for _ in range(size - 1):
        first = spawn(_ring_node, first)
    t = time.perf_counter()
    send(first, hops)
    while True:
        m = await receive()
        if m == 0:
            break
        send(first, m - 1)
    return (time.perf_counter() - t) / hops * 1e6


async def _nothing() -> None:
    return None


async def _spawn_exit_down(n: int) -> float:
    t = time.perf_counter()
    for _ in range(n):
        spawn_monitor(_nothing)
        await receive()
    return (time.perf_counter() - t) / n * 1e6


async def _idle() -> None:
    await receive()


async def _idle_memory(n: int) -> float:
    gc.collect()
    before = rss_bytes()
    pids = [spawn(_idle) for _ in range(n)]
    await wait_all_blocked()
    after = rss_bytes()
    del pids
    return (after - before) / n


async def _skynet_node(parent: tether.Pid, num: int, size: int) -> None:
    if size == 1:
        send(parent, num)
        return
    sub = size // 10
    me = self()
    for i in range(10):
        spawn(_skynet_node, me, num + i * sub, sub)
    total = 0
    for _ in range(10):
        total += await receive()
    send(parent, total)


async def _skynet(n: int) -> float:
    t = time.perf_counter()
    spawn(_skynet_node, self(), 0, n)
    await receive()
    return (time.perf_counter() - t) / n * 1e6


async def _selective(rounds: int) -> float:
    me = self()
    for i in range(10_000):
        send(me, ("noise", i))
    t = time.perf_counter()
    for _ in range(rounds):
        ref = tether.make_ref()
        send(me, (ref, "reply"))
        await receive((ref, ANY))
    return (time.perf_counter() - t) / rounds * 1e6


class _Srv(GenServer):
    def handle_call(self, request: Any, from_: Any, state: Any) -> Any:
        return Reply("pong", state)


async def _gen_call(n: int) -> float:
    _, s = await _Srv.start()
    t = time.perf_counter()
    for _ in range(n):
        await GenServer.call(s, "ping")
    return (time.perf_counter() - t) / n * 1e6


async def _crash() -> None:
    tether.exit("crash")


async def _link_crash(n: int) -> float:
    Process.flag("trap_exit", True)
    t = time.perf_counter()
    for _ in range(n):
        pid = spawn_link(_crash)
        await receive(Exit(pid, ANY))
    return (time.perf_counter() - t) / n * 1e6


class _Child(GenServer):
    def init(self, report: Any) -> Any:
        send(report, ("started", self()))
        return Ok(None)

    def handle_info(self, msg: Any, state: Any) -> Any:
        tether.exit("crash")


async def _sup_restart(n: int) -> float:
    me = self()
    child = {"id": "c", "start": (_Child.start_link, (me,))}
    await Supervisor.start_link([child], max_restarts=10**9, max_seconds=1)
    _, pid = await receive(("started", ANY))
    t = time.perf_counter()
    for _ in range(n):
        send(pid, "crash")
        _, pid = await receive(("started", ANY))
    return (time.perf_counter() - t) / n * 1e6


async def _timer_proc(top: tether.Pid) -> None:
    try:
        await receive(timeout=0.01)
    except TimeoutError:
        send(top, "done")


async def _timers(n: int) -> float:
    me = self()
    t = time.perf_counter()
    for _ in range(n):
        spawn(_timer_proc, me)
    for _ in range(n):
        await receive()
    return (time.perf_counter() - t) / n * 1e6


WORKLOADS = {
    "spawn_exit_down": lambda n: _run(_spawn_exit_down, n),
    "idle_memory": lambda n: _run(_idle_memory, n),
    "ping_pong": lambda n: _run(_ping_pong, n),
    "counting": lambda n: _run(_counting, n),
    "thread_ring": lambda n: _run(_ring, 100, n),
    "ring_1000": lambda n: _run(_ring, 1000, n),
    "skynet": lambda n: _run(_skynet, n),
    "selective_10k": lambda n: _run(_selective, n),
    "gen_call": lambda n: _run(_gen_call, n),
    "link_crash": lambda n: _run(_link_crash, n),
    "sup_restart": lambda n: _run(_sup_restart, n),
    "timers": lambda n: _run(_timers, n),
}
_ = Down


async def _skynet_lazy_node(parent: tether.Pid, num: int, size: int) -> None:
    # Lazy: spawn one child and wait for it before the next (few alive at once).
    if size == 1:
        send(parent, num)
        return
    sub, me, total = size // 10, self(), 0
    for i in range(10):
        spawn(_skynet_lazy_node, me, num + i * sub, sub)
        total += await receive()
    send(parent, total)


async def _skynet_lazy(n: int) -> float:
    t = time.perf_counter()
    spawn(_skynet_lazy_node, self(), 0, n)
    await receive()
    return (time.perf_counter() - t) / n * 1e6


def _fj_work() -> int:
    return sum(x * x for x in range(1, 11))


async def _fj_worker(top: tether.Pid, per: int) -> None:
    for _ in range(per):
        await receive()
        _fj_work()
    send(top, "done")


async def _fj_throughput(n: int) -> float:
    per, me = n // 60, self()
    actors = [spawn(_fj_worker, me, per) for _ in range(60)]
    t = time.perf_counter()
    for _ in range(per):
        for a in actors:
            send(a, "work")
    for _ in actors:
        await receive()
    return (time.perf_counter() - t) / (per * 60) * 1e6


async def _fj_one(top: tether.Pid) -> None:
    await receive()
    _fj_work()
    send(top, "done")


async def _fj_create(n: int) -> float:
    me = self()
    t = time.perf_counter()
    for _ in range(n):
        send(spawn(_fj_one, me), "work")
    for _ in range(n):
        await receive()
    return (time.perf_counter() - t) / n * 1e6


async def _big_actor(top: tether.Pid, per: int) -> None:
    _, peers = await receive(("peers", ANY))
    me = self()
    rng = random.Random(me.id)
    to_send, waiting = per, per
    while to_send or waiting:
        if to_send:
            send(peers[rng.randrange(len(peers))], ("ping", me))
        m = await receive()
        to_send = max(to_send - 1, 0)
        if m == "pong":
            waiting -= 1
        else:
            send(m[1], "pong")
    send(top, "done")
    while True:
        _, frm = await receive(("ping", ANY))
        send(frm, "pong")


async def _big(n: int) -> float:
    per, me = n // 100, self()
    actors = [spawn(_big_actor, me, per) for _ in range(100)]
    t = time.perf_counter()
    for a in actors:
        send(a, ("peers", actors))
    for _ in actors:
        await receive(lambda m: m == "done")
    return (time.perf_counter() - t) / (per * 200) * 1e6


async def _mall(top: tether.Pid, n: int) -> None:
    first = None
    while n:
        _, c = await receive(("meet", ANY))
        if first is None:
            first = c
        else:
            send(first, ("met", c))
            send(c, ("met", first))
            first, n = None, n - 1
    send(top, "meetings_done")
    while True:
        await receive()


async def _creature(mall: tether.Pid) -> None:
    await receive(lambda m: m == "go")
    me = self()
    while True:
        send(mall, ("meet", me))
        await receive(("met", ANY))


async def _chameneos(n: int) -> float:
    mall = spawn(_mall, self(), n)
    cs = [spawn(_creature, mall) for _ in range(10)]
    t = time.perf_counter()
    for c in cs:
        send(c, "go")
    await receive(lambda m: m == "meetings_done")
    return (time.perf_counter() - t) / n * 1e6


WORKLOADS.update(
    {
        "skynet_lazy": lambda n: _run(_skynet_lazy, n),
        "fj_throughput": lambda n: _run(_fj_throughput, n),
        "fj_create": lambda n: _run(_fj_create, n),
        "big": lambda n: _run(_big, n),
        "chameneos": lambda n: _run(_chameneos, n),
    }
)


# -- distribution: the codec and a round trip between two nodes ----------------


@tether.rpc.expose("tbench")
async def dist_pong() -> None:
    """The far side of dist_ping_pong (runs on the peer node)."""
    await _pong()


async def _dist_ping_pong(n: int) -> float:
    import tether.peer

    p = await tether.peer.start("tbench_peer", imports=["bench.contenders.tether_w"])
    pong = await tether.Node.spawn(p.node, "tbench", "dist_pong", [])
    tether.Process.link(pong)  # if the peer goes, fail rather than wait forever
    me = self()
    for _ in range(1000):  # warm up
        send(pong, me)
        await receive()
    t = time.perf_counter()
    for _ in range(n):
        send(pong, me)
        await receive()
    dt = time.perf_counter() - t
    tether.Process.unlink(pong)
    await p.stop()
    return dt / n * 1e6


def _dist_run(n: int) -> float:
    return float(
        tether.run(
            _dist_ping_pong,
            n,
            name="tbench_main@127.0.0.1",
            cookie="tbench",
            hog_threshold=None,
            loop_factory=loop_factory(),  # the peer runs on the same kind of loop
        )
    )


# -- distribution: the memory ceiling under a flood, in each direction ----------
#
# A 10 kB binary message, sent as fast as flow control lets, for ``ms``
# milliseconds; the figure is the measured node's resident memory at its peak
# minus before the flood, in MB.  In: a peer floods a process here that never
# reads.  Out: a process here floods a peer that is stopped (SIGSTOP).

_FLOOD = b"x" * 10_000


@tether.rpc.expose("tbench")
async def dist_flood(to: tether.Pid) -> None:
    """The flooder (runs on the sending node): sends until killed."""
    import asyncio

    while True:
        send(to, _FLOOD)
        await asyncio.sleep(0)  # one send a step: flow control suspends at a step


async def _never_reads() -> None:
    await Process.sleep(None)


async def _peak_rss_mb(base: int, ms: int) -> float:
    import asyncio

    peak = base
    end = time.perf_counter() + ms / 1000
    while time.perf_counter() < end:
        await asyncio.sleep(0.02)
        peak = max(peak, rss_bytes())
    return (peak - base) / 1e6


async def _dist_flood_in(ms: int) -> float:
    import tether.peer

    p = await tether.peer.start("tbench_peer", imports=["bench.contenders.tether_w"])
    sink = spawn(_never_reads)
    gc.collect()
    base = rss_bytes()
    await tether.Node.spawn(p.node, "tbench", "dist_flood", [sink])
    grown = await _peak_rss_mb(base, ms)
    p.process.kill()
    await p.process.wait()
    return grown


async def _dist_flood_out(ms: int) -> float:
    import os
    import signal

    import tether.peer

    p = await tether.peer.start("tbench_peer", imports=["bench.contenders.tether_w"])
    sink = await tether.Node.spawn(p.node, "tbench", "never_reads", [])
    os.kill(p.process.pid, signal.SIGSTOP)
    gc.collect()
    base = rss_bytes()
    spawn(dist_flood, sink)
    grown = await _peak_rss_mb(base, ms)
    os.kill(p.process.pid, signal.SIGCONT)
    p.process.kill()
    await p.process.wait()
    return grown


tether.rpc.expose("tbench", "never_reads")(_never_reads)


def _dist_flood(fn: Any) -> Any:
    def run(ms: int) -> float:
        return float(
            tether.run(fn, ms, name="tbench_main@127.0.0.1", cookie="tbench", hog_threshold=None)
        )

    return run


def _codec() -> Any:
    from tether.etf import Codec

    return Codec()


_CODEC = _codec()
WORKLOADS.update(codec_rows(_CODEC.encode, _CODEC.decode, tether_term()))
WORKLOADS["dist_ping_pong"] = _dist_run
WORKLOADS["dist_flood_in"] = _dist_flood(_dist_flood_in)
WORKLOADS["dist_flood_out"] = _dist_flood(_dist_flood_out)


# -- fairness: how late the event loop's timers fire under heavy steps ------------


async def _heavy_actor() -> None:
    while True:
        t = time.perf_counter()
        while time.perf_counter() - t < 0.005:
            pass
        await asyncio.sleep(0)


async def _timer_lateness(n: int) -> float:
    """Max lateness (ms) of an event-loop timer while 50 processes do 5 ms steps."""
    for _ in range(50):
        spawn(_heavy_actor)
    loop = asyncio.get_running_loop()
    worst = 0.0
    for _ in range(n):
        fired: asyncio.Future[float] = loop.create_future()
        due = time.perf_counter() + 0.01
        loop.call_later(0.01, lambda f=fired: f.set_result(time.perf_counter()))
        worst = max(worst, await fired - due)
    return worst * 1000


WORKLOADS["timer_lateness"] = lambda n: _run(_timer_lateness, n)
