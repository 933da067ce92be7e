"""The raw-asyncio baseline: a Task per actor and a deque-and-Future mailbox.

This is the floor a naive actor library on asyncio sits on; tether must never be
slower.  No links, monitors or supervision: rows that need them are n/a.
"""

from __future__ import annotations

import asyncio
import gc
import pickle
import socket
import sys
import time
from collections import deque
from typing import Any

from ..rss import rss_bytes
from . import loop_factory


class Mailbox:
    def __init__(self) -> None:
        self.q: deque[Any] = deque()
        self.waiter: asyncio.Future[None] | None = None

    def put(self, m: Any) -> None:
        self.q.append(m)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def get(self, match: Any = None) -> Any:
        while True:
            if match is None:
                if self.q:
                    return self.q.popleft()
            else:
                for i, m in enumerate(self.q):
                    if match(m):
                        del self.q[i]
                        return m
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter


def _run(coro: Any) -> float:
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return float(runner.run(coro))


async def _ping_pong(n: int) -> float:
    a, b = Mailbox(), Mailbox()

    async def pong() -> None:
        while (m := await b.get()) is not None:
            m.put("pong")

    task = asyncio.create_task(pong())
    t = time.perf_counter()
    for _ in range(n):
        b.put(a)
        await a.get()
    dt = time.perf_counter() - t
    b.put(None)
    await task
    return dt / n * 1e6


async def _counting(n: int) -> float:
    box, reply = Mailbox(), Mailbox()

    async def counter() -> None:
        c = 0
        while await box.get() == 1:
            c += 1
        reply.put(c)

    task = asyncio.create_task(counter())
    t = time.perf_counter()
    for _ in range(n):
        box.put(1)
    box.put(0)
    await reply.get()
    await task
    return (time.perf_counter() - t) / n * 1e6


async def _ring(size: int, hops: int) -> float:
    boxes = [Mailbox() for _ in range(size)]

    async def node(i: int) -> None:
        nxt = boxes[(i + 1) % size]
        while True:
            m = await boxes[i].get()
            nxt.put(m - 1 if m else 0)
            if m == 0:
                return

    tasks = [asyncio.create_task(node(i)) for i in range(1, size)]
    t = time.perf_counter()
    boxes[1].put(hops)
    while True:
        m = await boxes[0].get()
        if m == 0:
            break
        boxes[1].put(m - 1)
    dt = time.perf_counter() - t
    for tk in tasks:
        tk.cancel()
    return dt / hops * 1e6


async def _spawn_exit_down(n: int) -> float:
    async def nothing() -> None:
        return None

    box = Mailbox()
    t = time.perf_counter()
    for _ in range(n):
        task = asyncio.create_task(nothing())
        task.add_done_callback(lambda _t: box.put("down"))
        await box.get()
    return (time.perf_counter() - t) / n * 1e6


async def _idle_memory(n: int) -> float:
    gc.collect()
    before = rss_bytes()
    boxes = [Mailbox() for _ in range(n)]
    tasks = [asyncio.create_task(b.get()) for b in boxes]
    await asyncio.sleep(0)
    after = rss_bytes()
    for tk in tasks:
        tk.cancel()
    return (after - before) / n


async def _skynet(n: int) -> float:
    async def node(num: int, size: int) -> int:
        if size == 1:
            return num
        sub = size // 10
        tasks = [asyncio.create_task(node(num + i * sub, sub)) for i in range(10)]
        return sum([await tk for tk in tasks])

    t = time.perf_counter()
    await node(0, n)
    return (time.perf_counter() - t) / n * 1e6


async def _selective(rounds: int) -> float:
    box = Mailbox()
    for i in range(10_000):
        box.put(("noise", i))
    t = time.perf_counter()
    for _ in range(rounds):
        ref = object()
        box.put((ref, "reply"))
        await box.get(lambda m, ref=ref: m[0] is ref)
    return (time.perf_counter() - t) / rounds * 1e6


async def _timers(n: int) -> float:
    box = Mailbox()

    async def timer() -> None:
        await asyncio.sleep(0.01)
        box.put("done")

    t = time.perf_counter()
    tasks = [asyncio.create_task(timer()) for _ in range(n)]
    for _ in range(n):
        await box.get()
    del tasks
    return (time.perf_counter() - t) / n * 1e6


WORKLOADS = {
    "spawn_exit_down": lambda n: _run(_spawn_exit_down(n)),
    "idle_memory": lambda n: _run(_idle_memory(n)),
    "ping_pong": lambda n: _run(_ping_pong(n)),
    "counting": lambda n: _run(_counting(n)),
    "thread_ring": lambda n: _run(_ring(100, n)),
    "ring_1000": lambda n: _run(_ring(1000, n)),
    "skynet": lambda n: _run(_skynet(n)),
    "selective_10k": lambda n: _run(_selective(n)),
    "timers": lambda n: _run(_timers(n)),
}


async def _skynet_lazy(n: int) -> float:
    async def node(num: int, size: int) -> int:
        if size == 1:
            return num
        sub, total = size // 10, 0
        for i in range(10):
            total += await asyncio.create_task(node(num + i * sub, sub))
        return total

    t = time.perf_counter()
    await node(0, n)
    return (time.perf_counter() - t) / n * 1e6


def _fj_work() -> int:
    return sum(x * x for x in range(1, 11))


async def _fj_throughput(n: int) -> float:
    per, done = n // 60, Mailbox()
    boxes = [Mailbox() for _ in range(60)]

    async def worker(box: Mailbox) -> None:
        for _ in range(per):
            await box.get()
            _fj_work()
        done.put("done")

    tasks = [asyncio.create_task(worker(b)) for b in boxes]
    t = time.perf_counter()
    for _ in range(per):
        for b in boxes:
            b.put("work")
    for _ in boxes:
        await done.get()
    del tasks
    return (time.perf_counter() - t) / (per * 60) * 1e6


async def _fj_create(n: int) -> float:
    done = Mailbox()

    async def one(box: Mailbox) -> None:
        await box.get()
        _fj_work()
        done.put("done")

    t = time.perf_counter()
    tasks = []
    for _ in range(n):
        box = Mailbox()
        tasks.append(asyncio.create_task(one(box)))
        box.put("work")
    for _ in range(n):
        await done.get()
    return (time.perf_counter() - t) / n * 1e6


WORKLOADS.update(
    {
        "skynet_lazy": lambda n: _run(_skynet_lazy(n)),
        "fj_throughput": lambda n: _run(_fj_throughput(n)),
        "fj_create": lambda n: _run(_fj_create(n)),
    }
)


async def _heavy_task() -> None:
    while True:
        t = time.perf_counter()
        while time.perf_counter() - t < 0.005:
            pass
        await asyncio.sleep(0)


async def _timer_lateness(n: int) -> float:
    """Max lateness (ms) of an event-loop timer while 50 tasks do 5 ms steps."""
    tasks = [asyncio.create_task(_heavy_task()) for _ in range(50)]
    loop = asyncio.get_running_loop()
    worst = 0.0
    for _ in range(n):
        fired: asyncio.Future[float] = loop.create_future()
        due = time.perf_counter() + 0.01
        loop.call_later(0.01, lambda f=fired: f.set_result(time.perf_counter()))
        worst = max(worst, await fired - due)
    for task in tasks:
        task.cancel()
    return worst * 1000


WORKLOADS["timer_lateness"] = lambda n: _run(_timer_lateness(n))


# -- dist_ping_pong's floor: a round trip between two OS processes ----------------
#
# What the row costs with nothing of tether's: a length-prefixed pickle of a
# small tuple over a loopback TCP connection, read with an asyncio.Protocol (no
# StreamReader futures) at both ends, the far end a child process that echoes.
# tether's round trip carries an ETF-encoded control message and payload, and a
# process on each side; on a quiet machine this row is the event loop's and the
# kernel's share of it.

_ECHO = """
import asyncio, socket, sys
from bench.contenders import loop_factory  # the measuring side's loop

class Echo(asyncio.Protocol):
    def connection_made(self, t):
        self.t, self.buf = t, bytearray()
        t.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    def data_received(self, data):
        self.buf += data
        while len(self.buf) >= 4:
            size = int.from_bytes(self.buf[:4], "big")
            if len(self.buf) < 4 + size:
                break
            frame = bytes(self.buf[: 4 + size])
            del self.buf[: 4 + size]
            self.t.write(frame)
    def connection_lost(self, exc):
        loop.stop()

loop = (loop_factory() or asyncio.new_event_loop)()
loop.run_until_complete(loop.create_connection(Echo, "127.0.0.1", int(sys.argv[1])))
loop.run_forever()
"""


class _Client(asyncio.Protocol):
    def __init__(self) -> None:
        self.buf = bytearray()
        self.replies: asyncio.Queue[Any] = asyncio.Queue()

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while len(self.buf) >= 4:
            size = int.from_bytes(self.buf[:4], "big")
            if len(self.buf) < 4 + size:
                break
            self.replies.put_nowait(pickle.loads(bytes(self.buf[4 : 4 + size])))
            del self.buf[: 4 + size]


async def _dist_ping_pong(n: int) -> float:
    loop = asyncio.get_running_loop()
    connected: asyncio.Future[asyncio.Transport] = loop.create_future()
    client = _Client()

    def accept() -> _Client:
        return client

    server = await loop.create_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", _ECHO, str(port))

    def made(transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connected.set_result(transport)  # type: ignore[arg-type]

    client.connection_made = made  # type: ignore[method-assign]
    transport = await connected
    msg = ("ping", 1, "tbench_main@127.0.0.1")

    async def trip() -> None:
        body = pickle.dumps(msg)
        transport.write(len(body).to_bytes(4, "big") + body)
        await client.replies.get()

    for _ in range(1000):  # warm up
        await trip()
    t = time.perf_counter()
    for _ in range(n):
        await trip()
    dt = time.perf_counter() - t
    transport.close()
    server.close()
    await child.wait()
    return dt / n * 1e6


WORKLOADS["dist_ping_pong"] = lambda n: _run(_dist_ping_pong(n))
