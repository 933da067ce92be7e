from tether import exit, self, send, spawn_monitor


async def scenario(t):
    me = self()

    async def chatty():
        for i in range(1, 6):
            send(me, ("n", i))
        exit("done")

    pid, _ref = spawn_monitor(chatty)
    t.out("pid", pid)
    await t.settle()
    await t.flush()
