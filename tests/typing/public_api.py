"""What a type checker sees of tether's public API: pyright (strict) checks this file
in scripts/check.py; nothing runs it.

``assert_type`` pins an inferred type.  A call that must be rejected carries
``# pyright: ignore[rule]``, and ``reportUnnecessaryTypeIgnoreComment`` turns an
ignore with no error under it into an error: a type that stops catching the
mistake fails the check (typeshed tests its stubs the same way).
"""

# pyright: reportUnnecessaryTypeIgnoreComment=true

from typing import Any, assert_type

import tether
from tether import (
    ANY,
    Down,
    Exit,
    GenServer,
    Ok,
    Pid,
    Process,
    Ref,
    Supervisor,
    receive,
    spawn,
    spawn_link,
    spawn_monitor,
)


async def worker(n: int, name: str) -> int:
    return n


class Crashy:
    @staticmethod
    async def run() -> None: ...


async def spawning() -> None:
    assert_type(spawn(worker, 1, "a"), Pid)
    assert_type(spawn_link(worker, 1, "a"), Pid)
    assert_type(spawn_monitor(worker, 1, "a"), tuple[Pid, Ref])
    assert_type(spawn(Crashy, "run", []), Pid)  # Elixir's spawn(Mod, :fun, args)
    spawn(worker, "a", 1)  # pyright: ignore[reportCallIssue, reportArgumentType]
    spawn_link(worker, 1)  # pyright: ignore[reportArgumentType]
    spawn_monitor(worker, 1, "a", 2)  # pyright: ignore[reportArgumentType]


async def receiving(ref: Ref) -> None:
    assert_type(await receive(), Any)
    assert_type(await receive(timeout=1), Any)
    assert_type(await receive(str), str)
    assert_type(await receive(str, int), str | int)
    assert_type(await receive(Down), Down)
    assert_type(await receive(Down(ref, ANY, ANY, ANY)), Down)
    assert_type(await receive(Exit), Exit)
    assert_type(await receive(tuple), tuple[Any, ...])
    assert_type(await receive(("tag", ANY), timeout=5), Any)


def flags() -> None:
    assert_type(Process.flag("trap_exit", True), bool)
    assert_type(Process.flag("priority", "high"), tether.Atom)
    Process.flag("trap_exits", True)  # pyright: ignore[reportCallIssue, reportArgumentType]
    Process.flag("trap_exit", "yes")  # pyright: ignore[reportCallIssue, reportArgumentType]
    Process.flag("priority", "urgent")  # pyright: ignore[reportCallIssue, reportArgumentType]


class Counter(GenServer):
    # The callbacks' parameters are positional-only in GenServer: any names will do.
    def init(self, start: int) -> Ok:
        return Ok(start)

    def handle_call(self, msg: Any, caller: Any, count: int) -> Any:
        return None


class Tree(Supervisor):
    def init(self, children: list[Any]) -> Any:
        return Supervisor.init_spec(children)


async def starting() -> None:
    _ok, pid = await Counter.start_link(0)
    assert_type(pid, Pid | Any)
    Process.exit(pid, "kill")
    match await Supervisor.start_link([Counter]):
        case ("ok", sup):
            assert_type(sup, Pid | Any)
        case ("error", reason):
            assert_type(reason, Any)
        case _:
            pass


async def embedding() -> None:
    async with tether.open_node() as node:
        assert_type(node, tether.RunningNode)
        assert_type(await node.run(worker, 1, "a"), int)
        assert_type(node.spawn(worker, 1, "a"), Pid)
        await node.run(worker, "a")  # pyright: ignore[reportArgumentType]
        assert_type(node.from_thread.run(worker, 1, "a"), int)


def running() -> None:
    assert_type(tether.run(worker, 1, "a"), int)
    tether.run(worker, 1)  # pyright: ignore[reportArgumentType]
