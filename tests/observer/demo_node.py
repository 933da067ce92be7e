"""A node with a small supervision tree and its web observer, for the browser tests.

``python demo_node.py [NAME COOKIE]`` prints ``URL <url>`` once the observer
listens, then runs until its standard input closes.  With a name it is
distributed (and allows remote observers to act: ``allow_actions``).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import tether
from tether import GenServer, NoReply, Ok, Process, Reply, Supervisor, receive, spawn_link


class Counter(GenServer):
    def init(self, start: Any, /) -> Any:
        return Ok({"count": start, "password": "hunter2"})

    def handle_call(self, request: Any, from_: Any, state: Any, /) -> Any:
        return Reply(state["count"], {**state, "count": state["count"] + 1})

    def handle_cast(self, request: Any, state: Any, /) -> Any:
        return NoReply(state)

    def format_status(self, status: dict[str, Any], /) -> dict[str, Any]:
        return {"state": {**status["state"], "password": "***"}}


async def inbox() -> None:
    """Waits for a message that never comes: what is sent to it stays queued."""
    await receive(lambda m: m == "never")


async def start_inbox() -> Any:
    pid = spawn_link(inbox)
    Process.register(pid, "inbox")
    for m in ("first", ("second", 2), {"third": [3]}):
        tether.send(pid, m)
    return ("ok", pid)


async def main() -> None:
    workers = [
        {"id": "counter", "start": (Counter.start_link, [0])},
        {"id": "inbox", "start": (start_inbox, [])},
    ]
    inner = {
        "id": "workers_sup",
        "start": (Supervisor.start_link, [workers]),
        "type": "supervisor",
    }
    children = [inner, {"id": "spare", "start": (Counter.start_link, [100])}]
    await Supervisor.start_link(children, strategy="one_for_one", name="demo_sup")
    if len(sys.argv) > 1:
        tether.observer.allow_actions()
    url = await tether.observer.start(port=0)
    print("URL", url, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    import tether.observer

    if len(sys.argv) > 1:
        tether.run(main, name=sys.argv[1], cookie=sys.argv[2])
    else:
        tether.run(main)
