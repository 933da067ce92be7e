from tether import Process, receive, self, spawn_link


async def server():
    while True:
        await receive()


async def scenario(t):
    async def caller():
        pid = spawn_link(server)
        t.out("linked", pid)
        Process.exit(pid, "kill")
        await t.settle()
        t.out("unreachable", self())

    await t.run(caller)
