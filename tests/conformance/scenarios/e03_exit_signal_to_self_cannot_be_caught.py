from tether import Process, ProcessExit, self


async def scenario(t):
    async def caller():
        try:
            Process.exit(self(), "boom")
            await t.settle()
        except ProcessExit:
            t.out("caught", True)
        t.out("survived", True)

    await t.run(caller)
