from tests.conformance.t import wait_forever
from tether import Process, spawn


async def scenario(t):
    async def caller():
        pid = spawn(wait_forever)
        t.out("exit", Process.exit(pid, "normal"))
        await t.settle()
        t.out("alive", Process.alive(pid))

    await t.run(caller)
