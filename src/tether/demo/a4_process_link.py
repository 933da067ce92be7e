"""Process.link to an existing process, then a crash that takes the shell down."""

from typing import Any

import tether
from tether import Process, receive, send, spawn

from ._iex import session, show


async def boom() -> None:
    match await receive():
        case "crash":
            raise RuntimeError("boom")


async def step(env: dict[str, Any]) -> None:
    pid = spawn(boom)
    show("pid = spawn(boom)", pid)
    show("Process.link(pid)", Process.link(pid))
    show('send(pid, "crash")', send(pid, "crash"))


async def main() -> None:
    await session(step)


if __name__ == "__main__":
    tether.run(main)
