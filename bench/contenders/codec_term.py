"""The one representative message the codec rows encode and decode (the same term
as ``codec_term/0`` in bench/erlang/tbench.erl), built for each library."""

from __future__ import annotations

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
