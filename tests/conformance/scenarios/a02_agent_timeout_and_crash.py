from tether import ANY, Agent, Down, Process, ProcessExit, receive


async def slow(ms, value):
    await Process.sleep(ms / 1000)
    return value


async def boom():
    raise RuntimeError("task_boom")


async def scenario(t):
    ok, agent = await Agent.start(lambda: 1)

    async def slow_get(s):
        await Process.sleep(0.3)
        return s

    try:
        await Agent.get(agent, slow_get, 0.1)
    except ProcessExit as e:
        t.out("timeout", e.reason)
    ref = Process.monitor(agent)

    def bad(_s):
        raise RuntimeError("agent fun")

    try:
        await Agent.get(agent, bad)
    except ProcessExit as e:
        t.out("crash", e.reason[0])
    t.out("down", (await receive(Down(ref, ANY, ANY, ANY))).reason)
