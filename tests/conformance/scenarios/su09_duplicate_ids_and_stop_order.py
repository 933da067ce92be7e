from tests.conformance import twin_worker
from tests.conformance.twin_worker import spec
from tether import (
    Process,
    Supervisor,
)


async def scenario(t):
    twin_worker.T = t
    Process.flag("trap_exit", True)
    t.out("dup", await Supervisor.start_link([spec("a"), spec("a")]))
    ok, sup = await Supervisor.start_link([spec("x"), spec("y"), spec("z")])
    t.out("stop", await Supervisor.stop(sup))
