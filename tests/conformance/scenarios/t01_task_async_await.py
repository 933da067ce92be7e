import tether
from tether import Process, Task, receive, self


async def slow(ms, value):
    await Process.sleep(ms / 1000)
    return value


async def boom():
    raise RuntimeError("task_boom")


async def scenario(t):
    async def answer():
        await receive(lambda m: m == "go")
        return 6 * 7

    task = Task.async_(answer)
    t.out("owner", task.owner == self())
    t.out("linked", task.pid in Process.info(self(), "links"))
    tether.send(task.pid, "go")
    t.out("await", await Task.await_(task))
    await t.settle()
    await t.flush()
    t.out("monitors", Process.info(self(), "monitors"))
