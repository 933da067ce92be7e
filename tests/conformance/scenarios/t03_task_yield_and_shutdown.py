from tether import Process, Task


async def slow(ms, value):
    await Process.sleep(ms / 1000)
    return value


async def boom():
    raise RuntimeError("task_boom")


async def scenario(t):
    task = Task.async_(slow, 300, "done")
    t.out("yield", await Task.yield_(task, 0.1))
    t.out("yield", await Task.yield_(task, 0.5))

    async def forever():
        await Process.sleep(None)

    task2 = Task.async_(forever)
    t.out("shutdown", await Task.shutdown(task2))
    t.out("alive", Process.alive(task2.pid))

    async def quick():
        return "quick"

    task3 = Task.async_(quick)
    await t.settle()
    t.out("raced", await Task.shutdown(task3))
    await t.flush()
