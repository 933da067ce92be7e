"""A supervisor with the rest_for_one strategy: kill worker b and see who is restarted."""

from typing import Any

import tether
from tether import GenServer, Ok, Process, Supervisor
from tether.testing import wait_all_blocked


class Worker(GenServer):
    """A worker that says when it starts."""

    def init(self, name: Any) -> Any:
        print(f"  {name} started")
        return Ok(name)

    @classmethod
    def child_spec(cls, name: Any = None) -> dict[str, Any]:
        return {**super().child_spec(name), "id": name}


async def children(sup: tether.Pid) -> dict[str, tether.Pid]:
    return {cid: pid for cid, pid, _type, _mods in await Supervisor.which_children(sup)}


async def main() -> None:
    print("starting a, b, c under strategy=rest_for_one")
    _, sup = await Supervisor.start_link(
        [(Worker, "a"), (Worker, "b"), (Worker, "c")], strategy="rest_for_one"
    )
    before = await children(sup)
    print("killing b")
    Process.exit(before["b"], "kill")
    await wait_all_blocked()
    after = await children(sup)
    for name in ("a", "b", "c"):
        state = "new pid" if after[name] != before[name] else "same pid"
        print(f"{name}: {state}")
    await Supervisor.stop(sup)


if __name__ == "__main__":
    tether.run(main)
