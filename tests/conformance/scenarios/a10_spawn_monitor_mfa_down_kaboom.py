from tether import exit, receive, send, spawn_monitor


class Crashy:
    @staticmethod
    async def run():
        match await receive():
            case "crash":
                exit("kaboom")


async def scenario(t):
    async def caller():
        pid, ref = spawn_monitor(Crashy, "run", [])
        t.out("spawned", (pid, ref))
        t.out("send", send(pid, "crash"))
        await t.settle()
        await t.flush()

    await t.run(caller)
