from tether import Process, self, send, spawn


async def scenario(t):
    Process.flag("trap_exit", True)
    me = self()

    async def sender_fn():
        send(me, "m1")
        send(me, "m2")
        Process.exit(me, "bye")
        send(me, "m3")

    t.out("sender", spawn(sender_fn))
    await t.settle()
    await t.flush()
