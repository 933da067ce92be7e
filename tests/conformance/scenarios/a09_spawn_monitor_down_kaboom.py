from tether import Process, exit, receive, self, send, spawn_monitor


async def crashy():
    match await receive():
        case "crash":
            exit("kaboom")


async def scenario(t):
    async def caller():
        pid, ref = spawn_monitor(crashy)
        t.out("spawned", (pid, ref))
        t.out("send", send(pid, "crash"))
        await t.settle()
        await t.flush()
        t.out("self_alive", Process.alive(self()))

    await t.run(caller)
