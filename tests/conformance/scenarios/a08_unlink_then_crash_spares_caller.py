from tether import Process, exit, receive, self, send, spawn_link


async def crashy():
    match await receive():
        case "crash":
            exit("wheres_the_kaboom")


async def scenario(t):
    async def caller():
        t.out("self", self())
        pid = spawn_link(crashy)
        t.out("links", Process.info(self(), "links"))
        t.out("unlink", Process.unlink(pid))
        t.out("send", send(pid, "crash"))
        await t.settle()
        t.out("self", self())
        t.out("links", Process.info(self(), "links"))

    await t.run(caller)
