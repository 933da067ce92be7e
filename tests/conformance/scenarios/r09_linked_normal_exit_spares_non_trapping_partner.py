from tether import Process, self, spawn_link


async def done():
    return None


async def scenario(t):
    async def caller():
        spawn_link(done)
        await t.settle()
        t.out("alive", Process.alive(self()))
        t.out("links", Process.info(self(), "links"))

    await t.run(caller)
