from tether import Process, ProcessExit, exit, self


async def scenario(t):
    async def caller():
        try:
            exit("foo")
        except ProcessExit as e:
            t.out("caught", e.reason)
        t.out("alive", Process.alive(self()))

    await t.run(caller)
