from tests.conformance import twin_worker
from tests.conformance.twin_worker import pids, spec
from tether import (
    Process,
    Supervisor,
)


async def scenario(t):
    twin_worker.T = t
    ok, sup = await Supervisor.start_link([spec("tmp", restart="temporary"), spec("p")])
    Process.exit((await pids(sup))["tmp"], "kill")
    await t.settle()
    t.out("ids", sorted(await pids(sup)))
