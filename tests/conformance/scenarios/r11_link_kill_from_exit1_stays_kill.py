from tether import exit, self, spawn_link


async def exits_kill():
    exit("kill")


async def scenario(t):
    async def caller():
        t.out("self", self())
        spawn_link(exits_kill)
        await t.settle()

    await t.run(caller)
