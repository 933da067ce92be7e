"""tether against a plain Erlang node (``erl -name``), driven over rpc (issue: distribution)."""

from __future__ import annotations

from typing import Any

import pytest

import tether
from tether import ANY, Atom, Down, Node, Process, receive, rpc

from .conftest import run_node

pytestmark = pytest.mark.timeout(120)


def test_ping_rpc_and_send_with_erlang(erl: str) -> None:
    @rpc.expose("py_math")
    def mul(a: int, b: int) -> int:
        return a * b

    async def main() -> tuple[Any, ...]:
        me = tether.node()
        Process.register(tether.self(), "py_inbox")
        pong = await Node.ping(erl)
        node = await rpc.call(erl, "erlang", "node", [])
        rev = await rpc.call(erl, "lists", "reverse", [[1, 2, 3]])
        back_ping = await rpc.call(erl, "net_adm", "ping", [me])
        nested = await rpc.call(erl, "rpc", "call", [me, Atom("py_math"), Atom("mul"), [6, 7]])
        await rpc.call(erl, "erlang", "send", [(Atom("py_inbox"), me), (Atom("from_erlang"), 1.5)])
        msg = await receive((Atom("from_erlang"), ANY), timeout=10)
        return pong, node, rev, back_ping, nested, msg

    assert run_node(main) == (
        "pong",
        Atom(erl),
        [3, 2, 1],
        "pong",
        42,
        ("from_erlang", 1.5),
    )


def test_monitor_an_erlang_process(erl: str) -> None:
    async def main() -> Any:
        pid = await Node.spawn(erl, "timer", "sleep", [50])
        ref = Process.monitor(pid)
        return await receive(Down(ref, ANY, ANY, ANY), timeout=10), ref, pid

    down, ref, pid = run_node(main)
    assert down == Down(ref, "process", pid, "normal")
