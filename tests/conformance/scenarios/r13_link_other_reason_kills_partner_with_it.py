from tether import exit, spawn_link


async def exits_with(reason):
    exit(reason)


async def scenario(t):
    for reason in ["killed", "shutdown", ("shutdown", "x"), "noproc"]:

        async def caller(reason=reason):
            spawn_link(exits_with, reason)
            await t.settle()

        await t.run(caller)
