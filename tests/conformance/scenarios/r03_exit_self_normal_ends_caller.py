from tether import Process, self


async def scenario(t):
    async def caller():
        t.out("self", self())
        Process.exit(self(), "normal")
        t.out("unreachable", True)

    await t.run(caller)
