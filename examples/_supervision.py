"""What the sup_* examples share: three workers under a strategy, b killed."""

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


async def demo(strategy: str) -> None:
    """Start a, b, c under ``strategy``, kill b, and say whose pid changed."""
    print(f"starting a, b, c under strategy={strategy}")
    _, sup = await Supervisor.start_link(
        [(Worker, "a"), (Worker, "b"), (Worker, "c")], strategy=strategy
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
