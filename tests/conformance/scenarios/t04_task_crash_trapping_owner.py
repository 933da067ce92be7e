import tether
from tether import ANY, Agent, Down, Exit, Process, ProcessExit, Task, receive, self


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
