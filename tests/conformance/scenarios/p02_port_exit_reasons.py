import tether
from tether import Port, Process, receive, send, spawn


async def scenario(t):
    async def caller():
        Process.flag("trap_exit", True)
        me = tether.self()

        async def two():
            for _ in range(2):
                t.out("msg", await receive())

        # A command too long for its 1-byte header.
        p = Port.open(["cat"], packet=1)
        Process.monitor(p)
        t.out("command", Port.command(p, b"a" * 256))
        await two()

        # Exit signals, normal included.
        for reason in ("bye", "kill", "normal"):
            p = Port.open(["cat"])
            Process.monitor(p)
            t.out("exit", Process.exit(p, reason))
            await two()

        # Port.close, then a closed port.
        p = Port.open(["cat"])
        Process.monitor(p)
        t.out("close", Port.close(p))
        await two()
        t.out("info", Port.info(p))
        Process.monitor(p)
        t.out("msg", await receive())
        t.out("link", Process.link(p))
        t.out("msg", await receive())

        # The owner's exit.
        async def owner():
            q = Port.open(["cat"])
            send(me, ("port", q))
            await receive(lambda m: m == "go")
            tether.exit("boom")

        o = spawn(owner)
        _, q = await receive(("port", tether.ANY))
        Process.monitor(q)
        send(o, "go")
        t.out("msg", await receive())

        # A port message from another process.
        p = Port.open(["cat"])

        async def intruder():
            send(p, (tether.self(), ("command", b"hey")))

        spawn(intruder)
        t.out("msg", await receive())

        # Writing to a program that closed its input.
        p = Port.open(["sh", "-c", "exec 0<&-; echo closed; sleep 30"])
        t.out("msg", await receive())
        Port.command(p, b"x")
        t.out("msg", await receive())

    await t.run(caller)
