"""The W worker and helpers shared by the supervisor pairs (twin of worker.exs)."""

from typing import Any

from tether import GenServer, Ok, Process, Reply, Supervisor

T: Any = None  # the scenario's Trace, set by each twin


class W(GenServer):
    def init(self, cid: Any) -> Any:
        Process.flag("trap_exit", True)
        T.out("start", cid)
        return Ok(cid)

    def handle_call(self, request: Any, from_: Any, cid: Any) -> Any:
        return Reply(cid, cid)

    def terminate(self, r: Any, cid: Any) -> Any:
        T.out("stop", (cid, r))


def spec(cid: Any, **opts: Any) -> dict[str, Any]:
    return {"id": cid, "start": (W.start_link, (cid,)), **opts}


async def pids(sup: Any) -> dict[Any, Any]:
    return {cid: pid for cid, pid, _t, _m in await Supervisor.which_children(sup)}


def changed(b: dict[Any, Any], a: dict[Any, Any]) -> list[Any]:
    return sorted(k for k in b if b[k] != a.get(k))
