from tether import NoProcError, Process, spawn


async def done():
    return None


async def scenario(t):
    pid = spawn(done)
    await t.settle()
    try:
        Process.link(pid)
    except NoProcError:
        t.out("caught", "noproc")

    async def caller():
        Process.link(pid)

    await t.run(caller)
