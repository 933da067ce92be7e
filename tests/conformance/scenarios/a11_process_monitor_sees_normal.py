from tether import Process, receive, send, spawn


async def scenario(t):
    async def adder():
        match await receive():
            case "add":
                t.puts(str(1 + 2))

    async def caller():
        pid = spawn(adder)
        ref = Process.monitor(pid)
        t.out("monitor", (pid, ref))
        t.out("send", send(pid, "add"))
        await t.settle()
        await t.flush()

    await t.run(caller)
