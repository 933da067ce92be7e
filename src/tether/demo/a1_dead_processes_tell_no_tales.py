"""Sending to a pid that does not exist: no error, no reply, no information."""

from typing import Any

import tether
from tether import Process, send

from ._iex import session, show


async def step(env: dict[str, Any]) -> None:
    pid = env["pid"] = tether.pid(0, 999, 0)
    show("pid = pid(0, 999, 0)", pid)
    show("Process.info(pid)", Process.info(pid))
    show('send(pid, "hello")', send(pid, "hello"))


async def main() -> None:
    await session(step)


if __name__ == "__main__":
    tether.run(main)
