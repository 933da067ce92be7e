from tether import Process, spawn_link


async def crash():
    raise RuntimeError("bad")


async def scenario(t):
    async def caller():
        Process.flag("trap_exit", True)
        pid = spawn_link(crash)
        t.out("child", pid)
        await t.settle()
        await t.flush()

    await t.run(caller)
