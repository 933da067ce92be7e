"""The one representative message the codec rows encode and decode (the same term
as ``codec_term/0`` in bench/erlang/tbench.erl), and the timing loops they share."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tether import Atom


def tether_term() -> Any:
    return (
        Atom("ok"),
        "key-123",
        {
            Atom("name"): "tether",
            Atom("tags"): [Atom("a"), Atom("b")],
            Atom("n"): 12345,
            Atom("vals"): list(range(50)),
        },
        3.14,
        b"\xff" * 64,
        [(i, Atom("x")) for i in range(10)],
    )


def codec_rows(
    encode: Callable[[Any], bytes], decode: Callable[[bytes], Any], term: Any
) -> dict[str, Callable[[int], float]]:
    """The etf_encode / etf_decode workloads for one codec: µs per call."""

    def enc(n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            encode(term)
        return (time.perf_counter() - t0) / n * 1e6

    def dec(n: int) -> float:
        b = encode(term)
        t0 = time.perf_counter()
        for _ in range(n):
            decode(b)
        return (time.perf_counter() - t0) / n * 1e6

    return {"etf_encode": enc, "etf_decode": dec}
