import tether
from tether import Process, Task


async def slow(ms, value):
    await Process.sleep(ms / 1000)
    return value


async def boom():
    raise RuntimeError("task_boom")


async def scenario(t):
    tasks = [Task.async_(slow, ms, ms) for ms in (30, 10, 20)]
    t.out("many", await Task.await_many(tasks))

    async def nothing():
        return "ok"

    ok, pid = await Task.start(nothing)
    t.out("started", isinstance(pid, tether.Pid))
    await t.settle()
    await t.flush()
