from tests.conformance import twin_stack
from tests.conformance.twin_stack import Stack
from tether import GenServer, Process, ProcessExit


async def scenario(t):
    twin_stack.T = t
    ok, pid = await Stack.start([])
    try:
        await GenServer.call(pid, ("sleep", 300), 0.1)
    except ProcessExit as e:
        t.out("exit", e.reason)
    await Process.sleep(0.5)
    t.out("alive", Process.alive(pid))
    await t.flush()
