from tether import Agent, Process, ProcessExit


async def slow(ms, value):
    await Process.sleep(ms / 1000)
    return value


async def boom():
    raise RuntimeError("task_boom")


async def scenario(t):
    ok, agent = await Agent.start_link(lambda: 0)
    t.out("get", await Agent.get(agent, lambda s: s))
    t.out("update", await Agent.update(agent, lambda s: s + 1))
    t.out("get_and_update", await Agent.get_and_update(agent, lambda s: (s, s * 10)))
    t.out("cast", Agent.cast(agent, lambda s: s + 5))
    t.out("get", await Agent.get(agent, lambda s: s))
    t.out("stop", await Agent.stop(agent))
    try:
        await Agent.get(agent, lambda s: s)
    except ProcessExit as e:
        t.out("dead", e.reason[0])
