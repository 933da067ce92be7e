from tests.conformance.t import wait_forever
from tether import Process, spawn_monitor


async def scenario(t):
    async def caller():
        pid, _ref = spawn_monitor(wait_forever)
        Process.exit(pid, ("custom", 1))
        await t.settle()
        await t.flush()

    await t.run(caller)
