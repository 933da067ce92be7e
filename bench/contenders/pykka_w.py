"""Pykka (a thread per actor): the messaging rows and spawn.

Pykka has no links, monitors or supervisors, so those rows are n/a; a thread per
actor makes the million-process rows infeasible, so they are n/a too.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pykka


class _Pong(pykka.ThreadingActor):
    def on_receive(self, message: Any) -> Any:
        return "pong"


def _ping_pong(n: int) -> float:
    ref = _Pong.start()
    t = time.perf_counter()
    for _ in range(n):
        ref.ask("ping")
    dt = time.perf_counter() - t
    ref.stop()
    return dt / n * 1e6


class _Counter(pykka.ThreadingActor):
    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    def on_receive(self, message: Any) -> Any:
        if message == 1:
            self.n += 1
            return None
        return self.n


def _counting(n: int) -> float:
    ref = _Counter.start()
    t = time.perf_counter()
    for _ in range(n):
        ref.tell(1)
    ref.ask(0)
    dt = time.perf_counter() - t
    ref.stop()
    return dt / n * 1e6


class _Node(pykka.ThreadingActor):
    def __init__(self, done: threading.Event) -> None:
        super().__init__()
        self.next: Any = None
        self.done = done

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, tuple):
            self.next = message[1]
        elif message == 0:
            self.done.set()
        else:
            self.next.tell(message - 1)


def _ring(size: int, hops: int) -> float:
    done = threading.Event()
    refs = [_Node.start(done) for _ in range(size)]
    for i, r in enumerate(refs):
        r.ask(("next", refs[(i + 1) % size]))
    t = time.perf_counter()
    refs[0].tell(hops)
    done.wait()
    dt = time.perf_counter() - t
    pykka.ActorRegistry.stop_all()
    return dt / hops * 1e6


def _spawn_exit_down(n: int) -> float:
    t = time.perf_counter()
    for _ in range(n):
        _Pong.start().stop()
    return (time.perf_counter() - t) / n * 1e6


WORKLOADS = {
    "spawn_exit_down": _spawn_exit_down,
    "ping_pong": _ping_pong,
    "counting": _counting,
    "thread_ring": lambda n: _ring(100, n),
    "ring_1000": lambda n: _ring(1000, n),
}
