from tests.conformance import twin_stack
from tests.conformance.twin_stack import Stack
from tether import GenServer, Process, ProcessExit


async def scenario(t):
    twin_stack.T = t
    ok, pid = await Stack.start([])
    t.out("stop", await GenServer.stop(pid, "shutdown"))
    t.out("alive", Process.alive(pid))
    try:
        await GenServer.stop(pid)
    except ProcessExit as e:
        t.out("again", e.reason)
