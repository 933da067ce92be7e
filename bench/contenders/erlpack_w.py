"""erlpack (Discord's Cython External Term Format codec): the codec rows only."""

from __future__ import annotations

from typing import Any

import erlpack

from .codec_term import codec_rows


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


WORKLOADS = codec_rows(erlpack.pack, erlpack.unpack, _term())
