"""Process.info(:monitors / :monitored_by) and Process.demonitor."""

from typing import Any

import tether
from tether import Process, receive, self, spawn

from ._iex import session, show


async def doit() -> None:
    match await receive():
        case "doit":
            print("did it")


async def step(env: dict[str, Any]) -> None:
    pid = spawn(doit)
    show("pid = spawn(doit)", pid)
    ref = Process.monitor(pid)
    show("ref = Process.monitor(pid)", ref)
    show('Process.info(self(), "monitors")', Process.info(self(), "monitors"))
    show('Process.info(pid, "monitored_by")', Process.info(pid, "monitored_by"))
    show("Process.demonitor(ref)", Process.demonitor(ref))
    show('Process.info(self(), "monitors")', Process.info(self(), "monitors"))
    show('Process.info(pid, "monitored_by")', Process.info(pid, "monitored_by"))


async def main() -> None:
    await session(step)


if __name__ == "__main__":
    tether.run(main)
