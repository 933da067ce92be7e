from typing import Any

from tether import (
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
    ok, sup = await Supervisor.start_link([spec("a")])
    ok, b = await Supervisor.start_child(sup, spec("b"))
    t.out("ids", [c[0] for c in await Supervisor.which_children(sup)])
    t.out("dup", await Supervisor.start_child(sup, spec("b")) == ("error", ("already_started", b)))
    t.out("restart_running", await Supervisor.restart_child(sup, "b"))
    t.out("delete_running", await Supervisor.delete_child(sup, "b"))
    t.out("terminate", await Supervisor.terminate_child(sup, "b"))
    t.out("present", await Supervisor.start_child(sup, spec("b")))
    ok, b2 = await Supervisor.restart_child(sup, "b")
    t.out("new_pid", b2 != b)
    t.out("terminate", await Supervisor.terminate_child(sup, "b"))
    t.out("delete", await Supervisor.delete_child(sup, "b"))
    t.out("terminate_missing", await Supervisor.terminate_child(sup, "b"))
    t.out("restart_missing", await Supervisor.restart_child(sup, "b"))
    t.out("delete_missing", await Supervisor.delete_child(sup, "b"))
