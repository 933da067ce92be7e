from tests.conformance.t import wait_forever
from tether import Process, spawn_link


async def scenario(t):
    async def caller():
        Process.flag("trap_exit", True)
        pid = spawn_link(wait_forever)
        Process.unlink(pid)
        Process.exit(pid, "kill")
        await t.settle()
        await t.flush()
        t.out("flushed", "ok")

    await t.run(caller)
