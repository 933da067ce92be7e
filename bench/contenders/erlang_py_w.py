"""erlang-py (okeuday's pure-Python External Term Format codec): the codec rows only."""

from __future__ import annotations

from typing import Any

import erlang

from .codec_term import codec_rows


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


WORKLOADS = codec_rows(erlang.term_to_binary, erlang.binary_to_term, _term())
