"""Thespian in-process (``simpleSystemBase``): the messaging rows and spawn.

In this base all actors run in the caller's thread, driven by ``ask``/``tell``.
No links or supervision in the BEAM's sense: those rows are n/a.
"""

from __future__ import annotations

import time
from typing import Any

from thespian.actors import Actor, ActorExitRequest, ActorSystem


class _Pong(Actor):
    def receiveMessage(self, message: Any, sender: Any) -> None:
        if message == "ping":
            self.send(sender, "pong")


class _Counter(Actor):
    n = 0

    def receiveMessage(self, message: Any, sender: Any) -> None:
        if message == 1:
            self.n += 1
        elif message == 0:
            self.send(sender, self.n)


class _Node(Actor):
    nxt: Any = None
    origin: Any = None

    def receiveMessage(self, message: Any, sender: Any) -> None:
        if isinstance(message, tuple):
            self.nxt = message[1]
            self.send(sender, "ok")
        elif isinstance(message, dict):
            self.origin = sender
            self.send(self.nxt, message["hops"] - 1)
        elif message == 0:
            self.send(self.origin or sender, "done")
        elif isinstance(message, int):
            self.send(self.nxt, message - 1)


def _system() -> ActorSystem:
    return ActorSystem("simpleSystemBase", logDefs=False)


def _ping_pong(n: int) -> float:
    asys = _system()
    a = asys.createActor(_Pong)
    t = time.perf_counter()
    for _ in range(n):
        asys.ask(a, "ping", 5)
    dt = time.perf_counter() - t
    asys.shutdown()
    return dt / n * 1e6


def _counting(n: int) -> float:
    asys = _system()
    c = asys.createActor(_Counter)
    t = time.perf_counter()
    for _ in range(n):
        asys.tell(c, 1)
    asys.ask(c, 0, 60)
    dt = time.perf_counter() - t
    asys.shutdown()
    return dt / n * 1e6


def _ring(size: int, hops: int) -> float:
    asys = _system()
    nodes = [asys.createActor(_Node) for _ in range(size)]
    for i, a in enumerate(nodes):
        asys.ask(a, ("next", nodes[(i + 1) % size]), 5)
    t = time.perf_counter()
    asys.ask(nodes[0], {"hops": hops}, 600)
    dt = time.perf_counter() - t
    asys.shutdown()
    return dt / hops * 1e6


def _spawn_exit_down(n: int) -> float:
    asys = _system()
    t = time.perf_counter()
    for _ in range(n):
        a = asys.createActor(_Pong)
        asys.tell(a, ActorExitRequest())
    dt = time.perf_counter() - t
    asys.shutdown()
    return dt / n * 1e6


WORKLOADS = {
    "spawn_exit_down": _spawn_exit_down,
    "ping_pong": _ping_pong,
    "counting": _counting,
    "thread_ring": lambda n: _ring(100, n),
    "ring_1000": lambda n: _ring(1000, n),
}
