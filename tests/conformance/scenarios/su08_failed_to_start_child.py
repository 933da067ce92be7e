from tests.conformance import twin_worker
from tests.conformance.twin_worker import spec
from tether import (
    Process,
    Supervisor,
)


async def scenario(t):
    twin_worker.T = t

    async def fails():
        return ("error", "nope")

    bad = {"id": "bad", "start": (fails, ())}
    Process.flag("trap_exit", True)
    t.out("result", await Supervisor.start_link([spec("a"), bad, spec("c")]))
