from tether import Process, self


async def scenario(t):
    async def caller():
        Process.flag("trap_exit", True)
        t.out("self", self())
        t.out("exit", Process.exit(self(), "normal"))
        await t.settle()
        await t.flush()
        t.out("alive", Process.alive(self()))

    await t.run(caller)
