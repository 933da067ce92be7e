"""A server started linked to the shell, killed: it takes the shell with it."""

from _iex import session, show

import tether
from tether import Process, receive, self, spawn_link


async def useless() -> None:
    """A do-nothing server loop (the article's Useless GenServer)."""
    while True:
        await receive()


async def before(env: dict) -> None:
    show("self()", self())


async def start_and_kill(env: dict) -> None:
    pid = spawn_link(useless)
    show("pid = spawn_link(useless)", pid)
    print('tether> Process.exit(pid, "kill")')
    Process.exit(pid, "kill")


async def after(env: dict) -> None:
    show("self()", self())


async def main() -> None:
    await session(before, start_and_kill, after)


if __name__ == "__main__":
    tether.run(main)
