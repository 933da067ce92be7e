"""A second tether node for the tether<->tether tests: ``python twin_node.py NAME COOKIE``.

Exposes ``pool:worker/1`` (a worker that reports to its parent, then waits),
``pool:workers/0`` (the workers alive here) and ``pool:pg_join/2`` (a new member of
a process group); prints READY once distributed.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import tether
from tether import Process, receive, rpc, send

_workers: list[tether.Pid] = []


@rpc.expose("pool")
async def worker(parent: tether.Pid) -> None:
    _workers.append(tether.self())
    send(parent, ("worker_up", tether.self(), tether.node()))
    await Process.sleep(None)


@rpc.expose("pool")
def workers() -> list[tether.Pid]:
    return [p for p in _workers if Process.alive(p)]


@rpc.expose("pool")
async def echo() -> None:
    """Send every (reply_to, payload) message's payload back; stop on "stop"."""
    while True:
        msg = await receive()
        if msg == "stop":
            return
        send(msg[0], msg[1])


@rpc.expose("pool")
def square(x: int) -> int:
    return x * x


@rpc.expose("pool")
def loop_kind() -> str:
    """``"uvloop"`` or ``"asyncio"``: the event loop this node runs on."""
    return type(asyncio.get_running_loop()).__module__.partition(".")[0]


async def _member() -> None:
    await Process.sleep(None)


@rpc.expose("pool")
async def pg_join(scope: str, group: str) -> tether.Pid:
    """Start the pg scope ``scope`` here if it is not running, and make a new
    process a member of ``group`` in it; its pid."""
    if Process.whereis(scope) is None:
        await tether.pg.start(scope)
    member = tether.spawn(_member)
    await tether.pg.join(group, member, scope=scope)
    return member


@rpc.expose("pool")
async def hello_at(inbox: tuple[str, str], when: float) -> None:
    """At wall-clock time ``when``, send ("hello", node()) to ``inbox``."""
    await Process.sleep(max(0.0, when - time.time()))
    send(inbox, ("hello", tether.node()))


async def main() -> Any:
    print("READY", flush=True)
    while True:
        msg = await receive()
        if msg == "stop":
            return None


if __name__ == "__main__":
    tether.run(main, name=sys.argv[1], cookie=sys.argv[2])
