from tether import receive, send, spawn_link


class Crashy:
    @staticmethod
    async def run():
        match await receive():
            case "crash":
                1 / 0  # noqa: B018


async def scenario(t):
    async def caller():
        pid = spawn_link(Crashy, "run", [])
        t.out("sending", "crash")
        send(pid, "crash")
        await t.settle()

    await t.run(caller)
