from tests.conformance import twin_worker
from tests.conformance.twin_worker import pids, spec
from tether import (
    GenServer,
    Process,
    Supervisor,
)


async def scenario(t):
    twin_worker.T = t
    ok, sup = await Supervisor.start_link([spec("t", restart="transient")])
    p = (await pids(sup))["t"]
    Process.exit(p, "kill")
    await t.settle()
    p2 = (await pids(sup))["t"]
    t.out("restarted", p2 != p)
    await GenServer.stop(p2, "normal")
    await t.settle()
    t.out("pid", (await pids(sup))["t"])
    t.out("count", await Supervisor.count_children(sup))
