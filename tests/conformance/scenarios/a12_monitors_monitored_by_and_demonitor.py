from tether import Process, receive, self, send, spawn


async def scenario(t):
    async def doer():
        match await receive():
            case "doit":
                t.puts("did it")

    async def caller():
        t.out("self", self())
        pid = spawn(doer)
        ref = Process.monitor(pid)
        t.out("monitors", Process.info(self(), "monitors"))
        t.out("monitored_by", Process.info(pid, "monitored_by"))
        t.out("demonitor", Process.demonitor(ref))
        t.out("monitors", Process.info(self(), "monitors"))
        t.out("monitored_by", Process.info(pid, "monitored_by"))
        send(pid, "doit")
        await t.settle()
        await t.flush()

    await t.run(caller)
