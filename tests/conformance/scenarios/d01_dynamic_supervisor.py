from tests.conformance import twin_worker
from tests.conformance.twin_worker import spec
from tether import (
    DynamicSupervisor,
    Process,
)


async def scenario(t):
    twin_worker.T = t
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
