from tests.conformance import twin_worker
from tests.conformance.twin_worker import changed, pids, spec
from tether import (
    Process,
    Supervisor,
)


async def scenario(t):
    twin_worker.T = t
    ok, sup = await Supervisor.start_link(
        [spec("a"), spec("b"), spec("c")], strategy="rest_for_one"
    )
    before = await pids(sup)
    Process.exit(before["b"], "kill")
    await t.settle()
    t.out("changed", changed(before, await pids(sup)))
