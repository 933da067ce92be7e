from tether import Process, spawn_link


async def done():
    return None


async def scenario(t):
    async def caller():
        Process.flag("trap_exit", True)
        pid = spawn_link(done)
        t.out("child", pid)
        await t.settle()
        await t.flush()

    await t.run(caller)
