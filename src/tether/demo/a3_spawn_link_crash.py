"""spawn_link of a function that crashes on "crash", as a function and as module/fun/args."""

from typing import Any

import tether
from tether import receive, self, send, spawn_link

from ._iex import session, show


async def crashy() -> None:
    match await receive():
        case "crash":
            1 / 0  # noqa: B018  # pyright: ignore[reportUnusedExpression] - the crash is the point


class Crashy:
    @staticmethod
    async def run() -> None:
        match await receive():
            case "crash":
                1 / 0  # noqa: B018  # pyright: ignore[reportUnusedExpression] - the crash is the point


async def with_fun(env: dict[str, Any]) -> None:
    pid = spawn_link(crashy)
    show("pid = spawn_link(crashy)", pid)
    show('send(pid, "crash")', send(pid, "crash"))


async def with_mfa(env: dict[str, Any]) -> None:
    pid = spawn_link(Crashy, "run", [])
    show('pid = spawn_link(Crashy, "run", [])', pid)
    show('send(pid, "crash")', send(pid, "crash"))


async def who(env: dict[str, Any]) -> None:
    show("self()", self())


async def main() -> None:
    await session(who, with_fun, who, with_mfa, who)


if __name__ == "__main__":
    tether.run(main)
