"""Trapping exits: a linked child's exit arrives as a message, Exit(pid, :kaboom)."""

from typing import Any

import tether
from tether import Exit, Process, exit, receive, spawn_link

from ._iex import session


class Crashy:
    @staticmethod
    async def run() -> None:
        Process.flag("trap_exit", True)
        spawn_link(Crashy, "splode", [])
        match await receive():
            case Exit(pid, msg):
                print(repr(tether.Atom("EXIT")))
                print(repr(pid))
                print(repr(msg))

    @staticmethod
    async def splode() -> None:
        exit("kaboom")


async def step(env: dict[str, Any]) -> None:
    print("tether> await Crashy.run()")
    await Crashy.run()


async def main() -> None:
    await session(step)


if __name__ == "__main__":
    tether.run(main)
