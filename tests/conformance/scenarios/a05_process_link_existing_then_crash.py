from tether import Process, receive, send, spawn


async def crashy():
    match await receive():
        case "crash":
            raise RuntimeError("boom")


async def scenario(t):
    async def caller():
        pid = spawn(crashy)
        t.out("link", Process.link(pid))
        t.out("sending", "crash")
        send(pid, "crash")
        await t.settle()

    await t.run(caller)
