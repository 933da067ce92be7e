from tether import Process, exit, self, spawn_link


async def exits_kill():
    exit("kill")


async def scenario(t):
    async def caller():
        Process.flag("trap_exit", True)
        pid = spawn_link(exits_kill)
        t.out("child", pid)
        await t.settle()
        await t.flush()
        t.out("alive", Process.alive(self()))

    await t.run(caller)
