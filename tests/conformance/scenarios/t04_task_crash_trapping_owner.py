from tether import Process, ProcessExit, Task


async def slow(ms, value):
    await Process.sleep(ms / 1000)
    return value


async def boom():
    raise RuntimeError("task_boom")


async def scenario(t):
    Process.flag("trap_exit", True)
    task = Task.async_(boom)
    try:
        await Task.await_(task)
    except ProcessExit as e:
        t.out("exit", e.reason)
    await t.settle()
    await t.flush()
