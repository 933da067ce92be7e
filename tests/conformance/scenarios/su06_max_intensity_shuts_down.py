from tests.conformance import twin_worker
from tests.conformance.twin_worker import pids, spec
from tether import (
    ANY,
    Exit,
    Process,
    Supervisor,
    receive,
)


async def scenario(t):
    twin_worker.T = t
    Process.flag("trap_exit", True)
    ok, sup = await Supervisor.start_link([spec("a")])
    for _ in range(4):
        if Process.alive(sup):
            Process.exit((await pids(sup))["a"], "kill")
        await t.settle()
    t.out("sup_exit", (await receive(Exit(sup, ANY))).reason)
