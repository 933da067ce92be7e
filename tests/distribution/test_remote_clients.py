"""A GenServer called from another node (issue #12 item 7)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tether import Atom, GenServer, Ok, Ref, Reply
from tether._dist import node as dn
from tether._runtime._types import ImproperList

from .conftest import COOKIE, run_node
from .hostile import RawPeer, ours
from .test_hostile import peer_name

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("epmd_port")]


class Fragile(GenServer):
    def init(self, arg: Any) -> Any:
        return Ok(arg)

    def handle_call(self, request: Any, from_: Any, state: Any) -> Any:
        if request == "crash":
            raise ZeroDivisionError("division by zero")
        return Reply(("echo", request), state)


def test_a_gen_server_crash_on_a_remote_call_reports_the_remote_client(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The crash report says "is remote on node ..." as Elixir's does (Process.alive
    on a remote pid once raised ValueError there, replacing the real reason), and
    the remote monitor gets the real reason.  The reply to an OTP-style
    ``[alias | ref]`` tag goes to the alias."""
    caplog.set_level(logging.ERROR, logger="tether")

    async def main() -> tuple[Any, ...]:
        _ok, server = await Fragile.start("state")
        peer = RawPeer(peer_name("caller"), COOKIE)
        await peer.connect()
        caller, alias = peer.pid(4), peer.ref(9)
        tag = ImproperList([Atom("alias")], alias)
        peer.send((dn.MONITOR_P, caller, ours(server), peer.ref(1)))
        peer.send(
            (dn.SEND_SENDER_OP, caller, ours(server)), (Atom("$gen_call"), (caller, tag), "hi")
        )
        reply = await peer.recv()
        peer.send(
            (dn.SEND_SENDER_OP, caller, ours(server)), (Atom("$gen_call"), (caller, tag), "crash")
        )
        down = await peer.recv()
        return peer.name, repr(caller), server, reply, down

    name, caller, server, reply, down = run_node(main)
    # as the peer decodes them: its own refs are local to it
    assert reply == (
        (dn.ALIAS_SEND, reply[0][1], Ref(9)),
        (ImproperList([Atom("alias")], Ref(9)), ("echo", "hi")),
    )
    ctrl, reason = down
    assert ctrl[0] == dn.PAYLOAD_MONITOR_P_EXIT
    assert reason[0][Atom("type")] == "ZeroDivisionError"  # the real reason, not a ValueError
    report = [r.getMessage() for r in caplog.records if "terminating" in r.getMessage()]
    assert len(report) == 1
    lines = report[0].splitlines()
    assert lines[0] == f"GenServer {server!r} terminating"
    assert lines[-1] == f'Client {caller} is remote on node :"{name}"'
