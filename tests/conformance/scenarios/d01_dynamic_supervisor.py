from typing import Any

from tether import (
    DynamicSupervisor,
    GenServer,
    Ok,
    Process,
    Reply,
    Supervisor,
)

T: Any = None


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


async def scenario(t):
    global T
    T = t
    ok, sup = await DynamicSupervisor.start_link(max_children=2)
    ok, a = await DynamicSupervisor.start_child(sup, spec("a"))
    ok, _b = await DynamicSupervisor.start_child(sup, spec("b"))
    t.out("max", await DynamicSupervisor.start_child(sup, spec("c")))
    t.out("ids", [c[0] for c in await DynamicSupervisor.which_children(sup)])
    t.out("count", await DynamicSupervisor.count_children(sup))
    t.out("terminate", await DynamicSupervisor.terminate_child(sup, a))
    t.out("again", await DynamicSupervisor.terminate_child(sup, a))
    Process.exit((await DynamicSupervisor.which_children(sup))[0][1], "kill")
    await t.settle()
    t.out("count", await DynamicSupervisor.count_children(sup))
