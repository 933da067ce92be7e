from tether import Process, spawn


async def done():
    return None


async def scenario(t):
    Process.flag("trap_exit", True)
    pid = spawn(done)
    await t.settle()
    t.out("link", Process.link(pid))
    await t.settle()
    await t.flush()
