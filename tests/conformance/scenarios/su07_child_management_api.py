from tests.conformance import twin_worker
from tests.conformance.twin_worker import spec
from tether import (
    Supervisor,
)


async def scenario(t):
    twin_worker.T = t
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
