from tether import Process, pid


async def scenario(t):
    ref = Process.monitor(pid(0, 999, 0))
    t.out("ref", ref)
    await t.settle()
    await t.flush()
