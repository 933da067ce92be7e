from tether import Process, ProcessExit, Task


async def slow(ms, value):
    await Process.sleep(ms / 1000)
    return value


async def boom():
    raise RuntimeError("task_boom")


async def scenario(t):
    task = Task.async_(slow, 300, "late")
    try:
        await Task.await_(task, 0.1)
    except ProcessExit as e:
        t.out("exit", e.reason)
    t.out("alive", Process.alive(task.pid))
    await Process.sleep(0.5)
    await t.flush()
