from tether import Exit, Process, exit, receive, spawn_link


class Crashy:
    @staticmethod
    async def run(t):
        Process.flag("trap_exit", True)
        child = spawn_link(Crashy, "splode", [])
        t.out("child", child)
        match await receive():
            case Exit(pid, msg):
                t.out("signal", "EXIT")
                t.out("pid", pid)
                t.out("msg", msg)

    @staticmethod
    async def splode():
        exit("kaboom")


async def scenario(t):
    async def caller():
        await Crashy.run(t)

    await t.run(caller)
