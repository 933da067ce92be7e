from tests.conformance.t import wait_forever
from tether import Process, spawn_monitor


async def scenario(t):
    pid, _ = spawn_monitor(wait_forever)
    Process.exit(pid, "first")
    Process.exit(pid, "second")
    Process.exit(pid, "kill")
    await t.settle()
    await t.flush()
