"""erlang-py (okeuday's pure-Python External Term Format codec): the codec rows only."""

from __future__ import annotations

import time
from typing import Any

import erlang


def _term() -> Any:
    a = erlang.OtpErlangAtom
    return (
        a(b"ok"),
        erlang.OtpErlangBinary(b"key-123"),
        {
            a(b"name"): erlang.OtpErlangBinary(b"tether"),
            a(b"tags"): erlang.OtpErlangList([a(b"a"), a(b"b")]),
            a(b"n"): 12345,
            a(b"vals"): erlang.OtpErlangList(list(range(50))),
        },
        3.14,
        erlang.OtpErlangBinary(b"\xff" * 64),
        erlang.OtpErlangList([(i, a(b"x")) for i in range(10)]),
    )


def _encode(n: int) -> float:
    t = _term()
    t0 = time.perf_counter()
    for _ in range(n):
        erlang.term_to_binary(t)
    return (time.perf_counter() - t0) / n * 1e6


def _decode(n: int) -> float:
    b = erlang.term_to_binary(_term())
    t0 = time.perf_counter()
    for _ in range(n):
        erlang.binary_to_term(b)
    return (time.perf_counter() - t0) / n * 1e6


WORKLOADS = {"etf_encode": _encode, "etf_decode": _decode}
