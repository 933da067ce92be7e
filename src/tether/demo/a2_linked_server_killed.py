"""A GenServer started linked to the shell, killed: it takes the shell with it."""

from typing import Any

import tether
from tether import GenServer, Ok, Process, self

from ._iex import session, show


class Useless(GenServer):
    """The article's do-nothing GenServer."""

    def init(self, arg: object) -> Ok:
        return Ok([])


async def before(env: dict[str, Any]) -> None:
    show("self()", self())


async def start_and_kill(env: dict[str, Any]) -> None:
    result = await Useless.start_link([])
    show("result = await Useless.start_link([])", result)
    _, pid = result
    print('tether> Process.exit(pid, "kill")')
    Process.exit(pid, "kill")


async def after(env: dict[str, Any]) -> None:
    show("self()", self())


async def main() -> None:
    await session(before, start_and_kill, after)


if __name__ == "__main__":
    tether.run(main)
