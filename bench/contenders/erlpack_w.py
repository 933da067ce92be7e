"""erlpack (Discord's Cython External Term Format codec): the codec rows only."""

from __future__ import annotations

import time
from typing import Any

import erlpack


def _term() -> Any:
    a = erlpack.Atom
    return (
        a("ok"),
        "key-123",
        {
            a("name"): "tether",
            a("tags"): [a("a"), a("b")],
            a("n"): 12345,
            a("vals"): list(range(50)),
        },
        3.14,
        b"\xff" * 64,
        [(i, a("x")) for i in range(10)],
    )


def _encode(n: int) -> float:
    t = _term()
    t0 = time.perf_counter()
    for _ in range(n):
        erlpack.pack(t)
    return (time.perf_counter() - t0) / n * 1e6


def _decode(n: int) -> float:
    b = erlpack.pack(_term())
    t0 = time.perf_counter()
    for _ in range(n):
        erlpack.unpack(b)
    return (time.perf_counter() - t0) / n * 1e6


WORKLOADS = {"etf_encode": _encode, "etf_decode": _decode}
