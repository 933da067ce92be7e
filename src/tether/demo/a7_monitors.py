"""spawn_monitor and Process.monitor: the watcher gets a Down message and lives."""

from typing import Any

import tether
from tether import Process, exit, receive, self, send, spawn, spawn_monitor

from ._iex import session, show


async def flush() -> None:
    """IEx's flush(): print every queued message."""
    print("tether> flush()")
    while True:
        try:
            print(repr(await receive(timeout=0)))
        except TimeoutError:
            return


async def kaboom() -> None:
    match await receive():
        case "crash":
            exit("kaboom")


class Crashy:
    @staticmethod
    async def run() -> None:
        await kaboom()


async def adder() -> None:
    match await receive():
        case "add":
            print(1 + 2)


async def with_spawn_monitor(env: dict[str, Any]) -> None:
    show("self()", self())
    pid, ref = spawn_monitor(kaboom)
    show("pid, ref = spawn_monitor(kaboom)", (pid, ref))
    show('send(pid, "crash")', send(pid, "crash"))
    await Process.sleep(0.01)
    await flush()
    show("self()", self())


async def with_mfa(env: dict[str, Any]) -> None:
    pid, ref = spawn_monitor(Crashy, "run", [])
    show('pid, ref = spawn_monitor(Crashy, "run", [])', (pid, ref))
    show('send(pid, "crash")', send(pid, "crash"))
    await Process.sleep(0.01)
    await flush()


async def with_monitor(env: dict[str, Any]) -> None:
    pid = spawn(adder)
    show("pid = spawn(adder)", pid)
    ref = Process.monitor(pid)
    show("ref = Process.monitor(pid)", ref)
    show('send(pid, "add")', send(pid, "add"))
    await Process.sleep(0.01)
    await flush()


async def main() -> None:
    await session(with_spawn_monitor, with_mfa, with_monitor)


if __name__ == "__main__":
    tether.run(main)
