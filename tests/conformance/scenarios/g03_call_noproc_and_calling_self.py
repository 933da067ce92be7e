from tests.conformance import twin_stack
from tether import GenServer, ProcessExit, self, spawn


async def scenario(t):
    twin_stack.T = t

    async def done():
        return None

    dead = spawn(done)
    await t.settle()
    try:
        await GenServer.call(dead, "hi")
    except ProcessExit as e:
        t.out("dead", e.reason)
    try:
        await GenServer.call("nobody", "hi")
    except ProcessExit as e:
        t.out("unknown", e.reason)
    try:
        await GenServer.call(self(), "hi")
    except ProcessExit as e:
        t.out("self", e.reason)
