"""Looking at links with Process.info, and Process.unlink sparing the shell."""

from typing import Any

import tether
from tether import Process, exit, receive, self, send, spawn_link

from ._iex import session, show


async def print_links() -> None:
    print(repr(Process.info(self(), "links")))


async def wheres_the_kaboom() -> None:
    match await receive():
        case "crash":
            exit("wheres_the_kaboom")


async def links(env: dict[str, Any]) -> None:
    show('Process.info(self(), "links")', Process.info(self(), "links"))
    print("tether> spawn_link(print_links)")
    spawn_link(print_links)
    await Process.sleep(0.01)


async def unlink(env: dict[str, Any]) -> None:
    show("self()", self())
    pid = spawn_link(wheres_the_kaboom)
    show("pid = spawn_link(wheres_the_kaboom)", pid)
    show('Process.info(self(), "links")', Process.info(self(), "links"))
    show("Process.unlink(pid)", Process.unlink(pid))
    show('send(pid, "crash")', send(pid, "crash"))


async def after(env: dict[str, Any]) -> None:
    show("self()", self())
    show('Process.info(self(), "links")', Process.info(self(), "links"))


async def main() -> None:
    await session(links, unlink, after)


if __name__ == "__main__":
    tether.run(main)
